"""Airflow Connections for a long-lived process that must stay small.

Importing Airflow's SDK to read a Connection keeps about 65 MiB resident for the life of
the process. The run outbox needs its two Connections once, at start: a short-lived child
process reads them through ``BaseHook.get_connection`` (so every secrets backend works)
and hands the fields over on its standard output, never on a command line or in a log.

    python -m warta.connection_probe CONN_ID [CONN_ID ...]   (JSON on stdout)
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any


class ConnectionProbeError(RuntimeError):
    pass


@dataclass(frozen=True)
class ConnectionFields:
    """The fields of an Airflow Connection that Warta reads, named as Airflow names them."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    extra_dejson: dict[str, Any] = field(default_factory=dict)


def read_connections(conn_ids: list[str], timeout: float = 120) -> dict[str, ConnectionFields | None]:
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
    return {conn_id: ConnectionFields(**found[conn_id]) if found.get(conn_id) else None for conn_id in conn_ids}


def _dump(conn_ids: list[str]) -> dict[str, dict | None]:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    found: dict[str, dict | None] = {}
    for conn_id in conn_ids:
        try:
            conn = BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            found[conn_id] = None
            continue
        found[conn_id] = {"conn_id": conn_id, "conn_type": conn.conn_type, "host": conn.host,
                          "port": conn.port, "schema": conn.schema, "login": conn.login,
                          "password": conn.password, "extra_dejson": conn.extra_dejson or {}}
    return found


if __name__ == "__main__":
    json.dump(_dump(sys.argv[1:]), sys.stdout)
