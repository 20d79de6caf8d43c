"""supervisord's config from the component list, and the watchdog's restart counting and
admin alerts (no supervisord started here; tests/system/test_resilience.py does)."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

from warta.stack import Stack, default_parallelism
from warta.supervision import REPEAT_LIMIT, Program, Watchdog, format_uptime, read_restarts, render_config
from warta_dev.devstack import DevStack


def _config(tmp_path: Path, programs: list[Program]) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(render_config(tmp_path, tmp_path / "logs", programs, ["python", "-m", "watchdog"]))
    return parser



def test_the_product_stack_runs_no_sandbox_and_points_no_channel_anywhere(tmp_path, monkeypatch):
    """`warta serve` takes the channels' Connections from production's configuration."""
    for name in ("AIRFLOW_CONN_WARTA_WEBSITE", "AIRFLOW_CONN_WARTA_FACEBOOK", "AIRFLOW_CONN_WARTA_INSTAGRAM",
                 "AIRFLOW_CONN_WARTA_X"):
        monkeypatch.delenv(name, raising=False)
    stack = Stack(home=tmp_path)
    assert [p.name for p in stack.programs()] == ["postgres", "api-server", "scheduler", "dag-processor",
                                                   "triggerer"]
    # The run outbox's loop is a thread of the api-server, and only of it.
    [api_server] = [p for p in stack.programs() if p.name == "api-server"]
    assert api_server.environment == {"WARTA_OUTBOX_IN_PROCESS": "1"}
    assert not any(p.environment for p in stack.programs() if p.name != "api-server")
    env = stack.env()
    assert not any(key.startswith("WARTA_SANDBOX") for key in env)
    assert "AIRFLOW_CONN_WARTA_WEBSITE" not in env and "AIRFLOW_CONN_WARTA_X" not in env
    printed = "\n".join(stack.describe())  # ends up in the journal
    assert not any(password in printed for password in stack.passwords().values())

def test_every_component_is_one_program_and_secrets_stay_off_command_lines(tmp_path):
    stack = DevStack(home=tmp_path)
    env = stack.env()
    config = _config(tmp_path, stack.programs())
    programs = {s.split(":", 1)[1] for s in config.sections() if s.startswith("program:")}
    assert programs == {"postgres", "api-server", "scheduler", "dag-processor", "triggerer", "sandboxes"}
    text = render_config(tmp_path, tmp_path / "logs", stack.programs(), ["python"])
    for secret in (env["WARTA_SANDBOX_PASSWORD"], env["WARTA_SANDBOX_GRAPH_TOKEN"],
                   env["WARTA_SANDBOX_X_REFRESH_TOKEN"], env["AIRFLOW__CORE__FERNET_KEY"],
                   env["AIRFLOW__API_AUTH__JWT_SECRET"]):
        assert secret not in text
    assert "--skip-serve-logs" in config.get("program:scheduler", "command")
    assert "--skip-serve-logs" in config.get("program:triggerer", "command")
    assert config.get("program:scheduler", "stopsignal") == "INT"
    assert config.get("program:postgres", "autostart") == "true"
    assert config.get("program:scheduler", "autostart") == "false"  # after the migrations
    assert int(config.get("program:postgres", "priority")) < int(config.get("program:scheduler", "priority"))


def test_both_databases_are_on_the_embedded_server_over_its_socket(tmp_path):
    env = Stack(home=tmp_path).env()
    socket_dir = tmp_path / "postgres"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"postgresql+psycopg2://postgres@/airflow?host={socket_dir}"
    assert f"postgres@/warta?host={socket_dir}" in env["AIRFLOW_CONN_WARTA_DB"]


def test_a_deep_data_folder_gets_a_short_socket_folder(tmp_path):
    deep = tmp_path / ("d" * 120)
    env = Stack(home=deep).env()
    host = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("host=", 1)[1]
    assert len(host + "/.s.PGSQL.5432") <= 107


def test_parallelism_follows_the_cores_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("WARTA_PARALLELISM", raising=False)
    assert default_parallelism() == max(2, os.cpu_count() or 2)
    monkeypatch.setenv("WARTA_PARALLELISM", "3")
    assert Stack(home=tmp_path).env()["AIRFLOW__CORE__PARALLELISM"] == "3"
    assert Stack(home=tmp_path, parallelism=5).env()["AIRFLOW__CORE__PARALLELISM"] == "5"


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_watchdog_counts_restarts_and_alerts_once_a_component_keeps_dying(tmp_path):
    alerts, clock = [], _Clock()
    watchdog = Watchdog(tmp_path, raise_alert=lambda *a: alerts.append(a), clock=clock)
    watchdog.handle("PROCESS_STATE_STARTING", {"processname": "scheduler", "from_state": "STOPPED"})
    assert read_restarts(tmp_path) == {}  # the first start is no restart
    for _ in range(REPEAT_LIMIT - 1):
        watchdog.handle("PROCESS_STATE_STARTING", {"processname": "scheduler", "from_state": "EXITED"})
        clock.now += 60
    assert read_restarts(tmp_path) == {"scheduler": REPEAT_LIMIT - 1} and alerts == []
    watchdog.handle("PROCESS_STATE_STARTING", {"processname": "scheduler", "from_state": "BACKOFF"})
    assert alerts == [("scheduler", "repeated", REPEAT_LIMIT)]
    watchdog.handle("PROCESS_STATE_FATAL", {"processname": "triggerer"})
    assert alerts[-1] == ("triggerer", "fatal", 0)
    # A later watchdog (itself restarted) goes on counting.
    assert Watchdog(tmp_path).counts == {"scheduler": REPEAT_LIMIT}


def test_watchdog_keeps_an_alert_it_could_not_record_and_retries_it(tmp_path):
    recorded, failures = [], [RuntimeError("database is down")]

    def raise_alert(*args):
        if failures:
            raise failures.pop()
        recorded.append(args)

    watchdog = Watchdog(tmp_path, raise_alert=raise_alert)
    watchdog.handle("PROCESS_STATE_FATAL", {"processname": "postgres"})
    assert recorded == [] and watchdog.pending
    watchdog.handle("TICK_60", {})
    assert recorded == [("postgres", "fatal", 0)] and watchdog.pending == []


def test_watchdog_kills_what_a_dead_component_left_behind(tmp_path):
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        Watchdog(tmp_path, raise_alert=lambda *a: None).handle(
            "PROCESS_STATE_EXITED", {"processname": "scheduler", "expected": "0", "pid": str(leftover.pid)})
        assert leftover.wait(5) == -9
    finally:
        leftover.kill()


def test_uptime_reads_like_a_person_would_say_it():
    assert format_uptime(59) == "0m 59s"
    assert format_uptime(3 * 3600 + 120) == "3h 2m"
    assert format_uptime(2 * 86400 + 3600) == "2d 1h 0m"


def test_status_of_a_stack_that_is_not_running_is_a_clear_error(tmp_path):
    shown = subprocess.run([str(Path(sys.executable).parent / "warta"), "status", "--home", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 2
    assert "Warta tidak berjalan" in shown.stderr and "Traceback" not in shown.stderr


def test_the_embedded_stack_runs_airflows_local_executor_with_on_demand_workers(monkeypatch, tmp_path):
    from airflow.executors.local_executor import LocalExecutor
    from airflow.sdk._shared.module_loading import import_string

    env = Stack(home=tmp_path).env()
    executor = import_string(env["AIRFLOW__CORE__EXECUTOR"])
    assert issubclass(executor, LocalExecutor)
    assert env["AIRFLOW__WARTA__WORKER_IDLE_SECONDS"] == "20"
    monkeypatch.setenv("WARTA_WORKER_IDLE_SECONDS", "0")
    assert Stack(home=tmp_path).env()["AIRFLOW__WARTA__WORKER_IDLE_SECONDS"] == "0"
