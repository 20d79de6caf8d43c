"""The Warta app's outermost layer: refuses what no route can take before any of it is read.

- A body larger than the configured limit (``limits.request_max_bytes`` for multipart
  posts with files, ``limits.form_max_bytes`` for anything else) is answered 413 from its
  Content-Length alone, unread; a body sent without one (chunked) is counted as it arrives
  and cut off at the limit.
- A path or query holding a NUL character (``%00``) or a lone surrogate is answered 422:
  PostgreSQL refuses NUL in text, and neither can be written out as UTF-8.

Answers have the API's error shape ``{"error", "message", "field"}``.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from warta.config import Limits
from warta.text_checks import bad_character


def body_limit(content_type: str, limits: Limits) -> int:
    multipart = content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"
    return limits.request_max_bytes if multipart else limits.form_max_bytes


def too_large_message(limit: int) -> str:
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"permintaan lebih besar dari {size} / the request is larger than {size}"


async def _answer(send: Send, status: int, code: str, message: str, field: str | None = None) -> None:
    body = json.dumps({"error": code, "message": message, "field": field}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))  # the unread rest of the body is not wanted
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, limits=None):
        self.app = app
        self._limits = limits  # a callable giving Limits (tests); default: the configuration's

    def limits(self) -> Limits:
        if self._limits is not None:
            return self._limits()
        from warta.config import get_config

        return get_config().limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        from urllib.parse import unquote

        for where, text in (("path", scope.get("path", "")), ("query", unquote(query))):
            problem = bad_character(text)
            if problem:
                await _answer(send, 422, "invalid_input", f"{where}: {problem}", where)
                return
        headers = Headers(scope=scope)
        limit = body_limit(headers.get("content-type", ""), self.limits())
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _answer(send, 400, "invalid_input", "Content-Length is not a number", "content-length")
                return
            if int(declared) > limit:
                await _answer(send, 413, "too_large", too_large_message(limit))
                return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI and Starlette pass an HTTPException raised while reading on
                    # as the answer: 413, whatever the route was doing with the body.
                    raise BodyTooLarge(413, too_large_message(limit))
            return message

        started = False

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer(send, 413, "too_large", too_large_message(limit))
