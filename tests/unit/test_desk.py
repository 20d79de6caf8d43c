"""The desk's pages and desk API routes in-process (FastAPI TestClient): the plugin app
mounted at /warta as in the api-server, the service on a test DB, Airflow's user
dependency replaced by a Bearer header naming the user (the real login is covered by the
system and browser tests)."""

from __future__ import annotations

from tests.fakes.wordpress import png_bytes

import re
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from warta.web import app as web_app
from warta.web import csrf as security
from warta.web import deps
from warta.content import publishable_html
from warta.manuscript_diff import word_diff_html

PNG = png_bytes()


class FakeUser:
    def __init__(self, name: str):
        self.name = name

    def get_name(self) -> str:
        return self.name


class QueuedRuns:
    """The run requests in the outbox, as (item id, round, note)."""

    def __init__(self, service):
        self.service = service

    def _rows(self) -> list[tuple]:
        from sqlalchemy import select

        from warta.models import RunRequest

        with self.service.sessions() as session:
            return [(r.item_id, r.round, r.note) for r in session.scalars(select(RunRequest).order_by(RunRequest.id))]

    def __eq__(self, other) -> bool:
        return self._rows() == other

    def __len__(self) -> int:
        return len(self._rows())

    def __getitem__(self, index):
        return self._rows()[index]


@pytest.fixture
def started_runs(service):
    return QueuedRuns(service)


class HeaderAuth:
    """The Authenticator of these tests: ``Authorization: Bearer <username>`` signs that
    user in (pages still need their CSRF token; the API takes a Bearer call without)."""

    async def username(self, request: Request, bearer) -> str:
        if bearer is None:
            raise HTTPException(401, "Not authenticated")
        return bearer.credentials

    def login_url(self, next_url: str) -> str:
        return "/auth/login?" + urlencode({"next": next_url})

    def secret_key(self) -> bytes:
        return b"desk-test-secret"


CSRF = security.CsrfTokens(HeaderAuth().secret_key())


@pytest.fixture
def client(service):
    app = web_app.create_app(auth=HeaderAuth())
    app.dependency_overrides[deps.editorial_service] = lambda: service
    root = FastAPI()
    root.mount("/warta", app)
    return TestClient(root, follow_redirects=False)


def as_user(client: TestClient, name: str) -> TestClient:
    client.headers["authorization"] = f"Bearer {name}"
    return client


def csrf_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


def post_form(client, url, data, files=None, user=None):
    """GET the page first (the CSRF cookie and field), then post the form like a browser."""
    client.get(url.rsplit("/steps/", 1)[0] if "/steps/" in url else url)
    token = client.cookies.get(security.CSRF_COOKIE)  # the page's hidden field holds the same
    return client.post(url, data={"csrf_token": token, **data}, files=files)


def new_item(client, **overrides):
    data = {"title": "Kunjungan agro eduwisata SMAN 1", "activity_date": "2026-11-20", "place": "Kebun",
            "service": "agro_eduwisata", "notes": "Catatan", "channels": ["website"],
            "submission_key": overrides.pop("submission_key", "key-1")} | overrides
    page = client.get("/warta/desk/new")
    return client.post("/warta/desk/new", data={"csrf_token": csrf_of(page), **data},
                       files=[("files", ("foto.jpg", PNG, "image/jpeg"))])


# ---------------------------------------------------------------- authentication
def test_anonymous_pages_redirect_to_airflow_login_and_api_answers_401(client):
    response = client.get("/warta/desk/items?status=done")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/login?next=")
    assert "%2Fwarta%2Fdesk%2Fitems" in response.headers["location"]
    assert client.get("/warta/api/v1/items").status_code == 401


def test_csrf_token_is_bound_to_the_user():
    token = CSRF.new("pelaksana")
    assert CSRF.belongs_to(token, "pelaksana")
    assert not CSRF.belongs_to(token, "operator")
    assert not CSRF.belongs_to("forged.0000", "pelaksana")
    assert not CSRF.belongs_to("", "pelaksana")
    assert not security.CsrfTokens(b"another secret").belongs_to(token, "pelaksana")


