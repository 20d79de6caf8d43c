"""The app's gates, with real Airflow tokens: body limits before a body is read,
authentication before an upload is read, CSRF for cookie writes (an empty Bearer header
is no Bearer), tokens of unknown users, and the security headers of pages and downloads."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from warta.airflow.web_auth import AirflowAuthenticator, create_airflow_web_app
from warta.web import deps
from warta.web.csrf import CSRF_COOKIE, CSRF_HEADER, CsrfTokens
from warta.web.request_guard import RequestGuard
from warta.config import Limits


@pytest.fixture
def app(service, airflow_tokens):
    web = create_airflow_web_app()
    web.dependency_overrides[deps.editorial_service] = lambda: service
    root = FastAPI()
    root.mount("/warta", web)
    return root


@pytest.fixture
def client(app):
    return TestClient(app, follow_redirects=False)


def _call(app, method: str, path: str, headers: dict[str, str], chunks: list[bytes]):
    """One request straight through ASGI; returns (status, chunks the app read)."""
    read = []
    pending = list(chunks)

    async def receive():
        if not pending:
            return {"type": "http.request", "body": b"", "more_body": False}
        chunk = pending.pop(0)
        read.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    started = {}

    async def send(message):
        if message["type"] == "http.response.start":
            started["status"] = message["status"]

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
             "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    return started.get("status"), read


def test_a_body_over_the_limit_is_refused_from_its_content_length_unread(app):
    status, read = _call(app, "POST", "/warta/api/v1/intake",
                         {"content-type": "multipart/form-data; boundary=x", "content-length": str(300 * 1024 * 1024)},
                         [b"x" * 1024] * 4)
    assert status == 413 and read == []
    status, read = _call(app, "POST", "/warta/api/v1/items",
                         {"content-type": "application/json", "content-length": str(2 * 1024 * 1024)}, [b"{}"])
    assert status == 413 and read == []


def test_a_chunked_body_is_cut_off_at_the_limit():
    async def endless(scope, receive, send):
        while (await receive()).get("more_body"):
            pass

    guard = RequestGuard(endless, limits=lambda: Limits(form_max_bytes=3 * 1024))
    status, read = _call(guard, "POST", "/x", {"content-type": "application/json"}, [b"x" * 1024] * 50)
    assert status == 413
    assert len(read) == 4  # 3 KB allowed, the 4th KB refused, the other 46 never read


def test_an_anonymous_upload_is_refused_before_its_body_is_read(app):
    headers = {"content-type": "multipart/form-data; boundary=x", "content-length": str(10 * 1024 * 1024)}
    status, read = _call(app, "POST", "/warta/api/v1/intake", headers, [b"--x\r\n"] + [b"x" * 4096] * 10)
    assert status == 401 and read == []
    status, read = _call(app, "POST", "/warta/api/v1/items/1/steps/meliput/files", headers, [b"x" * 4096] * 10)
    assert status == 401 and read == []


def test_nul_in_a_path_or_query_is_a_clear_422(client, airflow_tokens):
    bearer = {"Authorization": f"Bearer {airflow_tokens['operator']}"}
    answer = client.get("/warta/api/v1/items?q=a%00b", headers=bearer)
    assert answer.status_code == 422 and "NUL" in answer.json()["message"] and answer.json()["field"] == "query"
    assert client.get("/warta/api/v1/items/1%00/preview", headers=bearer).status_code == 422


def test_nan_infinity_and_lone_surrogates_in_json_are_422_not_a_crash(client, airflow_tokens):
    bearer = {"Authorization": f"Bearer {airflow_tokens['pelaksana']}", "content-type": "application/json"}
    for body in ('{"title": NaN}', '{"title": Infinity, "notes": -Infinity}', '{"title": "a\\ud800b"}',
                 '{"title": "a\\u0000b"}'):
        answer = client.post("/warta/api/v1/items", content=body, headers=bearer)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"] == "invalid_input"


def test_ids_beyond_64_bits_are_422_or_404_never_a_crash(client, airflow_tokens):
    bearer = {"Authorization": f"Bearer {airflow_tokens['operator']}"}
    for path in (f"/warta/api/v1/items/{2**64}", f"/warta/api/v1/items?offset={2**64}",
                 f"/warta/api/v1/items/1/assets/{2**70}", f"/warta/api/v1/items/1/diff?to_version={2**64}"):
        assert client.get(path, headers=bearer).status_code == 422, path
    desk_cookie = {"_token": airflow_tokens["operator"]}
    assert client.get(f"/warta/desk/items/{2**64}", cookies=desk_cookie).status_code == 404
    assert client.get(f"/warta/desk/runs/item-{2**70}-round-1", cookies=desk_cookie).status_code == 303
    assert client.get(f"/warta/desk/items?offset={2**70}", cookies=desk_cookie).status_code == 200


def test_an_empty_bearer_header_does_not_skip_the_csrf_check(client, airflow_tokens):
    cookie = {"_token": airflow_tokens["pelaksana"]}
    item = {"title": "Kegiatan"}
    for authorization in ("Bearer ", "Bearer", "bearer    "):
        client.cookies.clear()
        answer = client.post("/warta/api/v1/items", json=item, cookies=cookie,
                             headers={"Authorization": authorization})
        assert answer.status_code == 403 and CSRF_HEADER in answer.text, authorization
    token = CsrfTokens(AirflowAuthenticator().secret_key()).new("pelaksana")
    answer = client.post("/warta/api/v1/items", json=item, cookies=cookie | {CSRF_COOKIE: token},
                         headers={"Authorization": "Bearer ", CSRF_HEADER: token})
    assert answer.status_code == 201, answer.text
    bearer = client.post("/warta/api/v1/items", json=item,
                         headers={"Authorization": f"Bearer {airflow_tokens['pelaksana']}"})
    assert bearer.status_code == 201


def test_a_signed_token_of_an_unknown_user_is_refused(client, airflow_tokens):
    answer = client.get("/warta/api/v1/me", headers={"Authorization": f"Bearer {airflow_tokens['stranger']}"})
    assert answer.status_code == 401 and "tidak terdaftar" in answer.json()["detail"]
    page = client.get("/warta/desk/", cookies={"_token": airflow_tokens["stranger"]})
    assert page.status_code == 403 and "not registered" in page.text
    assert client.get("/warta/api/v1/me", headers={"Authorization": f"Bearer {airflow_tokens['kepala']}"}).json() == {
        "username": "kepala", "roles": []}


def test_desk_pages_forbid_script_and_report_downloads_are_not_sniffed(client, airflow_tokens, monkeypatch):
    page = client.get("/warta/desk/", cookies={"_token": airflow_tokens["operator"]})
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "object-src 'none'" in policy
    monkeypatch.setattr("warta.report.store.read_report",
                        lambda storage, month, fmt, lang: (b"<script>alert(1)</script>", "laporan.html", "text/html"))
    download = client.get("/warta/api/v1/reports/2026-10/html",
                          headers={"Authorization": f"Bearer {airflow_tokens['kepala']}"})
    assert download.status_code == 200
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in download.headers["content-security-policy"]


def test_the_openapi_document_describes_every_answer(client):
    document = client.get("/warta/api/v1/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, (method, path)
            for code in ("401", "409", "413", "422"):
                assert code in operation["responses"], (method, path, code)
            content = operation["responses"][success[0]].get("content", {})
            schema = json.dumps(content)
            assert content and schema != "{}", (method, path)
