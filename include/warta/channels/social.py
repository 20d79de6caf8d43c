"""Content adaptation for social channels: one approved manuscript, each channel's rules.

Plain Python, configured per channel in ``config/channels.yaml`` (``caption`` and
``images``): caption limits (X counts characters by weight and every URL as 23),
where the website link goes (a link attachment, in the text, or "link di bio" on
Instagram, whose captions have no clickable links), hashtags from config, and the image
rules of each platform (formats, aspect ratio, size) applied with Pillow.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from warta.channel_options import CaptionRules, ImageRules, SocialOptions
from warta.channels.base import MediaFile, PostContent
from warta.config import Channel, ConfigError

ELLIPSIS = "\u2026"
# X: every URL counts as this many characters, whatever its length (t.co wrapping).
X_URL_WEIGHT = 23
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
# twitter-text v3: code points in these ranges weigh 1, all others 2 (out of 280).
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_PILLOW_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "GIF": ("image/gif", ".gif"),
                   "WEBP": ("image/webp", ".webp")}


@dataclass(frozen=True)
class SocialRules:
    caption: CaptionRules
    images: ImageRules = field(default_factory=ImageRules)
    # The channel whose published address social posts point at (usually the website).
    link_from: str | None = "website"


@dataclass(frozen=True)
class SocialPost:
    """What a social channel publishes: the caption, the link to attach (if the platform
    takes one separately) and the photos, already in the platform's formats."""

    text: str
    link: str | None
    images: tuple[MediaFile, ...]


def rules_for(channel: Channel) -> SocialRules:
    """The channel's adaptation rules: its ``caption`` and ``images`` options (typed and
    checked when channels.yaml loads, warta.channel_options)."""
    options = channel.options
    if not isinstance(options, SocialOptions):
        raise ConfigError(f"channels.yaml {channel.id}: kind {channel.kind!r} has no caption and images rules")
    if options.caption is None:
        raise ConfigError(f"channels.yaml {channel.id} caption: missing field 'max_chars'")
    return SocialRules(options.caption, options.images, link_from=options.link_from or None)


def adapt(content: PostContent, rules: SocialRules) -> SocialPost:
    """The channel's post from the approved manuscript."""
    return SocialPost(
        text=caption(content, rules.caption),
        link=content.link if rules.caption.link == "attach" else None,
        images=prepare_images(content.media, rules.images),
    )


# ------------------------------------------------------------------ captions
def x_weighted_length(text: str) -> int:
    """The length X counts towards its 280 (twitter-text v3): URLs 23, CJK and emoji 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += _weighted(text[position:match.start()]) + X_URL_WEIGHT
        position = match.end()
    return total + _weighted(text[position:])


def _weighted(text: str) -> int:
    total = 0
    previous_joiner = False
    for char in text:
        code = ord(char)
        if code in (0xFE0E, 0xFE0F) or 0x1F3FB <= code <= 0x1F3FF:
            continue  # presentation selectors and skin tones belong to the emoji before them
        if previous_joiner and code > 0xFFFF:
            previous_joiner = False
            continue  # a ZWJ sequence counts as one emoji
        if code == 0x200D:
            previous_joiner = True
            continue
        total += 1 if any(low <= code <= high for low, high in _X_LIGHT_RANGES) else 2
    return total


def measure(text: str, counting: str) -> int:
    return x_weighted_length(text) if counting == "x_weighted" else len(text)


def hashtag(text: str) -> str:
    """``Agro Eduwisata`` → ``#AgroEduwisata`` (hashtags stop at spaces and punctuation)."""
    words = re.findall(r"\w+", text.lstrip("#"))
    return "#" + "".join(word[:1].upper() + word[1:] if len(words) > 1 else word for word in words) if words else ""


def caption(content: PostContent, rules: CaptionRules) -> str:
    """Title, as much of the body as fits, the link (or "link di bio") and the hashtags,
    within the channel's limit; the title is never cut unless it alone is too long."""
    length = lambda text: measure(text, rules.counting)  # noqa: E731
    title = " ".join(content.title.split())
    body = " ".join((content.text or content.excerpt or "").split())
    link_line = ""
    if rules.link == "text" and content.link:
        link_line = content.link
    elif rules.link == "bio" and content.link:
        link_line = rules.link_text
    tags = [t for t in dict.fromkeys(hashtag(t) for t in rules.hashtags) if t]
    if rules.max_hashtags is not None:
        room = max(0, rules.max_hashtags - len(_HASHTAG.findall(f"{title} {body}")))
        tags = tags[:room]

    def compose(title_text: str, body_text: str, tag_list: list[str]) -> str:
        blocks = [title_text, body_text, link_line, " ".join(tag_list)]
        return "\n\n".join(block for block in blocks if block)

    while tags and length(compose(title, "", tags)) > rules.max_chars:
        tags.pop()  # hashtags give way before the title and the link
    if length(compose(title, "", tags)) > rules.max_chars:
        title = _cut_to_fit(title, lambda candidate: length(compose(candidate, "", tags)) <= rules.max_chars)
        return compose(title, "", tags)
    if rules.include_body and body:
        if length(compose(title, body, tags)) <= rules.max_chars:
            return compose(title, body, tags)
        cut = _cut_to_fit(body, lambda candidate: length(compose(title, candidate, tags)) <= rules.max_chars)
        if len(cut) > 20:  # a few words only would read as a mistake
            return compose(title, cut, tags)
    return compose(title, "", tags)


