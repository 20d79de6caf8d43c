"""The one small interface every channel implements.

A publisher turns the approved manuscript into a post on its channel and can find that
post again by the marker Warta recorded before calling, so a retry never posts twice.
Transport (HTTP, credentials) comes from an Airflow Connection through the HTTP
provider's hook, which the publisher is given; payload building is plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from warta.config import Channel


class ChannelError(RuntimeError):
    """The channel refused or failed; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ChannelAuthError(ChannelError):
    """Credentials are missing, expired or revoked: fix the named Airflow Connection."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


@dataclass(frozen=True)
class MediaFile:
    filename: str
    data: bytes
    content_type: str
    caption: str = ""


@dataclass(frozen=True)
class PostContent:
    """What to publish, built from the approved manuscript (body is sanitized HTML)."""

    title: str
    body_html: str
    excerpt: str
    media: tuple[MediaFile, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemotePost:
    remote_id: str
    url: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    http_status: int | None
    evidence: dict[str, Any]


class Publisher(Protocol):
    channel: Channel

    def find_existing(self, marker: str) -> RemotePost | None:
        """The post carrying ``marker`` if the channel already has it."""

    def publish(self, content: PostContent, marker: str) -> RemotePost:
        """Create the post (tagged with ``marker``) and return where it lives."""

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        """Read the live post as the public would and say whether it is right."""


def publisher_for(channel: Channel) -> Publisher:
    """The publisher for a configured channel (by its ``kind``)."""
    if channel.kind == "wordpress":
        from warta.channels.wordpress import WordPressPublisher

        return WordPressPublisher(channel)
    raise ValueError(f"channel {channel.id!r}: no publisher for kind {channel.kind!r}")
