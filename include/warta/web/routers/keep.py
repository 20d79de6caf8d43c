"""Nothing typed is lost (``warta.keep``):

    /api/v1/drafts/items/{id}/{form}    GET, PUT, DELETE a draft of an item's form (autosave)
    /warta/desk/kept/{token}             after an expired login: "your form is kept; sign in"
    /warta/desk/kept/{token}/open        signed in again: back to the form, filled in
    /warta/desk/items/{id}/steps/{step}  GET (a login's return, a reload): the item's page

A draft's PUT names the version it started from; an older one is answered 409.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from warta import keep
from warta.web import render
from warta.web.deps import ApiUser, Auth, Csrf, PageUser, Service
from warta.web.i18n import DEFAULT_LANGUAGE, normalize_language, translate
from warta.web.models import RowId

FormId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

api = APIRouter(tags=["drafts"])


class DraftFields(BaseModel):
    title: str | None = None
    body: str | None = None
    notes: str | None = None
    reason: str | None = None


class DraftIn(BaseModel):
    fields: DraftFields
    # The version this page last saved or loaded; null when it had none.
    version: int | None = Field(default=None, ge=0)


class DraftOut(BaseModel):
    item_id: int
    form: str
    fields: DraftFields
    version: int
    updated_at: datetime


class DraftDeleted(BaseModel):
    deleted: bool


@api.get("/drafts/items/{item_id}/{form}", response_model=DraftOut)
def get_draft(item_id: RowId, form: FormId, username: ApiUser, service: Service) -> dict:
    """The caller's draft of an item's form (404 when there is none)."""
    from warta.workflow import NotFound

    draft = keep.get_draft(service, username, item_id, form)
    if draft is None:
        raise NotFound("there is no draft of this form")
    return draft


@api.put("/drafts/items/{item_id}/{form}", response_model=DraftOut)
def save_draft(item_id: RowId, form: FormId, payload: DraftIn, username: ApiUser, service: Service) -> dict:
    """Save the caller's draft; 409 when it was saved elsewhere since ``version``."""
    fields = {k: v for k, v in payload.fields.model_dump().items() if v is not None}
    return keep.save_draft(service, username, item_id, form, fields, payload.version)


@api.delete("/drafts/items/{item_id}/{form}", response_model=DraftDeleted)
def delete_draft(item_id: RowId, form: FormId, username: ApiUser, service: Service) -> dict:
    return {"deleted": keep.delete_draft(service, username, item_id, form)}


# ------------------------------------------------------------------ desk pages
desk = APIRouter(prefix="/desk", include_in_schema=False)


def _lang(request: Request) -> str:
    from warta.web.routers.desk import LANG_COOKIE

    return (normalize_language(request.query_params.get("lang"))
            or normalize_language(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANGUAGE)


@desk.get("/kept/{token}", response_class=HTMLResponse)
def kept_notice(token: str, request: Request, service: Service, auth: Auth) -> Response:
    """Shown to someone whose login had expired when they sent a form: nothing is lost,
    sign in again to go on. Needs no login (it says nothing of the form's content)."""
    from warta.web.routers.desk import no_store

    lang = _lang(request)
    base = f"{request.scope.get('root_path', '').rstrip('/')}/desk"
    expires = keep.kept_form_expiry(service, token)
    login = auth.login_url(f"{base}/kept/{token}/open")
    page = render("kept.html", lang, base=base, login_url=login, expires=expires, page=None,
                  config=service.config)
    return no_store(HTMLResponse(page, status_code=200 if expires else 404))


@desk.get("/kept/{token}/open")
def open_kept(token: str, request: Request, username: PageUser, service: Service, csrf: Csrf) -> Response:
    """Signed in again: the kept form becomes this user's, and the form opens filled in."""
    from warta.web.routers.desk import no_store

    base = f"{request.scope.get('root_path', '').rstrip('/')}/desk"
    claimed = keep.claim_kept_form(service, token, username, csrf.belongs_to)
    if claimed is None:
        lang = _lang(request)
        message = html.escape(translate(lang, "kept_gone"))
        return no_store(HTMLResponse(
            f'<!doctype html><title>404</title><p>{message}</p><p><a href="{base}/">'
            f'{html.escape(translate(lang, "back_to_inbox"))}</a></p>', status_code=404))
    if claimed.target == keep.NEW_TARGET:
        return RedirectResponse(f"{base}/new?kept={token}", status_code=303)
    item_id, _step = keep.parse_target(claimed.target)
    return RedirectResponse(f"{base}/items/{item_id}?kept={token}#action-title", status_code=303)


@desk.get("/items/{item_id}/steps/{step_id}")
def step_form_get(item_id: RowId, step_id: str, request: Request, username: PageUser) -> Response:
    """A step form's address opened with GET (a login that returns to it, a reload):
    the item's page, which holds the form. Never "Method Not Allowed"."""
    base = f"{request.scope.get('root_path', '').rstrip('/')}/desk"
    return RedirectResponse(f"{base}/items/{item_id}", status_code=303)

