"""The X channel (API v2): a post with up to four photos, as the unit's account.

Connection (type ``warta_x``, see ``warta.airflow.hooks``; ``http`` works too): host
``api.x.com`` (the default), schema https; ``login`` is the app's OAuth 2.0 client id,
``password`` its client secret (empty for a public client); ``extra.refresh_token`` is a
refresh token of the account, from an authorization with the scopes
``tweet.read tweet.write users.read media.write offline.access``.

Tokens: X's access tokens live two hours and every refresh *rotates* the refresh token
(the old one stops working). The current pair is therefore kept in an Airflow Variable
(``warta_x_oauth_token_<conn_id>``: in Airflow's metadata DB, encrypted with its Fernet
key, masked in the UI because its name contains "token"), and the access token is also
cached in memory per process. The connection's refresh token is the starting point, and
is used again when an operator puts a new one there after re-authorizing.

Calls: ``POST /2/media/upload`` (multipart ``media``, ``media_category=tweet_image``),
``POST /2/tweets`` (``text``, ``media.media_ids``), ``GET /2/tweets/{id}``,
``GET /2/users/me``, ``GET /2/users/{id}/tweets``, ``POST /2/oauth2/token``.

Exactly once: the text's fingerprint and the time are recorded before the post, its id
after. A later attempt reads the recorded post, or finds it in the account's recent posts;
X's own "duplicate content" refusal leads to the same look-up.

X answers a post's ``text`` with ``&``, ``<`` and ``>`` as HTML entities; what Warta reads
back is decoded (``_plain_text``) before it is compared with what was sent.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from typing import Any, Protocol

import requests

from warta import boundary
from warta.channels.api import ApiClient
from warta.channels.base import (
    ChannelAuthError,
    ChannelDuplicate,
    ChannelError,
    CheckResult,
    PostContent,
    PublishAttempt,
    RemotePost,
    utc_timestamp,
)
from warta.channels.graph import epoch_now, fingerprint
from warta.channels.typography import comparable
from warta.config import Channel
from warta.http_retry import retry_after_seconds
from warta.channels.social import adapt, rules_for

log = logging.getLogger(__name__)

DUPLICATE_DETAIL = "duplicate content"
TOKEN_VARIABLE_PREFIX = "warta_x_oauth_token_"
# Refresh this long before X says the access token expires.
EXPIRY_MARGIN_SECONDS = 120
# Uploaded media may be attached within 24 hours; reuse only well inside that.
MEDIA_REUSE_SECONDS = 12 * 3600
LOOKUP_SLACK_SECONDS = 300
_URL = re.compile(r"https?://\S+")


# ------------------------------------------------------------------ tokens
class TokenStore(Protocol):
    def load(self, conn_id: str) -> dict[str, Any] | None:
        """The last saved ``{"access_token", "refresh_token", "expires_at"}``, if any."""

    def save(self, conn_id: str, tokens: dict[str, Any]) -> None:
        """Keep the pair for the next process (the old refresh token no longer works)."""


class VariableTokenStore:
    """The platform's secrets (Airflow Variables: in the metadata DB, Fernet-encrypted,
    masked in the UI)."""

    def load(self, conn_id: str) -> dict[str, Any] | None:
        return boundary.secrets().get_json(TOKEN_VARIABLE_PREFIX + conn_id)

    def save(self, conn_id: str, tokens: dict[str, Any]) -> None:
        description = f"X OAuth 2.0 tokens of Airflow Connection {conn_id} (rotated by Warta)"
        boundary.secrets().set_json(TOKEN_VARIABLE_PREFIX + conn_id, tokens, description=description)


class MemoryTokenStore:
    """Tokens kept by this process only (tests, and a fallback when Variables fail)."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Any]] = {}

    def load(self, conn_id: str) -> dict[str, Any] | None:
        return self.saved.get(conn_id)

    def save(self, conn_id: str, tokens: dict[str, Any]) -> None:
        self.saved[conn_id] = dict(tokens)


# One access token per connection per process, shared by every publisher instance.
_cached_tokens: dict[str, dict[str, Any]] = {}
_token_lock = threading.Lock()


