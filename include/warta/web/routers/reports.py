"""``/api/v1/reports``: the monthly reports the report DAG keeps in archive storage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from warta.web import models
from warta.web.deps import ApiUser, Service
from warta.workflow import InvalidInput

router = APIRouter(tags=["reports"])

REPORT_MEDIA_TYPES = ("application/pdf", "text/html",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _storage():
    from warta.storage import Storage

    return Storage.default()


@router.get("/reports", response_model=list[models.ReportEntry])
def reports(username: ApiUser) -> list[dict[str, Any]]:
    """Months with a stored report, newest first, with a download path per language and format."""
    from warta.report.store import list_reports

    return [
        entry | {"files": {lang: {fmt: f"/warta/api/v1/reports/{entry['month']}/{fmt}?lang={lang}"
                                  for fmt in formats} for lang, formats in entry["languages"].items()}}
        for entry in list_reports(_storage())
    ]


@router.post("/reports/{month}/final", status_code=201, response_model=models.FinalReport)
def finalise_report(month: str, payload: models.ReportFinalise, username: ApiUser, service: Service) -> dict[str, Any]:
    """The Operator makes the month's report final (revision 1); a correction of a final
    report needs ``reason`` and becomes the next revision. Earlier revisions are kept."""
    from warta.report import InvalidReportMonth, ReportMonth
    from warta.report.final import as_answer, finalise

    try:
        target = ReportMonth.parse(month, service.config.timezone)
    except InvalidReportMonth as exc:
        raise InvalidInput(str(exc), field="month") from None
    final, _stored = finalise(service, target, username, lang=payload.lang, reason=payload.reason)
    return as_answer(final)


@router.get("/reports/{month}/{fmt}", response_class=Response,
            responses={200: {"description": "the report file (PDF, XLSX or HTML) as a download",
                             "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                         for kind in REPORT_MEDIA_TYPES}}})
def report_file(month: str, fmt: str, username: ApiUser, lang: str = "id") -> Response:
    """One month's report as a file: fmt is pdf, xlsx or html; lang id (default) or en."""
    from warta.report.store import read_report

    data, filename, media_type = read_report(_storage(), month, fmt, lang)
    # A download, never a page of this origin: no sniffing, no script even if opened.
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "sandbox; default-src 'none'"})
