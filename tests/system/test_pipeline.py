"""System tests against a running stack: REST API, CLI, the scheduler and triggerer moving
items through the SOP, and publishing to the website fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.conftest import wait_until

pytestmark = pytest.mark.system

HUMAN_STEPS = ("meliput", "menyusun", "memeriksa", "menyetujui")


def test_plugin_api_requires_airflow_login(stack):
    import httpx

    for path in ("/warta/api/v1/me", "/warta/api/v1/items/1", "/warta/api/v1/inbox"):
        assert httpx.get(stack.url + path).status_code == 401
    assert httpx.post(stack.url + "/warta/api/v1/items", json={"title": "x"}).status_code == 401
    bad = httpx.get(stack.url + "/warta/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code in (401, 403)
    spec = httpx.get(stack.url + "/warta/api/v1/openapi.json").json()
    assert "/api/v1/items/{item_id}/steps/{step_id}" in spec["paths"]


def test_item_with_a_rejection_runs_two_rounds_and_is_published_once(stack, users, website):
    reporter, operator, approver = users["pelaksana"], users["operator"], users["subkoor"]
    item = reporter.create(title="Kunjungan agro eduwisata SMAN 1", service="agro_eduwisata",
                           activity_date="2026-11-20", place="Kebun percontohan")
    item_id = item["id"]
    assert item["run_id"] == f"item-{item_id}-round-1"
    wait_until(lambda: reporter.run_state(item_id, 1), what="round 1 run")

    assert reporter.record(item_id, "meliput", notes="Foto lengkap").status_code == 200
    assert reporter.record(item_id, "menyusun", title="Siswa belajar budidaya cabai",
                           body="Paragraf satu.\n\nParagraf dua.").status_code == 200
    assert operator.record(item_id, "memeriksa", body="Paragraf satu (dikoreksi).\n\nParagraf dua.").status_code == 200
    rejected = approver.record(item_id, "menyetujui", decision="reject", reason="Tambahkan kutipan narasumber")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["next"] == {"step": "menyusun", "round": 2}

    wait_until(lambda: reporter.run_state(item_id, 1) == "success", what="round 1 to end")
    assert reporter.ti_state(item_id, 1, "kembali_ke_pelaksana") == "success"
    assert reporter.ti_state(item_id, 1, "mendokumentasi") == "skipped"
    wait_until(lambda: reporter.ti_state(item_id, 2, "menyusun") == "deferred", what="round 2 to wait")
    inbox = reporter.http.get("/warta/api/v1/inbox").json()
    assert any(row["id"] == item_id and row["round"] == 2 for row in inbox)

    assert reporter.record(item_id, "menyusun", title="Siswa SMAN 1 belajar budidaya cabai",
                           body="Kata kepala sekolah: 'Sangat bermanfaat.'\n\nParagraf dua.").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    assert approver.record(item_id, "menyetujui", decision="approve").status_code == 200

    wait_until(lambda: reporter.run_state(item_id, 2) == "success", timeout=120, what="round 2 to finish")
    history = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()
    assert history["current_step"] == "selesai"
    assert history["revision_rounds"] == 2 and history["rejections"] == 1
    [publication] = history["publications"]
    assert publication["status"] == "published" and publication["url"].startswith(website.base_url)
    assert history["checks"][-1]["ok"] is True
    assert history["archive_key"] == f"archive/items/{item_id}"
    assert all(t["ended_at"] for t in history["timings"])
    posts = [p for p in website.fake.published_posts() if p.title == "Siswa SMAN 1 belajar budidaya cabai"]
    assert len(posts) == 1


def test_rest_api_refuses_what_the_sop_does_not_allow(stack, users):
    reporter, operator, approver, admin = (users[u] for u in ("pelaksana", "operator", "subkoor", "admin"))
    item_id = reporter.create(title="Bimtek pengolahan lada")["id"]

    wrong_role = operator.record(item_id, "meliput")
    assert wrong_role.status_code == 403 and wrong_role.json()["error"] == "forbidden"
    not_waiting = reporter.record(item_id, "menyusun", title="t", body="b")
    assert not_waiting.status_code == 409
    assert reporter.record(item_id, "meliput").status_code == 200
    assert reporter.record(item_id, "meliput").status_code == 409  # not twice
    missing_body = reporter.record(item_id, "menyusun", title="Judul")
    assert missing_body.status_code == 422 and missing_body.json()["field"] == "body"
    assert admin.record(item_id, "menyusun", title="Judul", body="Isi").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    no_reason = approver.record(item_id, "menyetujui", decision="reject")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    own = admin.record(item_id, "menyetujui", decision="approve")
    assert own.status_code == 403 and "may not decide" in own.json()["message"]
    assert reporter.http.get("/warta/api/v1/items/999999").status_code == 404
    assert reporter.http.post("/warta/api/v1/items", json={"title": ""}).status_code == 422
    unknown = reporter.http.post("/warta/api/v1/items", json={"title": "x", "channels": ["myspace"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "channels"
    assert operator.http.post("/warta/api/v1/items", json={"title": "x"}).status_code == 403
    dup1 = reporter.http.post("/warta/api/v1/items", json={"title": "Sekali", "submission_key": "form-123"})
    dup2 = reporter.http.post("/warta/api/v1/items", json={"title": "Sekali", "submission_key": "form-123"})
    assert dup1.json()["id"] == dup2.json()["id"] and dup2.json()["duplicate"] is True


def _warta(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "warta"), *args], env=stack.env(),
                          capture_output=True, text=True, timeout=120)


def test_cli_creates_an_item_whose_run_starts_and_records_steps(stack, users, tmp_path):
    created = _warta(stack, "--json", "create", "--as", "pelaksana", "--title", "Konsultasi standardisasi",
                     "--service", "konsultasi")
    assert created.returncode == 0, created.stderr
    item_id = json.loads(created.stdout)["id"]
    wait_until(lambda: users["admin"].ti_state(item_id, 1, "meliput") == "deferred", what="CLI item to park")

    assert _warta(stack, "record", str(item_id), "meliput", "--as", "pelaksana").returncode == 0
    body = tmp_path / "naskah.txt"
    body.write_text("Konsultasi berjalan lancar.\n\nParagraf dua.", encoding="utf-8")
    assert _warta(stack, "record", str(item_id), "menyusun", "--as", "pelaksana", "--title", "Konsultasi",
                  "--body-file", str(body)).returncode == 0
    inbox = _warta(stack, "--json", "inbox", "--as", "operator")
    assert item_id in [row["id"] for row in json.loads(inbox.stdout)]
    shown = _warta(stack, "show", str(item_id))
    assert "menyusun" in shown.stdout and f"item-{item_id}-round-1" in shown.stdout

    refused = _warta(stack, "record", str(item_id), "memeriksa", "--as", "pelaksana")
    assert refused.returncode == 1
    # In the user's language (Indonesian by default).
    assert refused.stderr.startswith("warta: galat:") and len(refused.stderr.strip().splitlines()) == 1
    bad_date = _warta(stack, "create", "--as", "pelaksana", "--title", "x", "--date", "kemarin")
    assert bad_date.returncode == 1 and "Tanggal tidak valid" in bad_date.stderr
    missing_file = _warta(stack, "create", "--as", "pelaksana", "--title", "x", "--file", "/nonexistent.jpg")
    assert missing_file.returncode == 2


def test_steps_recorded_within_a_second_of_parking_never_fail(stack, users):
    """The scheduler race in the project notes: several items, each step recorded the
    moment its sensor parks. With min_heartbeat_interval=1 every run must succeed."""
    reporter, operator, approver = users["pelaksana"], users["operator"], users["subkoor"]
    items = [reporter.create(title=f"Uji balapan {n}")["id"] for n in range(4)]
    actors = {"meliput": reporter, "menyusun": reporter, "memeriksa": operator, "menyetujui": approver}
    payloads = {"menyusun": {"title": "Judul", "body": "Isi naskah."}, "menyetujui": {"decision": "approve"}}
    for step in HUMAN_STEPS:
        for item_id in items:
            wait_until(lambda: reporter.ti_state(item_id, 1, step) == "deferred", what=f"{step} to park")
            response = actors[step].record(item_id, step, **payloads.get(step, {}))
            assert response.status_code == 200, response.text
    for item_id in items:
        wait_until(lambda: reporter.run_state(item_id, 1) in ("success", "failed"), timeout=150, what="run end")
        assert reporter.run_state(item_id, 1) == "success"
        failed = reporter.http.get(
            f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances", params={"state": "failed"}
        ).json()
        assert failed["total_entries"] == 0
