"""The desk's REST API and pages against a running stack: Airflow's login in front of
everything, every desk action over HTTP, and every 401 / 403 / 422 answer."""

from __future__ import annotations

import httpx
import pytest

from tests.system.conftest import wait_until

pytestmark = pytest.mark.system

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def intake(client, **fields):
    files = fields.pop("files", [("files", ("foto.png", PNG, "image/png"))])
    return client.http.post("/warta/api/v1/intake", data=fields, files=files)


def test_anonymous_gets_401_from_the_api_and_the_login_page_from_the_desk(stack):
    anonymous = httpx.Client(base_url=stack.url, timeout=30)
    for path in ("/warta/api/v1/items", "/warta/api/v1/items/1/diff", "/warta/api/v1/items/1/preview",
                 "/warta/api/v1/items/1/assets/1"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/warta/api/v1/intake", data={"title": "x"}).status_code == 401
    assert anonymous.post("/warta/api/v1/items/1/steps/meliput/files", data={}).status_code == 401
    for path in ("/warta/desk/", "/warta/desk/new", "/warta/desk/items/1", "/warta/desk/items/1/files/1",
                 "/warta/desk/runs/item-1-round-1"):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/auth/login?next=%2Fwarta%2Fdesk%2F"), path
    expired = anonymous.get("/warta/desk/", cookies={"_token": "not-a-token"})
    assert expired.status_code == 303
    posted = anonymous.post("/warta/desk/new", data={"title": "x"})
    assert posted.status_code == 303  # to the login; nothing is created
    spec = anonymous.get("/warta/api/v1/openapi.json").json()
    for path in ("/api/v1/items", "/api/v1/intake", "/api/v1/items/{item_id}/steps/{step_id}/files",
                 "/api/v1/items/{item_id}/assets/{asset_id}", "/api/v1/items/{item_id}/diff",
                 "/api/v1/items/{item_id}/preview"):
        assert path in spec["paths"], path
    assert not any(p.startswith("/desk") for p in spec["paths"])


def test_intake_over_the_api_starts_the_run_with_the_title_as_its_note(stack, users):
    reporter = users["pelaksana"]
    created = intake(reporter, title="Layanan UPBS benih padi", service="upbs", activity_date="2026-11-24",
                     place="Kebun benih", channels="website", submission_key="sys-intake-1")
    assert created.status_code == 201, created.text
    item = created.json()
    run = wait_until(lambda: reporter.http.get(f"/api/v2/dags/warta_berita/dagRuns/{item['run_id']}").json()
                     if reporter.run_state(item["id"], 1) else None, what="the intake run")
    assert run["note"] == "Berita baru: Layanan UPBS benih padi"
    again = intake(reporter, title="Layanan UPBS benih padi", service="upbs", submission_key="sys-intake-1")
    assert again.json()["id"] == item["id"] and again.json()["duplicate"] is True
    [asset] = reporter.http.get(f"/warta/api/v1/items/{item['id']}").json()["assets"]
    got = reporter.http.get(f"/warta/api/v1/items/{item['id']}/assets/{asset['id']}")
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert reporter.http.get(f"/warta/api/v1/items/{item['id']}/assets/999999").status_code == 404
    listed = reporter.http.get("/warta/api/v1/items", params={"service": "upbs", "q": "benih padi"}).json()
    assert [row["id"] for row in listed["items"]] == [item["id"]]


def test_intake_refuses_bad_input_with_422_and_saves_nothing(stack, users):
    reporter = users["pelaksana"]
    before = reporter.http.get("/warta/api/v1/items", params={"limit": 1}).json()["total"]
    cases = {
        "title": {"title": ""},
        "activity_date": {"title": "x", "activity_date": "26-11-2026"},
        "service": {"title": "x", "service": "bogus"},
        "channels": {"title": "x", "channels": "myspace"},
        "notes": {"title": "x", "notes": "n" * 10001},
    }
    for field, data in cases.items():
        response = intake(reporter, **data)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field
    too_long = intake(reporter, title="t" * 201)
    assert too_long.status_code == 422 and too_long.json()["field"] == "title"
    wrong_type = intake(reporter, title="x", files=[("files", ("../../etc/passwd.sh", b"#!", "text/plain"))])
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "files"
    empty = intake(reporter, title="x", files=[("files", ("kosong.jpg", b"", "image/jpeg"))])
    assert empty.status_code == 422 and empty.json()["field"] == "files"
    no_title = reporter.http.post("/warta/api/v1/intake", data={})
    assert no_title.status_code == 422 and no_title.json()["field"] == "title"
    assert reporter.http.get("/warta/api/v1/items", params={"status": "bogus"}).status_code == 422
    assert reporter.http.get("/warta/api/v1/items", params={"limit": 1}).json()["total"] == before
    assert intake(users["operator"], title="Bukan peran saya").status_code == 403


def test_every_desk_action_over_the_api_with_its_refusals(stack, users):
    reporter, reporter2, operator, approver, admin = (
        users[u] for u in ("pelaksana", "pelaksana2", "operator", "subkoor", "admin"))
    item_id = intake(reporter, title="Bimtek pengolahan lada putih", service="bimtek").json()["id"]
    steps = f"/warta/api/v1/items/{item_id}/steps"

    wrong_role = operator.http.post(f"{steps}/meliput/files", data={"notes": "x"})
    assert wrong_role.status_code == 403
    bad_file = reporter.http.post(f"{steps}/meliput/files", data={"notes": "x"},
                                  files=[("files", ("a.exe", b"MZ", "application/octet-stream"))])
    assert bad_file.status_code == 422 and bad_file.json()["field"] == "files"
    covered = reporter.http.post(f"{steps}/meliput/files", data={"notes": "Foto dan rekaman"},
                                 files=[("files", ("wawancara.mp3", b"ID3" + b"\x00" * 32, "audio/mpeg")),
                                        ("files", ("kegiatan.png", PNG, "image/png"))])
    assert covered.status_code == 200, covered.text
    assert len(reporter.http.get(f"/warta/api/v1/items/{item_id}").json()["assets"]) == 3

    no_body = reporter.http.post(f"{steps}/menyusun/files", data={"title": "Judul"})
    assert no_body.status_code == 422 and no_body.json()["field"] == "body"
    too_long = reporter.http.post(f"{steps}/menyusun", json={"title": "Judul", "body": "x" * 50001})
    assert too_long.status_code == 422 and too_long.json()["field"] == "body"
    body = "Petani belajar <b>lada putih</b>.<script>alert(1)</script>\n\nParagraf dua."
    assert reporter.http.post(f"{steps}/menyusun", json={"title": "Petani belajar lada", "body": body}).status_code == 200
    assert reporter.http.post(f"{steps}/menyusun", json={"title": "x", "body": "y"}).status_code == 409
    corrected = body.replace("Petani belajar", "Petani Bangka belajar")
    assert operator.http.post(f"{steps}/memeriksa", json={"body": corrected}).status_code == 200

    diff = approver.http.get(f"/warta/api/v1/items/{item_id}/diff").json()
    assert "Petani<ins> Bangka</ins> belajar" in diff["body_html"]
    preview = approver.http.get(f"/warta/api/v1/items/{item_id}/preview").json()
    assert "<b>lada putih</b>" in preview["body_html"] and "script" not in preview["body_html"]
    assert preview["photos"] and preview["approved"] is False

    no_reason = approver.http.post(f"{steps}/menyetujui", json={"decision": "reject", "reason": "x"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    bad_decision = approver.http.post(f"{steps}/menyetujui", json={"decision": "maybe"})
    assert bad_decision.status_code == 422 and bad_decision.json()["field"] == "decision"
    assert reporter2.http.post(f"{steps}/menyetujui", json={"decision": "approve"}).status_code == 403
    assert approver.http.post(f"{steps}/menyetujui", json={"decision": "reject",
                                                            "reason": "Tambahkan data hasil panen"}).status_code == 200
    assert reporter.http.post(f"{steps}/menyusun", json={"title": "Petani belajar lada",
                                                          "body": corrected + "\n\nHasil panen naik."}).status_code == 200
    assert admin.http.post(f"{steps}/memeriksa", json={}).status_code == 200
    own = admin.http.post(f"{steps}/menyetujui", json={"decision": "approve"})
    assert own.status_code == 403 and "may not decide" in own.json()["message"]
    assert approver.http.post(f"{steps}/menyetujui", json={"decision": "approve"}).status_code == 200
    preview = approver.http.get(f"/warta/api/v1/items/{item_id}/preview").json()
    assert preview["approved"] is True and "Hasil panen naik." in preview["body_html"]
    versions = approver.http.get(f"/warta/api/v1/items/{item_id}/diff", params={"from_version": 1, "to_version": 4})
    assert versions.status_code == 200 and versions.json()["to"]["round"] == 2
    assert approver.http.get(f"/warta/api/v1/items/{item_id}/diff", params={"to_version": 0}).status_code == 422
    assert approver.http.get("/warta/api/v1/items/999999/preview").status_code == 404


def test_cookie_sessions_need_the_csrf_token_for_writes(stack):
    """The Airflow UI's cookie authenticates the desk; a write that relies on it alone is
    refused unless it carries the desk's CSRF token (header for the API, field for forms)."""
    token = stack.token("pelaksana")
    browser = httpx.Client(base_url=stack.url, timeout=30, cookies={"_token": token})
    page = browser.get("/warta/desk/new")
    assert page.status_code == 200 and "csrf_token" in page.text
    csrf = browser.cookies.get("warta_csrf")
    assert csrf
    refused = browser.post("/warta/api/v1/items", json={"title": "Tanpa token CSRF"})
    assert refused.status_code == 403
    forged = browser.post("/warta/api/v1/items", json={"title": "Token palsu"}, headers={"X-CSRF-Token": "a.b"})
    assert forged.status_code == 403
    allowed = browser.post("/warta/api/v1/items", json={"title": "Dengan token CSRF", "submission_key": "csrf-1"},
                           headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 201, allowed.text
    form_without = browser.post("/warta/desk/new", data={"title": "Form tanpa token", "activity_date": "2026-11-26",
                                                         "service": "lainnya", "channels": "website"})
    assert form_without.status_code == 403
    form_with = browser.post("/warta/desk/new", data={"title": "Form dengan token", "activity_date": "2026-11-26",
                                                      "service": "lainnya", "channels": "website",
                                                      "csrf_token": csrf, "submission_key": "csrf-form-1"})
    assert form_with.status_code == 303 and "/warta/desk/items/" in form_with.headers["location"]
    assert browser.get("/warta/desk/new", cookies={"_token": stack.token("operator")}).status_code == 403


def test_airflow_ui_links_to_the_desk(stack, users):
    plugins = users["admin"].http.get("/api/v2/plugins").json()["plugins"]
    views = next(p for p in plugins if p["name"] == "warta")["external_views"]
    by_destination = {v["destination"]: v["href"] for v in views if v["name"] != "Warta API"}
    assert by_destination["nav"] == "/warta/desk/"
    assert by_destination["dag_run"] == "/warta/desk/runs/{RUN_ID}"
    assert by_destination["task_instance"] == "/warta/desk/runs/{RUN_ID}"
    reporter = users["pelaksana"]
    item_id = intake(reporter, title="Tautan dari Airflow").json()["id"]
    landing = reporter.http.get(f"/warta/desk/runs/item-{item_id}-round-1", follow_redirects=True)
    assert landing.status_code == 200 and "Tautan dari Airflow" in landing.text
    # Reporters are not sent back into Airflow (no use on a phone); the Operator is.
    assert f'href="/dags/warta_berita/runs/item-{item_id}-round-1"' not in landing.text
    operator = users["operator"].http.get(f"/warta/desk/runs/item-{item_id}-round-1", follow_redirects=True)
    assert f'href="/dags/warta_berita/runs/item-{item_id}-round-1"' in operator.text  # target=_top: out of the tab
    assert reporter.http.get("/warta/desk/runs/scheduled__2026-11-26").status_code == 404
