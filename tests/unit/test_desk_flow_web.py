"""The desk's and the API's side of whose turn it is: the alerts page and the nav's unread
count, claims (409 when taken), "Tugas saya"/"Tim", the failures block and "Coba lagi"."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from warta.web import app as web_app
from warta.web import deps
from warta.web.routers import flow as flow_api
from warta.workflow import Conflict

from tests.unit.test_desk import HeaderAuth, as_user, post_form


class Clearer:
    """Stands in for Airflow's clearTaskInstances: records the calls; can say "running"."""

    def __init__(self):
        self.calls = []
        self.running = False

    def __call__(self, *args):
        if self.running:
            raise Conflict("the retry is running already")
        self.calls.append(args)


@pytest.fixture
def clearer():
    return Clearer()


@pytest.fixture
def client(service, clearer):
    app = web_app.create_app(auth=HeaderAuth())
    app.dependency_overrides[deps.editorial_service] = lambda: service
    app.dependency_overrides[flow_api.task_clearer] = lambda: clearer
    root = FastAPI()
    root.mount("/warta", app)
    return TestClient(root, follow_redirects=False)


def _failed(service, flow) -> int:
    item_id = flow.create(channels=["website", "facebook"])
    flow.to_publish(item_id)
    publication = service.publication_intent(item_id, "website")
    service.publication_failed(publication.id, "Website: wordpress: creating the post: HTTP 401: "
                                               "rest_forbidden; fix Airflow Connection 'warta_website'")
    return item_id


