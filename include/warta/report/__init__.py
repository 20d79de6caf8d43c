"""The monthly report "Laporan Bulanan Updating Website dan Media Sosial" (a record the SOP
requires): compiled from the editorial DB, rendered as HTML, PDF and XLSX, kept in
archive storage. Plain Python; the monthly DAG (warta.airflow.report_dag) only schedules it.

    compile.py   the figures, as SQL aggregates over the editorial DB
    render.py    HTML (Jinja2 templates/), PDF (WeasyPrint), XLSX (xlsx.py)
    store.py     storage keys, listing and reading stored reports
    documents.py the three files of a compiled report; Warta's draft narrative
    final.py     making a month's report final (numbered revisions)
"""

from __future__ import annotations

from datetime import datetime, timezone

from warta.report.compile import MonthlyReport, compile_report
from warta.report.period import InvalidReportMonth, ReportMonth, month_to_report
from warta.report.settings import ReportSettings, load_report_settings
from warta.report.documents import build_files, narrative_draft
from warta.report.store import FORMATS, StoredReport, list_reports, read_report, report_key, store_report

__all__ = [
    "InvalidReportMonth", "MonthlyReport", "ReportMonth", "ReportSettings", "StoredReport", "build_files",
    "narrative_draft",
    "build_and_store", "compile_report", "list_reports", "load_report_settings", "month_to_report",
    "read_report", "report_key", "store_report",
]


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

    from warta.report.render import preload_pdf_engine

    pdf_engine_loaded = preload_pdf_engine()
    with service.sessions() as session:
        report = compile_report(
            session, service.config, month, settings, generated_at=generated_at or datetime.now(timezone.utc),
            parallel=True,
        )
        standing = finals.latest(session, month.key, lang)
        if standing is not None:  # final: never changed silently (a correction is a new revision)
            return report, StoredReport(month.key, lang, {fmt: report_key(month.key, fmt, lang) for fmt in FORMATS},
                                        final_revision=standing.revision)
        saved = narratives.latest(session, month.key, lang)
        mark = finals.FinalMark(None, saved.version if saved else None)
        parts = narratives.as_parts(saved)
    pdf_engine_loaded()
    files = build_files(report, service.config, settings, lang, parts, final=mark)
    return report, store_report(service.storage, month.key, lang, files)
