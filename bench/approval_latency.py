"""Benchmark: a human step is recorded → its waiting sensor task succeeds.

Starts the embedded default (Airflow on SQLite, LocalExecutor; api-server, scheduler,
dag-processor and triggerer as separate processes so the triggerer can be measured),
parks N items at step 1 (Meliput kegiatan), then:
  - counts the worker slots held by the N waiting tasks (task instances running/queued),
  - measures the triggerer's CPU share (its whole process tree) over an idle window,
  - records the step for a sample of items, one after another, and takes
    recorded_at (editorial DB) → task instance end_date (Airflow) for each.

    .venv/bin/python bench/approval_latency.py [--n 1,1000] [--sample 60]

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil

from common import key_values, paced, percentile
from warta.stack import Stack
from warta_dev.devstack import free_port

STEP = "meliput"


class Bench:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.client = httpx.Client(base_url=stack.url, timeout=60,
                                   headers={"Authorization": f"Bearer {stack.token()}"})
        env = stack.env()
        import os

        os.environ.update({k: v for k, v in env.items() if k.startswith(("AIRFLOW", "WARTA"))})
        from warta.service import default_service

        self.service = default_service()

    def park(self, count: int, per_second: float = 2.0) -> list[int]:
        """Create ``count`` items (the stack's outbox loop starts their runs), paced as people would."""

        def start_one(index: int) -> int:
            return self.service.create_item("pelaksana", title=f"Bench item {index}", service="lainnya")["id"]

        return paced(count, per_second, start_one, self.stack.check_alive, report_every=100)

    def count(self, task_id: str, state: str) -> int:
        response = self.client.get(
            "/api/v2/dags/warta_berita/dagRuns/~/taskInstances",
            params={"task_id": task_id, "state": state, "limit": 1},
        )
        response.raise_for_status()
        return response.json()["total_entries"]

    def wait_parked(self, count: int, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.stack.check_alive()
            if self.count(STEP, "deferred") >= count:
                return time.monotonic() - start
            time.sleep(2)
        raise TimeoutError(f"only {self.count(STEP, 'deferred')} of {count} parked after {timeout}s")

    def slots_held(self) -> int:
        return sum(self.count(task, state) for task in ("meliput", "menyusun") for state in ("running", "queued"))

    def cpu_percent(self, components: tuple[str, ...], seconds: float) -> dict[str, float]:
        """Each component's CPU share (its process tree, % of one core) over ``seconds``."""
        trees = {}
        for name in components:
            proc = psutil.Process(self.stack.pid(name))
            trees[name] = [proc] + proc.children(recursive=True)

        def total(tree) -> float:
            cpu = 0.0
            for p in tree:
                try:
                    times = p.cpu_times()
                    cpu += times.user + times.system
                except psutil.NoSuchProcess:
                    pass
            return cpu

        before, wall = {name: total(tree) for name, tree in trees.items()}, time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - wall
        return {name: 100.0 * (total(tree) - before[name]) / elapsed for name, tree in trees.items()}

    def end_date(self, item_id: int) -> datetime | None:
        response = self.client.get(
            f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances/{STEP}"
        )
        response.raise_for_status()
        body = response.json()
        if body["state"] != "success" or not body.get("end_date"):
            return None
        return datetime.fromisoformat(body["end_date"].replace("Z", "+00:00"))

    def measure(self, items: list[int], gap: float) -> list[float]:
        recorded = {}
        for item_id in items:
            result = self.service.record_step(item_id, STEP, "pelaksana", notes="bench")
            recorded[item_id] = datetime.fromisoformat(
                next(r for r in self.service.history(item_id)["records"] if r["step"] == STEP)["recorded_at"]
            )
            del result
            time.sleep(gap)
        latencies, deadline = {}, time.monotonic() + 120
        while len(latencies) < len(items) and time.monotonic() < deadline:
            for item_id in items:
                if item_id not in latencies:
                    ended = self.end_date(item_id)
                    if ended:
                        latencies[item_id] = (ended - recorded[item_id]).total_seconds()
            self.stack.check_alive()
            time.sleep(0.5)
        missing = len(items) - len(latencies)
        if missing:
            print(f"warning: {missing} sensors did not finish within 120 s", file=sys.stderr)
        return list(latencies.values())


def run(n: int, sample: int, home: Path) -> dict[str, float]:
    stack = Stack(
        home=home, port=free_port(), parallelism=2, restart_crashed=True,
        # Two cores: keep the scheduler's write transactions short (SQLite has one writer)
        # and the DAG files parsed less often while a thousand runs start.
        extra_env={
            "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        },
    )
    stack.start(timeout=180)
    try:
        bench = Bench(stack)
        started = time.monotonic()
        ids = bench.park(n)
        bench.wait_parked(n, timeout=max(300, n * 1.5))
        print(f"N={n}: parked in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        time.sleep(5)
        slots = bench.slots_held()
        cpu = bench.cpu_percent(("triggerer",), 30)["triggerer"]
        latencies = []
        if n == 1:
            for _ in range(sample):
                latencies += bench.measure(ids, gap=0)
                # Keep exactly one waiting task: the measured run leaves, a new one parks.
                bench.client.delete(f"/api/v2/dags/warta_berita/dagRuns/item-{ids[0]}-round-1")
                ids = bench.park(1)
                bench.wait_parked(1, timeout=120)
                time.sleep(3)  # parked = its trigger is running in the triggerer
        else:
            latencies = bench.measure(ids[:: max(1, n // sample)][:sample], gap=0.5)
        return {
            "p50_s": statistics.median(latencies),
            "p95_s": percentile(latencies, 0.95),
            "max_s": max(latencies),
            "samples": len(latencies),
            "slots": slots,
            "triggerer_cpu_pct": cpu,
            "component_restarts": sum(stack.restarts.values()),
        } | ({} if not stack.restarts else {"restarted": ",".join(f"{k}x{v}" for k, v in stack.restarts.items())})
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", default="1,1000", help="comma-separated numbers of parked items")
    parser.add_argument("--sample", type=int, default=40, help="steps recorded and timed per N")
    args = parser.parse_args()
    figures = []
    for n in (int(x) for x in args.n.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"warta-bench-{n}-") as home:
            result = run(n, args.sample if n > 1 else min(args.sample, 10), Path(home))
        print(f"N={n}: {result}", file=sys.stderr, flush=True)
        figures += key_values(f"n{n}", result)
    print(" ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
