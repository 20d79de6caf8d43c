"""Scheduled publishing (jadwal tayang) on the web: the REST API, the desk's schedule form
on the item page, the calendar page and the iCal feed.

    PUT    /api/v1/items/{id}/schedule          set or move the time (409 once released)
    DELETE /api/v1/items/{id}/schedule          cancel (after approval: held, not published)
    POST   /api/v1/items/{id}/schedule/release  "Terbitkan sekarang"
    GET    /api/v1/items/{id}/schedule          the schedule
    GET    /api/v1/calendar                     scheduled and published entries per channel
    POST   /api/v1/calendar/token               a new iCal feed address for the caller
    GET    /api/v1/calendar/feed.ics?token=…    the feed (calendar apps cannot sign in: the token)
    GET    /desk/kalender                       month and week views (phone friendly, no script)
    POST   /desk/items/{id}/schedule            the item page's form (set, cancel, release)
    POST   /desk/kalender/token                 a new feed address, shown once
"""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warta.formatting import formatter
from warta.scheduling import HELD, RELEASED, SCHEDULED, Scheduling, ical_feed, schedule_settings
from warta.web import environment, models
from warta.web.deps import ApiUser, Service
from warta.web.models import RowId
from warta.web.csrf import CSRF_FIELD
from warta.web.routers.desk import DeskPage, Page, PageError, no_store, render_item
from warta.web.uploads import read_form
from warta.workflow import InvalidInput, NotFound, PermissionDenied, WorkflowError

api = APIRouter(tags=["schedule"])
desk = APIRouter(prefix="/desk", include_in_schema=False)

MAX_CALENDAR_DAYS = 92


# ------------------------------------------------------------------ REST API
@api.get("/items/{item_id}/schedule", response_model=models.Schedule)
def get_schedule(item_id: RowId, username: ApiUser, service: Service) -> dict[str, Any]:
    return Scheduling(service).get(item_id)


@api.put("/items/{item_id}/schedule", response_model=models.Schedule,
         responses={409: {"description": "already released for publishing, or the revision changed"}})
def put_schedule(item_id: RowId, payload: models.ScheduleInput, username: ApiUser, service: Service) -> dict[str, Any]:
    """Set or move the publication time (WIB unless the time has an offset): in the future,
    within the configured horizon, until it fires. The Subkoordinator or the Operator."""
    return Scheduling(service).schedule(item_id, username, payload.publish_at, expected_revision=payload.revision)


@api.delete("/items/{item_id}/schedule", response_model=models.Schedule)
def delete_schedule(item_id: RowId, username: ApiUser, service: Service,
                    revision: int | None = Query(None, ge=0)) -> dict[str, Any]:
    """Cancel. Before approval the item has no schedule again; after approval it is
    **held** at the schedule task (state ``held``): it does not publish until a new time is
    set (PUT) or it is released (POST …/release)."""
    return Scheduling(service).cancel(item_id, username, expected_revision=revision)


@api.post("/items/{item_id}/schedule/release", response_model=models.Schedule)
def release_schedule(item_id: RowId, username: ApiUser, service: Service,
                     revision: int | None = Query(None, ge=0)) -> dict[str, Any]:
    """"Terbitkan sekarang": a scheduled or held item publishes now."""
    return Scheduling(service).release(item_id, username, expected_revision=revision)


def _local_day(value: str | None, tz: ZoneInfo) -> date:
    if not value:
        return datetime.now(tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value[:20]!r} is not a date like 2026-12-01", field="from", reason="date") from None


def _entries(service, first: date, days: int) -> list[dict[str, Any]]:
    tz = ZoneInfo(service.config.timezone)
    start = datetime.combine(first, time(0), tz)
    return Scheduling(service).calendar(start, start + timedelta(days=days))


