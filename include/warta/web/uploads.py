"""Forms and files over HTTP, for the REST API and the desk pages alike: reading posted
forms and uploads within the configured size limits, describing multipart routes in the
OpenAPI document, and serving stored files without letting them run as pages."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from fastapi import UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile as StarletteUploadFile

from warta.config import Limits
from warta.service import Upload, too_large
from warta.workflow import InvalidInput

MAX_FILES_PER_REQUEST = 30
_CHUNK = 1024 * 1024
_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}}


async def read_form(request) -> FormData:
    """A posted form, read only now: after the route's dependencies authenticated the
    caller (FastAPI reads declared ``Form``/``File`` parameters before any dependency, so
    routes that take files read their form themselves), within the body limits the
    request guard enforces (``limits.request_max_bytes``)."""
    return await request.form(max_files=MAX_FILES_PER_REQUEST + 1, max_fields=200)


def multipart_body(model: type[BaseModel], files_description: str) -> dict:
    """The OpenAPI request body of a multipart route that reads its form itself."""
    schema = model.model_json_schema()
    schema["properties"]["files"] = _FILES | {"description": files_description}
    return {"requestBody": {"required": False, "content": {"multipart/form-data": {
        "schema": schema, "encoding": {"files": {"contentType": "application/octet-stream"}}}}}}


def form_fields(model: type[BaseModel], form: FormData) -> BaseModel:
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


def form_files(form: FormData, name: str = "files") -> list[UploadFile]:
    return [f for f in form.getlist(name) if isinstance(f, StarletteUploadFile)]


async def read_uploads(files: list[UploadFile] | None, limits: Limits) -> list[Upload]:
    """The chosen files as service uploads; a file over the limit is refused without
    reading the rest of it. Types and empty files are checked by the service."""
    chosen = [f for f in files or [] if getattr(f, "filename", None)]  # an empty file input sends no name
    if len(chosen) > MAX_FILES_PER_REQUEST:
        raise InvalidInput(f"too many files (at most {MAX_FILES_PER_REQUEST})", field="files",
                           reason="too_many_files", params={"n": MAX_FILES_PER_REQUEST})
    uploads = []
    for upload in chosen:
        data = bytearray()
        while chunk := await upload.read(_CHUNK):
            data.extend(chunk)
            if len(data) > limits.upload_max_bytes:
                raise too_large(upload.filename, limits.upload_max_bytes)
        # The browser's content type is not trusted: the service derives it from the name.
        uploads.append(Upload(filename=upload.filename, data=bytes(data)))
    return uploads


def file_response(described: dict, data: bytes) -> Response:
    """A stored file. Its type comes from its (allow-listed) extension, never from the
    uploader; photos, video and audio display inline, anything else downloads; and the
    sandbox policy keeps any file from running script in the desk's origin."""
    media_type = mimetypes.guess_type(described["filename"])[0] or "application/octet-stream"
    inline = described["kind"] in ("photo", "video", "audio") and media_type.split("/")[0] in ("image", "video", "audio")
    disposition = "inline" if inline else "attachment"
    return Response(
        content=data,
        media_type=media_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(described['filename'])}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
            "ETag": f'"{described["sha256"]}"',
        },
    )
