"""The channels' Airflow Hooks: registered the Airflow way (the providers manager sees the
four connection types with their fields), and each Test button makes the publisher's own
cheap credential call against the channel's contract fake."""

from __future__ import annotations

import json

import pytest

from tests.fakes.graph import graph_connection_json, serve_fake_graph
from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from tests.fakes.x import serve_fake_x, x_connection_json
from warta.airflow.hooks import FacebookPageHook, InstagramHook, WordPressHook, XHook
from warta.channels import x as x_channel

EXPECTED = {
    "warta_wordpress": ("WordPress (Warta)", WordPressHook, ["timeout"]),
    "warta_facebook_page": ("Facebook Page", FacebookPageHook, ["page_id", "api_version"]),
    "warta_instagram": ("Instagram", InstagramHook, ["ig_user_id", "api_version"]),
    "warta_x": ("X", XHook, ["refresh_token", "username"]),
}


@pytest.fixture(scope="module")
def providers():
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager()


def test_the_providers_manager_sees_warta_and_its_four_hooks(providers):
    assert "warta" in providers.providers
    for conn_type, (hook_name, hook_class, fields) in EXPECTED.items():
        hook = providers.hooks[conn_type]
        assert hook is not None, conn_type
        assert (hook.hook_name, hook.hook_class_name, hook.connection_type) == (
            hook_name, f"{hook_class.__module__}.{hook_class.__name__}", conn_type)
        for field in fields:
            assert f"extra__{conn_type}__{field}" in providers.connection_form_widgets, (conn_type, field)
        behaviour = providers.field_behaviours[conn_type]
        assert behaviour["relabeling"]["password"] and behaviour["placeholders"]
    widgets = providers.connection_form_widgets
    assert widgets["extra__warta_x__refresh_token"].is_sensitive
    assert not widgets["extra__warta_facebook_page__page_id"].is_sensitive
    assert "login" in providers.field_behaviours["warta_facebook_page"]["hidden_fields"]


def test_the_connections_page_offers_the_four_forms():
    """What the api-server's hook-meta endpoint gives the Connections page's form."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    forms = {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}
    for conn_type, (hook_name, _, fields) in EXPECTED.items():
        assert forms[conn_type].hook_name == hook_name
        assert list(forms[conn_type].extra_fields) == fields
    assert forms["warta_wordpress"].standard_fields.password.title == "Application Password"
    assert forms["warta_facebook_page"].standard_fields.login.hidden
    assert forms["warta_x"].standard_fields.login.title == "OAuth 2.0 client id"


def test_wordpress_test_button(monkeypatch):
    site = serve_fake_wordpress(user="warta", application_password="good pass")
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SITE_TEST", airflow_connection_json(site, login="warta", password="good pass"))
        ok, message = WordPressHook("site_test").test_connection()
        assert ok and "'warta'" in message, message
        monkeypatch.setenv("AIRFLOW_CONN_SITE_TEST", airflow_connection_json(site, login="warta", password="wrong"))
        ok, message = WordPressHook("site_test").test_connection()
        assert not ok and "did not accept the login" in message and "wrong" not in message
    finally:
        site.stop()


def test_graph_test_buttons_read_the_page_and_the_account(monkeypatch):
    graph = serve_fake_graph(tokens=("good-token",))
    try:
        monkeypatch.setenv("AIRFLOW_CONN_FB_TEST", graph_connection_json(graph, token="good-token",
                                                                         page_id=graph.fake.page_id))
        ok, message = FacebookPageHook("fb_test").test_connection()
        assert ok and graph.fake.page_id in message, message
        monkeypatch.setenv("AIRFLOW_CONN_IG_TEST", graph_connection_json(graph, token="good-token",
                                                                         ig_user_id=graph.fake.ig_user_id))
        ok, message = InstagramHook("ig_test").test_connection()
        assert ok and graph.fake.ig_user_id in message, message
        monkeypatch.setenv("AIRFLOW_CONN_FB_TEST", graph_connection_json(graph, token="unknown-token-xyz",
                                                                         page_id=graph.fake.page_id))
        ok, message = FacebookPageHook("fb_test").test_connection()
        assert not ok and "fb_test" in message and "unknown-token-xyz" not in message
    finally:
        graph.stop()


def test_x_test_button_refreshes_the_token_and_reads_the_account(monkeypatch):
    api = serve_fake_x(client_id="warta-app", refresh_token="first-refresh")
    saved = x_channel.MemoryTokenStore()
    monkeypatch.setattr(x_channel, "VariableTokenStore", lambda: saved)
    x_channel._cached_tokens.clear()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_X_TEST", x_connection_json(api, client_id="warta-app",
                                                                    refresh_token="first-refresh"))
        ok, message = XHook("x_test").test_connection()
        assert ok and message.startswith("X accepts the tokens of @"), message
        assert saved.load("x_test")["refresh_token"] != "first-refresh"  # rotated, and kept
        x_channel._cached_tokens.clear()
        monkeypatch.setenv("AIRFLOW_CONN_X_TEST", x_connection_json(api, client_id="warta-app",
                                                                    refresh_token="never-issued"))
        saved.saved.clear()
        ok, message = XHook("x_test").test_connection()
        assert not ok and "refused the refresh token" in message
    finally:
        x_channel._cached_tokens.clear()
        api.stop()


def test_a_connection_of_the_new_type_publishes_like_an_http_one(monkeypatch):
    """Connections made on the Connections page carry conn_type warta_wordpress; those of
    before carry http: the channel's kind picks the hook either way."""
    site = serve_fake_wordpress(user="warta", application_password="good pass")
    try:
        typed = json.loads(airflow_connection_json(site, login="warta", password="good pass"))
        monkeypatch.setenv("AIRFLOW_CONN_SITE_TEST", json.dumps({**typed, "conn_type": "warta_wordpress"}))
        ok, message = WordPressHook("site_test").test_connection()
        assert ok, message
    finally:
        site.stop()


def test_own_extra_keys_are_never_sent_as_headers(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FB_TEST", json.dumps({
        "conn_type": "warta_facebook_page", "password": "tok",
        "extra": {"page_id": "1", "api_version": "v26.0", "X-Custom": "kept"}}))
    session = FacebookPageHook("fb_test").get_conn()
    assert "page_id" not in session.headers and "api_version" not in session.headers
    assert session.headers["X-Custom"] == "kept" and session.auth is None
