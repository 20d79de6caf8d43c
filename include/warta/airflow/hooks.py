"""One Airflow Hook per channel: the HTTP provider's ``HttpHook`` with its own connection
type, so the Connections page offers "WordPress (Warta)", "Facebook Page", "Instagram"
and "X" with the fields each needs, and a Test button that makes the publisher's own
cheap credential call. Registered by ``warta.airflow.provider`` (the package's
``apache_airflow_provider`` entry point); the channels reach them only through
``warta.boundary.http()`` (``warta.airflow.boundary.HookTransport``).

Connections of type ``http`` (the ones Warta used before) keep working: the channel's
kind picks the hook, not the connection's type.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.http.hooks.http import HttpHook
from requests import Session

from warta.airflow.provider import CONNECTION_TYPES

USER_AGENT = "Warta newsroom automation"


class WartaHttpHook(HttpHook):
    """What every channel hook shares: JSON by default, Warta's own extra keys never sent
    as HTTP headers (``HttpHook`` turns every unknown extra key into one)."""

    # The channel kind of config/channels.yaml this hook serves.
    channel_kind = ""
    # Keys of the connection's extra that Warta reads itself.
    own_extra_keys: tuple[str, ...] = ()
    # The public API's address, for a connection without a host.
    default_host = ""
    # The connection's login and password are HTTP basic auth (WordPress); the other APIs
    # authenticate with their own header.
    basic_auth = False
    # Set from conn_type (warta.airflow.provider): the name on the Connections page, its
    # extra fields, and how the standard fields are labelled, hidden and prefilled.
    conn_fields: dict[str, dict[str, Any]] = {}
    ui_field_behaviour: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        form = CONNECTION_TYPES[cls.conn_type]
        cls.hook_name = form["hook-name"]
        cls.conn_fields = form["conn-fields"]
        cls.ui_field_behaviour = form["ui-field-behaviour"]

    def __init__(self, http_conn_id: str | None = None, **kwargs: Any):
        # Airflow builds a hook as cls(**{conn_name_attr: conn_id}) (the Test button).
        super().__init__(method="GET", http_conn_id=http_conn_id or self.default_conn_name, **kwargs)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form's behaviour as hooks state it (Airflow reads the provider info's copy)."""
        return {key.replace("-", "_"): value for key, value in cls.ui_field_behaviour.items()}

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> Session:
        session = super().get_conn({"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
                                   extra_options)
        for key in self.own_extra_keys:
            session.headers.pop(key, None)
        if not self.basic_auth:
            session.auth = None
        return session

    def test_connection(self) -> tuple[bool, str]:
        """The publisher's own first call with this connection's credentials."""
        from warta.channels.base import ChannelError

        try:
            return True, self.check_credentials()
        except ChannelError as exc:
            return False, str(exc)

    def check_credentials(self) -> str:
        raise NotImplementedError

    def _channel(self):
        from warta.config import Channel

        return Channel(id=self.http_conn_id, name_id=self.hook_name, name_en=self.hook_name, kind=self.channel_kind,
                       conn_id=self.http_conn_id)


class WordPressHook(WartaHttpHook):
    default_conn_name = "warta_website"
    conn_type = "warta_wordpress"
    channel_kind = "wordpress"
    basic_auth = True

    def check_credentials(self) -> str:
        from warta.channels.wordpress import WordPressPublisher

        user = WordPressPublisher(self._channel()).verify_credentials()
        roles = ", ".join(user.get("roles") or []) or "no role"
        name = user.get("slug") or user.get("name")
        return f"WordPress accepts {name!r} ({roles}): may publish posts and upload files"


class FacebookPageHook(WartaHttpHook):
    default_conn_name = "warta_facebook"
    conn_type = "warta_facebook_page"
    channel_kind = "facebook_page"
    own_extra_keys = ("page_id", "api_version", "access_token")
    default_host = "https://graph.facebook.com"

    node_extra, node_meaning = "page_id", "the Facebook Page"

    def check_credentials(self) -> str:
        from warta.channels.graph import GraphApi

        api = GraphApi(self._channel())
        node = api.required_extra(self.node_extra, f"{self.node_meaning}'s id")
        api.verify_credentials(node, self.node_meaning)
        return f"the token reads {self.node_meaning} {node} (Graph API {api.version})"


class InstagramHook(FacebookPageHook):
    default_conn_name = "warta_instagram"
    conn_type = "warta_instagram"
    channel_kind = "instagram"
    own_extra_keys = ("ig_user_id", "api_version", "access_token")
    node_extra, node_meaning = "ig_user_id", "the Instagram account"


class XHook(WartaHttpHook):
    default_conn_name = "warta_x"
    conn_type = "warta_x"
    channel_kind = "x"
    own_extra_keys = ("refresh_token", "token_url", "public_url", "username")
    default_host = "https://api.x.com"

    def check_credentials(self) -> str:
        from warta.channels.x import XApi

        me = XApi(self._channel()).call("GET", "/2/users/me", "checking the account's tokens (GET /2/users/me)")
        return f"X accepts the tokens of @{(me.get('data') or {}).get('username')}"


CHANNEL_HOOKS: dict[str, type[WartaHttpHook]] = {
    hook.channel_kind: hook for hook in (WordPressHook, FacebookPageHook, InstagramHook, XHook)
}
