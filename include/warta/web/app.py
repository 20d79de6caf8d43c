"""Warta's JSON REST API, served by the Warta plugin inside Airflow's api-server.

Every request is authenticated by Airflow's auth manager (the same users and tokens as
the Airflow UI); Warta's SOP roles come from config/users.yaml. OpenAPI at
``/warta/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

# ``api_user`` is Airflow's ``get_user`` (401 without credentials) plus the CSRF check
# for cookie-authenticated writes; every route depends on it.
from warta.airflow import api_models as answers
from warta.airflow.api_models import NewItem, RowId, StepInput
from warta.airflow.security import api_user as get_user
from warta.workflow import WorkflowError


# When the stack is saturated the editorial DB says so: its connection pool is exhausted
# (TimeoutError), or a lock or a connection timed out (OperationalError). Nothing was
# committed then, so the caller may simply try again.
RETRY_AFTER_SECONDS = 5


def overloaded_response(request: Request, exc: Exception) -> Response:
    import logging

    logging.getLogger(__name__).warning("503 for %s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    path = request.url.path
    if "/desk/" in path or path.endswith("/desk"):  # the desk's pages answer as a page
        from fastapi.responses import HTMLResponse

        return HTMLResponse("<h1>503</h1><p>Warta sedang sibuk; coba lagi sebentar lagi. "
                            "(Warta is busy; try again in a moment.)</p>", status_code=503, headers=headers)
    return JSONResponse(
        status_code=503, headers=headers,
        content={"error": "overloaded", "message": "Warta is busy; nothing was saved. Try again shortly.",
                 "field": None},
    )


def add_overload_handlers(app: FastAPI) -> None:
    from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

    async def overloaded(request: Request, exc: Exception) -> Response:
        return overloaded_response(request, exc)

    app.add_exception_handler(PoolTimeout, overloaded)
    app.add_exception_handler(OperationalError, overloaded)


def _service():
    from warta.service import default_service

    return default_service()


def create_app() -> FastAPI:
    app = FastAPI(
        title="Warta REST API",
        version="1",
        description="Editorial desk actions for the SOP 'Updating Website dan Media Sosial'.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        responses=answers.ERROR_RESPONSES,
    )
    from warta.airflow.request_guard import RequestGuard

    app.add_middleware(RequestGuard)

    @app.exception_handler(WorkflowError)
    async def workflow_error(_request: Request, exc: WorkflowError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"error": exc.code, "message": exc.message, "field": exc.field}
        )

    add_overload_handlers(app)

    @app.get("/api/v1/me", response_model=answers.Me)
    def me(user: BaseUser = Depends(get_user)) -> dict[str, Any]:
        from warta.config import get_config

        name = user.get_name()
        return {"username": name, "roles": list(get_config().roles_of(name))}

    @app.get("/api/v1/steps", response_model=list[answers.StepInfo])
    def steps(user: BaseUser = Depends(get_user)) -> list[dict[str, Any]]:
        from warta.config import get_config

        return [
            {"id": s.id, "number": s.number, "name_id": s.name_id, "name_en": s.name_en, "role": s.role,
             "kind": s.kind, "standard_seconds": int(s.standard_time.total_seconds())}
            for s in get_config().steps
        ]

    @app.post("/api/v1/items", status_code=201, response_model=answers.CreatedItem)
    def create_item(payload: NewItem, user: BaseUser = Depends(get_user)) -> dict[str, Any]:
        """Register an item; its run is queued in the same transaction (``run_state``
        ``queued`` until the outbox has started it). The same ``submission_key`` again
        answers 201 with the same item (``duplicate``: true)."""
        return _service().create_item(
            user.get_name(),
            title=payload.title,
            activity_date=payload.activity_date,
            place=payload.place,
            service=payload.service,
            notes=payload.notes,
            channels=payload.channels,
            submission_key=payload.submission_key,
        )

    @app.get("/api/v1/items/{item_id}", response_model=answers.ItemHistory)
    def get_item(item_id: RowId, user: BaseUser = Depends(get_user)) -> dict[str, Any]:
        return _service().history(item_id)

    @app.post("/api/v1/items/{item_id}/steps/{step_id}", response_model=answers.StepResult)
    def record_step(item_id: RowId, step_id: str, payload: StepInput, user: BaseUser = Depends(get_user)) -> dict[str, Any]:
        return _service().record_step(
            item_id, step_id, user.get_name(), notes=payload.notes, title=payload.title, body=payload.body,
            decision=payload.decision, reason=payload.reason,
        )

    @app.get("/api/v1/inbox", response_model=list[answers.WaitingItem])
    def inbox(role: str | None = None, user: BaseUser = Depends(get_user)) -> list[dict[str, Any]]:
        service = _service()
        if role:
            return service.waiting_for(role=role)
        return service.waiting_for(username=user.get_name())

    @app.get("/api/v1/alerts", response_model=list[answers.AlertOut])
    def alerts(mine: bool = True, limit: int = Query(50, ge=1, le=500), user: BaseUser = Depends(get_user)) -> list[dict[str, Any]]:
        """Recent alerts (reminders, breaches, escalations, freshness, publishing failures);
        by default those sent to the caller."""
        from warta.alerts import recent_alerts

        return recent_alerts(_service(), user.get_name() if mine else None, limit=min(max(limit, 1), 500))

    # Monthly reports (warta.report): kept in archive storage by the monthly report DAG.
    @app.get("/api/v1/reports", response_model=list[answers.ReportEntry])
    def reports(user: BaseUser = Depends(get_user)) -> list[dict[str, Any]]:
        """Months with a stored report, newest first, with a download path per language and format."""
        from warta.report.store import list_reports
        from warta.storage import Storage

        return [
            entry | {"files": {lang: {fmt: f"/warta/api/v1/reports/{entry['month']}/{fmt}?lang={lang}"
                                      for fmt in formats} for lang, formats in entry["languages"].items()}}
            for entry in list_reports(Storage.default())
        ]

    @app.get("/api/v1/reports/{month}/{fmt}", response_class=Response,
             responses={200: {"description": "the report file (PDF, XLSX or HTML) as a download",
                              "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in (
                                  "application/pdf", "text/html",
                                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}}})
    def report_file(month: str, fmt: str, lang: str = "id", user: BaseUser = Depends(get_user)) -> Response:
        """One month's report as a file: fmt is pdf, xlsx or html; lang id (default) or en."""
        from warta.report.store import read_report
        from warta.storage import Storage

        data, filename, media_type = read_report(Storage.default(), month, fmt, lang)
        # A download, never a page of this origin: no sniffing, no script even if opened.
        return Response(data, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "sandbox; default-src 'none'"})

    from warta.airflow.desk_api import add_desk_api_routes
    from warta.airflow.desk import add_desk_pages

    add_desk_api_routes(app)
    add_desk_pages(app)
    return app
