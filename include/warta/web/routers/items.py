"""News items: registering one (JSON, or the multipart intake with its files: one action,
one implementation), listing and filtering, an item's history, stored files, the
manuscript diff and the publication preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from warta.service import MAX_ROW_ID
from warta.web import models
from warta.web.deps import ApiUser, Service
from warta.web.models import IntakeForm, NewItem, RowId
from warta.web.uploads import file_response, form_fields, form_files, multipart_body, read_form, read_uploads

router = APIRouter(tags=["items"])


@router.post("/items", status_code=201, response_model=models.CreatedItem)
def create_item(payload: NewItem, username: ApiUser, service: Service) -> dict[str, Any]:
    """Register an item; its run is queued in the same transaction (``run_state``
    ``queued`` until the outbox has started it). The same ``submission_key`` again
    answers 201 with the same item (``duplicate``: true)."""
    return service.create_item(username, **payload.model_dump())


# The multipart routes read their form themselves, after ``ApiUser``: declared Form/File
# parameters would be read (files and all) before anyone is authenticated.
@router.post("/intake", status_code=201, response_model=models.CreatedItem,
             openapi_extra=multipart_body(IntakeForm, "photos, video, audio (config limits)"))
async def intake(request: Request, username: ApiUser, service: Service) -> dict[str, Any]:
    """The intake form as multipart/form-data: the item with its documentation files;
    its Airflow run is queued in the same transaction (the outbox starts it)."""
    form = await read_form(request)
    fields = form_fields(IntakeForm, form)
    uploads = await read_uploads(form_files(form), service.config.limits)
    return await run_in_threadpool(service.create_item, username, **fields.model_dump(), uploads=uploads)


@router.get("/items", response_model=models.ItemList)
def list_items(
    username: ApiUser,
    service: Service,
    status: str | None = Query(None, description="in_progress, revision, publishing or done"),
    step: str | None = Query(None, description="the step the item waits at (or 'selesai')"),
    service_id: str | None = Query(None, alias="service", description="related service id (config `services`)"),
    created_by: str | None = Query(None, description="username of the item's creator"),
    q: str | None = Query(None, max_length=200, description="words in the title"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ROW_ID),
) -> dict[str, Any]:
    """Items, newest first, with filters; ``total`` counts all matches."""
    return service.list_items(status=status, step=step, service=service_id, created_by=created_by,
                              search=q, limit=limit, offset=offset)


@router.get("/items/{item_id}", response_model=models.ItemHistory)
def get_item(item_id: RowId, username: ApiUser, service: Service) -> dict[str, Any]:
    return service.history(item_id)


@router.get("/items/{item_id}/assets/{asset_id}", response_class=Response, responses={200: {
    "description": "the file's bytes: photos, video and audio inline, anything else as a download",
    "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/*", "video/*", "audio/*", "application/octet-stream")}}})
def asset(item_id: RowId, asset_id: RowId, username: ApiUser, service: Service) -> Response:
    """One documentation file of an item."""
    described, data = service.asset_file(item_id, asset_id)
    return file_response(described, data)


@router.get("/items/{item_id}/diff", response_model=models.ManuscriptDiff)
def manuscript_diff(
    item_id: RowId,
    username: ApiUser,
    service: Service,
    from_version: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="default: the version before `to_version`"),
    to_version: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="default: the latest version"),
) -> dict[str, Any]:
    """What changed between two manuscript versions: word diff as HTML and a unified diff."""
    return service.manuscript_diff(item_id, from_version, to_version)


@router.get("/items/{item_id}/preview", response_model=models.Preview)
def preview(item_id: RowId, username: ApiUser, service: Service) -> dict[str, Any]:
    """Exactly what will be published: title, sanitized HTML body, excerpt, photos."""
    return service.preview(item_id)
