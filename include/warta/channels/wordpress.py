"""The website channel: news posts on a WordPress site through its REST API (wp/v2).

The Airflow Connection (``channel.conn_id``, type ``warta_wordpress``; ``http`` works too)
holds the site address (host, port, schema) and a WordPress user with an Application
Password (login, password: basic auth). The channels' one transport
(``warta.channels.api``, through ``warta.airflow.hooks.WordPressHook``) builds the
authenticated session from it.

Exactly once: the post's slug *is* the publication marker, so ``find_existing`` can ask
WordPress for that slug after a crash or a lost answer instead of posting again; an
attempt that finds WordPress renamed its slug (``slug-2``: another attempt posted the
same marker meanwhile) removes its own post and keeps the first.

Fidelity: WordPress stores a post's title, excerpt and a media caption or alt text as
HTML (``the_title`` prints it unescaped; ``title_save_pre`` runs kses only for users
without ``unfiltered_html``). Warta's texts are plain text, so every one of them is sent
HTML-escaped (``wp_text``): ``<b>`` typed in a title is shown as ``<b>``, ``&`` as ``&``,
and nothing is live markup whatever the account's role.

Credentials are verified first with one cheap call (``GET /wp/v2/users/me?context=edit``):
a refused login names the connection and what to fix, a role without the needed
capabilities says which.
"""

from __future__ import annotations

import html
import logging
import re
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import requests

from warta.channels.base import (
    ChannelAuthError,
    ChannelError,
    CheckResult,
    MediaFile,
    PostContent,
    PublishAttempt,
    RemotePost,
    utc_timestamp,
)
from warta.channels.api import ApiClient
from warta.channels.typography import comparable, same_typography
from warta.config import Channel
from warta.content import text_of_html
from warta.http_retry import retry_after_seconds
from warta.storage import safe_filename

log = logging.getLogger(__name__)

API_LINK_REL = "https://api.w.org/"
USER_AGENT = "Warta newsroom automation"  # the online check's, as an anonymous reader
CHECK_TIMEOUT_SECONDS = 10.0
MAX_CHECKED_URLS = 20
# The page's images and links are probed a few at a time (as a browser loads a page),
# their evidence kept in page order.
PROBES_AT_ONCE = 4
_TERM_KIND = {"categories": "category", "tags": "tag"}
# Every status a post of ours can have while it still exists (trash frees the slug).
FINDABLE_STATUSES = ("publish", "future", "draft", "pending", "private")
# What Warta does on a site: create published posts and upload their photos.
REQUIRED_CAPABILITIES = {"publish_posts": "publish posts", "upload_files": "upload files"}
# The first bytes of each image format WordPress serves (a 200 HTML page is not an image).
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


@dataclass(frozen=True)
class _UploadedMedia:
    id: int
    source_url: str
    mime_type: str
    alt_text: str
    caption: str


