"""Contract fake of the X API v2 for tests.

The implementation is the sandbox in ``warta_dev.sandbox.x`` (product code must not import
tests); this module re-exports it and adds what only tests need.
"""

from __future__ import annotations

import json

from warta_dev.sandbox.serving import RunningApp
from warta_dev.sandbox.x import DUPLICATE_MESSAGE, FakeX, Tweet, XProblem, serve_fake_x

__all__ = ["DUPLICATE_MESSAGE", "FakeX", "RunningApp", "Tweet", "XProblem", "serve_fake_x", "x_connection_json"]


def x_connection_json(api: RunningApp, *, client_id: str, refresh_token: str, client_secret: str = "",
                      **extra) -> str:
    """The value of an ``AIRFLOW_CONN_<ID>`` environment variable pointing at ``api``."""
    return json.dumps({"conn_type": "warta_x", "host": "127.0.0.1", "port": api.port, "schema": "http",
                       "login": client_id, "password": client_secret,
                       "extra": {"refresh_token": refresh_token, "public_url": api.base_url, **extra}})
