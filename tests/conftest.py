"""Test-wide setup: Airflow gets a throwaway home before anything imports it."""

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_home = tempfile.mkdtemp(prefix="warta-test-airflow-")
os.environ["AIRFLOW_HOME"] = _home
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
os.environ["WARTA_STORAGE_URL"] = str(Path(_home) / "warta-files")
os.environ.pop("AIRFLOW_CONN_WARTA_DB", None)
os.environ.pop("WARTA_CONFIG_DIR", None)
