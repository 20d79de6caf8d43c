"""Warta's components under supervisord (the `supervisor` package): the config written from
one list of programs, status over supervisord's XML-RPC socket, and the event listener
that counts restarts and alerts the admin when a component keeps dying.

supervisord restarts a component that exits at once, and with a growing delay (1 s, 2 s,
3 s, ...) when it dies again before ``startsecs``; after ``startretries`` such failures it
gives up (FATAL). The listener then alerts the admin and tries the component again once a
minute, so an office server heals by itself once the cause (a full disk, a lost database)
is gone.

Secrets never appear in the config file or on a command line: supervisord inherits the
stack's environment and hands it to every program.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# A component restarted this often within REPEAT_WINDOW seconds "keeps dying".
REPEAT_LIMIT = 3
REPEAT_WINDOW = 600
RESTARTS_FILE = "restarts.json"


@dataclass(frozen=True)
class Program:
    """One long-running component, as one supervisord ``[program:...]`` section."""

    name: str
    command: list[str]
    # Lower starts first and stops last (the database).
    priority: int = 100
    # Airflow's components stop cleanly on SIGINT (SIGTERM orphans their children).
    stopsignal: str = "INT"
    stopwaitsecs: int = 30
    # Signal the whole process group on stop; Airflow's components stop their own
    # children (workers, task processes) in order, so they get the signal alone.
    stop_group: bool = False
    # Started by supervisord itself (the database), or by Stack after the migrations.
    autostart: bool = False
    user: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


def _quote(arg: str) -> str:
    # supervisord splits commands with shlex and expands %(name)s in values.
    import shlex

    return shlex.quote(arg).replace("%", "%%")


def render_config(folder: Path, log_dir: Path, programs: list[Program], listener: list[str]) -> str:
    """supervisord.conf for ``programs`` plus the restart listener; state in ``folder``."""
    sock = folder / "supervisor.sock"
    lines = [
        "[unix_http_server]", f"file={sock}", "chmod=0700", "",
        "[supervisord]", "nodaemon=true", f"logfile={log_dir / 'supervisord.log'}", "logfile_maxbytes=10MB",
        "logfile_backups=5", f"pidfile={folder / 'supervisord.pid'}", f"childlogdir={log_dir}",
        "identifier=warta", "", "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{sock}", "",
    ]
    for program in programs:
        lines += [
            f"[program:{program.name}]",
            "command=" + " ".join(_quote(arg) for arg in program.command),
            f"priority={program.priority}",
            f"autostart={'true' if program.autostart else 'false'}",
            "autorestart=true",
            "startsecs=3",
            "startretries=5",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            # A kill after stopwaitsecs takes the whole group (LocalExecutor workers, tasks).
            f"stopasgroup={'true' if program.stop_group else 'false'}", "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={log_dir / (program.name + '.log')}",
            "stdout_logfile_maxbytes=20MB", "stdout_logfile_backups=5",
        ]
        if program.user:
            lines.append(f"user={program.user}")
        if program.environment:
            lines.append("environment=" + ",".join(f'{k}="{v}"' for k, v in program.environment.items()))
        lines.append("")
    lines += [
        "[eventlistener:watchdog]",
        "command=" + " ".join(_quote(arg) for arg in listener),
        "events=PROCESS_STATE,TICK_60",
        "autorestart=true", "priority=1", "buffer_size=200",
        f"stdout_logfile={log_dir / 'watchdog.events'}", "stdout_logfile_maxbytes=1MB", "stdout_logfile_backups=1",
        f"stderr_logfile={log_dir / 'watchdog.log'}", "stderr_logfile_maxbytes=5MB", "stderr_logfile_backups=2",
        "",
    ]
    return "\n".join(lines)


def rpc(folder: Path):
    """supervisord's XML-RPC interface over its unix socket in ``folder``."""
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, serverurl=f"unix://{folder / 'supervisor.sock'}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def read_restarts(folder: Path) -> dict[str, int]:
    try:
        return json.loads((folder / RESTARTS_FILE).read_text())
    except (OSError, ValueError):
        return {}


@dataclass
class ComponentStatus:
    name: str
    state: str
    pid: int
    uptime_seconds: int
    restarts: int


def status(folder: Path) -> list[ComponentStatus]:
    """Every supervised component: state, uptime, restarts (raises OSError when not running)."""
    restarts = read_restarts(folder)
    rows = []
    for info in rpc(folder).supervisor.getAllProcessInfo():
        running = info["statename"] == "RUNNING"
        rows.append(ComponentStatus(
            name=info["name"], state=info["statename"], pid=info["pid"],
            uptime_seconds=int(info["now"] - info["start"]) if running else 0,
            restarts=restarts.get(info["name"], 0),
        ))
    return rows


