"""Contract fake of a WordPress site for tests.

The implementation is the sandbox site in ``warta_dev.sandbox.wordpress`` (product code must
not import tests); this module re-exports it and adds what only tests need.
"""

from __future__ import annotations

import json
import struct
import zlib

from warta_dev.sandbox.wordpress import FakeWordPress, Media, Post, RunningWordPress, Term, serve_fake_wordpress

__all__ = [
    "FakeWordPress",
    "Media",
    "Post",
    "RunningWordPress",
    "Term",
    "airflow_connection_json",
    "png_bytes",
    "serve_fake_wordpress",
]


def airflow_connection_json(site: RunningWordPress, *, login: str, password: str) -> str:
    """The value of an ``AIRFLOW_CONN_<ID>`` environment variable pointing at ``site``."""
    return json.dumps({"conn_type": "warta_wordpress", "host": "127.0.0.1", "port": site.port, "schema": "http",
                       "login": login, "password": password})


def png_bytes(red: int = 200, green: int = 30, blue: int = 30) -> bytes:
    """A valid 2x2 PNG of one colour (different colours give different files)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((red, green, blue)) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
