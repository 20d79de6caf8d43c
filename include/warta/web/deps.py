"""What every route of the web app depends on, in one place: the editorial service, the
signed-in user (of the API and of the desk's pages), the CSRF tokens, and the way users
sign in.

The web layer does not know how users sign in: the app is built with an ``Authenticator``
(``create_app(auth=...)``), Airflow's in ``warta.airflow.web_auth``. Tests give their own.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from warta.service import EditorialService
from warta.web.csrf import CSRF_HEADER, SAFE_METHODS, CsrfTokens, unknown_user_message

# Declares the Bearer scheme in the OpenAPI document; the Authenticator decides what a
# credential is worth (the UI's session cookie counts as well).
bearer_scheme = HTTPBearer(auto_error=False)


class Authenticator(Protocol):
    """How the app learns who is calling; Airflow's auth manager in production."""

    async def username(self, request: Request, bearer: HTTPAuthorizationCredentials | None) -> str:
        """The signed-in user's name; HTTPException 401/403 when nobody valid is signed in."""

    def login_url(self, next_url: str) -> str:
        """Where a browser signs in, coming back to ``next_url``."""

    def secret_key(self) -> bytes:
        """The secret that signs CSRF tokens (the same in every worker of the server)."""


class LoginRequired(Exception):
    """An anonymous (or expired) visitor of a page: send them to the login."""


class UnknownUser(Exception):
    """A validly signed token of someone config/users.yaml does not list."""

    def __init__(self, username: str):
        super().__init__(username)
        self.username = username


def editorial_service() -> EditorialService:
    from warta.service import default_service

    return default_service()


def authenticator(request: Request) -> Authenticator:
    return request.app.state.auth


def csrf_tokens(auth: Annotated[Authenticator, Depends(authenticator)]) -> CsrfTokens:
    return CsrfTokens(auth.secret_key())


Service = Annotated[EditorialService, Depends(editorial_service)]
Auth = Annotated[Authenticator, Depends(authenticator)]
Csrf = Annotated[CsrfTokens, Depends(csrf_tokens)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _known(service: EditorialService, username: str) -> str:
    """Refuse a user Warta does not know: the auth manager signed the token, but
    config/users.yaml (the one list of who works here) does not hold the name."""
    if username not in service.config.users:
        raise UnknownUser(username)
    return username


async def api_user(request: Request, bearer: Bearer, auth: Auth, service: Service, csrf: Csrf) -> str:
    """The REST API's caller (401 without credentials), plus the CSRF header when a
    state-changing request is authenticated by the cookie alone."""
    username = await auth.username(request, bearer)
    try:
        _known(service, username)
    except UnknownUser as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, unknown_user_message(exc.username)) from None
    # Anything but a non-empty Bearer credential means the cookie authenticated it.
    by_bearer = bearer is not None and bearer.scheme.lower() == "bearer" and bool(bearer.credentials)
    if request.method not in SAFE_METHODS and not by_bearer:
        if not csrf.ok(request, username, request.headers.get(CSRF_HEADER)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a request authenticated by the session cookie needs the {CSRF_HEADER} header "
                f"(the {csrf.COOKIE} cookie's value); or send a Bearer token",
            )
    return username


async def page_user(request: Request, bearer: Bearer, auth: Auth, service: Service) -> str:
    """The desk page's user; an anonymous visitor is sent to the login, not given a 401."""
    try:
        username = await auth.username(request, bearer)
    except HTTPException as exc:
        if exc.status_code in (401, 403):  # no token, expired, or not valid
            raise LoginRequired() from None
        raise
    return _known(service, username)  # UnknownUser: a 403 page, not a login loop


ApiUser = Annotated[str, Depends(api_user)]
PageUser = Annotated[str, Depends(page_user)]
