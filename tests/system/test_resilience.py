"""The stack heals itself: kill -9, one after another, the scheduler, the triggerer, the
dag-processor, the api-server, a task process in the middle of publishing and PostgreSQL,
while items wait at human steps and others publish. supervisord restarts each; every item
still completes, with exactly one post per channel, and the restart counts say what
happened."""

from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest

from tests.system.conftest import wait_until
from warta.stack import airflow_health
from warta.supervision import read_restarts

pytestmark = pytest.mark.system

CHANNELS = ["website", "facebook", "x"]
ACTORS = {"meliput": "pelaksana", "menyusun": "pelaksana", "memeriksa": "operator", "menyetujui": "subkoor"}


def _healthy(stack) -> bool:
    return airflow_health(stack.url)[0]


def _kill_and_wait_back(stack, name: str) -> None:
    old_pid = stack.pid(name)
    stack.kill_component(name)
    wait_until(lambda: stack.component_states().get(name) == "RUNNING" and stack.pid(name) != old_pid,
               timeout=60, what=f"{name} to be restarted")
    wait_until(lambda: _healthy(stack), timeout=120, what=f"the stack to be healthy after killing {name}")


def _record(users, item_id: int, step: str, **fields) -> None:
    """Record a step once its sensor waits; a request the restarting stack drops is sent
    again (the API answers 409 when the step was in fact recorded)."""
    client = users[ACTORS[step]]
    wait_until(lambda: client.ti_state(item_id, 1, step) == "deferred", timeout=300,
               what=f"#{item_id} {step} to wait")
    for _attempt in range(10):
        try:
            response = client.record(item_id, step, **fields)
        except httpx.HTTPError:
            time.sleep(1)
            continue
        if response.status_code in (200, 409):
            return
        time.sleep(1)
    raise AssertionError(f"#{item_id} {step}: {response.status_code} {response.text}")


def _advance(users, item_id: int, title: str, steps=tuple(ACTORS)) -> None:
    """Record ``steps`` of the item in order, each once it waits; approval last."""
    payloads = {"meliput": {}, "menyusun": {"title": title, "body": f"{title}.\n\nParagraf dua."},
                "memeriksa": {}, "menyetujui": {"decision": "approve"}}
    for step in steps:
        _record(users, item_id, step, **payloads[step])


def _kill_a_publishing_task(stack, users, item_ids: list[int]) -> str:
    """SIGKILL the task process of a running publish task (found by its TI id)."""
    admin = users["admin"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for item_id in item_ids:
            listing = admin.http.get(f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances",
                                     params={"task_id": "updating", "state": "running"})
            if listing.status_code != 200:
                continue
            for ti in listing.json()["task_instances"]:
                for proc in psutil.process_iter(["cmdline"]):
                    if ti["id"] in " ".join(proc.info["cmdline"] or []):
                        os.kill(proc.pid, signal.SIGKILL)
                        return f"#{item_id} {ti.get('rendered_map_index') or ti['map_index']}"
        time.sleep(0.2)
    raise AssertionError("no publish task was seen running")


def test_every_item_completes_once_through_kills_of_every_component(stack, users, website, social):
    reporter = users["pelaksana"]
    before = read_restarts(stack.supervisor_dir)
    titles = {}
    waiting, publishing = [], []
    for n in range(2):
        title = f"Uji ketahanan menunggu {n}"
        waiting.append(reporter.create(title=title, channels=CHANNELS)["id"])
        titles[waiting[-1]] = title
    for n in range(2):
        title = f"Uji ketahanan tayang {n}"
        publishing.append(reporter.create(title=title, channels=CHANNELS)["id"])
        titles[publishing[-1]] = title
    for item_id in waiting:  # parked at step 2 through every kill
        _advance(users, item_id, titles[item_id], steps=["meliput"])

    for name in ("scheduler", "triggerer", "dag-processor", "api-server"):
        _kill_and_wait_back(stack, name)

    for item_id in publishing:
        _advance(users, item_id, titles[item_id])
    killed_task = _kill_a_publishing_task(stack, users, publishing)
    _kill_and_wait_back(stack, "postgres")

    for item_id in waiting:
        _advance(users, item_id, titles[item_id], steps=["menyusun", "memeriksa", "menyetujui"])
    for item_id in waiting + publishing:
        wait_until(lambda: reporter.run_state(item_id, 1) in ("success", "failed"), timeout=420,
                   what=f"#{item_id} to finish")

    graph, x_api = social["graph"].fake, social["x"].fake
    for item_id, title in titles.items():
        history = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()
        assert reporter.run_state(item_id, 1) == "success", (item_id, history["publications"])
        assert history["current_step"] == "selesai"
        assert {p["channel"]: p["status"] for p in history["publications"]} == dict.fromkeys(CHANNELS, "published")
        assert [p.title for p in website.fake.published_posts()].count(title) == 1
        assert [p.message.split("\n")[0] for p in graph.page_posts()].count(title) == 1
        assert len([t for t in x_api.timeline() if t.text.startswith(title)]) == 1

    restarts = read_restarts(stack.supervisor_dir)
    counted = {name: restarts.get(name, 0) - before.get(name, 0) for name in restarts}
    print(f"killed task {killed_task}; restarts counted: {counted}")
    killed = {"scheduler", "triggerer", "dag-processor", "api-server", "postgres"}
    for name in killed:
        assert counted.get(name, 0) >= 1, counted
    # Nothing else restarted (the components that lost the database are among the killed).
    assert {name for name, delta in counted.items() if delta} <= killed, counted


def test_status_lists_every_component_and_a_second_start_is_refused(stack):
    import subprocess
    import sys
    from pathlib import Path

    from warta.stack import Stack, StackAlreadyRunning
    from warta_dev.devstack import free_port

    shown = subprocess.run([str(Path(sys.executable).parent / "warta"), "status", "--home", str(stack.home)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line.split() for line in shown.stdout.splitlines()[1:]}
    assert {"postgres", "api-server", "scheduler", "dag-processor", "triggerer", "watchdog"} <= set(lines)
    assert all(row[1] == "RUNNING" for row in lines.values())
    with pytest.raises(StackAlreadyRunning):
        Stack(home=stack.home, port=free_port()).start()
    assert _healthy(stack)  # the refused start touched nothing