class XApi(ApiClient):
    CREDENTIALS_HINT = ("host api.x.com, the OAuth 2.0 client id as login, the client secret as password, "
                        "extra.refresh_token")

    def __init__(self, channel: Channel, token_store: TokenStore | None = None):
        super().__init__(channel)
        self.token_store = token_store or VariableTokenStore()

    # ------------------------------------------------------------ tokens
    def access_token(self) -> str:
        with _token_lock:
            cached = _cached_tokens.get(self.conn_id)
            if cached and cached.get("expires_at", 0) - EXPIRY_MARGIN_SECONDS > time.time():
                return cached["access_token"]
            stored = self.token_store.load(self.conn_id)
            if stored and stored.get("access_token") and \
                    stored.get("expires_at", 0) - EXPIRY_MARGIN_SECONDS > time.time():
                _cached_tokens[self.conn_id] = stored
                return stored["access_token"]
            return self._refresh(stored)["access_token"]

    def invalidate(self) -> None:
        with _token_lock:
            _cached_tokens.pop(self.conn_id, None)
            stored = self.token_store.load(self.conn_id)
            if stored:
                self.token_store.save(self.conn_id, {**stored, "expires_at": 0})

    def _refresh(self, stored: dict[str, Any] | None) -> dict[str, Any]:
        """A new access token, trying the saved refresh token, then the connection's."""
        candidates = [t for t in ((stored or {}).get("refresh_token"), self.extra.get("refresh_token")) if t]
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            raise ChannelAuthError(f"{self.channel.id}: Airflow Connection {self.conn_id!r} has no "
                                   "extra.refresh_token; authorize the app for the account (OAuth 2.0 with "
                                   "offline.access) and put the refresh token there")
        refusal = ""
        for refresh_token in candidates:
            response = self._token_request(refresh_token)
            if response.status_code < 300:
                answer = response.json()
                tokens = {
                    "access_token": answer["access_token"],
                    # X rotates refresh tokens; keep the old one only if none was sent.
                    "refresh_token": answer.get("refresh_token") or refresh_token,
                    "expires_at": time.time() + float(answer.get("expires_in") or 7200),
                }
                _mask(tokens["access_token"], tokens["refresh_token"])
                try:
                    self.token_store.save(self.conn_id, tokens)
                except Exception as exc:
                    log.error("%s: could not save the rotated X tokens (%s); the next process will need a new "
                              "refresh token in Airflow Connection %r", self.channel.id, type(exc).__name__,
                              self.conn_id)
                _cached_tokens[self.conn_id] = tokens
                log.info("%s: refreshed the X access token of connection %s", self.channel.id, self.conn_id)
                return tokens
            refusal = self.redact(f"HTTP {response.status_code}: {response.text[:300]}")
            if response.status_code >= 500 or response.status_code == 429:
                raise ChannelError(f"{self.channel.id}: refreshing the X access token: {refusal}", retryable=True)
        # Another task may have rotated the pair a moment ago: its saved access token serves.
        latest = self.token_store.load(self.conn_id)
        if latest and latest.get("refresh_token") not in candidates and \
                latest.get("expires_at", 0) - EXPIRY_MARGIN_SECONDS > time.time():
            _cached_tokens[self.conn_id] = latest
            return latest
        raise ChannelAuthError(
            f"{self.channel.id}: X refused the refresh token of Airflow Connection {self.conn_id!r} ({refusal}); "
            "it was revoked or already used. Authorize the app for the account again and put the new refresh "
            "token in that connection's extra.refresh_token."
        )

    def _token_request(self, refresh_token: str) -> requests.Response:
        url = self.extra.get("token_url") or f"{self.base_url}/2/oauth2/token"
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.login}
        # Confidential clients authenticate with basic auth; public clients send client_id only.
        auth = (self.login, self.password) if self.password else None
        try:
            return self.session().post(url, data=data, auth=auth, timeout=self.timeout,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        except requests.RequestException as exc:
            raise ChannelError(f"{self.channel.id}: refreshing the X access token: could not reach {url}: "
                               f"{type(exc).__name__}") from None

    def secrets(self) -> list[str]:
        values = super().secrets() + [str(self._extra.get("refresh_token") or "")]
        cached = _cached_tokens.get(self.conn_id) or {}
        return values + [str(cached.get("access_token") or ""), str(cached.get("refresh_token") or "")]

    # ------------------------------------------------------------- calling
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        try:
            return super().call(method, path, what, **kwargs)
        except ChannelAuthError as error:
            if getattr(error, "status", None) != 401:
                raise
            # The access token may have been revoked early or rotated elsewhere: once more, fresh.
            self.invalidate()
            return super().call(method, path, what, **kwargs)

    def error_for(self, response: requests.Response, what: str) -> ChannelError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
            errors = body.get("errors")
            if not detail and isinstance(errors, list) and errors:
                detail = "; ".join(str(e.get("message") or e.get("detail") or e) for e in errors if e)
        reason = self.redact(f"HTTP {status}: {detail or response.reason or ''}".strip())
        prefix = f"{self.channel.id}: {what}"
        if status == 401:
            error = ChannelAuthError(f"{prefix}: X does not accept the access token ({reason}); check Airflow "
                                     f"Connection {self.conn_id!r} (client id, secret, refresh token)")
            error.status = 401
            return error
        if status == 403 and DUPLICATE_DETAIL in detail.lower():
            return ChannelDuplicate(f"{prefix}: {reason}")
        if status == 403:
            return ChannelAuthError(f"{prefix}: X forbids this for the account or app of Airflow Connection "
                                    f"{self.conn_id!r} ({reason}); the app needs Read and Write permission")
        if status == 429:
            reset = response.headers.get("x-rate-limit-reset")
            wait = None
            if reset and reset.isdigit():
                wait = max(1.0, float(reset) - time.time())
            else:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            return ChannelError(f"{prefix}: rate limited by X ({reason})", retryable=True, retry_after=wait)
        return ChannelError(f"{prefix}: {reason}", retryable=status >= 500)


class XPublisher:
    def __init__(self, channel: Channel, api: XApi | None = None, token_store: TokenStore | None = None):
        self.channel = channel
        self.api = api or XApi(channel, token_store)
        self.rules = rules_for(channel)
        self._account: dict[str, Any] | None = None

    # ------------------------------------------------------------ the protocol
    def find_existing(self, marker: str, attempt: PublishAttempt | None = None) -> RemotePost | None:
        self._me(attempt)  # the credentials first: a token refresh if due, then GET /2/users/me
        details = attempt.details if attempt else {}
        if details.get("tweet_id"):
            found = self._read(details["tweet_id"], attempt)
            if found is not None:
                return self._remote(found, details)
            log.warning("%s: recorded post %s is gone", self.channel.id, details["tweet_id"])
        if details.get("fingerprint"):
            found = self._find_by_fingerprint(details["fingerprint"], int(details.get("requested_at") or 0), attempt)
            if found is not None:
                if attempt is not None:
                    attempt.note(tweet_id=found["id"])
                return self._remote(found, details)
        return None

    def publish(self, content: PostContent, marker: str, attempt: PublishAttempt | None = None) -> RemotePost:
        attempt = attempt or PublishAttempt()
        self._me(attempt)
        post = adapt(content, self.rules)
        media_ids = self._upload(post.images, attempt)
        attempt.note(fingerprint=_text_fingerprint(post.text), requested_at=epoch_now(), marker=marker)
        payload: dict[str, Any] = {"text": post.text}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        try:
            created = self.api.call("POST", "/2/tweets", "creating the post", json=payload, attempt=attempt)
        except ChannelDuplicate as duplicate:
            found = self.find_existing(marker, attempt)
            if found is not None:
                return found
            raise ChannelError(f"{duplicate} (and no post of ours with this text was found on the account)",
                               retryable=False) from None
        tweet_id = created["data"]["id"]
        attempt.note(tweet_id=tweet_id)
        log.info("%s: published post %s", self.channel.id, tweet_id)
        return self._remote(created["data"], attempt.details)

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        failures: list[str] = []
        evidence: dict[str, Any] = {"read_through": "x_api_v2", "remote_id": post.remote_id, "url": post.url,
                                    "checked_at": utc_timestamp(), "failures": failures}
        started = time.monotonic()
        found = self._read(post.remote_id, None, with_media=True)
        evidence["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        if found is None:
            failures.append("the post is not there any more")
            return CheckResult(ok=False, http_status=404, evidence=evidence)
        text = _plain_text(found)
        evidence["text_excerpt"] = text[:280]
        evidence["title_found"] = comparable(content.title)[:60] in comparable(text)
        if not evidence["title_found"]:
            failures.append(f"the title {content.title!r} is not in the post's text")
        expected_media = len(post.details.get("media_ids") or [])
        media_keys = (found.get("attachments") or {}).get("media_keys") or []
        evidence["media_expected"] = expected_media
        evidence["media_found"] = len(media_keys)
        if len(media_keys) < expected_media:
            failures.append(f"the post shows {len(media_keys)} of its {expected_media} photos")
        return CheckResult(ok=not failures, http_status=200, evidence=evidence)

    # ---------------------------------------------------------------- helpers
    def _upload(self, images, attempt: PublishAttempt) -> list[str]:
        """Upload the photos, reusing those an earlier attempt uploaded recently."""
        uploaded = list(attempt.details.get("media_ids") or [])
        if uploaded and epoch_now() - int(attempt.details.get("media_uploaded_at") or 0) > MEDIA_REUSE_SECONDS:
            uploaded = []  # too old to attach: upload again
        for image in images[len(uploaded):]:
            answer = self.api.call(
                "POST", "/2/media/upload", f"uploading {image.filename}", attempt=attempt,
                data={"media_category": "tweet_image", "media_type": image.content_type},
                files={"media": (image.filename, image.data, image.content_type)},
            )
            data = answer.get("data") or answer
            uploaded.append(str(data.get("id") or data.get("media_id_string") or data.get("media_id")))
            attempt.note(media_ids=uploaded, media_uploaded_at=epoch_now())
        return uploaded

    def _read(self, tweet_id: str, attempt: PublishAttempt | None, with_media: bool = False) -> dict | None:
        params = {"tweet.fields": "created_at,attachments,author_id"}
        if with_media:
            params.update({"expansions": "attachments.media_keys", "media.fields": "url,type"})
        answer = self.api.call("GET", f"/2/tweets/{tweet_id}", f"reading post {tweet_id}", params=params,
                               attempt=attempt)
        return answer.get("data")  # a deleted post: 200 with "errors" and no "data"

    def _me(self, attempt: PublishAttempt | None) -> dict[str, Any]:
        """The account the connection's tokens belong to (read once per publisher)."""
        if self._account is None:
            answer = self.api.call("GET", "/2/users/me", "checking the account's tokens (GET /2/users/me)",
                                   attempt=attempt)
            self._account = answer["data"]
        return self._account

    def _find_by_fingerprint(self, wanted: str, requested_at: int, attempt) -> dict[str, Any] | None:
        me = self._me(attempt)
        params: dict[str, Any] = {"max_results": 20, "tweet.fields": "created_at,attachments"}
        if requested_at:
            since = time.gmtime(requested_at - LOOKUP_SLACK_SECONDS)
            params["start_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", since)
        answer = self.api.call("GET", f"/2/users/{me['id']}/tweets", "looking for the post of an earlier attempt",
                               params=params, attempt=attempt)
        for candidate in answer.get("data") or []:
            if _text_fingerprint(_plain_text(candidate)) == wanted:
                return candidate
        return None

    def _username(self, details: dict[str, Any]) -> str:
        username = self.api.extra.get("username") or details.get("username")
        if not username:
            username = self._me(None).get("username") or "i"
        return str(username)

    def _remote(self, tweet: dict[str, Any], details: dict[str, Any]) -> RemotePost:
        username = self._username(details)
        public = str(self.api.extra.get("public_url") or "https://x.com").rstrip("/")
        return RemotePost(
            remote_id=str(tweet["id"]),
            url=f"{public}/{username}/status/{tweet['id']}",
            details={**details, "tweet_id": str(tweet["id"]), "username": username},
        )


def _mask(*secrets: str) -> None:
    """Have the platform's log masker hide the new tokens wherever they might be printed."""
    for secret in secrets:
        boundary.secrets().mask(secret)


def _plain_text(tweet: dict[str, Any]) -> str:
    """A post's text as typed: X sends ``&``, ``<`` and ``>`` as entities (and escapes every
    ``&``, so decoding once is exact)."""
    return html.unescape(str(tweet.get("text") or ""))


def _text_fingerprint(text: str) -> str:
    """X shortens every link to t.co in what it stores: compare texts with links blanked."""
    return fingerprint(_URL.sub("<link>", text))
