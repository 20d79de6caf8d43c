"""Benchmark: a thousand items parked at a human step, on the embedded stack.

Starts the stack as `make run` has its components (api-server, scheduler, dag-processor,
triggerer, the outbox loop) with the four channels' stand-ins, then:
  0. on the idle stack, as an office sees it most of the day: one approved item with all
     four channels, approval → archived (``archived_at``);
  1. parks N items: N intakes through Warta's REST API (``POST /warta/api/v1/items``,
     ``--at-once`` in parallel); seconds from the first intake to the N-th step-1 task
     deferred; worker slots the waiting steps hold (task instances queued or running)
     and how many of them ever went to an executor (``queued_when``: 0 when they begin
     in the triggerer); the triggerer's CPU share over an idle window;
  2. with the N parked: brings ``--sample`` other items to the decision step and records
     the decisions one after another: decision recorded → its sensor succeeds, and →
     the next task (``keputusan``) starts, p50/p95;

    .venv/bin/python bench/parking.py [--n 1000] [--sample 20] [--at-once 10] [--examine 20]

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

import approval_latency
from common import key_values, percentile
from throughput import CHANNELS, Channels, _jpeg

from warta.stack import Stack
from warta_dev.devstack import free_port

HUMAN_STEPS = ("meliput", "menyusun", "memeriksa", "menyetujui")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class Bench(approval_latency.Bench):
    def _list(self, body: dict) -> dict:
        # Airflow on SQLite answers 500 now and then under load ("database is locked"): try again.
        for attempt in range(5):
            response = self.client.post("/api/v2/dags/~/dagRuns/~/taskInstances/list", json=body)
            if response.status_code < 500:
                break
            time.sleep(1 + attempt)
        response.raise_for_status()
        return response.json()

    def task_instances(self, task_id: str, states: list[str] | None = None, run_ids: list[str] | None = None,
                       count_only: bool = False) -> list[dict] | int:
        """The task instances (all pages; Airflow gives at most 100 a page), or their number."""
        body: dict = {"dag_ids": ["warta_berita"], "task_ids": [task_id], "page_limit": 1 if count_only else 100}
        if states:
            body["state"] = states
        if run_ids:
            body["dag_run_ids"] = run_ids
        first = self._list(body)
        if count_only:
            return first["total_entries"]
        found = list(first["task_instances"])
        while len(found) < first["total_entries"]:
            page = self._list(body | {"page_offset": len(found)})["task_instances"]
            if not page:
                break
            found += page
        return found

    def intake(self, count: int, at_once: int) -> tuple[list[int], dict[int, int]]:
        token = self.stack.token("pelaksana")
        batch = uuid.uuid4().hex[:6]

        def one(index: int) -> tuple[int, int | None]:
            with httpx.Client(base_url=self.stack.url, timeout=120,
                              headers={"Authorization": f"Bearer {token}"}) as http:
                response = http.post("/warta/api/v1/items", json={
                    "title": f"Bench {batch} {index}", "channels": ["website"],
                    "submission_key": f"bench-{batch}-{index}"})
            return response.status_code, response.json().get("id") if response.status_code == 201 else None

        with ThreadPoolExecutor(at_once) as pool:
            answers = list(pool.map(one, range(count)))
        statuses: dict[int, int] = {}
        for status, _ in answers:
            statuses[status] = statuses.get(status, 0) + 1
        return [item_id for _, item_id in answers if item_id], statuses

    def wait_deferred(self, task_id: str, run_ids: list[str], timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.stack.check_alive()
            if self.task_instances(task_id, ["deferred"], run_ids, count_only=True) >= len(run_ids):
                return time.monotonic() - start
            time.sleep(1)
        raise TimeoutError(f"{task_id}: not every one of {len(run_ids)} deferred after {timeout:.0f}s")

    def decisions(self, ids: list[int], gap: float) -> tuple[list[float], list[float]]:
        """Record the decision of each item, then take recorded → sensor end and → keputusan start."""
        recorded = {}
        for item_id in ids:
            self.service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
            recorded[item_id] = _time(next(r for r in self.service.history(item_id)["records"]
                                           if r["step"] == "menyetujui")["recorded_at"])
            time.sleep(gap)
        run_ids = [f"item-{i}-round-1" for i in ids]
        sensor, next_task, deadline = {}, {}, time.monotonic() + 180
        while (len(sensor) < len(ids) or len(next_task) < len(ids)) and time.monotonic() < deadline:
            for ti in self.task_instances("menyetujui", ["success"], run_ids):
                item_id = int(ti["dag_run_id"].split("-")[1])
                sensor.setdefault(item_id, (_time(ti["end_date"]) - recorded[item_id]).total_seconds())
            for ti in self.task_instances("keputusan", None, run_ids):
                if ti.get("start_date"):
                    item_id = int(ti["dag_run_id"].split("-")[1])
                    next_task.setdefault(item_id, (_time(ti["start_date"]) - recorded[item_id]).total_seconds())
            time.sleep(0.5)
        return list(sensor.values()), list(next_task.values())

    def to_decision(self, ids: list[int]) -> None:
        for index, item_id in enumerate(ids):
            self.service.record_step(item_id, "meliput", "pelaksana", notes="bench")
            self.service.record_step(item_id, "menyusun", "pelaksana", title=f"Berita bench {index}",
                                     body="Paragraf satu.\n\nParagraf dua.")
            self.service.record_step(item_id, "memeriksa", "operator")

    def print_timeline(self, run_id: str, since: datetime) -> None:
        """Where the time went: each task's scheduled (queued_when), start and end, from ``since``."""
        rows = []
        for ti in self._list({"dag_ids": ["warta_berita"], "dag_run_ids": [run_id], "page_limit": 100})["task_instances"]:
            marks = [(_time(ti.get(key)) - since).total_seconds() if ti.get(key) else None
                     for key in ("queued_when", "start_date", "end_date")]
            if marks[2] is not None and marks[2] > 0:
                rows.append((marks[1] or 0, ti["task_id"], ti["map_index"], marks))
        for _, task_id, map_index, (queued, start, end) in sorted(rows, key=lambda row: row[0]):
            shown = [f"{m:6.2f}" if m is not None else "     -" for m in (queued, start, end)]
            print(f"  {task_id:22s} {map_index:3d}  queued {shown[0]}  start {shown[1]}  end {shown[2]}",
                  file=sys.stderr, flush=True)

    def approval_to_archive(self, settle: float = 3.0) -> float:
        """Approval → archived of one four-channel item. The approval comes ``settle``
        seconds after its step opened (a person approves minutes later, not within the
        second the waiting step reaches the triggerer)."""
        from warta.service import Upload

        item_id = self.service.create_item("pelaksana", title="Bench empat kanal", channels=CHANNELS,
                                           uploads=[Upload("foto.jpg", _jpeg())])["id"]
        self.to_decision([item_id])
        self.wait_deferred("menyetujui", [f"item-{item_id}-round-1"], timeout=300)
        time.sleep(settle)
        self.service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
        approved = _time(next(r for r in self.service.history(item_id)["records"]
                              if r["step"] == "menyetujui")["recorded_at"])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            self.stack.check_alive()
            archived = (self.service.history(item_id).get("archive") or {}).get("archived_at")
            if archived:
                self.print_timeline(f"item-{item_id}-round-1", approved)
                return (_time(archived) - approved).total_seconds()
            time.sleep(0.25)
        # Say where it stopped: every task's state and times, for the next one to look at.
        for ti in self._list({"dag_ids": ["warta_berita"], "dag_run_ids": [f"item-{item_id}-round-1"],
                              "page_limit": 100})["task_instances"]:
            print(f"  {ti['task_id']:22s} {ti['map_index']:3d}  {ti['state']}  try {ti.get('try_number')}  "
                  f"start {ti.get('start_date')}  end {ti.get('end_date')}", file=sys.stderr, flush=True)
        raise TimeoutError("the four-channel item was not archived within 300 s")


