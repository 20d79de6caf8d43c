"""The monthly report DAG: DagBag integrity, and ``dag.test()`` runs that compile a month
from a seeded editorial DB and store its PDF, XLSX and HTML; the REST API that lists and
serves the stored reports."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pendulum
import pytest

from warta import db
from warta.config import get_config
from warta.service import EditorialService
from warta.storage import Storage

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "warta_laporan_bulanan"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory, airflow_db):
    """An editorial DB and archive storage the DAG's tasks reach through their usual
    configuration (the ``warta_db`` connection and WARTA_STORAGE_URL)."""
    home = tmp_path_factory.mktemp("report-dag")
    url = f"sqlite:///{home / 'warta.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": str(home / "warta.db")}))
    mp.setenv("WARTA_STORAGE_URL", str(home / "files"))
    db.upgrade(url)
    clock = Clock(datetime(2026, 10, 6, 1, 0, tzinfo=timezone.utc))
    yield EditorialService(db.session_factory(url), get_config(), Storage(str(home / "files")), clock=clock)
    mp.undo()


def publish_item(service: EditorialService, title: str, published_at: datetime) -> int:
    """An item through all seven steps, live on the website at ``published_at``."""
    clock = service.clock
    clock.now = published_at - timedelta(minutes=40)
    item_id = service.create_item("pelaksana", title=title, service="bimtek")["id"]
    service.record_step(item_id, "meliput", "pelaksana", notes="Catatan")
    clock.now += timedelta(minutes=10)
    service.record_step(item_id, "menyusun", "pelaksana", body="Naskah berita.")
    clock.now += timedelta(minutes=10)
    service.record_step(item_id, "memeriksa", "operator", body="Naskah berita (koreksi).")
    clock.now += timedelta(minutes=10)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    clock.now = published_at
    publication = service.publication_intent(item_id, "website")
    publication = service.publication_done(publication.id, remote_id=str(item_id),
                                           url=f"https://bsip-babel.example.go.id/berita-{item_id}")
    for step_id in ("updating", "pengecekan", "mendokumentasi"):
        if step_id == "pengecekan":
            service.record_check(publication, ok=True, http_status=200, evidence={})
        service.complete_automatic_step(item_id, 1, step_id, archive_key=f"archive/items/{item_id}")
    return item_id


@pytest.fixture(scope="module")
def dagbag(newsroom):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture
def dag(newsroom):
    """A freshly parsed DAG per test: in one process, dag.test() leaves a run's conf in the
    DAG object's params (a worker parses the file for every task, so runs never share it)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags" / "warta_laporan_bulanan.py")).dags[DAG_ID]


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "laporan.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


# ------------------------------------------------------------------------ integrity
def test_the_dag_parses_with_the_sop_schedule_and_settings(dagbag):
    dag = dagbag.dags[DAG_ID]
    from airflow.sdk import CronTriggerTimetable

    assert dagbag.import_errors == {}
    assert set(dag.tags) == {"warta", "laporan"}
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == "0 0 1 * *" and str(dag.timetable.timezone) == "Asia/Jakarta"
    assert dag.start_date == pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")  # midnight WIB, kept in UTC
    assert dag.max_active_runs == 1 and not dag.catchup
    assert "Laporan Bulanan Updating Website dan Media Sosial" in dag.doc_md and "B-1490" in dag.doc_md
    assert '{"month": "2026-10"}' in dag.doc_md
    assert set(dag.params) == {"month", "lang"} and dag.params["month"] is None and dag.params["lang"] == "id"
    assert [t.task_id for t in dag.tasks] == ["bulan_laporan", "susun_laporan"]
    assert dag.task_dict["susun_laporan"].upstream_task_ids == {"bulan_laporan"}
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id


def test_scheduled_and_backfilled_runs_report_the_month_before_their_logical_date(dag):
    """As the scheduler and `airflow backfill create` see the DAG (serialized): runs at
    00:00 WIB on the 1st, each reporting the month just ended."""
    from airflow.serialization.serialized_objects import DagSerialization

    from warta.report.period import month_to_report

    scheduler_dag = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    runs = list(scheduler_dag.iter_dagrun_infos_between(
        pendulum.datetime(2026, 9, 1, tz="Asia/Jakarta"), pendulum.datetime(2026, 11, 1, tz="Asia/Jakarta")))
    assert [run.logical_date for run in runs] == [
        pendulum.datetime(2026, month, 1, tz="Asia/Jakarta") for month in (9, 10, 11)]
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    reported = [month_to_report(None, run.data_interval.end, now, "Asia/Jakarta").key for run in runs]
    assert reported == ["2026-08", "2026-09", "2026-10"]


