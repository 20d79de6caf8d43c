"""The monthly report "Laporan Bulanan Updating Website dan Media Sosial" (a record the SOP
requires): compiled from the editorial DB, rendered as HTML, PDF and XLSX, kept in
archive storage. Plain Python; the monthly DAG (warta.airflow.report_dag) only schedules it.

    compile.py   the figures, as SQL aggregates over the editorial DB
    render.py    HTML (Jinja2 templates/), PDF (WeasyPrint), XLSX (xlsx.py)
    store.py     storage keys, listing and reading stored reports
"""

from __future__ import annotations

from datetime import datetime, timezone

from warta.report.compile import MonthlyReport, compile_report
from warta.report.period import InvalidReportMonth, ReportMonth, month_to_report
from warta.report.settings import ReportSettings, load_report_settings
from warta.report.store import FORMATS, StoredReport, list_reports, read_report, report_key, store_report

__all__ = [
    "InvalidReportMonth", "MonthlyReport", "ReportMonth", "ReportSettings", "StoredReport", "build_files",
    "narrative_draft",
    "build_and_store", "compile_report", "list_reports", "load_report_settings", "month_to_report",
    "read_report", "report_key", "store_report",
]


# From this many items the workbook is written beside the PDF (render.Beside); below it
# both take well under a second and a child process is not worth its start.
WORKBOOK_BESIDE_FROM = 5000


def build_files(report: MonthlyReport, config, settings: ReportSettings, lang: str,
                narrative: dict[str, str] | None = None, final=None) -> dict[str, bytes]:
    """The three files of a compiled report: {"html": …, "pdf": …, "xlsx": …}, with the
    Operator's narrative when one was saved (else Warta's draft) and its state (``final``,
    a warta.report.final.FinalMark: draft or final revision N, the narrative version)."""
    from warta.report.render import Beside, build_annex, render_html, render_pdf, render_xlsx

    # A large month's workbook is written in a child process while the PDF is made here.
    workbook = Beside(render_xlsx, report, config, settings, lang) if len(report.items) >= WORKBOOK_BESIDE_FROM else None
    html = render_html(report, config, settings, lang, narrative=narrative, final=final)
    printed = render_html(report, config, settings, lang, for_print=True, narrative=narrative, final=final)
    pdf = render_pdf(printed, build_annex(report, config, settings, lang))
    return {
        "html": html.encode("utf-8"),
        "pdf": pdf,
        "xlsx": workbook.result() if workbook else render_xlsx(report, config, settings, lang),
    }


def build_and_store(
    service, month: ReportMonth, *, lang: str | None = None, settings: ReportSettings | None = None,
    generated_at: datetime | None = None,
) -> tuple[MonthlyReport, StoredReport]:
    """Compile ``month`` from the service's editorial DB, render it and store the files
    in the service's storage, replacing an earlier build of the same month and language.
    A month made final (warta.report.final) is compiled but its stored files are left as
    they are: ``stored.final_revision`` then says which revision stands."""
    settings = settings or load_report_settings()
    lang = lang or settings.language
    from warta.report import final as finals
    from warta.report import narrative as narratives
    from warta.report.store import report_key

    with service.sessions() as session:
        report = compile_report(
            session, service.config, month, settings, generated_at=generated_at or datetime.now(timezone.utc)
        )
        standing = finals.latest(session, month.key, lang)
        if standing is not None:  # final: never changed silently (a correction is a new revision)
            return report, StoredReport(month.key, lang, {fmt: report_key(month.key, fmt, lang) for fmt in FORMATS},
                                        final_revision=standing.revision)
        saved = narratives.latest(session, month.key, lang)
        mark = finals.FinalMark(None, saved.version if saved else None)
        parts = narratives.as_parts(saved)
    files = build_files(report, service.config, settings, lang, parts, final=mark)
    return report, store_report(service.storage, month.key, lang, files)


def narrative_draft(service, month: ReportMonth, lang: str, settings: ReportSettings | None = None) -> dict[str, str]:
    """Warta's draft of ``month``'s narrative, written from its figures."""
    from warta.report.render import Names, draft_narrative, stuck_items
    from warta.report.messages import Messages

    settings = settings or load_report_settings()
    with service.sessions() as session:
        report = compile_report(session, service.config, month, settings)
    t = Messages(lang, month.timezone)
    names = Names(service.config, lang)
    parts = draft_narrative(report, service.config, names, t, stuck_items(report, service.config, names, t))
    return {key.removeprefix("narrative_"): text for key, text in parts}
