"""Render a compiled monthly report as HTML (Jinja2), PDF (WeasyPrint, from the same HTML)
and XLSX (one sheet per table)."""

from __future__ import annotations

import base64
import os
import mimetypes
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from warta.config import WartaConfig, config_dir
from warta.report import charts
from warta.report.annex import Annex, AnnexColumn, AnnexSection, DrawnAnnex
from warta.report.compile import Failure, ItemPublication, ItemRow, MonthlyReport, WaitingItem
from warta.report.messages import Messages
from warta.report.reach import missing_notes, reach_sheets
from warta.report.settings import ReportSettings, report_number
from warta.report.xlsx import Column, Duration, Percent, Sheet, write_workbook

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The printed report lists every row; a bound this high is never reached.
PRINT_ROW_LIMIT = 10**9


def css_string(value) -> Markup:
    """Text for inside a double-quoted CSS string (the page header and footer): HTML
    escaping does not apply inside <style>, CSS escaping does."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return Markup(text.replace("<", "\\3C ").replace(">", "\\3E "))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["css"] = css_string
    return environment


class Names:
    """Display names of the SOP's steps, roles, channels, services and users."""

    def __init__(self, config: WartaConfig, lang: str):
        self.config = config
        self.lang = lang

    def _pick(self, thing, fallback: str) -> str:
        if thing is None:
            return fallback
        return thing.name_en if self.lang == "en" else thing.name_id

    def channel(self, channel_id: str) -> str:
        return self._pick(self.config.channels.get(channel_id), channel_id)

    def service(self, service_id: str) -> str:
        spec = self.config.services.get(service_id)
        if not spec:
            return service_id
        return spec.get("name_en" if self.lang == "en" else "name_id") or spec.get("name_id") or service_id

    def step(self, step_id: str) -> str:
        try:
            step = self.config.step(step_id)
        except KeyError:
            return step_id
        return f"{step.number}. {self._pick(step, step_id)}"

    def step_role(self, step_id: str) -> str:
        try:
            return self._pick(self.config.roles.get(self.config.step(step_id).role), "")
        except KeyError:
            return ""

    def user(self, username: str) -> str:
        user = self.config.users.get(username)
        return user.full_name if user and user.full_name != username else username


def post_status_label(t: Messages, status: str) -> str:
    return t("post_failed") if status == "failed" else t("post_pending")


def check_label(t: Messages, publication: ItemPublication) -> str:
    if publication.status != "published":
        return post_status_label(t, publication.status)
    if publication.check_ok is None:
        return t("check_unchecked")
    return t("check_ok") if publication.check_ok else t("check_failed")


def item_check_label(t: Messages, item: ItemRow) -> str:
    return t(f"check_{item.check_result}")


# What a platform's error means, in words the head of the unit reads (first match wins).
_PLAIN_ERRORS = (
    (r"\b(401|403)\b|permission|izin|not authori[sz]ed|forbidden|OAuthException|\(#10\)|\(#200\)|access token",
     "Izin akses ditolak oleh platform (token kedaluwarsa atau izin aplikasi kurang)",
     "The platform refused access (token expired or the app lacks a permission)"),
    (r"\b429\b|rate limit|too many requests|\(#4\)|\(#32\)|\(#613\)",
     "Platform membatasi jumlah permintaan; dicoba lagi kemudian",
     "The platform limited the number of requests; tried again later"),
    (r"timed? ?out|timeout|waktu habis", "Platform tidak menjawab tepat waktu", "The platform did not answer in time"),
    (r"connection|resolve|unreachable|koneksi", "Tidak dapat terhubung ke platform", "Could not connect to the platform"),
    (r"\b5\d\d\b|server error|service unavailable", "Server platform sedang bermasalah",
     "The platform's server had a problem"),
    (r"\b(400|422)\b|invalid|aspect ratio|media|format", "Isi atau berkas ditolak platform (format tidak sesuai)",
     "The platform rejected the content or file (wrong format)"),
)


