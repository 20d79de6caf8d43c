"""`warta users sync` outside production: with Airflow's SimpleAuthManager (dev) there is
nothing to sync, and the CLI says so in one line. The sync itself runs against FAB on
PostgreSQL in tests/distributed."""

from __future__ import annotations

import pytest

from warta import cli
from warta.airflow.logins import LoginSyncError, fab_in_use, sync_logins
from warta.config import get_config


def test_sync_refuses_when_the_auth_manager_is_not_fab(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW__CORE__AUTH_MANAGER", raising=False)
    assert not fab_in_use()
    with pytest.raises(LoginSyncError, match="not FAB"):
        sync_logins(get_config(), tmp_path / "passwords.json")
    assert not (tmp_path / "passwords.json").exists()


def test_cli_users_sync_without_fab_is_a_one_line_error(tmp_path, capsys):
    code = cli.main(["users", "sync", "--passwords-file", str(tmp_path / "p.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("warta: galat: the auth manager is not FAB") and len(err.strip().splitlines()) == 1
