"""Fixtures for the fast unit tests: a fresh migrated SQLite editorial DB per test, the
service on it with a clock the test moves, and helpers that walk an item through the SOP.

No Airflow process and no network: everything here is the plain ``warta`` package.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from warta import db
from warta.config import DEFAULT_CONFIG_DIR, WartaConfig, get_config
from warta.service import EditorialService
from warta.storage import Storage

# Dev users from config/users.yaml.
PELAKSANA = "pelaksana"  # pelaksana_kegiatan
PELAKSANA2 = "pelaksana2"  # pelaksana_kegiatan
OPERATOR = "operator"  # operator
SUBKOOR = "subkoor"  # subkoordinator
ADMIN = "admin"  # all three roles

START = datetime(2026, 11, 26, 1, 0, 0, tzinfo=timezone.utc)  # 08:00 WIB


class FakeClock:
    """A clock the test moves by hand; always returns aware UTC datetimes."""

    def __init__(self, start: datetime = START):
        assert start.tzinfo is not None
        self.now = start.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


@pytest.fixture(autouse=True)
def _default_config_dir(monkeypatch):
    """Tests use the repository's config/ unless they load a copy explicitly."""
    monkeypatch.delenv("WARTA_CONFIG_DIR", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> WartaConfig:
    return get_config()


@pytest.fixture
def editorial_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'editorial.db'}"
    db.upgrade(url)
    yield url
    db.dispose_all()


@pytest.fixture
def storage_root(tmp_path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def storage(storage_root) -> Storage:
    return Storage(str(storage_root))


@pytest.fixture
def make_service(editorial_url, storage, clock):
    """Build a service on the test DB with another configuration (e.g. an edited SOP)."""

    def build(config: WartaConfig) -> EditorialService:
        return EditorialService(db.session_factory(editorial_url), config, storage, clock=clock)

    return build


@pytest.fixture
def service(make_service) -> EditorialService:
    return make_service(get_config())


@pytest.fixture
def config_copy(tmp_path) -> Path:
    """A copy of config/ to edit; load it with ``load_config(folder)``."""
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return folder


class Flow:
    """Walks an item through the SOP's human steps with the dev users."""

    def __init__(self, service: EditorialService, clock: FakeClock):
        self.service = service
        self.clock = clock

    def create(self, title: str = "Bimtek budidaya cabai", actor: str = PELAKSANA, **kwargs) -> int:
        return self.service.create_item(actor, title=title, **kwargs)["id"]

    def cover(self, item_id: int, actor: str = PELAKSANA, **kwargs) -> dict:
        return self.service.record_step(item_id, "meliput", actor, notes="Catatan liputan", **kwargs)

    def write(self, item_id: int, actor: str = PELAKSANA, body: str = "Naskah berita.", **kwargs) -> dict:
        return self.service.record_step(
            item_id, "menyusun", actor, title=kwargs.pop("title", "Judul berita"), body=body, **kwargs
        )

    def correct(self, item_id: int, actor: str = OPERATOR, body: str | None = "Naskah berita (koreksi).", **kwargs) -> dict:
        return self.service.record_step(item_id, "memeriksa", actor, body=body, **kwargs)

    def approve(self, item_id: int, actor: str = SUBKOOR) -> dict:
        return self.service.record_step(item_id, "menyetujui", actor, decision="approve")

    def reject(self, item_id: int, actor: str = SUBKOOR, reason: str = "Lengkapi data narasumber") -> dict:
        return self.service.record_step(item_id, "menyetujui", actor, decision="reject", reason=reason)

    def to_decision(self, item_id: int | None = None) -> int:
        item_id = item_id or self.create()
        self.cover(item_id)
        self.write(item_id)
        self.correct(item_id)
        return item_id

    def to_publish(self, item_id: int | None = None) -> int:
        item_id = self.to_decision(item_id)
        self.approve(item_id)
        return item_id

    def finish(self, item_id: int, round_number: int = 1, archive_key: str = "archive/items/x") -> None:
        for step in self.service.config.automatic_steps:
            details = {"archive_key": archive_key} if step.kind == "archive" else {}
            self.service.complete_automatic_step(item_id, round_number, step.id, **details)


@pytest.fixture
def flow(service, clock) -> Flow:
    return Flow(service, clock)


# users.yaml users and the SimpleAuthManager role each signs in with.
TOKEN_USERS = {"pelaksana": "user", "pelaksana2": "user", "operator": "user", "subkoor": "user",
               "admin": "admin", "kepala": "viewer"}


@pytest.fixture(scope="session")
def airflow_tokens():
    """Real Airflow JWTs for the users.yaml users (and a "stranger" nobody lists), signed
    by Airflow's SimpleAuthManager on a migrated metadata DB (revoked tokens live there)."""
    from airflow.utils.db import initdb

    saved = {k: os.environ.get(k) for k in ("AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__API_AUTH__JWT_SECRET")}
    os.environ["AIRFLOW__CORE__AUTH_MANAGER"] = (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
    os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = "fuzz-" + "s" * 64
    initdb()
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    manager = create_auth_manager()
    tokens = {name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
              for name, role in TOKEN_USERS.items()}
    # Validly signed, but nobody users.yaml knows: must be refused like no token.
    tokens["stranger"] = manager.generate_jwt(SimpleAuthManagerUser(username="stranger", role="admin"))
    yield tokens
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
