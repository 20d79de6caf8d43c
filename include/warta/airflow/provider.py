"""Warta as an Airflow provider (the package's ``apache_airflow_provider`` entry point):
the channels' connection types, so ``airflow providers list`` and the Connections page
offer "WordPress (Warta)", "Facebook Page", "Instagram" and "X" with their fields and a
Test button (``[core] test_connection = Enabled``).

The forms are declared here as data (``conn-fields``, ``ui-field-behaviour``: Airflow
3.2+ reads them without importing the hooks; a hook's ``get_connection_form_widgets``
is deprecated since 3.2.0); the hooks in ``warta.airflow.hooks`` take theirs from here.
This module imports nothing: every Airflow process reads provider info early.
"""

from __future__ import annotations

_TEXT = {"type": ["string", "null"]}
_SECRET = {"type": ["string", "null"], "format": "password"}



def _graph_form(hook_class: str, hook_name: str, node_key: str, node_label: str, node_description: str, *,
                token_label: str, token_placeholder: str) -> dict:
    """A Graph API connection: a token and the id of the node it publishes to."""
    return {
        "hook-class-name": f"warta.airflow.hooks.{hook_class}",
        "hook-name": hook_name,
        "conn-fields": {
            node_key: {"label": node_label, "description": node_description, "schema": _TEXT},
            "api_version": {"label": "Graph API version",
                            "description": "Empty: channels.yaml graph_api.default_version.", "schema": _TEXT},
        },
        "ui-field-behaviour": {
            "hidden-fields": ["login"],
            "relabeling": {"host": "Graph API host", "schema": "Scheme", "password": token_label},
            "placeholders": {"host": "graph.facebook.com", "schema": "https", "password": token_placeholder},
        },
    }


CONNECTION_TYPES: dict[str, dict] = {
    "warta_wordpress": {
        "hook-class-name": "warta.airflow.hooks.WordPressHook",
        "hook-name": "WordPress (Warta)",
        "conn-fields": {
            "timeout": {"label": "Timeout (seconds)", "description": "Per request (default 60; uploads can be large).",
                        "schema": {"type": ["integer", "null"]}},
        },
        "ui-field-behaviour": {
            "hidden-fields": [],
            "relabeling": {"host": "Site address", "schema": "Scheme", "login": "WordPress user",
                           "password": "Application Password"},
            "placeholders": {"host": "www.example.go.id", "schema": "https", "port": "443", "login": "redaksi",
                             "password": "xxxx xxxx xxxx xxxx xxxx xxxx"},
        },
    },
    "warta_facebook_page": _graph_form(
        "FacebookPageHook", "Facebook Page", "page_id", "Page id", "The Facebook Page's numeric id.",
        token_label="Page access token", token_placeholder="a long-lived Page access token"),
    "warta_instagram": _graph_form(
        "InstagramHook", "Instagram", "ig_user_id", "Instagram account id",
        "The Instagram professional account's id (ig-user-id).",
        token_label="Access token", token_placeholder="token of the user who manages the account"),
    "warta_x": {
        "hook-class-name": "warta.airflow.hooks.XHook",
        "hook-name": "X",
        "conn-fields": {
            "refresh_token": {"label": "Refresh token", "schema": _SECRET,
                              "description": "OAuth 2.0 with offline.access; Warta keeps the rotated pair in a "
                                             "Variable."},
            "username": {"label": "Account name", "description": "Without @; read from the API when empty.",
                         "schema": _TEXT},
        },
        "ui-field-behaviour": {
            "hidden-fields": [],
            "relabeling": {"host": "API host", "schema": "Scheme", "login": "OAuth 2.0 client id",
                           "password": "Client secret"},
            "placeholders": {"host": "api.x.com", "schema": "https", "login": "the app's client id",
                             "password": "empty for a public client"},
        },
    },
}


def get_provider_info() -> dict:
    return {
        "package-name": "warta",
        "name": "Warta",
        "description": "Warta's publishing channels: WordPress, Facebook Page, Instagram, X.",
        "versions": ["0.1.0"],
        "hooks": [{"integration-name": "Warta", "python-modules": ["warta.airflow.hooks"]}],
        "connection-types": [{"connection-type": conn_type, **form} for conn_type, form in CONNECTION_TYPES.items()],
    }
