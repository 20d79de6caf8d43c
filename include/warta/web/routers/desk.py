"""The editorial desk in the browser: server-rendered pages inside Airflow's api-server.

    /warta/desk/                     inbox: what waits for my roles, oldest first
    /warta/desk/items                all items, with filters
    /warta/desk/new                  intake form (Pelaksana Kegiatan)
    /warta/desk/items/{id}           the item: preview, corrections, history, the form of its step
    /warta/desk/items/{id}/drafts/{form}/discard   drop the autosaved draft (warta.keep)
    /warta/desk/items/{id}/files/{n} a stored documentation file
    /warta/desk/runs/{run_id}        an Airflow run (item-<id>-round-<n>) → its item
    /warta/desk/month                the month so far (the head of the unit lands here)
    /warta/desk/logout               sign out (POST): Airflow's login cookie is dropped

Signed-in users only (Airflow's login; anonymous visitors are sent to it), every form
post carries a CSRF token, and every action goes through the same service layer as the
REST API and the CLI.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warta import keep
from warta.models import parse_run_id, run_id_for
from warta.service import EditorialService
from warta.web import file_size, render
from warta.web.csrf import CSRF_COOKIE, CSRF_FIELD, CsrfTokens
from warta.web.deps import Csrf, PageUser, Service
from warta.web.i18n import DEFAULT_LANGUAGE, MESSAGES, normalize_language, translate
from warta.web.keep import combined, read_files_each, refused, with_pending
from warta.web.models import RowId
from warta.web.uploads import file_response, read_form
from warta.workflow import DONE, Conflict, InvalidInput, NotFound, PermissionDenied, WorkflowError

LANG_COOKIE = "warta_lang"


class PageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _language(request: Request) -> str:
    return (normalize_language(request.query_params.get("lang"))
            or normalize_language(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANGUAGE)


class Page:
    """What every page needs: the user, their roles, language, CSRF token and links."""

    def __init__(self, request: Request, username: str, service: EditorialService, csrf: CsrfTokens):
        self.request = request
        self.username = username
        self.service = service
        self.config = self.service.config
        self.lang = _language(request)
        self.roles = self.config.roles_of(self.username)
        self.csrf_tokens = csrf
        existing = request.cookies.get(CSRF_COOKIE)
        self.csrf = existing if csrf.belongs_to(existing, self.username) else csrf.new(self.username)
        self.root = request.scope.get("root_path", "").rstrip("/")
        self.base = f"{self.root}/desk"

    def t(self, key: str, **values) -> str:
        return translate(self.lang, key, **values)

    def name(self, thing) -> str:
        """A config entry (step, role, channel) in the page's language."""
        return thing.name_en if self.lang == "en" else thing.name_id

    def service_name(self, service_id: str) -> str:
        spec = self.config.services.get(service_id) or {}
        return spec.get("name_en" if self.lang == "en" else "name_id") or service_id

    def step_name(self, step_id: str) -> str:
        if step_id == DONE:
            return self.t("step_done")
        step = self.config.step(step_id)
        return f"{step.number}. {self.name(step)}"

    def role_name(self, role_id: str | None) -> str:
        return self.name(self.config.roles[role_id]) if role_id in self.config.roles else (role_id or "–")

    def lang_url(self, lang: str) -> str:
        params = dict(self.request.query_params) | {"lang": lang}
        return f"{self.request.url.path}?{urlencode(params)}"

    @property
    def can_create(self) -> bool:
        return self.config.steps[0].role in self.roles

    def person(self, username: str | None) -> str:
        """A person as people know them: the full name from users.yaml."""
        from warta.service import PIPELINE_ACTOR

        return self.t("pipeline_actor") if username == PIPELINE_ACTOR else self.config.full_name(username)

    @property
    def full_name(self) -> str:
        return self.person(self.username)

    @property
    def is_admin(self) -> bool:
        return self.username in self.config.logins.admins

    @property
    def shows_airflow(self) -> bool:
        """Airflow's own UI is the Operator's and the admin's tool, not the reporters'."""
        return self.is_admin or self.config.step_of_kind("publish").role in self.roles

    @property
    def is_head(self) -> bool:
        return self.username in self.config.logins.heads_of_unit

    @property
    def sees_month(self) -> bool:
        return self.is_head or self.is_admin or self.config.decision_step.role in self.roles

    @property
    def embedded(self) -> bool:
        """Shown inside Airflow's own frame (its "Warta Desk" page): Airflow's header is
        already there, so the desk drops its own."""
        return (self.request.headers.get("sec-fetch-dest") == "iframe"
                or self.request.query_params.get("embedded") == "1")

    def channel_order(self, channel_ids) -> list[str]:
        """Channels in channels.yaml's order, wherever they are listed."""
        order = {c: n for n, c in enumerate(self.config.channels)}
        return sorted(channel_ids, key=lambda c: (order.get(c, len(order)), c))

    def channel_name(self, channel_id: str) -> str:
        channel = self.config.channels.get(channel_id)
        return self.name(channel) if channel else channel_id

    def month_name(self, month_key: str) -> str:
        """2026-10 → Oktober 2026 (October 2026)."""
        from warta.formatting import formatter

        year, _, month = month_key.partition("-")
        return formatter(self.lang, self.config.timezone).month_name(int(year), int(month))

    def respond(self, template: str, status: int = 200, **context) -> HTMLResponse:
        html = render(template, self.lang, page=self, config=self.config, **context)
        response = HTMLResponse(html, status_code=status)
        secure = self.request.url.scheme == "https"
        response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="strict", secure=secure,
                            path=self.root or "/")
        if normalize_language(self.request.query_params.get("lang")):
            response.set_cookie(LANG_COOKIE, self.lang, max_age=365 * 86400, samesite="lax", secure=secure,
                                path=self.root or "/")
        return response

    def error(self, status: int, message: str) -> HTMLResponse:
        return self.respond("error.html", status=status, message=message)

    def field_errors(self, problem: InvalidInput) -> dict[str, str]:
        """The service's problems as field → message in the page's language."""
        errors: dict[str, list[str]] = {}
        for each in problem.problems:
            params = dict(each.params)
            if "max_bytes" in params:
                params["size"] = file_size(params.pop("max_bytes"), self.lang)
            key = f"err_{each.reason}"
            message = self.t(key, **params) if key in MESSAGES else each.message
            errors.setdefault(each.field or "form", []).append(message)
        return {field: " ".join(messages) for field, messages in errors.items()}


