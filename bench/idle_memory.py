"""Benchmark: memory of the idle embedded stack, as `make run` starts it.

Starts the same stack as `make run` (embedded PostgreSQL, api-server, scheduler,
dag-processor, triggerer, the sandbox channels, under supervisord) on free ports, lets it
settle, and sums PSS (proportional set size: shared pages split between their users)
over every process it started: supervisord and everything under it.

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
    from warta_dev.devstack import free_port

    for name in ("WARTA_SANDBOX_PORT", "WARTA_SANDBOX_GRAPH_PORT", "WARTA_SANDBOX_X_PORT"):
        os.environ[name] = str(free_port())
    from warta_dev.devstack import DevStack

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
        finally:
            stack.stop()
    print(f"idle_pss_mib={total:.0f} processes={count} task_slots={stack.slots} component_restarts={restarts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