def test_form_posts_without_a_valid_csrf_token_are_refused(client, service):
    as_user(client, "pelaksana")
    client.get("/warta/desk/new")
    missing = client.post("/warta/desk/new", data={"title": "x", "activity_date": "2026-11-20"})
    assert missing.status_code == 403 and "kedaluwarsa" in missing.text
    wrong = client.post("/warta/desk/new", data={"csrf_token": "abc.def", "title": "x"})
    assert wrong.status_code == 403
    # A token issued to another user does not work even with a matching cookie.
    other = CSRF.new("operator")
    client.cookies.set(security.CSRF_COOKIE, other, path="/warta")
    assert client.post("/warta/desk/new", data={"csrf_token": other, "title": "x"}).status_code == 403
    assert service.list_items()["total"] == 0


# ---------------------------------------------------------------- intake
def test_intake_creates_the_item_with_its_files_and_starts_the_run_once(client, service, started_runs):
    as_user(client, "pelaksana")
    form = client.get("/warta/desk/new")
    assert form.status_code == 200 and 'lang="id"' in form.text
    assert "Kunjungan agro eduwisata" in form.text  # services from config
    created = new_item(client)
    assert created.status_code == 303
    item_url = created.headers["location"]
    assert re.fullmatch(r"/warta/desk/items/\d+\?created=1", item_url)
    item_id = int(item_url.split("/")[-1].split("?")[0])
    assert started_runs == [(item_id, 1, "Kunjungan agro eduwisata SMAN 1")]
    page = client.get(item_url)
    assert "Berita dibuat" in page.text and "foto.jpg" in page.text
    # Airflow is the Operator's and the admin's tool: reporters see no run links.
    assert f"/dags/warta_berita/runs/item-{item_id}-round-1" not in page.text
    assert f"/dags/warta_berita/runs/item-{item_id}-round-1" in as_user(client, "operator").get(item_url).text
    as_user(client, "pelaksana")

    again = new_item(client)  # the same form (same submission key) posted twice
    assert again.headers["location"] == f"/warta/desk/items/{item_id}?duplicate=1"
    assert service.list_items()["total"] == 1 and len(started_runs) == 1


def test_intake_shows_each_error_next_to_its_field_and_keeps_the_input(client, service):
    as_user(client, "pelaksana")
    page = client.get("/warta/desk/new")
    response = client.post(
        "/warta/desk/new",
        data={"csrf_token": csrf_of(page), "title": "", "activity_date": "26/11/2026", "service": "nope",
              "place": "Tempat yang saya ketik", "notes": "n" * 10001, "channels": ["myspace"],
              "submission_key": "k"},
        files=[("files", ("skrip.exe", b"MZ", "application/octet-stream"))],
    )
    assert response.status_code == 422
    text = response.text
    for field in ("title", "activity_date", "service", "notes", "channels", "files"):
        assert f'id="{field}-error"' in text, field
    assert "Wajib diisi." in text and "format 2026-11-26" in text and "skrip.exe" in text
    assert 'value="Tempat yang saya ketik"' in text and 'value="26/11/2026"' in text
    assert service.list_items()["total"] == 0


def test_intake_refuses_oversized_files_and_saves_nothing(client, service, monkeypatch, storage_root):
    from dataclasses import replace

    small = replace(service.config, limits=replace(service.config.limits, upload_max_bytes=10))
    monkeypatch.setattr(service, "config", small)
    as_user(client, "pelaksana")
    response = new_item(client)
    assert response.status_code == 422 and "foto.jpg" in response.text
    assert service.list_items()["total"] == 0
    assert not any(storage_root.rglob("*.jpg")) if storage_root.exists() else True


def test_intake_is_403_for_a_user_without_the_role(client):
    as_user(client, "operator")
    assert client.get("/warta/desk/new").status_code == 403
    assert "Berita baru" not in client.get("/warta/desk/").text


@pytest.mark.parametrize("error", ["pool", "lock"])
def test_a_saturated_editorial_db_answers_503_with_retry_after(client, service, monkeypatch, error):
    from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

    def saturated(*args, **kwargs):
        if error == "pool":
            raise PoolTimeout("QueuePool limit of size 5 overflow 5 reached")
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "create_item", saturated)
    as_user(client, "pelaksana")
    api = client.post("/warta/api/v1/items", json={"title": "Liputan", "submission_key": "s1"})
    assert api.status_code == 503 and api.headers["retry-after"] == str(web_app.RETRY_AFTER_SECONDS)
    assert api.json()["error"] == "overloaded"
    page = new_item(client)
    assert page.status_code == 503 and "sibuk" in page.text and page.headers["retry-after"]
    monkeypatch.undo()
    assert service.list_items()["total"] == 0


