"""Benchmark: memory of the idle embedded stack, as `make run` starts it.

Starts the same stack as `make run` (embedded PostgreSQL, api-server, scheduler,
dag-processor, triggerer, the sandbox channels, under supervisord) on free ports, lets it
settle, and sums PSS (proportional set size: shared pages split between their users)
over every process it started: supervisord and everything under it. Also measures the
floor no layout of separate Airflow processes can go below: one interpreter that has
only imported ``airflow`` (each of the api-server, scheduler, dag-processor and triggerer
is such an interpreter before it does anything).

    .venv/bin/python bench/idle_memory.py [--settle 90]

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import stack_pss_mib  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=90, help="seconds idle before measuring")
    args = parser.parse_args()
    # The sandbox ports are read when warta_dev.devstack is imported: set them first.
    for name in ("WARTA_SANDBOX_PORT", "WARTA_SANDBOX_GRAPH_PORT", "WARTA_SANDBOX_X_PORT"):
        os.environ[name] = str(_free_port())
    from warta_dev.devstack import DevStack, free_port

    with tempfile.TemporaryDirectory(prefix="warta-bench-idle-") as folder:
        stack = DevStack(home=Path(folder), port=free_port())
        stack.start(timeout=240)
        try:
            time.sleep(args.settle)
            samples = []
            for _ in range(3):
                samples.append(stack_pss_mib(stack._supervisord.pid))
                time.sleep(5)
            total, count, by_child = sorted(samples)[1]
            for name, mib in sorted(by_child.items(), key=lambda kv: -kv[1]):
                print(f"  {mib:7.1f} MiB  {name}", file=sys.stderr)
            stack.check_alive()
            restarts = sum(stack.restarts.values())
            floor = airflow_import_pss_mib(stack.env())
        finally:
            stack.stop()
    print(f"  {floor:7.1f} MiB  one interpreter that only imported airflow (x4 components)", file=sys.stderr)
    print(f"idle_pss_mib={total:.0f} processes={count} task_slots={stack.slots} component_restarts={restarts} "
          f"airflow_import_pss_mib={floor:.0f} load_avg_1min={os.getloadavg()[0]:.1f}")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_import_pss_mib(env: dict[str, str]) -> float:
    """PSS of a Python process that has imported ``airflow`` and nothing else."""
    import subprocess

    import psutil

    proc = subprocess.Popen([sys.executable, "-c", "import sys, airflow; print(flush=True); sys.stdin.read()"],
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdout.readline()
        return psutil.Process(proc.pid).memory_full_info().pss / 2**20
    finally:
        proc.stdin.close()
        proc.wait(30)


if __name__ == "__main__":
    sys.exit(main())
