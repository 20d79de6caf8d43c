"""Airflow Connections for a long-lived process that must stay small.

Importing Airflow's SDK to read a Connection keeps about 65 MiB resident for the life of
the process. The run outbox needs its two Connections once, at start: a short-lived child
process reads them through the boundary's connections (Airflow's, so every secrets backend works)
and hands the fields over on its standard output, never on a command line or in a log.

    python -m warta.connection_probe CONN_ID [CONN_ID ...]   (JSON on stdout)
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

from warta import boundary
from warta.boundary import ConnectionInfo, ConnectionNotFound


class ConnectionProbeError(RuntimeError):
    pass


def read_connections(conn_ids: list[str], timeout: float = 120) -> dict[str, ConnectionInfo | None]:
    """Each Connection's fields (None when it is not defined), read in a child process."""
    try:
        done = subprocess.run([sys.executable, "-m", "warta.connection_probe", *conn_ids],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ConnectionProbeError(f"reading Airflow Connections {conn_ids} took over {timeout:.0f} s") from None
    if done.returncode != 0:
        # The child's stderr holds Airflow's error, never a secret (it prints fields to stdout only).
        raise ConnectionProbeError(f"reading Airflow Connections {conn_ids} failed: {done.stderr.strip()[-500:]}")
    found = json.loads(done.stdout)
    return {conn_id: ConnectionInfo(**found[conn_id]) if found.get(conn_id) else None for conn_id in conn_ids}


def _dump(conn_ids: list[str]) -> dict[str, dict | None]:
    found: dict[str, dict | None] = {}
    for conn_id in conn_ids:
        try:
            found[conn_id] = asdict(boundary.connections().get(conn_id))
        except ConnectionNotFound:
            found[conn_id] = None
    return found


if __name__ == "__main__":
    json.dump(_dump(sys.argv[1:]), sys.stdout)