def _cut_to_fit(text: str, fits) -> str:
    """The longest word-boundary prefix of ``text`` that, ending in an ellipsis, fits."""
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:  # binary search on the number of words kept
        middle = (low + high + 1) // 2
        if fits(" ".join(words[:middle]).rstrip(",.;:") + ELLIPSIS):
            low = middle
        else:
            high = middle - 1
    if low == 0:
        chars = text
        while chars and not fits(chars + ELLIPSIS):
            chars = chars[:-1]
        return chars + ELLIPSIS if chars else ""
    return " ".join(words[:low]).rstrip(",.;:") + ELLIPSIS


# -------------------------------------------------------------------- images
def prepare_images(media: tuple[MediaFile, ...], rules: ImageRules) -> tuple[MediaFile, ...]:
    """The item's photos in the platform's formats, cropped and sized to its rules."""
    photos = [m for m in media if m.content_type.startswith("image/")][: rules.max_count]
    return tuple(prepare_image(photo, rules) for photo in photos)


def prepare_image(photo: MediaFile, rules: ImageRules) -> MediaFile:
    """The photo as is when it obeys the rules, else converted: centre-cropped into the
    allowed aspect ratios, scaled down to ``max_side``, re-encoded (JPEG where allowed)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(photo.data)) as opened:
        source_format = (opened.format or "").upper()
        animated = getattr(opened, "is_animated", False)
        image = ImageOps.exif_transpose(opened)
        image.load()
    width, height = image.size
    box = _crop_box(width, height, rules.min_aspect, rules.max_aspect)
    too_big = rules.max_side is not None and max(width, height) > rules.max_side
    format_ok = source_format in rules.formats
    size_ok = rules.max_bytes is None or len(photo.data) <= rules.max_bytes
    if format_ok and size_ok and box is None and not too_big:
        return photo
    if animated and format_ok and box is None and not too_big:
        return photo  # re-encoding would drop the animation; the platform decides on size
    if box is not None:
        image = image.crop(box)
    if too_big:
        image.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)
    target = "JPEG" if "JPEG" in rules.formats else (source_format if format_ok else rules.formats[0])
    data = _encode(image, target, rules.max_bytes)
    content_type, extension = _PILLOW_FORMATS[target]
    filename = str(PurePosixPath(photo.filename).with_suffix(extension)) if "." in photo.filename \
        else photo.filename + extension
    return MediaFile(filename=filename, data=data, content_type=content_type, caption=photo.caption)


def _crop_box(width: int, height: int, min_aspect: float | None, max_aspect: float | None):
    ratio = width / height
    if min_aspect is not None and ratio < min_aspect - 1e-3:
        new_height = round(width / min_aspect)
        top = (height - new_height) // 2
        return (0, top, width, top + new_height)
    if max_aspect is not None and ratio > max_aspect + 1e-3:
        new_width = round(height * max_aspect)
        left = (width - new_width) // 2
        return (left, 0, left + new_width, height)
    return None


def _encode(image, target: str, max_bytes: int | None) -> bytes:
    from PIL import Image

    if target == "JPEG" and image.mode not in ("RGB", "L"):
        # JPEG has no transparency: flatten onto white, as the platforms would show it.
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    quality = 90
    while True:
        buffer = io.BytesIO()
        options = {"quality": quality, "optimize": True} if target in ("JPEG", "WEBP") else {"optimize": True}
        image.save(buffer, format=target, **options)
        data = buffer.getvalue()
        if max_bytes is None or len(data) <= max_bytes:
            return data
        if target in ("JPEG", "WEBP") and quality > 50:
            quality -= 10
            continue
        width, height = image.size
        if min(width, height) <= 320:
            return data  # the platform will say no; nothing sensible is left to try
        image = image.resize((int(width * 0.8), int(height * 0.8)), Image.Resampling.LANCZOS)
