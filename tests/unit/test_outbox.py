"""The run outbox: every queued run is started once, failures are retried later with a
growing delay, and no request is ever lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from warta.airflow_api import AirflowApiError
from warta.models import RunRequest
from warta.outbox import Outbox, retry_delay


class FakeAirflow:
    """Stands in for ``AirflowApi``: records triggers; an existing run counts as started."""

    def __init__(self):
        self.runs: dict[str, dict] = {}
        self.failing = False
        self.calls = 0

    def trigger_run(self, dag_id, run_id, conf, note=None):
        self.calls += 1
        if self.failing:
            raise AirflowApiError("Airflow answered HTTP 500 to POST /api/v2/dags/warta_berita/dagRuns")
        return self.runs.setdefault(run_id, {"dag_run_id": run_id, "conf": conf, "note": note})


def requests(service) -> list[RunRequest]:
    with service.sessions() as session:
        return list(session.scalars(select(RunRequest).order_by(RunRequest.id)))


def test_drain_starts_each_queued_run_once(service):
    airflow = FakeAirflow()
    outbox = Outbox(service, api=airflow)
    first = service.create_item("pelaksana", title="Liputan satu")
    second = service.create_item("pelaksana", title="Liputan dua")
    assert outbox.drain() == {"started": 2, "failed": 0}
    assert airflow.runs[f"item-{first['id']}-round-1"]["conf"] == {"item_id": first["id"], "round": 1,
                                                                 "title": "Liputan satu"}
    assert airflow.runs[f"item-{second['id']}-round-1"]["note"] == "Berita baru: Liputan dua"
    assert all(r.started_at is not None for r in requests(service))
    assert service.get_item(first["id"])["run_state"] == "started"
    assert outbox.drain() == {"started": 0, "failed": 0} and airflow.calls == 2


def test_a_failed_start_stays_queued_and_is_retried_with_backoff(service, clock):
    airflow = FakeAirflow()
    outbox = Outbox(service, api=airflow)
    item = service.create_item("pelaksana", title="Liputan")
    airflow.failing = True
    assert outbox.drain() == {"started": 0, "failed": 1}
    [request] = requests(service)
    assert request.started_at is None and request.attempts == 1 and "HTTP 500" in request.last_error
    assert service.get_item(item["id"])["run_state"] == "queued"
    # Not due yet: the next drain leaves it alone.
    assert outbox.drain() == {"started": 0, "failed": 0}
    clock.now += retry_delay(1)
    assert outbox.drain() == {"started": 0, "failed": 1}
    assert requests(service)[0].attempts == 2
    airflow.failing = False
    clock.now += retry_delay(2)
    assert outbox.drain() == {"started": 1, "failed": 0}
    [request] = requests(service)
    assert request.started_at is not None and request.last_error is None
    assert list(airflow.runs) == [f"item-{item['id']}-round-1"]


def test_a_run_started_twice_by_two_drainers_is_one_run(service):
    airflow = FakeAirflow()
    service.create_item("pelaksana", title="Liputan")
    # Both loops read the request before either marks it started.
    pending = service.due_run_requests()
    Outbox(service, api=airflow).drain()
    service.due_run_requests = lambda limit=50: pending
    Outbox(service, api=airflow).drain()
    assert len(airflow.runs) == 1 and airflow.calls == 2


def test_retry_delay_grows_and_is_capped():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert retry_delay(50) == timedelta(minutes=5)


def test_the_next_round_goes_through_the_outbox(service):
    airflow = FakeAirflow()
    item = service.create_item("pelaksana", title="Liputan")
    service.request_run(item["id"], 2)
    Outbox(service, api=airflow).drain()
    assert sorted(airflow.runs) == [f"item-{item['id']}-round-1", f"item-{item['id']}-round-2"]
    # Every round's run carries the title: in its note (with the round) and its conf (findable).
    assert airflow.runs[f"item-{item['id']}-round-2"]["conf"] == {"item_id": item["id"], "round": 2,
                                                                  "title": "Liputan"}
    assert airflow.runs[f"item-{item['id']}-round-2"]["note"] == "Revisi ke-2: Liputan"


def test_the_outbox_loop_reads_its_connections_without_importing_airflow(tmp_path):
    """`warta outbox serve` stays small: its Connections come from a short-lived child."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ,
               AIRFLOW_HOME=str(tmp_path),
               AIRFLOW_CONN_WARTA_DB=json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "warta.db")}),
               AIRFLOW_CONN_WARTA_AIRFLOW_API=json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": 8123,
                                                          "schema": "http", "login": "admin", "password": "s3cret"}))
    probe = ("import sys, json\n"
             "from warta.outbox import Outbox\n"
             "outbox = Outbox.lean()\n"
             "print(json.dumps({'airflow': sorted(m for m in sys.modules if m.split('.')[0] == 'airflow'),\n"
             "                  'api': [outbox.api.base_url, outbox.api.username, outbox.api.password],\n"
             "                  'db': str(outbox.service.sessions.kw['bind'].url)}))\n")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["airflow"] == []
    assert seen["api"] == ["http://127.0.0.1:8123", "admin", "s3cret"]
    assert seen["db"] == f"sqlite:///{tmp_path / 'warta.db'}"
    assert "s3cret" not in done.stderr


def test_an_undefined_airflow_api_connection_gets_a_clear_error():
    import pytest

    from warta.airflow_api import AirflowApi

    with pytest.raises(AirflowApiError, match="warta_airflow_api.*is not defined"):
        AirflowApi.from_fields(None)


def _wait_for(condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_loop_in_a_thread_waits_for_its_api_then_starts_queued_runs(service, monkeypatch):
    """The embedded stack's api-server runs the loop as a thread: requests left from before
    a restart are not tried (and counted as failed) until the API answers."""
    import warta.outbox as outbox_module

    monkeypatch.setattr(outbox_module, "_background", None)
    airflow = FakeAirflow()
    item = service.create_item("pelaksana", title="Liputan satu")
    answers = {"ready": False}
    outbox = Outbox(service, api=airflow)
    thread = outbox_module.start_in_background(lambda: outbox, ready=lambda: answers["ready"], poll_seconds=0.05)
    try:
        assert outbox_module.start_in_background(lambda: outbox) is thread  # one loop per process
        import time

        time.sleep(0.3)
        assert airflow.calls == 0 and requests(service)[0].attempts == 0
        answers["ready"] = True
        _wait_for(lambda: f"item-{item['id']}-round-1" in airflow.runs)
        _wait_for(lambda: requests(service)[0].started_at is not None)
    finally:
        outbox.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_the_loop_in_a_thread_outlives_a_failure_to_build_its_outbox(service, monkeypatch):
    import warta.outbox as outbox_module

    monkeypatch.setattr(outbox_module, "_background", None)
    monkeypatch.setattr(outbox_module, "LOOP_RESTART_SECONDS", 0.01)
    airflow = FakeAirflow()
    outbox = Outbox(service, api=airflow)
    built = []

    def make():
        built.append(1)
        if len(built) == 1:
            raise RuntimeError("editorial DB not reachable yet")
        return outbox

    item = service.create_item("pelaksana", title="Liputan dua")
    thread = outbox_module.start_in_background(make, poll_seconds=0.05)
    try:
        _wait_for(lambda: f"item-{item['id']}-round-1" in airflow.runs)
    finally:
        outbox.stop()
        thread.join(5)
    assert len(built) == 2