def desk_page(request: Request, username: PageUser, service: Service, csrf: Csrf) -> Page:
    return Page(request, username, service, csrf)


DeskPage = Annotated[Page, Depends(desk_page)]


DESK_CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'self'")


def no_store(response: Response) -> Response:
    # Pages show people's work in progress: never cached, framed only by Airflow's UI.
    response.headers["Cache-Control"] = "no-store"
    # Scripts only from the desk's own files (no inline script or handler): injected
    # markup stays inert, and every page works without them.
    response.headers["Content-Security-Policy"] = DESK_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def _form(request: Request, page: Page) -> FormData:
    """The posted form, after the CSRF check (403 page if it fails). Oversized bodies were
    refused unread by the request guard."""
    form = await read_form(request)
    if not page.csrf_tokens.ok(request, page.username, form.get(CSRF_FIELD)):
        raise PageError(403, page.t("error_csrf"))
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# ------------------------------------------------------------------ item page
def _item_context(page: Page, item_id: int) -> dict[str, Any]:
    from warta.manuscript_diff import changed, word_diff_html

    service = page.service
    history = service.history(item_id)
    preview = service.preview(item_id)
    manuscripts = history["manuscripts"]
    # Each version against the one before: the reviewer's corrections, and each revision.
    diffs = []
    for before, after in zip(manuscripts, manuscripts[1:]):
        diffs.append({
            "old": before, "new": after,
            "changed": changed(before["body"], after["body"]) or before["title"] != after["title"],
            "title_html": word_diff_html(before["title"], after["title"]),
            "body_html": word_diff_html(before["body"], after["body"]),
        })
    current = None if history["current_step"] == DONE else page.config.step(history["current_step"])
    # The separation-of-duties rules the service applies (sop.yaml separation_of_duties),
    # shown before the person fills the form in.
    duties = page.config.duties
    round_writers = {m["author"] for m in manuscripts if m["round"] == history["round"] and m["kind"] == "naskah"}
    own_work = bool(current) and (
        (current.kind == "decision" and duties.decider_not_author
         and page.username in {m["author"] for m in manuscripts})
        or (current.kind == "correction" and duties.checker_not_author and page.username in round_writers))
    latest = manuscripts[-1] if manuscripts else None
    rejection = next((r for r in reversed(history["records"]) if r["decision"] == "rejected"), None)
    rounds = []
    for number in range(1, history["round"] + 1):
        rounds.append({
            "number": number,
            "run_id": run_id_for(item_id, number),
            "records": [r for r in history["records"] if r["round"] == number],
            "timings": {t["step"]: t for t in history["timings"] if t["round"] == number},
            "manuscripts": [m for m in manuscripts if m["round"] == number],
        })
    rank = {c: n for n, c in enumerate(page.channel_order({p["channel"] for p in history["publications"]}))}
    publications = sorted(history["publications"], key=lambda p: rank[p["channel"]])
    return {
        "item": history,
        "channels": page.channel_order(history["channels"]),
        "publications": publications,
        "failed": [p for p in publications if p["status"] == "failed"],
        # A later scheduling feature fills this in: the confirmation names it.
        "scheduled_at": history.get("scheduled_at"),
        "preview": preview,
        "diffs": diffs,
        "current": current,
        "my_turn": bool(current and current.is_human and current.role in page.roles),
        "own_manuscript": own_work,
        "latest": latest,
        "rejection": rejection if history["round"] > 1 else None,
        "rounds": rounds,
        "photos": [a for a in history["assets"] if a["kind"] == "photo"],
        "airflow_run_url": lambda run_id: f"/dags/{history['dag_id']}/runs/{run_id}",
    }


