"""Render a compiled monthly report as HTML (Jinja2), PDF (WeasyPrint, from the same HTML)
and XLSX (one sheet per table)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from warta.config import WartaConfig
from warta.report import charts
from warta.report.compile import ItemPublication, ItemRow, MonthlyReport
from warta.report.messages import Messages
from warta.report.settings import ReportSettings
from warta.report.xlsx import Column, Percent, Sheet, write_workbook

TEMPLATES = Path(__file__).resolve().parent / "templates"


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


def _charts(report: MonthlyReport, names: Names, t: Messages) -> dict[str, Markup]:
    per_day = charts.stacked_day_bars(
        [str(day.day.day) for day in report.per_day],
        [(names.channel(c), [day.by_channel.get(c, 0) for day in report.per_day]) for c in report.channels],
        title=t("chart_per_day"),
    )
    compliance = charts.compliance_bars(
        [(names.step(level.step_id), level.share_within, t.percent(level.share_within))
         for level in report.service_levels],
        title=t("chart_compliance"),
        no_data=t("no_data"),
    )
    # Both are built from escaped text in charts.py.
    return {"per_day": Markup(per_day), "compliance": Markup(compliance)}


def render_html(report: MonthlyReport, config: WartaConfig, settings: ReportSettings, lang: str | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts). Long lists
    stop at ``settings.list_limit`` rows; the XLSX has them whole."""
    lang = lang or settings.language
    t = Messages(lang, report.month.timezone)
    names = Names(config, lang)
    limit = settings.list_limit
    template = _environment().get_template("report.html.j2")
    return template.render(
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
        signatories=[(key, s) for key, s in (("prepared_by", settings.prepared_by),
                                              ("approved_by", settings.approved_by)) if s],
    )


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF by WeasyPrint (Pango and Debian's DejaVu fonts; no browser)."""
    from weasyprint import HTML  # heavy import, only where PDFs are made

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


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
        channel_columns += [Column(f"{names.channel(channel)}: {t('link')}", width=48),
                            Column(f"{names.channel(channel)}: {t('online_check')}", width=14)]

    # A month can hold 100,000 items: look every name and label up once, not per cell.
    service_names = {key: names.service(key) for key in config.services}
    author_names: dict[str, str] = {}
    item_results = {result: t(f"check_{result}") for result in ("ok", "failed", "unchecked")}
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
        [Column(t("step"), width=50), Column(t("role"), width=30), Column(t("standard_time"), width=14),
         Column(f"{t('standard_time')} ({t('seconds')})", "number"), Column(t("done"), "number"),
         Column(f"{t('median')} ({t('seconds')})", "number"), Column(f"{t('p90')} ({t('seconds')})", "number"),
         Column(t("share_within"), "percent"), Column(t("breaches"), "number")],
        [[names.step(s.step_id), names.step_role(s.step_id), t.duration(s.standard_seconds), s.standard_seconds,
          s.done, _rounded(s.median_seconds), _rounded(s.p90_seconds), s.share_within, s.breaches]
         for s in report.service_levels],
    ))
    sheets.append(Sheet(
        t("sheet_worst"),
        [Column(t("step"), width=50), Column(t("item_id"), "number", 10), Column(t("item_title"), width=60),
         Column(t("round"), "number", 9), Column(f"{t('started')} ({tz})", "datetime", 17),
         Column(f"{t('ended')} ({tz})", "datetime", 17), Column(t("duration"), width=16),
         Column(f"{t('duration')} ({t('seconds')})", "number"), Column(f"{t('standard_time')} ({t('seconds')})",
                                                                       "number")],
        [[names.step(w.step_id), w.item_id, w.title, w.round, local(w.started_at), local(w.ended_at),
          t.duration(w.duration_seconds), _rounded(w.duration_seconds), w.standard_seconds]
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
         Column(t("longest_gap"), width=22), Column(f"{t('longest_gap')} ({t('seconds')})", "number", 18),
         Column(f"{t('started')} ({tz})", "datetime", 17), Column(f"{t('ended')} ({tz})", "datetime", 17),
         Column(t("days_without"), "number"), Column(t("dates"), "wrap", 50)],
        [[names.channel(f.channel), f.publications, t.duration(f.longest_gap_seconds), _rounded(f.longest_gap_seconds),
          local(f.gap_start), local(f.gap_end), len(f.days_without), ", ".join(str(d.day) for d in f.days_without)]
         for f in report.freshness],
    ))
    sheets.append(Sheet(
        t("sheet_in_progress"),
        [Column(t("item_id"), "number", 10), Column(t("item_title"), width=60), Column(t("waiting_at"), width=50),
         Column(t("round"), "number", 9), Column(f"{t('waiting_since')} ({tz})", "datetime", 17),
         Column(t("waited"), width=18), Column(f"{t('waited')} ({t('seconds')})", "number", 16),
         Column(t("overdue"), width=12)],
        ([w.item_id, w.title, names.step(w.step_id), w.round, local(w.waiting_since), t.duration(w.waited_seconds),
          _rounded(w.waited_seconds), t("yes") if w.overdue else t("no")] for w in report.in_progress),
    ))
    sheets.append(Sheet(
        t("sheet_per_day"),
        [Column(t("day"), "date"), Column(t("total"), "number"),
         *[Column(names.channel(c), "number") for c in report.channels]],
        [[d.day, d.total, *[d.by_channel.get(c, 0) for c in report.channels]] for d in report.per_day],
    ))
    return write_workbook(sheets, title=f"{t('title')} – {period}")


def _as(kind: str, value):
    return Percent(value) if kind == "percent" and value is not None else value


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
