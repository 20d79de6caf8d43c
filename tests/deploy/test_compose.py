"""The production deployment files: docker-compose.yaml, .env.example, the Dockerfile and
the PostgreSQL init script. No Docker engine needed: Debian's docker-compose renders and
validates the compose file (`make distributed-deps` installs it), and the Airflow settings
are checked against warta_dev.topology.DistributedStack, which `make test-distributed` runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
INIT_SCRIPT = REPO / "deploy" / "postgres" / "create-warta-db.sh"

AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker", "flower", "warta-outbox")
SERVICES = AIRFLOW_SERVICES + ("postgres", "redis", "minio", "minio-create-bucket")
ONE_SHOT = {"airflow-init", "minio-create-bucket"}
# Services one may run several of (--scale): no fixed container name, no published port.
SCALABLE = ("airflow-worker", "airflow-scheduler", "airflow-triggerer", "airflow-dag-processor")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|^AIRFLOW_CONN_")
SECRET_FIELD = re.compile(r"password|secret|token|key|path", re.IGNORECASE)
# A run of 24+ token characters with letters and digits: what a generated secret looks like.
RANDOM_LOOKING = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
# ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR; `$$` is compose's escape for a literal `$`.
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)")


def _docker_compose() -> str:
    found = shutil.which("docker-compose") or ("/usr/bin/docker-compose" if Path("/usr/bin/docker-compose").exists()
                                               else None)
    if found:
        return found
    message = "docker-compose is not installed (`make distributed-deps` installs Debian's)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path.name}:{number}: not NAME=value: {line!r}"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        assert name not in values, f"{path.name}: {name} is set twice"
        values[name] = value
    return values


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


@pytest.fixture(scope="module")
def rendered() -> dict:
    """`docker-compose config` of the file with .env.example, in a bare environment (the
    test session's own variables, e.g. WARTA_STORAGE_URL, would override the file's)."""
    binary = _docker_compose()
    result = subprocess.run(
        [binary, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")},
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


# (a) the compose file renders and has the production shape

def test_compose_config_renders_every_service(rendered):
    assert set(SERVICES) <= set(rendered["services"])
    assert rendered["services"]["postgres"]["image"].startswith("postgres:16")
    assert rendered["services"]["redis"]["image"] == "redis:7.2-bookworm"
    assert rendered["services"]["flower"]["profiles"] == ["flower"]
    assert rendered["services"]["minio"]["profiles"] == ["minio"]
    assert rendered["services"]["minio-create-bucket"]["profiles"] == ["minio"]


def test_every_long_running_service_has_a_healthcheck_and_restarts(rendered):
    for name, service in rendered["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and not service["healthcheck"].get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") == "always", f"{name} does not restart"


def test_healthchecks_are_the_components_own(rendered):
    services = rendered["services"]

    def check(name):
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "http://localhost:8080/api/v2/monitor/health" in check("airflow-apiserver")
    assert "http://localhost:8974/health" in check("airflow-scheduler")
    assert "--job-type DagProcessorJob" in check("airflow-dag-processor")
    assert "--job-type TriggererJob" in check("airflow-triggerer")
    assert "celery_executor.app inspect ping" in check("airflow-worker")
    assert "pg_isready" in check("postgres")
    assert "/tmp/warta-outbox.alive" in check("warta-outbox")
    assert "redis-cli ping" in check("redis")


def test_the_outbox_loop_runs_as_its_own_service(rendered):
    outbox = rendered["services"]["warta-outbox"]
    assert "warta outbox serve --heartbeat-file /tmp/warta-outbox.alive" in _command(outbox)
    assert outbox["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_workers_scale_out(rendered):
    services = rendered["services"]
    for name in SCALABLE:
        assert "container_name" not in services[name], name
        assert not services[name].get("ports"), f"{name} publishes a port: --scale would clash"
    worker = services["airflow-worker"]
    assert _command(worker) == "celery worker"
    assert str(worker["environment"]["DUMB_INIT_SETSID"]) == "0"


def test_airflow_services_share_one_image_and_environment(rendered):
    services = rendered["services"]
    reference = services["airflow-scheduler"]
    env = reference["environment"]
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["image"] == reference["image"], name
        own = {k: v for k, v in service["environment"].items() if k != "DUMB_INIT_SETSID"}
        assert own == env, f"{name} has an environment of its own"
        assert service["user"] == reference["user"], name
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert str(env["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"]) == "1"
    assert str(env["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"]) == "1"
    assert str(env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"]).lower() == "true"
    assert str(env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"]).lower() == "false"
    assert str(env["AIRFLOW__CORE__LOAD_EXAMPLES"]).lower() == "false"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres/airflow")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["WARTA_CONFIG_DIR"] == "/opt/airflow/config"
    assert env["WARTA_STORAGE_URL"].startswith("s3://warta_storage@")
    for conn in ("DB", "AIRFLOW_API", "WEBSITE", "FACEBOOK", "INSTAGRAM", "X", "SMTP", "CHAT", "STORAGE"):
        assert f"AIRFLOW_CONN_WARTA_{conn}" in env
    db = json.loads(env["AIRFLOW_CONN_WARTA_DB"])
    assert (db["conn_type"], db["host"], db["login"], db["schema"]) == ("postgres", "postgres", "warta", "warta")
    api = json.loads(env["AIRFLOW_CONN_WARTA_AIRFLOW_API"])
    assert (api["host"], api["port"], api["login"]) == ("airflow-apiserver", 8080, "warta_sistem")


def test_airflow_init_migrates_both_databases_and_syncs_logins(rendered):
    init = rendered["services"]["airflow-init"]
    command = _command(init)
    positions = [command.find(step) for step in ("airflow db migrate", "warta db upgrade", "warta users sync")]
    assert -1 not in positions and positions == sorted(positions), command
    assert "--passwords-file /opt/airflow/secrets/warta-passwords.json" in command
    mounts = " ".join(str(v) for v in init["volumes"])
    assert "/opt/airflow/secrets" in mounts
    for name in AIRFLOW_SERVICES:
        if name == "airflow-init":
            continue
        depends = rendered["services"][name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_no_code_is_bind_mounted(rendered):
    for name in AIRFLOW_SERVICES:
        for volume in rendered["services"][name].get("volumes", []):
            target = volume["target"] if isinstance(volume, dict) else str(volume).split(":")[1]
            assert not target.startswith(("/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/config")), (
                f"{name} mounts {target}: DAGs, plugins and config are baked into the image")


def test_postgres_creates_the_editorial_database():
    script = INIT_SCRIPT.read_text()
    assert "WARTA_DB_PASSWORD" in script
    assert re.search(r"CREATE ROLE warta LOGIN PASSWORD", script)
    assert re.search(r"CREATE DATABASE warta OWNER warta", script)
    assert subprocess.run(["bash", "-n", str(INIT_SCRIPT)], capture_output=True).returncode == 0
    raw = yaml.safe_load(COMPOSE.read_text())
    mounts = raw["services"]["postgres"]["volumes"]
    assert any("deploy/postgres/create-warta-db.sh:/docker-entrypoint-initdb.d/" in m for m in mounts)
    assert "WARTA_DB_PASSWORD" in raw["services"]["postgres"]["environment"]


# (b) every variable the compose file reads is in .env.example

def test_every_compose_variable_is_in_env_example():
    # Strings of the parsed file, so comments don't count; `$$` escapes are no variables.
    raw = yaml.safe_load(COMPOSE.read_text())
    used = set()
    for text in _strings(raw):
        for match in VARIABLE.finditer(text.replace("$$", "")):
            used.add(match.group(1) or match.group(2))
    assert {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_CONN_WARTA_DB"} <= used
    missing = used - set(_env_file())
    assert not missing, f"docker-compose.yaml reads {sorted(missing)}, missing from .env.example"


def test_every_env_example_setting_has_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            above = index - 1
            while above >= 0 and lines[above] and not lines[above].startswith("#"):
                above -= 1
            assert above >= 0 and lines[above].startswith("#"), f"no comment above {line.split('=')[0]}"


# (c) .env.example holds placeholders only

def test_env_example_holds_no_real_secret():
    values = _env_file()
    for name, value in values.items():
        if SECRET_NAME.search(name):
            assert value == "" or "change-me" in value, f"{name} looks like a real secret"
        if name.startswith("AIRFLOW_CONN_"):
            _check_connection_placeholders(name, json.loads(value))
        for run in RANDOM_LOOKING.findall(value):
            looks_random = re.search(r"[A-Za-z]", run) and re.search(r"[0-9]", run) and "change-me" not in run
            assert not looks_random, f"{name} holds {run!r}, which looks like a generated secret"


def _check_connection_placeholders(name: str, node, key: str = "") -> None:
    if isinstance(node, dict):
        for child_key, child in node.items():
            _check_connection_placeholders(name, child, child_key)
    elif isinstance(node, list):
        for child in node:
            _check_connection_placeholders(name, child, key)
    elif isinstance(node, str) and (SECRET_FIELD.search(key) or key == "login" and name != "AIRFLOW_CONN_WARTA_DB"
                                    and "AIRFLOW_API" not in name):
        assert node == "" or "change-me" in node, f"{name}: {key} {node!r} is not a placeholder"


def test_secrets_and_env_stay_out_of_git_and_the_image():
    ignored = REPO.joinpath(".gitignore").read_text().splitlines()
    assert ".env" in ignored and "secrets/" in ignored
    docker_ignored = REPO.joinpath(".dockerignore").read_text().splitlines()
    for entry in (".venv", ".dev", "test-artifacts", ".git", "secrets", ".env"):
        assert entry in docker_ignored, entry
    assert any("__pycache__" in entry for entry in docker_ignored)


# (d) the image: the official 3.3.2 image with the exact pins

def _instructions() -> list[str]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_builds_on_the_official_image_with_the_pins():
    instructions = _instructions()
    assert re.fullmatch(r"FROM apache/airflow:3\.3\.2(-python3\.11)?", instructions[0]), instructions[0]
    installs = [i for i in instructions if i.startswith("RUN") and "pip install" in i]
    pinned = [i for i in installs
              if re.search(r"-r \S*requirements\.txt", i) and re.search(r"-c \S*constraints\.txt", i)]
    assert pinned, "no `pip install -r requirements.txt -c constraints.txt`"
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in pinned[0]
    assert any("--no-deps" in i for i in installs), "the warta package is installed with --no-deps"
    user = None
    for instruction in instructions:
        if instruction.startswith("USER "):
            user = instruction.split()[1]
        if "pip install" in instruction:
            assert user == "airflow", f"pip runs as {user}: {instruction}"
    for folder in ("dags", "plugins", "config"):
        assert any(re.match(rf"COPY .*\b{folder}/ /opt/airflow/{folder}/?$", i) for i in instructions), folder


# (e) the compose file and warta_dev.topology agree

def test_compose_settings_match_the_distributed_topology(rendered, tmp_path):
    from warta_dev.topology import DistributedStack

    topology = DistributedStack(home=tmp_path).env()
    compose = rendered["services"]["airflow-worker"]["environment"]
    same = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER")
    for key in same:
        assert str(compose[key]) == topology[key], key
    for key in ("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "AIRFLOW__CORE__LOAD_EXAMPLES"):
        assert str(compose[key]).lower() == topology[key].lower(), key
    assert compose["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    assert topology["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    storage_prefix = "s3://warta_storage@"
    assert compose["WARTA_STORAGE_URL"].startswith(storage_prefix)
    assert topology["WARTA_STORAGE_URL"].startswith(storage_prefix)
    assert json.loads(compose["AIRFLOW_CONN_WARTA_STORAGE"])["conn_type"] == "aws"
    assert json.loads(topology["AIRFLOW_CONN_WARTA_STORAGE"])["conn_type"] == "aws"
    editorial_db = json.loads(compose["AIRFLOW_CONN_WARTA_DB"])["schema"]
    assert editorial_db == json.loads(topology["AIRFLOW_CONN_WARTA_DB"])["schema"] == "warta"
