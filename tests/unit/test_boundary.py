"""The core states what it needs from Airflow as interfaces (warta.boundary) and imports
no Airflow itself: only warta/airflow/ does. Read from the source (ast), so an import
inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import warta
from warta import boundary
from warta.boundary import ConnectionInfo, ConnectionNotFound

PACKAGE = Path(warta.__file__).resolve().parent


def imported_modules(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def core_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if "airflow" not in path.relative_to(PACKAGE).parts]


def test_the_scan_sees_the_core_and_would_see_an_airflow_import(tmp_path):
    names = {path.relative_to(PACKAGE).as_posix() for path in core_files()}
    assert {"db.py", "storage.py", "alerts.py", "airflow_api.py", "channels/x.py", "channels/api.py"} <= names
    assert not any(name.startswith("airflow/") for name in names)
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    from airflow.sdk import BaseHook\n")
    assert [module for _, module, _ in imported_modules(sample)] == ["airflow.sdk"]


def test_the_core_imports_no_airflow():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line} imports {module}"
        for path in core_files()
        for line, module, _ in imported_modules(path)
        if module == "airflow" or module.startswith("airflow.")
    ]
    assert offenders == []


def test_no_module_imports_another_modules_private_names():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line} takes {name} from {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module, names in imported_modules(path)
        if module.startswith("warta")
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []


def test_channel_base_imports_no_publisher():
    modules = {module for _, module, _ in imported_modules(PACKAGE / "channels" / "base.py")}
    assert not modules & {"warta.channels.wordpress", "warta.channels.facebook", "warta.channels.instagram",
                          "warta.channels.x"}


def test_the_installed_package_wires_airflow_in():
    boundary.unwire()
    try:
        assert type(boundary.connections()).__module__ == "warta.airflow.boundary"
    finally:
        boundary.unwire()


class DictConnections:
    def __init__(self, **connections: ConnectionInfo):
        self.connections = connections

    def get(self, conn_id: str) -> ConnectionInfo:
        try:
            return self.connections[conn_id]
        except KeyError:
            raise ConnectionNotFound(conn_id) from None

    async def aget(self, conn_id: str) -> ConnectionInfo:
        return self.get(conn_id)


@pytest.fixture
def wired_without_airflow():
    def wire(connections: DictConnections) -> None:
        boundary.wire(boundary.Implementations(connections=connections, secrets=None, http=None,
                                               object_storage=None, notification_sender=None))

    yield wire
    boundary.unwire()


def test_the_core_reads_connections_through_the_interface(wired_without_airflow, monkeypatch, tmp_path):
    from warta import airflow_api, db

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    wired_without_airflow(DictConnections(
        warta_db=ConnectionInfo("warta_db", conn_type="postgres", host="db", login="w", schema="warta"),
        warta_airflow_api=ConnectionInfo("warta_airflow_api", host="127.0.0.1", port=8080, login="svc"),
    ))
    assert db.resolve_database_url() == "postgresql+psycopg2://w@db/warta"
    assert airflow_api.AirflowApi.from_connection().base_url == "http://127.0.0.1:8080"
    wired_without_airflow(DictConnections())
    assert db.resolve_database_url() == f"sqlite:///{tmp_path}/warta/warta.db"
    with pytest.raises(airflow_api.AirflowApiError, match="warta_airflow_api"):
        airflow_api.AirflowApi.from_connection()
