"""The run outbox: start the Airflow runs that the editorial DB asks for.

An item and the request to start its run (``RunRequest``) are committed together; this
loop starts the runs through Airflow's REST API, addressed and logged in only by the
Airflow Connection ``warta_airflow_api``. Starting is idempotent (run id
``item-<id>-round-<n>``; a run that exists counts as started), so a request drained
twice, or by two loops, starts one run. A request that fails stays in the outbox and is
tried again later, with a growing delay: none is ever lost.

    warta outbox serve    (a loop of its own: drain, sleep, forever; the distributed topology
                           and docker-compose run it as a service)
    warta outbox drain    (once, e.g. from cron or after a restore)

The embedded stack (`make run`, `warta serve`) runs the same loop as a thread of the
api-server (``start_in_background``): that process already holds the editorial DB, Airflow
and the HTTP client, so the loop costs no interpreter of its own (about 60 MiB), and it is
restarted whenever supervisord restarts the api-server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from warta.airflow_api import AirflowApi, AirflowApiError, start_item_run

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
BATCH = 50
# Runs started at once. Airflow's metadata DB is PostgreSQL wherever Warta runs; on SQLite
# use 1 (one writer: parallel run starts only queue on its lock and tie up the api-server).
CONCURRENCY = 4
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 300.0


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s, ... up to 5 minutes after ``attempts`` failed tries."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


@dataclass
class Outbox:
    service: object  # EditorialService
    api: AirflowApi | None = None
    concurrency: int = CONCURRENCY
    started: int = 0
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    # desk-keep: the loop also tidies what the desk kept (warta.keep), every keep.tidy_every.
    _last_tidy: float | None = field(default=None, repr=False)

    def _airflow(self) -> AirflowApi:
        if self.api is None:
            # One try per drain: the outbox itself retries, with backoff, without blocking others.
            self.api = AirflowApi.from_connection()
            self.api.attempts = 1
        return self.api

    def _start(self, request) -> bool:
        try:
            start_item_run(self._airflow(), dag_id=request.dag_id, item_id=request.item_id,
                           round_number=request.round, title=request.note)
        except AirflowApiError as exc:
            delay = retry_delay(request.attempts + 1)
            log.warning("run %s not started (attempt %s): %s; next try in %.0f s",
                        request.run_id, request.attempts + 1, exc, delay.total_seconds())
            self.service.run_request_failed(request.id, str(exc), delay)
            return False
        self.service.run_request_started(request.id)
        log.info("run %s started", request.run_id)
        return True

    def drain(self, limit: int = BATCH) -> dict[str, int]:
        """Start every due request once (``concurrency`` at a time); returns what happened."""
        from concurrent.futures import ThreadPoolExecutor

        requests = self.service.due_run_requests(limit)
        if not requests:
            return {"started": 0, "failed": 0}
        self._airflow()  # the Connection is read once, before the threads share it
        with ThreadPoolExecutor(min(self.concurrency, len(requests))) as pool:
            outcomes = list(pool.map(self._start, requests))
        started = sum(outcomes)
        failed = len(outcomes) - started
        self.started += started
        self.failed += failed
        return {"started": started, "failed": failed}

    @classmethod
    def from_connections(cls, concurrency: int = CONCURRENCY) -> "Outbox":
        """The outbox of a process that has Airflow loaded already (the api-server)."""
        from warta.service import default_service

        api = AirflowApi.from_connection()
        api.attempts = 1  # as in _airflow: the outbox itself retries, with backoff
        return cls(default_service(), api=api, concurrency=concurrency)

    @classmethod
    def lean(cls, concurrency: int = CONCURRENCY) -> "Outbox":
        """The outbox of a long-lived loop: its two Connections are read in a short-lived child
        process (``warta.connection_probe``), so the loop never imports Airflow (about 65 MiB)."""
        from warta.airflow_api import AIRFLOW_API_CONN_ID
        from warta.connection_probe import read_connections
        from warta.db import EDITORIAL_DB_CONN_ID, default_sqlite_url, url_from_connection
        from warta.service import default_service

        conns = read_connections([AIRFLOW_API_CONN_ID, EDITORIAL_DB_CONN_ID])
        editorial = conns[EDITORIAL_DB_CONN_ID]
        service = default_service(database_url=url_from_connection(editorial) if editorial else default_sqlite_url())
        api = AirflowApi.from_fields(conns[AIRFLOW_API_CONN_ID])
        api.attempts = 1  # as in _airflow: the outbox itself retries, with backoff
        return cls(service, api=api, concurrency=concurrency)

    def tidy_when_due(self, now: float | None = None) -> dict[str, int] | None:
        """Remove abandoned drafts, kept forms and pending files (``warta.keep.tidy``) once
        every ``warta.yaml keep tidy_every``; a failed tidy is tried again next time."""
        from warta import keep

        now = time.monotonic() if now is None else now
        if self._last_tidy is not None and now - self._last_tidy < keep.keep_settings().tidy_every.total_seconds():
            return None
        self._last_tidy = now
        try:
            return keep.tidy(self.service)
        except Exception:  # the editorial DB may be restarting: the next loop tries again
            log.exception("tidying the desk's kept drafts and files failed")
            return None

    def serve(self, poll_seconds: float = POLL_SECONDS, heartbeat_file: str | None = None) -> None:
        """Drain until SIGTERM or SIGINT (the loop as a process of its own)."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.run(poll_seconds, heartbeat_file)

    def stop(self) -> None:
        self._stop.set()

    def run(self, poll_seconds: float = POLL_SECONDS, heartbeat_file: str | None = None) -> None:
        """Drain until ``stop()``; a full batch is followed at once by the next.
        ``heartbeat_file`` is touched after every drain (a container's healthcheck)."""
        from pathlib import Path

        log.info("outbox loop started (every %.1f s)", poll_seconds)
        while not self._stop.is_set():
            try:
                result = self.drain()
            except Exception:  # the editorial DB may be restarting: keep going, say why
                log.exception("draining the run outbox failed; trying again")
                result = {"started": 0, "failed": 1}
            else:
                if heartbeat_file:
                    Path(heartbeat_file).touch()
            self.tidy_when_due()
            if result["started"] + result["failed"] < BATCH:
                self._stop.wait(poll_seconds)
        log.info("outbox loop stopped (%s runs started, %s failed tries)", self.started, self.failed)


