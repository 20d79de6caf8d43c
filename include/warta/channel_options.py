"""Typed options of each channel kind in ``config/channels.yaml``.

A channel's keys beyond ``name_id``, ``name_en``, ``kind``, ``conn_id`` and ``default`` are
its options; which ones it may have depends on its ``kind``. Unknown keys and bad values
are refused when the configuration loads, naming the file, the channel and the key.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt

CHANNEL_KINDS = ("wordpress", "facebook_page", "instagram", "x")
LINK_PLACEMENTS = ("attach", "text", "bio", "none")
COUNTINGS = ("chars", "x_weighted")
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


def _ratio(value):
    """An aspect ratio (width / height) as ``0.8``, ``"4:5"`` or ``"1.91:1"``."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and ":" in value:
        width, height = value.split(":", 1)
        try:
            return float(width) / float(height)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{value!r} is not a ratio like 4:5") from None
    return value


def _upper(values):
    return tuple(str(value).upper() for value in values) if isinstance(values, (list, tuple)) else values


AspectRatio = Annotated[float | None, BeforeValidator(_ratio)]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaptionRules(_Options):
    """``caption``: the platform's limit and where the website's link and hashtags go."""

    max_chars: PositiveInt
    counting: Literal[COUNTINGS] = "chars"
    link: Literal[LINK_PLACEMENTS] = "text"
    # Shown instead of the address where links are not clickable (Instagram).
    link_text: str = "Selengkapnya di website kami (link di bio)."
    hashtags: tuple[str, ...] = ()
    max_hashtags: int | None = None
    # Whether the body text follows the title (X's few characters hold the title only).
    include_body: bool = True


class ImageRules(_Options):
    """``images``: what the platform takes; photos that break a rule are converted."""

    max_count: PositiveInt = 10
    formats: Annotated[tuple[Literal[IMAGE_FORMATS], ...], BeforeValidator(_upper)] = ("JPEG", "PNG")
    min_aspect: AspectRatio = None
    max_aspect: AspectRatio = None
    max_side: PositiveInt | None = None
    max_bytes: PositiveInt | None = None


class ChannelOptions(_Options):
    """What every channel may set."""

    # Days without a post before the freshness warning (default: warta.yaml service_levels).
    freshness_days: int | None = None


class WordPressOptions(ChannelOptions):
    kind: Literal["wordpress"] = "wordpress"
    # The category every post is filed under (created when missing), and tags.
    category: str | None = None
    tags: tuple[str, ...] = ()


class SocialOptions(ChannelOptions):
    """A social channel's adaptation of the approved manuscript (warta.social)."""

    # Required to publish (warta.social.rules_for says so); a channel only reported on may omit it.
    caption: CaptionRules | None = None
    images: ImageRules = ImageRules()
    # The channel whose published address the posts point at (usually the website).
    link_from: str | None = "website"


class FacebookOptions(SocialOptions):
    kind: Literal["facebook_page"] = "facebook_page"


class XOptions(SocialOptions):
    kind: Literal["x"] = "x"


class InstagramOptions(SocialOptions):
    kind: Literal["instagram"] = "instagram"
    # Instagram fetches photos from a public address: this WordPress site's media library.
    image_host_conn_id: str | None = None
    status_poll_seconds: float = Field(default=5.0, gt=0)


AnyChannelOptions = Annotated[
    Union[WordPressOptions, FacebookOptions, InstagramOptions, XOptions], Field(discriminator="kind")
]
