"""Benchmark: one approved item with all four channels, approval → archived, on the idle
embedded stack (as an office sees it most of the day).

Starts the stack as `make run` has its components, with the four channels' stand-ins
answering every request ``--delay`` seconds late, then ``--items`` times, one after
another: an item with all four channels is brought to the approval step, its approval
sensor is left to settle in the triggerer (a person approves minutes after the step
opens, not within the same second), the approval is recorded and the item is timed to
its archive (the editorial DB's ``archived_at``). Each item's timeline (queued, start and
end of every task, seconds after the approval) goes to stderr.

    .venv/bin/python bench/four_channels.py [--items 3] [--delay 0.2]

The last line holds the figures as key=value pairs (``calls_*``: requests each stand-in
answered per item, the network round trips a real channel would cost).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import key_values
from parking import Bench
from throughput import Channels

from warta.stack import Stack
from warta_dev.devstack import free_port


class CountingChannels(Channels):
    """The stand-ins, counting the requests each answers."""

    def __init__(self, delay: float, items: int):
        super().__init__(delay, items)
        self.calls = {"website": 0, "graph": 0, "x": 0}
        for name, server in (("website", self.website), ("graph", self.graph), ("x", self.x)):
            app = server._server.app

            def counted(environ, start_response, app=app, name=name):
                self.calls[name] += 1
                return app(environ, start_response)

            server._server.app = counted


def run(items: int, delay: float, home: Path, settle: float) -> dict:
    channels = CountingChannels(delay, items)
    stack = Stack(home=home, port=free_port(), parallelism=4, restart_crashed=True,
                  extra_env=channels.connections())
    try:
        started = time.monotonic()
        stack.start(timeout=300)
        print(f"stack started in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        bench = Bench(stack)
        times = []
        for _ in range(items):
            before = dict(channels.calls)
            times.append(bench.approval_to_archive(settle=settle))
            calls = {k: channels.calls[k] - before[k] for k in channels.calls}
            print(f"four channels: approval → archived {times[-1]:.2f}s, calls {calls}", file=sys.stderr, flush=True)
        return {
            "items": items,
            "approval_to_archived_4ch_min_s": min(times),
            "approval_to_archived_4ch_median_s": statistics.median(times),
            "approval_to_archived_4ch_max_s": max(times),
            **{f"calls_{k}": v / items for k, v in channels.calls.items()},
            "component_restarts": sum(stack.restarts.values()),
        }
    finally:
        stack.stop()
        channels.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=3, help="items approved and timed, one after another")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every channel stand-in takes to answer")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds between the approval step opening (deferred) and the approval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warta-four-channels-") as home:
        result = run(args.items, args.delay, Path(home), args.settle)
    load = " ".join(f"{x:.2f}" for x in __import__("os").getloadavg())
    print(f"result: {result} load: {load}", file=sys.stderr, flush=True)
    print(" ".join([f"channel_delay_s={args.delay}", f"load_avg={load.replace(' ', '/')}"]
                   + key_values("fourch", result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
