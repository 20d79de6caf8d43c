"""A run is put at the head of the scheduler's queue when one of its tasks ends.

Against Airflow's own metadata DB (SQLite here) and Airflow's own code paths: the
triggerer's ``handle_event_submit`` with a ``TaskSuccessEvent`` (an ORM flush) and the
Execution API's ``UPDATE task_instance`` (an ORM statement).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from warta.airflow import prompt_scheduling

DAG_ID = "warta_prompt_test"
EXAMINED = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
DAG_VERSION_ID = uuid.uuid4()


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    with create_session() as session:
        if session.get(DagBundleModel, "dags-folder") is None:
            session.add(DagBundleModel(name="dags-folder"))
            session.flush()
        if session.get(DagModel, DAG_ID) is None:
            session.execute(insert(DagModel.__table__).values(
                dag_id=DAG_ID, bundle_name="dags-folder", relative_fileloc="prompt_test.py",
                fileloc="/dags/prompt_test.py", max_active_tasks=16, max_consecutive_failed_dag_runs=0,
                has_task_concurrency_limits=False, is_paused=False, is_stale=False))
            session.flush()
        from airflow.models.dag_version import DagVersion

        session.execute(insert(DagVersion.__table__).values(id=DAG_VERSION_ID, dag_id=DAG_ID, version_number=1))


@pytest.fixture()
def hooks(airflow_db):
    prompt_scheduling.install()
    yield
    prompt_scheduling.uninstall()


def _run(state: str = "running", ti_state: str = "deferred") -> tuple[str, uuid.UUID]:
    """A run examined at EXAMINED with one task instance; returns (run_id, ti_id)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    run_id, ti_id = f"item-{uuid.uuid4().hex[:8]}-round-1", uuid.uuid4()
    with create_session() as session:
        session.execute(insert(DagRun.__table__).values(
            dag_id=DAG_ID, run_id=run_id, run_type="manual", state=state, run_after=EXAMINED - timedelta(hours=1),
            last_scheduling_decision=EXAMINED, clear_number=0, span_status="not_started"))
        session.execute(insert(TaskInstance.__table__).values(
            id=ti_id, dag_id=DAG_ID, run_id=run_id, task_id="menyetujui", map_index=-1, try_number=1,
            max_tries=0, pool="default_pool", pool_slots=1, state=ti_state, queue="default",
            dag_version_id=DAG_VERSION_ID, span_status="not_started"))
    return run_id, ti_id


def _last_decision(run_id: str):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.scalar(select(DagRun.last_scheduling_decision).where(DagRun.run_id == run_id))


def test_a_waiting_step_ended_by_the_triggerer_puts_its_run_first(hooks):
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TaskSuccessEvent
    from airflow.utils.session import create_session

    run_id, ti_id = _run()
    with create_session() as session:  # what Trigger.submit_event does in the triggerer
        ti = session.get(TaskInstance, ti_id)
        handle_event_submit(TaskSuccessEvent(), task_instance=ti, session=session)
    assert _last_decision(run_id) is None


def test_a_task_reported_ended_through_the_execution_api_puts_its_run_first(hooks):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    run_id, ti_id = _run(ti_state="running")
    with create_session() as session:  # the shape of the Execution API's ti_update_state
        session.execute(update(TaskInstance).where(TaskInstance.id == ti_id)
                        .values(state=TaskInstanceState.SUCCESS, next_method=None, next_kwargs=None))
    assert _last_decision(run_id) is None


@pytest.mark.parametrize("values", [{"state": "running"}, {"last_heartbeat_at": EXAMINED}])
def test_a_start_or_a_heartbeat_leaves_the_round_robin_alone(hooks, values):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    run_id, ti_id = _run(ti_state="queued")
    with create_session() as session:
        session.execute(update(TaskInstance).where(TaskInstance.id == ti_id).values(**values))
    assert _last_decision(run_id) == EXAMINED.replace(tzinfo=_last_decision(run_id).tzinfo)


def test_a_rolled_back_end_changes_nothing(hooks):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    run_id, ti_id = _run(ti_state="running")
    with create_session() as session:
        session.execute(update(TaskInstance).where(TaskInstance.id == ti_id).values(state="success"))
        session.rollback()
    assert _last_decision(run_id) is not None


def test_finished_runs_are_not_touched(hooks):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    run_id, ti_id = _run(state="success", ti_state="running")
    with create_session() as session:
        session.execute(update(TaskInstance).where(TaskInstance.id == ti_id).values(state="failed"))
    assert _last_decision(run_id) is not None


def test_without_the_hooks_the_run_waits_its_turn(airflow_db):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    prompt_scheduling.uninstall()
    run_id, ti_id = _run(ti_state="running")
    with create_session() as session:
        session.execute(update(TaskInstance).where(TaskInstance.id == ti_id).values(state="success"))
    assert _last_decision(run_id) is not None


def test_airflow_jobs_install_it_never_a_task_process(monkeypatch):
    from airflow.jobs.job import Job
    from airflow.sdk.execution_time.task_runner import TaskRunnerMarker

    calls = []
    monkeypatch.setattr(prompt_scheduling, "install", lambda: calls.append(1))
    prompt_scheduling.on_starting(component=TaskRunnerMarker())
    assert calls == []
    Job()  # as `airflow scheduler` / `airflow triggerer` start: Airflow tells the plugin's listener
    assert calls == [1]


def test_the_plugin_registers_the_listener():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "plugins" / "warta_plugin.py"
    spec = importlib.util.spec_from_file_location("warta_plugin_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert prompt_scheduling in module.WartaPlugin.listeners


def test_only_this_airflow_side_hook_touches_the_schedulers_bookkeeping():
    """Warta's own code (the service, the web app, the outbox) never writes Airflow's
    metadata DB: the one place naming the column is this module, run by Airflow's processes."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    naming = sorted(str(path.relative_to(root)) for folder in ("include", "plugins", "dags")
                    for path in (root / folder).rglob("*.py")
                    if "last_scheduling_decision" in path.read_text(encoding="utf-8"))
    assert naming == ["include/warta/airflow/prompt_scheduling.py"]