def plain_error(t: Messages, failure: Failure) -> str:
    """A failure in plain words, then the platform's own message, shortened."""
    if failure.kind == "check":
        status = failure.http_status
        if status == 404:
            plain = ("Halaman tidak ditemukan saat dicek (404)" if t.lang == "id"
                     else "Page not found when checked (404)")
        elif status:
            plain = (f"Halaman tidak dapat dibuka saat dicek (HTTP {status})" if t.lang == "id"
                     else f"Page could not be opened when checked (HTTP {status})")
        else:
            plain = ("Isi yang terbit tidak sesuai naskah yang disetujui" if t.lang == "id"
                     else "The live post does not match the approved text")
        return plain
    error = failure.error or ""
    for pattern, in_id, in_en in _PLAIN_ERRORS:
        if re.search(pattern, error, re.IGNORECASE):
            plain = in_id if t.lang == "id" else in_en
            break
    else:
        plain = "Gagal terbit karena kesalahan lain" if t.lang == "id" else "Publishing failed for another reason"
    detail = " ".join(error.split())
    if len(detail) > 140:
        detail = detail[:140].rsplit(" ", 1)[0] + " …"
    return f"{plain}. ({detail})" if detail else plain


def stuck_items(report: MonthlyReport, config: WartaConfig, names: "Names", t: Messages) -> list[tuple[WaitingItem, str]]:
    """Items past their due time at month end, with why they wait."""
    open_failures = {}
    for failure in report.open_failures:
        open_failures.setdefault(failure.item_id, failure)
    result = []
    for waiting in report.in_progress:
        if not waiting.overdue:
            continue
        try:
            step = config.step(waiting.step_id)
        except KeyError:
            step = None
        failure = open_failures.get(waiting.item_id)
        if failure is not None:
            reason = t("stuck_failed", error=f"{names.channel(failure.channel)} – {plain_error(t, failure)}")
        elif step is not None and step.is_human:
            reason = t("stuck_waiting_for", role=names.step_role(waiting.step_id))
        else:
            reason = t("stuck_pipeline")
        result.append((waiting, reason))
    return result


def draft_narrative(report: MonthlyReport, config: WartaConfig, names: "Names", t: Messages,
                    stuck: list) -> list[tuple[str, str]]:
    """The narrative's draft, written from the figures (summary, problems, follow-up)."""
    n = t.number
    late_channels = [names.channel(f.channel) for f in report.freshness if f.up_to_date is False]
    share = report.share_within_standard
    summary = t("draft_summary", items=n(report.items_published.current), posts=n(report.publications.current),
                previous=n(report.items_published.previous), share=t.percent(share.current),
                change=t.percent_points(share.change))
    problems = [text for condition, text in (
        (report.failures, lambda: t("draft_failures", count=n(len(report.failures)),
                                    open=n(len(report.open_failures)))),
        (report.rejections_count.current, lambda: t("draft_rejections", count=n(report.rejections_count.current))),
        (stuck, lambda: t("draft_stuck", count=n(len(stuck)))),
        (late_channels, lambda: t("draft_late", channels=", ".join(late_channels))),
    ) if condition for text in (text(),)]
    follow = [t(key) for condition, key in ((report.open_failures, "follow_failures"), (stuck, "follow_stuck"),
                                             (late_channels, "follow_late")) if condition]
    problem_text = t("draft_problems", list="; ".join(problems)) if problems else t("draft_no_problems")
    follow_text = ("; ".join(follow) + ".").capitalize() if follow else t("follow_none")
    return [("narrative_summary", summary), ("narrative_problems", problem_text),
            ("narrative_follow_up", follow_text)]


def _logo_uri(settings: ReportSettings) -> str:
    """The letterhead logo as a data: URI (the HTML file stands alone), or empty."""
    if not settings.letterhead.logo:
        return ""
    path = Path(settings.letterhead.logo)
    if not path.is_absolute():
        path = config_dir() / path
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _charts(report: MonthlyReport, names: Names, t: Messages) -> dict[str, Markup]:
    per_day = charts.stacked_day_bars(
        [str(day.day.day) for day in report.per_day],
        [(names.channel(c), [day.by_channel.get(c, 0) for day in report.per_day]) for c in report.channels],
        title=t("chart_per_day"),
        number=t.number,
    )
    compliance = charts.compliance_bars(
        [(names.step(level.step_id), level.share_within, t.percent(level.share_within))
         for level in report.service_levels],
        title=t("chart_compliance"),
        no_data=t("no_data"),
    )
    trend = charts.grouped_month_bars(
        [t.month_name(m.year, m.month).replace(" ", "\n") for m in report.trend],
        [(t("items_published"), [m.items_published for m in report.trend]),
         (t("publications_short"), [m.publications for m in report.trend])],
        title=t("chart_trend"),
        number=t.number,
    )
    # All are built from escaped text in charts.py.
    return {"per_day": Markup(per_day), "compliance": Markup(compliance), "trend": Markup(trend)}


