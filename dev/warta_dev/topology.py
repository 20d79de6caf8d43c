"""The production topology of docker-compose.yaml, on this machine without Docker.

``DistributedStack`` runs what the compose file runs, each as its own process on loopback:
PostgreSQL (Airflow's metadata DB and Warta's editorial DB, two databases) and Redis
from Debian's packages, an S3-compatible object store (moto's server) for assets and
archives, and Airflow's api-server, scheduler, dag-processor, triggerer and N Celery
workers, with the FAB auth manager and Warta's users synced into it. The distributed
system tests and ``bench/throughput.py`` use it; ``make distributed-deps`` installs the
Debian packages.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from warta.stack import Stack
from warta_dev.devstack import free_port

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
CELERY_EXECUTOR = "CeleryExecutor"
STORAGE_CONN_ID = "warta_storage"
# The object store's stand-in credentials (moto accepts any); production's live in the
# warta_storage Connection.
S3_ACCESS_KEY = "warta-test-key"
S3_SECRET_KEY = "warta-test-secret"


def _wait_for_port(port: int, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def _postgres_bin() -> Path:
    """Debian's PostgreSQL server binaries (postgresql-NN), newest version first."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL is not installed: run `make distributed-deps` (Debian's postgresql)")


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:port (trust auth on loopback only).

    PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres``
    user that Debian's package creates, in a folder of its own."""

    port: int = field(default_factory=free_port)
    user: str = "postgres"
    folder: Path | None = None

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid}

    def start(self) -> None:
        binaries = _postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="warta-postgres-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam(self.user)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        data = self.folder / "data"
        subprocess.run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, **self._as_owner())
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "postgres.log"),
                        "-o", options, "-w", "-t", "60", "start"], check=True, capture_output=True,
                       **self._as_owner())

    def create_database(self, name: str) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.folder is None:
            return
        subprocess.run([str(_postgres_bin() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, **self._as_owner())
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


@dataclass
class ServiceProcess:
    """A server started as one child process, stopped with SIGTERM (Redis, moto)."""

    name: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"{self.name}.log", "ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        _wait_for_port(self.port, 30, self.name, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


@dataclass
class RedisServer(ServiceProcess):
    name: str = "redis"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("Redis is not installed: run `make distributed-deps` (Debian's redis-server)")
        return [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                "--protected-mode", "yes"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class ObjectStoreServer(ServiceProcess):
    """moto's S3-compatible server: the stand-in for production's object storage."""

    name: str = "s3"
    bucket: str = "warta-files"

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)

    def start(self, log_dir: Path) -> None:
        super().start(log_dir)
        self.client().create_bucket(Bucket=self.bucket)

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def connection_json(self) -> str:
        return json.dumps({"conn_type": "aws", "login": S3_ACCESS_KEY, "password": S3_SECRET_KEY,
                           "extra": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"}})


@dataclass
class DistributedStack(Stack):
    """Airflow as docker-compose.yaml runs it: CeleryExecutor on Redis, PostgreSQL, FAB
    logins, object storage, and ``workers`` Celery workers, each its own process."""

    workers: int = 2
    worker_concurrency: int = 4
    # Its own Debian PostgreSQL, Redis and workers as plain child processes.
    supervised: bool = False
    embedded_db: bool = False
    postgres: PostgresServer = field(default_factory=PostgresServer)
    redis: RedisServer = field(default_factory=RedisServer)
    object_store: ObjectStoreServer = field(default_factory=ObjectStoreServer)
    _log_ports: dict[str, int] = field(default_factory=dict)

    @property
    def worker_names(self) -> list[str]:
        return [f"worker{n}" for n in range(1, self.workers + 1)]

    def env(self) -> dict[str, str]:
        env = super().env()
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
            env.pop(key, None)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": CELERY_EXECUTOR,
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url("airflow"),
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.postgres.url("airflow", driver="postgresql"),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            # A worker takes one task at a time off the queue, so parallel tasks spread out.
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "warta_dev.hostname.worker_hostname",
            "AIRFLOW__LOGGING__TRIGGERER_LOG_SERVER_PORT": str(self._port_for("triggerer-logs")),
            "AIRFLOW_CONN_WARTA_DB": json.dumps({"conn_type": "postgres", "host": "127.0.0.1",
                                                 "port": self.postgres.port, "login": "postgres",
                                                 "schema": "warta"}),
            f"AIRFLOW_CONN_{STORAGE_CONN_ID.upper()}": self.object_store.connection_json(),
            "WARTA_STORAGE_URL": f"s3://{STORAGE_CONN_ID}@{self.object_store.bucket}/warta",
        })
        env.update(self.extra_env)
        return env

    def _port_for(self, name: str) -> int:
        if name not in self._log_ports:
            self._log_ports[name] = free_port()
        return self._log_ports[name]

    def start(self, timeout: float = 180) -> None:
        """The servers, then Airflow's components as the embedded stack starts them
        (migrations included), then the Celery workers."""
        log_dir = self.home / "logs-stack"
        self.postgres.start()
        for database in ("airflow", "warta"):
            self.postgres.create_database(database)
        self.redis.start(log_dir)
        self.object_store.start(log_dir)
        super().start(timeout)
        for name in self.worker_names:
            self.start_component(name, "celery", {"WARTA_WORKER_NAME": name,
                                                  "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._port_for(name))},
                                 args=["worker", "--celery-hostname", f"{name}@%h",
                                       "--concurrency", str(self.worker_concurrency)])
        self.wait_workers(timeout)

    def migrate(self) -> None:
        """Both databases' migrations, then Warta's users into FAB."""
        super().migrate()
        synced = subprocess.run([str(self.bin / "warta"), "users", "sync", "--passwords-file",
                                 str(self.home / "passwords.json")], env=self.env(), capture_output=True, text=True)
        if synced.returncode != 0:
            raise RuntimeError(f"warta users sync failed: {synced.stderr.strip()[-2000:]}")

    def wait_workers(self, timeout: float) -> None:
        """Until every Celery worker answers a ping through the broker."""
        deadline = time.monotonic() + timeout
        expected = {f"{name}@{socket.gethostname()}" for name in self.worker_names}
        answered: set[str] = set()
        while time.monotonic() < deadline:
            self.check_alive()
            answered = set(self.celery_ping())
            if expected <= answered:
                return
            time.sleep(1)
        raise TimeoutError(f"Celery workers {sorted(expected - answered)} did not answer within {timeout}s")

    def celery_ping(self) -> list[str]:
        from celery import Celery

        app = Celery(broker=self.redis.url)
        try:
            replies = app.control.ping(timeout=1.0) or []
        finally:
            app.close()
        return [name for reply in replies for name in reply]

    def stop(self, timeout: float = 30) -> None:
        try:
            super().stop(timeout)
        finally:
            self.object_store.stop()
            self.redis.stop()
            self.postgres.stop()