class WordPressApi(ApiClient):
    """The site's REST API through the channel's transport: basic auth with the
    connection's login and Application Password (the session carries it)."""

    CREDENTIALS_HINT = "with the site's address and a WordPress Application Password"
    NOT_JSON_HINT = "a WordPress site"

    def error_for(self, response: requests.Response, what: str) -> ChannelError:
        status = response.status_code
        code, message, _ = _wp_error(response)
        reason = self.redact(f"HTTP {status} {code}: {message}" if code else f"HTTP {status}: {message}")
        conn_id = self.conn_id
        if status == 401:
            return ChannelAuthError(
                f"{self.channel.id}: WordPress did not accept the login of Airflow Connection {conn_id!r} while "
                f"{what} ({reason}). "
                + ("The connection has no login: set" if not self.login else "Make sure it has")
                + " the WordPress user name as its login and a current Application Password "
                "(WordPress: Users > Profile > Application Passwords) as its password."
            )
        if status == 403:
            return ChannelAuthError(
                f"{self.channel.id}: the WordPress user of Airflow Connection {conn_id!r} may not do this: "
                f"{what} ({reason}). Give that user the Author or Editor role, or put another user's "
                "Application Password in the connection."
            )
        if 300 <= status < 400:
            return ChannelError(
                f"{self.channel.id}: {what}: the site redirects to {response.headers.get('Location')!r}; "
                f"point Airflow Connection {conn_id!r} at that address", retryable=False,
            )
        if status == 429 or status == 408 or status >= 500:
            return ChannelError(f"{self.channel.id}: {what}: {reason}", retryable=True,
                                retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        return ChannelError(f"{self.channel.id}: {what}: {reason}", retryable=False)


class WordPressPublisher:
    """Publishes to one WordPress site; one instance per task is enough (it caches a session)."""

    def __init__(self, channel: Channel, api: WordPressApi | None = None):
        self.channel = channel
        self.api = api or WordPressApi(channel)
        self._api_root: str | None = None
        self._term_ids: dict[tuple[str, str], int] = {}
        self._user: dict[str, Any] | None = None

    # ------------------------------------------------------------ the protocol
    def find_existing(self, marker: str, attempt: PublishAttempt | None = None) -> RemotePost | None:
        self.verify_credentials()
        posts = self._posts_with_slug(marker_slug(marker))
        if not posts:
            return None
        if len(posts) > 1:
            log.warning("%s: %d posts carry marker %s; using the first (id %s)",
                        self.channel.id, len(posts), marker, posts[0].get("id"))
        return self._existing(posts[0])

    def _existing(self, post: dict[str, Any]) -> RemotePost:
        featured_id = int(post.get("featured_media") or 0)
        return self._remote_post(post, media_ids=[featured_id] if featured_id else [],
                                 featured_image_url=self._media_source_url(featured_id))

    def publish(self, content: PostContent, marker: str, attempt: PublishAttempt | None = None) -> RemotePost:
        self.verify_credentials()
        slug = marker_slug(marker)
        # Terms first: a category the user may not create stops the attempt before any upload.
        tag_ids = [self._term_id("tags", tag) for tag in _distinct(content.tags)]
        category = content.category or self.channel.options.category
        category_ids = [self._term_id("categories", category)] if category else []
        uploaded = self._upload_media(content, slug)
        featured = next((m for m in uploaded if m.mime_type.startswith("image/")), None)
        payload: dict[str, Any] = {
            "title": wp_text(content.title),
            "content": _no_shortcodes(content.body_html) + _media_html([m for m in uploaded if m is not featured]),
            "excerpt": wp_text(content.excerpt),
            "status": "publish",
            "slug": slug,
            "tags": tag_ids,
        }
        if category_ids:
            payload["categories"] = category_ids
        if featured is not None:
            payload["featured_media"] = featured.id
        post = self._api("POST", "/wp/v2/posts", "creating the post", json=payload)
        # Two attempts at the same moment: WordPress renames the later slug (``slug-2``), or,
        # when both inserts race inside WordPress, stores the same slug twice. Either way the
        # oldest post carrying the marker stands and every other attempt deletes its own.
        first = next(iter(self._posts_with_slug(slug)), None)
        if first is not None and first.get("id") != post.get("id"):
            self._remove_duplicate(post, first)
            return self._existing(first)
        if post.get("slug") != slug:
            log.warning("%s: WordPress stored post %s with slug %r instead of %r",
                        self.channel.id, post.get("id"), post.get("slug"), slug)
        rendered = text_of_html(str((post.get("title") or {}).get("rendered", "")))
        if not same_typography(rendered, content.title):
            log.warning("%s: WordPress shows the title of post %s as %r, not %r",
                        self.channel.id, post.get("id"), rendered, content.title)
        log.info("%s: published post %s at %s", self.channel.id, post.get("id"), post.get("link"))
        return self._remote_post(
            post, media_ids=[m.id for m in uploaded], featured_image_url=featured.source_url if featured else None
        )

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        return _OnlineCheck(post, content).run()

    def host_media(self, media: tuple[MediaFile, ...], slug: str, alt_text: str) -> list[str]:
        """Put files in the site's media library (once, however often this runs) and return
        their public addresses: for channels that take photos only by URL (Instagram)."""
        self.verify_credentials()
        content = PostContent(title=alt_text, body_html="", excerpt="", media=media)
        return [item.source_url for item in self._upload_media(content, marker_slug(slug))]

    def verify_credentials(self) -> dict[str, Any]:
        """One cheap call before anything else: who the connection logs in as, and whether
        that user may publish posts and upload files (cached for the publisher's life)."""
        if self._user is None:
            what = "checking the login (GET /wp/v2/users/me)"
            response = self._send("GET", self._endpoint("/wp/v2/users/me"), what, params={"context": "edit"})
            self._check(response, what)
            user = self._json(response, what)
            capabilities = user.get("capabilities") if isinstance(user, dict) else None
            if isinstance(capabilities, dict):
                missing = [label for name, label in REQUIRED_CAPABILITIES.items() if not capabilities.get(name)]
                if missing:
                    roles = ", ".join(user.get("roles") or []) or "no role"
                    raise ChannelAuthError(
                        f"{self.channel.id}: the WordPress user {user.get('slug') or user.get('name')!r} of Airflow "
                        f"Connection {self.channel.conn_id!r} ({roles}) may not {' or '.join(missing)}. Give that "
                        "user the Author or Editor role, or put another user's Application Password in the "
                        "connection."
                    )
            self._user = user if isinstance(user, dict) else {}
        return self._user

    def _posts_with_slug(self, slug: str) -> list[dict[str, Any]]:
        """Our posts carrying the marker's slug, in any status but trash, oldest first."""
        posts = self._api("GET", "/wp/v2/posts", "looking up the post by its marker",
                          params={"slug": slug, "status": ",".join(FINDABLE_STATUSES), "context": "edit",
                                  "orderby": "id", "order": "asc", "per_page": 10})
        return [post for post in posts if isinstance(post, dict)] if isinstance(posts, list) else []

    def _remove_duplicate(self, ours: dict[str, Any], first: dict[str, Any]) -> None:
        log.warning("%s: post %s duplicates post %s (same marker, posted at the same time): deleting ours",
                    self.channel.id, ours.get("id"), first.get("id"))
        what = f"deleting duplicate post {ours.get('id')}"
        response = self._send("DELETE", self._endpoint(f"/wp/v2/posts/{ours['id']}"), what, params={"force": "true"})
        if response.status_code not in (200, 404, 410):
            self._check(response, what)

    # ------------------------------------------------------------ publishing
    def _upload_media(self, content: PostContent, post_slug: str) -> list[_UploadedMedia]:
        """Upload the files; ones a failed earlier attempt already uploaded are reused."""
        if not content.media:
            return []
        slugs = [f"{post_slug}-media-{number}" for number, _ in enumerate(content.media, start=1)]
        earlier = self._api("GET", "/wp/v2/media", "looking for media of an earlier attempt",
                            params={"slug": ",".join(slugs), "context": "edit", "per_page": 100})
        earlier_by_slug = {item.get("slug"): item for item in earlier if isinstance(item, dict)}
        uploaded = []
        for media_slug, media_file in zip(slugs, content.media):
            alt_text = media_file.caption or content.title  # every image needs a text alternative
            item = earlier_by_slug.get(media_slug)
            if item is None:
                item = self._upload(media_file)
                item = self._api("POST", f"/wp/v2/media/{item['id']}", f"describing {media_file.filename}",
                                 json={"slug": media_slug, "alt_text": wp_text(alt_text),
                                       "caption": wp_text(media_file.caption)})
            uploaded.append(_UploadedMedia(int(item["id"]), item.get("source_url", ""),
                                           item.get("mime_type") or media_file.content_type, alt_text,
                                           media_file.caption))
        return uploaded

    def _upload(self, media_file: MediaFile) -> dict[str, Any]:
        item = self._api(
            "POST", "/wp/v2/media", f"uploading {media_file.filename}",
            data=media_file.data,
            headers={
                "Content-Type": media_file.content_type or "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{safe_filename(media_file.filename)}"',
            },
        )
        log.info("%s: uploaded %s as media %s", self.channel.id, media_file.filename, item.get("id"))
        return item

    def _term_id(self, taxonomy: str, name: str) -> int:
        """The id of the category or tag called ``name``, created when the site has none."""
        name = " ".join(name.split())
        key = (taxonomy, name.casefold())
        if key in self._term_ids:
            return self._term_ids[key]
        what = f"finding {taxonomy} {name!r}"
        found = self._api("GET", f"/wp/v2/{taxonomy}", what, params={"search": name, "per_page": 100})
        slug = _slugify(name)
        for term in found if isinstance(found, list) else []:
            # WordPress sends names HTML-escaped ("A &amp; B").
            if html.unescape(term.get("name", "")).strip().casefold() == name.casefold() or term.get("slug") == slug:
                self._term_ids[key] = int(term["id"])
                return self._term_ids[key]
        response = self._send("POST", self._endpoint(f"/wp/v2/{taxonomy}"), f"creating {taxonomy} {name!r}",
                              json={"name": name})
        code, _, data = _wp_error(response)
        if response.status_code == 400 and code == "term_exists" and data.get("term_id"):
            term_id = int(data["term_id"])  # created meanwhile by someone else
        elif response.status_code == 403:
            # Authors may create tags but not categories (manage_categories).
            roles = ", ".join((self._user or {}).get("roles") or []) or "its role"
            raise ChannelAuthError(
                f"{self.channel.id}: the site has no {_TERM_KIND[taxonomy]} {name!r} and the WordPress user of "
                f"Airflow Connection {self.channel.conn_id!r} ({roles}) may not create one. Create it in "
                "WordPress (Posts > Categories or Tags), or give that user the Editor role."
            )
        else:
            term_id = int(self._json(response, f"creating {taxonomy} {name!r}")["id"])
        self._term_ids[key] = term_id
        return term_id

    def _media_source_url(self, media_id: int) -> str | None:
        """Where an uploaded file is served; None when there is none (any more)."""
        if not media_id:
            return None
        what = f"reading media {media_id}"
        response = self._send("GET", self._endpoint(f"/wp/v2/media/{media_id}"), what, params={"context": "edit"})
        if response.status_code == 404:  # deleted since: the online check will say so
            return None
        return self._json(response, what).get("source_url")

    def _remote_post(self, post: dict[str, Any], *, media_ids: list[int], featured_image_url: str | None) -> RemotePost:
        return RemotePost(
            remote_id=str(post["id"]),
            url=post["link"],
            details={
                "slug": post.get("slug"),
                "status": post.get("status"),
                "media_ids": media_ids,
                "featured_media": int(post.get("featured_media") or 0) or None,
                "featured_image_url": featured_image_url,
                "categories": post.get("categories", []),
                "tags": post.get("tags", []),
                # What WordPress made of the title (wptexturize: curly quotes, dashes, ×): the online check's reference.
                "title_rendered": str((post.get("title") or {}).get("rendered", "")),
            },
        )

    # ------------------------------------------------------------- transport
    @property
    def _site_url(self) -> str:
        self.api.session()
        return self.api.base_url + "/"

    def _api(self, method: str, route: str, what: str, **kwargs: Any) -> Any:
        return self.api.call(method, self._endpoint(route), what, **kwargs)

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        return self.api.send(method, url, what, **kwargs)

    def _json(self, response: requests.Response, what: str) -> Any:
        self._check(response, what)
        return self.api.json_of(response, what)

    def _check(self, response: requests.Response, what: str) -> None:
        if response.status_code >= 300:
            raise self.api.error_for(response, what)

    # ----------------------------------------------------------- API address
    def _endpoint(self, route: str) -> str:
        """The URL of ``route`` (like ``/wp/v2/posts``) under the site's REST API root."""
        root = urlsplit(self._discover_api_root())
        query = parse_qsl(root.query, keep_blank_values=True)
        if any(key == "rest_route" for key, _ in query):
            # Plain permalinks: the route travels in the query (…/?rest_route=/wp/v2/posts).
            query = [(key, value.rstrip("/") + route if key == "rest_route" else value) for key, value in query]
            return urlunsplit((root.scheme, root.netloc, root.path, urlencode(query, safe="/"), ""))
        return urlunsplit((root.scheme, root.netloc, root.path.rstrip("/") + route, root.query, ""))

    def _discover_api_root(self) -> str:
        """The REST API root the site announces in its ``Link`` header (cached)."""
        if self._api_root is None:
            response = self._send("GET", self._site_url, "reading the site's home page",
                                  headers={"Accept": "text/html"})
            self._check(response, "reading the site's home page")
            link = response.links.get(API_LINK_REL, {}).get("url")
            # Without the header (hidden by some security plugins) ?rest_route= works on every site.
            self._api_root = self._same_site(link) if link else self._site_url + "?rest_route=/"
            log.info("%s: REST API root %s", self.channel.id, self._api_root)
        return self._api_root

    def _same_site(self, api_link: str) -> str:
        """The announced root on the connection's own scheme, host and port: credentials go nowhere else."""
        site = urlsplit(self._site_url)
        api = urlsplit(urljoin(self._site_url, api_link))
        if (api.hostname or "").lower() != (site.hostname or "").lower():
            raise ChannelError(
                f"{self.channel.id}: the site says its REST API is at {api.scheme}://{api.netloc}, not on the host "
                f"of Airflow Connection {self.channel.conn_id!r} ({site.netloc}); set the connection's host to "
                "the site's own address", retryable=False,
            )
        return urlunsplit((site.scheme, site.netloc, api.path or "/", api.query, ""))


# ---------------------------------------------------------------- checking
class _PageReader(HTMLParser):
    """The visible text, image sources and link targets of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value}
        if tag == "img":
            # Lazy-loading themes keep the real address in data-src and a placeholder in src.
            self.images.extend(values[name].strip() for name in ("src", "data-src", "data-lazy-src") if name in values)
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"].strip())
        elif tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


class _OnlineCheck:
    """Reads the live post anonymously, as the public would, and collects the evidence."""

    def __init__(self, post: RemotePost, content: PostContent):
        self.post = post
        self.content = content
        self.failures: list[str] = []
        self.evidence: dict[str, Any] = {
            "url": post.url, "status": None, "elapsed_ms": None, "checked_at": utc_timestamp(),
            "title_found": False, "featured_image": post.details.get("featured_image_url"),
            "featured_image_found": None, "images": [], "links_checked": 0, "broken_links": [], "unchecked_urls": 0,
            "failures": self.failures,
        }

    def run(self) -> CheckResult:
        # No credentials here: the check must see what an anonymous reader sees.
        with httpx.Client(follow_redirects=True, timeout=CHECK_TIMEOUT_SECONDS,
                          headers={"User-Agent": USER_AGENT}) as client:
            started = time.monotonic()
            try:
                response = client.get(self.post.url)
            except httpx.HTTPError as exc:
                self.failures.append(f"could not load {self.post.url}: {type(exc).__name__}: {exc}")
                return self._result(None)
            self.evidence["elapsed_ms"] = round((time.monotonic() - started) * 1000)
            self.evidence["status"] = response.status_code
            if str(response.url) != self.post.url:
                self.evidence["final_url"] = str(response.url)
            if response.status_code != 200:
                self.failures.append(f"the page answered HTTP {response.status_code}")
                return self._result(response.status_code)
            page = _PageReader()
            page.feed(response.text)
            page.close()
            self._check_title(page)
            self._check_images_and_links(client, page, str(response.url))
            return self._result(response.status_code)

    def _result(self, http_status: int | None) -> CheckResult:
        return CheckResult(ok=not self.failures, http_status=http_status, evidence=self.evidence)

    def _check_title(self, page: _PageReader) -> None:
        """The approved title is on the page as WordPress typesets it: the text it rendered
        at publish time, or the approved text up to wptexturize's typography."""
        visible = " ".join(page.text)
        approved = self.content.title
        rendered = text_of_html(str(self.post.details.get("title_rendered") or ""))
        if rendered and not same_typography(rendered, approved):
            self.evidence["title_rendered"] = rendered
            self.failures.append(f"WordPress shows the title as {rendered!r}, not as approved ({approved!r})")
            return
        found = (bool(rendered) and " ".join(rendered.split()) in " ".join(visible.split())) or (
            comparable(approved) in comparable(visible))
        self.evidence["title_found"] = found
        if not found:
            self.failures.append(f"the title {approved!r} is not on the page (retitled or replaced since publishing?)")

    def _check_images_and_links(self, client: httpx.Client, page: _PageReader, page_url: str) -> None:
        host = urlsplit(page_url).hostname
        featured = self.evidence["featured_image"]
        images = _distinct_urls(page.images, page_url)
        featured_src = next((src for src in images if featured and _same_image(src, featured)), None)
        if featured:
            self.evidence["featured_image_found"] = featured_src is not None
            if featured_src is None:
                self.failures.append(f"the featured image {featured} is not on the page")
        elif any(m.content_type.startswith("image/") for m in self.content.media):
            own_images = [src for src in images if urlsplit(src).hostname == host]
            self.evidence["featured_image_found"] = bool(own_images)
            if not own_images:
                self.failures.append("the post has photos but the page shows none")
        # The featured image first, then the site's own images, then its own links.
        image_targets = [src for src in images if src == featured_src or urlsplit(src).hostname == host]
        image_targets.sort(key=lambda src: src != featured_src)
        link_targets = [
            url for url in _distinct_urls(page.links, page_url)
            if urlsplit(url).hostname == host and url != urldefrag(page_url).url and url not in image_targets
        ]
        budget = MAX_CHECKED_URLS
        images_probed, links_probed = _probe_all(client, image_targets[:budget],
                                                 link_targets[:max(0, budget - len(image_targets))])
        for src, (status, error) in zip(image_targets[:budget], images_probed):
            ok = status is not None and status < 400 and error is None
            self.evidence["images"].append({"src": src, "status": status, "ok": ok, "featured": src == featured_src,
                                            **({"error": error} if error else {})})
            if not ok:
                self.failures.append(f"image {src} does not load ({error or f'HTTP {status}'})")
        budget -= min(len(image_targets), budget)
        for url, (status, error) in zip(link_targets[:budget], links_probed):
            self.evidence["links_checked"] += 1
            if status is None or status >= 400:
                broken = {"url": url, "status": status, **({"error": error} if error else {})}
                self.evidence["broken_links"].append(broken)
                self.failures.append(f"link {url} is broken ({error or f'HTTP {status}'})")
        self.evidence["unchecked_urls"] = max(0, len(image_targets) + len(link_targets) - MAX_CHECKED_URLS)


def _probe_all(client: httpx.Client, images: list[str], links: list[str]) -> tuple[list, list]:
    """(status, error) of every image and link, in their order, ``PROBES_AT_ONCE`` at a time."""
    if not images and not links:
        return [], []
    with ThreadPoolExecutor(min(PROBES_AT_ONCE, len(images) + len(links))) as pool:
        probed_images = pool.map(lambda url: _probe_image(client, url), images)
        probed_links = pool.map(lambda url: _probe(client, url), links)
        return list(probed_images), list(probed_links)


def _probe_image(client: httpx.Client, url: str) -> tuple[int | None, str | None]:
    """The status of an image address and, when it answers, whether what it serves is an
    image: its Content-Type and its first bytes (a 200 HTML error page is not a photo)."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                return response.status_code, None
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            head = b""
            for chunk in response.iter_bytes():
                head += chunk
                if len(head) >= 16:
                    break
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if not content_type.startswith("image/"):
        return response.status_code, f"not an image: Content-Type {content_type or 'missing'}"
    if not _looks_like_image(head, content_type):
        return response.status_code, f"not an image: its content does not start like {content_type}"
    return response.status_code, None


def _looks_like_image(head: bytes, content_type: str) -> bool:
    if content_type == "image/svg+xml":
        return b"<" in head
    if head.startswith(IMAGE_SIGNATURES):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp"  # AVIF, HEIC


def _probe(client: httpx.Client, url: str) -> tuple[int | None, str | None]:
    """The status of ``url``: HEAD, or a GET for servers that refuse HEAD."""
    try:
        status = client.head(url).status_code
        if status in (405, 501):
            with client.stream("GET", url) as response:
                status = response.status_code
        return status, None
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- helpers
def marker_slug(marker: str) -> str:
    """The post slug that carries the marker, already as WordPress would store it."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", marker.lower()).strip("-")
    if not slug:
        raise ValueError(f"marker {marker!r} gives an empty slug")
    return slug


