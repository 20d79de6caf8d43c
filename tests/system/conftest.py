"""A real Warta stack for system tests: the stack `make run` runs (embedded PostgreSQL,
Airflow's api-server, scheduler, dag-processor and triggerer under supervisord,
LocalExecutor) on a temporary AIRFLOW_HOME, with
the WordPress contract fake as the website, the Graph API and X contract fakes as the
social channels, and a real WordPress (Debian's packages, scripts/wordpress_up.py) as the
extra channel ``website_nyata``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
import yaml

from tests.fakes.graph import graph_connection_json, serve_fake_graph
from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from tests.fakes.x import serve_fake_x, x_connection_json
from warta.config import DEFAULT_CONFIG_DIR
from warta.stack import Stack
from warta_dev.devstack import free_port

APP_PASSWORD = "sys1 test pass word"
GRAPH_TOKEN = "system-test-graph-token"
X_CLIENT_ID = "warta-system-test"
X_REFRESH_TOKEN = "system-test-refresh-token"
REPO = Path(__file__).resolve().parents[2]
# The real WordPress's channel, added to a copy of config/ for the stack.
REAL_WEBSITE_CHANNEL = "website_nyata"
REAL_WEBSITE_CONN = "warta_website_nyata"


@pytest.fixture(scope="session")
def real_wordpress(tmp_path_factory):
    """A real WordPress on 127.0.0.1 (installed and started by scripts/wordpress_up.py),
    as ``{"url", "user", "application_password", ...}``; stopped at the end.

    Where it cannot be installed (not root and the packages missing) the tests that need
    it are skipped, except in CI, where that is a failure."""
    folder = tmp_path_factory.mktemp("wordpress")
    script = REPO / "scripts" / "wordpress_up.py"
    started = subprocess.run([sys.executable, str(script), "up", "--dir", str(folder)],
                             capture_output=True, text=True, timeout=900)
    try:
        if started.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"real WordPress did not start: {started.stderr.strip()[-1000:]}")
            yield None
        else:
            yield json.loads(started.stdout.strip().splitlines()[-1])
    finally:
        # Stops Apache, and MariaDB if `up` started it, also after a half-done start.
        subprocess.run([sys.executable, str(script), "down", "--dir", str(folder)], capture_output=True,
                       timeout=120)


@pytest.fixture
def real_site(real_wordpress) -> dict:
    if real_wordpress is None:
        pytest.skip("real WordPress not available (needs root to install Debian's packages)")
    return real_wordpress


def real_wordpress_connection_json(site: dict) -> str:
    return json.dumps({"conn_type": "http", "host": site["host"], "port": site["port"], "schema": "http",
                       "login": site["user"], "password": site["application_password"]})


@pytest.fixture(scope="session")
def website():
    site = serve_fake_wordpress(application_password=APP_PASSWORD)
    yield site
    site.stop()


@pytest.fixture(scope="session")
def social():
    """The sandbox Graph API (Facebook Page, Instagram) and X, as `make run` has them."""
    graph = serve_fake_graph(tokens=(GRAPH_TOKEN,))
    x_api = serve_fake_x(client_id=X_CLIENT_ID, refresh_token=X_REFRESH_TOKEN)
    yield {"graph": graph, "x": x_api}
    graph.stop()
    x_api.stop()


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory) -> Path:
    """config/ plus the real WordPress as one more website channel."""
    folder = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    channels_file = folder / "channels.yaml"
    channels = yaml.safe_load(channels_file.read_text(encoding="utf-8"))
    channels["channels"][REAL_WEBSITE_CHANNEL] = {
        "name_id": "Website (WordPress nyata)", "name_en": "Website (real WordPress)", "kind": "wordpress",
        "conn_id": REAL_WEBSITE_CONN, "default": False, "category": "Berita",
    }
    channels_file.write_text(yaml.safe_dump(channels, allow_unicode=True, sort_keys=False), encoding="utf-8")
    # Jadwal tayang: times a few seconds ahead, so the schedule tests stay short.
    settings_file = folder / "warta.yaml"
    settings = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    settings.setdefault("schedule", {})["min_lead"] = "3s"
    settings_file.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def stack(tmp_path_factory, website, social, real_wordpress, stack_config):
    graph, x_api = social["graph"], social["x"]
    extra_env = {
        "AIRFLOW_CONN_WARTA_WEBSITE": airflow_connection_json(website, login="warta", password=APP_PASSWORD),
        "AIRFLOW_CONN_WARTA_FACEBOOK": graph_connection_json(graph, token=GRAPH_TOKEN, page_id=graph.fake.page_id),
        "AIRFLOW_CONN_WARTA_INSTAGRAM": graph_connection_json(graph, token=GRAPH_TOKEN,
                                                              ig_user_id=graph.fake.ig_user_id),
        "AIRFLOW_CONN_WARTA_X": x_connection_json(x_api, client_id=X_CLIENT_ID, refresh_token=X_REFRESH_TOKEN),
        "WARTA_CONFIG_DIR": str(stack_config),
    }
    if real_wordpress is not None:
        extra_env[f"AIRFLOW_CONN_{REAL_WEBSITE_CONN.upper()}"] = real_wordpress_connection_json(real_wordpress)
    # Not under pytest's basetemp: a later pytest session on the machine makes that 0700,
    # and PostgreSQL runs as its own user (as root: embedded_postgres) and must reach its data.
    home = Path(tempfile.mkdtemp(prefix="warta-system-"))
    stack = Stack(home=home, port=free_port(), parallelism=4, extra_env=extra_env)
    try:
        stack.start(timeout=180)
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


class Client:
    """Talks to the stack as one user (Airflow login → Bearer token)."""

    def __init__(self, stack: Stack, username: str):
        self.username = username
        self.http = httpx.Client(base_url=stack.url, timeout=30,
                                 headers={"Authorization": f"Bearer {stack.token(username)}"})

    def create(self, **fields) -> dict[str, Any]:
        response = self.http.post("/warta/api/v1/items", json=fields)
        assert response.status_code == 201, response.text
        return response.json()

    def record(self, item_id: int, step: str, **fields) -> httpx.Response:
        return self.http.post(f"/warta/api/v1/items/{item_id}/steps/{step}", json=fields)

    def ti_state(self, item_id: int, round_number: int, task_id: str) -> str | None:
        response = self.http.get(
            f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-{round_number}/taskInstances/{task_id}"
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["state"]

    def run_state(self, item_id: int, round_number: int) -> str | None:
        response = self.http.get(f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-{round_number}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["state"]


@pytest.fixture(scope="session")
def users(stack) -> dict[str, Client]:
    return {name: Client(stack, name) for name in ("pelaksana", "pelaksana2", "operator", "subkoor", "admin")}


def wait_until(condition: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
