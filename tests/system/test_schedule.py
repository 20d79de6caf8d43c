"""Jadwal tayang on the running stack: an approval with a time → the wait task deferred in
the triggerer (never on a worker) → a move while it waits is followed → it publishes at
the new time; a cancel holds the item (nothing published past the old time) until
"Terbitkan sekarang"; 409 once released."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.system.conftest import wait_until

pytestmark = pytest.mark.system

WAIT_TASK = "menunggu_jadwal_tayang"


def _to_decision(users, title: str) -> int:
    reporter, operator = users["pelaksana"], users["operator"]
    item_id = reporter.create(title=title, service="lainnya", channels=["website"])["id"]
    assert reporter.record(item_id, "meliput", notes="Dokumentasi").status_code == 200
    assert reporter.record(item_id, "menyusun", title=title, body="Paragraf satu.\n\nParagraf dua.").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    return item_id


def _later(seconds: float) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0)


def _wait_ti(client, item_id: int, task_id: str) -> dict:
    response = client.http.get(
        f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances/{task_id}")
    response.raise_for_status()
    return response.json()


def _published(client, item_id: int) -> dict | None:
    item = client.http.get(f"/warta/api/v1/items/{item_id}").json()
    return next((p for p in item["publications"] if p["status"] == "published"), None)


def test_schedule_wait_deferred_move_then_publish_at_the_new_time(stack, users, website):
    approver, operator = users["subkoor"], users["operator"]
    item_id = _to_decision(users, "Jadwal tayang sistem: dipindah")
    approved = approver.record(item_id, "menyetujui", decision="approve", publish_at=_later(600).isoformat())
    assert approved.status_code == 200, approved.text
    assert approved.json()["schedule"]["state"] == "scheduled"

    wait_until(lambda: approver.ti_state(item_id, 1, WAIT_TASK) == "deferred", timeout=120, what="the wait deferred")
    ti = _wait_ti(approver, item_id, WAIT_TASK)
    # Began in the triggerer: never queued to an executor, no worker process.
    assert ti["queued_when"] is None and ti["pid"] is None
    assert approver.ti_state(item_id, 1, "updating") in (None, "none")  # the website's post waits too

    moved_to = _later(8)
    moved = operator.http.put(f"/warta/api/v1/items/{item_id}/schedule",
                              json={"publish_at": moved_to.isoformat(), "revision": 1})
    assert moved.status_code == 200, moved.text
    wait_until(lambda: _published(approver, item_id), timeout=180, what="publication after the moved time")
    published_at = datetime.fromisoformat(_published(approver, item_id)["published_at"])
    assert published_at >= moved_to
    assert approver.ti_state(item_id, 1, WAIT_TASK) == "success"
    late = operator.http.put(f"/warta/api/v1/items/{item_id}/schedule", json={"publish_at": _later(600).isoformat()})
    assert late.status_code == 409
    wait_until(lambda: approver.run_state(item_id, 1) == "success", timeout=180, what="the run to finish")
    timing = next(t for t in approver.http.get(f"/warta/api/v1/items/{item_id}").json()["timings"]
                  if t["step"] == "updating")
    assert datetime.fromisoformat(timing["started_at"]) == moved_to  # the clock counts from the time


def test_cancel_holds_until_publish_now_and_unscheduled_passes_through(stack, users, website):
    approver, operator = users["subkoor"], users["operator"]
    item_id = _to_decision(users, "Jadwal tayang sistem: ditahan")
    first_time = _later(10)
    assert approver.record(item_id, "menyetujui", decision="approve",
                           publish_at=first_time.isoformat()).status_code == 200
    wait_until(lambda: approver.ti_state(item_id, 1, WAIT_TASK) == "deferred", timeout=120, what="the wait deferred")
    held = operator.http.delete(f"/warta/api/v1/items/{item_id}/schedule")
    assert held.status_code == 200 and held.json()["state"] == "held"

    wait_until(lambda: datetime.now(timezone.utc) > first_time + timedelta(seconds=5), timeout=30, what="old time")
    assert _published(approver, item_id) is None  # cancelled: not published by surprise
    assert approver.ti_state(item_id, 1, WAIT_TASK) == "deferred"

    released = approver.http.post(f"/warta/api/v1/items/{item_id}/schedule/release")
    assert released.status_code == 200 and released.json()["released_by"] == "subkoor"
    wait_until(lambda: _published(approver, item_id), timeout=180, what="publication after release")

    # Without a schedule nothing waits: the wait task is skipped.
    plain = _to_decision(users, "Jadwal tayang sistem: tanpa jadwal")
    assert approver.record(plain, "menyetujui", decision="approve").status_code == 200
    wait_until(lambda: _published(approver, plain), timeout=180, what="the unscheduled publication")
    assert approver.ti_state(plain, 1, WAIT_TASK) == "skipped"
