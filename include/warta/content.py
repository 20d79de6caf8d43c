"""Turning the approved manuscript into what a channel publishes.

A manuscript body is plain text: a blank line separates paragraphs, a single line
break stays a line break. Authors may also use a few HTML tags (bold, italic, links,
lists, quotes, sub-headings); everything else is removed by an allow-list sanitizer.
``publishable_html`` is the only way a body becomes HTML: the desk's preview and the
publishing pipeline both call it, so the preview is exactly what is published.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from warta.channels.base import MediaFile, PostContent

# What an author may write in a manuscript; anything else (script, style, iframe, event
# handlers, javascript: links, images from elsewhere) is dropped.
ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "b", "em", "i", "u", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# A paragraph that starts with one of these is already a block: it is not wrapped in <p>.
_BLOCK_START = re.compile(r"^\s*<(ul|ol|blockquote|h2|h3|h4|p)\b", re.IGNORECASE)
# Elements whose end starts a new line of text in the plain version.
_BLOCK_TAGS = frozenset({"p", "br", "li", "blockquote", "h2", "h3", "h4", "ul", "ol"})


def sanitize_html(fragment: str) -> str:
    """Allow-list sanitizer for any user-supplied HTML fragment."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def publishable_html(body: str) -> str:
    """The manuscript body as the sanitized HTML a channel publishes (and the desk previews)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", (body or "").strip()) if p.strip()]
    blocks = []
    for paragraph in paragraphs:
        if _BLOCK_START.match(paragraph):
            blocks.append(paragraph)
        else:
            blocks.append("<p>" + "<br>\n".join(line.strip() for line in paragraph.splitlines()) + "</p>")
    return sanitize_html("\n".join(blocks))


def manuscript_html(body: str) -> str:
    """Kept for callers of the earlier name: the same as ``publishable_html``."""
    return publishable_html(body)


class _TextOf(HTMLParser):
    """The text a reader sees in sanitized HTML: character references decoded once,
    attribute values (link titles) not part of it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of_html(fragment: str) -> str:
    """What a reader sees of an HTML fragment, as plain text (not HTML: a ``<`` in it is
    a character the reader sees, so whoever puts it into HTML must escape it)."""
    reader = _TextOf()
    reader.feed(fragment or "")
    reader.close()
    return "".join(reader.parts)


def plain_text(body: str) -> str:
    """The body's words without markup (excerpts, social captions, search).

    The result is text, never markup: an escaped ``&lt;script&gt;`` in the body is the
    text ``<script>`` here, which each channel escapes for its own format (WordPress
    fields are HTML; social posts are plain text and take it as is)."""
    return text_of_html(publishable_html(body))


def excerpt(body: str, limit: int = 300) -> str:
    text = " ".join(plain_text(body).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def build_post_content(manuscript, assets, storage, *, category: str | None, tags: tuple[str, ...] = (),
                       link: str | None = None) -> PostContent:
    """The post for one channel: photos first (the first is the featured image)."""
    media = tuple(
        MediaFile(
            filename=asset.filename,
            data=storage.get_bytes(asset.storage_key),
            content_type=asset.content_type,
            caption=asset.caption or manuscript.title,
        )
        for asset in assets
        if asset.kind == "photo"
    )
    return PostContent(
        title=manuscript.title,
        body_html=publishable_html(manuscript.body),
        excerpt=excerpt(manuscript.body),
        media=media,
        category=category,
        tags=tags,
        text=" ".join(plain_text(manuscript.body).split()),
        link=link,
    )
