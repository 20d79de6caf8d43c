"""A burst of intakes: every request gets its answer, every item its one run.

100 intakes (``POST /warta/api/v1/items``), 10 at a time, each with its own submission
key: 100 × 201, 100 items, 100 runs, each parked at step 1 without a task process. A
client that retries (on 503 with Retry-After, or a lost answer) with the same key gets the
same item back; nothing is doubled."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.system.conftest import wait_until

pytestmark = pytest.mark.system

BURST = 100
AT_ONCE = 10


def _runs_of(admin, item_ids: set[int]) -> dict[int, dict]:
    runs: dict[int, dict] = {}
    offset = 0
    while True:
        page = admin.http.get("/api/v2/dags/warta_berita/dagRuns", params={"limit": 100, "offset": offset}).json()
        for run in page["dag_runs"]:
            if run["dag_run_id"].startswith("item-"):
                item_id = int(run["dag_run_id"].split("-")[1])
                if item_id in item_ids:
                    runs[item_id] = run
        offset += 100
        if offset >= page["total_entries"]:
            return runs


def test_a_burst_of_100_intakes_gets_100_items_and_100_runs(stack, users):
    token = stack.token("pelaksana")
    batch = uuid.uuid4().hex[:8]
    statuses: list[int] = []

    def intake(n: int) -> httpx.Response:
        with httpx.Client(base_url=stack.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
            return http.post("/warta/api/v1/items", json={"title": f"Burst {batch} {n}", "channels": ["website"],
                                                          "submission_key": f"burst-{batch}-{n}"})

    started = time.monotonic()
    with ThreadPoolExecutor(AT_ONCE) as pool:
        answers = list(pool.map(intake, range(BURST)))
    statuses = [a.status_code for a in answers]
    assert statuses == [201] * BURST, {s: statuses.count(s) for s in set(statuses)}
    item_ids = {a.json()["id"] for a in answers}
    assert len(item_ids) == BURST

    # The same submission again (a client whose answer was lost): the same item, no new one.
    with httpx.Client(base_url=stack.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        again = http.post("/warta/api/v1/items", json={"title": f"Burst {batch} 7", "channels": ["website"],
                                                       "submission_key": f"burst-{batch}-7"})
    assert again.status_code == 201 and again.json()["duplicate"] is True
    assert again.json()["id"] == answers[7].json()["id"]

    admin = users["admin"]
    ours = [i for i in admin.http.get("/warta/api/v1/items", params={"q": f"Burst {batch}", "limit": 500}).json()
            ["items"]]
    assert len(ours) == BURST

    # The outbox starts one run per item; each parks at step 1 in the triggerer.
    runs = wait_until(lambda: (r := _runs_of(admin, item_ids)) and len(r) == BURST and r, timeout=300,
                      what="a run for every item")
    assert {run["dag_run_id"] for run in runs.values()} == {f"item-{i}-round-1" for i in item_ids}
    run_ids = [f"item-{i}-round-1" for i in item_ids]

    def parked() -> bool:
        listed = admin.http.post("/api/v2/dags/~/dagRuns/~/taskInstances/list", json={
            "dag_ids": ["warta_berita"], "dag_run_ids": run_ids, "task_ids": ["meliput"], "state": ["deferred"],
            "page_limit": 1000}).json()
        return listed["total_entries"] == BURST

    wait_until(parked, timeout=300, what="every run parked at step 1")
    assert {users["pelaksana"].http.get(f"/warta/api/v1/items/{i}").json()["run_state"] for i in item_ids} == {
        "started"}
    print(f"burst: {BURST} intakes in {time.monotonic() - started:.1f}s")
