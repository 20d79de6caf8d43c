"""Turning the approved manuscript into what a channel publishes."""

from __future__ import annotations

import html
import re

from warta.channels.base import MediaFile, PostContent


def manuscript_html(body: str) -> str:
    """Plain-text manuscript to safe HTML: blank lines separate paragraphs."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>" for p in paragraphs
    )


def excerpt(body: str, limit: int = 300) -> str:
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def build_post_content(manuscript, assets, storage, *, category: str | None, tags: tuple[str, ...] = ()) -> PostContent:
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
        body_html=manuscript_html(manuscript.body),
        excerpt=excerpt(manuscript.body),
        media=media,
        category=category,
        tags=tags,
    )
