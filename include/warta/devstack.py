"""Start and stop a whole Warta stack on this machine: Airflow (standalone, or its
components as separate processes), the editorial DB, and optionally the sandbox website.

Used by `make run` (standalone) and by the system tests and benchmarks (components).
Airflow is stopped with SIGINT, which it handles cleanly; its processes run in their own
sessions with SIGINT restored, because a background job in a shell ignores SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Airflow logins for the dev users of config/users.yaml (Airflow role; SOP roles are in users.yaml).
DEV_USERS = {"admin": "admin", "pelaksana": "user", "pelaksana2": "user", "operator": "user", "subkoor": "user",
             "kepala": "viewer"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Stack:
    home: Path
    port: int = 8080
    standalone: bool = False
    parallelism: int = 8
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Restart a component that dies, as a process manager would in production (Airflow
    # on SQLite can lose its scheduler to "database is locked" under a burst of runs).
    restart_crashed: bool = False
    restarts: dict[str, int] = field(default_factory=dict)
    _commands: dict[str, list[str]] = field(default_factory=dict)
    # Sandbox stand-ins of the publishing channels started with the stack: name -> URL.
    sandbox_urls: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bin(self) -> Path:
        return Path(sys.executable).parent

    def passwords(self) -> dict[str, str]:
        """Dev logins, generated once per home and kept there (never in the repo)."""
        path = self.home / "passwords.json"
        passwords = json.loads(path.read_text()) if path.exists() else {}
        if set(DEV_USERS) <= set(passwords):
            return passwords
        self.home.mkdir(parents=True, exist_ok=True)
        for name in DEV_USERS:
            passwords.setdefault(name, secrets.token_urlsafe(9))
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
        return passwords

    def _secret(self, name: str, nbytes: int) -> str:
        path = self.home / f".{name}"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(nbytes))
            path.chmod(0o600)
        return path.read_text().strip()

    def env(self) -> dict[str, str]:
        passwords = self.passwords()
        env = dict(os.environ)
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in DEV_USERS.items()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__CORE__FERNET_KEY": self._fernet_key(),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "warta.airflow.metadata_db.SQLITE_CONNECT_ARGS",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "warta.airflow.metadata_db.SQLITE_CONNECT_ARGS",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt_secret", 64),
                "AIRFLOW__API__SECRET_KEY": self._secret("api_secret", 32),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # Worker completion reports must not lag behind short human waits
                # (see the scheduler race in the project notes).
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW_CONN_WARTA_DB": json.dumps(
                    {"conn_type": "sqlite", "host": str(self.home / "warta" / "warta.db")}
                ),
                "AIRFLOW_CONN_WARTA_AIRFLOW_API": json.dumps(
                    {"conn_type": "http", "host": "127.0.0.1", "port": self.port, "schema": "http",
                     "login": "admin", "password": passwords["admin"]}
                ),
                "WARTA_STORAGE_URL": str(self.home / "warta" / "files"),
                "PYTHONUNBUFFERED": "1",
                # standalone starts its components as `airflow ...` from PATH
                "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            }
        )
        env.update(self.extra_env)
        return env

    def _fernet_key(self) -> str:
        path = self.home / ".fernet_key"
        if not path.exists():
            import base64

            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def migrate(self) -> None:
        env = self.env()
        subprocess.run([str(self.bin / "airflow"), "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
            # WAL lets the api-server and triggerer read while the scheduler writes; the
            # setting is stored in the database file, so every component gets it.
            with sqlite3.connect(self.home / "airflow.db") as connection:
                connection.execute("PRAGMA journal_mode=WAL")
        subprocess.run([str(self.bin / "warta"), "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self._commands[name] = args
        log_dir = self.home / "logs-stack"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_restore_sigint,
        )

    def start(self, timeout: float = 120) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.migrate()
        env = self.env()
        airflow = str(self.bin / "airflow")
        if self.standalone:
            self._spawn("standalone", [airflow, "standalone"], env)
        else:
            for component in COMPONENTS:
                self._spawn(component, [airflow, component], env)
        # Starts the runs that new items (and next rounds) queue in the editorial DB.
        self._spawn("outbox", [str(self.bin / "warta"), "outbox", "serve"], env)
        self.wait_healthy(timeout)

    def start_component(self, name: str, component: str, extra_env: dict[str, str] | None = None,
                        args: list[str] | None = None) -> None:
        """One more Airflow process: a Celery worker, or a second scheduler for HA."""
        self._spawn(name, [str(self.bin / "airflow"), component, *(args or [])], {**self.env(), **(extra_env or {})})

    def kill_component(self, name: str) -> None:
        """Kill a component and its children at once (SIGKILL), as a lost host would."""
        proc = self.processes.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def check_alive(self) -> None:
        """Raise if any component has exited (Airflow does not restart them), unless
        ``restart_crashed``: then start it again and count the restart."""
        for name, proc in list(self.processes.items()):
            if proc.poll() is not None:
                if self.restart_crashed:
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self._spawn(name, self._commands[name], self.env())
                    continue
                raise RuntimeError(f"airflow {name} exited with {proc.returncode}; see {self.home}/logs-stack/{name}.log")

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                response = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2)
                health = response.json()
                if response.status_code == 200 and all(
                    health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "triggerer")
                ):
                    return
                last = str(health)
            except (httpx.HTTPError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.5)
        raise TimeoutError(f"Airflow not healthy after {timeout}s: {last}")

    def token(self, username: str = "admin") -> str:
        response = httpx.post(f"{self.url}/auth/token",
                              json={"username": username, "password": self.passwords()[username]}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self, timeout: float = 30) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.processes.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # leftover workers of a component
            except ProcessLookupError:
                pass
        self.processes.clear()


def run_dev(home: Path, port: int) -> int:
    """`make run`: Airflow standalone with Warta, until Ctrl-C."""
    # Ctrl-C and a plain `kill` both stop everything cleanly, even when started from a
    # shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stack = Stack(home=home, port=port, standalone=True)
    sandbox = _start_sandbox(stack)
    print(f"Starting Warta (Airflow standalone, SQLite) in {home} ...", flush=True)
    try:
        stack.start(timeout=180)
        passwords = stack.passwords()
        print("\nWarta is running.")
        print(f"  Airflow UI:      {stack.url}")
        print(f"  Warta Desk:      {stack.url}/warta/desk/")
        print(f"  Warta REST API:  {stack.url}/warta/api/v1/docs")
        if sandbox:
            print(f"  {'Sandbox website:':<23}{sandbox}")
            for name, url in stack.sandbox_urls.items():
                print(f"  {name + ':':<23}{url}")
        print("  Dev logins (user / password / SOP role):")
        from warta.config import get_config

        config = get_config()
        for name, password in passwords.items():
            roles = ", ".join(config.roles[r].name_id for r in config.roles_of(name)) or "- (reads reports)"
            print(f"    {name:<11} {password:<14} {roles}")
        print("\nTry:  .venv/bin/warta create --as pelaksana --title 'Kunjungan agro eduwisata'")
        print(f"      (with AIRFLOW_HOME={home} and the env printed by `make env`)")
        print("Ctrl-C stops everything.", flush=True)
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        print("An Airflow process exited; see", home / "logs-stack", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        stack.stop()


def _start_sandbox(stack: Stack) -> str | None:
    script = REPO / "scripts" / "sandbox_site.py"
    if not script.exists():
        return None
    port = int(os.environ.get("WARTA_SANDBOX_PORT", "8091"))
    password = stack._secret("sandbox_password", 12)
    stack._spawn("sandbox", [sys.executable, str(script), "--port", str(port), "--user", "warta",
                             "--password", password, "--state", str(stack.home / "sandbox.json")], stack.env())
    stack.extra_env["AIRFLOW_CONN_WARTA_WEBSITE"] = json.dumps(
        {"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http", "login": "warta",
         "password": password}
    )
    _start_social_sandbox(stack)
    return f"http://127.0.0.1:{port}/"


def social_sandbox_connections(graph_port: int, x_port: int, graph_token: str, x_refresh_token: str,
                               page_id: str = "1000000001", ig_user_id: str = "17841400000000001") -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values pointing the social channels at the sandbox Graph API and X."""
    graph = {"conn_type": "http", "host": "127.0.0.1", "port": graph_port, "schema": "http",
             "password": graph_token}
    return {
        "AIRFLOW_CONN_WARTA_FACEBOOK": json.dumps({**graph, "extra": {"page_id": page_id}}),
        "AIRFLOW_CONN_WARTA_INSTAGRAM": json.dumps({**graph, "extra": {"ig_user_id": ig_user_id}}),
        "AIRFLOW_CONN_WARTA_X": json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": x_port, "schema": "http", "login": "warta-sandbox",
             "extra": {"refresh_token": x_refresh_token, "public_url": f"http://127.0.0.1:{x_port}"}}
        ),
    }


