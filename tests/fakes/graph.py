"""Contract fake of Meta's Graph API (a Facebook Page and an Instagram account) for tests.

The implementation is the sandbox in ``warta_dev.sandbox.graph`` (product code must not
import tests); this module re-exports it and adds what only tests need.
"""

from __future__ import annotations

import io
import json

from warta_dev.sandbox.graph import Container, FakeGraphApi, FeedPost, GraphError, IgMedia, Photo, serve_fake_graph
from warta_dev.sandbox.serving import RunningApp

__all__ = [
    "Container",
    "FakeGraphApi",
    "FeedPost",
    "GraphError",
    "IgMedia",
    "Photo",
    "RunningApp",
    "graph_connection_json",
    "image_bytes",
    "serve_fake_graph",
]


def graph_connection_json(api: RunningApp, *, token: str, **extra) -> str:
    """The value of an ``AIRFLOW_CONN_<ID>`` environment variable pointing at ``api``."""
    conn_type = "warta_instagram" if "ig_user_id" in extra else "warta_facebook_page"
    return json.dumps({"conn_type": conn_type, "host": "127.0.0.1", "port": api.port, "schema": "http",
                       "password": token, "extra": extra})


def image_bytes(width: int = 1200, height: int = 900, fmt: str = "JPEG", color=(40, 120, 60)) -> bytes:
    """A real image of the given size and format (Pillow)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB" if fmt != "PNG" else "RGBA", (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()
