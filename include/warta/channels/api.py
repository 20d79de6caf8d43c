"""The one transport of every channel: an HTTP session from the channel's connection
(``warta.boundary.http()``: the channel's Airflow Hook), JSON calls, one retry policy,
and secrets kept out of messages.

The retry policy (tenacity): a call the channel refused with a throttle that says how
long to wait (``retry_after``: ``Retry-After``, or the platform's own headers) is sent
again after that wait, while the wait fits the attempt's time budget, at most
``MAX_THROTTLE_WAITS`` times. A refused call did nothing on the channel, so sending it
again never posts twice; every other failure is raised for the publisher to decide.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
import tenacity

from warta import boundary
from warta.boundary import ConnectionNotFound
from warta.channels.base import ChannelAuthError, ChannelError, PublishAttempt
from warta.config import Channel

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 60.0  # media uploads can be large; the connection's extra may say otherwise
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
    """One channel's API, reached through its connection."""

    # Told in messages about a missing connection: what it must hold.
    CREDENTIALS_HINT = ""
    # Told when an answer is not JSON: what the address should be.
    NOT_JSON_HINT = "the right address"

    def __init__(self, channel: Channel):
        self.channel = channel
        self.conn_id = channel.conn_id
        self._connection: boundary.HttpConnection | None = None
        self._extra: dict[str, Any] = {}
        self._password = ""
        self._login = ""
        self.base_url = ""
        self.timeout = REQUEST_TIMEOUT_SECONDS

    # ------------------------------------------------------------ connection
    def session(self) -> requests.Session:
        """The session from the channel's connection, made on first use."""
        if self._connection is None:
            try:
                connection = boundary.http().open(self.channel.kind, self.conn_id)
            except ConnectionNotFound:
                raise ChannelAuthError(
                    f"{self.channel.id}: Airflow Connection {self.conn_id!r} is not defined; create it "
                    f"({self.CREDENTIALS_HINT})"
                ) from None
            self._extra = dict(connection.extra)
            self._password = connection.password
            self._login = connection.login
            self.base_url = connection.base_url.rstrip("/")
            # A hung site must not hang the task.
            self.timeout = float(connection.timeout or REQUEST_TIMEOUT_SECONDS)
            self._connection = connection
        return self._connection.session

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
        the attempt's budget (the retry policy above), other failures raise ``ChannelError``."""

        def once() -> Any:
            response = self.send(method, path, what, authenticated=authenticated, **kwargs)
            if response.status_code >= 300:
                raise self.error_for(response, what)
            return self.json_of(response, what)

        if attempt is None:
            return once()  # no budget to wait in: the caller decides (Airflow's retry)
        return throttle_retrying(attempt, f"{self.channel.id}: {what}")(once)

    def json_of(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ChannelError(f"{self.channel.id}: {what}: HTTP {response.status_code} answer is not JSON "
                               f"(is {self.base_url} {self.NOT_JSON_HINT}?)") from None

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


def throttle_retrying(attempt: PublishAttempt, why: str) -> tenacity.Retrying:
    """The retry policy: again after the wait a throttle asks for, while it fits ``attempt``."""

    def throttled_within_budget(error: BaseException) -> bool:
        return (isinstance(error, ChannelError) and error.retryable and error.retry_after is not None
                and error.retry_after <= attempt.remaining())

    def still_throttled(state: tenacity.RetryCallState) -> Any:
        raise ChannelError(f"{why}: still throttled after {MAX_THROTTLE_WAITS} waits")

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(throttled_within_budget),
        wait=lambda state: state.outcome.exception().retry_after,
        # attempt.wait sleeps on the attempt's clock and extends its lease first.
        sleep=lambda seconds: attempt.wait(seconds, why),
        stop=tenacity.stop_after_attempt(MAX_THROTTLE_WAITS + 1),
        retry_error_callback=still_throttled,
    )
