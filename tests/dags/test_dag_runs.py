"""End-to-end runs of the per-item DAG with ``dag.test()``: tasks run in-process, the
human-step triggers run inline, publishing goes to the WordPress contract fake."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.fakes.wordpress import airflow_connection_json, png_bytes, serve_fake_wordpress
from warta import db
from warta.config import get_config
from warta.service import EditorialService, Upload
from warta.storage import Storage

APP_PASSWORD = "abcd efgh ijkl mnop"


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="module")
def wordpress():
    site = serve_fake_wordpress(application_password=APP_PASSWORD)
    yield site
    site.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory, wordpress, airflow_db):
    home = tmp_path_factory.mktemp("editorial")
    url = f"sqlite:///{home / 'warta.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": str(home / "warta.db")}))
    mp.setenv("AIRFLOW_CONN_WARTA_WEBSITE", airflow_connection_json(wordpress, login="warta", password=APP_PASSWORD))
    mp.setenv("WARTA_STORAGE_URL", str(home / "files"))
    db.upgrade(url)
    yield EditorialService(db.session_factory(url), get_config(), Storage(str(home / "files")))
    mp.undo()


@pytest.fixture(scope="module")
def dag(service):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    return bag.dags["warta_berita"]


def _new_item(service, title="Kunjungan agro eduwisata SMAN 1 Pangkalpinang") -> int:
    item = service.create_item(
        "pelaksana", title=title, activity_date="2026-11-20", service="agro_eduwisata",
        uploads=[Upload("kebun.png", png_bytes(), caption="Siswa di kebun")],
    )
    return item["id"]


def _up_to_check(service, item_id, round_number=1):
    if round_number == 1:
        service.record_step(item_id, "meliput", "pelaksana", notes="Foto dan catatan lengkap")
    service.record_step(item_id, "menyusun", "pelaksana", title="Siswa belajar di kebun percontohan",
                        body=f"Putaran {round_number}.\n\nSiswa SMAN 1 belajar budidaya cabai.")
    service.record_step(item_id, "memeriksa", "operator", body="Siswa SMAN 1 belajar budidaya cabai (dikoreksi).")


def _states(dag_run) -> dict[str, str]:
    states: dict[str, set[str]] = {}
    for ti in dag_run.get_task_instances():
        states.setdefault(ti.task_id, set()).add(str(ti.state))
    return {task: ",".join(sorted(values)) for task, values in states.items()}


def test_happy_path_publishes_checks_and_archives(dag, service, wordpress):
    item_id = _new_item(service)
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")

    run = dag.test(run_conf={"item_id": item_id, "round": 1})

    assert str(run.state) == "success"
    states = _states(run)
    for task in ("meliput", "menyusun", "memeriksa", "menyetujui", "keputusan", "kanal", "kanal_bertautan",
                 "updating", "pengecekan", "mendokumentasi"):
        assert states[task] == "success", (task, states)
    assert states["kembali_ke_pelaksana"] == "skipped"
    # No channel links to the website: the linked group maps to nothing.
    assert states["updating_bertautan"] == "skipped"

    history = service.history(item_id)
    assert history["current_step"] == "selesai" and history["status"] == "done"
    [publication] = history["publications"]
    assert publication["status"] == "published" and publication["url"].startswith(wordpress.base_url)
    assert [c["ok"] for c in history["checks"]] == [True]
    assert {t["step"] for t in history["timings"] if t["ended_at"]} == {s.id for s in get_config().steps}
    posts = [p for p in wordpress.fake.published_posts() if p.title == "Siswa belajar di kebun percontohan"]
    assert len(posts) == 1 and posts[0].featured_media
    manifest = json.loads(service.storage.get_bytes(f"archive/items/{item_id}/manifest.json"))
    assert manifest["publications"][0]["url"] == publication["url"]
    assert any(key.endswith("kebun.png") for key in manifest["files"])

    # Running the whole round again changes nothing: no second post, same archive.
    again = dag.test(run_conf={"item_id": item_id, "round": 1})
    assert str(again.state) == "success"
    assert len([p for p in wordpress.fake.published_posts() if p.title == posts[0].title]) == 1


def test_reject_revise_approve_runs_two_rounds(dag, service, wordpress):
    from sqlalchemy import select

    from warta.models import RunRequest

    item_id = _new_item(service, title="Bimtek budidaya padi")
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="reject", reason="Tambahkan kutipan narasumber")

    first = dag.test(run_conf={"item_id": item_id, "round": 1})
    assert str(first.state) == "success"
    states = _states(first)
    assert states["kembali_ke_pelaksana"] == "success"
    assert states["updating"] == "skipped" and states["mendokumentasi"] == "skipped"
    assert states["updating_bertautan"] == "skipped"
    # The next round is queued in the outbox, for the outbox loop to start.
    with service.sessions() as session:
        requests = session.scalars(select(RunRequest).where(RunRequest.item_id == item_id)).all()
        assert [(r.round, r.run_id, r.started_at) for r in requests] == [
            (1, f"item-{item_id}-round-1", None), (2, f"item-{item_id}-round-2", None)]
    assert service.get_item(item_id)["current_step"] == "menyusun"
    assert service.get_item(item_id)["run_state"] == "queued"

    _up_to_check(service, item_id, round_number=2)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    second = dag.test(run_conf={"item_id": item_id, "round": 2})
    assert str(second.state) == "success"
    assert _states(second)["mendokumentasi"] == "success"

    history = service.history(item_id)
    assert history["revision_rounds"] == 2 and history["rejections"] == 1
    assert [m["version"] for m in history["manuscripts"]] == [1, 2, 3, 4]
    assert [(r["step"], r["round"], r["decision"]) for r in history["records"] if r["step"] == "menyetujui"] == [
        ("menyetujui", 1, "rejected"), ("menyetujui", 2, "approved"),
    ]
    assert history["publications"][0]["status"] == "published"


def test_sensor_waits_for_a_decision_recorded_while_it_is_deferred(dag, service):
    item_id = _new_item(service, title="Layanan UPBS benih padi")
    _up_to_check(service, item_id)

    def decide_later():
        time.sleep(2)
        service.record_step(item_id, "menyetujui", "subkoor", decision="approve")

    thread = threading.Thread(target=decide_later)
    thread.start()
    started = time.monotonic()
    run = dag.test(run_conf={"item_id": item_id, "round": 1})
    thread.join()
    assert time.monotonic() - started >= 2
    assert str(run.state) == "success"
    assert service.get_item(item_id)["current_step"] == "selesai"


@pytest.fixture(scope="module")
def social(service, tmp_path_factory):
    """The Graph API and X contract fakes, with the channels' Airflow Connections."""
    from tests.fakes.graph import graph_connection_json, serve_fake_graph
    from tests.fakes.x import serve_fake_x, x_connection_json

    graph = serve_fake_graph(tokens=("dag-test-token",))
    x_api = serve_fake_x(client_id="warta-app", refresh_token="dag-test-refresh")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(graph, token="dag-test-token",
                                                                   page_id=graph.fake.page_id))
    mp.setenv("AIRFLOW_CONN_WARTA_INSTAGRAM", graph_connection_json(graph, token="dag-test-token",
                                                                    ig_user_id=graph.fake.ig_user_id))
    mp.setenv("AIRFLOW_CONN_WARTA_X", x_connection_json(x_api, client_id="warta-app", refresh_token="dag-test-refresh"))
    yield graph.fake, x_api.fake
    mp.undo()
    graph.stop()
    x_api.stop()


