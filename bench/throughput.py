"""Benchmark: news items from approval to archived, on (a) the embedded default and
(b) the distributed topology, in one run.

For each topology: start it with the website (WordPress), Facebook Page, Instagram and X
stand-ins answering every request 200 ms late; bring N items (each to all four channels)
to the approval step (steps 1-3 recorded, the approval sensor parked); approve all N at
once; then time each item from its approval record to its archive (the editorial DB's
``archived_at``, set by the last SOP step after publishing and the online check).

    .venv/bin/python bench/throughput.py [--n 200] [--topologies embedded,distributed]

(a) embedded: Airflow on SQLite with LocalExecutor (parallelism 4), api-server,
    scheduler, dag-processor and triggerer as separate processes (as `make run` has them);
(b) distributed: PostgreSQL, Redis, S3 (moto), CeleryExecutor with two workers of
    concurrency 2 (4 task slots, as (a)), FAB logins (warta_dev.topology.DistributedStack).

The last line holds the figures as key=value pairs: items per minute (N / first approval
to last archive) and p50/p95 approval -> archived for each topology.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import approval_latency
from common import key_values, paced, percentile
from sqlalchemy import select

from warta.stack import Stack
from warta_dev.devstack import free_port, social_sandbox_connections
from warta_dev.sandbox.graph import serve_fake_graph
from warta_dev.sandbox.wordpress import serve_fake_wordpress
from warta_dev.sandbox.x import serve_fake_x
from warta_dev.topology import DistributedStack

CHANNELS = ["website", "facebook", "instagram", "x"]
WEBSITE_PASSWORD = "bench app pass word"
GRAPH_TOKEN = "bench-graph-token"
X_CLIENT_ID = "warta-sandbox"  # the client id social_sandbox_connections gives the X connection
X_REFRESH_TOKEN = "bench-refresh-token"
TASK_SLOTS = 4


class Channels:
    """The four publishing channels' stand-ins, each answering ``delay`` seconds late."""

    def __init__(self, delay: float, items: int):
        self.website = serve_fake_wordpress(application_password=WEBSITE_PASSWORD, delay_seconds=delay)
        # One Instagram account may publish 50 posts in 24 hours (the stand-in enforces it,
        # as Meta does); the bench's account gets room for every item, as many units'
        # accounts together would have.
        self.graph = serve_fake_graph(tokens=(GRAPH_TOKEN,), quota_total=max(50, items), delay_seconds=delay)
        self.x = serve_fake_x(client_id=X_CLIENT_ID, refresh_token=X_REFRESH_TOKEN, delay_seconds=delay)

    def connections(self) -> dict[str, str]:
        import json

        return {
            "AIRFLOW_CONN_WARTA_WEBSITE": json.dumps(
                {"conn_type": "http", "host": "127.0.0.1", "port": self.website.port, "schema": "http",
                 "login": "warta", "password": WEBSITE_PASSWORD}),
            **social_sandbox_connections(self.graph.port, self.x.port, GRAPH_TOKEN, X_REFRESH_TOKEN,
                                         page_id=self.graph.fake.page_id, ig_user_id=self.graph.fake.ig_user_id),
        }

    def stop(self) -> None:
        for server in (self.website, self.graph, self.x):
            server.stop()


