"""Benchmark: a clean clone → `make run` healthy, as a new user gets it.

Clones this repository's HEAD into a temporary folder, runs `make run` there (venv,
install from the warm uv cache, first start of the embedded PostgreSQL, migrations,
every component) on free ports, and times until Airflow's health endpoint reports the
metadata DB, scheduler and triggerer healthy; stops it with SIGTERM (timed too), then
starts it again (data kept) and times the second start.

    .venv/bin/python bench/healthy_start.py

The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warta.stack import airflow_health
from warta_dev.devstack import free_port

REPO = Path(__file__).resolve().parents[1]


def start_and_time(clone: Path, env: dict[str, str], log: Path, timeout: float = 600) -> tuple[float, subprocess.Popen]:
    url = f"http://127.0.0.1:{env['WARTA_PORT']}"
    started = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    while not airflow_health(url)[0]:
        if proc.poll() is not None or time.monotonic() - started > timeout:
            raise RuntimeError(f"make run did not get healthy; see {log}")
        time.sleep(0.5)
    return time.monotonic() - started, proc


def stop_and_time(proc: subprocess.Popen, clone: Path, timeout: float = 180) -> float:
    """SIGTERM as systemd or Ctrl-C would send it; timed until no process of the clone is left."""
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout)
    while running_in(clone):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"processes of {clone} still running {timeout}s after SIGTERM")
        time.sleep(0.2)
    return time.monotonic() - started


def running_in(clone: Path) -> list[str]:
    return subprocess.run(["pgrep", "-f", str(clone)], capture_output=True, text=True).stdout.split()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="warta-bench-clone-") as folder:
        clone = Path(folder) / "warta"
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV"))}
        env.update({"WARTA_PORT": str(free_port()), "WARTA_SANDBOX_PORT": str(free_port()),
                    "WARTA_SANDBOX_GRAPH_PORT": str(free_port()), "WARTA_SANDBOX_X_PORT": str(free_port())})
        log = Path(folder) / "make-run.log"
        first, proc = start_and_time(clone, env, log)
        first_stop = stop_and_time(proc, clone)
        second, proc = start_and_time(clone, env, log)
        second_stop = stop_and_time(proc, clone)
    load = os.getloadavg()[0]
    print(f"clean_clone_to_healthy_s={first:.1f} stop_s={first_stop:.1f} restart_to_healthy_s={second:.1f} "
          f"second_stop_s={second_stop:.1f} load_avg_1min={load:.1f} cores={os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
