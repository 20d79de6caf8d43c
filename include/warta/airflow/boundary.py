"""Airflow behind the core's interfaces (``warta.boundary``): Connections, Variables and
the log masker, the channels' Hooks, ObjectStoragePath, the notifiers.

``implementations()`` is the ``warta.boundary`` entry point of the package: the core
loads it on first use in any process. Airflow is imported only when a method is
called, so wiring costs nothing in a process that never needs it.
"""

from __future__ import annotations

import logging
from typing import Any

from warta import boundary
from warta.boundary import ConnectionInfo, ConnectionNotFound, HttpConnection

log = logging.getLogger(__name__)


def _info(conn) -> ConnectionInfo:
    return ConnectionInfo(conn_id=conn.conn_id, conn_type=conn.conn_type, host=conn.host, port=conn.port,
                          schema=conn.schema, login=conn.login, password=conn.password,
                          extra=dict(conn.extra_dejson or {}))


class AirflowConnections:
    def get(self, conn_id: str) -> ConnectionInfo:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return _info(BaseHook.get_connection(conn_id))
        except AirflowNotFoundException:
            raise ConnectionNotFound(conn_id) from None

    async def aget(self, conn_id: str) -> ConnectionInfo:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return _info(await BaseHook.aget_connection(conn_id))
        except AirflowNotFoundException:
            raise ConnectionNotFound(conn_id) from None


class AirflowSecrets:
    """Airflow Variables (metadata DB, Fernet-encrypted, masked in the UI when the key
    says token/secret) and Airflow's log masker."""

    def get_json(self, key: str) -> Any:
        from airflow.sdk import Variable

        try:
            return Variable.get(key, default=None, deserialize_json=True)
        except Exception as exc:
            try:  # outside a task (the Connections page's Test button): the metadata DB
                from airflow.models.variable import Variable as StoredVariable

                return StoredVariable.get(key, default_var=None, deserialize_json=True)
            except Exception:
                log.warning("could not read Variable %s: %s", key, type(exc).__name__)
                return None

    def set_json(self, key: str, value: Any, description: str) -> None:
        from airflow.sdk import Variable

        try:
            Variable.set(key, value, serialize_json=True, description=description)
        except Exception:
            # Outside a task there is no Execution API: write the metadata DB (a rotated X
            # token that is not kept would lock the account out).
            from airflow.models.variable import Variable as StoredVariable

            StoredVariable.set(key, value, description=description, serialize_json=True)

    def mask(self, value: str) -> None:
        from airflow.sdk.log import mask_secret

        mask_secret(value)


class HookTransport:
    """A channel's session from its Hook (``warta.airflow.hooks``)."""

    def open(self, kind: str, conn_id: str) -> HttpConnection:
        from airflow.sdk.exceptions import AirflowNotFoundException

        from warta.airflow.hooks import CHANNEL_HOOKS

        hook = CHANNEL_HOOKS[kind](conn_id)
        try:
            connection = hook.get_connection(conn_id)
            session = hook.get_conn()
        except AirflowNotFoundException:
            raise ConnectionNotFound(conn_id) from None
        timeout = hook.merged_extra.get("timeout")
        return HttpConnection(session=session, base_url=hook.base_url, timeout=float(timeout) if timeout else None,
                              login=connection.login or "", password=connection.password or "",
                              extra=dict(connection.extra_dejson or {}))


class AirflowObjectStorage:
    def path(self, url: str):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(url)


def _notifier_sender(config):
    from warta.airflow.notifiers import AirflowNotifierSender

    return AirflowNotifierSender.from_config(config)


def implementations() -> boundary.Implementations:
    return boundary.Implementations(
        connections=AirflowConnections(), secrets=AirflowSecrets(), http=HookTransport(),
        object_storage=AirflowObjectStorage(), notification_sender=_notifier_sender,
    )
