"""Connecting to the editorial database and migrating it.

The database is named by the Airflow Connection ``warta_db`` (any SQLAlchemy backend:
a SQLite file in dev, PostgreSQL in production). Without that connection, a SQLite file
under ``$AIRFLOW_HOME/warta/`` is used.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from warta import boundary
from warta.boundary import ConnectionNotFound

EDITORIAL_DB_CONN_ID = "warta_db"
VERSION_TABLE = "warta_alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def default_sqlite_url() -> str:
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    return f"sqlite:///{home / 'warta' / 'warta.db'}"


def url_from_connection(conn) -> str:
    """Turn an Airflow Connection into a SQLAlchemy URL.

    ``extra.sqlalchemy_url`` wins when set; otherwise the conn_type decides
    (sqlite: host is the file path; postgres: the usual fields, schema = database).
    """
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    if conn_type in ("postgres", "postgresql"):
        auth = ""
        if conn.login:
            auth = quote(conn.login, safe="")
            if conn.password:
                auth += ":" + quote(conn.password, safe="")
            auth += "@"
        port = f":{conn.port}" if conn.port else ""
        query = {k: v for k, v in extra.items() if k in ("sslmode", "connect_timeout", "options")}
        suffix = f"?{urlencode(query)}" if query else ""
        return f"postgresql+psycopg2://{auth}{conn.host}{port}/{conn.schema}{suffix}"
    raise ValueError(
        f"Airflow Connection {conn.conn_id!r} has conn_type {conn.conn_type!r}; "
        "use sqlite or postgres, or set extra.sqlalchemy_url"
    )


def resolve_database_url() -> str:
    """The editorial DB URL from the Airflow Connection, or the default SQLite file."""
    try:
        conn = boundary.connections().get(EDITORIAL_DB_CONN_ID)
    except ConnectionNotFound:
        return default_sqlite_url()
    return url_from_connection(conn)


def _prepare_sqlite(url: str) -> None:
    path = url.split("sqlite:///", 1)[1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def get_engine(url: str | None = None) -> Engine:
    url = url or resolve_database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                _prepare_sqlite(url)
                engine = create_engine(url, connect_args={"timeout": 30})

                @event.listens_for(engine, "connect")
                def _sqlite_pragmas(dbapi_conn, _record):
                    cursor = dbapi_conn.cursor()
                    # WAL lets waiting sensors read while people write.
                    cursor.execute("PRAGMA journal_mode=WAL")
                    cursor.execute("PRAGMA foreign_keys=ON")
                    cursor.execute("PRAGMA busy_timeout=30000")
                    cursor.close()
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
            _engines[url] = engine
        return engine


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the editorial DB to the newest schema (idempotent)."""
    from alembic import command

    url = url or resolve_database_url()
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


async def aresolve_database_url() -> str:
    """Like ``resolve_database_url`` for async code (the triggerer's event loop)."""
    try:
        conn = await boundary.connections().aget(EDITORIAL_DB_CONN_ID)
    except ConnectionNotFound:
        return default_sqlite_url()
    return url_from_connection(conn)
