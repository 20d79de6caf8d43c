"""The files of a compiled monthly report (HTML, PDF, XLSX) and Warta's draft of its
narrative, written from the figures."""

from __future__ import annotations

from warta.report.compile import MonthlyReport, compile_report
from warta.report.period import ReportMonth
from warta.report.settings import ReportSettings, load_report_settings


# From this many items the workbook and the PDF's annex are made beside the PDF's body
# (render.Beside); below it all take well under a second and a child is not worth its start.
WORKBOOK_BESIDE_FROM = 5000


def build_files(report: MonthlyReport, config, settings: ReportSettings, lang: str,
                narrative: dict[str, str] | None = None, final=None) -> dict[str, bytes]:
    """The three files of a compiled report: {"html": …, "pdf": …, "xlsx": …}, with the
    Operator's narrative when one was saved (else Warta's draft) and its state (``final``,
    a warta.report.final.FinalMark: draft or final revision N, the narrative version)."""
    from warta.report.render import (
        Beside,
        build_annex,
        drawn_annex,
        render_html,
        render_pdf,
        render_xlsx,
        unpickle_annex,
    )

    # A large month's workbook and the PDF's annex are made in two child processes while
    # WeasyPrint lays out the PDF's body here.
    large = len(report.items) >= WORKBOOK_BESIDE_FROM
    workbook = Beside(render_xlsx, report, config, settings, lang) if large else None
    annex = Beside(drawn_annex, report, config, settings, lang) if large else None
    html = render_html(report, config, settings, lang, narrative=narrative, final=final)
    printed = render_html(report, config, settings, lang, for_print=True, narrative=narrative, final=final)
    pdf = render_pdf(printed, (lambda: unpickle_annex(annex.result())) if annex
                     else build_annex(report, config, settings, lang))
    return {
        "html": html.encode("utf-8"),
        "pdf": pdf,
        "xlsx": workbook.result() if workbook else render_xlsx(report, config, settings, lang),
    }


def narrative_draft(service, month: ReportMonth, lang: str, settings: ReportSettings | None = None) -> dict[str, str]:
    """Warta's draft of ``month``'s narrative, written from its figures."""
    from warta.report.render import Names, draft_narrative, stuck_items
    from warta.report.messages import Messages

    settings = settings or load_report_settings()
    with service.sessions() as session:
        report = compile_report(session, service.config, month, settings, parallel=True)
    t = Messages(lang, month.timezone)
    names = Names(service.config, lang)
    parts = draft_narrative(report, service.config, names, t, stuck_items(report, service.config, names, t))
    return {key.removeprefix("narrative_"): text for key, text in parts}
