"""Production logins: Warta's users and SOP roles in Airflow's FAB auth manager.

``config/users.yaml`` stays the one list of who holds which SOP role; ``warta users sync``
makes FAB agree with it (idempotent, run by the compose file's airflow-init and after
every edit of users.yaml):

- one FAB role per SOP role, named as in sop.yaml ("Pelaksana Kegiatan", ...), holding
  exactly the permissions of the built-in role that ``warta.yaml logins`` maps it to;
- every users.yaml user exists with those roles (Admin added for ``logins.admins``, the
  reader role for users without an SOP role). A new user's password comes from the
  passwords file, or is generated and written there (mode 0600) for the admin to hand
  over; existing users keep theirs;
- the service login of the ``warta_airflow_api`` Connection exists with the Connection's
  password, so rotating that password is: edit the Connection, run sync.

Users that exist in FAB but not in users.yaml are left alone (an admin may have made them).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from warta.config import WartaConfig

FAB_AUTH_MANAGER_SUFFIX = "FabAuthManager"


class LoginSyncError(RuntimeError):
    pass


@dataclass
class SyncReport:
    roles: dict[str, str] = field(default_factory=dict)  # FAB role -> base role
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passwords_file: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def fab_in_use() -> bool:
    from airflow.configuration import conf

    return conf.get("core", "auth_manager", fallback="").endswith(FAB_AUTH_MANAGER_SUFFIX)


def _read_passwords(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise LoginSyncError(f"{path} is not a JSON object of username: password ({exc})") from None


def _write_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(passwords, indent=2))
    temporary.chmod(0o600)
    os.replace(temporary, path)


def _service_login(config: WartaConfig) -> tuple[str, str] | None:
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(config.logins.service_conn_id)
    except AirflowNotFoundException:
        return None
    if not conn.login or not conn.password:
        return None
    return conn.login, conn.password


def sync_logins(config: WartaConfig, passwords_file: Path) -> SyncReport:
    """Make FAB's roles and users match config (see the module docstring)."""
    if not fab_in_use():
        raise LoginSyncError(
            "the auth manager is not FAB ([core] auth_manager); in dev, logins come from "
            "SimpleAuthManager and there is nothing to sync"
        )
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    passwords = _read_passwords(passwords_file)
    report = SyncReport(passwords_file=str(passwords_file))
    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        role_names = {role_id: role.name_id for role_id, role in config.roles.items()}
        for role_id, name in role_names.items():
            base_name = config.logins.role_permissions.get(role_id, "Viewer")
            base = security.find_role(base_name)
            if base is None:
                raise LoginSyncError(f"Airflow has no built-in role {base_name!r} (run `airflow db migrate` first)")
            role = security.add_role(name)
            role.permissions = list(base.permissions)
            report.roles[name] = base_name
        security.session.commit()

        wanted: dict[str, tuple[list[str], str, str]] = {}
        for user in config.users.values():
            roles = config.logins.airflow_roles_of(user.username, user.roles, role_names)
            wanted[user.username] = (roles, user.email or f"{user.username}@warta.invalid", user.full_name)
        service = _service_login(config)
        if service and service[0] not in wanted:
            wanted[service[0]] = ([config.logins.service_role], f"{service[0]}@warta.invalid", "Warta (sistem)")

        service_name = service[0] if service else None
        existing_users = {username: security.find_user(username=username) for username in wanted}
        # First passwords are on disk before any user is created with one.
        new_users = [u for u, user in existing_users.items()
                     if user is None and u != service_name and u not in passwords]
        if new_users:
            passwords.update({username: secrets.token_urlsafe(12) for username in new_users})
            _write_passwords(passwords_file, passwords)

        for username, (role_list, email, full_name) in wanted.items():
            roles = [security.find_role(name) for name in role_list]
            first, _, last = full_name.partition(" ")
            existing = existing_users[username]
            if existing is None:
                password = service[1] if username == service_name else passwords[username]
                security.add_user(username, first or username, last or "-", email, roles, password)
                report.created.append(username)
                continue
            changed = {r.name for r in existing.roles} != set(role_list) or existing.email != email
            if changed:
                existing.roles = roles
                existing.email = email
                security.update_user(existing)
            if username == service_name and not security.check_password(username, service[1]):
                security.reset_password(existing.id, service[1])
                changed = True
            (report.updated if changed else report.unchanged).append(username)
    return report