def format_uptime(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


# ------------------------------------------------------------------ the event listener
class Watchdog:
    """Counts restarts per component and raises an admin alert when one keeps dying.

    Restart counts persist in ``folder/restarts.json`` (read by `warta status`). Alerts go
    through Warta's alert desk (the alerts table, then the admin's notifier); when the
    editorial DB itself is down they wait and are retried on the next event."""

    def __init__(self, folder: Path, rpc_interface=None, raise_alert=None, clock=time.time):
        self.folder = folder
        self.rpc = rpc_interface
        self.raise_alert = raise_alert or _raise_component_alert
        self.clock = clock
        self.counts = read_restarts(folder)
        self.recent: dict[str, list[float]] = {}
        self.pending: list[tuple[str, str, int]] = []

    def _save(self) -> None:
        tmp = self.folder / (RESTARTS_FILE + ".tmp")
        tmp.write_text(json.dumps(self.counts, sort_keys=True))
        tmp.replace(self.folder / RESTARTS_FILE)

    def handle(self, event: str, payload: dict[str, str]) -> None:
        name = payload.get("processname", "")
        if event == "PROCESS_STATE_EXITED" and payload.get("expected") == "0":
            self._reap_group(name, int(payload.get("pid", 0)))
        if event == "PROCESS_STATE_STARTING" and payload.get("from_state") in ("EXITED", "BACKOFF"):
            self.counts[name] = self.counts.get(name, 0) + 1
            self._save()
            now = self.clock()
            recent = [t for t in self.recent.get(name, []) if now - t < REPEAT_WINDOW] + [now]
            self.recent[name] = recent
            log.warning("component %s restarted (restart %d, %d in the last %d min)", name, self.counts[name],
                        len(recent), REPEAT_WINDOW // 60)
            if len(recent) >= REPEAT_LIMIT:
                self.pending.append((name, "repeated", self.counts[name]))
        elif event == "PROCESS_STATE_FATAL":
            log.error("component %s keeps failing to start; supervisord gave up (FATAL)", name)
            self.pending.append((name, "fatal", self.counts.get(name, 0)))
        elif event == "TICK_60":
            self._retry_fatal()
        self._flush_alerts()

    @staticmethod
    def _reap_group(name: str, pid: int) -> None:
        """A component that died leaves its children in its process group: PostgreSQL's
        backends (which block a new server on the old shared memory), the scheduler's
        LocalExecutor workers. Kill them; the restarted component is in a new group, and
        a killed task is retried by Airflow."""
        if pid <= 1:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
            log.warning("killed what %s left behind (process group %d)", name, pid)
        except (ProcessLookupError, PermissionError):
            pass

    def _retry_fatal(self) -> None:
        if self.rpc is None:
            return
        try:
            for info in self.rpc.supervisor.getAllProcessInfo():
                if info["statename"] == "FATAL":
                    log.warning("trying component %s again", info["name"])
                    self.rpc.supervisor.startProcess(info["name"], False)
        except Exception as exc:  # supervisord busy or stopping: next tick
            log.warning("could not retry failed components: %s", exc)

    def _flush_alerts(self) -> None:
        still = []
        for name, reason, restarts in self.pending:
            try:
                self.raise_alert(name, reason, restarts)
            except Exception as exc:  # the editorial DB may be the component that is down
                log.warning("alert for %s not recorded yet (%s); will retry", name, exc)
                still.append((name, reason, restarts))
        self.pending = still


def _raise_component_alert(name: str, reason: str, restarts: int) -> None:
    from warta.alerts import AlertDesk, default_sender
    from warta.service import default_service

    service = default_service()
    AlertDesk(service, default_sender(service.config)).component_failure(name, reason, restarts)


def _parse(line: str) -> dict[str, str]:
    return dict(token.split(":", 1) for token in line.split())


def listen(folder: Path) -> None:
    """supervisord's event listener protocol on stdin/stdout."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    from supervisor import childutils

    watchdog = Watchdog(folder, rpc_interface=childutils.getRPCInterface(os.environ))
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header = _parse(sys.stdin.readline())
        body = sys.stdin.read(int(header["len"]))
        payload = _parse(body.split("\n", 1)[0])
        try:
            watchdog.handle(header["eventname"], payload)
        except Exception:  # never let one bad event stop the counting
            log.exception("event %s not handled", header.get("eventname"))
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "listen":
        listen(Path(sys.argv[2]))
    else:
        sys.exit("usage: python -m warta.supervision listen FOLDER")
