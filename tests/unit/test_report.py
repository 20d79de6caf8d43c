"""The monthly report: figures compiled from a seeded editorial DB, and the PDF (read back
with pdftotext), XLSX (read back with openpyxl) and HTML rendered from them.

The seeded October 2026 (WIB) has: a two-channel item, an item rejected once and then
published (its online check failed), an item written by another reporter with a check
step far over its standard time, an item published at 23:30 WIB on 31 October (16:30 UTC,
October) and one at 00:30 WIB on 1 November (17:30 UTC on 31 October, November), an item
still waiting for approval at month end, and one item published in September.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.unit.conftest import OPERATOR, PELAKSANA, PELAKSANA2, SUBKOOR, FakeClock
from warta.config import load_config
from warta.report import build_and_store, build_files, compile_report, list_reports, read_report, report_key
from warta.report.compile import percentile
from warta.report.messages import Messages
from warta.report.period import InvalidReportMonth, ReportMonth, month_to_report
from warta.report.render import render_html, render_pdf, render_xlsx
from warta.report.settings import ReportSettings, load_report_settings
from warta.report.xlsx import Column, Sheet, write_workbook
from warta.service import EditorialService
from warta.workflow import InvalidInput, NotFound

WIB = ZoneInfo("Asia/Jakarta")
OCTOBER = ReportMonth.parse("2026-10")
CHANNELS_YAML = """
channels:
  website: {name_id: Website, name_en: Website, kind: wordpress, conn_id: warta_website, default: true}
  facebook: {name_id: Facebook, name_en: Facebook Page, kind: facebook_page, conn_id: warta_facebook}
  instagram: {name_id: Instagram, name_en: Instagram, kind: instagram, conn_id: warta_instagram}
