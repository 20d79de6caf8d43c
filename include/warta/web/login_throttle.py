"""Throttles password logins on the whole api-server, per user and per address.

Logins are not Warta's routes: the auth manager answers them (SimpleAuthManager and FAB:
``POST /auth/token`` and ``/auth/token/cli``; FAB's login page: ``POST /auth/login/``),
outside the plugin's ``/warta`` mount. The Warta plugin therefore registers this ASGI
middleware on the api-server's root app (``fastapi_root_middlewares``). It reads the user
name from the login body, refuses with 429 and ``Retry-After`` while that user, or that
address, has too many recent failures (``warta.yaml logins``: throttle_max_failures per
user and address, throttle_address_max_failures per address across users, within
throttle_window), and counts each answer: a 4xx from the token routes, or FAB's page
sending the browser back to the login form, is a failure; a success forgets the user's.

Counts live in the process (each api-server worker counts its own): a guess rate per
worker, bounded and forgotten after the window.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGIN_PATHS = frozenset({"/auth/token", "/auth/token/cli", "/auth/login", "/auth/login/"})
MAX_LOGIN_BODY = 64 * 1024
MAX_TRACKED = 100_000  # keys kept at most (oldest dropped): memory stays bounded under a spray


class FailureLog:
    """Failure times per key within a sliding window."""

    def __init__(self, window_seconds: float, clock=time.monotonic):
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple, now: float) -> deque:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def retry_after(self, key: tuple, limit: int) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < limit:
                return 0
            return max(1, int(times[-limit] + self.window - now + 0.999))

    def fail(self, key: tuple) -> None:
        with self._lock:
            now = self.clock()
            if key not in self._failures and len(self._failures) >= MAX_TRACKED:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(key, deque()).append(now)

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._failures.pop(key, None)


def login_name(body: bytes, content_type: str) -> str:
    """The user name a login body names ('' when it names none)."""
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            value = json.loads(text)
        except ValueError:
            return ""
        name = value.get("username") if isinstance(value, dict) else ""
    else:
        name = (parse_qs(text).get("username") or [""])[0]
    return str(name or "").strip().lower()[:200]


def is_failure(path: str, status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if path.startswith("/auth/login"):
        # FAB's page answers every post with a redirect: back to the form when it failed.
        location = dict(headers).get(b"location", b"").decode("latin-1")
        return status >= 400 or (status in (302, 303) and "/login" in location)
    return 400 <= status < 500


class LoginThrottle:
    def __init__(self, app: ASGIApp, settings=None, clock=time.monotonic):
        self.app = app
        self._settings = settings  # a callable giving warta.config.Logins (tests); default: config
        self._clock = clock
        self._log: FailureLog | None = None

    def settings(self):
        if self._settings is not None:
            return self._settings()
        from warta.config import get_config

        return get_config().logins

    def log(self, window: float) -> FailureLog:
        if self._log is None or self._log.window != window:
            self._log = FailureLog(window, self._clock)
        return self._log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        settings = self.settings()
        if not settings.throttle_max_failures:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_LOGIN_BODY:
                await _answer(send, 413, "permintaan login terlalu besar / the login request is too large")
                return
        name = login_name(body, headers.get("content-type", ""))
        address = (scope.get("client") or ("?", 0))[0]
        log = self.log(settings.throttle_window.total_seconds())
        user_key, address_key = ("user", name, address), ("address", address)
        wait = max(log.retry_after(user_key, settings.throttle_max_failures),
                   log.retry_after(address_key, settings.throttle_address_max_failures))
        if wait:
            await _answer(send, 429, f"terlalu banyak percobaan login yang gagal; coba lagi dalam {wait} detik / "
                                     f"too many failed logins; try again in {wait} seconds", retry_after=wait)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                if is_failure(scope["path"], message["status"], message.get("headers", [])):
                    log.fail(user_key)
                    log.fail(address_key)
                elif message["status"] < 400:
                    log.forget(user_key)
            await send(message)

        await self.app(scope, replay, watch)


async def _answer(send: Send, status: int, message: str, retry_after: int | None = None) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
