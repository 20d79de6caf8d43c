"""A real Warta stack for system tests: Airflow's api-server, scheduler, dag-processor and
triggerer as separate processes on a temporary AIRFLOW_HOME (SQLite, LocalExecutor), with
the WordPress contract fake as the website."""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx
import pytest

from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from warta.devstack import Stack, free_port

APP_PASSWORD = "sys1 test pass word"


@pytest.fixture(scope="session")
def website():
    site = serve_fake_wordpress(application_password=APP_PASSWORD)
    yield site
    site.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, website):
    stack = Stack(
        home=tmp_path_factory.mktemp("airflow-home"),
        port=free_port(),
        parallelism=4,
        extra_env={"AIRFLOW_CONN_WARTA_WEBSITE": airflow_connection_json(website, login="warta", password=APP_PASSWORD)},
    )
    try:
        stack.start(timeout=180)
        yield stack
    finally:
        stack.stop()


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
