"""Benchmark: a burst of intakes on the embedded stack.

Starts the embedded stack (as `make run`, with the WordPress stand-in as the website),
then sends N intakes (`POST /warta/api/v1/items`, website only, each with its own
submission key) C at a time, as a busy form or a retrying client would; a 503 is retried
after its Retry-After, as the client is told to. Counts the answers (201, 5xx, dropped
connections), the p50/p95 answer time, then waits for every item's run and counts items,
runs, duplicates (two items for one submission key) and component restarts.

    .venv/bin/python bench/intake_burst.py [--n 500] [--concurrency 20]

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--settle", type=float, default=600, help="seconds to wait for every run")
    args = parser.parse_args()
    from warta.stack import Stack
    from warta_dev.devstack import free_port
    from warta_dev.sandbox.wordpress import serve_fake_wordpress

    password = "bench pass word"
    site = serve_fake_wordpress(application_password=password)
    with tempfile.TemporaryDirectory(prefix="warta-bench-burst-") as folder:
        import json

        website = json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": site.port, "schema": "http",
                              "login": "warta", "password": password})
        stack = Stack(home=Path(folder), port=free_port(), extra_env={"AIRFLOW_CONN_WARTA_WEBSITE": website})
        stack.start(timeout=240)
        try:
            figures = burst(stack, args.n, args.concurrency, args.settle)
        finally:
            stack.stop()
            site.stop()
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
    return 0


def burst(stack, n: int, concurrency: int, settle: float) -> dict:
    token = stack.token("pelaksana")
    client = httpx.Client(base_url=stack.url, timeout=120, headers={"Authorization": f"Bearer {token}"},
                          limits=httpx.Limits(max_connections=concurrency))
    results: list[tuple[str, float, int | None]] = []

    def intake(index: int) -> tuple[str, float, int | None]:
        body = {"title": f"Burst {index}", "channels": ["website"], "submission_key": f"burst-{index}"}
        started = time.monotonic()
        for _attempt in range(20):
            try:
                response = client.post("/warta/api/v1/items", json=body)
            except httpx.TransportError:
                return "dropped", time.monotonic() - started, None
            if response.status_code == 503:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500:
                return "5xx", time.monotonic() - started, None
            if response.status_code == 201:
                return "ok", time.monotonic() - started, response.json()["id"]
            return f"http{response.status_code}", time.monotonic() - started, None
        return "503_gave_up", time.monotonic() - started, None

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(intake, range(n)))
    burst_s = time.monotonic() - started
    outcomes = [r[0] for r in results]
    times = [r[1] for r in results]
    ids = {r[2] for r in results if r[2] is not None}

    # Every item must get its run; duplicates are items beyond one per submission key.
    admin = httpx.Client(base_url=stack.url, timeout=60, headers={"Authorization": f"Bearer {stack.token()}"})
    deadline = time.monotonic() + settle
    runs = 0
    while time.monotonic() < deadline:
        listing = admin.get("/api/v2/dags/warta_berita/dagRuns", params={"limit": 1})
        if listing.status_code == 200:
            runs = listing.json()["total_entries"]
            if runs >= n:
                break
        time.sleep(2)
    items, duplicates = count_items(stack)
    stack.check_alive()
    return {
        "n": n, "concurrency": concurrency,
        "ok": outcomes.count("ok"), "errors_5xx": outcomes.count("5xx"), "dropped": outcomes.count("dropped"),
        "other": len(outcomes) - outcomes.count("ok") - outcomes.count("5xx") - outcomes.count("dropped"),
        "items": items, "runs": runs, "duplicates": duplicates, "distinct_ids": len(ids),
        "component_restarts": sum(stack.restarts.values()),
        "p50_s": statistics.median(times), "p95_s": percentile(times, 0.95), "burst_s": burst_s,
    }


def count_items(stack) -> tuple[int, int]:
    import psycopg2

    connection = psycopg2.connect(host=str(stack.embedded_postgres.socket_dir), user="postgres", dbname="warta")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) - count(DISTINCT title) FROM news_items WHERE title LIKE 'Burst %'")
        items, duplicates = cursor.fetchone()
    connection.close()
    return items, duplicates


if __name__ == "__main__":
    sys.exit(main())