def run(n: int, sample: int, at_once: int, delay: float, home: Path, examine: int | None,
        idle_sleep: float | None = None) -> dict:
    channels = Channels(delay, n)
    # Every waiting step is a trigger: the triggerer must take them all (default 1000).
    extra_env = {**channels.connections(), "AIRFLOW__TRIGGERER__CAPACITY": str(n + sample + 100)}
    if examine:
        # Runs the scheduler looks at per loop (Airflow's default 20): a run whose step just
        # ended waits for its turn among all running (parked) runs.
        extra_env["AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE"] = str(examine)
    if idle_sleep is not None:
        # How long the scheduler sleeps after a loop that queued nothing (the stack's setting otherwise).
        extra_env["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] = str(idle_sleep)
    stack = Stack(home=home, port=free_port(), parallelism=4, restart_crashed=True, extra_env=extra_env)
    try:
        started = time.monotonic()
        stack.start(timeout=300)
        print(f"stack started in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        bench = Bench(stack)
        # On the idle stack, as an office sees it most of the day.
        archive_s = bench.approval_to_archive()
        print(f"four channels: approval → archived {archive_s:.1f}s", file=sys.stderr, flush=True)

        first_intake = time.monotonic()
        ids, statuses = bench.intake(n, at_once)
        intake_s = time.monotonic() - first_intake
        print(f"{len(ids)} intakes answered in {intake_s:.0f}s: {statuses}", file=sys.stderr, flush=True)
        run_ids = [f"item-{i}-round-1" for i in ids]
        bench.wait_deferred("meliput", run_ids, timeout=max(600, 3 * n))
        park_s = time.monotonic() - first_intake
        print(f"{n} parked {park_s:.0f}s after the first intake", file=sys.stderr, flush=True)
        parked = bench.task_instances("meliput", None, run_ids)
        slots = sum(1 for ti in parked if ti["state"] in ("queued", "running", "scheduled"))
        via_executor = sum(1 for ti in parked if ti.get("queued_when"))
        time.sleep(5)
        cpu = bench.cpu_percent(("triggerer", "scheduler"), 30)
        print(f"slots={slots} via_executor={via_executor} cpu={cpu}", file=sys.stderr, flush=True)

        # The sample: other items, brought to the decision step while the N wait.
        sample_ids = [bench.service.create_item("pelaksana", title=f"Bench keputusan {k}", channels=["website"])["id"]
                      for k in range(sample)]
        bench.wait_deferred("meliput", [f"item-{i}-round-1" for i in sample_ids], timeout=300)
        bench.to_decision(sample_ids)
        bench.wait_deferred("menyetujui", [f"item-{i}-round-1" for i in sample_ids], timeout=max(300, n))
        time.sleep(3)  # parked = each trigger is running in the triggerer
        to_sensor, to_next = bench.decisions(sample_ids, gap=0.5)
        print(f"decision → sensor {sorted(to_sensor)}", file=sys.stderr, flush=True)
        print(f"decision → keputusan starts {sorted(to_next)}", file=sys.stderr, flush=True)
        return {
            "n": n,
            "intakes_201": statuses.get(201, 0),
            "intakes_other": sum(v for k, v in statuses.items() if k != 201),
            "intake_s": intake_s,
            "park_s": park_s,
            "slots_held": slots,
            "human_steps_via_executor": via_executor,
            "triggerer_cpu_pct": cpu["triggerer"],
            # The scheduler keeps examining every parked run, a few per loop.
            "scheduler_cpu_pct": cpu["scheduler"],
            "decision_to_sensor_p50_s": statistics.median(to_sensor),
            "decision_to_sensor_p95_s": percentile(to_sensor, 0.95),
            "decision_to_next_task_p50_s": statistics.median(to_next),
            "decision_to_next_task_p95_s": percentile(to_next, 0.95),
            "samples": len(to_next),
            "approval_to_archived_4ch_s": archive_s,
            "component_restarts": sum(stack.restarts.values()),
        }
    finally:
        stack.stop()
        channels.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000, help="items parked at step 1")
    parser.add_argument("--sample", type=int, default=20, help="decisions recorded and timed")
    parser.add_argument("--at-once", type=int, default=10, help="intakes in parallel")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every channel stand-in takes to answer")
    parser.add_argument("--examine", type=int, default=None,
                        help="[scheduler] max_dagruns_per_loop_to_schedule (the stack's setting otherwise)")
    parser.add_argument("--idle-sleep", type=float, default=None,
                        help="[scheduler] scheduler_idle_sleep_time (the stack's setting otherwise)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"warta-parking-{args.n}-") as home:
        result = run(args.n, args.sample, args.at_once, args.delay, Path(home), args.examine, args.idle_sleep)
    print(f"result: {result}", file=sys.stderr, flush=True)
    print(" ".join([f"channel_delay_s={args.delay}"] + key_values("park", result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
