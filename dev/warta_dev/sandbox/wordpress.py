"""A stand-in WordPress site: the parts of the REST API (wp/v2) Warta uses, and public pages.

It is the sandbox website of `make run` (scripts/sandbox_site.py) and the contract fake
the tests publish to. It follows WordPress's documented behaviour where Warta relies on
it: API discovery through the ``Link: <...>; rel="https://api.w.org/"`` header, the
``/wp-json/`` and ``?rest_route=`` forms, Application Passwords over basic auth, error
bodies ``{"code", "message", "data": {"status"}}``, raw media uploads, ``term_exists``,
unique slugs. Everything lives in memory, optionally saved to a JSON file.

Text fields are HTML, as in WordPress: a post's title and excerpt and a file's caption
are stored as sent (through kses, ``wp_filter_kses`` / ``wp_filter_post_kses``, when the
user's role lacks ``unfiltered_html``: Author, Contributor) and printed unescaped, after
``wptexturize`` (curly quotes, dashes, ``×`` between numbers, ellipsis) and
``convert_chars``; alt text goes through ``sanitize_text_field`` and is printed with
``esc_attr``. A wrong Application Password is treated as no login at all (WordPress 6.1
with ``?rest_route=`` answers ``rest_not_logged_in`` or "Status is forbidden", not an
authentication error). ``GET /wp/v2/users/me?context=edit`` tells the user's role and
capabilities.

Faults can be injected for tests: ``fail_next`` answers the next API call with an error,
``accept_then_drop_next_post`` saves the next post and then drops the connection with no
answer, as a proxy timing out after WordPress has done the work would.
"""

from __future__ import annotations

import base64
import html
import nh3
import json
import math
import os
import re
import threading
import unicodedata
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request, Response

from warta_dev.sandbox.serving import RunningApp, drop_connection, json_response

API_LINK_REL = "https://api.w.org/"
POST_STATUSES = ("publish", "future", "draft", "pending", "private")
UNCATEGORIZED_ID = 1
TERM_SEPARATOR = " \u00b7 "
# What a default WordPress lets authors upload (a subset of get_allowed_mime_types()).
UPLOAD_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
    "mp3": "audio/mpeg", "m4a": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg",
    "pdf": "application/pdf",
}


def sanitize_slug(text: str) -> str:
    """Like WordPress's sanitize_title(): ASCII, lower case, words joined by dashes."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"<[^>]*>", "", text).lower()
    text = re.sub(r"[\s./]+", "-", text)
    text = re.sub(r"[^a-z0-9_-]", "", text)
    return re.sub(r"-+", "-", text).strip("-")


def sanitize_file_name(name: str) -> str:
    """Like WordPress's sanitize_file_name(): no paths, no spaces, no odd characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"\s+", "-", name.strip())
    name = re.sub(r"[^A-Za-z0-9._-]", "", name).strip(".-_")
    return re.sub(r"-+", "-", name) or "file"


# What each role may do (single site, as WordPress's populate_roles()).
ROLE_CAPABILITIES = {
    "administrator": {"publish_posts", "upload_files", "edit_posts", "unfiltered_html", "manage_categories"},
    "editor": {"publish_posts", "upload_files", "edit_posts", "unfiltered_html", "manage_categories"},
    "author": {"publish_posts", "upload_files", "edit_posts"},
    "contributor": {"edit_posts"},
    "subscriber": set(),
}
# kses allow-lists: $allowedtags (titles) and a subset of $allowedposttags (content, excerpts, captions).
KSES_TITLE_TAGS = {"a", "abbr", "acronym", "b", "blockquote", "cite", "code", "del", "em", "i", "q", "s",
                   "strike", "strong"}
KSES_POST_TAGS = KSES_TITLE_TAGS | {"p", "br", "u", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figure",
                                    "figcaption", "img", "video", "audio", "span", "div", "pre", "sub", "sup",
                                    "table", "thead", "tbody", "tr", "td", "th", "hr"}
KSES_ATTRIBUTES = {"a": {"href", "title", "rel", "target"}, "img": {"src", "alt", "width", "height", "class"},
                   "video": {"src", "controls"}, "audio": {"src", "controls"}, "figure": {"class"},
                   "blockquote": {"cite"}, "q": {"cite"}, "abbr": {"title"}, "acronym": {"title"}}
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_NO_TEXTURIZE = {"code", "pre", "script", "style", "kbd", "tt"}


def kses(fragment: str, tags: set[str]) -> str:
    """Like wp_kses(): tags outside the allow-list are removed (their text stays)."""
    return nh3.clean(fragment, tags=tags, attributes={t: a for t, a in KSES_ATTRIBUTES.items() if t in tags},
                     clean_content_tags=set(), link_rel=None)


def texturize(text: str) -> str:
    """wptexturize() of WordPress 6.1 for the common cases, on the text between tags:
    quotes and apostrophes curled, ``---``/`` -- `` em dash, ``--``/`` - `` en dash,
    ``...`` ellipsis, ``2x3`` → ``2×3``, `` (tm)`` → ™; printed as numeric references."""
    parts = _TAG_OR_TEXT.split(text)
    skipping = 0
    for index, part in enumerate(parts):
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in _NO_TEXTURIZE:
                skipping += -1 if part.startswith("</") else 1
                skipping = max(skipping, 0)
            continue
        if not skipping and part:
            parts[index] = _texturize_text(part)
    return "".join(parts)