def _render_item(page: Page, item_id: int, *, status: int = 200, errors: dict | None = None,
                 values: dict | None = None, notice: str | None = None, problem: str | None = None,
                 confirm: bool = False, pending: list | None = None) -> HTMLResponse:
    try:
        context = _item_context(page, item_id)
    except NotFound:
        return page.error(404, page.t("error_not_found"))
    latest = context["latest"]
    defaults = {
        "title": latest["title"] if latest else context["item"]["title"],
        "body": latest["body"] if latest else "",
        "notes": "", "reason": "", "decision": "", "reason_codes": [], "publish_at": "",
    }
    context |= _kept_context(page, item_id, context, values, pending)
    values = defaults | context["restored"] | (values or {})
    return page.respond("item.html", status=status, errors=errors or {}, values=values,
                        notice=notice, problem=problem, confirm=confirm and context["my_turn"], **context)


def _confirmation(page: Page, item_id: int, step_id: str) -> HTMLResponse | None:
    """The page asking to confirm an approval, naming the channels; None when the service
    would refuse the approval anyway (not waiting there, own work): it answers then."""
    try:
        context = _item_context(page, item_id)
    except NotFound:
        return None
    current = context["current"]
    if current is None or current.id != step_id or not context["my_turn"] or context["own_manuscript"]:
        return None
    return _render_item(page, item_id, confirm=True)


def _kept_context(page: Page, item_id: int, context: dict, values: dict | None, pending: list | None) -> dict:
    """What the step's form keeps for this user (warta.keep): a form kept across an expired
    login (``?kept=``) or else the autosaved draft fills it in; the files still attached."""
    from warta import keep

    current = context["current"]
    if not (current and context["my_turn"]):
        return {"restored": {}, "draft": None, "kept": None, "pending": [], "keep_target": None,
                "autosave_seconds": keep.keep_settings().autosave_seconds}
    target = keep.step_target(item_id, current.id)
    kept = keep.kept_form(page.service, page.request.query_params.get("kept"), page.username, target)
    draft = keep.get_draft(page.service, page.username, item_id, current.id)
    item = context["item"]
    started = next((t["started_at"] for t in item["timings"]
                    if t["step"] == current.id and t["round"] == item["round"]), None)
    if draft is not None and started and draft["updated_at"] < datetime.fromisoformat(started):
        # Left from an earlier round of the same form (or saved just after it was sent).
        keep.delete_draft(page.service, page.username, item_id, current.id)
        draft = None
    restored: dict = {}
    if values is None:  # a page opened afresh, not a refused submit
        if kept is not None:
            restored = {k: v for k, v in kept.fields.items() if k in keep.STEP_FIELDS}
        elif draft is not None:
            restored = dict(draft["fields"])
    return {"restored": restored, "draft": draft, "kept": kept, "keep_target": target,
            "pending": pending if pending is not None else keep.pending_uploads(page.service, page.username, target),
            "autosave_seconds": keep.keep_settings().autosave_seconds}


