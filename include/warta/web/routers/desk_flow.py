"""The desk's pages for whose turn it is: the alerts page, claiming and releasing a step,
and "Coba lagi" on a failed publication. Plain forms (POST, CSRF token, 303 back): every
action works without JavaScript.

    /warta/desk/alerts                                   my alerts; mark read (one or all)
    /warta/desk/items/{id}/steps/{step}/claim|release    "Saya kerjakan" / "Lepaskan"
    /warta/desk/items/{id}/publications/{channel}/retry  "Coba lagi"
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warta import desk_flow
from warta.web.routers.desk import DeskPage, PageError, checked_form, form_text, no_store, render_item
from warta.web.routers.flow import TaskClearer, task_clearer
from warta.workflow import Conflict, NotFound, PermissionDenied, WorkflowError

router = APIRouter(prefix="/desk", include_in_schema=False)

PAGE_SIZE = 30


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, page: DeskPage) -> Response:
    params = request.query_params
    unread_only = params.get("unread") == "1"
    try:
        offset = max(0, min(int(params.get("offset") or 0), 10**9))
    except ValueError:
        offset = 0
    listing = desk_flow.user_alerts(page.service, page.username, unread_only=unread_only, limit=PAGE_SIZE,
                                    offset=offset)
    notice = page.t("alerts_marked") if params.get("marked") else None
    return no_store(page.respond("alerts.html", active="alerts", listing=listing, unread_only=unread_only,
                                 notice=notice, page_size=PAGE_SIZE))


@router.post("/alerts/read", response_class=HTMLResponse)
async def mark_alerts_read(request: Request, page: DeskPage) -> Response:
    try:
        form = await checked_form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    ids = None
    if form_text(form, "all") != "1":
        try:
            ids = [int(v) for v in form.getlist("id") if isinstance(v, str)]
        except ValueError:
            return no_store(page.error(404, page.t("error_not_found")))
        if not ids:
            return RedirectResponse(f"{page.base}/alerts", status_code=303)
    try:
        await run_in_threadpool(desk_flow.mark_read, page.service, page.username, ids)
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    # Opening an alert's item marks it read and goes there.
    target = form_text(form, "next")
    if ids and len(ids) == 1 and target.startswith(f"{page.base}/items/"):
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(f"{page.base}/alerts?marked=1", status_code=303)


async def _claim_action(request: Request, page, item_id: int, step_id: str, action) -> Response:
    try:
        await checked_form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    try:
        await run_in_threadpool(action, page.service, item_id, step_id, page.username)
    except PermissionDenied:
        return no_store(page.error(403, page.t("error_forbidden")))
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    except Conflict:
        holder = desk_flow.current_claim(page.service, item_id)
        message = (page.t("claim_taken", name=holder["full_name"]) if holder else page.t("claim_not_waiting"))
        return no_store(render_item(page, item_id, status=409, problem=message))
    flag = "claimed" if action is desk_flow.claim_step else "released"
    return RedirectResponse(f"{page.base}/items/{item_id}?{flag}=1", status_code=303)


@router.post("/items/{item_id}/steps/{step_id}/claim", response_class=HTMLResponse)
async def claim(item_id: int, step_id: str, request: Request, page: DeskPage) -> Response:
    return await _claim_action(request, page, item_id, step_id, desk_flow.claim_step)


@router.post("/items/{item_id}/steps/{step_id}/release", response_class=HTMLResponse)
async def release(item_id: int, step_id: str, request: Request, page: DeskPage) -> Response:
    return await _claim_action(request, page, item_id, step_id, desk_flow.release_step)


@router.post("/items/{item_id}/publications/{channel}/retry", response_class=HTMLResponse)
async def retry(item_id: int, channel: str, request: Request, page: DeskPage,
                clear: TaskClearer = Depends(task_clearer)) -> Response:
    try:
        await checked_form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    try:
        await run_in_threadpool(desk_flow.retry_publication, page.service, item_id, channel, page.username, clear)
    except PermissionDenied:
        return no_store(page.error(403, page.t("error_forbidden")))
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    except Conflict:
        return no_store(render_item(page, item_id, status=409, problem=page.t("retry_running")))
    except WorkflowError as exc:
        return no_store(render_item(page, item_id, status=exc.status, problem=page.t("retry_airflow_down")))
    return RedirectResponse(f"{page.base}/items/{item_id}?retrying={channel}", status_code=303)
