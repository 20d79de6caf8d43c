"""Who calls Warta's web app inside Airflow's api-server: Airflow's own auth manager (the
same users and tokens as the Airflow UI: a Bearer header, or the UI's ``_token`` cookie).
``warta.web.deps.Authenticator`` implemented for Airflow."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials

# Used only when the api-server has no secret_key (plain library use): CSRF tokens then
# hold for this process.
_PROCESS_SECRET = secrets.token_bytes(32)


class AirflowAuthenticator:
    async def username(self, request: Request, bearer: HTTPAuthorizationCredentials | None) -> str:
        from airflow.api_fastapi.core_api.security import get_user

        user = await get_user(request, None, bearer)  # HTTPException 401/403 without a valid token
        return user.get_name()

    def login_url(self, next_url: str) -> str:
        try:
            from airflow.api_fastapi.app import get_auth_manager

            return get_auth_manager().get_url_login(next_url=next_url)
        except Exception:  # no auth manager configured (plain library use)
            return "/auth/login?" + urlencode({"next": next_url})

    def logout_url(self) -> str:
        """Airflow's own logout: it revokes the token and drops the ``_token`` cookie."""
        return "/api/v2/auth/logout"

    def secret_key(self) -> bytes:
        from airflow.configuration import conf

        # Shared by every api-server worker (Airflow requires the same secret_key for all).
        key = conf.get("api", "secret_key", fallback="") or ""
        return key.encode() if key else _PROCESS_SECRET


def create_airflow_web_app():
    """The web app as the Warta plugin mounts it at ``/warta``. In the embedded stack the
    api-server also runs the run outbox's loop (``warta.outbox.start_in_background``)."""
    import os

    from warta.outbox import IN_PROCESS_ENV
    from warta.web.app import create_app

    app = create_app(auth=AirflowAuthenticator())
    if os.environ.get(IN_PROCESS_ENV) == "1":
        start_outbox_in_api_server()
    return app


def _own_api_answers() -> bool:
    """Whether this api-server answers yet (the outbox starts runs through it)."""
    import httpx

    from warta.airflow_api import AirflowApi

    return httpx.get(f"{AirflowApi.from_connection().base_url}/api/v2/monitor/health", timeout=2).status_code == 200


def start_outbox_in_api_server():
    from warta.outbox import start_in_background

    return start_in_background(ready=_own_api_answers)
