"""The SOP end to end on the production topology: intake → four human steps (with one
rejection and a revision round) → publishing to the website and three social networks →
online check → archive, with the run's tasks spread over both Celery workers, assets and
archives in object storage, and every login through the FAB auth manager."""

from __future__ import annotations

import io
import json
import subprocess
import time

import httpx
import pytest
from PIL import Image

from tests.system.conftest import wait_until

pytestmark = pytest.mark.distributed

CHANNELS = ("website", "facebook", "instagram", "x")


def _jpeg(width: int = 1200, height: int = 800) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_components_run_on_postgres_redis_and_celery_with_two_workers(cluster):
    health = httpx.get(f"{cluster.url}/api/v2/monitor/health", timeout=10).json()
    assert {health[c]["status"] for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {"healthy"}
    env = cluster.env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "1"
    assert {name.split("@")[0] for name in cluster.celery_ping()} == {"worker1", "worker2"}
    assert set(cluster.processes) >= {"api-server", "scheduler", "dag-processor", "triggerer", "outbox", "worker1",
                                      "worker2"}


def test_logins_go_through_fab_with_the_sop_roles_mapped(cluster, people):
    login_page = httpx.get(f"{cluster.url}/auth/login/", timeout=10, follow_redirects=True)
    assert login_page.status_code == 200
    wrong = httpx.post(f"{cluster.url}/auth/token", json={"username": "pelaksana", "password": "wrong"}, timeout=10)
    assert wrong.status_code in (401, 403)
    admin = people["admin"]
    roles = admin.http.get("/auth/fab/v1/roles", params={"limit": 100}).json()
    names = {role["name"] for role in roles["roles"]}
    assert {"Pelaksana Kegiatan", "Operator Website dan Media Sosial", "Subkoordinator"} <= names
    users = {u["username"]: {r["name"] for r in u["roles"]}
             for u in admin.http.get("/auth/fab/v1/users", params={"limit": 100}).json()["users"]}
    assert users["pelaksana"] == {"Pelaksana Kegiatan"}
    assert users["subkoor"] == {"Subkoordinator"}
    assert users["kepala"] == {"Viewer"}
    assert "Admin" in users["admin"]
    # The head of the unit reads; only the SOP's reporters (and admins) start runs.
    kepala_trigger = people["kepala"].http.post("/api/v2/dags/warta_berita/dagRuns",
                                                json={"logical_date": None, "dag_run_id": "kepala-try"})
    assert kepala_trigger.status_code == 403
    assert people["kepala"].http.get("/warta/api/v1/me").json()["roles"] == []


def test_users_sync_is_idempotent(cluster):
    synced = subprocess.run([str(cluster.bin / "warta"), "--json", "users", "sync", "--passwords-file",
                             str(cluster.home / "passwords.json")], env=cluster.env(), capture_output=True,
                            text=True, timeout=120)
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["created"] == [] and report["updated"] == []
    assert "pelaksana" in report["unchanged"]


def test_news_item_end_to_end_on_both_workers_with_assets_in_object_storage(cluster, people, channels):
    reporter, operator, approver = people["pelaksana"], people["operator"], people["subkoor"]
    photo = _jpeg()
    created = reporter.http.post(
        "/warta/api/v1/intake",
        data={"title": "Temu lapang varietas padi Inpari", "service": "bimtek", "activity_date": "2026-11-25",
              "place": "Desa Namang", "channels": list(CHANNELS)},
        files=[("files", ("temu-lapang.jpg", photo, "image/jpeg"))],
    )
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    [asset] = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()["assets"]
    assert any(key.startswith(f"warta/items/{item_id}/assets/") for key in cluster.object_store.keys())
    assert reporter.http.get(f"/warta/api/v1/items/{item_id}/assets/{asset['id']}").content == photo

    def park(round_number: int, step: str) -> None:
        wait_until(lambda: reporter.ti_state(item_id, round_number, step) == "deferred", timeout=120,
                   what=f"{step} of round {round_number} to wait")

    park(1, "meliput")
    assert reporter.record(item_id, "meliput", notes="Foto dan wawancara petani").status_code == 200
    assert reporter.record(item_id, "menyusun", title="Petani Namang panen Inpari 32",
                           body="Paragraf pembuka.\n\nParagraf isi.").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    rejected = approver.record(item_id, "menyetujui", decision="reject", reason="Sebutkan hasil ubinan")
    assert rejected.status_code == 200, rejected.text
    # The next round is started by the pipeline's service login (FAB) through Airflow's REST API.
    park(2, "menyusun")
    assert reporter.record(item_id, "menyusun", title="Petani Namang panen Inpari 32: 7,2 ton per hektare",
                           body="Hasil ubinan 7,2 ton GKP per hektare.\n\nParagraf isi.").status_code == 200
    park(2, "memeriksa")
    assert operator.record(item_id, "memeriksa").status_code == 200
    park(2, "menyetujui")
    assert approver.record(item_id, "menyetujui", decision="approve").status_code == 200

    wait_until(lambda: reporter.run_state(item_id, 2) in ("success", "failed"), timeout=240, what="round 2 to end")
    assert reporter.run_state(item_id, 2) == "success"
    item = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()
    assert item["current_step"] == "selesai" and item["revision_rounds"] == 2
    assert {p["channel"]: p["status"] for p in item["publications"]} == {c: "published" for c in CHANNELS}
    assert all(check["ok"] for check in item["checks"])
    website_posts = [p for p in channels["website"].fake.published_posts() if p.title.startswith("Petani Namang")]
    assert len(website_posts) == 1

    archived = [key for key in cluster.object_store.keys(f"warta/{item['archive_key']}/")]
    assert archived, "the archive is in object storage"

    for round_number in (1, 2):
        instances = reporter.http.get(
            f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-{round_number}/taskInstances",
            params={"limit": 100}).json()["task_instances"]
        assert not [ti for ti in instances if ti["state"] == "failed"]
        if round_number == 2:  # the publishing run: its tasks ran on both workers
            hosts = {ti["hostname"] for ti in instances if ti["hostname"]}
            assert hosts == {"worker1", "worker2"}, hosts


def test_a_second_scheduler_and_triggerer_take_over_when_the_first_ones_die(cluster, people):
    """High availability as README "Production deployment" describes it: schedulers and
    triggerers run active-active; when a host is lost (SIGKILL, no goodbye) the survivors
    carry on, including the wait of an item parked at a human step by the lost triggerer.
    Runs last: it leaves the cluster with the second scheduler and triggerer."""
    from warta_dev.devstack import free_port

    reporter, operator, approver = people["pelaksana"], people["operator"], people["subkoor"]
    item_id = reporter.create(title="Uji ketersediaan tinggi", channels=["website"])["id"]
    wait_until(lambda: reporter.ti_state(item_id, 1, "meliput") == "deferred", timeout=120, what="the item to park")

    cluster.start_component("scheduler-2", "scheduler")
    cluster.start_component("triggerer-2", "triggerer",
                            {"AIRFLOW__LOGGING__TRIGGERER_LOG_SERVER_PORT": str(free_port())})
    time.sleep(15)  # both have started and heartbeated
    cluster.kill_component("scheduler")
    cluster.kill_component("triggerer")

    assert reporter.record(item_id, "meliput", notes="Setelah failover").status_code == 200
    # The lost triggerer's trigger moves once its heartbeat is stale (30 s by default).
    wait_until(lambda: reporter.ti_state(item_id, 1, "meliput") == "success", timeout=180,
               what="the parked wait to end on the surviving triggerer")
    wait_until(lambda: reporter.ti_state(item_id, 1, "menyusun") == "deferred", timeout=120,
               what="the surviving scheduler to start the next step")
    assert reporter.record(item_id, "menyusun", title="Uji HA", body="Isi naskah.").status_code == 200
    wait_until(lambda: reporter.ti_state(item_id, 1, "memeriksa") == "deferred", timeout=120, what="memeriksa")
    assert operator.record(item_id, "memeriksa").status_code == 200
    wait_until(lambda: reporter.ti_state(item_id, 1, "menyetujui") == "deferred", timeout=120, what="menyetujui")
    assert approver.record(item_id, "menyetujui", decision="approve").status_code == 200
    wait_until(lambda: reporter.run_state(item_id, 1) in ("success", "failed"), timeout=240, what="the run to end")
    assert reporter.run_state(item_id, 1) == "success"
    cluster.check_alive()
