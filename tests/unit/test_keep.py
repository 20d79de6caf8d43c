"""Nothing typed is lost (warta.keep): autosaved drafts and their API, a form sent after
the login expired, files of a refused submit kept as pending uploads, the tidy that
removes what was abandoned, and step 1 recorded at intake. In-process, like test_desk."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from tests.fakes.wordpress import png_bytes
from tests.unit.test_desk import as_user, client, csrf_of, new_item, started_runs  # noqa: F401 (fixtures)
from warta import keep
from warta.models import AuditEvent, Draft, KeptForm, PendingUpload, StepRecord
from warta.outbox import Outbox
from warta.web import csrf as security
from warta.workflow import Conflict, NotFound, PermissionDenied

PNG = png_bytes()
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * (5 * 1024 * 1024)  # a 5 MB "video"


def _rows(service, model):
    with service.sessions() as session:
        return list(session.scalars(select(model)))


def _item_at_manuscript(client, flow) -> int:
    item_id = flow.create()
    flow.cover(item_id)
    return item_id


def _draft_url(item_id: int, form: str = "menyusun") -> str:
    return f"/warta/api/v1/drafts/items/{item_id}/{form}"


# ---------------------------------------------------------------- drafts: core and API
def test_a_draft_is_saved_versioned_and_a_stale_save_is_a_conflict(service, flow):
    item_id = _item_at_manuscript(None, flow)
    first = keep.save_draft(service, "pelaksana", item_id, "menyusun", {"title": "Judul", "body": "Awal"}, None)
    assert first["version"] == 1
    second = keep.save_draft(service, "pelaksana", item_id, "menyusun", {"body": "Awal dan lanjut"}, 1)
    assert second["version"] == 2
    with pytest.raises(Conflict):  # another tab still at version 1
        keep.save_draft(service, "pelaksana", item_id, "menyusun", {"body": "tab lama"}, 1)
    assert keep.get_draft(service, "pelaksana", item_id, "menyusun")["fields"] == {"body": "Awal dan lanjut"}
    assert keep.get_draft(service, "pelaksana2", item_id, "menyusun") is None  # per user
    with pytest.raises(PermissionDenied):
        keep.save_draft(service, "subkoor", item_id, "menyusun", {"body": "x"}, None)
    with pytest.raises(NotFound):
        keep.save_draft(service, "pelaksana", item_id, "updating", {"body": "x"}, None)
    with pytest.raises(NotFound):
        keep.save_draft(service, "pelaksana", 999, "menyusun", {"body": "x"}, None)
    assert keep.delete_draft(service, "pelaksana", item_id, "menyusun")
    assert keep.get_draft(service, "pelaksana", item_id, "menyusun") is None


def test_the_drafts_api_needs_the_csrf_header_with_the_cookie_and_answers_409_when_stale(client, service, flow):
    item_id = _item_at_manuscript(client, flow)
    as_user(client, "pelaksana")
    assert client.get(_draft_url(item_id)).status_code == 404
    saved = client.put(_draft_url(item_id), json={"fields": {"title": "Judul", "body": "Naskah"}, "version": 0})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1 and saved.json()["fields"]["body"] == "Naskah"
    stale = client.put(_draft_url(item_id), json={"fields": {"body": "lain"}, "version": 0})
    assert stale.status_code == 409 and stale.json()["error"] == "conflict"
    assert client.get(_draft_url(item_id)).json()["fields"]["body"] == "Naskah"
    too_long = client.put(_draft_url(item_id), json={"fields": {"body": "x" * 60000}, "version": 1})
    assert too_long.status_code == 422 and too_long.json()["field"] == "body"
    assert client.put(_draft_url(item_id, "Bad-Form"), json={"fields": {}}).status_code == 422
    assert client.delete(_draft_url(item_id)).json() == {"deleted": True}



def test_the_page_script_saving_by_session_cookie_must_send_the_csrf_header(service, flow):
    """keep.js is authenticated by the session cookie alone: the API wants X-CSRF-Token,
    the value of the page's hidden csrf_token field."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from tests.unit.test_desk import HeaderAuth
    from warta.web import app as web_app
    from warta.web import deps

    class SessionCookieAuth(HeaderAuth):
        async def username(self, request, bearer) -> str:
            return request.cookies.get("test_session") or await super().username(request, bearer)

    app = web_app.create_app(auth=SessionCookieAuth())
    app.dependency_overrides[deps.editorial_service] = lambda: service
    root = FastAPI()
    root.mount("/warta", app)
    browser = TestClient(root, follow_redirects=False, cookies={"test_session": "pelaksana"})
    item_id = _item_at_manuscript(None, flow)
    page = browser.get(f"/warta/desk/items/{item_id}")
    token = csrf_of(page)
    assert browser.put(_draft_url(item_id), json={"fields": {"body": "x"}}).status_code == 403
    saved = browser.put(_draft_url(item_id), json={"fields": {"body": "x"}}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and saved.json()["version"] == 1


def test_the_item_page_restores_the_draft_with_a_notice_and_discards_it(client, service, flow):
    item_id = _item_at_manuscript(client, flow)
    keep.save_draft(service, "pelaksana", item_id, "menyusun", {"title": "Judul draf", "body": "Teks yang diketik"}, None)
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    assert "Draf tersimpan" in page.text and 'data-testid="draft-notice"' in page.text
    assert "Teks yang diketik</textarea>" in page.text and 'value="Judul draf"' in page.text
    assert 'data-keep-version="1"' in page.text and f"/warta/api/v1/drafts/items/{item_id}/menyusun" in page.text
    assert '<script src="/warta/desk/static/keep.js" defer></script>' in page.text
    assert client.get("/warta/desk/static/keep.js").status_code == 200
    discarded = client.post(f"/warta/desk/items/{item_id}/drafts/menyusun/discard", data={"csrf_token": csrf_of(page)})
    assert discarded.status_code == 303 and "discarded=1" in discarded.headers["location"]
    assert keep.get_draft(service, "pelaksana", item_id, "menyusun") is None
    again = client.get(f"/warta/desk/items/{item_id}")
    assert "Teks yang diketik" not in again.text and "Draf dibuang" in client.get(discarded.headers["location"]).text


def test_sending_the_form_deletes_its_draft_and_a_draft_of_an_earlier_round_is_not_shown(client, service, flow, clock):
    item_id = _item_at_manuscript(client, flow)
    keep.save_draft(service, "pelaksana", item_id, "menyusun", {"body": "draf"}, None)
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    sent = client.post(f"/warta/desk/items/{item_id}/steps/menyusun",
                       data={"csrf_token": csrf_of(page), "title": "Judul", "body": "Naskah final"})
    assert sent.status_code == 303
    assert _rows(service, Draft) == []
    # A save that raced the submit lands after it: round 2 of the same form must not show it.
    clock.advance(1)
    keep.save_draft(service, "pelaksana", item_id, "menyusun", {"body": "sisa putaran 1"}, None)
    clock.advance(60)
    flow.correct(item_id)
    flow.reject(item_id)
    round_two = client.get(f"/warta/desk/items/{item_id}")
    assert "sisa putaran 1" not in round_two.text and 'data-keep-version="0"' in round_two.text
    assert _rows(service, Draft) == []


# ---------------------------------------------------------------- an expired login
def test_a_form_sent_after_the_login_expired_is_kept_and_returns_after_login(client, service, flow):
    item_id = _item_at_manuscript(client, flow)
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    token = csrf_of(page)
    del client.headers["authorization"]  # the login expires while the reporter types
    sent = client.post(f"/warta/desk/items/{item_id}/steps/menyusun",
                       data={"csrf_token": token, "title": "Judul panjang", "body": "Naskah yang tak boleh hilang"})
    assert sent.status_code == 303 and "/warta/desk/kept/" in sent.headers["location"]
    notice = client.get(sent.headers["location"])
    assert notice.status_code == 200 and "Isian Anda tersimpan" in notice.text
    assert "Naskah yang tak boleh hilang" not in notice.text  # the notice needs no login: it shows nothing
    login = re.search(r'href="(/auth/login\?[^"]+)"', notice.text).group(1).replace("&amp;", "&")
    next_url = parse_qs(urlparse(login).query)["next"][0]
    assert next_url.endswith("/open")

    # Someone else signing in on the same phone cannot claim it.
    as_user(client, "pelaksana2")
    assert client.get(next_url).status_code == 404
    as_user(client, "pelaksana")
    opened = client.get(next_url)
    assert opened.status_code == 303 and f"/warta/desk/items/{item_id}?kept=" in opened.headers["location"]
    form = client.get(opened.headers["location"])
    assert "Naskah yang tak boleh hilang</textarea>" in form.text and 'value="Judul panjang"' in form.text
    assert 'data-testid="kept-restored"' in form.text
    sent = client.post(f"/warta/desk/items/{item_id}/steps/menyusun",
                       data={"csrf_token": csrf_of(form), "title": "Judul panjang", "body": "Naskah yang tak boleh hilang"})
    assert sent.status_code == 303 and "done=menyusun" in sent.headers["location"]
    assert _rows(service, KeptForm) == []


def test_an_expired_intake_keeps_text_and_files_and_a_forged_post_keeps_nothing(client, service):
    as_user(client, "pelaksana")
    token = csrf_of(client.get("/warta/desk/new"))
    del client.headers["authorization"]
    sent = client.post("/warta/desk/new", data={"csrf_token": token, "title": "Panen raya", "notes": "Catatan",
                                                "service": "agro_eduwisata", "channels": ["website", "x"]},
                       files=[("files", ("panen.jpg", PNG, "image/jpeg"))])
    assert sent.status_code == 303 and "/desk/kept/" in sent.headers["location"]
    kept_token = sent.headers["location"].rsplit("/", 1)[1]
    as_user(client, "pelaksana")
    opened = client.get(f"/warta/desk/kept/{kept_token}/open")
    assert opened.headers["location"] == f"/warta/desk/new?kept={kept_token}"
    form = client.get(opened.headers["location"])
    assert 'value="Panen raya"' in form.text and "Catatan</textarea>" in form.text
    assert re.search(r'value="x" checked', form.text) and "panen.jpg" in form.text and "tetap dilampirkan" in form.text

    # Another site's form (no CSRF cookie with it) is not kept: the usual login redirect.
    del client.headers["authorization"]
    client.cookies.clear()
    forged = client.post("/warta/desk/new", data={"csrf_token": token, "title": "palsu"})
    assert forged.status_code == 303 and forged.headers["location"].startswith("/auth/login")
    # Nor a pair made up by someone who never signed in (cookie = field, but not signed by the server).
    client.cookies.set(security.CSRF_COOKIE, "made.up")
    made_up = client.post("/warta/desk/new", data={"csrf_token": "made.up", "title": "palsu"},
                          files=[("files", ("besar.mp4", VIDEO, "video/mp4"))])
    assert made_up.status_code == 303 and made_up.headers["location"].startswith("/auth/login")
    assert len(_rows(service, KeptForm)) == 1 and len(_rows(service, PendingUpload)) == 1


def test_a_step_form_opened_with_get_leads_to_the_item_not_method_not_allowed(client, service, flow):
    item_id = _item_at_manuscript(client, flow)
    as_user(client, "pelaksana")
    answer = client.get(f"/warta/desk/items/{item_id}/steps/menyusun")
    assert answer.status_code == 303 and answer.headers["location"] == f"/warta/desk/items/{item_id}"


# ---------------------------------------------------------------- pending uploads
def test_a_refused_intake_keeps_its_5_mb_file_for_the_next_submit(client, service):
    as_user(client, "pelaksana")
    page = client.get("/warta/desk/new")
    data = {"csrf_token": csrf_of(page), "title": "Kunjungan", "place": "Kebun", "service": "agro_eduwisata",
            "channels": ["website"], "submission_key": "keep-1"}
    refused = client.post("/warta/desk/new", data=data,  # no activity date
                          files=[("files", ("video.mp4", VIDEO, "video/mp4")), ("files", ("foto.jpg", PNG, "image/jpeg"))])
    assert refused.status_code == 422
    assert "video.mp4" in refused.text and "tetap dilampirkan" in refused.text
    ids = re.findall(r'name="keep_upload" value="(\d+)" checked', refused.text)
    assert len(ids) == 2
    # The person unticks the photo and sends again without picking the video again.
    created = client.post("/warta/desk/new", data=data | {"activity_date": "2026-11-20", "keep_upload": [ids[0]]})
    assert created.status_code == 303, created.text
    item_id = int(re.search(r"/items/(\d+)", created.headers["location"]).group(1))
    assets = service.history(item_id)["assets"]
    assert [(a["filename"], a["size"]) for a in assets] == [("video.mp4", len(VIDEO))]
    assert _rows(service, PendingUpload) == []
    assert service.storage.list("pending") == []


def test_a_bad_file_is_refused_but_the_good_ones_stay_attached_and_are_not_doubled(client, service, flow):
    item_id = flow.create()
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    refused = client.post(f"/warta/desk/items/{item_id}/steps/meliput", data={"csrf_token": csrf_of(page), "notes": "n"},
                          files=[("files", ("foto.jpg", PNG, "image/jpeg")), ("files", ("skrip.exe", b"MZ", "x"))])
    assert refused.status_code == 422 and "skrip.exe" in refused.text
    ids = re.findall(r'name="keep_upload" value="(\d+)" checked', refused.text)
    assert len(ids) == 1 and "foto.jpg" in refused.text
    # Picked again anyway: the same file counts once.
    sent = client.post(f"/warta/desk/items/{item_id}/steps/meliput",
                       data={"csrf_token": csrf_of(refused), "notes": "n", "keep_upload": ids},
                       files=[("files", ("foto.jpg", PNG, "image/jpeg"))])
    assert sent.status_code == 303, sent.text
    assert [a["filename"] for a in service.history(item_id)["assets"]] == ["foto.jpg"]


def test_tidy_removes_abandoned_drafts_kept_forms_and_pending_files(service, flow, clock):
    from warta.service import Upload

    item_id = _item_at_manuscript(None, flow)
    keep.save_draft(service, "pelaksana", item_id, "menyusun", {"body": "lama"}, None)
    keep.keep_uploads(service, "pelaksana", keep.NEW_TARGET, [Upload("a.jpg", PNG)])
    keep.keep_form(service, csrf_token="t.s", target=keep.NEW_TARGET, fields={"title": "x"},
                   uploads=[Upload("b.jpg", PNG)])
    assert len(service.storage.list("pending")) == 2
    assert keep.tidy(service) == {"drafts": 0, "kept_forms": 0, "pending_uploads": 0}
    clock.advance(timedelta(hours=3).total_seconds())
    assert keep.tidy(service) == {"drafts": 0, "kept_forms": 1, "pending_uploads": 1}
    clock.advance(timedelta(days=15).total_seconds())
    assert keep.tidy(service) == {"drafts": 1, "kept_forms": 0, "pending_uploads": 1}
    assert service.storage.list("pending") == [] and _rows(service, PendingUpload) == []


def test_the_outbox_loop_tidies_once_per_interval(service, monkeypatch):
    calls = []
    monkeypatch.setattr(keep, "tidy", lambda svc: calls.append(svc) or {})
    outbox = Outbox(service)
    outbox.tidy_when_due(now=100.0)
    outbox.tidy_when_due(now=101.0)
    outbox.tidy_when_due(now=100.0 + keep.keep_settings().tidy_every.total_seconds())
    assert len(calls) == 2


# ---------------------------------------------------------------- step 1 at intake
def test_intake_with_the_coverage_complete_records_step_1_at_once(client, service, started_runs):
    as_user(client, "pelaksana")
    form = client.get("/warta/desk/new")
    assert 'name="coverage_complete"' in form.text and "Liputan sudah lengkap" in form.text
    created = new_item(client, coverage_complete="1", notes="Dokumentasi lengkap: 12 foto.")
    assert created.status_code == 303 and "covered=1" in created.headers["location"]
    item_id = int(re.search(r"/items/(\d+)", created.headers["location"]).group(1))
    item = service.history(item_id)
    assert item["current_step"] == "menyusun"
    [record] = _rows(service, StepRecord)
    assert (record.step_id, record.actor, record.reason) == ("meliput", "pelaksana", "Dokumentasi lengkap: 12 foto.")
    assert service.is_recorded(item_id, 1, "meliput")
    assert len(started_runs) == 1  # the run still starts: its step 1 finds the record
    page = client.get(created.headers["location"])
    assert "langkah 1. Meliput kegiatan sudah tercatat" in page.text
    assert "Simpan liputan" not in page.text and 'id="body"' in page.text
    audit = [e.details for e in _rows(service, AuditEvent) if e.action == "step_meliput"]
    assert audit == [{"round": 1, "assets": ["foto.jpg"], "at_intake": True}]


def test_a_real_expired_airflow_token_on_a_form_post_keeps_the_form(service, flow, airflow_tokens):
    """Airflow's own auth (SimpleAuthManager JWT in the ``_token`` cookie): a token that
    expired between opening the form and sending it."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from warta.airflow.web_auth import create_airflow_web_app
    from warta.web import deps

    web = create_airflow_web_app()
    web.dependency_overrides[deps.editorial_service] = lambda: service
    root = FastAPI()
    root.mount("/warta", web)
    browser = TestClient(root, follow_redirects=False)
    item_id = _item_at_manuscript(None, flow)
    page = browser.get(f"/warta/desk/items/{item_id}", cookies={"_token": airflow_tokens["pelaksana"]})
    assert page.status_code == 200
    expired = create_auth_manager().generate_jwt(SimpleAuthManagerUser(username="pelaksana", role="user"),
                                                 expiration_time_in_seconds=-3600)
    browser.cookies.set("_token", expired)
    sent = browser.post(f"/warta/desk/items/{item_id}/steps/menyusun",
                        data={"csrf_token": csrf_of(page), "title": "Judul", "body": "Naskah lengkap"})
    assert sent.status_code == 303 and "/warta/desk/kept/" in sent.headers["location"]
    [kept] = _rows(service, KeptForm)
    assert kept.fields == {"title": "Judul", "body": "Naskah lengkap"} and kept.username is None


def test_the_api_intake_can_complete_step_1_too(client, service):
    as_user(client, "pelaksana")
    created = client.post("/warta/api/v1/items", json={"title": "Temu lapang", "notes": "Lengkap",
                                                        "coverage_complete": True})
    assert created.status_code == 201, created.text
    assert created.json()["current_step"] == "menyusun"
    multipart = client.post("/warta/api/v1/intake", data={"title": "Temu lapang 2", "coverage_complete": "true"},
                            files=[("files", ("foto.jpg", PNG, "image/jpeg"))])
    assert multipart.status_code == 201 and multipart.json()["current_step"] == "menyusun"
    plain = client.post("/warta/api/v1/items", json={"title": "Belum lengkap"})
    assert plain.json()["current_step"] == "meliput"
