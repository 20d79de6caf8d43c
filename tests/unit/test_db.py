"""The editorial DB: migrations, the append-only audit trail, constraints, connection URLs."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from warta import db
from warta.boundary import ConnectionInfo
from warta.models import AppendOnlyError, AuditEvent, Base, NewsItem, StepRecord

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
TABLES = {
    "news_items", "manuscripts", "step_records", "step_timings", "assets", "publications",
    "online_checks", "audit_events", "alerts", "run_requests", "report_narratives", "report_finals", "post_metrics",
    "step_claims", "alert_reads", db.VERSION_TABLE,
    "drafts", "kept_forms", "pending_uploads",  # desk-keep
    "publication_schedules", "calendar_tokens", db.VERSION_TABLE,
}


def new_item(session, **overrides) -> NewsItem:
    item = NewsItem(
        title="Liputan", current_step="meliput", created_by="pelaksana", created_at=NOW, updated_at=NOW,
        **overrides,
    )
    session.add(item)
    session.flush()
    return item


# ------------------------------------------------------------------------ migrations
def test_upgrade_creates_the_schema_and_is_idempotent(editorial_url):
    assert db.current_revision(editorial_url) == "0010"
    db.upgrade(editorial_url)
    db.upgrade(editorial_url)
    assert db.current_revision(editorial_url) == "0010"
    names = set(inspect(db.get_engine(editorial_url)).get_table_names())
    assert names == TABLES
    with db.get_engine(editorial_url).connect() as connection:
        versions = connection.execute(text(f"SELECT version_num FROM {db.VERSION_TABLE}")).scalars().all()
        triggers = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        ).scalars().all()
    assert versions == ["0010"]
    assert triggers == ["audit_events_no_delete", "audit_events_no_update"]


def test_unmigrated_database_has_no_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'kosong.db'}"
    try:
        assert db.current_revision(url) is None
    finally:
        db.dispose_all()


def test_upgrade_creates_the_sqlite_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'warta.db'}"
    try:
        db.upgrade(url)
        assert (tmp_path / "a" / "b" / "warta.db").exists()
        assert db.current_revision(url) == "0010"
    finally:
        db.dispose_all()


def test_models_and_migration_agree(editorial_url):
    """Autogenerate finds nothing to add: the migration creates exactly what the models
    declare (the version table and the audit triggers are not part of the metadata, and
    alembic does not compare triggers)."""
    with db.get_engine(editorial_url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": db.VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_model_metadata_covers_every_migrated_table(editorial_url):
    assert set(Base.metadata.tables) == TABLES - {db.VERSION_TABLE}


# ----------------------------------------------------------------- the audit trail
def test_audit_trail_refuses_update_and_delete_in_the_orm(editorial_url):
    Sessions = db.session_factory(editorial_url)
    with Sessions() as session:
        session.add(AuditEvent(item_id=None, at=NOW, actor="warta", action="boot", details={"a": 1}))
        session.commit()
    with Sessions() as session:
        event = session.scalars(select(AuditEvent)).one()
        event.action = "rewritten"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
    with Sessions() as session:
        session.delete(session.scalars(select(AuditEvent)).one())
        with pytest.raises(AppendOnlyError):
            session.commit()
        session.rollback()
    with Sessions() as session:
        event = session.scalars(select(AuditEvent)).one()
        assert (event.action, event.details) == ("boot", {"a": 1})
        # Appending is what the trail is for.
        session.add(AuditEvent(item_id=None, at=NOW, actor="warta", action="second"))
        session.commit()
        assert len(session.scalars(select(AuditEvent)).all()) == 2


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_events SET action = 'rewritten'", "DELETE FROM audit_events"],
)
def test_audit_trail_refuses_update_and_delete_in_sql(editorial_url, sql):
    engine = db.get_engine(editorial_url)
    with db.session_scope(editorial_url) as session:
        session.add(AuditEvent(item_id=None, at=NOW, actor="warta", action="boot"))
    with pytest.raises((IntegrityError, OperationalError), match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(sql))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_events")).scalars().all() == ["boot"]


# ---------------------------------------------------------------------- constraints
def test_step_record_is_unique_per_item_round_step(editorial_url):
    with db.session_scope(editorial_url) as session:
        item = new_item(session)
        item_id = item.id
        session.add(StepRecord(item_id=item_id, round=1, step_id="menyusun", actor="pelaksana",
                               role="pelaksana_kegiatan", recorded_at=NOW))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        with db.session_scope(editorial_url) as session:
            session.add(StepRecord(item_id=item_id, round=1, step_id="menyusun", actor="pelaksana2",
                                   role="pelaksana_kegiatan", recorded_at=NOW))
    with db.session_scope(editorial_url) as session:
        # Another round (a revision) is a new record.
        session.add(StepRecord(item_id=item_id, round=2, step_id="menyusun", actor="pelaksana2",
                               role="pelaksana_kegiatan", recorded_at=NOW))
    with db.session_scope(editorial_url) as session:
        assert [(r.round, r.actor, r.decision) for r in session.scalars(select(StepRecord).order_by(StepRecord.id))] == [
            (1, "pelaksana", "done"), (2, "pelaksana2", "done"),
        ]


def test_submission_key_is_unique(editorial_url):
    with db.session_scope(editorial_url) as session:
        new_item(session, submission_key="form-1")
    with pytest.raises(IntegrityError):
        with db.session_scope(editorial_url) as session:
            new_item(session, submission_key="form-1")


def test_foreign_keys_are_enforced_on_sqlite(editorial_url):
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        with db.session_scope(editorial_url) as session:
            session.add(StepRecord(item_id=404, round=1, step_id="meliput", actor="x", role="y", recorded_at=NOW))


def test_session_scope_rolls_back_on_error(editorial_url):
    with pytest.raises(RuntimeError):
        with db.session_scope(editorial_url) as session:
            new_item(session)
            raise RuntimeError("boom")
    with db.session_scope(editorial_url) as session:
        assert session.scalars(select(NewsItem)).all() == []


def test_datetimes_must_be_aware_and_come_back_utc(editorial_url):
    wib = datetime.fromisoformat("2026-11-26T08:00:00+07:00")
    with db.session_scope(editorial_url) as session:
        item_id = new_item(session, archived_at=wib).id
    with db.session_scope(editorial_url) as session:
        archived = session.get(NewsItem, item_id).archived_at
        assert archived == wib
        assert archived.tzinfo == timezone.utc
        assert archived.hour == 1
    with pytest.raises(StatementError, match="naive datetime"):
        with db.session_scope(editorial_url) as session:
            new_item(session, archived_at=datetime(2026, 11, 26, 8, 0))


def test_engines_are_cached_per_url(editorial_url):
    assert db.get_engine(editorial_url) is db.get_engine(editorial_url)
    with db.get_engine(editorial_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# ------------------------------------------------------------- url_from_connection
def FakeConnection(conn_id: str = "warta_db", extra_dejson: dict | None = None, **fields) -> ConnectionInfo:
    """A connection as the core reads it (warta.boundary), with the fields given."""
    return ConnectionInfo(conn_id, extra=extra_dejson or {}, **fields)


def test_url_for_sqlite():
    assert db.url_from_connection(FakeConnection(conn_type="sqlite", host="/srv/warta/warta.db")) == (
        "sqlite:////srv/warta/warta.db"
    )
    assert db.url_from_connection(FakeConnection(conn_type="SQLite", host="warta.db")) == "sqlite:///warta.db"


def test_url_for_postgres():
    conn = FakeConnection(
        conn_type="postgres", host="db.internal", login="warta@bsip", password="p@ss:w/rd", port=5432,
        schema="warta", extra_dejson={"sslmode": "require", "unrelated": "x"},
    )
    assert db.url_from_connection(conn) == (
        "postgresql+psycopg2://warta%40bsip:p%40ss%3Aw%2Frd@db.internal:5432/warta?sslmode=require"
    )


def test_url_for_postgres_minimal():
    conn = FakeConnection(conn_type="postgresql", host="localhost", schema="warta")
    assert db.url_from_connection(conn) == "postgresql+psycopg2://localhost/warta"
    conn = FakeConnection(conn_type="postgres", host="localhost", login="warta", schema="warta")
    assert db.url_from_connection(conn) == "postgresql+psycopg2://warta@localhost/warta"


def test_extra_sqlalchemy_url_wins():
    conn = FakeConnection(conn_type="mysql", host="ignored", extra_dejson={"sqlalchemy_url": "sqlite:////tmp/x.db"})
    assert db.url_from_connection(conn) == "sqlite:////tmp/x.db"


def test_unsupported_conn_type():
    with pytest.raises(ValueError, match="'warta_db' has conn_type 'mysql'"):
        db.url_from_connection(FakeConnection(conn_type="mysql", host="h"))


def test_url_from_real_airflow_connections():
    sdk = pytest.importorskip("airflow.sdk")
    Connection = sdk.Connection
    assert db.url_from_connection(Connection(conn_id="warta_db", conn_type="sqlite", host="/srv/w.db")) == (
        "sqlite:////srv/w.db"
    )
    postgres = Connection(
        conn_id="warta_db", conn_type="postgres", host="pg", login="warta", password="rahasia", port=5433,
        schema="editorial", extra=json.dumps({"sslmode": "verify-full", "connect_timeout": 5}),
    )
    assert db.url_from_connection(postgres) == (
        "postgresql+psycopg2://warta:rahasia@pg:5433/editorial?sslmode=verify-full&connect_timeout=5"
    )
    override = Connection(
        conn_id="warta_db", conn_type="generic", extra=json.dumps({"sqlalchemy_url": "postgresql+psycopg2://u@h/d"})
    )
    assert db.url_from_connection(override) == "postgresql+psycopg2://u@h/d"


def test_resolve_database_url_reads_the_warta_db_connection(monkeypatch):
    pytest.importorskip("airflow.sdk")
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": "/srv/dari-env.db"}))
    assert db.resolve_database_url() == "sqlite:////srv/dari-env.db"


def test_default_sqlite_url_is_under_airflow_home(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert db.default_sqlite_url() == f"sqlite:///{tmp_path / 'warta' / 'warta.db'}"
