"""The SOP's steps: ``/api/v1/steps`` (what they are), recording a human step of an item
(JSON, or multipart with files: one action, one implementation), and ``/api/v1/inbox``
(what waits at a step for the caller's roles)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from warta.web import models
from warta.web.deps import ApiUser, Service
from warta.web.models import RowId, StepInput
from warta.web.uploads import form_fields, form_files, multipart_body, read_form, read_uploads

router = APIRouter(tags=["steps"])


@router.get("/steps", response_model=list[models.StepInfo])
def steps(username: ApiUser, service: Service) -> list[models.StepInfo]:
    return [
        models.StepInfo(id=s.id, number=s.number, name_id=s.name_id, name_en=s.name_en, role=s.role, kind=s.kind,
                        standard_seconds=int(s.standard_time.total_seconds()))
        for s in service.config.steps
    ]


@router.post("/items/{item_id}/steps/{step_id}", response_model=models.StepResult)
def record_step(item_id: RowId, step_id: str, payload: StepInput, username: ApiUser,
                service: Service) -> dict[str, Any]:
    return service.record_step(item_id, step_id, username, **payload.model_dump())


# The multipart routes read their form themselves, after ``ApiUser``: declared Form/File
# parameters would be read (files and all) before anyone is authenticated.
@router.post("/items/{item_id}/steps/{step_id}/files", response_model=models.StepResult,
             openapi_extra=multipart_body(StepInput, "documentation files (coverage step)"))
async def record_step_with_files(item_id: RowId, step_id: str, request: Request, username: ApiUser,
                                 service: Service) -> dict[str, Any]:
    """Record a human step as multipart/form-data, with files (e.g. the coverage step's
    photos). Same rules as the JSON route."""
    form = await read_form(request)
    fields = form_fields(StepInput, form)
    uploads = await read_uploads(form_files(form), service.config.limits)
    return await run_in_threadpool(
        service.record_step, item_id, step_id, username, **fields.model_dump(), uploads=uploads)


@router.get("/inbox", response_model=list[models.WaitingItem])
def inbox(username: ApiUser, service: Service, role: str | None = None) -> list[dict[str, Any]]:
    """What waits for the caller (or for ``role``), oldest first."""
    if role:
        return service.waiting_for(role=role)
    return service.waiting_for(username=username)