# The item page re-rendered with a form's errors, for other routers' forms on it (schedule).
render_item = _render_item


# ------------------------------------------------------------------ routes
router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, page: DeskPage) -> Response:
    # The head of the unit waits at no step: their desk opens on the month so far.
    if page.is_head and not page.roles and not request.query_params.get("inbox"):
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{page.base}/month{query}", status_code=303)
    from warta.desk_flow import split_inbox

    waiting = page.service.waiting_for(username=page.username)
    groups = split_inbox(page.service, waiting, page.username)
    mine = page.service.list_items(created_by=page.username, limit=10)["items"]
    return no_store(page.respond("inbox.html", waiting=waiting, groups=groups, mine=mine))


@router.get("/items", response_class=HTMLResponse)
def items(request: Request, page: DeskPage) -> Response:
    params = request.query_params
    filters = {name: params.get(name) or None for name in ("status", "step", "service", "q")}
    try:
        offset = max(0, int(params.get("offset") or 0))
    except ValueError:
        offset = 0
    try:
        listing = page.service.list_items(status=filters["status"], step=filters["step"],
                                          service=filters["service"], search=filters["q"], limit=25,
                                          offset=offset)
    except InvalidInput:
        filters = dict.fromkeys(filters)
        listing = page.service.list_items(limit=25, offset=0)
    return no_store(page.respond("items.html", listing=listing, filters=filters,
                                  statuses=page.service.ITEM_STATUSES))


@router.get("/month", response_class=HTMLResponse)
def month_so_far(request: Request, page: DeskPage) -> Response:
    """The month so far for the head of the unit: the monthly report's own figures
    (warta.report.compile, the SOP's service clock), compiled up to now."""
    from warta.report import ReportMonth, compile_report, list_reports
    from warta.service_clock import past_due
    from warta.storage import Storage

    now = page.service.clock()
    month = ReportMonth.containing(now, page.config.timezone)
    with page.service.sessions() as session:
        report = compile_report(session, page.config, month, generated_at=now)
    # compile_report measures waiting up to the month's end; so far means up to now.
    waiting = sorted(
        ({"item_id": w.item_id, "title": w.title, "step_id": w.step_id, "round": w.round,
          "since": w.waiting_since, "waited": (now - w.waiting_since).total_seconds(),
          "overdue": bool(w.due_at and past_due(w.due_at, now))} for w in report.in_progress),
        key=lambda w: -w["waited"])[:10]
    per_channel = {row.key: row.current for row in report.per_channel}
    return no_store(page.respond(
        "month.html", report=report, month_title=page.month_name(month.key), now=now, waiting=waiting,
        per_channel=[(c, per_channel.get(c, 0)) for c in page.channel_order(per_channel)],
        levels=[level for level in report.service_levels if level.step_id in {s.id for s in page.config.steps}],
        reports=list_reports(Storage.default())[:12]))


@router.post("/logout")
async def logout(request: Request, page: DeskPage) -> Response:
    """Sign out (shared office PCs): Airflow's own logout revokes the token and drops its
    cookie; the desk drops its CSRF cookie."""
    try:
        await _form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    auth = request.app.state.auth
    target = auth.logout_url() if hasattr(auth, "logout_url") else auth.login_url(f"{page.base}/")
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(CSRF_COOKIE, path=page.root or "/")
    return no_store(response)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, page: DeskPage) -> Response:
    """The monthly reports (SOP record "Laporan bulanan"), to read or download."""
    from warta.report.store import list_reports
    from warta.storage import Storage

    return no_store(page.respond("reports.html", reports=list_reports(Storage.default())))

