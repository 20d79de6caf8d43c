"""Who is calling Warta's pages and API, and proof that a form post came from the desk.

Authentication is Airflow's own (auth manager tokens: a Bearer header, or the UI's
``_token`` cookie). Because the cookie rides along with any request the browser makes,
every state-changing request authenticated by the cookie must also carry a CSRF token:
a random nonce signed (HMAC) with the api-server's secret key and bound to the user's
name, kept in a cookie and echoed in the form (hidden field) or in a header. A request
authenticated by a Bearer header is not forgeable by another site and needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

CSRF_COOKIE = "warta_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_fallback_secret = secrets.token_bytes(32)


def _secret() -> bytes:
    from airflow.configuration import conf

    # Shared by every api-server worker (Airflow requires the same secret_key for all).
    key = conf.get("api", "secret_key", fallback="") or ""
    return key.encode() if key else _fallback_secret


def bearer_token(request: Request) -> str | None:
    """The token of a ``Authorization: Bearer <token>`` header; None when the header is
    missing, of another scheme or empty (an empty ``Bearer `` authenticates nobody, so it
    must not count as a Bearer request either)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


class UnknownUser(Exception):
    """A validly signed token of someone config/users.yaml does not list."""

    def __init__(self, username: str):
        super().__init__(username)
        self.username = username


def check_known_user(user: BaseUser) -> BaseUser:
    """Refuse a token whose user Warta does not know: the auth manager signed it, but
    config/users.yaml (the one list of who works here) does not hold the name (a user
    removed from the unit, or a token minted for a made-up name)."""
    from warta.config import get_config

    if user.get_name() not in get_config().users:
        raise UnknownUser(user.get_name())
    return user


def unknown_user_message(username: str) -> str:
    return (f"pengguna {username!r} tidak terdaftar di Warta (config/users.yaml) / "
            f"user {username!r} is not registered in Warta (config/users.yaml)")


def _signature(username: str, nonce: str) -> str:
    return hmac.new(_secret(), f"{username}\x00{nonce}".encode(), hashlib.sha256).hexdigest()


def new_csrf_token(username: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(username, nonce)}"


def csrf_token_belongs_to(token: str | None, username: str) -> bool:
    nonce, _, signature = (token or "").partition(".")
    return bool(nonce and signature) and hmac.compare_digest(signature, _signature(username, nonce))


def csrf_ok(request: Request, username: str, submitted: str | None) -> bool:
    """Double submit, signed: the submitted token equals the cookie and is this user's."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    submitted = submitted or ""
    return bool(cookie) and hmac.compare_digest(cookie, submitted) and csrf_token_belongs_to(cookie, username)


async def api_user(
    request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
) -> BaseUser:
    """The REST API's caller: Airflow's ``get_user`` (401 without credentials), plus the
    CSRF header when a state-changing request is authenticated by the cookie alone."""
    user = await get_user(request, None, bearer)
    try:
        check_known_user(user)
    except UnknownUser as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, unknown_user_message(exc.username)) from None
    # Exactly Airflow's own test of which credential authenticated the request: anything
    # but a non-empty Bearer credential means the cookie did.
    by_bearer = bearer is not None and bearer.scheme.lower() == "bearer" and bool(bearer.credentials)
    if request.method not in SAFE_METHODS and not by_bearer:
        if not csrf_ok(request, user.get_name(), request.headers.get(CSRF_HEADER)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a request authenticated by the session cookie needs the {CSRF_HEADER} header "
                f"(the {CSRF_COOKIE} cookie's value); or send a Bearer token",
            )
    return user
