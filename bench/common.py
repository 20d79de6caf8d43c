"""What the benchmarks share: starting items at a person's pace, percentiles, and the
last line of key=value figures."""

from __future__ import annotations

import sys
import time
from typing import Callable


def paced(count: int, per_second: float, start_one: Callable[[int], int], check: Callable[[], None],
          report_every: int = 50) -> list[int]:
    """Call ``start_one(index)`` ``count`` times at most ``per_second`` a second (a burst of
    hundreds of runs at once makes SQLite lock up the scheduler); ``check`` every 10."""
    ids = []
    for index in range(count):
        started = time.monotonic()
        ids.append(start_one(index))
        time.sleep(max(0.0, 1 / per_second - (time.monotonic() - started)))
        if index % 10 == 9:
            check()
        if index % report_every == report_every - 1:
            print(f"  {index + 1} items started", file=sys.stderr, flush=True)
    return ids


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]


def key_values(prefix: str, result: dict) -> list[str]:
    """``result`` as ``{prefix}_{key}=value`` pairs, floats with two decimals."""
    return [f"{prefix}_{key}={value:.2f}" if isinstance(value, float) else f"{prefix}_{key}={value}"
            for key, value in result.items()]


def stack_pss_mib(root_pid: int) -> tuple[float, int, dict[str, float]]:
    """PSS summed over ``root_pid`` and every process under it (MiB), the process count,
    and the share of each top-level child (by its first words)."""
    import psutil

    root = psutil.Process(root_pid)
    total, count, by_child = 0, 0, {}
    for child in [root, *root.children()]:
        subtotal = 0
        for proc in [child, *(child.children(recursive=True) if child is not root else [])]:
            try:
                subtotal += proc.memory_full_info().pss
                count += 1
            except psutil.Error:
                continue
        name = " ".join(child.cmdline()[1:3])[-40:] if child is not root else "supervisord"
        by_child[name] = by_child.get(name, 0) + subtotal / 2**20
        total += subtotal
    return total / 2**20, count, by_child