def _texturize_text(text: str) -> str:
    text = text.replace("...", "&#8230;").replace("``", "&#8220;").replace("''", "&#8221;")
    text = text.replace(" (tm)", " &#8482;")
    text = re.sub(r"(?<=\b)(\d[\d.,]*)x(\d[\d.,]*)\b", r"\1&#215;\2", text)
    text = text.replace("---", "&#8212;").replace(" -- ", " &#8212; ").replace("--", "&#8211;")
    text = text.replace(" - ", " &#8211; ")
    text = re.sub(r"(?<=\w)'(?=\w)", "&#8217;", text)  # apostrophes: it's, Jum'at
    text = re.sub(r"(^|[\s(\[{\-\u00a0])'", r"\1&#8216;", text)  # an opening single quote
    text = text.replace("'", "&#8217;")
    text = re.sub(r'(^|[\s(\[{\-\u00a0])"', r"\1&#8220;", text)  # an opening double quote
    return text.replace('"', "&#8221;")


def convert_chars(text: str) -> str:
    """Like convert_chars(): a bare ``&`` is printed as ``&#038;``."""
    return re.sub(r"&(?!#\d+;|#x[0-9a-fA-F]+;|[a-zA-Z][a-zA-Z0-9]{1,31};)", "&#038;", text)


def sanitize_text_field(text: str) -> str:
    """Like sanitize_text_field(): no tags, no line breaks, no runs of spaces."""
    text = re.sub(r"<[^>]*>", "", re.sub(r"<(?![a-zA-Z/!?])", "&lt;", text))
    return " ".join(text.split())


def rendered(field_html: str) -> str:
    """A stored title as the_title prints it."""
    return convert_chars(texturize(field_html)).strip()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()


def _list_param(value: Any) -> list[str]:
    """WordPress list arguments come as ``a,b`` or as repeated values."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _raw_text(value: Any) -> str:
    """Post fields may be given as a string or as ``{"raw": ...}``."""
    if isinstance(value, dict):
        value = value.get("raw", "")
    return "" if value is None else str(value)


@dataclass
class Post:
    id: int
    slug: str
    status: str
    title: str
    content: str
    excerpt: str
    date: str
    modified: str
    author: int
    featured_media: int = 0
    categories: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)


@dataclass
class Media:
    id: int
    slug: str
    title: str
    filename: str
    path: str  # under /wp-content/uploads/
    mime_type: str
    data: bytes
    date: str
    author: int
    alt_text: str = ""
    caption: str = ""
    post: int | None = None
    file_available: bool = True  # False when a test breaks the file on purpose


@dataclass
class Term:
    id: int
    taxonomy: str  # "category" or "post_tag"
    name: str
    slug: str


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    headers: dict[str, str]
    method: str | None
    route: str | None


class ApiError(Exception):
    """A WordPress REST error: becomes ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str, **data: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data


@dataclass
class _Call:
    request: Request
    route: str
    params: dict[str, Any]
    user: str | None
    site: str

    @property
    def context(self) -> str:
        return str(self.params.get("context") or "view")


_TAXONOMIES = {"categories": "category", "tags": "post_tag"}
_TAXONOMY_BASES = {"category": "category", "post_tag": "tag"}