# ---------------------------------------------------------------------------- runs
def test_a_triggered_month_is_compiled_and_stored_and_a_rebuild_replaces_it(dag, newsroom, tmp_path):
    storage = Storage.default()
    first_title = "Bimtek budidaya lada putih"
    publish_item(newsroom, first_title, datetime(2026, 10, 6, 2, 0, tzinfo=timezone.utc))
    # 23:30 WIB on 31 October (16:30 UTC): still October.
    publish_item(newsroom, "Temu lapang padi gogo", datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc))

    run = dag.test(run_conf={"month": "2026-10"})

    assert str(run.state) == "success", states(run)
    keys = [f"reports/2026-10/laporan-2026-10.{fmt}" for fmt in ("pdf", "xlsx", "html")]
    assert storage.list("reports") == sorted(keys)
    text = pdf_text(storage.get_bytes(keys[0]), tmp_path)
    assert "Oktober 2026" in text and first_title in text and "Temu lapang padi gogo" in text
    assert storage.get_bytes(keys[1])[:2] == b"PK"
    assert first_title in storage.get_bytes(keys[2]).decode()
    result = [ti for ti in run.get_task_instances() if ti.task_id == "susun_laporan"][0].xcom_pull(
        task_ids="susun_laporan")
    assert result["month"] == "2026-10" and result["items_published"] == 2 and result["files"]["pdf"] == keys[0]

    # A publication recorded late for October: rebuilding the month replaces its files.
    publish_item(newsroom, "Sosialisasi SNI benih", datetime(2026, 10, 20, 3, 0, tzinfo=timezone.utc))
    again = dag.test(run_conf={"month": "2026-10"})
    assert str(again.state) == "success"
    assert storage.list("reports") == sorted(keys)
    assert "Sosialisasi SNI benih" in pdf_text(storage.get_bytes(keys[0]), tmp_path)

    # Each build is sent to the report's readers through the alert channels.
    from sqlalchemy import select

    from warta.models import Alert

    with newsroom.sessions() as session:
        sent = session.scalars(select(Alert).where(Alert.kind == "report")).all()
    assert len(sent) == 2
    assert set(sent[0].recipients) == {"kepala", "subkoor"}
    assert "/warta/api/v1/reports/2026-10/pdf" in sent[0].message


def test_a_run_without_a_month_reports_the_month_before_its_logical_date(dag, newsroom, tmp_path):
    storage = Storage.default()
    publish_item(newsroom, "Pameran inovasi pertanian", datetime(2026, 9, 15, 2, 0, tzinfo=timezone.utc))

    # As the scheduler runs it at 00:00 WIB on 1 October: September.
    run = dag.test(logical_date=pendulum.datetime(2026, 10, 1, tz="Asia/Jakarta"), run_conf={"lang": "en"})

    assert str(run.state) == "success", states(run)
    text = pdf_text(storage.get_bytes("reports/2026-09/laporan-2026-09-en.pdf"), tmp_path)
    assert "September 2026" in text and "Pameran inovasi pertanian" in text and "Monthly Report" in text


def test_an_empty_month_gives_a_report_not_an_error(dag, tmp_path):
    run = dag.test(run_conf={"month": "2026-07"})
    assert str(run.state) == "success", states(run)
    text = pdf_text(Storage.default().get_bytes("reports/2026-07/laporan-2026-07.pdf"), tmp_path)
    assert "Juli 2026" in text and "Tidak ada kegiatan yang tercatat pada bulan ini" in text


def test_a_month_that_is_not_over_fails_without_retrying(dag):
    next_month = (datetime.now(timezone.utc) + timedelta(days=40)).strftime("%Y-%m")
    run = dag.test(run_conf={"month": next_month})
    assert str(run.state) == "failed"
    task_states = states(run)
    assert task_states["bulan_laporan"] == "failed" and task_states["susun_laporan"] == "upstream_failed"
    assert not Storage.default().exists(f"reports/{next_month}/laporan-{next_month}.pdf")


# -------------------------------------------------------------------------- REST API
@pytest.fixture
def api(newsroom):
    from fastapi.testclient import TestClient

    from warta.airflow.web_auth import create_airflow_web_app
    from warta.web import deps

    app = create_airflow_web_app()
    app.dependency_overrides[deps.api_user] = lambda: "subkoor"
    app.dependency_overrides[deps.page_user] = lambda: "subkoor"
    return TestClient(app)


def test_the_desk_lists_and_downloads_stored_reports(api, newsroom, dag):
    dag.test(run_conf={"month": "2026-10"})

    listing = api.get("/api/v1/reports")
    assert listing.status_code == 200
    october = next(entry for entry in listing.json() if entry["month"] == "2026-10")
    assert october["languages"]["id"] == ["html", "pdf", "xlsx"]
    assert october["files"]["id"]["pdf"] == "/warta/api/v1/reports/2026-10/pdf?lang=id"

    pdf = api.get("/api/v1/reports/2026-10/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="laporan-2026-10.pdf"'
    xlsx = api.get("/api/v1/reports/2026-10/xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert api.get("/api/v1/reports/2020-01/pdf").status_code == 404
    assert api.get("/api/v1/reports/2026-10/docx").status_code == 422
    assert api.get("/api/v1/reports/2026-13/pdf").status_code == 422

    page = api.get("/desk/reports")  # the desk page people download from
    assert page.status_code == 200
    assert 'href="/warta/api/v1/reports/2026-10/pdf?lang=id"' in page.text


def test_reports_need_a_login(newsroom):
    from fastapi.testclient import TestClient

    from warta.airflow.web_auth import create_airflow_web_app

    response = TestClient(create_airflow_web_app()).get("/api/v1/reports")
    assert response.status_code in (401, 403)
