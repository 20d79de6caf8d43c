"""A stand-in for the X API v2: the parts Warta uses, following the documented behaviour.

``POST /2/oauth2/token`` (``grant_type=refresh_token``; refresh tokens are single use:
each refresh returns a new pair and the old refresh token stops working),
``POST /2/media/upload`` (multipart ``media``, ``media_category``), ``POST /2/tweets``
(``text``, ``media.media_ids``; 280 weighted characters; the same text twice is refused
with 403 "You are not allowed to create a Tweet with duplicate content."),
``GET /2/tweets/{id}`` (a deleted post: 200 with ``errors``), ``GET /2/users/me``,
``GET /2/users/{id}/tweets``, ``GET /2/tweets?ids=...&tweet.fields=public_metrics`` (up to 100
ids; unknown ids come back in ``errors``; ``public_metrics`` from ``tweet_stats`` when a test
sets them, else growing with the post's age). Errors are problem objects ``{"title", "detail", "type", "status"}``;
429 carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset``.

Faults for tests: ``fail_next``, ``rate_limit_next`` (429 with a reset time),
``revoke_access_tokens`` (401), ``accept_then_drop_next`` (does the work, then drops
the connection). Its public side (``/``) lists the posts, for `make run`.

Like X, every ``text`` it answers with has ``&``, ``<`` and ``>`` as HTML entities
(``&amp;``, ``&lt;``, ``&gt;``), though the text posted and counted is the plain one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from warta_dev.sandbox.serving import RunningApp, drop_connection, json_response

DUPLICATE_MESSAGE = "You are not allowed to create a Tweet with duplicate content."


class XProblem(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None,
                 type: str = "about:blank"):
        super().__init__(detail)
        self.status, self.title, self.detail, self.type = status, title, detail, type
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "detail": self.detail, "type": self.type, "status": self.status}


@dataclass
class Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    media_keys: list[str] = field(default_factory=list)


@dataclass
class UploadedMedia:
    id: str
    media_key: str
    data: bytes
    content_type: str


class FakeX:
    """One X account and one OAuth 2.0 app, in memory, as a WSGI application."""

    def __init__(self, *, client_id: str = "sandbox-client", client_secret: str = "",
                 refresh_token: str = "sandbox-refresh-token", user_id: str = "1500000000000000001",
                 username: str = "bsipbabel_sandbox", access_token_seconds: int = 7200):
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens = {refresh_token}
        self.access_tokens: dict[str, float] = {}
        self.user_id = user_id
        self.username = username
        self.access_token_seconds = access_token_seconds
        self.tweets: dict[str, Tweet] = {}
        self.media: dict[str, UploadedMedia] = {}
        self.calls: deque[tuple[str, str]] = deque(maxlen=2000)
        self.refreshes = 0
        # Public metrics a test sets per post id (impression_count, like_count, ...).
        self.tweet_stats: dict[str, dict[str, int]] = {}
        self._ids = itertools.count(1800000000000000001)
        self._faults: list[tuple[XProblem, str | None, str | None]] = []
        self._drops: list[tuple[str, str]] = []
        self._lock = threading.RLock()

    # ------------------------------------------------------------ fault injection
    def fail_next(self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
                  method: str | None = None, path: str | None = None, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self._faults.append((XProblem(status, title, detail, headers), method, path))

    def rate_limit_next(self, reset_in_seconds: int, *, method: str | None = None, path: str | None = None) -> None:
        """The next matching call answers 429 Too Many Requests, reset ``reset_in_seconds`` from now."""
        headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                   "x-rate-limit-reset": str(int(time.time()) + reset_in_seconds)}
        self.fail_next(429, "Too Many Requests", "Too Many Requests", headers=headers, method=method, path=path)

    def revoke_access_tokens(self) -> None:
        with self._lock:
            self.access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()

    def accept_then_drop_next(self, method: str, path: str) -> None:
        with self._lock:
            self._drops.append((method, path))

    def timeline(self) -> list[Tweet]:
        with self._lock:
            return sorted(self.tweets.values(), key=lambda t: t.created_at, reverse=True)

    # --------------------------------------------------------------------- WSGI
    def __call__(self, environ: dict, start_response) -> Any:
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/":
            return self._index_page()
        if "/status/" in path and not path.startswith("/2/"):
            return self._tweet_page(path.rsplit("/", 1)[-1])
        with self._lock:
            self.calls.append((request.method, path))
            try:
                for index, (problem, method, suffix) in enumerate(self._faults):
                    if method in (None, request.method) and (suffix is None or path.endswith(suffix)):
                        self._faults.pop(index)
                        raise problem
                if path == "/2/oauth2/token" and request.method == "POST":
                    return self._token(request)
                self._authenticate(request)
                drop = next((i for i, (m, s) in enumerate(self._drops) if m == request.method and path.endswith(s)),
                            None)
                response = self._route(request, path)
                if drop is not None:
                    self._drops.pop(drop)
                    drop_connection(request.environ)
                return response
            except XProblem as problem:
                return json_response(problem.body(), problem.status, problem.headers)

    def _token(self, request: Request) -> Response:
        form = request.form
        client_id = form.get("client_id")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            if self.client_secret and request.authorization.password != self.client_secret:
                return json_response({"error": "unauthorized_client",
                                      "error_description": "Missing valid authorization header"}, 401)
        if client_id != self.client_id:
            return json_response({"error": "invalid_client", "error_description": "Unknown client"}, 400)
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type", "error_description": "grant_type"}, 400)
        token = form.get("refresh_token", "")
        if token not in self.refresh_tokens:
            return json_response({"error": "invalid_request",
                                  "error_description": "Value passed for the token was invalid."}, 400)
        self.refresh_tokens.discard(token)  # single use: rotated
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.refresh_tokens.add(refresh)
        self.access_tokens[access] = time.time() + self.access_token_seconds
        self.refreshes += 1
        return json_response({"token_type": "bearer", "expires_in": self.access_token_seconds,
                              "access_token": access, "refresh_token": refresh,
                              "scope": "tweet.read tweet.write users.read media.write offline.access"})

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if self.access_tokens.get(token, 0) < time.time():
            raise XProblem(401, "Unauthorized", "Unauthorized")

    def _route(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/2/media/upload" and method == "POST":
            return self._upload(request)
        if path == "/2/tweets" and method == "POST":
            return self._create_tweet(request)
        if path == "/2/tweets" and method == "GET":
            return self._lookup_tweets(request)
        if path.startswith("/2/tweets/") and method == "GET":
            return self._get_tweet(path.rsplit("/", 1)[-1], request)
        if path.startswith("/2/tweets/") and method == "DELETE":
            deleted = self.tweets.pop(path.rsplit("/", 1)[-1], None) is not None
            return json_response({"data": {"deleted": deleted}})
        if path == "/2/users/me" and method == "GET":
            return json_response({"data": {"id": self.user_id, "name": "BSIP Babel", "username": self.username}})
        if path == f"/2/users/{self.user_id}/tweets" and method == "GET":
            return self._user_tweets(request)
        raise XProblem(404, "Not Found Error", f"Could not find {method} {path}",
                       type="https://api.twitter.com/2/problems/resource-not-found")

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("media")
        if upload is not None:
            data = upload.read()
            content_type = request.form.get("media_type") or upload.mimetype
        elif request.form.get("media"):
            data = base64.b64decode(request.form["media"])
            content_type = request.form.get("media_type") or "application/octet-stream"
        else:
            raise XProblem(400, "Invalid Request", "One or more parameters to your request was invalid: media")
        if request.form.get("media_category", "tweet_image") == "tweet_image" and len(data) > 5 * 1024 * 1024:
            raise XProblem(400, "Invalid Request", "File size exceeds 5242880 bytes.")
        media_id = str(next(self._ids))
        media = UploadedMedia(media_id, f"3_{media_id}", data, content_type)
        self.media[media_id] = media
        return json_response({"data": {"id": media_id, "media_key": media.media_key, "size": len(data),
                                       "expires_after_secs": 86400,
                                       "image": {"image_type": content_type}}})

    def _create_tweet(self, request: Request) -> Response:
        from warta.channels.social import x_weighted_length

        body = request.get_json(silent=True) or {}
        text = str(body.get("text") or "")
        media_ids = [str(m) for m in ((body.get("media") or {}).get("media_ids") or [])]
        if not text and not media_ids:
            raise XProblem(400, "Invalid Request", "One or more parameters to your request was invalid.")
        if x_weighted_length(text) > 280:
            raise XProblem(400, "Invalid Request", "Your Tweet text is too long.")
        if len(media_ids) > 4 or any(m not in self.media for m in media_ids):
            raise XProblem(400, "Invalid Request", "Your media IDs are invalid.")
        if any(t.text == text for t in self.tweets.values()):
            raise XProblem(403, "Forbidden", DUPLICATE_MESSAGE)
        tweet = Tweet(id=str(next(self._ids)), text=text, author_id=self.user_id,
                      created_at=datetime.now(timezone.utc), media_keys=[self.media[m].media_key for m in media_ids])
        self.tweets[tweet.id] = tweet
        return json_response({"data": {"id": tweet.id, "text": _x_escaped(tweet.text),
                                       "edit_history_tweet_ids": [tweet.id]}}, 201)

    def _tweet_json(self, tweet: Tweet) -> dict[str, Any]:
        data: dict[str, Any] = {"id": tweet.id, "text": _x_escaped(tweet.text), "author_id": tweet.author_id,
                                "created_at": tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                "edit_history_tweet_ids": [tweet.id]}
        if tweet.media_keys:
            data["attachments"] = {"media_keys": list(tweet.media_keys)}
        return data

    def _public_metrics(self, tweet: Tweet) -> dict[str, int]:
        age = (datetime.now(timezone.utc) - tweet.created_at).total_seconds()
        grow = min(1.0, max(0.0, age) / (3 * 86400))

        def figure(salt: str, scale: int) -> int:
            return int((int(hashlib.sha256((tweet.id + salt).encode()).hexdigest()[:6], 16) % 300 + 20) * scale * grow)

        grown = {"retweet_count": figure("r", 1) // 10, "reply_count": figure("p", 1) // 15,
                 "like_count": figure("l", 1) // 2, "quote_count": figure("q", 1) // 40,
                 "bookmark_count": figure("b", 1) // 20, "impression_count": figure("i", 30)}
        return {**grown, **self.tweet_stats.get(tweet.id, {})}

    def _lookup_tweets(self, request: Request) -> Response:
        ids = [i for i in (request.args.get("ids") or "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            raise XProblem(400, "Invalid Request", "The `ids` query parameter value [{}] is not valid: 1 to 100 "
                           "comma-separated numeric ids".format(request.args.get("ids", "")),
                           type="https://api.twitter.com/2/problems/invalid-request")
        fields = set((request.args.get("tweet.fields") or "").split(","))
        data, errors = [], []
        for tweet_id in ids:
            tweet = self.tweets.get(tweet_id)
            if tweet is None:
                errors.append({"value": tweet_id, "detail": f"Could not find tweet with ids: [{tweet_id}].",
                               "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                               "resource_id": tweet_id,
                               "type": "https://api.twitter.com/2/problems/resource-not-found"})
                continue
            entry = self._tweet_json(tweet)
            if "public_metrics" in fields:
                entry["public_metrics"] = self._public_metrics(tweet)
            data.append(entry)
        answer: dict[str, Any] = {}
        if data:
            answer["data"] = data
        if errors:
            answer["errors"] = errors
        return json_response(answer)

    def _get_tweet(self, tweet_id: str, request: Request) -> Response:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            return json_response({"errors": [{"value": tweet_id, "detail": f"Could not find tweet with id: "
                                              f"[{tweet_id}].", "title": "Not Found Error", "resource_type": "tweet",
                                              "parameter": "id", "resource_id": tweet_id,
                                              "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        answer: dict[str, Any] = {"data": self._tweet_json(tweet)}
        if "attachments.media_keys" in request.args.get("expansions", "") and tweet.media_keys:
            answer["includes"] = {"media": [{"media_key": key, "type": "photo"} for key in tweet.media_keys]}
        return json_response(answer)

    def _user_tweets(self, request: Request) -> Response:
        start = request.args.get("start_time")
        since = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) if start else None
        limit = int(request.args.get("max_results") or 10)
        tweets = [t for t in self.timeline() if since is None or t.created_at >= since][:limit]
        if not tweets:
            return json_response({"meta": {"result_count": 0}})
        return json_response({"data": [self._tweet_json(t) for t in tweets],
                              "meta": {"result_count": len(tweets), "newest_id": tweets[0].id,
                                       "oldest_id": tweets[-1].id}})

    # ------------------------------------------------------------ public pages
    def _index_page(self) -> Response:
        with self._lock:
            items = "".join(f"<li><a href=\"/{self.username}/status/{t.id}\">{html.escape(t.text)}</a></li>"
                            for t in self.timeline())
        return Response(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sandbox X</title></head><body>"
            "<p>Warta's sandbox X API: a stand-in for the unit's X account.</p>"
            f"<h1>@{html.escape(self.username)}</h1><ul>{items or '<li>Nothing yet.</li>'}</ul></body></html>",
            200, mimetype="text/html")

    def _tweet_page(self, tweet_id: str) -> Response:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            return Response("This post is unavailable.", 404, mimetype="text/plain")
        return Response(f"<!doctype html><html><body><p>{html.escape(tweet.text)}</p></body></html>", 200,
                        mimetype="text/html")


def serve_fake_x(*, host: str = "127.0.0.1", port: int = 0, delay_seconds: float = 0.0, **options) -> RunningApp:
    """A FakeX (``options`` as its constructor takes) served on a free port; call ``stop()``."""
    return RunningApp(FakeX(**options), host, port, delay_seconds=delay_seconds)


def _x_escaped(text: str) -> str:
    """A post's text as X's API answers it: ``&``, ``<``, ``>`` as entities (quotes as typed)."""
    return html.escape(text, quote=False)