# The report's narrative: the Operator (SOP step 7) edits Warta's draft before the PDF
# is final; every save is kept as a version and the month's files are rebuilt.
def _narrative_page(page: Page, month_key: str, lang: str, *, status: int = 200, values=None,
                    problem: str | None = None) -> Response:
    from warta.report import ReportMonth, narrative_draft
    from warta.report import narrative as narratives
    from warta.report.final import revisions as final_revisions

    month = ReportMonth.parse(month_key, page.config.timezone)
    with page.service.sessions() as session:
        saved = narratives.versions(session, month.key, lang)
        history = [{"version": n.version, "edited_by": page.person(n.edited_by), "created_at": _aware(n.created_at)}
                   for n in saved]
        current = narratives.as_parts(saved[0]) if saved else None
        finals = [{"revision": f.revision, "version": f.narrative_version, "by": page.person(f.finalised_by),
                   "at": _aware(f.finalised_at), "reason": f.reason} for f in final_revisions(session, month.key, lang)]
    values = values or current or narrative_draft(page.service, month, lang)
    return no_store(page.respond("narrative.html", status=status, month=month.key, report_lang=lang, values=values,
                                  history=history, drafted=not saved, problem=problem, finals=finals,
                                  can_edit="operator" in page.roles))

def _aware(moment):
    """A stored moment as aware UTC (SQLite hands back naive UTC)."""
    from datetime import timezone

    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _narrative_target(month_key: str, lang: str, page: Page):
    from warta.report import InvalidReportMonth, ReportMonth

    if lang not in ("id", "en"):
        raise PageError(404, page.t("error_not_found"))
    try:
        return ReportMonth.parse(month_key, page.config.timezone)
    except InvalidReportMonth:
        raise PageError(404, page.t("error_not_found")) from None


async def _operator_report_form(request: Request, page: Page, month_key: str):
    """(form, lang, month) of a report form only the Operator (SOP step 7) may post."""
    form = await _form(request, page)
    lang = _text(form, "lang") or "id"
    month = _narrative_target(month_key, lang, page)
    if "operator" not in page.roles:
        raise PageError(403, page.t("error_forbidden"))
    return form, lang, month