def test_api_intake_retried_with_its_key_answers_201_with_the_same_item(client, service, started_runs):
    as_user(client, "pelaksana")
    first = client.post("/warta/api/v1/items", json={"title": "Liputan", "submission_key": "burst-1"})
    again = client.post("/warta/api/v1/items", json={"title": "Liputan", "submission_key": "burst-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    assert first.json()["run_state"] == "queued"
    assert service.list_items()["total"] == 1 and len(started_runs) == 1


def test_item_page_and_inbox_show_a_run_still_queued(client, service):
    as_user(client, "pelaksana")
    item_id = int(new_item(client).headers["location"].split("/")[-1].split("?")[0])
    assert 'data-testid="run-queued"' in client.get(f"/warta/desk/items/{item_id}").text
    assert 'data-testid="run-queued"' in client.get("/warta/desk/").text
    from sqlalchemy import select

    from warta.models import RunRequest

    with service.sessions() as session:
        request_id = session.scalars(select(RunRequest.id)).one()
    service.run_request_started(request_id)
    assert 'data-testid="run-queued"' not in client.get(f"/warta/desk/items/{item_id}").text


# ---------------------------------------------------------------- the whole walk
def test_walk_intake_manuscript_correction_reject_revise_approve(client, service):
    as_user(client, "pelaksana")
    item_id = int(new_item(client).headers["location"].split("/")[-1].split("?")[0])
    base = f"/warta/desk/items/{item_id}"
    assert post_form(client, f"{base}/steps/meliput", {"notes": "Lengkap"}).status_code == 303

    body = "Paragraf <b>satu</b> tentang cabai.<script>alert(1)</script>\n\nParagraf dua."
    missing = post_form(client, f"{base}/steps/menyusun", {"title": "Judul", "body": ""})
    assert missing.status_code == 422 and 'id="body-error"' in missing.text and 'value="Judul"' in missing.text
    assert post_form(client, f"{base}/steps/menyusun", {"title": "Siswa belajar cabai", "body": body}).status_code == 303

    as_user(client, "subkoor")
    forbidden = post_form(client, f"{base}/steps/memeriksa", {"title": "x", "body": "y"})
    assert forbidden.status_code == 403

    as_user(client, "operator")
    page = client.get(base)
    assert 'data-testid="step-form"' in page.text and "Siswa belajar cabai" in page.text
    corrected = body.replace("tentang cabai", "tentang budidaya cabai")
    assert post_form(client, f"{base}/steps/memeriksa", {"title": "Siswa belajar cabai", "body": corrected}).status_code == 303

    as_user(client, "subkoor")
    page = client.get(base)
    assert "<ins>budidaya </ins>" in page.text or "<ins>budidaya" in page.text
    preview = page.text.split('data-testid="preview"')[1].split("</section>")[0]
    assert "<b>satu</b>" in preview and "<script>" not in preview
    short = post_form(client, f"{base}/steps/menyetujui", {"decision": "reject", "reason": "kurang"})
    assert short.status_code == 422 and 'id="reason-error"' in short.text
    rejected = post_form(client, f"{base}/steps/menyetujui", {"decision": "reject", "reason": "Tambahkan kutipan"})
    assert rejected.status_code == 303

    as_user(client, "pelaksana")
    page = client.get(base)
    assert "Tambahkan kutipan" in page.text and "Revisi ke-2" in page.text
    assert post_form(client, f"{base}/steps/menyusun",
                     {"title": "Siswa belajar cabai", "body": corrected + "\n\n“Bermanfaat,” kata guru."}).status_code == 303
    as_user(client, "admin")  # admin corrects, so admin may not approve
    assert post_form(client, f"{base}/steps/memeriksa", {"title": "Siswa belajar cabai",
                                                           "body": corrected + "\n\n“Sangat bermanfaat,” kata guru."}).status_code == 303
    page = client.get(base)
    assert 'data-testid="own-manuscript"' in page.text
    own = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve"})
    assert own.status_code == 403 and "may not decide" in own.text
    as_user(client, "subkoor")
    asked = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve"})
    assert asked.status_code == 200 and 'data-testid="confirm-approval"' in asked.text
    assert service.get_item(item_id)["status"] != "publishing"  # nothing published before the confirmation
    done = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=menyetujui")
    assert service.get_item(item_id)["status"] == "publishing"
    again = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve", "confirm": "yes"})
    assert again.status_code == 409


def test_pages_switch_to_english_and_show_times_in_wib(client, service, clock):
    as_user(client, "pelaksana")
    item_id = int(new_item(client).headers["location"].split("/")[-1].split("?")[0])
    english = client.get(f"/warta/desk/items/{item_id}?lang=en")
    assert 'lang="en"' in english.text and "Current step" in english.text
    assert "26 Nov 2026 08:00 WIB" in english.text  # the test clock: 01:00 UTC
    assert client.get("/warta/desk/").text.count('lang="en"') >= 1  # kept by cookie
    indonesian = client.get("/warta/desk/?lang=id")
    assert "Menunggu Anda" in indonesian.text and "26 Nov 2026 08.00 WIB" in indonesian.text


def test_inbox_lists_what_waits_for_my_roles_oldest_first(client, service, clock):
    as_user(client, "pelaksana")
    first = int(new_item(client, submission_key="a", title="Pertama").headers["location"].split("/")[-1].split("?")[0])
    clock.advance(60)
    new_item(client, submission_key="b", title="Kedua")
    inbox = client.get("/warta/desk/").text
    assert inbox.index("Pertama") < inbox.index("Kedua") and "sisa" in inbox
    as_user(client, "operator")
    assert 'data-testid="inbox-empty"' in client.get("/warta/desk/").text
    listing = client.get("/warta/desk/items?q=Pert").text
    assert "Pertama" in listing and "Kedua" not in listing
    assert client.get(f"/warta/desk/runs/item-{first}-round-1").headers["location"] == f"/warta/desk/items/{first}"
    assert client.get("/warta/desk/runs/manual__2026").status_code == 404
    assert client.get(f"/warta/items/{first}").headers["location"] == f"/warta/desk/items/{first}"


def test_files_are_served_by_extension_and_sandboxed(client, service):
    as_user(client, "pelaksana")
    item_id = int(new_item(client).headers["location"].split("/")[-1].split("?")[0])
    asset_id = service.history(item_id)["assets"][0]["id"]
    photo = client.get(f"/warta/desk/items/{item_id}/files/{asset_id}")
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["content-type"] == "image/jpeg"
    assert "sandbox" in photo.headers["content-security-policy"]
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/warta/desk/items/{item_id}/files/999").status_code == 404
    api = client.get(f"/warta/api/v1/items/{item_id}/assets/{asset_id}")
    assert api.status_code == 200 and api.content == PNG


# ---------------------------------------------------------------- API routes
def test_api_lists_filters_previews_and_diffs(client, service, flow):
    as_user(client, "pelaksana")
    item_id = flow.to_decision(flow.create(title="Bimtek lada"))
    flow.create(title="Konsultasi", service="konsultasi")
    listing = client.get("/warta/api/v1/items", params={"service": "konsultasi"}).json()
    assert listing["total"] == 1 and listing["items"][0]["title"] == "Konsultasi"
    assert client.get("/warta/api/v1/items", params={"status": "bogus"}).status_code == 422
    assert client.get("/warta/api/v1/items", params={"limit": 0}).status_code == 422
    diff = client.get(f"/warta/api/v1/items/{item_id}/diff").json()
    assert diff["from"]["kind"] == "naskah" and diff["to"]["kind"] == "koreksi"
    assert diff["body_html"] == "Naskah <del>berita.</del><ins>berita (koreksi).</ins>"
    assert diff["unified"].startswith("---")
    assert client.get(f"/warta/api/v1/items/{item_id}/diff", params={"from_version": 9}).status_code == 404
    preview = client.get(f"/warta/api/v1/items/{item_id}/preview").json()
    assert preview["ready"] and not preview["approved"] and preview["version"] == 2
    assert preview["body_html"] == "<p>Naskah berita (koreksi).</p>" and preview["photos"] == []


def test_api_multipart_intake_and_coverage_files(client, service, started_runs):
    as_user(client, "pelaksana")
    created = client.post("/warta/api/v1/intake", data={"title": "Layanan UPBS", "service": "upbs",
                                                        "activity_date": "2026-11-25", "submission_key": "m1"},
                          files=[("files", ("benih.png", PNG, "image/png"))])
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    assert started_runs[-1][0] == item_id
    bad_date = client.post("/warta/api/v1/intake", data={"title": "x", "activity_date": "kemarin"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "activity_date"
    bad_type = client.post("/warta/api/v1/intake", data={"title": "x"},
                           files=[("files", ("a.html", b"<script>", "text/html"))])
    assert bad_type.status_code == 422 and bad_type.json()["field"] == "files"
    recorded = client.post(f"/warta/api/v1/items/{item_id}/steps/meliput/files", data={"notes": "ok"},
                           files=[("files", ("suara.mp3", b"ID3xxxx", "audio/mpeg"))])
    assert recorded.status_code == 200, recorded.text
    kinds = sorted(a["kind"] for a in service.history(item_id)["assets"])
    assert kinds == ["audio", "photo"]
    as_user(client, "operator")
    assert client.post(f"/warta/api/v1/items/{item_id}/steps/menyusun/files",
                       data={"title": "t", "body": "b"}).status_code == 403


# ---------------------------------------------------------------- rendering
def test_publishable_html_keeps_the_allow_list_and_drops_the_rest():
    html = publishable_html(
        'Baris <b>tebal</b> & <i>miring</i>\nbaris dua <a href="javascript:alert(1)" onclick="x()">x</a>'
        '<script>alert(1)</script><img src=x onerror=alert(1)>\n\n'
        '<ul><li>satu</li></ul>\n\n<a href="https://bsip.pertanian.go.id">tautan</a> a < b'
    )
    assert "<b>tebal</b> &amp; <i>miring</i><br>" in html
    assert "script" not in html and "onclick" not in html and "javascript" not in html and "<img" not in html
    assert "<ul><li>satu</li></ul>" in html
    assert '<a href="https://bsip.pertanian.go.id" rel="noopener noreferrer">tautan</a> a &lt; b' in html
    assert publishable_html("Satu.\n\nDua.") == "<p>Satu.</p>\n<p>Dua.</p>"


def test_word_diff_marks_removed_and_added_words_and_escapes_them():
    assert word_diff_html("a <b> c", "a <i> c") == "a <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins> c"


def test_uploaded_file_names_cannot_leave_the_storage_root(client, service, storage_root):
    as_user(client, "pelaksana")
    created = client.post("/warta/api/v1/intake", data={"title": "Jalur berkas"},
                          files=[("files", ("../../../../tmp/evil.jpg", PNG, "image/jpeg")),
                                 ("files", ("..\\..\\win.png", PNG, "image/png"))])
    assert created.status_code == 201, created.text
    stored = sorted(p.resolve() for p in storage_root.rglob("*") if p.is_file())
    assert len(stored) == 2
    assert all(p.is_relative_to(storage_root.resolve()) for p in stored)
    assert all(p.parent.name == "assets" for p in stored)


# ---------------------------------------------------------------- report narrative
def test_the_operator_edits_the_report_narrative_and_every_version_is_kept(client, service, tmp_path):
    import subprocess

    from warta.models import ReportNarrative

    url = "/warta/desk/reports/2026-10/narrative"
    page = as_user(client, "operator").get(url + "?lang=id")
    assert page.status_code == 200 and 'data-testid="narrative-draft"' in page.text
    assert "Pada bulan ini 0 berita terbit" in page.text  # Warta's draft from the figures
    texts = {"summary": "Bulan ini sepi karena libur panjang.", "problems": "Tidak ada.",
             "follow_up": "Menjadwalkan liputan rutin.", "lang": "id"}
    saved = post_form(client, url, texts)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/reports?saved=2026-10")
    post_form(client, url, texts | {"follow_up": "Menjadwalkan liputan rutin setiap Senin."})
    with service.sessions() as session:
        kept = [(n.version, n.follow_up, n.edited_by) for n in session.query(ReportNarrative).order_by("version")]
    assert kept == [(1, "Menjadwalkan liputan rutin.", "operator"),
                    (2, "Menjadwalkan liputan rutin setiap Senin.", "operator")]
    pdf = tmp_path / "laporan.pdf"
    pdf.write_bytes(service.storage.get_bytes("reports/2026-10/laporan-2026-10.pdf"))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    assert "Bulan ini sepi karena libur panjang." in text and "setiap Senin." in text  # the newest version
    page = client.get(url + "?lang=id")
    assert "Versi 2 oleh Operator Website dan Medsos (dev)" in page.text and "Versi 1 oleh Operator Website dan Medsos (dev)" in page.text
    empty = post_form(client, url, texts | {"summary": "  "})
    assert empty.status_code == 422 and "tidak boleh kosong" in empty.text
    assert post_form(as_user(client, "pelaksana"), url, texts).status_code == 403
    assert as_user(client, "operator").get("/warta/desk/reports/2026-13/narrative").status_code == 404


def test_the_operator_makes_the_report_final_in_the_desk_and_a_correction_needs_a_reason(client, service):
    from warta.models import ReportFinal

    url = "/warta/desk/reports/2026-10"
    page = as_user(client, "operator").get(url + "/narrative?lang=id")
    assert 'data-testid="final-none"' in page.text and 'data-testid="final-form"' in page.text
    made = post_form(client, url + "/final", {"lang": "id"})
    assert made.status_code == 303 and made.headers["location"].endswith("/narrative?lang=id&final=1")
    page = client.get(url + "/narrative?lang=id")
    assert "Revisi 1: uraian versi 1, oleh Operator Website dan Medsos (dev)" in page.text and 'name="reason"' in page.text
    again = post_form(client, url + "/final", {"lang": "id"})
    assert again.status_code == 422 and "memerlukan alasan" in again.text
    assert post_form(client, url + "/final", {"lang": "id", "reason": "Angka tayang dikoreksi"}).status_code == 303
    assert post_form(as_user(client, "pelaksana"), url + "/final", {"lang": "id", "reason": "x"}).status_code == 403
    with service.sessions() as session:
        kept = [(f.revision, f.reason) for f in session.query(ReportFinal).order_by("revision")]
    assert kept == [(1, ""), (2, "Angka tayang dikoreksi")]
    assert service.storage.exists("reports/2026-10/laporan-2026-10-r1.pdf")
    assert service.storage.exists("reports/2026-10/laporan-2026-10-r2.pdf")


def test_the_checker_page_says_the_author_may_not_check_their_own_round(client, service):
    as_user(client, "admin")  # holds every role
    item_id = int(new_item(client).headers["location"].split("/")[-1].split("?")[0])
    base = f"/warta/desk/items/{item_id}"
    assert post_form(client, f"{base}/steps/meliput", {"notes": "Lengkap"}).status_code == 303
    assert post_form(client, f"{base}/steps/menyusun", {"title": "Judul", "body": "Isi."}).status_code == 303
    page = client.get(base)
    assert 'data-testid="own-manuscript"' in page.text and "memeriksanya sendiri" in page.text
    assert 'data-testid="step-form"' not in page.text
    refused = post_form(client, f"{base}/steps/memeriksa", {"title": "Judul", "body": "Isi."})
    assert refused.status_code == 403 and "may not check it" in refused.text
    as_user(client, "operator")
    assert 'data-testid="step-form"' in client.get(base).text


# ---------------------------------------------------------------- issue 15: deciding, month page, wording
def decision_ready(flow, channels=("x", "website", "facebook")) -> int:
    item_id = flow.create(title="Siswa belajar cabai", channels=list(channels))
    return flow.to_decision(item_id)


def test_deciding_shows_the_preview_first_then_the_bar_and_confirms_naming_the_channels(client, service, flow):
    item_id = decision_ready(flow)
    as_user(client, "subkoor")
    base = f"/warta/desk/items/{item_id}"
    page = client.get(base).text
    assert page.index('data-testid="preview"') < page.index('data-testid="decision-bar"') < page.index('id="reject"')
    asked = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve"})
    assert asked.status_code == 200 and service.get_item(item_id)["current_step"] == "menyetujui"
    confirm = asked.text.split('data-testid="confirm-approval"')[1].split("</section>")[0]
    # In channels.yaml's order, whatever order the item listed them in.
    assert re.findall(r"<li>([^<]+)</li>", confirm) == ["Website", "Facebook", "X"]
    assert "Terbitkan ke 3 kanal publik?" in confirm and "segera setelah Anda mengonfirmasi" in confirm
    assert 'name="confirm" value="yes"' in confirm
    done = post_form(client, f"{base}/steps/menyetujui", {"decision": "approve", "confirm": "yes"})
    assert done.status_code == 303 and service.get_item(item_id)["status"] == "publishing"


def test_rejecting_on_the_desk_takes_presets_and_names_short_reasons_in_a_focused_summary(client, service, flow):
    item_id = decision_ready(flow)
    as_user(client, "subkoor")
    base = f"/warta/desk/items/{item_id}"
    assert 'value="kutipan"' in client.get(base).text
    short = post_form(client, f"{base}/steps/menyetujui", {"decision": "reject", "reason": "kurang"})
    assert short.status_code == 422
    summary = short.text.split('data-testid="form-problem"')[0].rsplit("<div", 1)[1] + short.text.split(
        'data-testid="form-problem"')[1].split("</div>")[0]
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert 'href="#reason"' in summary and "minimal 12 karakter" in summary
    unknown = post_form(client, f"{base}/steps/menyetujui", {"decision": "reject", "reason_codes": "entah"})
    assert unknown.status_code == 422 and 'href="#reason-presets"' in unknown.text
    rejected = post_form(client, f"{base}/steps/menyetujui", {"decision": "reject", "reason_codes": ["data"]})
    assert rejected.status_code == 303
    assert service.history(item_id)["records"][-1]["reason"] == "Lengkapi data (nama, jabatan, angka, tempat)"


def test_api_rejection_reasons_answer_422_naming_the_field(client, service, flow):
    item_id = decision_ready(flow)
    as_user(client, "subkoor")
    url = f"/warta/api/v1/items/{item_id}/steps/menyetujui"
    short = client.post(url, json={"decision": "reject", "reason": "kurang"})
    assert short.status_code == 422 and short.json()["field"] == "reason"
    unknown = client.post(url, json={"decision": "reject", "reason_codes": ["entah"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "reason_codes"
    assert client.post(url, json={"decision": "reject", "reason_codes": ["kutipan"]}).status_code == 200


def test_the_head_of_the_unit_lands_on_the_month_so_far(client, service, flow, request):
    item_id = decision_ready(flow, channels=("website",))
    flow.approve(item_id)
    publication = service.publication_intent(item_id, "website")
    service.publication_done(publication.id, remote_id="1", url="https://example.go.id/siswa")
    waiting = flow.create(title="Berita yang menunggu lama")
    from warta.storage import Storage

    reports = Storage.default()  # where the report API reads them
    key = reports.put_bytes("reports/2026-09/laporan-2026-09.pdf", b"%PDF-1.4")
    request.addfinalizer(lambda: reports.delete(key))
    as_user(client, "kepala")
    landing = client.get("/warta/desk/")
    assert landing.status_code == 303 and landing.headers["location"] == "/warta/desk/month"
    month = client.get("/warta/desk/month")
    assert month.status_code == 200 and "Bulan ini: November 2026" in month.text
    published = month.text.split('data-testid="month-published"')[1].split("</section>")[0]
    assert re.findall(r'data-channel="(\w+)"><span class="figure">(\d+)', published)[:2] == [("website", "1"), ("facebook", "0")]
    levels = month.text.split('data-testid="month-levels"')[1].split("</section>")[0]
    assert 'data-step="menyetujui"' in levels and "100%" in levels
    assert f'/warta/desk/items/{waiting}"' in month.text.split('data-testid="month-waiting"')[1]
    assert "September 2026 (PDF)" in month.text and "Kepala unit" in month.text
    assert "September 2026" in client.get("/warta/desk/reports").text
    assert client.get("/warta/desk/?inbox=1").status_code == 200  # the inbox is still there


def test_logout_posts_with_csrf_and_drops_the_session(client):
    as_user(client, "pelaksana")
    page = client.get("/warta/desk/")
    assert 'action="/warta/desk/logout"' in page.text
    assert client.post("/warta/desk/logout", data={"csrf_token": "forged"}).status_code == 403
    out = client.post("/warta/desk/logout", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303 and out.headers["location"].startswith("/auth/login")


def test_airflow_link_embedding_names_and_channel_order(client, service, flow):
    item_id = flow.create(title="Urutan kanal", channels=["x", "website"])
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}").text
    assert 'data-testid="nav-airflow"' not in page and "/dags/" not in page
    assert "Pelaksana Kegiatan (dev)" in page  # full names from users.yaml
    assert re.search(r'data-testid="item-channels">Website, X<', page)
    assert 'data-testid="desk-header"' in page
    framed = client.get(f"/warta/desk/items/{item_id}", headers={"Sec-Fetch-Dest": "iframe"}).text
    assert 'data-testid="desk-header"' not in framed and 'class="embedded"' in framed
    assert 'data-testid="desk-header"' not in client.get(f"/warta/desk/items/{item_id}?embedded=1").text
    assert 'data-testid="nav-airflow"' in as_user(client, "operator").get("/warta/desk/").text
    assert 'data-testid="nav-airflow"' in as_user(client, "admin").get("/warta/desk/").text
