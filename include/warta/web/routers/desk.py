"""The editorial desk in the browser: server-rendered pages inside Airflow's api-server.

    /warta/desk/                     inbox: what waits for my roles, oldest first
    /warta/desk/items                all items, with filters
    /warta/desk/new                  intake form (Pelaksana Kegiatan)
    /warta/desk/items/{id}           the item: preview, corrections, history, the form of its step
    /warta/desk/items/{id}/files/{n} a stored documentation file
    /warta/desk/runs/{run_id}        an Airflow run (item-<id>-round-<n>) → its item

Signed-in users only (Airflow's login; anonymous visitors are sent to it), every form
post carries a CSRF token, and every action goes through the same service layer as the
REST API and the CLI.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warta.models import parse_run_id, run_id_for
from warta.service import EditorialService
from warta.web import file_size, render
from warta.web.csrf import CSRF_COOKIE, CSRF_FIELD, CsrfTokens
from warta.web.deps import Csrf, PageUser, Service
from warta.web.i18n import DEFAULT_LANGUAGE, MESSAGES, normalize_language, translate
from warta.web.uploads import file_response, form_files, read_form, read_uploads
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


DESK_CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'self'")


def no_store(response: Response) -> Response:
    # Pages show people's work in progress: never cached, framed only by Airflow's UI.
    response.headers["Cache-Control"] = "no-store"
    # The desk runs no script at all: script-src 'none' keeps any injected markup inert.
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
    return {
        "item": history,
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
                 values: dict | None = None, notice: str | None = None, problem: str | None = None) -> HTMLResponse:
    try:
        context = _item_context(page, item_id)
    except NotFound:
        return page.error(404, page.t("error_not_found"))
    latest = context["latest"]
    defaults = {
        "title": latest["title"] if latest else context["item"]["title"],
        "body": latest["body"] if latest else "",
        "notes": "", "reason": "", "decision": "", "publish_at": "",
    }
    return page.respond("item.html", status=status, errors=errors or {}, values=defaults | (values or {}),
                        notice=notice, problem=problem, **context)


# The item page re-rendered with a form's errors, for other routers' forms on it (schedule).
render_item = _render_item


# ------------------------------------------------------------------ routes
router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, page: DeskPage) -> Response:
    waiting = page.service.waiting_for(username=page.username)
    mine = page.service.list_items(created_by=page.username, limit=10)["items"]
    return no_store(page.respond("inbox.html", waiting=waiting, mine=mine))


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
        history = [{"version": n.version, "edited_by": n.edited_by, "created_at": n.created_at} for n in saved]
        current = narratives.as_parts(saved[0]) if saved else None
        finals = [{"revision": f.revision, "version": f.narrative_version, "by": f.finalised_by,
                   "at": f.finalised_at, "reason": f.reason} for f in final_revisions(session, month.key, lang)]
    values = values or current or narrative_draft(page.service, month, lang)
    return no_store(page.respond("narrative.html", status=status, month=month.key, report_lang=lang, values=values,
                                  history=history, drafted=not saved, problem=problem, finals=finals,
                                  can_edit="operator" in page.roles))

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
                 problem: str | None = None, files_lost: bool = False) -> Response:
    limits = page.config.limits
    values = values or {
        "title": "", "activity_date": "", "place": "", "service": "", "notes": "",
        "channels": page.config.default_channels, "submission_key": str(uuid.uuid4()),
    }
    return no_store(page.respond(
        "new.html", status=status, values=values, errors=errors or {}, problem=problem, files_lost=files_lost,
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
              ("title", "activity_date", "place", "service", "notes", "submission_key")}
    values["channels"] = [c for c in form.getlist("channels") if isinstance(c, str)]
    if not values["submission_key"]:
        values["submission_key"] = str(uuid.uuid4())
    files = form_files(form)
    files_lost = bool([f for f in files if f.filename])
    try:
        uploads = await read_uploads(files, page.config.limits)
        created = await run_in_threadpool(
            page.service.create_item, page.username, title=values["title"],
            activity_date=values["activity_date"], place=values["place"], service=values["service"],
            notes=values["notes"], channels=values["channels"], submission_key=values["submission_key"],
            uploads=uploads, intake_form=True,
        )
    except PermissionDenied:
        return no_store(page.error(403, page.t("error_forbidden")))
    except InvalidInput as exc:
        return _intake_page(page, status=422, values=values, errors=page.field_errors(exc),
                            problem=page.t("form_has_errors"), files_lost=files_lost)
    except WorkflowError as exc:
        return _intake_page(page, status=exc.status, values=values, problem=exc.message, files_lost=files_lost)
    flag = "duplicate" if created.get("duplicate") else "created"
    return RedirectResponse(f"{page.base}/items/{created['id']}?{flag}=1", status_code=303)


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(item_id: int, request: Request, page: DeskPage) -> Response:
    params = request.query_params
    notice = None
    if params.get("created"):
        notice = page.t("item_created")
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
    try:
        uploads = await read_uploads(form_files(form), page.config.limits)
        await run_in_threadpool(
            page.service.record_step, item_id, step.id, page.username, notes=values["notes"],
            title=values["title"] if step.kind in ("manuscript", "correction") else None,
            body=values["body"] if step.kind in ("manuscript", "correction") else None,
            decision=values["decision"] or None, reason=values["reason"], uploads=uploads,
            publish_at=values["publish_at"] or None,
        )
    except PermissionDenied as exc:
        return no_store(page.error(403, exc.message))
    except NotFound:
        return no_store(page.error(404, page.t("error_not_found")))
    except InvalidInput as exc:
        return no_store(_render_item(page, item_id, status=422, errors=page.field_errors(exc),
                                     values=values, problem=page.t("form_has_errors")))
    except (Conflict, WorkflowError) as exc:
        return no_store(_render_item(page, item_id, status=exc.status, problem=exc.message))
    return RedirectResponse(f"{page.base}/items/{item_id}?done={step.id}", status_code=303)


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

