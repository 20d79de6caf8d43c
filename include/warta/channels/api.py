"""Transport shared by the social channels: an HTTP session built by the HTTP provider's
``HttpHook`` from the channel's Airflow Connection, JSON calls, throttling waits within
the step's budget, and secrets kept out of messages.

``HttpHook.get_conn()`` turns every unknown key of the connection's ``extra`` into an
HTTP header; the keys Warta reads (page id, tokens, client secrets) are taken out of the
session's headers again so they are never sent where they do not belong.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from airflow.providers.common.compat.sdk import AirflowNotFoundException
from airflow.providers.http.hooks.http import HttpHook

from warta.channels.base import ChannelAuthError, ChannelError, PublishAttempt
from warta.config import Channel

log = logging.getLogger(__name__)

USER_AGENT = "Warta newsroom automation"
REQUEST_TIMEOUT_SECONDS = 60.0
# A throttled call is tried again at most this often within one attempt.
MAX_THROTTLE_WAITS = 5



def send_request(session: requests.Session, method: str, url: str, *, channel_id: str, what: str, site: str,
                 timeout: float, redact=lambda text: text, **kwargs: Any) -> requests.Response:
    """One HTTP call of a publisher; a timeout or an unreachable site becomes a retryable
    ChannelError that says which channel, what it was doing and where."""
    try:
        # A redirected POST would silently turn into a GET: only reads follow redirects.
        return session.request(method, url, timeout=timeout, allow_redirects=method == "GET", **kwargs)
    except requests.Timeout:
        raise ChannelError(f"{channel_id}: {what}: no answer from {site} within {timeout:g}s") from None
    except requests.RequestException as exc:
        raise ChannelError(f"{channel_id}: {what}: could not reach {site}: "
                           f"{type(exc).__name__}: {redact(str(exc))}") from None

class ApiClient:
    """One channel's API, reached through its Airflow Connection."""

    # Keys of the connection's extra that Warta reads itself (never sent as headers).
    OWN_EXTRA_KEYS: tuple[str, ...] = ()
    # Used when the connection has no host (the public API's address).
    DEFAULT_HOST = ""
    # Told in messages about bad credentials: where to get new ones.
    CREDENTIALS_HINT = ""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.conn_id = channel.conn_id
        self._session: requests.Session | None = None
        self._extra: dict[str, Any] = {}
        self._password = ""
        self._login = ""
        self.base_url = ""
        self.timeout = REQUEST_TIMEOUT_SECONDS

    # ------------------------------------------------------------ connection
    def session(self) -> requests.Session:
        """The session from the Airflow Connection, made on first use."""
        if self._session is None:
            hook = HttpHook(method="GET", http_conn_id=self.conn_id)
            if self.DEFAULT_HOST:
                hook.default_host = f"https://{self.DEFAULT_HOST}"  # for a connection with no host
            try:
                connection = hook.get_connection(self.conn_id)
                session = hook.get_conn(headers={"Accept": "application/json", "User-Agent": USER_AGENT})
            except AirflowNotFoundException:
                raise ChannelAuthError(
                    f"{self.channel.id}: Airflow Connection {self.conn_id!r} is not defined; create it "
                    f"({self.CREDENTIALS_HINT})"
                ) from None
            for key in self.OWN_EXTRA_KEYS:
                session.headers.pop(key, None)
            session.auth = None  # each API authenticates with its own header
            self._extra = dict(connection.extra_dejson or {})
            self._password = connection.password or ""
            self._login = connection.login or ""
            self.base_url = hook.base_url.rstrip("/")
            self.timeout = float(hook.merged_extra.get("timeout") or REQUEST_TIMEOUT_SECONDS)
            self._session = session
        return self._session

    @property
    def extra(self) -> dict[str, Any]:
        self.session()
        return self._extra

    @property
    def password(self) -> str:
        self.session()
        return self._password

    @property
    def login(self) -> str:
        self.session()
        return self._login

    def required_extra(self, key: str, meaning: str) -> str:
        value = str(self.extra.get(key) or "").strip()
        if not value:
            raise ChannelAuthError(
                f"{self.channel.id}: Airflow Connection {self.conn_id!r} has no extra.{key} ({meaning})"
            )
        return value

    # --------------------------------------------------------------- calling
    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate a call (subclasses: bearer tokens)."""
        return {}

    def secrets(self) -> list[str]:
        """Values that must never appear in a message (subclasses add their tokens)."""
        return [s for s in (self._password,) if s]

    def call(self, method: str, path: str, what: str, *, attempt: PublishAttempt | None = None,
             authenticated: bool = True, **kwargs: Any) -> Any:
        """The JSON answer of one API call; throttled calls wait as told while that fits
        the attempt's budget, other failures raise ``ChannelError``."""
        for _ in range(MAX_THROTTLE_WAITS + 1):
            response = self.send(method, path, what, authenticated=authenticated, **kwargs)
            if response.status_code < 300:
                try:
                    return response.json()
                except ValueError:
                    raise ChannelError(f"{self.channel.id}: {what}: HTTP {response.status_code} answer is not JSON "
                                       f"(is {self.base_url} the right address?)") from None
            error = self.error_for(response, what)
            if (error.retryable and error.retry_after is not None and attempt is not None
                    and attempt.wait(error.retry_after, f"{self.channel.id}: {what}: {error}")):
                continue
            raise error
        raise ChannelError(f"{self.channel.id}: {what}: still throttled after {MAX_THROTTLE_WAITS} waits")

    def send(self, method: str, path: str, what: str, *, authenticated: bool = True,
             headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        session = self.session()
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        all_headers = {**(self.auth_headers() if authenticated else {}), **(headers or {})}
        return send_request(session, method, url, channel_id=self.channel.id, what=what, site=self.base_url,
                            timeout=self.timeout, redact=self.redact, headers=all_headers, **kwargs)

    def error_for(self, response: requests.Response, what: str) -> ChannelError:
        """The API's error answer as a ChannelError (subclasses know their error bodies)."""
        status = response.status_code
        reason = self.redact(f"HTTP {status}: {(response.text or response.reason or '')[:300]}")
        if status in (401, 403):
            return ChannelAuthError(f"{self.channel.id}: {what}: {reason}; fix Airflow Connection {self.conn_id!r}")
        return ChannelError(f"{self.channel.id}: {what}: {reason}", retryable=status == 429 or status >= 500)

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            if secret:
                text = text.replace(secret, "***")
        return text
