"""Have the scheduler look at a run as soon as one of its tasks has ended.

Airflow 3 has no mini-scheduler: a task's downstream is scheduled only when the scheduler
next examines the task's run, and it examines running runs round-robin
(``DagRun.get_running_dag_runs_to_examine`` orders by ``last_scheduling_decision NULLS
FIRST``, ``max_dagruns_per_loop_to_schedule`` per loop). With a thousand items parked at
human steps, a decision waited a whole round (about 18 s) before its next task started,
and every further task of the publish chain waited again.

This module puts the run whose task just ended at the head of that queue, the way a new
run already is: it clears the run's ``last_scheduling_decision`` right after the commit
that ended the task. It runs only inside Airflow's own processes, on Airflow's own ORM
session and engine, where tasks end:

- the triggerer, which ends a waiting human step itself (``TaskSuccessEvent``, an ORM
  flush in ``Trigger.submit_event``);
- the api-server's Execution API, where a worker reports its task's end (an ORM
  ``UPDATE task_instance``);
- the scheduler (timeouts, upstream failures).

Warta's own code never writes Airflow's metadata DB; the editorial service knows nothing
of this. The update runs after the task's own commit, in a short transaction of its own:
it never delays or fails the state change it follows, cannot deadlock with the scheduler
(it holds one dag_run row at a time and nothing else), and when it is lost (a crash in
between) the run simply waits for its round-robin turn as before.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Session.info key: (dag_id, run_id) pairs whose task ended in the open transaction.
_PENDING = "warta_runs_to_examine"
# States after which the scheduler has something to decide for the run.
ENDED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "up_for_retry", "removed"})
# Airflow's job processes (scheduler, triggerer, dag-processor) tell listeners they start
# with their ``Job`` (its job_type is set only later); task processes with a marker.
_JOB_CLASS = ("airflow.jobs.job", "Job")

_installed = False


def install() -> bool:
    """Register the session hooks in this process (idempotent). True if newly installed."""
    global _installed
    if _installed:
        return False
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _before_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _forget)
    _installed = True
    log.info("Warta: runs are examined as soon as one of their tasks ends")
    return True


def uninstall() -> None:
    """Remove the hooks (tests)."""
    global _installed
    if not _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.remove(Session, "after_flush", _after_flush)
    event.remove(Session, "do_orm_execute", _before_orm_execute)
    event.remove(Session, "after_commit", _after_commit)
    event.remove(Session, "after_rollback", _forget)
    _installed = False


def _remember(session, keys) -> None:
    session.info.setdefault(_PENDING, set()).update(keys)


def _after_flush(session, flush_context) -> None:
    """ORM objects (the triggerer's ``set_state``): the state history is still pre-flush here."""
    from sqlalchemy import inspect

    from airflow.models.taskinstance import TaskInstance

    ended = set()
    for obj in list(session.dirty) + list(session.new):
        if not isinstance(obj, TaskInstance):
            continue
        added = inspect(obj).attrs.state.history.added
        if added and added[-1] in ENDED_STATES and obj.dag_id and obj.run_id:
            ended.add((obj.dag_id, obj.run_id))
    if ended:
        _remember(session, ended)


def _updated_state(statement) -> Any:
    """The state an ORM ``UPDATE task_instance`` sets, or None if it sets none."""
    for column, value in statement.compile().params.items():
        if column == "state":
            return value
    return None


def _before_orm_execute(orm_execute_state) -> None:
    """ORM UPDATE statements (the Execution API): find the runs before the rows change."""
    if not orm_execute_state.is_update:
        return
    from sqlalchemy import select

    from airflow.models.taskinstance import TaskInstance

    statement = orm_execute_state.statement
    if (getattr(statement, "entity_description", None) or {}).get("entity") is not TaskInstance:
        return
    try:
        state = _updated_state(statement)
    except Exception:  # an UPDATE we cannot read is not ours to judge
        return
    if str(state) not in ENDED_STATES and getattr(state, "value", None) not in ENDED_STATES:
        return
    query = select(TaskInstance.dag_id, TaskInstance.run_id).distinct()
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    keys = {(dag_id, run_id) for dag_id, run_id in orm_execute_state.session.execute(query)}
    if keys:
        _remember(orm_execute_state.session, keys)


def _forget(session) -> None:
    session.info.pop(_PENDING, None)


def _after_commit(session) -> None:
    keys = session.info.pop(_PENDING, None)
    if not keys:
        return
    try:
        examine_soon(session.get_bind(), keys)
    except Exception:  # never break the state change that already committed
        log.exception("Could not ask the scheduler to examine %d run(s) at once", len(keys))


def examine_soon(engine, keys) -> int:
    """Clear ``last_scheduling_decision`` of these running runs: next in the scheduler's queue."""
    from sqlalchemy import and_, or_, update

    from airflow.models.dagrun import DagRun

    keys = sorted(keys)
    table = DagRun.__table__
    changed = 0
    with engine.begin() as connection:
        for start in range(0, len(keys), 100):
            chunk = keys[start : start + 100]
            result = connection.execute(
                update(table)
                .where(table.c.state == "running")
                .where(or_(*(and_(table.c.dag_id == d, table.c.run_id == r) for d, r in chunk)))
                .values(last_scheduling_decision=None)
            )
            changed += result.rowcount or 0
    return changed


# --- the listener Airflow's plugin manager registers (``WartaPlugin.listeners``) ---

try:
    from airflow.listeners import hookimpl
except ImportError:  # pragma: no cover - Airflow is always there in Airflow's processes
    hookimpl = None

if hookimpl is not None:

    @hookimpl
    def on_starting(component) -> None:
        """Airflow's jobs (the scheduler and the triggerer end tasks; the dag-processor
        never does, so the hooks stay idle there) install the hooks; task processes (also
        told ``on_starting``) do not: they have no metadata DB session."""
        if (type(component).__module__, type(component).__name__) == _JOB_CLASS:
            install()
