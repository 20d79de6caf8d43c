"""The one small interface every channel implements.

A publisher turns the approved manuscript into a post on its channel and can find that
post again by the marker Warta recorded before calling, so a retry never posts twice.
Transport (HTTP, credentials) is the channels' one transport (``warta.channels.api``)
on the channel's connection; payload building is plain Python.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from warta.config import Channel

log = logging.getLogger(__name__)


class ChannelError(RuntimeError):
    """The channel refused or failed; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ChannelDuplicate(ChannelError):
    """The channel refused the post as a duplicate of one it already has (maybe ours,
    from an attempt whose answer was lost): look it up rather than post again."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


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
    # The body as plain text (social captions are cut from it) and the item's website
    # article, when it has one, for social posts to point at.
    text: str = ""
    link: str | None = None


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


def utc_timestamp() -> str:
    """Now, as the ``checked_at`` of an online check's evidence."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class PublishAttempt:
    """What one publishing attempt knows beyond the content, and the means to leave a trail.

    ``details`` holds what earlier attempts recorded (the publication's ``details``: ids
    of posts, photos, containers, fingerprints of what was sent). ``note()`` records more
    *before* the next remote call, so an attempt that dies after the remote side acted is
    followed by one that looks the work up instead of repeating it. ``deadline`` (on
    ``clock``) is the end of the step's time budget: a publisher waits (``sleep``) for a
    throttle or a slow container only while the wait fits. ``keep_alive(seconds)`` is
    told before each record and each wait, so whoever holds a lease for the attempt can
    extend it over the next call or sleep.
    """

    def __init__(
        self,
        details: dict[str, Any] | None = None,
        *,
        record: Callable[[dict[str, Any]], None] | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        keep_alive: Callable[[float], None] | None = None,
    ):
        self.details: dict[str, Any] = dict(details or {})
        self._record = record
        self._keep_alive = keep_alive
        self.clock = clock
        self.sleep = sleep
        self.deadline = deadline if deadline is not None else clock() + 600.0

    def note(self, **values: Any) -> None:
        """Remember ``values`` now, durably (the pipeline stores them on the publication)."""
        self.details.update(values)
        if self._keep_alive is not None:
            self._keep_alive(0.0)
        if self._record is not None:
            self._record(dict(self.details))

    def remaining(self) -> float:
        return max(0.0, self.deadline - self.clock())

    def wait(self, seconds: float, why: str) -> bool:
        """Sleep ``seconds`` if that fits the budget; False (and no sleep) when it does not."""
        if seconds > self.remaining():
            return False
        if seconds > 0:
            if self._keep_alive is not None:
                self._keep_alive(seconds)
            log.info("waiting %.0f s: %s", seconds, why)
            self.sleep(seconds)
        return True


class Publisher(Protocol):
    channel: Channel

    def find_existing(self, marker: str, attempt: PublishAttempt | None = None) -> RemotePost | None:
        """The post carrying ``marker`` (or recorded in ``attempt.details``) if the channel has it."""

    def publish(self, content: PostContent, marker: str, attempt: PublishAttempt | None = None) -> RemotePost:
        """Create the post (tagged with ``marker``) and return where it lives."""

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        """Read the live post as the public would and say whether it is right."""


# Channel kind -> "module:class" of its publisher, imported on first use (so this module,
# which every publisher imports, imports none of them).
PUBLISHERS = {
    "wordpress": "warta.channels.wordpress:WordPressPublisher",
    "facebook_page": "warta.channels.facebook:FacebookPagePublisher",
    "instagram": "warta.channels.instagram:InstagramPublisher",
    "x": "warta.channels.x:XPublisher",
}


def publisher_for(channel: Channel) -> Publisher:
    """The publisher for a configured channel (by its ``kind``)."""
    target = PUBLISHERS.get(channel.kind)
    if target is None:
        raise ValueError(f"channel {channel.id!r}: no publisher for kind {channel.kind!r}")
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)(channel)