def make_stack(topology: str, home: Path, extra_env: dict[str, str]) -> Stack:
    if topology == "embedded":
        return Stack(home=home, port=free_port(), parallelism=TASK_SLOTS, restart_crashed=True, extra_env=extra_env)
    return DistributedStack(home=home, port=free_port(), parallelism=2 * TASK_SLOTS, workers=2,
                            worker_concurrency=TASK_SLOTS // 2, restart_crashed=True, extra_env=extra_env)


class Bench(approval_latency.Bench):
    """The approval benchmark's client of the stack (editorial service, Airflow API), plus
    the steps from intake to archive."""

    def bring_to_approval(self, count: int, per_second: float = 2.0) -> list[int]:
        """Items whose steps 1-3 are recorded (the outbox loop starts their runs), paced as
        people would (SQLite's single writer does not take hundreds of run starts at once)."""
        from warta.service import Upload

        photo = _jpeg()

        def start_one(index: int) -> int:
            item = self.service.create_item("pelaksana", title=f"Bench item {index}", service="lainnya",
                                            channels=CHANNELS, uploads=[Upload(f"foto-{index}.jpg", photo)])
            self.service.record_step(item["id"], "meliput", "pelaksana", notes="bench")
            self.service.record_step(item["id"], "menyusun", "pelaksana", title=f"Berita bench {index}",
                                     body="Paragraf satu.\n\nParagraf dua.")
            self.service.record_step(item["id"], "memeriksa", "operator")
            return item["id"]

        return paced(count, per_second, start_one, self.stack.check_alive)

    def parked_at_approval(self) -> int:
        return self.count("menyetujui", "deferred")

    def wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.stack.check_alive()
            if condition():
                return
            time.sleep(2)
        raise TimeoutError(f"{what} not done after {timeout:.0f}s")

    def approve_all(self, ids: list[int]) -> None:
        for item_id in ids:
            self.service.record_step(item_id, "menyetujui", "subkoor", decision="approve")

    def times(self, ids: list[int]) -> tuple[dict[int, float], dict[int, float]]:
        """Approval record time and archive time (epoch seconds) per item."""
        from warta.db import session_scope
        from warta.models import NewsItem, StepRecord

        with session_scope() as session:
            approved = dict(session.execute(
                select(StepRecord.item_id, StepRecord.recorded_at)
                .where(StepRecord.item_id.in_(ids), StepRecord.step_id == "menyetujui")).all())
            archived = dict(session.execute(
                select(NewsItem.id, NewsItem.archived_at)
                .where(NewsItem.id.in_(ids), NewsItem.archived_at.is_not(None))).all())
        return ({k: _epoch(v) for k, v in approved.items()}, {k: _epoch(v) for k, v in archived.items()})

    def failed_runs(self) -> int:
        response = self.client.get("/api/v2/dags/warta_berita/dagRuns", params={"state": "failed", "limit": 1})
        response.raise_for_status()
        return response.json()["total_entries"]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 120, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _epoch(value) -> float:
    from datetime import timezone

    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def run(topology: str, n: int, delay: float) -> dict[str, float]:
    channels = Channels(delay, n)
    with tempfile.TemporaryDirectory(prefix=f"warta-throughput-{topology}-") as home:
        stack = make_stack(topology, Path(home), channels.connections())
        try:
            started = time.monotonic()
            stack.start(timeout=300)
            print(f"{topology}: started in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
            bench = Bench(stack)
            ids = bench.bring_to_approval(n)
            bench.wait(lambda: bench.parked_at_approval() >= n, timeout=60 + 15 * n, what=f"{n} items at approval")
            print(f"{topology}: {n} items wait for approval", file=sys.stderr, flush=True)
            bench.approve_all(ids)

            def all_archived() -> bool:
                failed = bench.failed_runs()
                if failed:
                    raise RuntimeError(f"{failed} runs failed; see {home}/logs")
                return len(bench.times(ids)[1]) >= n

            bench.wait(all_archived, timeout=120 + 30 * n, what=f"archiving {n} items")
            approved, archived = bench.times(ids)
            latencies = [archived[i] - approved[i] for i in ids]
            span = max(archived.values()) - min(approved.values())
            return {
                "items_per_min": 60.0 * n / span,
                "p50_s": statistics.median(latencies),
                "p95_s": percentile(latencies, 0.95),
                "failed_runs": bench.failed_runs(),
                "posts": len(channels.website.fake.published_posts()),
                "component_restarts": sum(stack.restarts.values()),
            }
        finally:
            stack.stop()
            channels.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="items per topology")
    parser.add_argument("--topologies", default="embedded,distributed")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every channel stand-in takes to answer")
    args = parser.parse_args()
    figures = [f"n={args.n}", f"channel_delay_s={args.delay}", f"task_slots={TASK_SLOTS}"]
    for topology in args.topologies.split(","):
        result = run(topology, args.n, args.delay)
        print(f"{topology}: {result}", file=sys.stderr, flush=True)
        figures += key_values(topology, result)
    print(" ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
