"""Where assets and archives are kept: a local folder by default, object storage in
production (any fsspec URL, e.g. ``s3://bucket/warta``, through the platform's object
storage, ``warta.boundary.object_storage()``: Airflow's ObjectStoragePath, so credentials
come from an Airflow Connection).

Keys are built by Warta, never taken verbatim from users, and can't leave the root.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
import uuid
from pathlib import Path, PurePosixPath

from warta import boundary

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StorageError(ValueError):
    pass


# What Pillow calls the formats a photo may be in, by the file extensions intake accepts.
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_DISPLAY_NAME_CHARS = 255


def display_filename(name: str, limit: int = MAX_DISPLAY_NAME_CHARS) -> str:
    """The uploader's file name as kept for display: at most ``limit`` characters, the
    extension always kept (a name cut at the end loses it, and channels then refuse the file)."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        return name[:limit]
    return stem[: limit - len(ext) - 1] + "." + ext


def photo_problem(data: bytes, max_pixels: int) -> tuple[str | None, str | None]:
    """(content type, None) for a photo every channel can take, or (None, what is wrong):
    not an image at all, a format the channels do not take, or too many pixels for the
    social channels' conversion."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
        if width * height <= max_pixels:
            _decode_strictly(data, width, height)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None, "is not a readable photo (JPEG, PNG or WebP)"
    if image_format not in PHOTO_FORMATS:
        return None, f"is a {image_format} image; photos must be JPEG, PNG or WebP"
    if width * height > max_pixels:
        return None, (f"has {width}x{height} pixels, more than the {max_pixels / 1e6:g} megapixels "
                      "the social channels can convert; send a smaller copy")
    return PHOTO_FORMATS[image_format], None


_STRICT_DECODING = threading.Lock()


def _decode_strictly(data: bytes, width: int, height: int) -> None:
    """Decode the whole file (a JPEG at 1/8 scale): verify() does not, so a truncated file
    passes it and fails at conversion. Strict even where a library (WeasyPrint) has set
    Pillow to pad truncated images."""
    import io

    from PIL import Image, ImageFile

    with _STRICT_DECODING:
        lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def safe_filename(name: str, fallback: str = "file") -> str:
    """A file name reduced to safe characters, keeping its extension."""
    name = unicodedata.normalize("NFKD", PurePosixPath(name.replace("\\", "/")).name)
    name = _SAFE.sub("-", name.encode("ascii", "ignore").decode())
    stem, dot, ext = name.rpartition(".")
    ext = ext.strip(".-")[:16]
    if not dot or not ext:
        stem, ext = name, ""
    # The extension survives a stem that is cut short or reduced to nothing ("漢字.jpg").
    stem = stem.strip(".-")[: 119 - len(ext) if ext else 120].rstrip(".-") or fallback
    return f"{stem}.{ext}" if ext else stem


class Storage:
    def __init__(self, root_url: str):
        self.root_url = root_url.rstrip("/")
        self._local = "://" not in root_url or root_url.startswith("file://")

    @classmethod
    def default(cls) -> "Storage":
        url = os.environ.get("WARTA_STORAGE_URL")
        if not url:
            home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
            url = str(home / "warta" / "files")
        return cls(url)

    def _root(self):
        if self._local:
            return Path(self.root_url.removeprefix("file://"))
        return boundary.object_storage().path(self.root_url)

    def path(self, key: str):
        parts = PurePosixPath(key).parts
        if not parts or any(p in ("..", "", "/") for p in parts) or key.startswith("/"):
            raise StorageError(f"refusing storage key {key!r}")
        return self._root().joinpath(*parts)

    def put_bytes(self, key: str, data: bytes) -> str:
        target = self.path(key)
        if self._local:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # readers never see half a file
        else:
            target.write_bytes(data)
        return key

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a stored file; nothing happens when it is already gone."""
        target = self.path(key)
        if target.exists():
            target.unlink()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def list(self, prefix: str) -> list[str]:
        base = self.path(prefix)
        if not base.exists():
            return []
        root = str(self._root()).rstrip("/")
        return sorted(
            str(p)[len(root) + 1 :] for p in base.rglob("*") if p.is_file()
        )

    def url(self, key: str) -> str:
        return str(self.path(key))


def asset_key(item_id: int, filename: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"items/{item_id}/assets/{digest}-{safe_filename(filename)}"


def archive_prefix(item_id: int) -> str:
    return f"archive/items/{item_id}"