ANNEXED_LISTS = ("items", "failures", "rejections", "in_progress", "reach_posts")


def _list_length(report: MonthlyReport, name: str) -> int:
    if name == "reach_posts":
        return len(report.reach.posts) if report.reach is not None else 0
    return len(getattr(report, name))


def annexed(report: MonthlyReport, settings: ReportSettings) -> dict[str, bool]:
    """Which long lists go whole to the PDF's compact annex (the body then shows the
    first ``list_limit`` rows, or for items none). Nothing is ever left out of the PDF:
    a list is either whole in the body or whole in the annex."""
    return {name: _list_length(report, name) > settings.annex_threshold for name in ANNEXED_LISTS}


def document_state(t: Messages, names: "Names", final) -> list[str]:
    """The lines saying whether the document is final (which revision, which narrative
    version, who and when) or still a draft."""
    if final is None or not final.final:
        version = final.narrative_version if final is not None else None
        return [t("state_draft", version=version) if version else t("state_draft_unsaved")]
    lines = [t("state_final", revision=final.revision, version=final.narrative_version,
               user=names.user(final.finalised_by), at=t.datetime(final.finalised_at))]
    if final.reason:
        lines.append(t("state_correction", reason=final.reason))
    return lines


def render_html(report: MonthlyReport, config: WartaConfig, settings: ReportSettings, lang: str | None = None,
                *, for_print: bool = False, narrative: dict[str, str] | None = None, final=None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts). Printed
    (``for_print``, the PDF) it lists every row; on screen rejections and items in progress
    stop at ``settings.list_limit``. Months above ``settings.annex_threshold`` items list
    them in the PDF's annex (``build_annex``) and the XLSX. ``narrative`` is the Operator's
    saved version (warta.report.narrative); without it Warta's draft is printed. ``final``
    (warta.report.final.FinalMark) is the document's state printed under its title."""
    lang = lang or settings.language
    t = Messages(lang, report.month.timezone)
    names = Names(config, lang)
    limit = settings.list_limit
    stuck = stuck_items(report, config, names, t)
    template = _environment().get_template("report.html.j2")
    in_annex = annexed(report, settings)
    limits = {name: (limit if in_annex[name] or not for_print else PRINT_ROW_LIMIT) for name in ANNEXED_LISTS}
    return template.render(
        limits=limits,
        shortened=lambda name, shown, total: t(
            "shown_annex" if in_annex[name] and for_print else "list_limited", shown=t.number(shown),
            total=t.number(total)),
        annexed=in_annex,
        document_state=document_state(t, names, final),
        stuck=stuck,
        narrative=([(f"narrative_{part}", narrative[part]) for part in ("summary", "problems", "follow_up")]
                   if narrative else draft_narrative(report, config, names, t, stuck)),
        plain_error=lambda failure: plain_error(t, failure),
        alert_key_name=lambda key: (names.channel(key.split(":", 1)[1]) if key.startswith("channel:")
                                    else names.step(key) if key else "–"),
        logo=_logo_uri(settings),
        number=report_number(settings, report.month.year, report.month.month) if settings.number_pattern else "",
        t=t,
        r=report,
        names=names,
        sop=config.sop,
        settings=settings,
        limit=limit,
        period=t.month_name(report.month.year, report.month.month),
        previous_period=t.month_name(report.previous_month.year, report.previous_month.month),
        charts=_charts(report, names, t),
        check_label=lambda p: check_label(t, p),
        item_check_label=lambda i: item_check_label(t, i),
        for_print=for_print,
        reach_missing=lambda entry: missing_notes(t, entry),
        signatories=[(key, s) for key, s in (("prepared_by", settings.prepared_by),
                                              ("approved_by", settings.approved_by)) if s],
    )


def preload_pdf_engine() -> Callable[[], None]:
    """Start importing WeasyPrint (about 0.9 s of Python) in a thread, to run while the
    report compiles: the compile's queries leave the GIL free much of the time. Returns
    the function that waits for the import; call it before forking (render.Beside), so
    no child starts with the import half done. An import error surfaces in render_pdf."""
    import threading

    def load():
        try:
            import weasyprint  # noqa: F401
        except Exception:  # noqa: BLE001 - render_pdf imports it again and reports the error
            pass

    thread = threading.Thread(target=load, name="warta-report-weasyprint", daemon=True)
    thread.start()
    return thread.join


