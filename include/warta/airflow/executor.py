"""Airflow's LocalExecutor, with worker processes that exist only while there is work.

Airflow's LocalExecutor forks ``parallelism`` worker processes when the scheduler starts
and keeps them for good: about 57 MiB (PSS) each on an office server that is idle most
of the day. ``OnDemandLocalExecutor`` forks a worker from the scheduler when a task is
queued and no worker is free (at most ``parallelism``), and a worker that has had nothing
to do for ``[warta] worker_idle_seconds`` (``AIRFLOW__WARTA__WORKER_IDLE_SECONDS``,
default 20 s; 0 keeps them for good) exits. Between the tasks of an item, seconds apart,
the workers stay; overnight there are none.

A new worker imports the modules Warta's tasks use (the editorial service, the
publishing pipeline, the channels) once, before it takes work: every task process is
forked from its worker and starts with them loaded instead of importing them itself
(0.2-0.7 s of each task's start on 2 cores).

Everything else is Airflow's: the queues, the workload run (``BaseExecutor.run_workload``,
the task supervisor), the results, the orderly end. Configure it as
``[core] executor = warta.airflow.executor.OnDemandLocalExecutor``.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing
import multiprocessing.sharedctypes
import os
import signal
import time
from multiprocessing import SimpleQueue
from multiprocessing.reduction import ForkingPickler as _ForkingPickler

from airflow.configuration import conf as airflow_conf
from airflow.executors import local_executor
from airflow.executors.base_executor import BaseExecutor, get_execution_api_server_url
from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

DEFAULT_IDLE_SECONDS = 20.0
# What Warta's task processes import when they run (the DAG file imports none of it).
TASK_MODULES = ("warta.service", "warta.pipeline", "warta.channels.wordpress", "warta.channels.facebook",
                "warta.channels.instagram", "warta.channels.x", "warta.alerts")


def _preload(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the task will import it again and say what is wrong
            log.exception("Worker could not preload %s", name)


_IDLE = object()
# A worker's state, as the executor reads it: starting and idle workers will take the
# next message, busy ones will not.
STARTING, IDLE, BUSY = 0, 1, 2


def _next_workload(queue: SimpleQueue, idle_seconds: float):
    """The next message of ``queue``, or ``_IDLE`` after ``idle_seconds`` without one.

    ``SimpleQueue.get`` has no timeout, and every waiting worker's poll of the pipe wakes
    for one message: the message is read under the queue's read lock only if it is still
    there, so the workers that lost the race go back to waiting (and may time out) instead
    of blocking in ``get`` until the next task."""
    if idle_seconds <= 0:
        return queue.get()
    deadline = time.monotonic() + idle_seconds
    while (left := deadline - time.monotonic()) > 0:
        if not queue._reader.poll(left):
            break
        if not queue._rlock.acquire(timeout=left):
            break
        try:
            if queue._reader.poll(0):
                return _ForkingPickler.loads(queue._reader.recv_bytes())
        finally:
            queue._rlock.release()
    return _IDLE


def _run_worker(logger_name, input, output, unread_messages, team_conf, state, idle_seconds, preload):
    """Airflow's ``local_executor._run_worker``, plus the preload, the worker's ``state``
    for the executor (STARTING, IDLE, BUSY) and the exit when idle."""
    import structlog

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as Airflow's: tasks run to completion
    worker_log = structlog.get_logger(logger_name)
    worker_log.info("Worker starting up pid=%d", os.getpid())
    _preload(preload)
    prefix = local_executor._get_executor_process_title_prefix(team_conf.team_name)
    while True:
        local_executor.setproctitle(f"{prefix} <idle>", worker_log)
        state.value = IDLE
        try:
            workload = _next_workload(input, idle_seconds)
        except EOFError:
            worker_log.info("The task queue was closed. Terminating worker.")
            break
        state.value = BUSY
        if workload is _IDLE:
            worker_log.info("Worker idle for %.0fs; exiting pid=%d", idle_seconds, os.getpid())
            return
        if workload is None:  # poison pill: the executor ends
            return
        with unread_messages:
            unread_messages.value -= 1
        if workload.running_state is not None:
            output.put((workload.key, workload.running_state, None))
        try:
            BaseExecutor.run_workload(
                workload,
                server=get_execution_api_server_url(team_conf),
                proctitle=f"{prefix} {workload.display_name}",
                subprocess_logs_to_stdout=True,
            )
            output.put((workload.key, workload.success_state, None))
        except Exception as e:
            worker_log.exception("Workload execution failed.", workload_type=type(workload).__name__)
            output.put((workload.key, workload.failure_state, e))


class OnDemandLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers are forked when work is queued and exit when idle."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle_seconds = airflow_conf.getfloat("warta", "worker_idle_seconds", fallback=DEFAULT_IDLE_SECONDS)

    def start(self) -> None:
        # Airflow's start(), without forking every worker up front.
        self.activity_queue = SimpleQueue()
        self.result_queue = SimpleQueue()
        self.workers = {}
        self._unread_messages = multiprocessing.Value(ctypes.c_uint)
        self._worker_states: dict[int, multiprocessing.sharedctypes.Synchronized] = {}

    def available_workers(self) -> int:
        """Workers that will take the next message: starting (still importing) or idle.
        Counted per live worker, so one that was killed is never counted."""
        return sum(1 for pid, state in self._worker_states.items()
                   if pid in self.workers and state.value in (STARTING, IDLE))

    def _check_workers(self) -> None:
        for pid, proc in list(self.workers.items()):
            if not proc.is_alive():  # exited when idle, or died
                proc.close()
                del self.workers[pid]
                self._worker_states.pop(pid, None)
        with self._unread_messages:
            outstanding = self._unread_messages.value
        if outstanding <= 0 or self.activity_queue.empty():
            return
        # A worker still importing counts: forking another for the same task each loop
        # only made them all import at once.
        wanted = min(outstanding - self.available_workers(), self.parallelism - len(self.workers))
        if wanted > 0:
            if self.is_mp_using_fork:
                self._spawn_workers_with_gc_freeze(wanted)
            else:
                self._spawn_worker()

    def _spawn_worker(self) -> None:
        state = multiprocessing.Value(ctypes.c_int, STARTING)
        proc = multiprocessing.Process(
            target=_run_worker,
            kwargs={
                "logger_name": self.log.name,
                "input": self.activity_queue,
                "output": self.result_queue,
                "unread_messages": self._unread_messages,
                "team_conf": self.conf,
                "state": state,
                "idle_seconds": self.idle_seconds,
                "preload": TASK_MODULES,
            },
        )
        proc.start()
        self.workers[proc.pid] = proc
        self._worker_states[proc.pid] = state