# Set (to "1") in the environment of the one process whose web app also runs the loop.
IN_PROCESS_ENV = "WARTA_OUTBOX_IN_PROCESS"
LOOP_RESTART_SECONDS = 5.0
_background: threading.Thread | None = None
_background_lock = threading.Lock()


def start_in_background(make_outbox=None, ready=None, poll_seconds: float = POLL_SECONDS,
                        heartbeat_file: str | None = None) -> threading.Thread:
    """The loop as a daemon thread of this process, started once per process.

    ``ready()`` is awaited first (every 0.5 s), so requests left from before a restart are
    not counted as failed tries while this process's own API is still starting. A crash of
    the process ends the thread mid-drain; that is safe, as run starts are idempotent and a
    request leaves the outbox only after its run exists."""
    global _background
    with _background_lock:
        if _background is not None and _background.is_alive():
            return _background

        def loop() -> None:
            while ready is not None and not _ready(ready):
                time.sleep(0.5)
            while True:  # a bug in one drain must not end the loop for the life of the process
                try:
                    (make_outbox or Outbox.from_connections)().run(poll_seconds, heartbeat_file)
                    return
                except Exception:
                    log.exception("outbox loop failed; starting it again in %.0f s", LOOP_RESTART_SECONDS)
                    time.sleep(LOOP_RESTART_SECONDS)

        _background = threading.Thread(target=loop, name="warta-outbox", daemon=True)
        _background.start()
        return _background


def _ready(check) -> bool:
    try:
        return bool(check())
    except Exception:
        return False
