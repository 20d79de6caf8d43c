"""The REST API's desk routes beyond creating items and recording steps: listing and
filtering items, multipart intake and step forms with files, stored files, the
manuscript diff and the publication preview. Part of the same app and OpenAPI
document as ``rest_api`` (``/warta/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

from warta.airflow.security import api_user
from warta.airflow.uploads import file_response, read_uploads, request_too_large


def _service():
    from warta.service import default_service

    return default_service()


def _refuse_oversized(request: Request, service) -> None:
    if request_too_large(request.headers.get("content-length"), service.config.limits):
        raise HTTPException(413, "the request is larger than the upload limits allow")


def add_desk_api_routes(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The same shape as the service's InvalidInput answers (error, message, field),
        # with FastAPI's own detail kept for tools that read it.
        errors = exc.errors()
        first = errors[0] if errors else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        return JSONResponse(status_code=422, content={
            "error": "invalid_input",
            "message": f"{'.'.join(location) or 'request'}: {first.get('msg', 'invalid')}",
            "field": location[0] if location else None,
            "detail": jsonable_encoder(errors),
        })

    @app.get("/api/v1/items", tags=["items"])
    def list_items(
        status: str | None = Query(None, description="in_progress, revision, publishing or done"),
        step: str | None = Query(None, description="the step the item waits at (or 'selesai')"),
        service: str | None = Query(None, description="related service id (config `services`)"),
        created_by: str | None = Query(None, description="username of the item's creator"),
        q: str | None = Query(None, max_length=200, description="words in the title"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """Items, newest first, with filters; ``total`` counts all matches."""
        return _service().list_items(status=status, step=step, service=service, created_by=created_by,
                                     search=q, limit=limit, offset=offset)

    @app.post("/api/v1/intake", status_code=201, tags=["items"])
    async def intake(
        request: Request,
        # Checked by the service (required, length), so the answer names the field.
        title: str = Form("", description="Judul kegiatan (required)"),
        activity_date: str | None = Form(None, description="Tanggal kegiatan (YYYY-MM-DD)"),
        place: str = Form(""),
        service: str = Form("lainnya"),
        notes: str = Form(""),
        channels: list[str] | None = Form(None, description="repeat the field for several channels"),
        submission_key: str | None = Form(None, description="the same key twice creates one item"),
        files: list[UploadFile] | None = File(None, description="photos, video, audio (config limits)"),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """The intake form as multipart/form-data: the item with its documentation files;
        its Airflow run is queued in the same transaction (the outbox starts it)."""
        from starlette.concurrency import run_in_threadpool

        desk = _service()
        _refuse_oversized(request, desk)
        uploads = await read_uploads(files, desk.config.limits)
        return await run_in_threadpool(
            desk.create_item, user.get_name(), title=title, activity_date=activity_date, place=place,
            service=service, notes=notes, channels=channels, submission_key=submission_key, uploads=uploads,
        )

    @app.post("/api/v1/items/{item_id}/steps/{step_id}/files", tags=["steps"])
    async def record_step_with_files(
        item_id: int,
        step_id: str,
        request: Request,
        notes: str = Form(""),
        title: str | None = Form(None),
        body: str | None = Form(None),
        decision: str | None = Form(None),
        reason: str = Form(""),
        files: list[UploadFile] | None = File(None, description="documentation files (coverage step)"),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """Record a human step as multipart/form-data, with files (e.g. the coverage step's
        photos). Same rules as the JSON route."""
        from starlette.concurrency import run_in_threadpool

        desk = _service()
        _refuse_oversized(request, desk)
        uploads = await read_uploads(files, desk.config.limits)
        return await run_in_threadpool(
            desk.record_step, item_id, step_id, user.get_name(), notes=notes, title=title, body=body,
            decision=decision, reason=reason, uploads=uploads,
        )

    @app.get("/api/v1/items/{item_id}/assets/{asset_id}", tags=["items"],
             response_class=Response, responses={200: {"description": "the file's bytes"}})
    def asset(item_id: int, asset_id: int, user: BaseUser = Depends(api_user)) -> Response:
        """One documentation file of an item."""
        described, data = _service().asset_file(item_id, asset_id)
        return file_response(described, data)

    @app.get("/api/v1/items/{item_id}/diff", tags=["items"])
    def manuscript_diff(
        item_id: int,
        from_version: int | None = Query(None, ge=1, description="default: the version before `to_version`"),
        to_version: int | None = Query(None, ge=1, description="default: the latest version"),
        user: BaseUser = Depends(api_user),
    ) -> dict[str, Any]:
        """What changed between two manuscript versions: word diff as HTML and a unified diff."""
        return _service().manuscript_diff(item_id, from_version, to_version)

    @app.get("/api/v1/items/{item_id}/preview", tags=["items"])
    def preview(item_id: int, user: BaseUser = Depends(api_user)) -> dict[str, Any]:
        """Exactly what will be published: title, sanitized HTML body, excerpt, photos."""
        return _service().preview(item_id)