def _mapped_states(dag_run, task_id: str, channels: list[str]) -> dict[str, str]:
    """State per channel (a task that never ran has no rendered label: use its map index)."""
    return {channels[ti.map_index]: str(ti.state) for ti in dag_run.get_task_instances() if ti.task_id == task_id}


def test_a_failing_channel_stops_neither_the_other_channels_nor_their_checks(dag, service, wordpress, social):
    graph, x_api = social
    graph.expire_token("dag-test-token")
    item_id = service.create_item(
        "pelaksana", title="Panen raya lada", channels=["facebook", "x", "website"],
        uploads=[Upload("lada.png", png_bytes(10, 150, 20), caption="Panen lada")],
    )["id"]
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")

    run = dag.test(run_conf={"item_id": item_id, "round": 1})

    assert str(run.state) == "failed"
    # The website publishes at once; Facebook and X link to it, so they publish after it.
    assert _mapped_states(run, "updating", ["website"]) == {"website": "success"}
    linked = ["facebook", "x"]
    assert _mapped_states(run, "updating_bertautan", linked) == {"facebook": "failed", "x": "success"}
    assert _mapped_states(run, "pengecekan_bertautan", linked) == {"facebook": "upstream_failed", "x": "success"}
    assert _mapped_states(run, "pengecekan", ["website"]) == {"website": "success"}
    assert _states(run)["mendokumentasi"] == "upstream_failed"
    history = service.history(item_id)
    failed = {p["channel"]: p["error"] for p in history["publications"] if p["status"] == "failed"}
    assert list(failed) == ["facebook"] and "warta_facebook" in failed["facebook"]
    website_url = next(p["url"] for p in history["publications"] if p["channel"] == "website")
    [tweet] = [t for t in x_api.timeline() if t.text.startswith("Siswa belajar di kebun percontohan")]
    assert website_url in tweet.text  # the address came from the website's task, through XCom

    # The operator puts a new token in the connection and runs the round again.
    graph.valid_tokens.add("dag-test-token")
    graph.expired_tokens.clear()
    again = dag.test(run_conf={"item_id": item_id, "round": 1})
    assert str(again.state) == "success"
    assert service.get_item(item_id)["current_step"] == "selesai"
    assert len(x_api.timeline()) == 1 and len(graph.page_posts()) == 1
    assert {c["channel"] for c in service.history(item_id)["checks"] if c["ok"]} == {"website", "facebook", "x"}