class FakeWordPress:
    """A WordPress site in memory, as a WSGI application."""

    def __init__(
        self,
        *,
        user: str = "warta",
        application_password: str = "",
        pretty_permalinks: bool = True,
        site_url: str | None = None,
        site_title: str = "Warta Sandbox",
        advertise_api: bool = True,
        state_file: str | os.PathLike | None = None,
        role: str = "administrator",
    ):
        if role not in ROLE_CAPABILITIES:
            raise ValueError(f"unknown WordPress role {role!r}")
        self.user = user
        self.role = role
        self.application_password = application_password
        self.pretty_permalinks = pretty_permalinks
        # The address WordPress believes it has (its siteurl option); by default the Host asked for.
        self.site_url = site_url.rstrip("/") if site_url else None
        self.site_title = site_title
        self.advertise_api = advertise_api
        self.state_file = Path(state_file) if state_file else None
        self.posts: dict[int, Post] = {}
        self.media: dict[int, Media] = {}
        self.terms: dict[int, Term] = {
            UNCATEGORIZED_ID: Term(UNCATEGORIZED_ID, "category", "Uncategorized", "uncategorized")}
        self.api_calls: deque[tuple[str, str]] = deque(maxlen=1000)
        self._next_post_id = 1  # posts and attachments share WordPress's wp_posts ids
        self._next_term_id = UNCATEGORIZED_ID + 1
        self._faults: list[_Fault] = []
        self._drop_next_post_create = False
        self._lock = threading.RLock()
        if self.state_file and self.state_file.exists():
            self._load()

    # ------------------------------------------------------------ fault injection
    def fail_next(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        method: str | None = None,
        route: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next API call(s) (matching ``method`` and ``route`` prefix, if given) with this error."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault(status, code, message, dict(headers or {}), method, route))

    def accept_then_drop_next_post(self) -> None:
        """Save the next created post, then close the connection without answering."""
        with self._lock:
            self._drop_next_post_create = True

    def break_media_file(self, media_id: int) -> None:
        """Make an uploaded file answer 404, as after a failed sync to a CDN."""
        with self._lock:
            self.media[media_id].file_available = False

    def set_post_status(self, post_id: int, status: str) -> None:
        with self._lock:
            self.posts[post_id].status = status
            self._save()

    # ------------------------------------------------------------------ reading
    def published_posts(self) -> list[Post]:
        with self._lock:
            published = (p for p in self.posts.values() if p.status == "publish")
            return sorted(published, key=lambda p: (p.date, p.id), reverse=True)

    def term_names(self, ids: list[int]) -> list[str]:
        return [self.terms[i].name for i in ids if i in self.terms]

    # --------------------------------------------------------------------- WSGI
    def wsgi_app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    __call__ = wsgi_app

    def _dispatch(self, request: Request) -> Response:
        site = self.site_url or request.host_url.rstrip("/")
        args = request.args
        path = request.path
        if "rest_route" in args:
            return self._api(request, args["rest_route"] or "/", site)
        if self.pretty_permalinks and (path == "/wp-json" or path.startswith("/wp-json/")):
            return self._api(request, path[len("/wp-json"):] or "/", site)
        if path.startswith("/wp-content/uploads/"):
            return self._uploaded_file(path[len("/wp-content/uploads/"):])
        with self._lock:
            if path == "/":
                if "p" in args:
                    return self._post_page(self._public_post(lambda p: str(p.id) == args["p"]), site)
                if "cat" in args:
                    return self._archive_page(self._term_where("category", lambda t: str(t.id) == args["cat"]), site)
                if "tag" in args:
                    return self._archive_page(self._term_where("post_tag", lambda t: t.slug == args["tag"]), site)
                return self._index_page(site)
            if self.pretty_permalinks:
                archive = re.fullmatch(r"/(category|tag)/([^/]+)/?", path)
                if archive:
                    taxonomy = "category" if archive.group(1) == "category" else "post_tag"
                    return self._archive_page(self._term_where(taxonomy, lambda t: t.slug == archive.group(2)), site)
                single = re.fullmatch(r"/([^/]+)/?", path)
                if single:
                    return self._post_page(self._public_post(lambda p: p.slug == single.group(1)), site)
            return self._not_found_page(site)

    # ---------------------------------------------------------------- REST API
    _ROUTES: list[tuple[re.Pattern, dict[str, str]]] = [
        (re.compile(r"/?"), {"GET": "_api_index"}),
        (re.compile(r"/wp/v2/posts/?"), {"GET": "_list_posts", "POST": "_create_post"}),
        (re.compile(r"/wp/v2/posts/(?P<item_id>\d+)/?"),
         {"GET": "_get_post", "POST": "_update_post", "PUT": "_update_post", "PATCH": "_update_post",
          "DELETE": "_delete_post"}),
        (re.compile(r"/wp/v2/media/?"), {"GET": "_list_media", "POST": "_create_media"}),
        (re.compile(r"/wp/v2/media/(?P<item_id>\d+)/?"),
         {"GET": "_get_media", "POST": "_update_media", "PUT": "_update_media", "PATCH": "_update_media"}),
        (re.compile(r"/wp/v2/(?P<taxonomy>categories|tags)/?"), {"GET": "_list_terms", "POST": "_create_term"}),
        (re.compile(r"/wp/v2/(?P<taxonomy>categories|tags)/(?P<item_id>\d+)/?"), {"GET": "_get_term"}),
        (re.compile(r"/wp/v2/users/me/?"), {"GET": "_current_user"}),
    ]

    def _api(self, request: Request, route: str, site: str) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        with self._lock:
            self.api_calls.append((method, route))
            try:
                fault = self._take_fault(method, route)
                if fault:
                    raise ApiError(fault.status, fault.code, fault.message, _headers=fault.headers)
                for pattern, handlers in self._ROUTES:
                    match = pattern.fullmatch(route)
                    if match:
                        break
                else:
                    raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
                if method not in handlers:
                    raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
                call = _Call(request, route, self._params(request), self._authenticate(request), site)
                return getattr(self, handlers[method])(call, **match.groupdict())
            except ApiError as error:
                headers = error.data.pop("_headers", {})
                body = {"code": error.code, "message": error.message, "data": {"status": error.status, **error.data}}
                return json_response(body, error.status, headers)

    def _take_fault(self, method: str, route: str) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.method in (None, method) and (fault.route is None or route.startswith(fault.route)):
                return self._faults.pop(index)
        return None

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        """Query arguments and body fields together, as WP_REST_Request::get_params() has them."""
        params: dict[str, Any] = {
            key: (values if key.endswith("[]") or len(values) > 1 else values[0])
            for key, values in request.args.lists()
            if key != "rest_route"
        }
        params = {key.removesuffix("[]"): value for key, value in params.items()}
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            if body is None and request.get_data():
                raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
            if isinstance(body, dict):
                params.update(body)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update(request.form.to_dict())
        return params

    def _authenticate(self, request: Request) -> str | None:
        """Application Passwords over basic auth. A wrong login or password makes the call
        anonymous, as in WordPress 6.1 with ?rest_route= (measured): no error of its own."""
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return None
        if auth.username != self.user:
            return None
        # WordPress ignores the spaces it shows application passwords with.
        if re.sub(r"[^A-Za-z0-9]", "", auth.password or "") != re.sub(r"[^A-Za-z0-9]", "", self.application_password) \
                or not self.application_password:
            return None
        return auth.username

    def _may(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]

    def _saved_html(self, value: str, tags: set[str]) -> str:
        """A text field as WordPress saves it: through kses unless the user has unfiltered_html."""
        return value if self._may("unfiltered_html") else kses(value, tags)

    def _api_index(self, call: _Call) -> Response:
        return json_response({
            "name": self.site_title, "description": "", "url": call.site, "home": call.site,
            "namespaces": ["wp/v2"],
            "authentication": {"application-passwords": {"endpoints": {
                "authorization": f"{call.site}/wp-admin/authorize-application.php"}}},
            "routes": {"/wp/v2/posts": {}, "/wp/v2/media": {}, "/wp/v2/categories": {}, "/wp/v2/tags": {}},
        })

    # posts
    def _list_posts(self, call: _Call) -> Response:
        statuses = _list_param(call.params.get("status") or "publish")
        if "any" in statuses:
            statuses = list(POST_STATUSES)
        if set(statuses) - set(POST_STATUSES) - {"trash"}:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status",
                           params={"status": f"status is not one of {', '.join(POST_STATUSES)}, any."})
        if call.user is None and set(statuses) != {"publish"}:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status",
                           params={"status": "Status is forbidden."})
        self._require_edit_context(call, "Sorry, you are not allowed to edit posts in this post type.")
        posts = [p for p in self.posts.values() if p.status in statuses]
        slugs = _list_param(call.params.get("slug"))
        if slugs:
            wanted = {sanitize_slug(s) for s in slugs}
            posts = [p for p in posts if p.slug in wanted]
        search = str(call.params.get("search") or "").casefold()
        if search:
            posts = [p for p in posts if search in f"{p.title}\n{p.content}\n{p.excerpt}".casefold()]
        for name in ("categories", "tags"):
            ids = {int(i) for i in _list_param(call.params.get(name)) if i.isdigit()}
            if ids:
                posts = [p for p in posts if ids & set(getattr(p, name))]
        orderby = call.params.get("orderby") or "date"
        posts.sort(key=lambda p: (p.id,) if orderby == "id" else (p.date, p.id),
                   reverse=(call.params.get("order") or "desc") == "desc")
        return self._page_of(call, posts, self._post_json)

    def _get_post(self, call: _Call, item_id: str) -> Response:
        post = self._post_or_404(int(item_id))
        if post.status != "publish" and call.user is None:
            raise ApiError(401, "rest_forbidden", "Sorry, you are not allowed to do that.")
        self._require_edit_context(call, "Sorry, you are not allowed to edit this post.")
        return json_response(self._post_json(post, call))

    def _create_post(self, call: _Call) -> Response:
        self._require_user(call, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
        if not self._may("edit_posts"):
            raise ApiError(403, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
        if call.params.get("status") == "publish" and not self._may("publish_posts"):
            raise ApiError(403, "rest_cannot_publish", "Sorry, you are not allowed to publish posts in this post type.")
        title = self._saved_html(_raw_text(call.params.get("title")).strip(), KSES_TITLE_TAGS)
        content = self._saved_html(_raw_text(call.params.get("content")), KSES_POST_TAGS)
        excerpt = self._saved_html(_raw_text(call.params.get("excerpt")), KSES_POST_TAGS)
        if not (title.strip() or content.strip() or excerpt.strip()):
            raise ApiError(400, "empty_content", "Content, title, and excerpt are empty.")
        now = _now()
        post = Post(id=self._next_post_id, slug="", status="draft", title=title, content=content, excerpt=excerpt,
                    date=now, modified=now, author=1, categories=[UNCATEGORIZED_ID])
        self._apply_post_fields(post, call.params)
        post.slug = self._unique_slug(sanitize_slug(_raw_text(call.params.get("slug")) or html.unescape(title))
                                      or str(post.id))
        self._next_post_id += 1
        self.posts[post.id] = post
        self._save()
        if self._drop_next_post_create:
            self._drop_next_post_create = False
            drop_connection(call.request.environ)
        return json_response(self._post_json(post, call), 201,
                              {"Location": self._api_url(call.site, f"/wp/v2/posts/{post.id}")})

    def _update_post(self, call: _Call, item_id: str) -> Response:
        self._require_user(call, "rest_cannot_edit", "Sorry, you are not allowed to edit this post.")
        post = self._post_or_404(int(item_id))
        for name in ("title", "content", "excerpt"):
            if name in call.params:
                tags = KSES_TITLE_TAGS if name == "title" else KSES_POST_TAGS
                setattr(post, name, self._saved_html(_raw_text(call.params[name]), tags))
        self._apply_post_fields(post, call.params)
        if call.params.get("slug"):
            post.slug = self._unique_slug(sanitize_slug(_raw_text(call.params["slug"])), exclude=post.id)
        post.modified = _now()
        self._save()
        return json_response(self._post_json(post, call))

    def _delete_post(self, call: _Call, item_id: str) -> Response:
        self._require_user(call, "rest_cannot_delete", "Sorry, you are not allowed to delete this post.")
        post = self._post_or_404(int(item_id))
        if str(call.params.get("force", "")).lower() in ("1", "true"):
            del self.posts[post.id]
            self._save()
            return json_response({"deleted": True, "previous": self._post_json(post, call)})
        post.status = "trash"
        post.slug = f"{post.slug}__trashed"  # frees the slug, as WordPress does
        self._save()
        return json_response(self._post_json(post, call))

    def _apply_post_fields(self, post: Post, params: dict[str, Any]) -> None:
        if "status" in params:
            if params["status"] not in POST_STATUSES:
                raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status",
                               params={"status": f"status is not one of {', '.join(POST_STATUSES)}."})
            post.status = params["status"]
        if "featured_media" in params:
            featured = int(params["featured_media"] or 0)
            if featured and featured not in self.media:
                raise ApiError(400, "rest_invalid_featured_media", "Invalid featured media ID.")
            post.featured_media = featured
        for name, taxonomy in (("categories", "category"), ("tags", "post_tag")):
            if name in params:
                ids = [int(i) for i in _list_param(params[name])]
                if any(self.terms.get(i) is None or self.terms[i].taxonomy != taxonomy for i in ids):
                    raise ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
                                   params={name: f"{name} contains an invalid term ID."})
                setattr(post, name, ids or ([UNCATEGORIZED_ID] if name == "categories" else []))

    def _post_json(self, post: Post, call: _Call) -> dict[str, Any]:
        data = {
            "id": post.id, "date": post.date, "date_gmt": post.date, "guid": {"rendered": f"{call.site}/?p={post.id}"},
            "modified": post.modified, "modified_gmt": post.modified, "slug": post.slug, "status": post.status,
            "type": "post", "link": self._post_link(post, call.site),
            "title": {"rendered": rendered(post.title)},
            "content": {"rendered": convert_chars(texturize(post.content)), "protected": False},
            "excerpt": {"rendered": f"<p>{rendered(post.excerpt)}</p>\n" if post.excerpt else "",
                        "protected": False},
            "author": post.author, "featured_media": post.featured_media, "comment_status": "open",
            "ping_status": "open", "sticky": False, "template": "", "format": "standard", "meta": [],
            "categories": list(post.categories), "tags": list(post.tags),
        }
        if call.context == "edit":
            data["title"]["raw"] = post.title
            data["content"]["raw"] = post.content
            data["excerpt"]["raw"] = post.excerpt
        return data

    # media
    def _list_media(self, call: _Call) -> Response:
        self._require_edit_context(call, "Sorry, you are not allowed to edit posts in this post type.")
        items = list(self.media.values())
        slugs = _list_param(call.params.get("slug"))
        if slugs:
            wanted = {sanitize_slug(s) for s in slugs}
            items = [m for m in items if m.slug in wanted]
        search = str(call.params.get("search") or "").casefold()
        if search:
            items = [m for m in items if search in f"{m.title}\n{m.caption}".casefold()]
        parents = {int(i) for i in _list_param(call.params.get("parent")) if i.isdigit()}
        if parents:
            items = [m for m in items if m.post in parents]
        items.sort(key=lambda m: (m.date, m.id), reverse=(call.params.get("order") or "desc") == "desc")
        return self._page_of(call, items, self._media_json)

    def _get_media(self, call: _Call, item_id: str) -> Response:
        self._require_edit_context(call, "Sorry, you are not allowed to edit this post.")
        return json_response(self._media_json(self._media_or_404(int(item_id)), call))

    def _create_media(self, call: _Call) -> Response:
        self._require_user(call, "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
        if not self._may("upload_files"):
            raise ApiError(403, "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
        request = call.request
        upload = next(iter(request.files.values()), None) if request.mimetype == "multipart/form-data" else None
        if upload is not None:
            data, filename, mime_type = upload.read(), upload.filename or "", upload.mimetype
        else:
            data = request.get_data()
            if not data:
                raise ApiError(400, "rest_upload_no_data", "No data supplied.")
            mime_type = request.mimetype
            if not mime_type:
                raise ApiError(400, "rest_upload_no_content_type", "No Content-Type supplied.")
            disposition = request.headers.get("Content-Disposition")
            if not disposition:
                raise ApiError(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
            _, options = parse_options_header(disposition)
            filename = options.get("filename", "")
            if not filename:
                raise ApiError(400, "rest_upload_invalid_disposition",
                               "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted "
                               'as `attachment; filename="image.png"` or similar.')
        filename = sanitize_file_name(filename)
        if len(filename.encode()) > 250:
            # The file system refuses the name (255 bytes, less WordPress's "-1" and size suffixes).
            raise ApiError(500, "rest_upload_unknown_error",
                           f"The uploaded file could not be moved to wp-content/uploads/{filename}.")
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in UPLOAD_TYPES:
            # WordPress really answers 500 here (a failed sideload).
            raise ApiError(500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.")
        now = _now()
        stem = filename.rsplit(".", 1)[0]
        media = Media(
            id=self._next_post_id, slug="", title=_raw_text(call.params.get("title")) or stem, filename=filename,
            path=self._unique_upload_path(now[:4], now[5:7], filename),
            mime_type=mime_type if "/" in mime_type else UPLOAD_TYPES[extension], data=data, date=now, author=1,
            alt_text=sanitize_text_field(str(call.params.get("alt_text") or "")),
            caption=self._saved_html(_raw_text(call.params.get("caption")), KSES_POST_TAGS),
            post=int(call.params["post"]) if str(call.params.get("post", "")).isdigit() else None,
        )
        media.slug = self._unique_slug(sanitize_slug(media.title) or str(media.id))
        self._next_post_id += 1
        self.media[media.id] = media
        self._save()
        return json_response(self._media_json(media, call), 201,
                              {"Location": self._api_url(call.site, f"/wp/v2/media/{media.id}")})

    def _update_media(self, call: _Call, item_id: str) -> Response:
        self._require_user(call, "rest_cannot_edit", "Sorry, you are not allowed to edit this post.")
        media = self._media_or_404(int(item_id))
        if "alt_text" in call.params:
            media.alt_text = sanitize_text_field(str(call.params["alt_text"] or ""))
        for name in ("caption", "title"):
            if name in call.params:
                tags = KSES_TITLE_TAGS if name == "title" else KSES_POST_TAGS
                setattr(media, name, self._saved_html(_raw_text(call.params[name]), tags))
        if "post" in call.params:
            media.post = int(call.params["post"]) if call.params["post"] else None
        if call.params.get("slug"):
            media.slug = self._unique_slug(sanitize_slug(_raw_text(call.params["slug"])), exclude=media.id)
        self._save()
        return json_response(self._media_json(media, call))

    def _media_json(self, media: Media, call: _Call) -> dict[str, Any]:
        data = {
            "id": media.id, "date": media.date, "date_gmt": media.date, "slug": media.slug, "status": "inherit",
            "type": "attachment", "link": self._attachment_link(media, call.site),
            "title": {"rendered": rendered(media.title)}, "author": media.author,
            "caption": {"rendered": f"<p>{rendered(media.caption)}</p>\n" if media.caption else ""},
            "alt_text": media.alt_text,
            "media_type": "image" if media.mime_type.startswith("image/") else "file",
            "mime_type": media.mime_type, "media_details": {"filesize": len(media.data)},
            "post": media.post, "source_url": self._media_url(media, call.site),
        }
        if call.context == "edit":
            data["title"]["raw"] = media.title
            data["caption"]["raw"] = media.caption
        return data

    # categories and tags
    def _list_terms(self, call: _Call, taxonomy: str) -> Response:
        self._require_edit_context(call, "Sorry, you are not allowed to edit terms in this taxonomy.")
        kind = _TAXONOMIES[taxonomy]
        terms = [t for t in self.terms.values() if t.taxonomy == kind]
        search = str(call.params.get("search") or "").casefold()
        if search:
            terms = [t for t in terms if search in t.name.casefold() or search in t.slug]
        slugs = _list_param(call.params.get("slug"))
        if slugs:
            terms = [t for t in terms if t.slug in {sanitize_slug(s) for s in slugs}]
        include = {int(i) for i in _list_param(call.params.get("include")) if i.isdigit()}
        if include:
            terms = [t for t in terms if t.id in include]
        if str(call.params.get("hide_empty", "")).lower() in ("1", "true"):
            terms = [t for t in terms if self._term_count(t)]
        terms.sort(key=lambda t: t.name.casefold(), reverse=(call.params.get("order") or "asc") == "desc")
        return self._page_of(call, terms, self._term_json)

    def _get_term(self, call: _Call, taxonomy: str, item_id: str) -> Response:
        term = self.terms.get(int(item_id))
        if term is None or term.taxonomy != _TAXONOMIES[taxonomy]:
            raise ApiError(404, "rest_term_invalid", "Term does not exist.")
        return json_response(self._term_json(term, call))

    def _create_term(self, call: _Call, taxonomy: str) -> Response:
        self._require_user(call, "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.")
        # edit_terms: categories need manage_categories (Editor, Administrator); tags edit_posts (Author too).
        if not self._may("manage_categories" if taxonomy == "categories" else "edit_posts"):
            raise ApiError(403, "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.")
        name = _raw_text(call.params.get("name")).strip()
        if not name:
            raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"])
        kind = _TAXONOMIES[taxonomy]
        slug = sanitize_slug(_raw_text(call.params.get("slug")) or name) or str(self._next_term_id)
        for term in self.terms.values():
            if term.taxonomy == kind and (term.name.casefold() == name.casefold() or term.slug == slug):
                raise ApiError(400, "term_exists", "A term with the name provided already exists in this taxonomy.",
                               term_id=term.id)
        term = Term(self._next_term_id, kind, name, slug)
        self._next_term_id += 1
        self.terms[term.id] = term
        self._save()
        return json_response(self._term_json(term, call), 201,
                              {"Location": self._api_url(call.site, f"/wp/v2/{taxonomy}/{term.id}")})

    def _term_json(self, term: Term, call: _Call) -> dict[str, Any]:
        data = {
            "id": term.id, "count": self._term_count(term), "description": "", "link": self._term_link(term, call.site),
            # WordPress sends names HTML-escaped ("Berita &amp; Acara").
            "name": html.escape(term.name, quote=False), "slug": term.slug, "taxonomy": term.taxonomy, "meta": [],
        }
        if term.taxonomy == "category":
            data["parent"] = 0
        return data

    def _term_count(self, term: Term) -> int:
        field_name = "categories" if term.taxonomy == "category" else "tags"
        return sum(1 for p in self.posts.values() if p.status == "publish" and term.id in getattr(p, field_name))

    def _current_user(self, call: _Call) -> Response:
        if call.user is None:
            raise ApiError(401, "rest_not_logged_in", "You are not currently logged in.")
        data = {"id": 1, "name": call.user, "url": "", "description": "",
                "link": f"{call.site}/author/{call.user}/", "slug": call.user}
        if call.context == "edit":
            data["roles"] = [self.role]
            data["capabilities"] = {name: True for name in sorted(ROLE_CAPABILITIES[self.role])}
        return json_response(data)

    # helpers
    def _require_user(self, call: _Call, code: str, message: str) -> None:
        if call.user is None:
            raise ApiError(401, code, message)

    def _require_edit_context(self, call: _Call, message: str) -> None:
        if call.context == "edit" and call.user is None:
            raise ApiError(401, "rest_forbidden_context", message)

    def _page_of(self, call: _Call, items: list, to_json: Callable) -> Response:
        try:
            per_page = int(call.params.get("per_page") or 10)
            page = int(call.params.get("page") or 1)
        except ValueError:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): per_page, page") from None
        if not 1 <= per_page <= 100:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                           params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"})
        total_pages = max(1, math.ceil(len(items) / per_page))
        if page > total_pages and items:
            raise ApiError(400, "rest_post_invalid_page_number",
                           "The page number requested is larger than the number of pages available.")
        chunk = items[(page - 1) * per_page: page * per_page]
        return json_response([to_json(item, call) for item in chunk], 200,
                              {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)})

    def _post_or_404(self, post_id: int) -> Post:
        post = self.posts.get(post_id)
        if post is None:
            raise ApiError(404, "rest_post_invalid_id", "Invalid post ID.")
        return post

    def _media_or_404(self, media_id: int) -> Media:
        media = self.media.get(media_id)
        if media is None:
            raise ApiError(404, "rest_post_invalid_id", "Invalid post ID.")
        return media

    def _unique_slug(self, slug: str, exclude: int | None = None) -> str:
        """Like wp_unique_post_slug(): a taken slug gets -2, -3, ..."""
        taken = {p.slug for p in self.posts.values() if p.id != exclude} | {
            m.slug for m in self.media.values() if m.id != exclude}
        candidate, number = slug, 2
        while candidate in taken:
            candidate, number = f"{slug}-{number}", number + 1
        return candidate

    def _unique_upload_path(self, year: str, month: str, filename: str) -> str:
        taken = {m.path for m in self.media.values()}
        stem, dot, extension = filename.rpartition(".")
        candidate, number = f"{year}/{month}/{filename}", 1
        while candidate in taken:
            candidate, number = f"{year}/{month}/{stem}-{number}{dot}{extension}", number + 1
        return candidate

    def _api_url(self, site: str, route: str) -> str:
        return f"{site}/wp-json{route}" if self.pretty_permalinks else f"{site}/?rest_route={route}"

    def _post_link(self, post: Post, site: str) -> str:
        return f"{site}/{post.slug}/" if self.pretty_permalinks and post.status == "publish" else f"{site}/?p={post.id}"

    def _attachment_link(self, media: Media, site: str) -> str:
        return f"{site}/{media.slug}/" if self.pretty_permalinks else f"{site}/?attachment_id={media.id}"

    def _term_link(self, term: Term, site: str) -> str:
        if self.pretty_permalinks:
            return f"{site}/{_TAXONOMY_BASES[term.taxonomy]}/{term.slug}/"
        return f"{site}/?cat={term.id}" if term.taxonomy == "category" else f"{site}/?tag={term.slug}"

    @staticmethod
    def _media_url(media: Media, site: str) -> str:
        return f"{site}/wp-content/uploads/{media.path}"

    # ------------------------------------------------------------ public pages
    def _public_post(self, predicate: Callable[[Post], bool]) -> Post | None:
        return next((p for p in self.posts.values() if p.status == "publish" and predicate(p)), None)

    def _term_where(self, taxonomy: str, predicate: Callable[[Term], bool]) -> Term | None:
        return next((t for t in self.terms.values() if t.taxonomy == taxonomy and predicate(t)), None)

    def _uploaded_file(self, path: str) -> Response:
        with self._lock:
            media = next((m for m in self.media.values() if m.path == path and m.file_available), None)
        if media is None:
            return Response("Not Found", 404, mimetype="text/plain")
        return Response(media.data, 200, mimetype=media.mime_type, headers={"Cache-Control": "max-age=3600"})

    def _html_page(self, site: str, title: str, body: str, status: int = 200) -> Response:
        api_root = f"{site}/wp-json/" if self.pretty_permalinks else f"{site}/?rest_route=/"
        page = (
            "<!doctype html>\n<html lang=\"id\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)} \u2013 {html.escape(self.site_title)}</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
            "line-height:1.5;color:#222}img{max-width:100%;height:auto}header a{color:inherit;text-decoration:none}"
            ".note{background:#fff7d6;padding:.5rem .75rem;border-radius:4px;font-size:.9rem}"
            "li{margin-bottom:1.25rem}time,.meta{color:#666;font-size:.9rem}figure{margin:1rem 0}"
            "figcaption{color:#555;font-size:.9rem}</style></head><body>"
            f"<header><h2><a href=\"{html.escape(site)}/\">{html.escape(self.site_title)}</a></h2></header>"
            f"<main>{body}</main></body></html>\n"
        )
        headers = {"Link": f'<{api_root}>; rel="{API_LINK_REL}"'} if self.advertise_api else {}
        return Response(page, status, headers=headers, mimetype="text/html")

    def _index_page(self, site: str) -> Response:
        posts = self.published_posts()
        note = ("<p class=\"note\">This is Warta's sandbox website, a stand-in for the real WordPress site: "
                "news approved in Warta is published here.</p>")
        return self._html_page(site, "Berita", note + "<h1>Berita</h1>" + self._post_list(posts, site))

    def _archive_page(self, term: Term | None, site: str) -> Response:
        if term is None:
            return self._not_found_page(site)
        field_name = "categories" if term.taxonomy == "category" else "tags"
        posts = [p for p in self.published_posts() if term.id in getattr(p, field_name)]
        label = "Kategori" if term.taxonomy == "category" else "Tag"
        heading = f"<h1>{label}: {html.escape(term.name)}</h1>"
        return self._html_page(site, term.name, heading + self._post_list(posts, site))

    def _post_list(self, posts: list[Post], site: str) -> str:
        if not posts:
            return "<p>Nothing published yet.</p>"
        entries = []
        for post in posts:
            entries.append(
                f"<li><a href=\"{html.escape(self._post_link(post, site))}\">{rendered(post.title)}</a>"
                f"<br><time datetime=\"{post.date}Z\">{_shown_date(post.date)}</time>"
                f"<p>{rendered(post.excerpt)}</p></li>"
            )
        return "<ul>" + "".join(entries) + "</ul>"

    def _post_page(self, post: Post | None, site: str) -> Response:
        if post is None:
            return self._not_found_page(site)
        featured = self.media.get(post.featured_media)
        figure = ""
        if featured is not None:
            figure = (f"<figure class=\"post-thumbnail\"><img src=\"{html.escape(self._media_url(featured, site))}\" "
                      f"alt=\"{_esc_attr(featured.alt_text)}\"></figure>")
        terms = [self.terms[i] for i in post.categories + post.tags if i in self.terms]
        term_links = [
            f"<a href=\"{html.escape(self._term_link(term, site))}\" rel=\"tag\">{html.escape(term.name)}</a>"
            for term in terms
        ]
        body = (
            f"<article id=\"post-{post.id}\" class=\"post type-post status-publish\">"
            f"<h1 class=\"entry-title\">{rendered(post.title)}</h1>"
            f"<p class=\"meta\"><time datetime=\"{post.date}Z\">{_shown_date(post.date)}</time></p>"
            f"{figure}<div class=\"entry-content\">{convert_chars(texturize(post.content))}</div>"
            f"<footer class=\"meta\">{TERM_SEPARATOR.join(term_links)}</footer></article>"
        )
        return self._html_page(site, html.unescape(rendered(post.title)), body)

    def _not_found_page(self, site: str) -> Response:
        return self._html_page(site, "Page not found", "<h1>Page not found</h1>", 404)

    # ------------------------------------------------------------- persistence
    def _save(self) -> None:
        if not self.state_file:
            return
        state = {
            "next_post_id": self._next_post_id,
            "next_term_id": self._next_term_id,
            "posts": [asdict(p) for p in self.posts.values()],
            "media": [asdict(m) | {"data": base64.b64encode(m.data).decode()} for m in self.media.values()],
            "terms": [asdict(t) for t in self.terms.values()],
        }
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.state_file)  # a crash never leaves half a file

    def _load(self) -> None:
        state = json.loads(self.state_file.read_text(encoding="utf-8"))
        self._next_post_id = state["next_post_id"]
        self._next_term_id = state["next_term_id"]
        self.posts = {p["id"]: Post(**p) for p in state["posts"]}
        self.media = {m["id"]: Media(**(m | {"data": base64.b64decode(m["data"])})) for m in state["media"]}
        self.terms = {t["id"]: Term(**t) for t in state["terms"]}


def _shown_date(utc_naive: str) -> str:
    """A post's date as people read it, in the one format of Warta's desk and report
    (the SOP's timezone: 2 Des 2026 14.05 WIB)."""
    from warta.config import get_config
    from warta.formatting import formatter

    moment = datetime.fromisoformat(utc_naive).replace(tzinfo=timezone.utc)
    return formatter("id", get_config().timezone).moment(moment)


def _esc_attr(text: str) -> str:
    """Like esc_attr(): special characters escaped, existing character references kept."""
    return convert_chars(text).replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#039;")


# ------------------------------------------------------------------- serving
class RunningWordPress(RunningApp):
    """The fake served from a background thread (``.fake``, ``.base_url``); ``stop()`` ends it."""


def serve_fake_wordpress(*, host: str = "127.0.0.1", port: int = 0, delay_seconds: float = 0.0,
                         **options) -> RunningWordPress:
    """A FakeWordPress (``options`` as its constructor takes) served on a free port; call ``stop()``."""
    return RunningWordPress(FakeWordPress(**options), host, port, delay_seconds=delay_seconds)