@router.get("/reports/{month_key}/narrative", response_class=HTMLResponse)
def narrative_form(month_key: str, request: Request, page: DeskPage) -> Response:
    lang = request.query_params.get("lang") or "id"
    try:
        month = _narrative_target(month_key, lang, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    return _narrative_page(page, month.key, lang)


@router.post("/reports/{month_key}/narrative", response_class=HTMLResponse)
async def save_narrative(month_key: str, request: Request, page: DeskPage) -> Response:
    from warta.report import build_and_store
    from warta.report import narrative as narratives

    try:
        form, lang, month = await _operator_report_form(request, page, month_key)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    values = {part: _text(form, part) for part in narratives.PARTS}

    def save_and_rebuild() -> None:
        with page.service.sessions() as session:
            narratives.save(session, month.key, lang, values, page.username, at=page.service.clock())
        build_and_store(page.service, month, lang=lang)

    try:
        await run_in_threadpool(save_and_rebuild)
    except InvalidInput as exc:
        return _narrative_page(page, month.key, lang, status=422, values=values, problem=exc.message)
    return RedirectResponse(f"{page.base}/reports?saved={month.key}", status_code=303)


@router.post("/reports/{month_key}/final", response_class=HTMLResponse)
async def finalise_report(month_key: str, request: Request, page: DeskPage) -> Response:
    """The Operator makes the month's report final (or a corrected revision, with a reason)."""
    from warta.report.final import finalise

    try:
        form, lang, month = await _operator_report_form(request, page, month_key)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    try:
        await run_in_threadpool(finalise, page.service, month, page.username, lang=lang,
                                reason=_text(form, "reason"))
    except InvalidInput as exc:
        return _narrative_page(page, month.key, lang, status=422, problem=exc.message)
    except Conflict as exc:
        return _narrative_page(page, month.key, lang, status=409, problem=exc.message)
    return RedirectResponse(f"{page.base}/reports/{month.key}/narrative?lang={lang}&final=1", status_code=303)

def _intake_page(page: Page, *, status: int = 200, values: dict | None = None, errors: dict | None = None,
                 problem: str | None = None, pending: list | None = None) -> Response:
    limits = page.config.limits
    kept = None
    if values is None:
        values = {
            "title": "", "activity_date": "", "place": "", "service": "", "notes": "",
            "channels": page.config.default_channels, "submission_key": str(uuid.uuid4()), "coverage_complete": "",
        }
        # Back from a login that had expired: the form as it was sent (warta.keep).
        kept = keep.kept_form(page.service, page.request.query_params.get("kept"), page.username, keep.NEW_TARGET)
        if kept is not None:
            values |= {k: v for k, v in kept.fields.items() if k in keep.INTAKE_FIELDS or k == "channels"}
    if pending is None:
        pending = keep.pending_uploads(page.service, page.username, keep.NEW_TARGET)
    return no_store(page.respond(
        "new.html", status=status, values=values, errors=errors or {}, problem=problem,
        pending=pending, kept=kept,
        upload_types=", ".join(sorted({e for exts in limits.upload_types.values() for e in exts})),
        upload_accept=",".join(sorted({f".{e}" for exts in limits.upload_types.values() for e in exts})),
        upload_max=file_size(limits.upload_max_bytes, page.lang),
    ))


@router.get("/new", response_class=HTMLResponse)
def new_item_form(request: Request, page: DeskPage) -> Response:
    if not page.can_create:
        return no_store(page.error(403, page.t("error_forbidden")))
    return _intake_page(page)


@router.post("/new", response_class=HTMLResponse)
async def new_item(request: Request, page: DeskPage) -> Response:
    try:
        form = await _form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    if not page.can_create:
        return no_store(page.error(403, page.t("error_forbidden")))
    values = {name: _text(form, name) for name in
              ("title", "activity_date", "place", "service", "notes", "submission_key", "coverage_complete")}
    values["channels"] = [c for c in form.getlist("channels") if isinstance(c, str)]
    if not values["submission_key"]:
        values["submission_key"] = str(uuid.uuid4())
    target = keep.NEW_TARGET
    fresh, unreadable = await read_files_each(form, page.config.limits)
    try:
        if unreadable:
            raise combined(unreadable)
        uploads = await run_in_threadpool(with_pending, page.service, page.username, target, form, fresh)
        created = await run_in_threadpool(
            page.service.create_item, page.username, title=values["title"],
            activity_date=values["activity_date"], place=values["place"], service=values["service"],
            notes=values["notes"], channels=values["channels"], submission_key=values["submission_key"],
            uploads=uploads, intake_form=True, coverage_complete=bool(values["coverage_complete"]),
        )
    except PermissionDenied:
        return no_store(page.error(403, page.t("error_forbidden")))
    except InvalidInput as exc:
        # The files are kept (pending uploads), not lost: nobody picks them again.
        pending = await run_in_threadpool(refused, page.service, page.username, target, form, fresh)
        return _intake_page(page, status=422, values=values, errors=page.field_errors(exc),
                            problem=page.t("form_has_errors"), pending=pending)
    except WorkflowError as exc:
        pending = await run_in_threadpool(refused, page.service, page.username, target, form, fresh)
        return _intake_page(page, status=exc.status, values=values, problem=exc.message, pending=pending)
    await run_in_threadpool(keep.form_sent, page.service, page.username, target)
    flag = "duplicate" if created.get("duplicate") else "created"
    covered = "&covered=1" if values["coverage_complete"] and not created.get("duplicate") else ""
    return RedirectResponse(f"{page.base}/items/{created['id']}?{flag}=1{covered}", status_code=303)


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(item_id: int, request: Request, page: DeskPage) -> Response:
    params = request.query_params
    notice = None
    if params.get("created") and params.get("covered"):
        notice = page.t("item_created_covered", step=page.step_name(page.config.steps[0].id))
    elif params.get("created"):
        notice = page.t("item_created")
    elif params.get("discarded"):
        notice = page.t("draft_discarded")
    elif params.get("duplicate"):
        notice = page.t("item_duplicate")
    elif params.get("jadwal") in ("set", "cancel", "release"):
        notice = page.t(f"schedule_done_{params['jadwal']}")
    elif params.get("done") in {s.id for s in page.config.steps}:
        notice = page.t("step_recorded", step=page.step_name(params["done"]))
    return no_store(_render_item(page, item_id, notice=notice))


@router.post("/items/{item_id}/steps/{step_id}", response_class=HTMLResponse)
async def record_step(item_id: int, step_id: str, request: Request, page: DeskPage) -> Response:
    try:
        form = await _form(request, page)
        step = page.config.step(step_id)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    except KeyError:
        return no_store(page.error(404, page.t("error_not_found")))
    if step.role not in page.roles:
        return no_store(page.error(403, page.t("error_forbidden")))
    values = {name: _text(form, name) for name in ("title", "body", "notes", "decision", "reason", "publish_at")}
    values["reason_codes"] = [c for c in form.getlist("reason_codes") if isinstance(c, str)]
    # Approving publishes to public channels at once: the desk asks once more, naming them
    # (the REST API and the CLI are explicit calls and need no second step).
    if step.kind == "decision" and values["decision"] == "approve" and _text(form, "confirm") != "yes":
        confirmation = _confirmation(page, item_id, step.id)
        if confirmation is not None:
            return no_store(confirmation)
    target = keep.step_target(item_id, step.id)
    fresh, unreadable = await read_files_each(form, page.config.limits)
    try:
        if unreadable:
            raise combined(unreadable)
        uploads = await run_in_threadpool(with_pending, page.service, page.username, target, form, fresh)
        await run_in_threadpool(
            page.service.record_step, item_id, step.id, page.username, notes=values["notes"],
            title=values["title"] if step.kind in ("manuscript", "correction") else None,
            body=values["body"] if step.kind in ("manuscript", "correction") else None,
            decision=values["decision"] or None, reason=values["reason"], reason_codes=values["reason_codes"],
            uploads=uploads, publish_at=values["publish_at"] or None,
        )
    except PermissionDenied as exc:
        return no_store(page.error(403, exc.message))
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    except InvalidInput as exc:
        pending = await run_in_threadpool(refused, page.service, page.username, target, form, fresh)
        return no_store(_render_item(page, item_id, status=422, errors=page.field_errors(exc),
                                     values=values, problem=page.t("form_has_errors"), pending=pending))
    except (Conflict, WorkflowError) as exc:
        # The text stays in the form (and in its draft): a conflict must not cost the manuscript.
        pending = await run_in_threadpool(refused, page.service, page.username, target, form, fresh)
        return no_store(_render_item(page, item_id, status=exc.status, problem=exc.message, values=values,
                                     pending=pending))
    await run_in_threadpool(keep.form_sent, page.service, page.username, target, item_id=item_id, form=step.id)
    return RedirectResponse(f"{page.base}/items/{item_id}?done={step.id}", status_code=303)


@router.post("/items/{item_id}/drafts/{form}/discard")
async def discard_draft(item_id: RowId, form: str, request: Request, page: DeskPage) -> Response:
    """The "discard draft" button (warta.keep): the form shows the last version sent again."""
    try:
        await _form(request, page)
    except PageError as exc:
        return no_store(page.error(exc.status, exc.message))
    await run_in_threadpool(keep.delete_draft, page.service, page.username, item_id, form)
    return RedirectResponse(f"{page.base}/items/{item_id}?discarded=1#action-title", status_code=303)


@router.get("/items/{item_id}/files/{asset_id}")
def item_file(item_id: int, asset_id: int, request: Request, page: DeskPage) -> Response:
    try:
        described, data = page.service.asset_file(item_id, asset_id)
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    return file_response(described, data)


@router.get("/runs/{run_id}")
def run_to_item(run_id: str, request: Request, page: DeskPage) -> Response:
    """The Airflow UI's run and task links land here (plugin external_views)."""
    parsed = parse_run_id(run_id)
    base = f"{request.scope.get('root_path', '').rstrip('/')}/desk"
    if parsed is None:
        return no_store(page.error(404, page.t("error_run_unknown", run_id=run_id)))
    # The item's top: the Airflow UI shows it in a tab, where a jump down would hide the title.
    return RedirectResponse(f"{base}/items/{parsed[0]}", status_code=303)



# Shared with the desk's other page routers (routers/desk_flow.py: alerts, claims, "Coba lagi").
checked_form = _form
form_text = _text
render_item = _render_item
