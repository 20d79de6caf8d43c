"""The embedded stack's executor: Airflow's LocalExecutor with workers forked when a task
is queued and gone when idle (include/warta/airflow/executor.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from warta.airflow import executor as on_demand


@dataclass(frozen=True)
class FakeWorkload:
    """What a worker reads of a workload; the run itself is replaced below."""

    key: str
    marker: str
    running_state: str | None = "running"
    success_state: str = "success"
    failure_state: str = "failed"
    display_name: str = "fake"


def _run_workload(workload, **_):
    # Runs in the forked worker: what it shows the test is the file and its own modules.
    import sys

    loaded = all(name in sys.modules for name in on_demand.TASK_MODULES)
    Path(workload.marker).write_text(f"{workload.key} preloaded={loaded}")


@pytest.fixture
def executor(monkeypatch):
    monkeypatch.setattr(on_demand.BaseExecutor, "run_workload", staticmethod(_run_workload))
    monkeypatch.setenv("AIRFLOW__WARTA__WORKER_IDLE_SECONDS", "1")
    instance = on_demand.OnDemandLocalExecutor(parallelism=2)
    instance.start()
    yield instance
    instance.end()


def _queue(executor, workload) -> None:
    executor.activity_queue.put(workload)
    with executor._unread_messages:
        executor._unread_messages.value += 1
    executor._check_workers()


def _results(executor, count: int, timeout: float = 60) -> list:
    results, deadline = [], time.monotonic() + timeout
    while len(results) < count and time.monotonic() < deadline:
        while not executor.result_queue.empty():
            results.append(executor.result_queue.get())
        time.sleep(0.05)
    return results


def _wait(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_no_worker_until_a_task_is_queued_then_one_that_exits_when_idle(executor, tmp_path):
    assert executor.workers == {}  # Airflow's LocalExecutor forks `parallelism` here

    _queue(executor, FakeWorkload("a", str(tmp_path / "a")))
    assert len(executor.workers) == 1
    results = _results(executor, 2)
    assert [(key, state) for key, state, _ in results] == [("a", "running"), ("a", "success")]
    # The worker imported the task modules before the task: its task processes inherit them.
    assert (tmp_path / "a").read_text() == "a preloaded=True"

    # A second task while the worker waits goes to it: no second fork.
    _wait(lambda: executor.available_workers() == 1)
    _queue(executor, FakeWorkload("b", str(tmp_path / "b")))
    assert len(executor.workers) == 1
    assert [state for _, state, _ in _results(executor, 2)] == ["running", "success"]

    # After a second without work the worker exits and is reaped.
    def reaped():
        executor._check_workers()
        return executor.workers == {}

    assert _wait(reaped)


def test_at_most_parallelism_workers(executor, tmp_path):
    for name in "abcde":
        _queue(executor, FakeWorkload(name, str(tmp_path / name)))
    assert len(executor.workers) <= 2
    results = _results(executor, 10)
    assert sorted(key for key, state, _ in results if state == "success") == list("abcde")


def test_workers_that_lose_the_race_for_a_message_still_exit_when_idle(executor, tmp_path):
    """Every idle worker's poll wakes for one message; only one gets it, and the others
    must go back to their idle clock, not wait in get() for the next task."""
    for name in "ab":
        _queue(executor, FakeWorkload(name, str(tmp_path / name)))
    assert len(_results(executor, 4)) == 4
    _wait(lambda: executor.available_workers() == len(executor.workers))
    _queue(executor, FakeWorkload("c", str(tmp_path / "c")))
    assert len(_results(executor, 2)) == 2

    def reaped():
        executor._check_workers()
        return executor.workers == {}

    assert _wait(reaped, timeout=20)


def test_next_workload_times_out_and_reads_what_is_there():
    from multiprocessing import SimpleQueue

    queue = SimpleQueue()
    started = time.monotonic()
    assert on_demand._next_workload(queue, 0.3) is on_demand._IDLE
    assert time.monotonic() - started >= 0.3
    queue.put("work")
    assert on_demand._next_workload(queue, 5) == "work"


def test_a_worker_still_starting_takes_the_task_no_second_fork(executor, tmp_path, monkeypatch):
    """Each scheduler loop checks the workers; one still importing the task modules must
    count, or every loop forks another for the same task."""
    monkeypatch.setattr(on_demand, "TASK_MODULES", on_demand.TASK_MODULES + ("warta.report",))
    _queue(executor, FakeWorkload("a", str(tmp_path / "a")))
    for _ in range(5):
        executor._check_workers()
    assert len(executor.workers) == 1
    assert [state for _, state, _ in _results(executor, 2)] == ["running", "success"]


def test_a_killed_idle_worker_is_not_counted(executor, tmp_path):
    import os
    import signal

    _queue(executor, FakeWorkload("a", str(tmp_path / "a")))
    assert len(_results(executor, 2)) == 2
    [pid] = executor.workers
    assert _wait(lambda: executor.available_workers() == 1)
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: not executor.workers[pid].is_alive())
    _queue(executor, FakeWorkload("b", str(tmp_path / "b")))  # reaps it, forks a new one
    assert pid not in executor.workers and len(executor.workers) == 1
    assert [state for _, state, _ in _results(executor, 2)] == ["running", "success"]