"""


def wib(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


class Newsroom:
    """Walks items through the SOP at chosen local times, as the desk and pipeline do."""

    def __init__(self, service: EditorialService, clock: FakeClock):
        self.service = service
        self.clock = clock

    def at(self, moment: datetime) -> None:
        self.clock.now = moment.astimezone(timezone.utc)

    def create(self, title: str, at: datetime, *, channels=("website",), service="lainnya", author=PELAKSANA) -> int:
        self.at(at)
        return self.service.create_item(author, title=title, activity_date=at.date(), service=service,
                                        channels=list(channels))["id"]

    def human_steps(self, item_id: int, start: datetime, *, writer=PELAKSANA, check_minutes=20,
                    decision="approve", reason="", cover=True) -> datetime:
        """Steps 1 (once) to 4, ten minutes apart except the check; returns the decision time."""
        moment = start
        if cover:
            self.at(moment)
            self.service.record_step(item_id, "meliput", PELAKSANA, notes="Foto dan catatan")
            moment += timedelta(minutes=10)
        self.at(moment)
        self.service.record_step(item_id, "menyusun", writer, title=None, body="Naskah berita.")
        moment += timedelta(minutes=check_minutes)
        self.at(moment)
        self.service.record_step(item_id, "memeriksa", OPERATOR, body="Naskah berita (koreksi).")
        moment += timedelta(minutes=10)
        self.at(moment)
        self.service.record_step(item_id, "menyetujui", SUBKOOR, decision=decision, reason=reason)
        return moment

    def publish(self, item_id: int, round_number: int, published_at: datetime, *, channels=("website",),
                check_ok=True) -> None:
        """Steps 5-7: posts go live at ``published_at`` (one minute apart per channel)."""
        publications = []
        for index, channel in enumerate(channels):
            self.at(published_at + timedelta(minutes=index))
            publication = self.service.publication_intent(item_id, channel)
            publications.append(self.service.publication_done(
                publication.id, remote_id=f"{item_id}-{channel}", url=f"https://{channel}.example.go.id/{item_id}"))
        self.service.complete_automatic_step(item_id, round_number, "updating")
        self.at(published_at + timedelta(minutes=3))
        for publication in publications:
            self.service.record_check(publication, ok=check_ok, http_status=200 if check_ok else 404, evidence={})
        self.service.complete_automatic_step(item_id, round_number, "pengecekan")
        self.at(published_at + timedelta(minutes=5))
        self.service.complete_automatic_step(item_id, round_number, "mendokumentasi",
                                             archive_key=f"archive/items/{item_id}")


@pytest.fixture
def report_config(config_copy):
    (config_copy / "channels.yaml").write_text(CHANNELS_YAML, encoding="utf-8")
    return load_config(config_copy)


@pytest.fixture
def settings() -> ReportSettings:
    return load_report_settings()


@pytest.fixture
def newsroom(make_service, report_config, clock) -> Newsroom:
    return Newsroom(make_service(report_config), clock)


@pytest.fixture
def seeded(newsroom):
    """The month described in the module docstring; returns the items' ids by name.

    Each step takes minutes (within its standard time) unless a case says otherwise; posts
    go live two minutes after the approval."""
    room = newsroom
    ids = {}
    two_minutes = timedelta(minutes=2)
    # September: one item, for the comparison with the previous month.
    ids["september"] = room.create("Sosialisasi standar benih padi", wib(2026, 9, 10, 8), service="upbs")
    room.publish(ids["september"], 1, room.human_steps(ids["september"], wib(2026, 9, 10, 8)) + two_minutes)

    # Two channels: website at 08:42, Facebook at 08:43 on 5 October.
    ids["two_channels"] = room.create("Bimtek budidaya cabai", wib(2026, 10, 5, 8), channels=("website", "facebook"),
                                      service="bimtek")
    room.publish(ids["two_channels"], 1, room.human_steps(ids["two_channels"], wib(2026, 10, 5, 8)) + two_minutes,
                 channels=("website", "facebook"))

    # Rejected at 08:40, revised from 11:00, approved, live at 11:32; its online check failed.
    ids["rejected"] = room.create("Kunjungan agro eduwisata SMAN 1", wib(2026, 10, 12, 8), service="agro_eduwisata")
    room.human_steps(ids["rejected"], wib(2026, 10, 12, 8), decision="reject", reason="Tambahkan kutipan narasumber")
    approved = room.human_steps(ids["rejected"], wib(2026, 10, 12, 11), cover=False)
    room.publish(ids["rejected"], 2, approved + two_minutes, check_ok=False)

    # Written by another reporter; the check (step 3) took 3 hours against 1 hour.
    ids["breach"] = room.create("Layanan UPBS benih jagung", wib(2026, 10, 20, 8), service="upbs")
    approved = room.human_steps(ids["breach"], wib(2026, 10, 20, 8), writer=PELAKSANA2, check_minutes=180)
    room.publish(ids["breach"], 1, approved + two_minutes)

    # Live at 23:30 WIB on 31 October = 16:30 UTC: October.
    ids["late_october"] = room.create("Konsultasi standardisasi pertanian", wib(2026, 10, 31, 22, 48),
                                      service="konsultasi")
    approved = room.human_steps(ids["late_october"], wib(2026, 10, 31, 22, 48))
    assert approved + two_minutes == wib(2026, 10, 31, 23, 30)
    room.publish(ids["late_october"], 1, approved + two_minutes)

    # Approved at 23:50, live at 00:30 WIB on 1 November = 17:30 UTC on 31 October:
    # November; at the end of October it was still in step 5.
    ids["early_november"] = room.create("Pelatihan pengolahan lada", wib(2026, 10, 31, 23, 10), service="bimtek")
    room.human_steps(ids["early_november"], wib(2026, 10, 31, 23, 10))
    room.publish(ids["early_november"], 1, wib(2026, 11, 1, 0, 30))

    # Waiting for the Subkoordinator since 09:30 on 30 October; approved on 2 November.
    ids["waiting"] = room.create("Permohonan informasi publik data produksi", wib(2026, 10, 30, 9),
                                 service="permohonan_informasi")
    room.at(wib(2026, 10, 30, 9))
    room.service.record_step(ids["waiting"], "meliput", PELAKSANA, notes="Catatan")
    room.at(wib(2026, 10, 30, 9, 10))
    room.service.record_step(ids["waiting"], "menyusun", PELAKSANA, body="Naskah.")
    room.at(wib(2026, 10, 30, 9, 30))
    room.service.record_step(ids["waiting"], "memeriksa", OPERATOR, body="Naskah (koreksi).")
    room.at(wib(2026, 11, 2, 9))
    room.service.record_step(ids["waiting"], "menyetujui", SUBKOOR, decision="approve")
    room.publish(ids["waiting"], 1, wib(2026, 11, 2, 9, 2))
    return ids


def compile_month(service: EditorialService, month: ReportMonth, settings=None):
    with service.sessions() as session:
        return compile_report(session, service.config, month, settings or ReportSettings(),
                              generated_at=wib(2026, 11, 1, 7).astimezone(timezone.utc))


# ----------------------------------------------------------------------- periods
def test_the_month_runs_from_midnight_wib_and_its_bounds_are_utc():
    assert OCTOBER.start == datetime(2026, 9, 30, 17, 0, tzinfo=timezone.utc)
    assert OCTOBER.end == datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc)
    assert len(OCTOBER.days) == 31 and OCTOBER.previous().key == "2026-09" and OCTOBER.next().key == "2026-11"
    assert ReportMonth.parse("2026-12").next().key == "2027-01"
    assert ReportMonth.parse("2026-01").previous().key == "2025-12"
    assert ReportMonth.containing(datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc)).key == "2026-10"
    assert ReportMonth.containing(datetime(2026, 10, 31, 17, 30, tzinfo=timezone.utc)).key == "2026-11"


def test_a_run_reports_the_month_before_its_data_interval_ends_or_the_requested_one():
    now = datetime(2026, 11, 15, tzinfo=timezone.utc)
    tz = "Asia/Jakarta"
    # The scheduled run: its data interval ends at 00:00 WIB on 1 November.
    assert month_to_report(None, wib(2026, 11, 1), now, tz).key == "2026-10"
    # One minute earlier is still October in WIB: the run would report September.
    assert month_to_report(None, wib(2026, 10, 31, 23, 59), now, tz).key == "2026-09"
    assert month_to_report("2026-03", wib(2026, 11, 1), now, tz).key == "2026-03"
    with pytest.raises(InvalidReportMonth, match="not over yet"):
        month_to_report("2026-11", None, now, tz)
    with pytest.raises(InvalidReportMonth, match="like 2026-10"):
        month_to_report("2026-13", None, now, tz)
    with pytest.raises(InvalidReportMonth):
        month_to_report("Oktober", None, now, tz)


# ---------------------------------------------------------------------- compiling
def test_summary_counts_items_by_their_first_publication_in_wib(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)

    ids = [item.id for item in report.items]
    assert ids == [seeded["two_channels"], seeded["rejected"], seeded["breach"], seeded["late_october"]]
    assert seeded["early_november"] not in ids  # 00:30 WIB on 1 November belongs to November
    assert report.items_published.current == 4 and report.items_published.previous == 1
    assert report.publications.current == 5 and report.publications.previous == 1
    assert [(c.key, c.current, c.previous) for c in report.per_channel] == [
        ("website", 4, 1), ("facebook", 1, 0), ("instagram", 0, 0),
    ]
    services = {c.key: (c.current, c.previous) for c in report.per_service}
    assert services["bimtek"] == (1, 0) and services["upbs"] == (1, 1) and services["konsultasi"] == (1, 0)
    assert services["agro_eduwisata"] == (1, 0) and services["lainnya"] == (0, 0)
    assert list(services) == list(newsroom.service.config.services)  # the SOP's Keterkaitan order
    assert [(c.key, c.current, c.previous) for c in report.per_author] == [("pelaksana", 3, 1), ("pelaksana2", 1, 0)]
    assert report.items_registered.current == 6  # everything created in October, published or not
    assert not report.nothing_published and not report.no_activity

    november = compile_month(newsroom.service, OCTOBER.next())
    assert [item.id for item in november.items] == [seeded["early_november"], seeded["waiting"]]
    assert november.items_published.previous == 4


def test_every_item_has_its_dates_links_rounds_and_check_result(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)
    items = {item.id: item for item in report.items}

    two = items[seeded["two_channels"]]
    assert [(p.channel, p.url) for p in two.publications] == [
        ("website", f"https://website.example.go.id/{two.id}"), ("facebook", f"https://facebook.example.go.id/{two.id}"),
    ]
    assert two.rounds == 1 and two.check_result == "ok" and two.activity_date == date(2026, 10, 5)
    assert two.first_published_at == wib(2026, 10, 5, 8, 42).astimezone(timezone.utc)
    rejected = items[seeded["rejected"]]
    assert rejected.rounds == 2 and rejected.check_result == "failed"
    assert items[seeded["late_october"]].first_published_at == datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc)
    assert items[seeded["breach"]].author == PELAKSANA2
    assert report.rounds == [(1, 3), (2, 1)]


def test_rejections_and_their_reasons(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)
    [rejection] = report.rejections
    assert rejection.item_id == seeded["rejected"] and rejection.round == 1
    assert rejection.reason == "Tambahkan kutipan narasumber" and rejection.actor == SUBKOOR
    assert rejection.recorded_at == wib(2026, 10, 12, 8, 40).astimezone(timezone.utc)
    assert report.rejections_count.current == 1 and report.rejections_count.previous == 0


def test_service_levels_per_step_with_breaches_and_worst_cases(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)
    levels = {level.step_id: level for level in report.service_levels}
    assert [level.number for level in report.service_levels] == [1, 2, 3, 4, 5, 6, 7]

    check = levels["memeriksa"]
    # Steps 3 that ended in October: two-channels, rejected (two rounds), breach, late-october,
    # early-november, waiting = 7; only the three-hour one is over an hour.
    assert check.done == 7 and check.judged == 7 and check.within == 6 and check.breaches == 1
    assert check.share_within == pytest.approx(6 / 7)
    assert check.median_seconds == pytest.approx(20 * 60)
    assert check.p90_seconds == pytest.approx(20 * 60 + 0.4 * (180 - 20) * 60)  # between the 6th and 7th of 7
    [worst] = [w for w in report.worst_cases if w.step_id == "memeriksa"]
    assert worst.item_id == seeded["breach"] and worst.duration_seconds == 3 * 3600
    assert worst.standard_seconds == 3600
    assert levels["menyetujui"].done == 6  # the approval waiting at month end is not done
    assert levels["updating"].done == 4  # early-november published on 1 November
    assert report.steps_done.current == sum(level.done for level in report.service_levels)
    assert report.share_within_standard.current == pytest.approx(
        sum(level.within for level in report.service_levels) / sum(level.judged for level in report.service_levels)
    )
    assert report.steps_done.previous == 7


def test_freshness_per_channel_and_days_without_a_post(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)
    fresh = {f.channel: f for f in report.freshness}

    website = fresh["website"]
    assert website.publications == 4
    # The website's longest silence: 20 October 11:22 WIB to 31 October 23:30 WIB.
    assert (website.gap_start, website.gap_end) == (
        wib(2026, 10, 20, 11, 22).astimezone(timezone.utc), wib(2026, 10, 31, 23, 30).astimezone(timezone.utc))
    assert website.longest_gap_seconds == (wib(2026, 10, 31, 23, 30) - wib(2026, 10, 20, 11, 22)).total_seconds()
    assert len(website.days_without) == 27 and date(2026, 10, 31) not in website.days_without
    assert fresh["facebook"].publications == 1 and len(fresh["facebook"].days_without) == 30
    instagram = fresh["instagram"]
    assert instagram.publications == 0 and len(instagram.days_without) == 31
    assert instagram.longest_gap_seconds == 31 * 86400

    per_day = {d.day: d for d in report.per_day}
    assert len(per_day) == 31
    assert per_day[date(2026, 10, 5)].by_channel == {"website": 1, "facebook": 1, "instagram": 0}
    assert per_day[date(2026, 10, 1)].total == 0
    assert per_day[date(2026, 10, 31)].total == 1  # 23:30 WIB, 16:30 UTC
    assert sum(d.total for d in report.per_day) == report.publications.current


def test_items_in_progress_at_month_end_and_where_they_wait(seeded, newsroom):
    report = compile_month(newsroom.service, OCTOBER)
    waiting = {w.item_id: w for w in report.in_progress}

    assert set(waiting) == {seeded["early_november"], seeded["waiting"]}
    assert waiting[seeded["waiting"]].step_id == "menyetujui"
    assert waiting[seeded["waiting"]].waiting_since == wib(2026, 10, 30, 9, 30).astimezone(timezone.utc)
    assert waiting[seeded["waiting"]].waited_seconds == (wib(2026, 11, 1) - wib(2026, 10, 30, 9, 30)).total_seconds()
    assert waiting[seeded["waiting"]].overdue
    assert waiting[seeded["early_november"]].step_id == "updating"
    assert report.in_progress_count.current == 2 and report.in_progress_count.previous == 0


def test_an_empty_month_is_a_report_that_says_so(seeded, newsroom, settings, tmp_path):
    august = ReportMonth.parse("2026-08")
    report = compile_month(newsroom.service, august, settings)
    assert report.no_activity and report.nothing_published
    assert report.items == [] and report.rejections == [] and report.in_progress == []
    assert all(level.done == 0 and level.median_seconds is None for level in report.service_levels)

    files = build_files(report, newsroom.service.config, settings, "id")
    text = pdf_text(files["pdf"], tmp_path)
    assert "Agustus 2026" in text
    assert "Tidak ada kegiatan yang tercatat pada bulan ini" in text
    assert "Tidak ada penolakan pada bulan ini" in text
    workbook = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    summary = [row for row in workbook["Ringkasan"].iter_rows(values_only=True)]
    assert any(row[0] and "Tidak ada kegiatan" in row[0] for row in summary)
    assert workbook["Berita"].max_row == 1  # the header only
    assert "Tidak ada berita yang terbit pada bulan ini." in files["html"].decode()


# ----------------------------------------------------------------------- rendering
def test_the_pdf_has_the_header_every_section_and_the_signature_block(seeded, newsroom, settings, tmp_path):
    report = compile_month(newsroom.service, OCTOBER, settings)
    text = pdf_text(render_pdf(render_html(report, newsroom.service.config, settings, "id")), tmp_path)
    flat = " ".join(text.split())

    assert "Laporan Bulanan Updating Website dan Media Sosial" in flat
    assert "KEMENTERIAN PERTANIAN" in flat and "BADAN PERAKITAN DAN MODERNISASI PERTANIAN" in flat  # letterhead
    assert "BALAI PENERAPAN STANDAR INSTRUMEN PERTANIAN KEPULAUAN BANGKA BELITUNG" in flat  # in capitals
    assert "Nomor: 10/HM.140/H.12.5/X/2026" in flat
    assert "B-1490/T1.130/H.12.5/10/2023" in flat and "Oktober 2026" in flat and "September 2026" in flat
    for heading in ("1. Ringkasan", "2. Kegagalan dan kendala", "3. Tren enam bulan dan tahun berjalan", "4. Grafik",
                    "5. Mutu baku per langkah SOP", "6. Kemutakhiran kanal (Peringatan SOP)", "7. Penolakan dan alasannya",
                    "8. Berita dalam proses pada akhir bulan", "9. Daftar berita terbit"):
        assert heading in flat, heading
    for title in ("Bimtek budidaya cabai", "Kunjungan agro eduwisata SMAN 1", "Layanan UPBS benih jagung",
                  "Konsultasi standardisasi pertanian", "Permohonan informasi publik data produksi"):
        assert title in flat, title
    assert "Pelatihan pengolahan lada" in flat  # in progress at month end, not among the items
    assert "Tambahkan kutipan narasumber" in flat
    assert f"https://facebook.example.go.id/{seeded['two_channels']}" in flat.replace(" ", "")
    assert "31 Okt 2026 23.30 WIB" in flat
    assert "Gagal" in flat and "Baik" in flat
    assert "3. Memeriksa bahan berita" in flat and "3 jam" in flat  # furthest over the standard time
    assert "Publikasi per hari" in flat and "Persentase langkah dalam mutu baku" in flat  # chart titles
    assert "Mengetahui," in flat and "Kepala BSIP Kepulauan Bangka Belitung" in flat and "Pangkalpinang," in flat
    assert "Disusun oleh," in flat and "Operator Website dan Media Sosial" in flat  # SOP step 7
    assert flat.count("NIP ....") == 2  # a line to write the NIP on, for both signatories
    assert "Catatan definisi" in flat and "published_at" not in flat and "P90" not in flat
    assert "Kesegaran" not in flat and "Kasus terburuk" not in flat and "poin persentase" in flat
    assert "Halaman 1 dari" in flat


def test_failures_alerts_and_up_to_dateness_are_reported(seeded, newsroom, settings, tmp_path):
    """Every publishing failure and failed check (open ones first), items stuck with the
    reason, alerts per step and person, and the Kemutakhiran verdict on working days."""
    from warta.models import Alert

    room, service = newsroom, newsroom.service
    # Facebook refused on 14 October (permissions), published the next morning: resolved.
    fixed = room.create("Panen raya jagung hibrida", wib(2026, 10, 14, 8), channels=("website", "facebook"))
    approved = room.human_steps(fixed, wib(2026, 10, 14, 8))
    room.at(approved + timedelta(minutes=2))
    site = service.publication_intent(fixed, "website")
    service.publication_done(site.id, remote_id="1", url="https://website.example.go.id/fixed")
    facebook = service.publication_intent(fixed, "facebook")
    service.publication_failed(facebook.id, "Graph API 403: (#200) Permissions error")
    room.at(wib(2026, 10, 15, 9))
    service.publication_done(facebook.id, remote_id="2", url="https://facebook.example.go.id/fixed")
    # Instagram's server failed on 21 October and the item was still stuck at step 5 at month end.
    stuck = room.create("Temu lapang padi amfibi", wib(2026, 10, 21, 8), channels=("website", "instagram"))
    approved = room.human_steps(stuck, wib(2026, 10, 21, 8))
    room.at(approved + timedelta(minutes=2))
    site = service.publication_intent(stuck, "website")
    service.publication_done(site.id, remote_id="3", url="https://website.example.go.id/stuck")
    instagram = service.publication_intent(stuck, "instagram")
    service.publication_failed(instagram.id, "HTTP 500 Internal Server Error")
    with service.sessions() as session:
        for n, (kind, step, people) in enumerate([("reminder", "menyusun", ["pelaksana"]),
                                                  ("breach", "menyusun", ["pelaksana", "admin"]),
                                                  ("escalation", "menyetujui", ["subkoor"])]):
            session.add(Alert(dedupe_key=f"t{n}", kind=kind, item_id=stuck, round=1, step_id=step, recipients=people,
                              subject="s", message="m", created_at=wib(2026, 10, 22, 9)))
        session.add(Alert(dedupe_key="f", kind="freshness", publishing_channel="website", recipients=["operator"],
                          subject="s", message="m", created_at=wib(2026, 10, 9, 9)))
        # Hand-off and rejection notices are not the SOP's alerts: the report leaves them out.
        for kind, step, person in (("handoff", "memeriksa", "operator"), ("rejection", "menyusun", "pelaksana")):
            session.add(Alert(dedupe_key=f"n-{kind}", kind=kind, item_id=stuck, round=1, step_id=step,
                              recipients=[person], subject="s", message="m", created_at=wib(2026, 10, 22, 9)))
        session.commit()

    report = compile_month(service, OCTOBER, settings)
    kinds = [(f.item_id, f.kind, f.open) for f in report.failures]
    assert kinds == [(seeded["rejected"], "check", True), (stuck, "publish", True), (fixed, "publish", False)]
    by_id = {item.id: item for item in report.items}
    assert by_id[stuck].check_result == "publish_failed"  # not "Belum dicek"
    website = next(f for f in report.freshness if f.channel == "website")
    # Posts on 5, 12, 14, 20, 21 and 31 October: the longest gap is 22-30 October, 7 working days.
    assert website.gap_working_days == 7 and website.freshness_days == 3 and website.up_to_date is False
    assert report.month.local_date(website.gap_start) == date(2026, 10, 21)
    assert report.month.local_date(website.gap_end) == date(2026, 10, 31)
    per_step = {a.key: a for a in report.alerts_per_step}
    assert per_step["menyusun"].reminder == 1 and per_step["menyusun"].breach == 1
    assert per_step["channel:website"].freshness == 1
    assert {a.key: a.total for a in report.alerts_per_person} == {"pelaksana": 2, "admin": 1, "subkoor": 1,
                                                                   "operator": 1}

    files = build_files(report, service.config, settings, "id")
    flat = " ".join(pdf_text(files["pdf"], tmp_path).split())
    section = flat[flat.index("2. Kegagalan dan kendala"):flat.index("3. Tren enam bulan")]
    assert section.index("Temu lapang padi amfibi") < section.index("Panen raya jagung hibrida")  # open first
    assert "Server platform sedang bermasalah" in section and "Belum teratasi" in section
    assert "Izin akses ditolak oleh platform" in section and "Teratasi 15 Okt 2026 09.00 WIB" in section
    assert "Halaman tidak ditemukan saat dicek (404)" in section
    assert "Berita tertahan melampaui mutu baku" in section and "Gagal terbit: Instagram" in section
    assert "Tidak sesuai" in flat and "7 hari kerja" in flat
    assert "Permasalahan." in flat and "3 kegagalan terbit atau cek online" in flat  # the narrative's draft
    workbook = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    rows = list(workbook["Kegagalan"].iter_rows(values_only=True))
    assert rows[0][:3] == ("No.", "No. berita", "Judul") and len(rows) == 4
    assert rows[3][6] == "Graph API 403: (#200) Permissions error" and rows[3][10] == datetime(2026, 10, 15, 9)

    # A month of many failures: every one in the PDF's annex (open first), the body's
    # signature blocks still there, and the full item count said where the list is.
    files = build_files(report, service.config, replace(settings, annex_threshold=1, list_limit=1), "id")
    text = pdf_text(files["pdf"], tmp_path)
    flat = " ".join(text.split())
    annex = [" ".join(line.split()) for line in text[text.index("Lampiran: seluruh kegagalan terbit"):].splitlines()]
    assert "Laporan Bulanan Updating Website dan Media Sosial · Oktober 2026 · 3" in annex
    expected = [(seeded["rejected"], "Website", "Belum teratasi", "Cek online gagal: Halaman tidak ditemukan"),
                (stuck, "Instagram", "Belum teratasi", "Gagal terbit: Server platform sedang bermasalah"),
                (fixed, "Facebook", "Teratasi 15/10 09.00", "Gagal terbit: Izin akses ditolak")]
    for number, (item_id, channel, resolution, error) in enumerate(expected, start=1):
        row = next(line for line in annex if line.startswith(f"{number} {item_id} {channel} "))
        assert resolution in row and error in row, row
    assert f"Seluruh {len(report.items)} berita terbit bulan ini tercantum dalam Lampiran" in flat
    assert "Disusun oleh," in flat and "Mengetahui," in flat and flat.count("NIP ....") == 2


def test_the_report_switches_to_english(seeded, newsroom, settings, tmp_path):
    report = compile_month(newsroom.service, OCTOBER, settings)
    flat = " ".join(pdf_text(render_pdf(render_html(report, newsroom.service.config, settings, "en")), tmp_path).split())
    assert "Monthly Report: Updating the Website and Social Media" in flat
    assert "October 2026" in flat and "Rejections and their reasons" in flat and "31/10/2026" not in flat
    assert "31 Oct 2026 23:30 WIB" in flat and "Head of BSIP Bangka Belitung Islands" in flat
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(report, newsroom.service.config, settings, "en")))
    assert workbook.sheetnames[:4] == ["Summary", "Failures", "Trend", "Per channel"]
    # The printed footer too: no Indonesian left in the English edition's workbook.
    assert {sheet.oddFooter.right.text for sheet in workbook} == {"Page &P of &N"}
    assert {sheet.oddFooter.left.text for sheet in workbook} == {"&A"}


def test_the_xlsx_has_one_sheet_per_table_with_every_row(seeded, newsroom, settings):
    report = compile_month(newsroom.service, OCTOBER, settings)
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(report, newsroom.service.config, settings, "id")))
    assert workbook.sheetnames == ["Ringkasan", "Kegagalan", "Tren", "Per kanal", "Per layanan", "Per penulis", "Berita",
                                   "Putaran revisi", "Mutu baku", "Paling lama", "Penolakan", "Kemutakhiran",
                                   "Dalam proses", "Per hari", "Peringatan", "Jangkauan per kanal",
                                   "Jangkauan unggahan"]
    items_sheet = workbook["Berita"]
    assert items_sheet.freeze_panes == "A2" and items_sheet.auto_filter.ref
    assert items_sheet.print_title_rows == "$1:$1" and items_sheet.page_setup.orientation == "landscape"
    assert items_sheet.oddFooter.right.text == "Halaman &P dari &N"

    def table(name):
        rows = list(workbook[name].iter_rows(values_only=True))
        header_at = next(i for i, row in enumerate(rows) if row[0] in ("Uraian", "Kanal", "Layanan terkait", "Penulis",
                                                                      "No. berita", "Jumlah putaran", "Langkah",
                                                                      "Tanggal"))
        header = rows[header_at]
        return [dict(zip(header, row)) for row in rows[header_at + 1:]]

    summary = {row["Uraian"]: row for row in table("Ringkasan")}
    assert summary["Berita terbit"]["Bulan ini"] == 4 and summary["Berita terbit"]["Bulan lalu"] == 1
    assert summary["Berita terbit"]["Perubahan"] == 3
    assert summary["Langkah dalam mutu baku"]["Bulan ini"] == pytest.approx(report.share_within_standard.current)
    share_cell = next(row for row in workbook["Ringkasan"].iter_rows() if row[0].value == "Langkah dalam mutu baku")[1]
    assert share_cell.number_format == "0.00%"
    assert {row["Kanal"]: row["Bulan ini"] for row in table("Per kanal")} == {"Website": 4, "Facebook": 1, "Instagram": 0}

    items = table("Berita")
    assert [row["No. berita"] for row in items] == [item.id for item in report.items]
    late = next(row for row in items if row["No. berita"] == seeded["late_october"])
    assert late["Terbit pertama (WIB)"] == datetime(2026, 10, 31, 23, 30)  # local time, as Excel has no zones
    assert late["Tanggal kegiatan"] == datetime(2026, 10, 31)
    two = next(row for row in items if row["No. berita"] == seeded["two_channels"])
    assert two["Facebook: tautan"] == f"https://facebook.example.go.id/{seeded['two_channels']}"
    link_cell = next(row for row in items_sheet.iter_rows(min_row=2) if row[0].value == seeded["two_channels"])
    assert any(cell.hyperlink and cell.hyperlink.target == two["Facebook: tautan"] for cell in link_cell)  # clickable
    assert two["Website: Cek online"] == "Baik" and two["Instagram: tautan"] is None
    rejected = next(row for row in items if row["No. berita"] == seeded["rejected"])
    assert rejected["Putaran revisi"] == 2 and rejected["Cek online"] == "Gagal"

    [rejection] = table("Penolakan")
    assert rejection["Alasan"] == "Tambahkan kutipan narasumber" and rejection["Putaran"] == 1
    levels = {row["Langkah"]: row for row in table("Mutu baku")}
    check = levels["3. Memeriksa bahan berita"]
    assert check["Selesai"] == 7 and check["Lewat batas"] == 1 and check["Median (detik)"] == 1200
    assert check["Dalam mutu baku"] == pytest.approx(6 / 7)
    [worst] = [row for row in table("Paling lama") if row["Langkah"] == "3. Memeriksa bahan berita"]
    assert worst["No. berita"] == seeded["breach"] and worst["Durasi (detik)"] == 10800
    waiting = {row["No. berita"]: row for row in table("Dalam proses")}
    assert waiting[seeded["waiting"]]["Menunggu di langkah"].startswith("4. Menyetujui")
    assert len(table("Per hari")) == 31
    fresh = {row["Kanal"]: row for row in table("Kemutakhiran")}
    assert fresh["Instagram"]["Hari tanpa publikasi"] == 31
    assert fresh["Instagram"]["Hari kerja tanpa publikasi"] == 22  # October 2026: 22 working days
    assert fresh["Website"]["Penilaian"] in ("Sesuai", "Tidak sesuai")
    assert isinstance(check["Mutu baku (waktu)"], (datetime, timedelta, float, int))  # a real duration


def test_the_pdf_lists_every_item_and_a_large_month_in_a_compact_annex(seeded, newsroom, settings, tmp_path):
    report = compile_month(newsroom.service, OCTOBER, settings)
    flat = " ".join(pdf_text(build_files(report, newsroom.service.config, settings, "id")["pdf"], tmp_path).split())
    assert "Konsultasi standardisasi pertanian" in flat  # the fourth item: no limit in the PDF
    # Above the threshold the items go to the annex, each on its line with a running number.
    small = replace(settings, annex_threshold=2)
    files = build_files(report, newsroom.service.config, small, "id")
    text = pdf_text(files["pdf"], tmp_path)
    flat = " ".join(text.split())
    assert "Seluruh 4 berita terbit bulan ini tercantum dalam Lampiran" in flat
    assert "Lampiran: daftar seluruh berita terbit" in flat and "Lampiran · Halaman 1 dari 1" in flat
    for number, item in enumerate(report.items, start=1):
        assert f"{number} {item.id} " in text, item.title
        assert item.title.split(":")[0] in flat
    assert "Disusun oleh," in flat and "Mengetahui," in flat  # the signature blocks stay
    # The HTML on screen still bounds the other long lists.
    html = render_html(report, newsroom.service.config, replace(settings, list_limit=0), "id")
    assert "Tambahkan kutipan narasumber" not in html


# ------------------------------------------------------------------------- storage
def test_rebuilding_a_month_replaces_its_files(seeded, newsroom, settings):
    service = newsroom.service
    generated = wib(2026, 11, 1, 7).astimezone(timezone.utc)
    _report, stored = build_and_store(service, OCTOBER, settings=settings, generated_at=generated)
    assert stored.keys == {fmt: f"reports/2026-10/laporan-2026-10.{fmt}" for fmt in ("html", "pdf", "xlsx")}
    first = service.storage.get_bytes(stored.keys["html"]).decode()
    assert "Seminar hasil kajian" not in first

    # An item back-dated into October (e.g. a late publication record), then a rebuild.
    item = newsroom.create("Seminar hasil kajian", wib(2026, 10, 25, 8))
    newsroom.human_steps(item, wib(2026, 10, 25, 8))
    newsroom.publish(item, 1, wib(2026, 10, 25, 10))
    build_and_store(service, OCTOBER, settings=settings, generated_at=generated)
    assert "Seminar hasil kajian" in service.storage.get_bytes(stored.keys["html"]).decode()
    assert sorted(service.storage.list("reports")) == sorted(stored.keys.values())

    build_and_store(service, OCTOBER, lang="en", settings=settings, generated_at=generated)
    assert list_reports(service.storage) == [{"month": "2026-10", "languages": {"en": ["html", "pdf", "xlsx"],
                                                                               "id": ["html", "pdf", "xlsx"]}}]
    data, filename, media_type = read_report(service.storage, "2026-10", "pdf", "en")
    assert data.startswith(b"%PDF") and filename == "laporan-2026-10-en.pdf" and media_type == "application/pdf"
    with pytest.raises(NotFound):
        read_report(service.storage, "2026-09", "pdf")
    with pytest.raises(InvalidInput):
        read_report(service.storage, "2026-10", "docx")
    with pytest.raises(InvalidInput):
        read_report(service.storage, "../../etc", "pdf")
    assert report_key("2026-10", "xlsx", "en") == "reports/2026-10/laporan-2026-10-en.xlsx"


def test_the_operator_makes_a_report_final_and_a_rebuild_never_changes_it(seeded, newsroom, settings, tmp_path):
    from warta.models import ReportFinal
    from warta.report import narrative as narratives
    from warta.report.final import finalise, revisions
    from warta.workflow import PermissionDenied

    service = newsroom.service
    generated = wib(2026, 11, 1, 7).astimezone(timezone.utc)
    _report, draft = build_and_store(service, OCTOBER, settings=settings, generated_at=generated)
    draft_text = " ".join(pdf_text(service.storage.get_bytes(draft.keys["pdf"]), tmp_path).split())
    assert "Draf, belum difinalkan Operator" in draft_text and "rancangan uraian dari Warta" in draft_text

    with pytest.raises(PermissionDenied):
        finalise(service, OCTOBER, SUBKOOR, settings=settings)
    with service.sessions() as session:
        narratives.save(session, OCTOBER.key, "id", {"summary": "Ringkasan bulan Oktober.",
                                                       "problems": "Satu unggahan gagal.",
                                                       "follow_up": "Periksa token kanal."}, OPERATOR)
        narratives.save(session, OCTOBER.key, "id", {"summary": "Ringkasan bulan Oktober, versi dua.",
                                                       "problems": "Satu unggahan gagal.",
                                                       "follow_up": "Periksa token kanal."}, OPERATOR)
    newsroom.at(wib(2026, 11, 2, 9))
    final, stored = finalise(service, OCTOBER, OPERATOR, settings=settings)
    assert (final.revision, final.narrative_version, final.finalised_by) == (1, 2, OPERATOR)
    assert final.figures["items_published"] == 4 and final.figures["items_listed"] == 4
    signed = service.storage.get_bytes(stored.keys["pdf"])
    assert hashlib.sha256(signed).hexdigest() == final.pdf_sha256
    assert service.storage.get_bytes("reports/2026-10/laporan-2026-10-r1.pdf") == signed
    text = " ".join(pdf_text(signed, tmp_path).split())
    assert "Final, revisi 1; memuat uraian versi 2; difinalkan oleh" in text
    assert "Ringkasan bulan Oktober, versi dua." in text and "Draf" not in text

    # Later: an item back-dated into October, a newer narrative, the monthly DAG run again.
    item = newsroom.create("Seminar hasil kajian", wib(2026, 10, 25, 8))
    newsroom.human_steps(item, wib(2026, 10, 25, 8))
    newsroom.publish(item, 1, wib(2026, 10, 25, 10))
    with service.sessions() as session:
        narratives.save(session, OCTOBER.key, "id", {"summary": "Versi tiga.", "problems": "-",
                                                       "follow_up": "-"}, OPERATOR)
    _report, again = build_and_store(service, OCTOBER, settings=settings, generated_at=generated)
    assert again.final_revision == 1
    assert service.storage.get_bytes(stored.keys["pdf"]) == signed  # not silently changed

    # A correction is a new numbered revision, with a reason; revision 1 is kept.
    with pytest.raises(InvalidInput, match="revisi baru"):
        finalise(service, OCTOBER, OPERATOR, settings=settings)
    newsroom.at(wib(2026, 11, 3, 10))
    corrected, _stored = finalise(service, OCTOBER, OPERATOR, settings=settings,
                                  reason="Berita 25 Oktober tercatat terlambat")
    assert (corrected.revision, corrected.narrative_version) == (2, 3)
    assert corrected.figures["items_published"] == 5
    text = " ".join(pdf_text(service.storage.get_bytes(stored.keys["pdf"]), tmp_path).split())
    assert "Final, revisi 2; memuat uraian versi 3" in text and "Berita 25 Oktober tercatat terlambat" in text
    assert service.storage.get_bytes("reports/2026-10/laporan-2026-10-r1.pdf") == signed
    with service.sessions() as session:
        assert [f.revision for f in revisions(session, OCTOBER.key, "id")] == [2, 1]
        assert session.query(ReportFinal).filter_by(revision=1).one().figures["items_published"] == 4


def test_finalising_without_a_saved_narrative_freezes_warta_draft_as_version_one(seeded, newsroom, settings,
                                                                                  tmp_path):
    from warta.report import narrative as narratives
    from warta.report.final import finalise

    final, stored = finalise(newsroom.service, OCTOBER, OPERATOR, lang="en", settings=settings)
    assert final.narrative_version == 1
    with newsroom.service.sessions() as session:
        assert narratives.latest(session, OCTOBER.key, "en").edited_by == OPERATOR
    text = " ".join(pdf_text(newsroom.service.storage.get_bytes(stored.keys["pdf"]), tmp_path).split())
    assert "Final, revision 1; carries narrative version 1" in text


def test_compiling_leaves_nothing_behind_and_can_run_again_on_the_same_connection(seeded, newsroom):
    from sqlalchemy import inspect

    service = newsroom.service
    with service.sessions() as session:
        first = compile_report(session, service.config, OCTOBER)
        assert not inspect(session.connection()).has_table("warta_report_month_items")
        again = compile_report(session, service.config, OCTOBER)
    third = compile_month(service, OCTOBER)  # a new session on the pooled connection
    assert [i.id for i in first.items] == [i.id for i in again.items] == [i.id for i in third.items]


# ------------------------------------------------------------- formats and helpers
def test_numbers_dates_and_durations_in_both_languages():
    indonesian, english = Messages("id", "Asia/Jakarta"), Messages("en", "Asia/Jakarta")
    assert indonesian.number(1234567) == "1.234.567" and english.number(1234567) == "1,234,567"
    assert indonesian.percent(0.875) == "87,5%" and english.percent(0.875) == "87.5%"
    assert indonesian.duration(3 * 3600) == "3 jam" and indonesian.duration(3900) == "1 jam 5 menit"
    assert indonesian.duration(90061) == "1 hari 1 jam" and english.duration(300) == "5 min"
    assert indonesian.duration(0) == "0 detik"
    moment = datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc)
    assert indonesian.datetime(moment) == "31 Okt 2026 23.30 WIB" and english.datetime(moment) == "31 Oct 2026 23:30 WIB"
    assert indonesian.date(moment) == "31 Oktober 2026" and english.month_name(2026, 10) == "October 2026"
    assert indonesian.signed(-3) == "−3" and indonesian.signed(0) == "±0"
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5 and percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.5) is None


def test_the_xlsx_writer_escapes_text_and_keeps_types(tmp_path):
    data = write_workbook([
        Sheet("Data: [1/2]?", [Column("Teks"), Column("Angka", "number"), Column("Tanggal", "date"),
                               Column("Waktu", "datetime"), Column("Persen", "percent")],
              [["<b>A & B</b>\x0b", 3, date(2026, 10, 31), datetime(2026, 10, 31, 23, 30), 0.5],
               ["  spasi  ", 2.5, None, None, None], [None, None, None, None, None]],
              preamble=[["Judul"], ["Unit", "BSIP"]]),
        Sheet("Data: [1/2]?", [Column("x")], []),
    ])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Data- -1-2--", "Data- -1-2-- (2)"]
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Judul" and rows[1] == ("Unit", "BSIP", None, None, None) and rows[2] == (None,) * 5
    assert rows[3] == ("Teks", "Angka", "Tanggal", "Waktu", "Persen")
    assert rows[4] == ("<b>A & B</b>", 3, datetime(2026, 10, 31), datetime(2026, 10, 31, 23, 30), 0.5)
    assert rows[5][:2] == ("  spasi  ", 2.5)
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "A5" and sheet.auto_filter.ref == "A4:E7"
    assert sheet["E5"].number_format == "0.00%" and sheet["C5"].number_format == "dd/mm/yyyy"
    with pytest.raises(ValueError):
        write_workbook([Sheet("x", [Column("t", "datetime")], [[datetime.now(timezone.utc)]])])


def test_a_workbook_written_beside_comes_back_and_a_failed_child_loses_nothing():
    import os

    from warta.report.render import Beside

    parent = os.getpid()

    def render(text: str) -> bytes:
        return f"{text} in {'child' if os.getpid() != parent else 'parent'}".encode()

    beside = Beside(render, "workbook")
    assert beside.result() == b"workbook in child" and beside.peak_rss_kib > 0

    def fails_in_child(text: str) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the child cannot")
        return text.encode()

    assert Beside(fails_in_child, "done here").result() == b"done here"


def test_the_cli_makes_a_report_final_and_refuses_another_role(seeded, newsroom, settings, monkeypatch, capsys):
    import json

    from warta import cli

    monkeypatch.setattr(cli, "_service", lambda: newsroom.service)
    assert cli.main(["report", "finalise", "2026-10", "--as", SUBKOOR]) == 1
    assert "hanya Operator" in capsys.readouterr().err
    assert cli.main(["report", "finalise", "2026-13", "--as", OPERATOR]) == 2
    assert cli.main(["--json", "report", "finalise", "2026-10", "--as", OPERATOR]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["revision"], answer["narrative_version"]) == (1, 1)
    assert answer["files"]["pdf"] == "reports/2026-10/laporan-2026-10.pdf"


def test_reading_beside_on_more_connections_gives_the_same_report(seeded, newsroom, settings):
    """compile_report(parallel=True) reads part of the figures on two more connections at
    once; the report is the same, and a session that may hold writes reads alone."""
    from warta.models import Alert
    from warta.report.compile import _can_read_beside

    service = newsroom.service
    generated = wib(2026, 11, 1, 7).astimezone(timezone.utc)
    with service.sessions() as session:
        assert _can_read_beside(session)  # a file DB, a fresh session: the threads do run
        beside = compile_report(session, service.config, OCTOBER, settings, generated_at=generated, parallel=True)
    with service.sessions() as session:
        alone = compile_report(session, service.config, OCTOBER, settings, generated_at=generated)
    assert beside == alone and beside.items and beside.service_levels and beside.trend
    with service.sessions() as session:
        session.add(Alert(dedupe_key="pending", kind="reminder", item_id=seeded["waiting"], round=1,
                          step_id="menyetujui", recipients=["subkoor"], subject="s", message="m",
                          created_at=wib(2026, 10, 30, 11)))
        session.flush()  # written in this transaction only: other connections do not see it
        assert not _can_read_beside(session)
        pending = compile_report(session, service.config, OCTOBER, settings, generated_at=generated, parallel=True)
        session.rollback()
    assert pending.alerts_total.reminder == alone.alerts_total.reminder + 1  # its own unwritten alert counted