@api.get("/calendar", response_model=list[models.CalendarEntry])
def calendar_entries(username: ApiUser, service: Service,
                     start: str | None = Query(None, alias="from", description="first day (WIB), YYYY-MM-DD"),
                     days: int = Query(31, ge=1, le=MAX_CALENDAR_DAYS)) -> list[dict[str, Any]]:
    """Scheduled and published posts, one entry per item and channel, by time."""
    first = _local_day(start, ZoneInfo(service.config.timezone))
    return [e | {"at": e["at"].isoformat()} for e in _entries(service, first, days)]


def _feed_url(request: Request, token: str) -> str:
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}/api/v1/calendar/feed.ics?token={token}"


@api.post("/calendar/token", response_model=models.CalendarFeed, status_code=201)
def new_calendar_token(request: Request, username: ApiUser, service: Service) -> dict[str, Any]:
    """A new secret address of the caller's iCal feed; the previous one stops working."""
    token = Scheduling(service).new_feed_token(username)
    return {"url": _feed_url(request, token), "token": token}


@api.get("/calendar/feed.ics", response_class=Response, responses={
    200: {"content": {"text/calendar": {"schema": {"type": "string", "format": "binary"}}},
          "description": "RFC 5545 calendar"},
    401: {"description": "unknown or replaced token"}})
def calendar_feed(service: Service, token: str = Query("", max_length=200),
                  lang: str = Query("id", pattern="^(id|en)$")) -> Response:
    """The iCal feed: scheduled and published posts from 31 days back to 92 ahead."""
    scheduling = Scheduling(service)
    username = scheduling.feed_user(token)
    if username is None:
        return Response('{"error": "unauthorized", "message": "unknown or replaced calendar token", "field": "token"}',
                        status_code=401, media_type="application/json")
    tz = ZoneInfo(service.config.timezone)
    first = datetime.now(tz).date() - timedelta(days=31)
    entries = _entries(service, first, 31 + MAX_CALENDAR_DAYS)
    body = ical_feed(entries, config=service.config, lang=lang,
                     desk_url=service.config.service_levels.desk_base_url.rstrip("/") + "/warta/desk")
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})


# ------------------------------------------------------------------ desk helpers for templates
def _schedule_panel(page: Page, item: dict) -> dict[str, Any]:
    """What the item page's schedule partial shows and offers."""
    settings = schedule_settings()
    schedule = item.get("schedule") or {"state": "none", "publish_at": None, "revision": 0}
    current = None if item["current_step"] == "selesai" else page.config.step(item["current_step"])
    before = bool(current and current.is_human)
    waiting = bool(current and current.kind == "publish" and schedule["state"] in (SCHEDULED, HELD))
    may = bool(set(page.roles) & set(settings.roles))
    local = ""
    if schedule.get("publish_at"):
        moment = datetime.fromisoformat(schedule["publish_at"]).astimezone(ZoneInfo(page.config.timezone))
        local = moment.strftime("%Y-%m-%dT%H:%M")
    return {"schedule": schedule, "can_edit": may and (before or waiting), "waiting": waiting, "before": before,
            "local_value": local, "tz_label": page.t("schedule_tz"), "task_name": page.name(settings)}


def _upcoming(page: Page) -> list[dict[str, Any]]:
    """The inbox's scheduled and held items, for those who may change them."""
    if not _may_schedule(page):
        return []
    return Scheduling(page.service).upcoming()


def _may_schedule(page: Page) -> bool:
    return bool(set(page.roles) & set(schedule_settings().roles))


environment().globals.update(schedule_panel=_schedule_panel, upcoming_schedules=_upcoming, may_schedule=_may_schedule)


# ------------------------------------------------------------------ desk pages
async def _form(request: Request, page: Page):
    """The posted form after the CSRF check (403 page if it fails)."""
    form = await read_form(request)
    if not page.csrf_tokens.ok(request, page.username, form.get(CSRF_FIELD)):
        raise PageError(403, page.t("error_csrf"))
    return form


