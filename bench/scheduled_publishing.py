"""Benchmark: N items scheduled for the same minute (jadwal tayang), on the embedded stack.

Starts the stack as `make run` has its components with the channels' stand-ins, then:
  1. registers N items (website channel), brings each to the decision step, and approves
     each with the same publication time T (a whole minute, far enough ahead for all
     approvals and waits to settle);
  2. while they wait for T: how many of the N wait tasks (``menunggu_jadwal_tayang``) are
     deferred, how many task instances of the whole DAG hold a worker slot (queued or
     running), how many wait tasks ever went to an executor (``queued_when``), and the
     triggerer's CPU share;
  3. after T: each item's website publication time minus T (p50, p95, max), and how many
     published within the publish step's standard time (sop.yaml, 10 minutes) of T, the
     moment its service clock starts.

    .venv/bin/python bench/scheduled_publishing.py [--n 200] [--delay 0.2]

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import key_values, percentile
from parking import Bench as ParkingBench
from parking import _time
from throughput import Channels

from warta.stack import Stack
from warta_dev.devstack import free_port

WAIT_TASK = "menunggu_jadwal_tayang"


class Bench(ParkingBench):
    def all_slots_held(self, run_ids: list[str]) -> int:
        """Task instances of these runs holding (or queued for) a worker slot now."""
        body = {"dag_ids": ["warta_berita"], "dag_run_ids": run_ids, "state": ["queued", "running", "scheduled"],
                "page_limit": 1}
        return self._list(body)["total_entries"]

    def wait_reached(self, run_ids: list[str], publish_at: datetime) -> tuple[float, int]:
        """Until every wait task is deferred, or 10 s before T: (seconds, deferred)."""
        start = time.monotonic()
        deferred = 0
        while (publish_at - datetime.now(timezone.utc)).total_seconds() > 10:
            self.stack.check_alive()
            deferred = self.task_instances(WAIT_TASK, ["deferred"], run_ids, count_only=True)
            if deferred >= len(run_ids):
                break
            time.sleep(2)
        return time.monotonic() - start, deferred

    def approve_all(self, ids: list[int], at: datetime) -> None:
        for item_id in ids:
            self.service.record_step(item_id, "menyetujui", "subkoor", decision="approve", publish_at=at)


def _whole_minute_after(moment: datetime) -> datetime:
    return (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)


def run(n: int, delay: float, home: Path, lead: float) -> dict:
    channels = Channels(delay, n)
    extra_env = {**channels.connections(), "AIRFLOW__TRIGGERER__CAPACITY": str(2 * n + 100)}
    stack = Stack(home=home, port=free_port(), parallelism=4, restart_crashed=True, extra_env=extra_env)
    try:
        started = time.monotonic()
        stack.start(timeout=300)
        print(f"stack started in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        bench = Bench(stack)
        ids = [bench.service.create_item("pelaksana", title=f"Bench jadwal {k}", channels=["website"])["id"]
               for k in range(n)]
        run_ids = [f"item-{i}-round-1" for i in ids]
        bench.wait_deferred("meliput", run_ids, timeout=max(600, 3 * n))
        bench.to_decision(ids)
        print(f"{n} items at the decision step", file=sys.stderr, flush=True)
        publish_at = _whole_minute_after(datetime.now(timezone.utc) + timedelta(seconds=lead))
        approving = time.monotonic()
        bench.approve_all(ids, publish_at)
        print(f"{n} approvals for {publish_at:%H:%M:%S} UTC recorded in {time.monotonic() - approving:.0f}s",
              file=sys.stderr, flush=True)
        waited = bench.wait_reached(run_ids, publish_at)
        print(f"{waited[1]} of {n} waits deferred {waited[0]:.0f}s after the last approval", file=sys.stderr,
              flush=True)
        seconds_to_spare = (publish_at - datetime.now(timezone.utc)).total_seconds()
        cpu = bench.cpu_percent(("triggerer", "scheduler"), max(1.0, min(20.0, seconds_to_spare - 8)))
        waits = bench.task_instances(WAIT_TASK, None, run_ids)
        deferred = sum(1 for ti in waits if ti["state"] == "deferred")
        via_executor = sum(1 for ti in waits if ti.get("queued_when"))
        slots = bench.all_slots_held(run_ids)
        # The waits themselves (any not deferred yet is still behind its decision task).
        wait_slots = sum(1 for ti in waits if ti["state"] in ("queued", "running", "scheduled"))
        print(f"waiting: deferred={deferred} wait_slots={wait_slots} all_slots={slots} via_executor={via_executor} "
              f"cpu={cpu}",
              file=sys.stderr, flush=True)
        if datetime.now(timezone.utc) >= publish_at:
            print("WARNING: T passed before the waiting figures were taken; use a longer --lead", file=sys.stderr)

        standard = bench.service.config.step_of_kind("publish").standard_time.total_seconds()
        deadline = time.monotonic() + (publish_at - datetime.now(timezone.utc)).total_seconds() + standard + 300
        after: dict[int, float] = {}
        while len(after) < n and time.monotonic() < deadline:
            stack.check_alive()
            for item_id in ids:
                if item_id in after:
                    continue
                publication = next((p for p in bench.service.publications(item_id) if p.status == "published"), None)
                if publication is not None:
                    after[item_id] = (publication.published_at - publish_at).total_seconds()
            time.sleep(2)
        values = list(after.values())
        print(f"published {len(values)}/{n}; after T: {sorted(values)[:3]} … {sorted(values)[-3:]}",
              file=sys.stderr, flush=True)
        return {
            "n": n,
            "waits_deferred": deferred,
            "wait_task_slots_held": wait_slots,
            # Every task of the N runs holding or queued for a slot (decision tasks not yet run count).
            "all_slots_held_while_waiting": slots,
            "waits_via_executor": via_executor,
            "triggerer_cpu_pct": cpu["triggerer"],
            "scheduler_cpu_pct": cpu["scheduler"],
            "published": len(values),
            "published_before_T": sum(1 for v in values if v < 0),
            "publish_after_T_p50_s": statistics.median(values) if values else float("nan"),
            "publish_after_T_p95_s": percentile(values, 0.95),
            "publish_after_T_max_s": max(values) if values else float("nan"),
            "within_standard": sum(1 for v in values if 0 <= v <= standard),
            "standard_s": int(standard),
            "component_restarts": sum(stack.restarts.values()),
        }
    finally:
        stack.stop()
        channels.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="items scheduled for the same minute")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every channel stand-in takes to answer")
    parser.add_argument("--lead", type=float, default=None,
                        help="seconds between the first approval and T (default: 60 + 3 s per item: every decision task runs first)")
    args = parser.parse_args()
    lead = args.lead if args.lead is not None else 60 + 3 * args.n
    with tempfile.TemporaryDirectory(prefix=f"warta-schedule-{args.n}-") as home:
        result = run(args.n, args.delay, Path(home), lead)
    load = os.getloadavg()
    print(f"result: {result}", file=sys.stderr, flush=True)
    print(" ".join([f"channel_delay_s={args.delay}", f"load1={load[0]:.2f}"] + key_values("schedule", result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
