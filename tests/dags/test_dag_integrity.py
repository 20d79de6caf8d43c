"""DagBag integrity: the DAG files import cleanly, touch no database or connection while
parsing, and carry what the SOP asks (display names, tags, retries, docs)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import yaml

from warta.config import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "warta_berita" in dagbag.dags


def test_parsing_touches_no_database_connection_or_network(monkeypatch):
    import sqlalchemy
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook

    def forbidden(*args, **kwargs):
        raise AssertionError("I/O at parse time")

    monkeypatch.setattr(sqlalchemy, "create_engine", forbidden)
    monkeypatch.setattr("warta.db.create_engine", forbidden)
    monkeypatch.setattr(BaseHook, "get_connection", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert "warta_berita" in bag.dags


def test_tasks_carry_the_sop_step_names(dagbag):
    dag = dagbag.dags["warta_berita"]
    config = load_config()
    for step in config.steps:
        task = dag.task_dict[step.task_id]
        assert task.task_display_name == f"{step.number}. {step.name_id}"
    assert dag.task_dict["menyetujui"].task_display_name.endswith(
        "Menyetujui atau menolak bahan berita untuk diterbitkan"
    )


def test_dag_settings(dagbag):
    dag = dagbag.dags["warta_berita"]
    assert dag.schedule is None
    assert {"warta", "sop"} <= set(dag.tags)
    assert "Mutu baku" in dag.doc_md and "B-1490" in dag.doc_md
    assert dag.max_active_runs >= 1000
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id


def test_human_steps_begin_in_the_triggerer(dagbag):
    from warta.airflow.sensors import StepRecordSensor

    dag = dagbag.dags["warta_berita"]
    human = {s.id: s for s in load_config().human_steps}
    assert [t.task_id for t in dag.tasks if isinstance(t, StepRecordSensor)] == list(human)
    for step_id, step in human.items():
        sensor = dag.task_dict[step_id]
        assert sensor.start_from_trigger is True
        args = sensor.start_trigger_args
        assert args.trigger_cls == "warta.airflow.triggers.StepRecordTrigger"
        assert args.timeout is None  # people may take days; the SOP clock tracks lateness
        kwargs = args.trigger_kwargs
        assert kwargs["step_id"] == step_id
        # Templates the triggerer renders: they must be template fields of the sensor.
        assert kwargs["item_id"] == "{{ dag_run.conf['item_id'] }}"
        assert {"item_id", "round_number"} <= set(sensor.template_fields)
        expected_round = 1 if step.once_per_item else "{{ dag_run.conf.get('round', 1) }}"
        assert kwargs["round_number"] == expected_round


def test_start_from_trigger_survives_serialization(dagbag):
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags["warta_berita"]))
    sensor = dag.get_task("menyusun")
    assert sensor.start_from_trigger is True
    kwargs = sensor.start_trigger_args.trigger_kwargs
    kwargs = kwargs.get("__var", kwargs)  # kept BaseSerialization-encoded, as the scheduler stores it
    assert kwargs["round_number"] == "{{ dag_run.conf.get('round', 1) }}"


def test_the_dag_file_imports_nothing_heavy():
    """Task processes import the DAG file: no next-round operator, no web app."""
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, %r); import warta_berita; "
            "heavy = [m for m in ('airflow.providers.standard.operators.trigger_dagrun', 'fastapi', "
            "'warta.web.app', 'warta.service') if m in sys.modules]; print('RESULT', heavy)") % str(REPO / "dags")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert [line for line in out.splitlines() if line.startswith("RESULT")] == ["RESULT []"]


def test_the_plugin_builds_its_web_app_only_when_the_api_server_reads_it():
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, %r); import warta_plugin; "
            "print('RESULT', 'fastapi' in sys.modules, 'warta.web.app' in sys.modules); "
            "apps = warta_plugin.WartaPlugin.fastapi_apps; "
            "print('RESULT', type(apps[0]['app']).__name__, apps[0]['url_prefix'], apps is warta_plugin.WartaPlugin.fastapi_apps)"
            ) % str(REPO / "plugins")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert [line for line in out.splitlines() if line.startswith("RESULT")] == [
        "RESULT False False", "RESULT FastAPI /warta True"]


def test_graph_is_the_sop_with_a_revision_branch(dagbag):
    dag = dagbag.dags["warta_berita"]
    chain = ["meliput", "menyusun", "memeriksa", "menyetujui"]
    for upstream, downstream in zip(chain, chain[1:]):
        assert downstream in dag.task_dict[upstream].downstream_task_ids
    # The decision and both channel lists only read the editorial DB: side by side, one
    # scheduler hop after the approval.
    assert dag.task_dict["menyetujui"].downstream_task_ids == {"keputusan", "kanal", "kanal_bertautan"}
    assert dag.task_dict["keputusan"].downstream_task_ids == {"updating", "menunggu_jadwal_tayang",
                                                               "kembali_ke_pelaksana"}
    assert dag.task_dict["updating"].upstream_task_ids == {"keputusan", "kanal", "menunggu_jadwal_tayang"}
    assert dag.task_dict["menunggu_jadwal_tayang"].upstream_task_ids == {"keputusan"}
    assert "mendokumentasi" in dag.task_dict["pengecekan"].downstream_task_ids
    # Channels that link to the website publish after it and take its address from its XCom.
    assert dag.task_dict["updating_bertautan"].upstream_task_ids == {"updating", "kanal_bertautan"}
    assert dag.task_dict["updating_bertautan"].trigger_rule == "none_skipped"
    assert dag.task_dict["mendokumentasi"].upstream_task_ids == {"pengecekan", "pengecekan_bertautan"}
    assert "alamat_situs" not in dag.task_dict


def _copy_config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder)
    return folder


def _edit_step(folder: Path, step_id: str, **changes) -> None:
    path = folder / "sop.yaml"
    doc = yaml.safe_load(path.read_text())
    for step in doc["steps"]:
        if step["id"] == step_id:
            step.update(changes)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


def test_editing_the_sop_config_changes_the_dag_without_code(tmp_path, monkeypatch):
    folder = _copy_config(tmp_path)
    _edit_step(folder, "memeriksa", standard_time="2h", role="subkoordinator", name_id="Memeriksa naskah berita")
    monkeypatch.setenv("WARTA_CONFIG_DIR", str(folder))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    dag = bag.dags["warta_berita"]
    assert dag.task_dict["memeriksa"].task_display_name == "3. Memeriksa naskah berita"
    assert "| 3 | Memeriksa naskah berita | Subkoordinator | 2 jam |" in dag.doc_md


def test_the_schedule_wait_is_its_own_task_beginning_in_the_triggerer(dagbag):
    """Jadwal tayang: a scheduled item waits at its own task, deferred from the start (no
    worker slot); an unscheduled one goes from the decision straight to the channels."""
    from warta.airflow.schedule_wait import PublicationTimeSensor

    dag = dagbag.dags["warta_berita"]
    wait = dag.task_dict["menunggu_jadwal_tayang"]
    assert isinstance(wait, PublicationTimeSensor) and wait.start_from_trigger is True
    assert wait.start_trigger_args.trigger_cls == "warta.airflow.schedule_wait.PublicationTimeTrigger"
    assert wait.start_trigger_args.timeout is None
    assert wait.task_display_name == "Menunggu jadwal tayang"
    assert dag.task_dict["menunggu_jadwal_tayang"].upstream_task_ids == {"keputusan"}
    assert dag.task_dict["updating"].upstream_task_ids == {"keputusan", "kanal", "menunggu_jadwal_tayang"}
    assert dag.task_dict["updating"].trigger_rule == "none_failed_min_one_success"

