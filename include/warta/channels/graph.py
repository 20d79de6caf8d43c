"""Meta's Graph API (Facebook Pages and Instagram content publishing): the connection,
the error codes, and the usage headers that say how long to wait.

Connection (type ``warta_facebook_page`` or ``warta_instagram``, see
``warta.airflow.hooks``; ``http`` works too): host ``graph.facebook.com`` (the default), schema https, the
access token in ``password`` (a long-lived Page access token for Facebook; for Instagram
the token of the user or system user that manages the Instagram professional account),
and in ``extra``: ``page_id`` or ``ig_user_id``, optionally ``api_version`` (default:
channels.yaml ``graph_api.default_version``, v26.0).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import requests

from warta import boundary
from warta.boundary import ConnectionNotFound
from warta.channels.api import ApiClient
from warta.channels.base import ChannelAuthError, ChannelDuplicate, ChannelError, PublishAttempt
from warta.http_retry import retry_after_seconds

# Error codes of the Graph API (developers.facebook.com, "Handling errors").
EXPIRED_TOKEN_CODES = (190, 102)
PERMISSION_CODES = (10,) + tuple(range(200, 300))
THROTTLING_CODES = (4, 17, 32, 613) + tuple(range(80001, 80015))
TRANSIENT_CODES = (1, 2)
DUPLICATE_POST_CODE = 506
BLOCKED_CODE = 368
OBJECT_MISSING_CODE = 100
OBJECT_MISSING_SUBCODE = 33
# Instagram: "the maximum number of posts that can be published via API in 24 hours".
IG_PUBLISH_LIMIT_SUBCODE = 2207042


def connection_api_version(extra: dict) -> str:
    """The Graph API version a Connection calls: its extra ``api_version``, else the
    configured default (channels.yaml ``graph_api.default_version``)."""
    from warta.config import get_config

    return str(extra.get("api_version") or get_config().graph_api.default_version)


GRAPH_CHANNEL_KINDS = ("facebook_page", "instagram")


def graph_versions_in_use(config) -> dict[str, str]:
    """channel id -> the Graph API version its Connection calls, for every Graph channel."""
    versions = {}
    for channel in config.channels.values():
        if channel.kind not in GRAPH_CHANNEL_KINDS:
            continue
        try:
            extra = boundary.connections().get(channel.conn_id).extra
        except ConnectionNotFound:
            continue  # a channel without its Connection is not in use
        versions[channel.id] = connection_api_version(extra)
    return versions


class GraphObjectMissing(ChannelError):
    """The object asked for does not exist (any more), or is not visible to this token."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


