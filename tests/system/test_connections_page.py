"""The channels' connection types in a running api-server: the Connections page's form
data offers them with their fields, and its Test button makes the publisher's first
call (here against the sandbox website and the sandbox Graph API)."""

from __future__ import annotations

import pytest

from tests.system.conftest import APP_PASSWORD, GRAPH_TOKEN

pytestmark = pytest.mark.system


def test_the_connections_page_offers_the_channel_types(users):
    forms = {form["connection_type"]: form
             for form in users["admin"].http.get("/ui/connections/hook_meta").json()}
    assert forms["warta_wordpress"]["hook_name"] == "WordPress (Warta)"
    assert forms["warta_wordpress"]["standard_fields"]["password"]["title"] == "Application Password"
    assert set(forms["warta_facebook_page"]["extra_fields"]) == {"page_id", "api_version"}
    assert set(forms["warta_instagram"]["extra_fields"]) == {"ig_user_id", "api_version"}
    assert forms["warta_x"]["hook_name"] == "X" and "refresh_token" in forms["warta_x"]["extra_fields"]


def test_the_test_button_makes_each_publishers_first_call(users, website, social):
    admin = users["admin"].http
    site = {"connection_id": "warta_website_test", "conn_type": "warta_wordpress", "host": "127.0.0.1",
            "port": website.port, "schema": "http", "login": "warta"}
    tested = admin.post("/api/v2/connections/test", json={**site, "password": APP_PASSWORD})
    assert tested.status_code == 200 and tested.json()["status"] is True, tested.text
    refused = admin.post("/api/v2/connections/test", json={**site, "password": "not the password"}).json()
    assert refused["status"] is False and "did not accept the login" in refused["message"]
    assert "not the password" not in refused["message"]
    graph = social["graph"]
    page = admin.post("/api/v2/connections/test", json={
        "connection_id": "warta_facebook_test", "conn_type": "warta_facebook_page", "host": "127.0.0.1",
        "port": graph.port, "schema": "http", "password": GRAPH_TOKEN,
        "extra": '{"page_id": "%s"}' % graph.fake.page_id}).json()
    assert page["status"] is True and graph.fake.page_id in page["message"], page
