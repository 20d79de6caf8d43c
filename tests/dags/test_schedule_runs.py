"""``dag.test()`` runs of scheduled publishing: schedule → the wait task deferred → publish;
a move while it waits; a cancel that holds the item until "Terbitkan sekarang". The wait's
trigger runs inline against the same editorial DB the people's actions change."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.dags.test_dag_runs import _new_item, _states, _up_to_check, airflow_db, dag, service, wordpress  # noqa: F401
from warta.scheduling import Scheduling, schedule_settings


@pytest.fixture
def scheduling(service):
    # Seconds ahead instead of the configured minute, so the runs stay short.
    return Scheduling(service, dataclasses.replace(schedule_settings(), min_lead=timedelta(0)))


def _later(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def _in_thread(action, after: float) -> threading.Thread:
    def run():
        time.sleep(after)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _published_at(service, item_id) -> datetime:
    [publication] = service.history(item_id)["publications"]
    assert publication["status"] == "published"
    return datetime.fromisoformat(publication["published_at"])


def test_unscheduled_item_skips_the_wait(dag, service):
    item_id = _new_item(service, title="Tanpa jadwal")
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    run = dag.test(run_conf={"item_id": item_id, "round": 1})
    states = _states(run)
    assert str(run.state) == "success"
    assert states["menunggu_jadwal_tayang"] == "skipped" and states["kanal"] == "success"
    assert service.get_item(item_id)["current_step"] == "selesai"


def test_scheduled_item_waits_deferred_then_publishes_at_its_time(dag, service, scheduling):
    item_id = _new_item(service, title="Terjadwal")
    _up_to_check(service, item_id)
    at = _later(4).replace(microsecond=0) + timedelta(seconds=1)
    scheduling.schedule(item_id, "subkoor", at)  # before the approval (the form does both at once)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    assert service.get_item(item_id)["schedule"]["state"] == "scheduled"

    run = dag.test(run_conf={"item_id": item_id, "round": 1})

    states = _states(run)
    assert str(run.state) == "success"
    assert states["menunggu_jadwal_tayang"] == "success" and states["mendokumentasi"] == "success"
    assert _published_at(service, item_id) >= at
    schedule = scheduling.get(item_id)
    assert schedule["state"] == "released" and schedule["released_by"] == "jadwal"
    [timing] = [t for t in service.history(item_id)["timings"] if t["step"] == "updating"]
    assert timing["started_at"] == at.isoformat() and timing["within_standard"] is True


def test_a_move_while_waiting_is_followed(dag, service, scheduling):
    item_id = _new_item(service, title="Dipindah")
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve",
                        publish_at=_later(3600).isoformat())  # the approval form's field
    moved_to = {}

    def move():
        moved_to["at"] = _later(2).replace(microsecond=0) + timedelta(seconds=1)
        scheduling.schedule(item_id, "operator", moved_to["at"])

    thread = _in_thread(move, after=1)
    run = dag.test(run_conf={"item_id": item_id, "round": 1})
    thread.join()
    assert str(run.state) == "success"
    assert _published_at(service, item_id) >= moved_to["at"]
    assert scheduling.get(item_id)["revision"] == 3  # set, moved, released


def test_cancel_holds_the_item_until_publish_now(dag, service, scheduling):
    item_id = _new_item(service, title="Dibatalkan lalu terbit sekarang")
    _up_to_check(service, item_id)
    scheduling.schedule(item_id, "operator", _later(3))
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    released = {}

    def cancel_then_release():
        scheduling.cancel(item_id, "subkoor")
        time.sleep(4)  # past the cancelled time: nothing may publish meanwhile
        released["publications"] = service.history(item_id)["publications"]
        released["state"] = scheduling.get(item_id)["state"]
        scheduling.release(item_id, "subkoor")

    thread = _in_thread(cancel_then_release, after=0.5)
    run = dag.test(run_conf={"item_id": item_id, "round": 1})
    thread.join()
    assert released == {"publications": [], "state": "held"}
    assert str(run.state) == "success"
    assert scheduling.get(item_id)["released_by"] == "subkoor"
    assert service.get_item(item_id)["current_step"] == "selesai"