def render_pdf(html: str, annex: Annex | DrawnAnnex | Callable[[], DrawnAnnex | None] | None = None) -> bytes:
    """The HTML printed to PDF by WeasyPrint (Pango and Debian's DejaVu fonts; no browser),
    with the compact annex appended when given: drawn here, drawn already, or fetched by a
    callable once WeasyPrint has laid out the body (the annex drawn meanwhile elsewhere)."""
    from weasyprint import HTML  # heavy import, only where PDFs are made

    finisher = None
    if annex is not None:
        from warta.report.annex import attach_annex, draw_annex

        def finisher(_document, pdf):
            drawn = annex() if callable(annex) else annex if isinstance(annex, DrawnAnnex) else draw_annex(annex)
            if drawn is not None:
                attach_annex(pdf, drawn)

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(finisher=finisher)


class Beside:
    """``render(*args)`` (returning bytes) run in a forked child while this process goes
    on: on a machine with two cores a large month's workbook and PDF are made at the same
    time. A forked child shares the compiled report with its parent (nothing is copied or
    pickled). Should the child fail, ``result()`` does the work here instead: nothing is
    lost, it only takes longer."""

    TIMEOUT_S = 600

    def __init__(self, render, *args):
        import tempfile

        self._render, self._args = render, args
        self.peak_rss_kib = 0  # the child's peak resident memory, once it has ended
        self.cpu_s = 0.0  # and its CPU seconds
        fd, self._path = tempfile.mkstemp(prefix="warta-report-", suffix=".part")
        os.close(fd)
        self._pid = os.fork()
        if self._pid == 0:  # the child: render, hand the bytes over in the file, leave at once
            code = 1
            try:
                data = render(*args)
                with open(self._path, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers

    def result(self) -> bytes:
        import time

        deadline = time.monotonic() + self.TIMEOUT_S
        try:
            while True:
                pid, status, usage = os.wait4(self._pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:  # stuck (say, on a lock another thread held at fork)
                    os.kill(self._pid, 9)
                    pid, status, usage = os.wait4(self._pid, 0)
                    break
                time.sleep(0.02)
            self.peak_rss_kib = usage.ru_maxrss
            self.cpu_s = usage.ru_utime + usage.ru_stime
            if os.waitstatus_to_exitcode(status) == 0:
                return Path(self._path).read_bytes()
            return self._render(*self._args)
        finally:
            os.unlink(self._path)


def drawn_annex(report: MonthlyReport, config: WartaConfig, settings: ReportSettings, lang: str | None = None) -> bytes:
    """The annex built and drawn (warta.report.annex.draw_annex), pickled for ``Beside``
    (empty when every list fits the body); ``unpickle_annex`` reads it back."""
    import pickle

    from warta.report.annex import draw_annex

    annex = build_annex(report, config, settings, lang)
    return pickle.dumps(draw_annex(annex)) if annex is not None else b""


def unpickle_annex(data: bytes) -> DrawnAnnex | None:
    """The annex drawn by ``drawn_annex`` in this process's own forked child."""
    import pickle

    return pickle.loads(data) if data else None


_CHANNEL_LETTERS = {"wordpress": "W", "facebook_page": "F", "facebook": "F", "instagram": "I", "x": "X",
                    "youtube": "Y"}


def build_annex(report: MonthlyReport, config: WartaConfig, settings: ReportSettings,
                lang: str | None = None) -> Annex | None:
    """The PDF's compact annex of every long list, or None when every list fits the body."""
    in_annex = annexed(report, settings)
    if not any(in_annex.values()):
        return None
    lang = lang or settings.language
    t = Messages(lang, report.month.timezone)
    names = Names(config, lang)
    period = t.month_name(report.month.year, report.month.month)
    sections = []
    if in_annex["items"]:
        sections.append(_items_annex(report, config, names, t, lang, period))
    when = t.compact_datetime

    if in_annex["failures"]:
        sections.append(AnnexSection(
            t("annex_failures"), f"{t('title')} · {period} · {t.number(len(report.failures))}",
            (AnnexColumn(t("running_number"), 34, "right"), AnnexColumn(t("item_id"), 40, "right"),
             AnnexColumn(t("channel"), 52), AnnexColumn(t("when"), 50),
             AnnexColumn(t("resolution"), 80), AnnexColumn(f"{t('error')} · {t('item_title')}", 267.28)),
            [(str(n), str(f.item_id), names.channel(f.channel), when(f.at),
              t("unresolved") if f.open else t("resolved_at", when=when(f.resolved_at)),
              f"{t('failure_' + f.kind)}: {plain_error(t, f)} · {f.title}")
             for n, f in enumerate(report.failures, start=1)],
        ))
    if in_annex["rejections"]:
        sections.append(AnnexSection(
            t("annex_rejections"), f"{t('title')} · {period} · {t.number(len(report.rejections))}",
            (AnnexColumn(t("running_number"), 34, "right"), AnnexColumn(t("item_id"), 40, "right"),
             AnnexColumn(t("round"), 40, "right"), AnnexColumn(t("rejected_at"), 50),
             AnnexColumn(t("rejected_by"), 80), AnnexColumn(f"{t('reason')} · {t('item_title')}", 279.28)),
            [(str(n), str(r.item_id), str(r.round), when(r.recorded_at), names.user(r.actor),
              f"{r.reason} · {r.title}") for n, r in enumerate(report.rejections, start=1)],
        ))
    if in_annex["in_progress"]:
        # The items held past their standard time carry their reason (the body's "stuck" list).
        reasons = {waiting.item_id: reason for waiting, reason in stuck_items(report, config, names, t)}
        sections.append(AnnexSection(
            t("annex_in_progress"), f"{t('title')} · {period} · {t.number(len(report.in_progress))}",
            (AnnexColumn(t("running_number"), 34, "right"), AnnexColumn(t("item_id"), 40, "right"),
             AnnexColumn(t("since"), 50), AnnexColumn(t("due"), 50), AnnexColumn(t("breaches"), 44),
             AnnexColumn(f"{t('waiting_at')} · {t('item_title')} · {t('stuck_reason')}", 305.28)),
            [(str(n), str(w.item_id), when(w.waiting_since), when(w.due_at), t("yes") if w.overdue else t("no"),
              f"{names.step(w.step_id)} · {w.title}" + (f" · {reasons[w.item_id]}" if w.item_id in reasons else ""))
             for n, w in enumerate(report.in_progress, start=1)],
        ))
    if in_annex["reach_posts"]:
        sections.append(_reach_annex(report, names, t, period))
    return Annex(tuple(sections), footer=t("annex_page", page="{page}", pages="{pages}"))


def _reach_annex(report: MonthlyReport, names: Names, t: Messages, period: str) -> AnnexSection:
    """Every social media post of the month with its figures (the body's per-post list)."""
    def figure(value) -> str:
        return "–" if value is None else t.number(value)

    posts = report.reach.posts
    return AnnexSection(
        t("annex_reach"), f"{t('title')} · {period} · {t.number(len(posts))}",
        (AnnexColumn(t("running_number"), 34, "right"), AnnexColumn(t("item_id"), 40, "right"),
         AnnexColumn(t("channel"), 46), AnnexColumn(t("reach_reach"), 44, "right"),
         AnnexColumn(t("reach_views"), 44, "right"), AnnexColumn(t("reach_reactions"), 38, "right"),
         AnnexColumn(t("reach_comments"), 40, "right"), AnnexColumn(t("reach_shares"), 40, "right"),
         AnnexColumn(f"{t('reach_status')} · {t('item_title')}", 197.28)),
        [(str(n), str(p.item_id), names.channel(p.channel), figure(p.reach), figure(p.views), figure(p.reactions),
          figure(p.comments), figure(p.shares),
          f"{t('reach_status_' + p.status)}"
          + (f" ({t('reach_read_on').lower()} {t.short_date(p.reading_date)})" if p.reading_date else "") + f" · {p.title}")
         for n, p in enumerate(posts, start=1)],
    )


def _items_annex(report: MonthlyReport, config: WartaConfig, names: Names, t: Messages, lang: str,
                 period: str) -> AnnexSection:
    letters = {}
    for channel in report.channels:
        spec = config.channels.get(channel)
        letters[channel] = _CHANNEL_LETTERS.get(spec.kind if spec else "", channel[:1].upper())
    results = {r: t(f"check_{r}") for r in ("ok", "failed", "unchecked", "publish_failed")}
    service_names: dict[str, str] = {}
    author_names: dict[str, str] = {}
    when = t.compact_datetime
    rows = []
    append = rows.append
    for number, item in enumerate(report.items, start=1):
        service = service_names.get(item.service)
        if service is None:
            service = service_names[item.service] = names.service(item.service)
        author = author_names.get(item.author)
        if author is None:
            author = author_names[item.author] = names.user(item.author)
        posts = " ".join(letters.get(p.channel, "?") + ("" if p.status == "published" else "!")
                         for p in item.publications)
        append((str(number), str(item.id), when(item.first_published_at),
                posts, str(item.rounds), results[item.check_result], f"{item.title} · {service} · {author}"))
    columns = (
        AnnexColumn(t("running_number"), 34, "right"), AnnexColumn(t("item_id"), 40, "right"),
        AnnexColumn(t("published_short"), 50), AnnexColumn(t("channels_short"), 46),
        AnnexColumn(t("rounds_short"), 34, "right"), AnnexColumn(t("online_check"), 52),
        AnnexColumn(f"{t('item_title')} · {t('service')} · {t('author')}", 267.28),
    )
    return AnnexSection(
        title=t("annex"),
        subtitle=f"{t('title')} · {period} · {t('annex_count', count=t.number(len(report.items)))}",
        columns=columns,
        rows=rows,
        legend=t("legend_channels"),
    )


# ---------------------------------------------------------------------- XLSX
def _change(current, previous):
    return None if current is None or previous is None else current - previous


def render_xlsx(report: MonthlyReport, config: WartaConfig, settings: ReportSettings, lang: str | None = None) -> bytes:
    """The workbook: one sheet per table of the report, every row (no list limit).
    Times are local (the SOP timezone), as Excel has no time zones."""
    lang = lang or settings.language
    t = Messages(lang, report.month.timezone)
    names = Names(config, lang)
    local = t.local_naive
    tz = t.tzname
    period = t.month_name(report.month.year, report.month.month)

    figures = [
        ("items_published", report.items_published, "number"),
        ("publications", report.publications, "number"),
        ("items_registered", report.items_registered, "number"),
        ("rejections_count", report.rejections_count, "number"),
        ("in_progress_count", report.in_progress_count, "number"),
        ("steps_done", report.steps_done, "number"),
        ("share_within_standard", report.share_within_standard, "percent"),
    ]
    preamble = [
        [t("title")],
        [t("unit"), config.sop.get("unit", "")],
        [t("sop_number"), config.sop.get("number", "")],
        [t("sop_name"), config.sop.get("name", "")],
        [t("period"), period],
        [t("generated"), t.datetime(report.generated_at)],
    ]
    if report.no_activity:
        preamble.append([t("no_activity")])
    elif report.nothing_published:
        preamble.append([t("nothing_published")])
    sheets = [
        Sheet(
            t("sheet_summary"),
            [Column(t("figure"), width=44), Column(t("this_month"), "number"), Column(t("previous_month"), "number"),
             Column(t("change"), "number")],
            [[t(key), *(_as(kind, value) for value in (f.current, f.previous, _change(f.current, f.previous)))]
             for key, f, kind in figures],
            preamble=preamble,
        ),
    ]
    count_columns = [Column(t("this_month"), "number"), Column(t("previous_month"), "number"),
                     Column(t("change"), "number")]
    for sheet_key, label_key, rows, name in (
        ("sheet_channels", "channel", report.per_channel, names.channel),
        ("sheet_services", "service", report.per_service, names.service),
        ("sheet_authors", "author", report.per_author, names.user),
    ):
        sheets.append(Sheet(
            t(sheet_key),
            [Column(t(label_key), width=44), *count_columns],
            [[name(c.key), c.current, c.previous, c.current - c.previous] for c in rows],
        ))

    channel_columns = []
    for channel in report.channels:
        channel_columns += [Column(f"{names.channel(channel)}: {t('link')}", "link", 48),
                            Column(f"{names.channel(channel)}: {t('online_check')}", width=14)]

    # A month can hold 100,000 items: look every name and label up once, not per cell.
    service_names = {key: names.service(key) for key in config.services}
    author_names: dict[str, str] = {}
    item_results = {result: t(f"check_{result}") for result in ("ok", "failed", "unchecked", "publish_failed")}
    post_results = {True: t("check_ok"), False: t("check_failed"), None: t("check_unchecked")}
    tzinfo = t.tz

    def item_rows():
        for item in report.items:
            author = author_names.get(item.author)
            if author is None:
                author = author_names[item.author] = names.user(item.author)
            cells = [item.id, item.title, item.activity_date,
                     item.first_published_at.astimezone(tzinfo).replace(tzinfo=None),
                     service_names.get(item.service) or names.service(item.service), author, item.rounds,
                     item_results[item.check_result]]
            by_channel = {p.channel: p for p in item.publications}
            for channel in report.channels:
                publication = by_channel.get(channel)
                if publication is None:
                    cells += (None, None)
                elif publication.status != "published":
                    cells += (None, post_status_label(t, publication.status))
                else:
                    cells += (publication.url, post_results[publication.check_ok])
            yield cells

    sheets.append(Sheet(
        t("sheet_items"),
        [Column(t("item_id"), "number", 10), Column(t("item_title"), "text", 60),
         Column(t("activity_date"), "date", 14),
         Column(f"{t('first_published')} ({tz})", "datetime", 17), Column(t("service"), width=30),
         Column(t("author"), width=26), Column(t("rounds"), "number", 10), Column(t("online_check"), width=14),
         *channel_columns],
        item_rows(),
    ))
    sheets.append(Sheet(
        t("sheet_rounds"),
        [Column(t("rounds_count"), "number"), Column(t("items_count"), "number")],
        [[rounds, count] for rounds, count in report.rounds],
    ))
    sheets.append(Sheet(
        t("sheet_levels"),
        [Column(t("step"), width=50), Column(t("role"), width=30), Column(t("standard_time"), "duration", 14),
         Column(f"{t('standard_time')} ({t('seconds')})", "number"), Column(t("done"), "number"),
         Column(f"{t('median')} ({t('seconds')})", "number"), Column(f"{t('p90')} ({t('seconds')})", "number"),
         Column(t("share_within"), "percent"), Column(t("breaches"), "number")],
        [[names.step(s.step_id), names.step_role(s.step_id), Duration(s.standard_seconds), s.standard_seconds,
          s.done, _rounded(s.median_seconds), _rounded(s.p90_seconds), s.share_within, s.breaches]
         for s in report.service_levels],
    ))
    sheets.append(Sheet(
        t("sheet_worst"),
        [Column(t("step"), width=50), Column(t("item_id"), "number", 10), Column(t("item_title"), width=60),
         Column(t("round"), "number", 9), Column(f"{t('started')} ({tz})", "datetime", 17),
         Column(f"{t('ended')} ({tz})", "datetime", 17), Column(t("duration"), "duration", 16),
         Column(f"{t('duration')} ({t('seconds')})", "number"), Column(f"{t('standard_time')} ({t('seconds')})",
                                                                       "number")],
        [[names.step(w.step_id), w.item_id, w.title, w.round, local(w.started_at), local(w.ended_at),
          Duration(w.duration_seconds), _rounded(w.duration_seconds), w.standard_seconds]
         for w in report.worst_cases],
    ))
    sheets.append(Sheet(
        t("sheet_rejections"),
        [Column(t("item_id"), "number", 10), Column(t("item_title"), width=60), Column(t("round"), "number", 9),
         Column(f"{t('rejected_at')} ({tz})", "datetime", 17), Column(t("rejected_by"), width=26),
         Column(t("reason"), "wrap", 60)],
        ([r.item_id, r.title, r.round, local(r.recorded_at), names.user(r.actor), r.reason]
         for r in report.rejections),
    ))
    sheets.append(Sheet(
        t("sheet_freshness"),
        [Column(t("channel"), width=20), Column(t("publications_short"), "number"),
         Column(t("freshness_verdict"), width=16), Column(t("freshness_limit"), "number", 14),
         Column(f"{t('longest_gap')} ({t('working_days_without').lower()})", "number", 22),
         Column(t("longest_gap"), "duration", 18), Column(f"{t('longest_gap')} ({t('seconds')})", "number", 18),
         Column(f"{t('started')} ({tz})", "datetime", 17), Column(f"{t('ended')} ({tz})", "datetime", 17),
         Column(t("days_without"), "number"), Column(t("working_days_without"), "number", 16),
         Column(t("dates"), "wrap", 50)],
        [[names.channel(f.channel), f.publications,
          t("freshness_unwatched") if f.up_to_date is None else t("freshness_ok" if f.up_to_date else "freshness_late"),
          f.freshness_days or None, f.gap_working_days, Duration(f.longest_gap_seconds),
          _rounded(f.longest_gap_seconds), local(f.gap_start), local(f.gap_end), len(f.days_without),
          len(f.working_days_without), ", ".join(str(d.day) for d in f.working_days_without)]
         for f in report.freshness],
    ))
    sheets.append(Sheet(
        t("sheet_in_progress"),
        [Column(t("item_id"), "number", 10), Column(t("item_title"), width=60), Column(t("waiting_at"), width=50),
         Column(t("round"), "number", 9), Column(f"{t('waiting_since')} ({tz})", "datetime", 17),
         Column(t("waited"), "duration", 18), Column(f"{t('waited')} ({t('seconds')})", "number", 16),
         Column(f"{t('due')} ({tz})", "datetime", 17), Column(t("overdue"), width=12)],
        ([w.item_id, w.title, names.step(w.step_id), w.round, local(w.waiting_since), Duration(w.waited_seconds),
          _rounded(w.waited_seconds), local(w.due_at), t("yes") if w.overdue else t("no")] for w in report.in_progress),
    ))
    sheets.append(Sheet(
        t("sheet_per_day"),
        [Column(t("day"), "date"), Column(t("total"), "number"),
         *[Column(names.channel(c), "number") for c in report.channels]],
        [[d.day, d.total, *[d.by_channel.get(c, 0) for c in report.channels]] for d in report.per_day],
    ))
    sheets.insert(1, Sheet(
        t("sheet_failures"),
        [Column(t("running_number"), "number", 6), Column(t("item_id"), "number", 10), Column(t("item_title"), "wrap", 44),
         Column(t("channel"), width=14), Column(t("failure_kind"), width=18), Column(t("error"), "wrap", 50),
         Column(t("error_raw"), "wrap", 50), Column(f"{t('when')} ({tz})", "datetime", 17),
         Column(t("attempts_col"), "number", 10), Column(t("resolution"), width=16),
         Column(f"{t('resolved_col')} ({tz})", "datetime", 17)],
        ([n, f.item_id, f.title, names.channel(f.channel), t(f"failure_{f.kind}"), plain_error(t, f),
          f.error or (f"HTTP {f.http_status}" if f.http_status else ""), local(f.at), f.attempts,
          t("unresolved") if f.open else t("resolved_col"), local(f.resolved_at)]
         for n, f in enumerate(report.failures, start=1)),
    ))
    sheets.insert(2, Sheet(
        t("sheet_trend"),
        [Column(t("month"), width=18), Column(t("items_published"), "number", 14),
         Column(t("publications_short"), "number", 14), Column(t("rejections_count"), "number", 14),
         Column(t("share_within"), "percent", 14)],
        [*([t.month_name(m.year, m.month), m.items_published, m.publications, m.rejections,
            _as("percent", m.share_within)] for m in report.trend),
         [t("year_to_date", month=t.month_name(report.year_to_date.year, report.year_to_date.month).split(" ")[0],
            year=report.year_to_date.year), report.year_to_date.items_published, report.year_to_date.publications,
          report.year_to_date.rejections, _as("percent", report.year_to_date.share_within)]],
    ))
    alert_columns = [Column(t("alert_reminder"), "number", 12), Column(t("alert_breach"), "number", 14),
                     Column(t("alert_escalation"), "number", 12), Column(t("alert_freshness"), "number", 14),
                     Column(t("total"), "number", 10)]
    sheets.append(Sheet(
        t("sheet_alerts"),
        [Column(t("alerts_per_step") + " / " + t("person"), width=50), *alert_columns],
        [*([(names.channel(a.key.split(":", 1)[1]) if a.key.startswith("channel:") else names.step(a.key)),
            a.reminder, a.breach, a.escalation, a.freshness, a.total] for a in report.alerts_per_step),
         *([f"{t('person')}: {names.user(a.key)}", a.reminder, a.breach, a.escalation, a.freshness, a.total]
           for a in report.alerts_per_person)],
    ))
    sheets.extend(reach_sheets(report.reach, names, t))
    return write_workbook(sheets, title=f"{t('title')} – {period}", page_footer=t("xlsx_page"))


def _as(kind: str, value):
    return Percent(value) if kind == "percent" and value is not None else value


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