def _start_social_sandbox(stack: Stack) -> None:
    """The sandbox Facebook Page, Instagram account and X account (scripts/sandbox_social.py)."""
    script = REPO / "scripts" / "sandbox_social.py"
    if not script.exists():
        return
    graph_port = int(os.environ.get("WARTA_SANDBOX_GRAPH_PORT", "8092"))
    x_port = int(os.environ.get("WARTA_SANDBOX_X_PORT", "8093"))
    graph_token = stack._secret("sandbox_graph_token", 18)
    # The sandbox keeps no state: each start accepts the connection's refresh token again.
    x_refresh_token = stack._secret("sandbox_x_refresh_token", 18)
    stack._spawn("sandbox-social", [sys.executable, str(script), "--graph-port", str(graph_port),
                                    "--x-port", str(x_port), "--graph-token", graph_token,
                                    "--x-client-id", "warta-sandbox", "--x-refresh-token", x_refresh_token],
                 stack.env())
    stack.extra_env.update(social_sandbox_connections(graph_port, x_port, graph_token, x_refresh_token))
    stack.sandbox_urls.update({"Sandbox Meta (FB, IG)": f"http://127.0.0.1:{graph_port}/",
                               "Sandbox X": f"http://127.0.0.1:{x_port}/"})


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m warta.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--home", default=str(REPO / ".dev" / "airflow"))
    run.add_argument("--port", type=int, default=int(os.environ.get("WARTA_PORT", "8080")))
    env = sub.add_parser("env", help="print the environment for the CLI, as shell exports")
    env.add_argument("--home", default=str(REPO / ".dev" / "airflow"))
    env.add_argument("--port", type=int, default=int(os.environ.get("WARTA_PORT", "8080")))
    args = parser.parse_args()
    if args.command == "run":
        return run_dev(Path(args.home), args.port)
    stack = Stack(home=Path(args.home), port=args.port)
    _start_sandbox_env = stack.env()
    for key in ("AIRFLOW_HOME", "AIRFLOW_CONN_WARTA_DB", "AIRFLOW_CONN_WARTA_AIRFLOW_API", "WARTA_STORAGE_URL"):
        print(f"export {key}='{_start_sandbox_env[key]}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
