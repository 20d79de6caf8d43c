"""The host name a task instance records (``[core] hostname_callable``).

In containers every worker has its own host name. When several Celery workers share one
host (the distributed tests, a single VM), ``WARTA_WORKER_NAME`` tells them apart, so
the Airflow UI and the tests can see which worker ran which task.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("WARTA_WORKER_NAME") or socket.getfqdn()
