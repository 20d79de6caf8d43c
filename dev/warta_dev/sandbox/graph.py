"""A stand-in for Meta's Graph API: a Facebook Page and an Instagram professional account,
the parts Warta uses, following the documented behaviour.

Facebook: ``POST /{page-id}/feed`` (``message``, ``link``, ``attached_media[i]``),
``POST /{page-id}/photos`` (``source`` file or ``url``, ``message``, ``published``),
``GET /{page-id}/published_posts``, ``GET /{post-id}``; a text already posted in the
last day is refused with error 506.
Instagram: ``POST /{ig-user-id}/media`` (``image_url`` fetched like Instagram does: JPEG
only, aspect ratio 4:5..1.91:1; ``is_carousel_item``; ``media_type=CAROUSEL`` with
``children``), ``GET /{container-id}?fields=status_code``, ``POST /{ig-user-id}/media_publish``,
``GET /{ig-user-id}/media``, ``GET /{ig-user-id}/content_publishing_limit``.
Metrics (read by the DAG ``jangkauan_kanal``): ``GET /{post-id}/insights?metric=...``
(``post_total_media_view_unique``, ``post_reactions_by_type_total``, ...; the deprecated
``post_impressions_unique`` and friends are refused with error 100, as Meta does),
``GET /{post-id}?fields=shares,comments.summary(true).limit(0)`` (no ``shares`` field when
nobody shared), ``GET /{media-id}/insights?metric=reach,likes,comments,shares,saved,views``
(``impressions``/``plays``/``video_views`` refused). A post younger than
``insights_delay_seconds`` has no insights yet: an empty data set (never zeros). Missing
permissions (``missing_permissions``: ``read_insights``, ``pages_read_engagement``,
``instagram_manage_insights``) are refused with error 10 or 200 as documented. Figures come
from ``post_stats``/``media_stats`` when a test sets them, else grow with the post's age.
Errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.
Tokens come as ``Authorization: Bearer`` or ``access_token``.

Faults for tests: ``fail_next`` (any documented error, with headers such as
``X-Business-Use-Case-Usage``), ``expire_token`` (190/463), ``accept_then_drop_next``
(does the work, then drops the connection), ``container_statuses`` (IN_PROGRESS, ERROR,
EXPIRED for the next containers), ``quota_usage`` (the 24-hour publishing limit).

Its public side (``/``) lists what was posted, for `make run`.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from warta_dev.sandbox.serving import RunningApp, drop_connection, json_response

# Meta's versions changelog (developers.facebook.com/docs/graph-api/changelog): version ->
# the last day it is served (None: "TBD", the current version).
VERSIONS: dict[str, date | None] = {
    "v20.0": date(2026, 9, 24), "v21.0": date(2027, 1, 21), "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8), "v24.0": date(2028, 2, 18), "v25.0": date(2028, 7, 29), "v26.0": None,
}
_VERSION = re.compile(r"^v(\d+)\.(\d+)$")

# Page post insights metrics Meta serves, and those it deprecated for every version
# (developers.facebook.com/docs/platforminsights/page/deprecated-metrics).
FACEBOOK_POST_METRICS = {"post_total_media_view_unique", "post_media_view", "post_reactions_by_type_total",
                         "post_clicks", "post_clicks_by_type"}
FACEBOOK_DEPRECATED = {"post_impressions_unique", "post_impressions", "post_impressions_paid_unique",
                       "post_impressions_fan_unique", "post_impressions_organic_unique",
                       "post_impressions_viral_unique", "post_impressions_nonviral_unique", "post_engaged_users"}
# Instagram media insights for feed images and carousels; the deprecated ones are refused.
INSTAGRAM_MEDIA_METRICS = {"reach", "likes", "comments", "shares", "saved", "views", "total_interactions",
                           "follows", "profile_visits", "profile_activity"}
INSTAGRAM_DEPRECATED = {"impressions", "plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count",
                        "video_views", "engagement"}


def _version_number(version: str) -> tuple[int, int]:
    major, minor = _VERSION.match(version).groups()
    return int(major), int(minor)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


class GraphError(Exception):
    def __init__(self, code: int, message: str, *, status: int = 400, subcode: int | None = None,
                 type: str = "OAuthException", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.subcode, self.type = code, message, status, subcode, type
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code,
                                 "fbtrace_id": "A" + secrets.token_hex(8)}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return {"error": error}


@dataclass
class _Fault:
    error: GraphError
    method: str | None
    path: str | None


@dataclass
class FeedPost:
    id: str
    page_id: str
    message: str
    created: datetime
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)


@dataclass
class Photo:
    id: str
    page_id: str
    data: bytes
    content_type: str
    caption: str
    published: bool
    post_id: str | None = None


@dataclass
class Container:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE or CAROUSEL
    caption: str
    image_url: str | None
    children: list[str]
    is_carousel_item: bool
    status_code: str  # IN_PROGRESS, FINISHED, ERROR, EXPIRED, PUBLISHED
    status: str
    pending_polls: int = 0


@dataclass
class IgMedia:
    id: str
    ig_user_id: str
    caption: str
    media_type: str
    media_url: str | None
    created: datetime
    children: list[str] = field(default_factory=list)


class FakeGraphApi:
    """A Facebook Page and an Instagram account in memory, as a WSGI application."""

    def __init__(self, *, page_id: str = "1000000001", page_name: str = "BSIP Babel (sandbox)",
                 ig_user_id: str = "17841400000000001", ig_username: str = "bsipbabel.sandbox",
                 tokens: tuple[str, ...] = ("sandbox-page-token",), quota_total: int = 50,
                 fetch_images: bool = True):
        self.page_id = page_id
        self.page_name = page_name
        self.ig_user_id = ig_user_id
        self.ig_username = ig_username
        self.valid_tokens = set(tokens)
        self.expired_tokens: set[str] = set()
        self.quota_total = quota_total
        self.quota_usage = 0
        self.fetch_images = fetch_images
        self.posts: dict[str, FeedPost] = {}
        self.photos: dict[str, Photo] = {}
        self.containers: dict[str, Container] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.calls: deque[tuple[str, str]] = deque(maxlen=2000)
        # (version asked for, version that answered), as Meta serves them
        self.versions: deque[tuple[str, str]] = deque(maxlen=2000)
        self.today = lambda: _now().date()  # tests move it to see versions expire
        self.container_statuses: deque[str] = deque()  # forced statuses for the next containers
        self.container_polls_in_progress = 0  # IN_PROGRESS answers before a container is FINISHED
        # Metrics: posts younger than this have no insights yet; permissions the token lacks;
        # figures a test sets per post or media id (else they grow with the post's age).
        self.insights_delay_seconds = 600.0
        self.missing_permissions: set[str] = set()
        self.post_stats: dict[str, dict[str, Any]] = {}
        self.media_stats: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(5001)
        self._faults: list[_Fault] = []
        self._drops: list[tuple[str, str]] = []
        self._lock = threading.RLock()

    # ------------------------------------------------------------ fault injection
    def fail_next(self, code: int, message: str, *, status: int = 400, subcode: int | None = None,
                  headers: dict[str, str] | None = None, method: str | None = None, path: str | None = None,
                  times: int = 1, type: str = "OAuthException") -> None:
        """Answer the next matching call(s) (``path``: a suffix like ``/feed``) with this error."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault(GraphError(code, message, status=status, subcode=subcode, type=type,
                                                      headers=headers), method, path))

    def expire_token(self, token: str) -> None:
        with self._lock:
            self.valid_tokens.discard(token)
            self.expired_tokens.add(token)

    def accept_then_drop_next(self, method: str, path: str) -> None:
        """Do the next matching call's work (``path``: a suffix like ``/media_publish``),
        then close the connection without answering."""
        with self._lock:
            self._drops.append((method, path))

    # ------------------------------------------------------------------ reading
    def page_posts(self) -> list[FeedPost]:
        with self._lock:
            return sorted(self.posts.values(), key=lambda p: p.created, reverse=True)

    def instagram_media(self) -> list[IgMedia]:
        with self._lock:
            return sorted(self.ig_media.values(), key=lambda m: m.created, reverse=True)

    # --------------------------------------------------------------------- WSGI
    def __call__(self, environ: dict, start_response) -> Any:
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        site = request.host_url.rstrip("/")
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return self._index_page()
        if parts[0] == "media" and len(parts) == 2:
            return self._photo_file(parts[1])
        if len(parts) == 3 and parts[1] == "posts":
            return self._post_page(f"{parts[0]}_{parts[2]}")
        if len(parts) == 2 and parts[0] == "p":
            return self._ig_page(parts[1])
        if not parts[0].startswith("v"):
            return Response("Not Found", 404, mimetype="text/plain")
        method = request.method
        node_path = "/" + "/".join(parts[1:])
        with self._lock:
            self.calls.append((method, node_path))
            try:
                self.versions.append((parts[0], self._served_version(parts[0], request.path)))
                fault = self._take_fault(method, node_path)
                if fault:
                    raise fault.error
                self._authenticate(request)
                drop = self._take_drop(method, node_path)
                params = {**request.args.to_dict(), **request.form.to_dict()}
                response = self._route(request, method, parts[1:], params, site)
                if drop:
                    drop_connection(request.environ)
                return response
            except GraphError as error:
                return json_response(error.body(), error.status, error.headers)

    def _served_version(self, asked: str, path: str) -> str:
        """The version that answers a call to ``asked``, as Meta's versioning guide says:
        a version that is no longer available is served as the oldest one still available
        (its behaviour, not the one asked for); a version Meta never released is an
        unknown path component (error 2500)."""
        latest = max(VERSIONS, key=_version_number)
        if not _VERSION.match(asked) or _version_number(asked) > _version_number(latest):
            raise GraphError(2500, f"Unknown path components: {path}")
        today = self.today()
        available = [v for v, until in VERSIONS.items() if until is None or until >= today]
        oldest = min(available, key=_version_number)
        if asked not in VERSIONS or asked not in available:
            return oldest if _version_number(asked) < _version_number(oldest) else asked
        return asked

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.method in (None, method) and (fault.path is None or path.endswith(fault.path)):
                return self._faults.pop(index)
        return None

    def _take_drop(self, method: str, path: str) -> bool:
        for index, (drop_method, suffix) in enumerate(self._drops):
            if drop_method == method and path.endswith(suffix):
                self._drops.pop(index)
                return True
        return False

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header.split(" ", 1)[1].strip() if " " in header else request.values.get("access_token", "")
        if not token:
            raise GraphError(2500, "An active access token must be used to query information about the current "
                             "user.", status=400)
        if token in self.expired_tokens:
            raise GraphError(190, "Error validating access token: Session has expired on Thursday, 26-Nov-26 "
                             "01:00:00 PST.", status=400, subcode=463)
        if token not in self.valid_tokens:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", status=400)

    def _route(self, request: Request, method: str, parts: list[str], params: dict, site: str) -> Response:
        node = parts[0]
        edge = parts[1] if len(parts) > 1 else None
        if node == self.page_id and edge == "feed" and method == "POST":
            return self._create_feed_post(params, site)
        if node == self.page_id and edge == "photos" and method == "POST":
            return self._create_photo(request, params, site)
        if node == self.page_id and edge in ("published_posts", "feed", "posts") and method == "GET":
            return self._list_posts(params, site)
        if node == self.ig_user_id and edge == "media" and method == "POST":
            return self._create_container(params)
        if node == self.ig_user_id and edge == "media" and method == "GET":
            return self._list_ig_media(params, site)
        if node == self.ig_user_id and edge == "media_publish" and method == "POST":
            return self._publish_container(params)
        if node == self.ig_user_id and edge == "content_publishing_limit" and method == "GET":
            return json_response({"data": [{"quota_usage": self.quota_usage,
                                            "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]})
        if edge == "insights" and method == "GET":
            return self._insights(node, params)
        if edge is None and method == "GET":
            return self._read_node(node, params, site)
        raise GraphError(100, f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
                         "cannot be loaded due to missing permissions, or does not support this operation.",
                         subcode=33)

    # ----------------------------------------------------------------- Facebook
    def _next_id(self) -> str:
        return str(next(self._ids))

    def _create_feed_post(self, params: dict, site: str) -> Response:
        message = params.get("message", "")
        attached = [json.loads(v)["media_fbid"] for k, v in sorted(params.items()) if k.startswith("attached_media")]
        if not message and not params.get("link") and not attached:
            raise GraphError(100, "(#100) Missing message or attachment")
        for photo_id in attached:
            photo = self.photos.get(photo_id)
            if photo is None or photo.published:
                raise GraphError(100, f"(#100) attached_media: {photo_id} is not an unpublished photo of this page")
        recent = [p for p in self.posts.values() if p.message == message and message
                  and (_now() - p.created).total_seconds() < 86400]
        if recent and not attached:
            raise GraphError(506, "Duplicate status message", subcode=1455006)
        post = FeedPost(id=f"{self.page_id}_{self._next_id()}", page_id=self.page_id, message=message,
                        created=_now(), link=params.get("link"), photo_ids=attached)
        for photo_id in attached:
            self.photos[photo_id].post_id = post.id
            self.photos[photo_id].published = True
        self.posts[post.id] = post
        return json_response({"id": post.id})

    def _create_photo(self, request: Request, params: dict, site: str) -> Response:
        upload = request.files.get("source")
        if upload is not None:
            data, content_type = upload.read(), upload.mimetype or "image/jpeg"
        elif params.get("url"):
            data, content_type = self._fetch(params["url"])
        else:
            raise GraphError(324, "(#324) Requires upload file", subcode=2069019)
        self._image_size(data)  # refuses what is not an image
        published = str(params.get("published", "true")).lower() != "false"
        photo = Photo(id=self._next_id(), page_id=self.page_id, data=data, content_type=content_type,
                      caption=params.get("message") or params.get("caption") or "", published=False)
        self.photos[photo.id] = photo
        if not published:
            return json_response({"id": photo.id})
        post = FeedPost(id=f"{self.page_id}_{self._next_id()}", page_id=self.page_id, message=photo.caption,
                        created=_now(), photo_ids=[photo.id])
        photo.published, photo.post_id = True, post.id
        self.posts[post.id] = post
        return json_response({"id": photo.id, "post_id": post.id})

    def _post_json(self, post: FeedPost, site: str) -> dict[str, Any]:
        number = post.id.split("_", 1)[1]
        data = {"id": post.id, "message": post.message, "created_time": _iso(post.created),
                "permalink_url": f"{site}/{post.page_id}/posts/{number}"}
        if post.photo_ids:
            data["full_picture"] = f"{site}/media/{post.photo_ids[0]}"
        elif post.link:
            data["full_picture"] = None
        stats = self._post_stats(post)
        data["comments"] = {"data": [], "summary": {"order": "ranked", "total_count": stats["comments"],
                                                    "can_comment": True}}
        if stats["shares"]:
            data["shares"] = {"count": stats["shares"]}  # absent when nobody shared
        return data

    def _list_posts(self, params: dict, site: str) -> Response:
        since = int(params.get("since") or 0)
        limit = int(params.get("limit") or 25)
        posts = [p for p in self.page_posts() if p.created.timestamp() >= since][:limit]
        return json_response({"data": [self._fields(self._post_json(p, site), params) for p in posts]})

    # ---------------------------------------------------------------- Instagram
    def _create_container(self, params: dict) -> Response:
        media_type = (params.get("media_type") or "IMAGE").upper()
        carousel_item = str(params.get("is_carousel_item", "")).lower() == "true"
        caption = params.get("caption", "")
        if len(caption) > 2200:
            raise GraphError(100, "The caption is too long (2200 characters at most).", subcode=2207006)
        if caption.count("#") > 30:
            raise GraphError(100, "Too many hashtags (30 at most).", subcode=2207006)
        container = Container(id=self._next_id(), ig_user_id=self.ig_user_id, media_type=media_type, caption=caption,
                              image_url=params.get("image_url"), children=[], is_carousel_item=carousel_item,
                              status_code="FINISHED", status="Finished: Media has been uploaded and it is ready to "
                              "be published.")
        if media_type == "CAROUSEL":
            children = [c for c in (params.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10:
                raise GraphError(100, "A carousel needs between 2 and 10 children.", subcode=2207003)
            for child in children:
                item = self.containers.get(child)
                if item is None or not item.is_carousel_item or item.status_code != "FINISHED":
                    raise GraphError(100, f"Child {child} is not a finished carousel item.", subcode=2207003)
            container.children = children
        else:
            if not container.image_url:
                raise GraphError(100, "The parameter image_url is required.", subcode=2207003)
            problem = self._check_instagram_image(container.image_url) if self.fetch_images else None
            if problem:
                container.status_code, container.status = "ERROR", f"Error: {problem}"
        if self.container_statuses:
            forced = self.container_statuses.popleft()
            container.status_code = forced
            container.status = {"ERROR": "Error: Media upload has failed with error code 2207003",
                                 "EXPIRED": "Expired: not published within 24 hours",
                                 "IN_PROGRESS": "In progress"}.get(forced, forced)
            if forced == "IN_PROGRESS":
                container.pending_polls = max(1, self.container_polls_in_progress)
        elif self.container_polls_in_progress and container.status_code == "FINISHED":
            container.status_code, container.pending_polls = "IN_PROGRESS", self.container_polls_in_progress
        self.containers[container.id] = container
        return json_response({"id": container.id})

    def _check_instagram_image(self, url: str) -> str | None:
        """What Instagram says of the photo at ``url``: None when it takes it."""
        try:
            data, content_type = self._fetch(url)
        except GraphError:
            return "Media download has failed. The media URI doesn't meet our requirements. (2207052)"
        if content_type != "image/jpeg":
            return f"The image format is not supported; only JPEG is. ({content_type}, 2207026)"
        width, height = self._image_size(data)
        if not 0.8 - 1e-3 <= width / height <= 1.91 + 1e-3:
            return f"The aspect ratio {width}x{height} is not supported (4:5 to 1.91:1). (2207009)"
        return None

    def _publish_container(self, params: dict) -> Response:
        container = self.containers.get(params.get("creation_id", ""))
        if container is None or container.is_carousel_item:
            raise GraphError(100, "The creation_id is not a container of this account.", subcode=2207008)
        if self.quota_usage >= self.quota_total:
            raise GraphError(9, "Application request limit reached", subcode=2207042, status=400)
        if container.status_code == "EXPIRED":
            raise GraphError(9007, "The media container has expired; create a new one.", subcode=2207008)
        if container.status_code == "PUBLISHED":
            raise GraphError(9007, "The media has already been published.", subcode=2207008)
        if container.status_code != "FINISHED":
            raise GraphError(9007, "Media ID is not available: the media is not ready for publishing, please "
                             "wait for a moment", subcode=2207027)
        media = IgMedia(id=self._next_id(), ig_user_id=self.ig_user_id, caption=container.caption,
                        media_type="CAROUSEL_ALBUM" if container.media_type == "CAROUSEL" else "IMAGE",
                        media_url=(self.containers[container.children[0]].image_url if container.children
                                   else container.image_url),
                        created=_now(), children=list(container.children))
        container.status_code, container.status = "PUBLISHED", "Published"
        self.ig_media[media.id] = media
        self.quota_usage += 1
        return json_response({"id": media.id})

    def _media_json(self, media: IgMedia, site: str) -> dict[str, Any]:
        return {"id": media.id, "caption": media.caption, "media_type": media.media_type,
                "media_url": media.media_url, "permalink": f"{site}/p/{media.id}",
                "timestamp": _iso(media.created), "username": self.ig_username}

    def _list_ig_media(self, params: dict, site: str) -> Response:
        since = int(params.get("since") or 0)
        limit = int(params.get("limit") or 25)
        media = [m for m in self.instagram_media() if m.created.timestamp() >= since][:limit]
        return json_response({"data": [self._fields(self._media_json(m, site), params) for m in media]})

    # -------------------------------------------------------------- any node
    def _read_node(self, node: str, params: dict, site: str) -> Response:
        if node in self.posts:
            asked = {re.split(r"[.{(]", f, maxsplit=1)[0] for f in (params.get("fields") or "").split(",")}
            if {"shares", "comments"} & asked:
                self._require("pages_read_engagement", 10, "(#10) This endpoint requires the "
                              "'pages_read_engagement' permission or the 'Page Public Content Access' feature.")
            return json_response(self._fields(self._post_json(self.posts[node], site), params))
        if node in self.ig_media:
            return json_response(self._fields(self._media_json(self.ig_media[node], site), params))
        if node in self.containers:
            container = self.containers[node]
            if container.status_code == "IN_PROGRESS":
                container.pending_polls -= 1
                if container.pending_polls < 0:
                    container.status_code, container.status = "FINISHED", "Finished"
            return json_response(self._fields({"id": container.id, "status_code": container.status_code,
                                               "status": container.status}, params))
        if node in self.photos:
            photo = self.photos[node]
            return json_response(self._fields({"id": photo.id, "name": photo.caption,
                                               "images": [{"source": f"{site}/media/{photo.id}"}]}, params))
        if node == self.page_id:
            return json_response({"id": self.page_id, "name": self.page_name})
        if node == self.ig_user_id:
            return json_response({"id": self.ig_user_id, "username": self.ig_username})
        raise GraphError(100, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
                         "due to missing permissions, or does not support this operation.", subcode=33)

    # ----------------------------------------------------------------- metrics
    def _require(self, permission: str, code: int, message: str) -> None:
        if permission in self.missing_permissions:
            raise GraphError(code, message, status=403 if code == 200 else 400)

    @staticmethod
    def _grown(object_id: str, age_seconds: float, scale: int) -> int:
        """A stable figure for a post that grows over its first three days."""
        base = int(hashlib.sha256(object_id.encode()).hexdigest()[:6], 16) % 400 + 40
        return int(base * scale * min(1.0, max(0.0, age_seconds) / (3 * 86400)))

    def _post_stats(self, post: FeedPost) -> dict[str, Any]:
        age = (_now() - post.created).total_seconds()
        grown = {"reach": self._grown(post.id, age, 20), "comments": self._grown(post.id + "c", age, 1) // 10,
                 "shares": self._grown(post.id + "s", age, 1) // 8,
                 "reactions": {"like": self._grown(post.id + "l", age, 1), "love": self._grown(post.id + "o", age, 1) // 6}}
        return {**grown, **self.post_stats.get(post.id, {})}

    def _media_stats(self, media: IgMedia) -> dict[str, Any]:
        age = (_now() - media.created).total_seconds()
        grown = {"reach": self._grown(media.id, age, 15), "views": self._grown(media.id + "v", age, 25),
                 "likes": self._grown(media.id + "l", age, 1), "comments": self._grown(media.id + "c", age, 1) // 12,
                 "shares": self._grown(media.id + "s", age, 1) // 10, "saved": self._grown(media.id + "a", age, 1) // 9}
        return {**grown, **self.media_stats.get(media.id, {})}

    def _insights(self, node: str, params: dict) -> Response:
        wanted = [m.strip() for m in (params.get("metric") or "").split(",") if m.strip()]
        if not wanted:
            raise GraphError(100, "No metric was specified to be fetched. Please specify one or more metrics to be "
                             "fetched and try again.", subcode=1504028)
        if node in self.posts:
            self._require("pages_read_engagement", 10, "(#10) This endpoint requires the 'pages_read_engagement' "
                          "permission or the 'Page Public Content Access' feature.")
            self._require("read_insights", 200, "(#200) Requires read_insights permission to access this resource")
            known, deprecated = FACEBOOK_POST_METRICS, FACEBOOK_DEPRECATED
            post = self.posts[node]
            created, stats, period = post.created, self._post_stats(post), "lifetime"
            values = {"post_total_media_view_unique": stats["reach"], "post_media_view": int(stats["reach"] * 1.4),
                      "post_reactions_by_type_total": {k: v for k, v in stats["reactions"].items() if v},
                      "post_clicks": stats["reach"] // 12, "post_clicks_by_type": {}}
        elif node in self.ig_media:
            self._require("instagram_manage_insights", 10, "(#10) Application does not have permission for this "
                          "action")
            known, deprecated = INSTAGRAM_MEDIA_METRICS, INSTAGRAM_DEPRECATED
            media = self.ig_media[node]
            created, stats, period = media.created, self._media_stats(media), "lifetime"
            values = {**stats, "total_interactions": sum(stats[k] for k in ("likes", "comments", "shares", "saved")),
                      "follows": 0, "profile_visits": stats["reach"] // 30, "profile_activity": 0}
        else:
            raise GraphError(100, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
                             "loaded due to missing permissions, or does not support this operation.", subcode=33)
        for metric in wanted:
            if metric in deprecated:
                raise GraphError(100, f"(#100) The value must be a valid insights metric: {metric} is no longer "
                                 "supported")
            if metric not in known:
                raise GraphError(100, f"(#100) The value must be a valid insights metric: {metric}")
        if (_now() - created).total_seconds() < self.insights_delay_seconds:
            return json_response({"data": []})  # too new: an empty data set, not zeros
        return json_response({"data": [
            {"name": metric, "period": period, "values": [{"value": values[metric]}], "title": metric,
             "description": metric, "id": f"{node}/insights/{metric}/{period}"} for metric in wanted]})

    @staticmethod
    def _fields(data: dict[str, Any], params: dict) -> dict[str, Any]:
        # "comments.summary(true).limit(0)" asks for the field "comments" with modifiers.
        wanted = [re.split(r"[.{(]", f, maxsplit=1)[0] for f in (params.get("fields") or "").split(",") if f]
        if not wanted:
            return data
        return {k: v for k, v in data.items() if k in wanted or k == "id"}

    # ---------------------------------------------------------------- helpers
    def _fetch(self, url: str) -> tuple[bytes, str]:
        try:
            response = httpx.get(url, timeout=10, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise GraphError(9004, f"The media could not be fetched from {url}: {type(exc).__name__}",
                             subcode=2207052) from None
        if response.status_code != 200:
            raise GraphError(9004, f"The media could not be fetched from {url}: HTTP {response.status_code}",
                             subcode=2207052)
        return response.content, response.headers.get("content-type", "").split(";")[0]

    @staticmethod
    def _image_size(data: bytes) -> tuple[int, int]:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except (UnidentifiedImageError, OSError):
            raise GraphError(324, "(#324) Missing or invalid image file", subcode=2069019) from None

    # ------------------------------------------------------------ public pages
    def _page(self, title: str, body: str, status: int = 200) -> Response:
        return Response(
            "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;"
            "margin:2rem auto;padding:0 1rem}img{max-width:100%}li{margin-bottom:1rem}"
            ".note{background:#e7f0ff;padding:.5rem}</style></head><body>"
            f"{body}</body></html>", status, mimetype="text/html")

    def _index_page(self) -> Response:
        with self._lock:
            posts = "".join(f"<li><a href=\"/{p.page_id}/posts/{p.id.split('_', 1)[1]}\">"
                            f"{html.escape(p.message[:120])}</a></li>" for p in self.page_posts())
            media = "".join(f"<li><a href=\"/p/{m.id}\">{html.escape(m.caption[:120])}</a></li>"
                            for m in self.instagram_media())
        note = ("<p class=\"note\">Warta's sandbox Graph API: a stand-in for a Facebook Page and an Instagram "
                "account. Posts published by Warta appear here.</p>")
        return self._page("Sandbox Graph API", f"{note}<h1>Facebook: {html.escape(self.page_name)}</h1>"
                          f"<ul>{posts or '<li>Nothing yet.</li>'}</ul><h1>Instagram: @{self.ig_username}</h1>"
                          f"<ul>{media or '<li>Nothing yet.</li>'}</ul>")

    def _post_page(self, post_id: str) -> Response:
        post = self.posts.get(post_id)
        if post is None:
            return self._page("Not found", "<h1>This content isn't available</h1>", 404)
        images = "".join(f"<img src=\"/media/{p}\" alt=\"\">" for p in post.photo_ids)
        link = f"<p><a href=\"{html.escape(post.link)}\">{html.escape(post.link)}</a></p>" if post.link else ""
        text = html.escape(post.message).replace("\n", "<br>")
        return self._page(self.page_name, f"<h1>{html.escape(self.page_name)}</h1><p>{text}</p>{link}{images}")

    def _ig_page(self, media_id: str) -> Response:
        media = self.ig_media.get(media_id)
        if media is None:
            return self._page("Not found", "<h1>Sorry, this page isn't available.</h1>", 404)
        image = f"<img src=\"{html.escape(media.media_url or '')}\" alt=\"\">"
        text = html.escape(media.caption).replace("\n", "<br>")
        return self._page(f"@{self.ig_username}", f"<h1>@{html.escape(self.ig_username)}</h1>{image}<p>{text}</p>")

    def _photo_file(self, photo_id: str) -> Response:
        photo = self.photos.get(photo_id)
        if photo is None:
            return Response("Not Found", 404, mimetype="text/plain")
        return Response(photo.data, 200, mimetype=photo.content_type)


def serve_fake_graph(*, host: str = "127.0.0.1", port: int = 0, delay_seconds: float = 0.0, **options) -> RunningApp:
    """A FakeGraphApi (``options`` as its constructor takes) served on a free port; call ``stop()``."""
    return RunningApp(FakeGraphApi(**options), host, port, delay_seconds=delay_seconds)