# ------------------------------------------------------------------ alerts
def test_the_nav_counts_unread_alerts_and_the_alerts_page_marks_them_read(client, service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    as_user(client, "pelaksana2")
    inbox = client.get("/warta/desk/")
    assert 'data-testid="unread-count"' in inbox.text and "1 belum dibaca" in inbox.text
    page = client.get("/warta/desk/alerts")
    assert page.status_code == 200 and "Menunggu Anda" in page.text and 'data-read="no"' in page.text
    assert page.headers["content-security-policy"]
    [alert] = service.sessions().execute(__import__("sqlalchemy").text("select id from alerts")).scalars().all()
    opened = post_form(client, "/warta/desk/alerts/read",
                       {"id": str(alert), "next": f"/warta/desk/items/{item_id}"})
    assert opened.status_code == 303 and opened.headers["location"] == f"/warta/desk/items/{item_id}"
    assert 'data-testid="unread-count"' not in client.get("/warta/desk/").text
    assert 'data-read="yes"' in client.get("/warta/desk/alerts").text
    # Another user's reads are their own: admin still has it unread.
    as_user(client, "admin")
    assert "1 belum dibaca" in client.get("/warta/desk/alerts").text
    assert post_form(client, "/warta/desk/alerts/read", {"all": "1"}).headers["location"] == "/warta/desk/alerts?marked=1"
    assert "0 belum dibaca" in client.get("/warta/desk/alerts?lang=id").text


def test_marking_someone_elses_alert_is_404(client, service, flow):
    flow.cover(flow.create())
    as_user(client, "operator")
    client.get("/warta/desk/alerts")  # the page gives the form its CSRF cookie
    assert post_form(client, "/warta/desk/alerts/read", {"id": "1"}).status_code == 404
    assert post_form(client, "/warta/desk/alerts/read", {"id": "abc"}).status_code == 404


def test_the_alerts_api(client, service, flow):
    flow.cover(flow.create())
    as_user(client, "pelaksana2")
    mine = client.get("/warta/api/v1/me/alerts").json()
    assert mine["unread"] == 1 and mine["alerts"][0]["kind"] == "handoff" and mine["alerts"][0]["read"] is False
    marked = client.post("/warta/api/v1/me/alerts/read", json={"ids": [mine["alerts"][0]["id"]]})
    assert marked.json() == {"marked": 1, "unread": 0}
    assert client.get("/warta/api/v1/me/alerts?unread=true").json()["alerts"] == []
    assert client.post("/warta/api/v1/me/alerts/read", json={"ids": [999]}).status_code == 404
    assert client.get("/warta/api/v1/me/alerts?limit=0").status_code == 422


# ------------------------------------------------------------------ claims
def test_claims_over_the_api(client, service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    as_user(client, "pelaksana2")
    taken = client.post(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim")
    assert taken.status_code == 200 and taken.json()["username"] == "pelaksana2"
    as_user(client, "pelaksana")
    conflict = client.post(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim")
    assert conflict.status_code == 409 and "Pelaksana Kegiatan 2" in conflict.text
    assert client.delete(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim").status_code == 409
    as_user(client, "operator")
    assert client.post(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim").status_code == 403
    as_user(client, "pelaksana2")
    assert client.delete(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim").json()["released"] is True


def test_claiming_in_the_desk_and_the_inbox_groups(client, service, flow):
    item_id = flow.create("Bimtek budidaya cabai")
    flow.cover(item_id)
    as_user(client, "pelaksana2")
    inbox = client.get("/warta/desk/")
    assert "Tugas saya" in inbox.text and "Tim" in inbox.text and 'data-testid="inbox-mine-empty"' in inbox.text
    page = client.get(f"/warta/desk/items/{item_id}")
    assert "Saya kerjakan" in page.text
    claimed = post_form(client, f"/warta/desk/items/{item_id}/steps/menyusun/claim", {})
    assert claimed.status_code == 303
    page = client.get(claimed.headers["location"])
    assert "Sedang Anda kerjakan" in page.text and "Lepaskan" in page.text
    inbox = client.get("/warta/desk/")
    mine = inbox.text.split('data-testid="inbox-mine"')[1].split("</ol>")[0]
    assert "Bimtek budidaya cabai" in mine
    # A colleague sees who has it and cannot take it.
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    assert "Sedang dikerjakan oleh Pelaksana Kegiatan 2 (dev)" in page.text and "Saya kerjakan" not in page.text
    refused = post_form(client, f"/warta/desk/items/{item_id}/steps/menyusun/claim", {})
    assert refused.status_code == 409 and "sudah diambil oleh Pelaksana Kegiatan 2" in refused.text


def test_a_returned_item_is_marked_and_first_in_my_tasks(client, service, flow, clock):
    waiting = flow.create("Menunggu biasa")
    flow.cover(waiting)
    clock.advance(60)
    returned = flow.to_decision(flow.create("Dikembalikan"))
    flow.reject(returned, reason="Tambahkan kutipan narasumber")
    as_user(client, "pelaksana")
    text = client.get("/warta/desk/").text
    mine = text.split('data-testid="inbox-mine"')[1].split("</ol>")[0]
    assert "Dikembalikan" in mine and 'data-testid="returned"' in mine and "Tambahkan kutipan narasumber" in mine
    team = text.split('data-testid="inbox"')[1].split("</ol>")[0]
    assert "Menunggu biasa" in team


# ------------------------------------------------------------------ failures
def test_a_failed_publication_is_a_state_of_its_own(client, service, flow):
    item_id = _failed(service, flow)
    as_user(client, "operator")
    page = client.get(f"/warta/desk/items/{item_id}").text
    assert 'data-testid="channel-failures"' in page and "Gagal terbit: Website" in page
    assert "token kedaluwarsa" in page  # the cause in plain Indonesian
    assert "<details" in page and "rest_forbidden" in page  # the raw error behind the toggle
    assert "berjalan otomatis" not in page and "Sedang tayang" not in page
    inbox = client.get("/warta/desk/").text
    assert 'data-testid="channel-failures"' in inbox and f"/warta/desk/items/{item_id}" in inbox
    assert client.get("/warta/api/v1/items").json()["items"][0]["status"] == "failed"
    # Not the Operator: the block is on the item page, without the button; not in the inbox.
    as_user(client, "subkoor")
    page = client.get(f"/warta/desk/items/{item_id}").text
    assert "Gagal terbit: Website" in page and 'data-testid="retry"' not in page
    assert 'data-testid="channel-failures"' not in client.get("/warta/desk/").text


def test_coba_lagi_retries_once_and_a_second_click_is_409(client, service, flow, clearer):
    item_id = _failed(service, flow)
    as_user(client, "operator")
    client.get(f"/warta/desk/items/{item_id}")
    first = post_form(client, f"/warta/desk/items/{item_id}/publications/website/retry", {})
    assert first.status_code == 303 and first.headers["location"].endswith("?retrying=website")
    assert clearer.calls == [("warta_berita", f"item-{item_id}-round-1", "updating", 0)]
    page = client.get(first.headers["location"]).text
    assert "Sedang dicoba lagi: Website" in page and 'data-testid="channel-failures"' not in page
    second = post_form(client, f"/warta/desk/items/{item_id}/publications/website/retry", {})
    assert second.status_code == 409 and "sudah berjalan" in second.text
    assert len(clearer.calls) == 1
    assert client.post(f"/warta/api/v1/items/{item_id}/publications/website/retry").status_code == 409
    history = client.get(f"/warta/api/v1/items/{item_id}").json()
    assert [e["actor"] for e in history["audit"] if e["action"] == "publish_retry"] == ["operator"]


def test_retry_api_and_airflow_saying_running(client, service, flow, clearer):
    item_id = _failed(service, flow)
    as_user(client, "operator")
    clearer.running = True
    assert client.post(f"/warta/api/v1/items/{item_id}/publications/website/retry").status_code == 409
    # Airflow refused: the failure stays open for the next try.
    assert [f["channel"] for f in client.get("/warta/api/v1/failures").json()] == ["website"]
    clearer.running = False
    answer = client.post(f"/warta/api/v1/items/{item_id}/publications/website/retry")
    assert answer.status_code == 200 and answer.json()["task_id"] == "updating"
    as_user(client, "pelaksana")
    assert client.post(f"/warta/api/v1/items/{item_id}/publications/facebook/retry").status_code == 403
