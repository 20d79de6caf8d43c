"""Publishing channels: one publisher per channel kind, all behind ``Publisher``."""

from warta.channels.base import (
    ChannelAuthError,
    ChannelError,
    CheckResult,
    PostContent,
    Publisher,
    RemotePost,
    publisher_for,
)

__all__ = [
    "ChannelAuthError",
    "ChannelError",
    "CheckResult",
    "PostContent",
    "Publisher",
    "RemotePost",
    "publisher_for",
]
