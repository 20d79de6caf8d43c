"""Warta's web app: the JSON REST API (``/api/v1``, OpenAPI at ``/api/v1/openapi.json``)
and the desk, the pages people work in (``/desk``). Mounted by the Warta plugin at
``/warta`` inside Airflow's api-server; the caller's identity comes from the
``Authenticator`` it is built with (``warta.web.deps``).

Errors have one shape for the API, ``{"error", "message", "field"}``: the service's typed
errors (``warta.workflow.WorkflowError``) with their status, FastAPI's validation errors
as 422, a saturated editorial DB as 503 with ``Retry-After``. The desk's pages answer
the same errors as pages (``warta.web.routers.desk``).
"""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from warta.web import STATIC_DIR
from warta.web.csrf import unknown_user_message
from warta.web.deps import Authenticator, LoginRequired, UnknownUser, editorial_service
from warta.web.models import ERROR_RESPONSES
from warta.web.request_guard import RequestGuard
from warta.web.routers import alerts, desk, desk_flow, flow, items, keep, reports, schedule, steps, users
from warta.workflow import WorkflowError

# When the stack is saturated the editorial DB says so: its connection pool is exhausted
# (TimeoutError), or a lock or a connection timed out (OperationalError). Nothing was
# committed then, so the caller may simply try again.
RETRY_AFTER_SECONDS = 5


def _is_page(request: Request) -> bool:
    path = request.url.path
    return "/desk/" in path or path.endswith("/desk")


def overloaded_response(request: Request, exc: Exception) -> Response:
    logging.getLogger(__name__).warning("503 for %s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _is_page(request):
        return HTMLResponse("<h1>503</h1><p>Warta sedang sibuk; coba lagi sebentar lagi. "
                            "(Warta is busy; try again in a moment.)</p>", status_code=503, headers=headers)
    return JSONResponse(
        status_code=503, headers=headers,
        content={"error": "overloaded", "message": "Warta is busy; nothing was saved. Try again shortly.",
                 "field": None},
    )


def add_error_handlers(app: FastAPI) -> None:
    async def workflow_error(_request: Request, exc: WorkflowError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"error": exc.code, "message": exc.message, "field": exc.field}
        )

    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The same shape as the service's InvalidInput answers (error, message, field),
        # with FastAPI's own detail kept for tools that read it. The given values are not
        # echoed: they may not be JSON at all (NaN, Infinity, lone surrogates) and need
        # not be reflected to the caller.
        errors = [{"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", "")),
                   "type": str(error.get("type", ""))} for error in exc.errors()]
        first = errors[0] if errors else {}
        location = [part for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        return JSONResponse(status_code=422, content={
            "error": "invalid_input",
            "message": f"{'.'.join(location) or 'request'}: {first.get('msg', 'invalid')}",
            "field": location[0] if location else None,
            "detail": errors,
        })

    async def overloaded(request: Request, exc: Exception) -> Response:
        return overloaded_response(request, exc)

    async def login_required(request: Request, _exc: LoginRequired) -> RedirectResponse:
        if request.method == "POST":
            # A form sent after the login expired is kept, never lost (warta.keep).
            from warta.web.keep import keep_expired_post

            service = request.app.dependency_overrides.get(editorial_service, editorial_service)()
            token = await keep_expired_post(request, service)
            if token:
                return RedirectResponse(f"{_root_path(request)}/desk/kept/{token}", status_code=303)
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(request.app.state.auth.login_url(next_url), status_code=303)

    async def unknown_user(_request: Request, exc: UnknownUser) -> HTMLResponse:
        return desk.no_store(HTMLResponse(
            f"<!doctype html><title>403</title><p>{html.escape(unknown_user_message(exc.username))}</p>",
            status_code=403))

    app.add_exception_handler(WorkflowError, workflow_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(PoolTimeout, overloaded)
    app.add_exception_handler(OperationalError, overloaded)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(UnknownUser, unknown_user)


def _root_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def add_short_links(app: FastAPI) -> None:
    """Short links (alerts point at /warta/items/{id}) open the desk."""

    @app.get("/items/{item_id}", include_in_schema=False)
    def item_short_link(item_id: int, request: Request) -> RedirectResponse:
        return RedirectResponse(f"{_root_path(request)}/desk/items/{item_id}", 303)

    @app.get("/items", include_in_schema=False)
    def items_short_link(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{_root_path(request)}/desk/items", 303)

    @app.get("/desk", include_in_schema=False)
    def desk_root(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{_root_path(request)}/desk/", 303)


def create_app(*, auth: Authenticator) -> FastAPI:
    """The web app; ``auth`` says who is calling (Airflow's auth manager in production)."""
    app = FastAPI(
        title="Warta REST API",
        version="1",
        description="Editorial actions for the SOP 'Updating Website dan Media Sosial'.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.auth = auth
    app.add_middleware(RequestGuard)
    add_error_handlers(app)
    for router in (users.router, steps.router, items.router, alerts.router, reports.router, flow.router,
                   schedule.api):
        app.include_router(router, prefix="/api/v1")
    app.include_router(keep.api, prefix="/api/v1")
    app.include_router(desk.router)
    app.include_router(desk_flow.router)
    app.include_router(keep.desk)
    app.include_router(schedule.desk)
    app.mount("/desk/static", StaticFiles(directory=str(STATIC_DIR)), name="warta-desk-static")
    add_short_links(app)
    return app
