"""The service-level DAG end to end with ``dag.test()``: an overdue step and a stale
website are alerted through Airflow's SMTP and Apprise notifiers to a real local SMTP
server and a fake chat endpoint, once, however often the DAG runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fakes.notify import ChatEndpoint, SmtpSink
from warta import db
from warta.config import get_config
from warta.models import Alert
from warta.service import EditorialService
from warta.storage import Storage

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def chat():
    endpoint = ChatEndpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory, airflow_db, smtp, chat):
    home = tmp_path_factory.mktemp("editorial-layanan")
    url = f"sqlite:///{home / 'warta.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": str(home / "warta.db")}))
    mp.setenv("AIRFLOW_CONN_WARTA_SMTP", smtp.connection_json())
    # Every user's chat tag is their username; one chat target stands for all of them here.
    mp.setenv("AIRFLOW_CONN_WARTA_CHAT", chat.connection_json({"all": "/desk"}))
    mp.setenv("WARTA_STORAGE_URL", str(home / "files"))
    db.upgrade(url)
    # Thirty days ago: every step it started is long overdue, the website long stale.
    past = datetime.now(timezone.utc) - timedelta(days=30)
    yield EditorialService(db.session_factory(url), get_config(), Storage(str(home / "files")), clock=lambda: past)
    mp.undo()


@pytest.fixture(scope="module")
def dag(service):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    return bag.dags["warta_layanan"]


def test_dag_settings(dag):
    assert dag.schedule == "*/5 * * * *"
    assert dag.catchup is False and dag.max_active_runs == 1
    assert {t.task_id for t in dag.tasks} == {"langkah_sop", "kemutakhiran_kanal", "versi_graph_api"}


def test_overdue_step_and_stale_website_are_alerted_once(dag, service, smtp):
    item_id = service.create_item("pelaksana", title="Kunjungan agro eduwisata SMAN 1")["id"]

    run = dag.test()
    assert str(run.state) == "success"
    with service.sessions() as session:
        alerts = {(a.kind, a.step_id or a.publishing_channel): a for a in session.scalars(select(Alert))}
    assert set(alerts) == {("breach", "meliput"), ("escalation", "meliput"), ("freshness", "website")}
    breach = alerts[("breach", "meliput")]
    assert breach.item_id == item_id and breach.sent_at is not None
    assert breach.recipients == ["admin", "pelaksana", "pelaksana2"]
    subjects = [m.subject for m in smtp.to("pelaksana@warta.localhost")]
    assert any(s.startswith("[Warta] Terlambat: langkah 1") and f"#{item_id}" in s for s in subjects)
    assert any("Eskalasi" in m.subject for m in smtp.to("subkoor@warta.localhost"))
    assert any("Website belum diperbarui" in m.subject for m in smtp.to("operator@warta.localhost"))
    received = len(smtp.messages)

    # The next scheduled run (or a restarted scheduler) alerts nothing again.
    again = dag.test()
    assert str(again.state) == "success"
    with service.sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 3
    assert len(smtp.messages) == received


def test_chat_users_are_reached_through_the_apprise_connection(dag, service, chat, monkeypatch, tmp_path):
    import shutil

    import yaml

    from warta.config import load_config

    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder)
    users = yaml.safe_load((folder / "users.yaml").read_text())
    users["users"]["operator"].update(notify="chat", chat_tag="all")
    (folder / "users.yaml").write_text(yaml.safe_dump(users))
    monkeypatch.setenv("WARTA_CONFIG_DIR", str(folder))
    assert load_config(folder).users["operator"].notify == "chat"
    item_id = service.create_item("pelaksana", title="Bimtek budidaya cabai")["id"]
    service.record_step(item_id, "meliput", "pelaksana", notes="Catatan")
    service.record_step(item_id, "menyusun", "pelaksana", title="Judul", body="Naskah")

    run = dag.test()
    assert str(run.state) == "success"
    posted = [p for p in chat.received if f"#{item_id}" in p["title"]]
    assert posted and all(p["path"] == "/desk" for p in posted)
    assert any("Memeriksa bahan berita" in p["message"] for p in posted)