class GraphApi(ApiClient):
    CREDENTIALS_HINT = "host graph.facebook.com, the access token as password, the page or account id in extra"
    _verified = False

    @property
    def version(self) -> str:
        return connection_api_version(self.extra)

    def token(self) -> str:
        token = self.password or str(self.extra.get("access_token") or "")
        if not token:
            raise ChannelAuthError(f"{self.channel.id}: Airflow Connection {self.conn_id!r} has no access token "
                                   "(put it in the connection's password)")
        return token

    def auth_headers(self) -> dict[str, str]:
        # A header, not ?access_token=: tokens stay out of URLs, proxies and logs.
        return {"Authorization": f"Bearer {self.token()}"}

    def secrets(self) -> list[str]:
        return super().secrets() + [str(self._extra.get("access_token") or "")]

    def path(self, node: str) -> str:
        return f"/{self.version}/{node.lstrip('/')}"

    def graph(self, method: str, node: str, what: str, **kwargs: Any) -> Any:
        return self.call(method, self.path(node), what, **kwargs)

    def verify_credentials(self, node: str, meaning: str, attempt: PublishAttempt | None = None) -> None:
        """One cheap call before anything else (``GET /{node}?fields=id``): the token works
        and reaches the Page or account the connection names (once per client)."""
        if self._verified:
            return
        try:
            self.graph("GET", node, f"checking the token and {meaning} (GET /{node}?fields=id)",
                       params={"fields": "id"}, attempt=attempt)
        except GraphObjectMissing as exc:
            raise ChannelAuthError(
                f"{self.channel.id}: {meaning} {node!r} named in Airflow Connection {self.conn_id!r} cannot be "
                f"read with its token ({exc}). Put the right id in the connection's extra, or a token of a user "
                "who manages it in its password."
            ) from None
        self._verified = True

    def error_for(self, response: requests.Response, what: str) -> ChannelError:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        if not isinstance(error, dict) or not error:
            return super().error_for(response, what)
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = self.redact(str(error.get("error_user_msg") or error.get("message") or "").strip())
        trace = f", fbtrace_id {error['fbtrace_id']}" if error.get("fbtrace_id") else ""
        reason = f"Graph API error {code}" + (f"/{subcode}" if subcode else "") + f": {message}{trace}"
        prefix = f"{self.channel.id}: {what}"
        if code in EXPIRED_TOKEN_CODES or (response.status_code == 401 and code is None):
            return ChannelAuthError(
                f"{prefix}: the access token in Airflow Connection {self.conn_id!r} has expired or was revoked "
                f"({reason}). Generate a new long-lived token and put it in that connection's password."
            )
        if code in PERMISSION_CODES:
            return ChannelAuthError(
                f"{prefix}: the token in Airflow Connection {self.conn_id!r} lacks a permission ({reason}). "
                "Grant it to the app (pages_manage_posts, pages_read_engagement, instagram_content_publish) "
                "and put the new token in the connection."
            )
        if code in THROTTLING_CODES:
            wait = throttle_wait_seconds(response.headers)
            usage = usage_summary(response.headers)
            return ChannelError(f"{prefix}: throttled by Meta ({reason}){usage}", retryable=True, retry_after=wait)
        if code == DUPLICATE_POST_CODE:
            return ChannelDuplicate(f"{prefix}: {reason}")
        if code == BLOCKED_CODE:
            return ChannelError(f"{prefix}: Meta blocked the action as possibly abusive ({reason}); an admin of "
                                "the page must review it in Meta Business Suite", retryable=False)
        if subcode == IG_PUBLISH_LIMIT_SUBCODE:
            return ChannelError(f"{prefix}: the account's 24-hour publishing limit is reached ({reason})",
                                retryable=False)
        if code == OBJECT_MISSING_CODE and (subcode == OBJECT_MISSING_SUBCODE or response.status_code == 404):
            return GraphObjectMissing(f"{prefix}: {reason}")
        if code in TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
            return ChannelError(f"{prefix}: {reason}", retryable=True)
        return ChannelError(f"{prefix}: {reason}", retryable=False)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def throttle_wait_seconds(headers) -> float | None:
    """How long Meta says to wait: ``Retry-After``, or the longest
    ``estimated_time_to_regain_access`` (minutes) of ``X-Business-Use-Case-Usage``.
    ``X-App-Usage`` and ``X-Page-Usage`` give percentages of a rolling hour and no time:
    None then (Airflow's retry with backoff waits instead)."""
    retry_after = retry_after_seconds(headers.get("Retry-After"))
    if retry_after is not None:
        return retry_after
    usage = _json_header(headers.get("X-Business-Use-Case-Usage"))
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    if minutes:
        return max(minutes) * 60 or 1.0  # 0 minutes: regained already, try again shortly
    return None


def usage_summary(headers) -> str:
    """The usage percentages Meta sent, for the message (e.g. `` [X-App-Usage call_count 100%]``)."""
    parts = []
    for name in ("X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage"):
        usage = _json_header(headers.get(name))
        if isinstance(usage, dict) and usage:
            parts.append(f"{name} " + ", ".join(f"{k} {v}%" for k, v in usage.items()))
    return f" [{'; '.join(parts)}]" if parts else ""


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def fingerprint(text: str) -> str:
    """A short hash of what was sent: an attempt whose answer was lost finds its post by it."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:24]


def epoch_now() -> int:
    return int(time.time())
