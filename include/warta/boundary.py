"""What Warta's core needs from the platform it runs on, as small interfaces.

The core (everything outside ``warta.airflow``) never imports Airflow. It asks this
module for:

- ``connections()``: connection lookup by id (the editorial DB, Airflow's REST API),
- ``secrets()``: small secret values kept between processes (X's rotating tokens) and
  a masker that keeps them out of logs,
- ``http()``: the HTTP transport of a channel (a session from the channel's connection),
- ``object_storage()``: paths in remote object storage (S3 and the like),
- ``notification_sender(config)``: where alerts go (email, chat).

``warta.airflow.boundary`` implements them with Airflow (Connections, Variables, the
channels' Hooks, ObjectStoragePath, the notifiers) and registers itself under the
package entry point group ``warta.boundary``; the first use wires it in, in any process
(tasks, triggerer, api-server, CLI, outbox). Tests may wire their own with ``wire()``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Protocol

import requests

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "warta.boundary"


class BoundaryNotWired(RuntimeError):
    """No implementation of the core's interfaces is installed or wired."""


class ConnectionNotFound(LookupError):
    """No connection with that id is defined."""

    def __init__(self, conn_id: str):
        super().__init__(f"connection {conn_id!r} is not defined")
        self.conn_id = conn_id


@dataclass(frozen=True)
class ConnectionInfo:
    """The fields of a connection the core reads (an Airflow Connection's, by name)."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.extra


class Connections(Protocol):
    def get(self, conn_id: str) -> ConnectionInfo:
        """The connection, or ``ConnectionNotFound``."""

    async def aget(self, conn_id: str) -> ConnectionInfo:
        """Like ``get`` for async code (the triggerer's event loop)."""


class Secrets(Protocol):
    def get_json(self, key: str) -> Any:
        """The value stored under ``key`` (None when there is none or it cannot be read)."""

    def set_json(self, key: str, value: Any, description: str) -> None:
        """Store ``value`` under ``key`` for every process (encrypted at rest)."""

    def mask(self, value: str) -> None:
        """Hide ``value`` wherever a log might print it."""


@dataclass
class HttpConnection:
    """A channel's HTTP session and what its connection says besides the address."""

    session: requests.Session
    base_url: str
    timeout: float | None
    login: str
    password: str
    extra: dict[str, Any]


class HttpTransport(Protocol):
    def open(self, kind: str, conn_id: str) -> HttpConnection:
        """The session for channel kind ``kind`` (``wordpress``, ``facebook_page``,
        ``instagram``, ``x``) from connection ``conn_id``, or ``ConnectionNotFound``."""


class ObjectStorage(Protocol):
    def path(self, url: str) -> Any:
        """A pathlib-like object for ``url`` (``s3://bucket/prefix``)."""


class NotificationSender(Protocol):
    def send(self, notification: Any) -> None:
        """Deliver a ``warta.alerts.Notification`` or raise (the alert keeps the error)."""


@dataclass
class Implementations:
    connections: Connections
    secrets: Secrets
    http: HttpTransport
    object_storage: ObjectStorage
    notification_sender: Callable[[Any], NotificationSender]


_wired: Implementations | None = None
_lock = threading.Lock()


def wire(implementations: Implementations) -> None:
    """Use ``implementations`` from now on (the platform's, or a test's)."""
    global _wired
    with _lock:
        _wired = implementations


def unwire() -> None:
    """Forget the wired implementations (the next use loads the installed ones again)."""
    global _wired
    with _lock:
        _wired = None


def _implementations() -> Implementations:
    global _wired
    with _lock:
        if _wired is None:
            found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
            if not found:
                raise BoundaryNotWired(
                    f"no implementation of Warta's platform interfaces: install warta (its entry point group "
                    f"{ENTRY_POINT_GROUP!r} names warta.airflow.boundary) or call warta.boundary.wire()"
                )
            _wired = found[0].load()()
        return _wired


def connections() -> Connections:
    return _implementations().connections


def secrets() -> Secrets:
    return _implementations().secrets


def http() -> HttpTransport:
    return _implementations().http


def object_storage() -> ObjectStorage:
    return _implementations().object_storage


def notification_sender(config) -> NotificationSender:
    return _implementations().notification_sender(config)
