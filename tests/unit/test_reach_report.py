"""The monthly report's reach section: figures per channel and per post from the readings
in post_metrics (newest reading with figures wins), the top posts, why figures are
missing (no permission, too new, never read), the website named without figures; read
back from the PDF (pdftotext), the XLSX (openpyxl) and the English HTML."""

from __future__ import annotations

import io
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.unit.conftest import PELAKSANA
from tests.unit.test_report import pdf_text
from warta.channels.metrics import PostReading
from warta.reach import record_reading
from warta.report import compile_report
from warta.report.period import ReportMonth
from warta.report.render import render_html, render_pdf, render_xlsx
from warta.report.settings import load_report_settings

WIB = ZoneInfo("Asia/Jakarta")
OCTOBER = ReportMonth.parse("2026-10")


def wib(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=WIB)


class Posts:
    def __init__(self, service, clock):
        self.service, self.clock = service, clock

    def item(self, title: str, at: datetime, channels: dict[str, str]) -> dict[str, tuple[int, int]]:
        """An item posted at ``at`` on each channel (channel -> remote id); -> channel -> (publication, item)."""
        self.clock.now = at.astimezone(timezone.utc)
        item_id = self.service.create_item(PELAKSANA, title=title, channels=list(channels))["id"]
        made = {}
        for channel, remote_id in channels.items():
            publication = self.service.publication_intent(item_id, channel)
            self.service.publication_done(publication.id, remote_id=remote_id, url=f"https://{channel}.example/{remote_id}")
            made[channel] = (publication.id, item_id)
        return made

    def read(self, post: tuple[int, int], channel: str, day: date, reading: PostReading) -> None:
        with self.service.sessions() as session:
            record_reading(session, post[0], post[1], channel, day, datetime.now(timezone.utc), reading)
            session.commit()


@pytest.fixture
def month(service, clock):
    posts = Posts(service, clock)
    padi = posts.item("Panen raya padi di Desa Kace", wib(5), {"website": "w1", "facebook": "p_1", "x": "101"})
    cabai = posts.item("Bimtek budidaya cabai", wib(12), {"website": "w2", "facebook": "p_2", "instagram": "m2"})
    lada = posts.item("Sekolah lapang lada", wib(31, 20), {"facebook": "p_3", "instagram": "m3", "x": "103"})
    ok = "ok"
    # Padi: day 1 and day 7 readings; the newest with figures counts.
    posts.read(padi["facebook"], "facebook", date(2026, 10, 6), PostReading(ok, reach=100, reactions=5, comments=1, shares=0))
    posts.read(padi["facebook"], "facebook", date(2026, 10, 11), PostReading(ok, reach=2345, reactions=120, comments=14, shares=9))
    # A later day without figures (the token lost read_insights) does not hide them.
    posts.read(padi["facebook"], "facebook", date(2026, 10, 12),
               PostReading("no_access", message="facebook: Graph API error 200: Requires read_insights permission"))
    posts.read(padi["x"], "x", date(2026, 10, 11), PostReading(ok, views=8800, reactions=77, comments=3, shares=12))
    posts.read(cabai["facebook"], "facebook", date(2026, 10, 18), PostReading(ok, reach=900, reactions=30, comments=2, shares=1))
    posts.read(cabai["instagram"], "instagram", date(2026, 10, 18),
               PostReading("no_access", message="instagram: Graph API error 10: (#10) Application does not have "
                                                "permission for this action"))
    posts.read(lada["facebook"], "facebook", date(2026, 10, 31), PostReading("not_ready", message="too new"))
    # lada on instagram and x: never read.
    return service


def compiled(service, month: ReportMonth = OCTOBER):
    with service.sessions() as session:
        return compile_report(session, service.config, month, load_report_settings())


def test_figures_per_channel_and_post_come_from_the_newest_reading_with_figures(month):
    reach = compiled(month).reach
    per_channel = {c.channel: c for c in reach.channels}
    facebook = per_channel["facebook"]
    assert (facebook.posts, facebook.with_figures, facebook.reach, facebook.reactions, facebook.comments,
            facebook.shares) == (3, 2, 2345 + 900, 150, 16, 10)
    assert facebook.missing == {"not_ready": 1}
    assert per_channel["x"].views == 8800 and per_channel["x"].reach is None and per_channel["x"].missing == {"unread": 1}
    assert per_channel["instagram"].missing == {"no_access": 1, "unread": 1}
    assert "Graph API error 10" in per_channel["instagram"].refusal
    assert reach.without_api == ["website"]
    # Top posts by reach (X: impressions): X's 8,800 views, then 2,345, then 900.
    assert [(p.title, p.channel) for p in reach.top] == [
        ("Panen raya padi di Desa Kace", "x"), ("Panen raya padi di Desa Kace", "facebook"),
        ("Bimtek budidaya cabai", "facebook")]
    assert len(reach.posts) == 5  # read posts only; each once


