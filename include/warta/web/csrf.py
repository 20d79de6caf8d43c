"""Proof that a state-changing request came from the desk, not from another site.

Users sign in with a token (a Bearer header, or the session cookie of the UI). Because
the cookie rides along with any request the browser makes, every state-changing request
authenticated by the cookie must also carry a CSRF token: a random nonce signed (HMAC)
with the server's secret key and bound to the user's name, kept in a cookie and echoed
in the form (hidden field) or in a header. A request authenticated by a Bearer header is
not forgeable by another site and needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

CSRF_COOKIE = "warta_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def unknown_user_message(username: str) -> str:
    return (f"pengguna {username!r} tidak terdaftar di Warta (config/users.yaml) / "
            f"user {username!r} is not registered in Warta (config/users.yaml)")


class CsrfTokens:
    """Signed double-submit tokens under one secret."""

    COOKIE = CSRF_COOKIE

    def __init__(self, secret: bytes):
        self.secret = secret

    def _signature(self, username: str, nonce: str) -> str:
        return hmac.new(self.secret, f"{username}\x00{nonce}".encode(), hashlib.sha256).hexdigest()

    def new(self, username: str) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._signature(username, nonce)}"

    def belongs_to(self, token: str | None, username: str) -> bool:
        nonce, _, signature = (token or "").partition(".")
        return bool(nonce and signature) and hmac.compare_digest(signature, self._signature(username, nonce))

    def ok(self, request: Request, username: str, submitted: str | None) -> bool:
        """Double submit, signed: the submitted token equals the cookie and is this user's."""
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        submitted = submitted or ""
        return bool(cookie) and hmac.compare_digest(cookie, submitted) and self.belongs_to(cookie, username)
