"""The REST API's desk routes beyond creating items and recording steps: listing and
filtering items, multipart intake and step forms with files, stored files, the
manuscript diff and the publication preview. Part of the same app and OpenAPI
document as ``rest_api`` (``/warta/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import FormData

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

from warta.airflow import api_models as answers
from warta.airflow.api_models import RowId, StepInput
from warta.service import MAX_ROW_ID
from warta.airflow.security import api_user
from warta.airflow.uploads import file_response, form_files, read_form, read_uploads


_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}}


class IntakeForm(BaseModel):
    # Checked by the service (required, length), so the answer names the field.
    title: str = Field("", description="Judul kegiatan (required)")
    activity_date: str | None = Field(None, description="Tanggal kegiatan (YYYY-MM-DD)")
    place: str = ""
    service: str = "lainnya"
    notes: str = ""
    channels: list[str] | None = Field(None, description="repeat the field for several channels")
    submission_key: str | None = Field(None, description="the same key twice creates one item")


def _multipart_body(model: type[BaseModel], files_description: str) -> dict:
    """The OpenAPI request body of a multipart route that reads its form itself."""
    schema = model.model_json_schema()
    schema["properties"]["files"] = _FILES | {"description": files_description}
    return {"requestBody": {"required": False, "content": {"multipart/form-data": {
        "schema": schema, "encoding": {"files": {"contentType": "application/octet-stream"}}}}}}


def _fields(model: type[BaseModel], form: FormData) -> BaseModel:
    """The form's text fields as ``model`` (422 in FastAPI's shape if they do not fit)."""
    values: dict[str, Any] = {}
    for name, spec in model.model_fields.items():
        given = [v for v in form.getlist(name) if isinstance(v, str)]
        if not given:
            continue
        values[name] = given if "list" in str(spec.annotation) else given[-1]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(
            [dict(error, loc=("body", *error["loc"])) for error in exc.errors(include_url=False)]) from None


def _service():
    from warta.service import default_service

    return default_service()


def add_desk_api_routes(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The same shape as the service's InvalidInput answers (error, message, field),
        # with FastAPI's own detail kept for tools that read it.
        # The given values are not echoed: they may not be JSON at all (NaN, Infinity,
        # lone surrogates) and need not be reflected to the caller.
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

    @app.get("/api/v1/items", tags=["items"], response_model=answers.ItemList)
    def list_items(
        status: str | None = Query(None, description="in_progress, revision, publishing or done"),
        step: str | None = Query(None, description="the step the item waits at (or 'selesai')"),
        service: str | None = Query(None, description="related service id (config `services`)"),
        created_by: str | None = Query(None, description="username of the item's creator"),
        q: str | None = Query(None, max_length=200, description="words in the title"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=MAX_ROW_ID),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """Items, newest first, with filters; ``total`` counts all matches."""
        return _service().list_items(status=status, step=step, service=service, created_by=created_by,
                                     search=q, limit=limit, offset=offset)

    # The multipart routes read their form themselves, after ``api_user``: declared
    # Form/File parameters would be read (files and all) before anyone is authenticated.
    @app.post("/api/v1/intake", status_code=201, tags=["items"], response_model=answers.CreatedItem,
              openapi_extra=_multipart_body(IntakeForm, "photos, video, audio (config limits)"))
    async def intake(request: Request, user: BaseUser = Depends(api_user)) -> dict[str, Any]:
        """The intake form as multipart/form-data: the item with its documentation files;
        its Airflow run is queued in the same transaction (the outbox starts it)."""
        from starlette.concurrency import run_in_threadpool

        desk = _service()
        form = await read_form(request)
        fields = _fields(IntakeForm, form)
        uploads = await read_uploads(form_files(form), desk.config.limits)
        return await run_in_threadpool(
            desk.create_item, user.get_name(), title=fields.title, activity_date=fields.activity_date,
            place=fields.place, service=fields.service, notes=fields.notes, channels=fields.channels,
            submission_key=fields.submission_key, uploads=uploads,
        )

    @app.post("/api/v1/items/{item_id}/steps/{step_id}/files", tags=["steps"], response_model=answers.StepResult,
              openapi_extra=_multipart_body(StepInput, "documentation files (coverage step)"))
    async def record_step_with_files(
        item_id: RowId, step_id: str, request: Request, user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """Record a human step as multipart/form-data, with files (e.g. the coverage step's
        photos). Same rules as the JSON route."""
        from starlette.concurrency import run_in_threadpool

        desk = _service()
        form = await read_form(request)
        fields = _fields(StepInput, form)
        uploads = await read_uploads(form_files(form), desk.config.limits)
        return await run_in_threadpool(
            desk.record_step, item_id, step_id, user.get_name(), notes=fields.notes, title=fields.title,
            body=fields.body, decision=fields.decision, reason=fields.reason, uploads=uploads,
        )

    @app.get("/api/v1/items/{item_id}/assets/{asset_id}", tags=["items"],
             response_class=Response, responses={200: {
                 "description": "the file's bytes: photos, video and audio inline, anything else as a download",
                 "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                             for kind in ("image/*", "video/*", "audio/*", "application/octet-stream")}}})
    def asset(item_id: RowId, asset_id: RowId, user: BaseUser = Depends(api_user)) -> Response:
        """One documentation file of an item."""
        described, data = _service().asset_file(item_id, asset_id)
        return file_response(described, data)

    @app.get("/api/v1/items/{item_id}/diff", tags=["items"], response_model=answers.ManuscriptDiff)
    def manuscript_diff(
        item_id: RowId,
        from_version: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="default: the version before `to_version`"),
        to_version: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="default: the latest version"),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """What changed between two manuscript versions: word diff as HTML and a unified diff."""
        return _service().manuscript_diff(item_id, from_version, to_version)

    @app.get("/api/v1/items/{item_id}/preview", tags=["items"], response_model=answers.Preview)
    def preview(item_id: RowId, user: BaseUser = Depends(api_user)) -> dict[str, Any]:
        """Exactly what will be published: title, sanitized HTML body, excerpt, photos."""
        return _service().preview(item_id)