def _text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@desk.post("/items/{item_id}/schedule", response_class=HTMLResponse)
async def schedule_form(item_id: int, request: Request, page: DeskPage) -> Response:
    try:
        form = await _form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    action = _text(form, "action")
    revision = _text(form, "revision")
    expected = int(revision) if revision.isdigit() else None
    scheduling = Scheduling(page.service)
    try:
        if action == "set":
            await run_in_threadpool(scheduling.schedule, item_id, page.username, _text(form, "publish_at"),
                                    expected_revision=expected)
        elif action == "cancel":
            await run_in_threadpool(scheduling.cancel, item_id, page.username, expected_revision=expected)
        elif action == "release":
            await run_in_threadpool(scheduling.release, item_id, page.username, expected_revision=expected)
        else:
            return no_store(page.error(400, page.t("error_not_found")))
    except PermissionDenied:
        return no_store(page.error(403, page.t("error_forbidden")))
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    except InvalidInput as exc:
        return no_store(render_item(page, item_id, status=422, errors=page.field_errors(exc),
                                     problem=page.t("form_has_errors"), values={"publish_at": _text(form, "publish_at")}))
    except WorkflowError as exc:
        return no_store(render_item(page, item_id, status=exc.status, problem=exc.message))
    return RedirectResponse(f"{page.base}/items/{item_id}?jadwal={action}#jadwal", status_code=303)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _calendar_page(page: Page, request: Request, *, feed_url: str | None = None, status: int = 200) -> Response:
    params = request.query_params
    view = "week" if params.get("view") == "week" else "month"
    tz = ZoneInfo(page.config.timezone)
    today = datetime.now(tz).date()
    try:
        anchor = date.fromisoformat(params.get("date") or "") if params.get("date") else today
    except ValueError:
        anchor = today
    channel_filter = params.get("channel") or ""
    if channel_filter not in page.config.channels:
        channel_filter = ""
    if view == "week":
        first = _week_start(anchor)
        days = [first + timedelta(days=n) for n in range(7)]
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first_of_month = anchor.replace(day=1)
        grid_start = _week_start(first_of_month)
        last = first_of_month.replace(day=month_calendar.monthrange(anchor.year, anchor.month)[1])
        grid_end = last + timedelta(days=6 - last.weekday())
        days = [grid_start + timedelta(days=n) for n in range((grid_end - grid_start).days + 1)]
        previous = (first_of_month - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
    entries = _entries(page.service, days[0], len(days))
    by_day: dict[date, list[dict]] = {day: [] for day in days}
    for entry in entries:
        if channel_filter and entry["channel"] != channel_filter:
            continue
        local = entry["at"].astimezone(tz)
        shown = local.strftime("%H.%M" if page.lang == "id" else "%H:%M")  # as Babel writes times in each
        by_day.setdefault(local.date(), []).append(entry | {"local_time": shown})
    weeks = [days[n:n + 7] for n in range(0, len(days), 7)]
    scheduling = Scheduling(page.service)
    return no_store(page.respond(
        "kalender.html", status=status, view=view, anchor=anchor, today=today, weeks=weeks, by_day=by_day,
        month=anchor.month, previous=previous, following=following, channel_filter=channel_filter,
        feed_url=feed_url, has_feed=scheduling.has_feed_token(page.username),
        count=sum(len(v) for v in by_day.values()),
        month_label=formatter(page.lang, page.config.timezone).month_name(anchor.year, anchor.month),
    ))


@desk.get("/kalender", response_class=HTMLResponse)
def calendar_page(request: Request, page: DeskPage) -> Response:
    return _calendar_page(page, request)


@desk.post("/kalender/token", response_class=HTMLResponse)
async def calendar_token(request: Request, page: DeskPage) -> Response:
    try:
        await _form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    token = await run_in_threadpool(Scheduling(page.service).new_feed_token, page.username)
    return _calendar_page(page, request, feed_url=_feed_url(request, token))