def _slugify(text: str) -> str:
    """Roughly WordPress's sanitize_title(), to recognise an existing term by its slug."""
    text = unicodedata.normalize("NFKD", html.unescape(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9_-]", "", re.sub(r"[\s./]+", "-", text))).strip("-")


def wp_text(text: str) -> str:
    """Plain text as the HTML WordPress stores in a title, excerpt, caption or alt text:
    ``<``, ``>`` and ``&`` escaped once (quotes are left for wptexturize to curl)."""
    return html.escape(text or "", quote=False)


def _no_shortcodes(body_html: str) -> str:
    """The body with its square brackets as character references, so that text like
    ``[gallery]`` in a manuscript is shown as typed and never runs as a shortcode."""
    return body_html.replace("[", "&#91;").replace("]", "&#93;")


def _distinct(names: tuple[str, ...] | list[str]) -> list[str]:
    """Non-empty names, first spelling kept, without case-insensitive repeats."""
    seen: dict[str, str] = {}
    for name in names:
        name = " ".join(str(name).split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


def _media_html(media: list[_UploadedMedia]) -> str:
    """The files besides the featured image, shown after the text."""
    parts = []
    for item in media:
        src = html.escape(item.source_url)
        caption = f"<figcaption>{html.escape(item.caption)}</figcaption>" if item.caption else ""
        if item.mime_type.startswith("image/"):
            parts.append(f'<figure class="wp-block-image"><img src="{src}" alt="{html.escape(item.alt_text)}">'
                         f"{caption}</figure>")
        elif item.mime_type.startswith(("video/", "audio/")):
            tag = item.mime_type.split("/", 1)[0]
            parts.append(f'<figure class="wp-block-{tag}"><{tag} controls src="{src}"></{tag}>{caption}</figure>')
        else:
            label = item.caption or item.source_url.rsplit("/", 1)[-1]
            parts.append(f'<p><a href="{src}">{html.escape(label)}</a></p>')
    return "\n" + "\n".join(parts) if parts else ""


def _wp_error(response: requests.Response) -> tuple[str, str, dict[str, Any]]:
    """WordPress's ``code`` and ``message`` (and ``data``) from an error answer, or a text excerpt."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        return str(body.get("code")), html.unescape(str(body.get("message", ""))), data
    text = " ".join(re.sub(r"<[^>]+>", " ", response.text or "").split())
    return "", text[:200] or response.reason or "", {}


def _distinct_urls(urls: list[str], page_url: str) -> list[str]:
    """Absolute http(s) URLs without fragments, each once, in page order."""
    result: dict[str, None] = {}
    for url in urls:
        absolute = urldefrag(urljoin(page_url, html.unescape(url))).url
        if urlsplit(absolute).scheme in ("http", "https"):
            result[absolute] = None
    return list(result)


def _same_image(src: str, source_url: str) -> bool:
    """Whether ``src`` shows the uploaded file, maybe as a resized copy (foto-1024x683.jpg) or via a CDN."""
    stem = urlsplit(source_url).path.rsplit(".", 1)[0].removesuffix("-scaled")
    path = urlsplit(src).path
    if not stem or stem not in path:
        return False
    return re.fullmatch(r"(-\d+x\d+)?(-scaled)?\.\w+", path.split(stem, 1)[1]) is not None