def test_pdf_shows_the_reach_section_with_reasons_for_missing_figures(month, tmp_path):
    report = compiled(month)
    settings = load_report_settings()
    pdf = render_pdf(render_html(report, month.config, settings, "id", for_print=True))
    text = pdf_text(pdf, tmp_path)
    artifacts = Path("test-artifacts/report")
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "reach-2026-10.pdf").write_bytes(pdf)  # to look at (pdftoppm -png)
    section = " ".join(text[text.index("10. Jangkauan dan interaksi media sosial"):].split())
    assert "3.245" in section  # Facebook reach, Indonesian grouping
    assert "8.800" in section
    assert "tanpa izin membaca statistik" in section and "Graph API error 10" in section
    assert "terlalu baru" in section.lower() and "belum dibaca" in section
    assert "tidak ada API jangkauan (WordPress); tidak ada angka, bukan nol" in section
    assert "Unggahan teratas" in section and "Per berita dan kanal" in section


def test_xlsx_has_every_read_post_and_the_channel_totals(month):
    report = compiled(month)
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(report, month.config, load_report_settings(), "id")))
    channels = list(workbook["Jangkauan per kanal"].iter_rows(values_only=True))
    assert channels[0][:8] == ("Kanal", "Unggahan", "Ada angka", "Jangkauan", "Tayangan", "Reaksi", "Komentar",
                               "Dibagikan")
    facebook = next(row for row in channels if row[0] == "Facebook")
    assert facebook[1:8] == (3, 2, 3245, None, 150, 16, 10)
    website = next(row for row in channels if row[0] == "Website")
    assert website[3] is None and "bukan nol" in website[-1]
    posts = list(workbook["Jangkauan unggahan"].iter_rows(values_only=True))[1:]
    assert len(posts) == 5 and {row[5] for row in posts} == {"Ada angka", "Tanpa izin", "Terlalu baru"}


def test_english_html_and_a_month_without_social_posts(month, service):
    report = compiled(month)
    html = render_html(report, month.config, load_report_settings(), "en")
    assert "Social media reach and engagement" in html and "no figure, not zero" in html
    empty = compiled(service, ReportMonth.parse("2026-08"))
    assert empty.reach.posts == [] and all(c.posts == 0 for c in empty.reach.channels)
    assert "Belum ada unggahan media sosial yang dibaca" in render_html(empty, service.config, load_report_settings(), "id")


def test_a_month_of_many_posts_lists_every_post_in_the_pdf_annex(month, tmp_path):
    """Above the annex threshold the per-post list goes whole to the compact annex: each
    read post on its line, with its running number, item, channel and figures, and the
    reason beside a post without them."""
    from dataclasses import replace

    from warta.report import build_files

    report = compiled(month)
    settings = replace(load_report_settings(), annex_threshold=2)  # 5 read posts: annexed
    text = pdf_text(build_files(report, month.config, settings, "id")["pdf"], tmp_path)
    annex = text[text.index("Lampiran: jangkauan dan interaksi seluruh unggahan media sosial"):]
    lines = [" ".join(line.split()) for line in annex.splitlines()]
    assert "Laporan Bulanan Updating Website dan Media Sosial · Oktober 2026 · 5" in lines
    for number, post in enumerate(report.reach.posts, start=1):
        row = next((line for line in lines if line.startswith(f"{number} {post.item_id} ")), None)
        assert row is not None, (number, post)
        assert post.title in " ".join(annex.split())
    # Reach, views, reactions, comments, shares; X has impressions and no reach; a dash is no figure.
    assert "1 1 Facebook 2.345 – 120 14 9 Ada angka (dibaca 11/10/2026) · Panen raya padi di Desa Kace" in lines
    assert "2 1 X – 8.800 77 3 12 Ada angka (dibaca 11/10/2026) · Panen raya padi di Desa Kace" in lines
    assert any(line.startswith("4 ") and "Instagram – – – – – Tanpa izin" in line for line in lines)
    assert "Lampiran · Halaman" in annex
