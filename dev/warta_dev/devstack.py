"""`make run`: the product's embedded stack (``warta.stack``) plus the sandbox website,
Facebook Page, Instagram account and X account, with dev Connections pointing at them.

The system tests and benchmarks build their stacks from ``warta.stack.Stack`` directly
(with their own fakes) or from ``DevStack``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from warta.stack import DEFAULT_HOME, REPO, Stack, serve
from warta.supervision import Program

SANDBOX_SITE_PORT = int(os.environ.get("WARTA_SANDBOX_PORT", "8091"))
SANDBOX_GRAPH_PORT = int(os.environ.get("WARTA_SANDBOX_GRAPH_PORT", "8092"))
SANDBOX_X_PORT = int(os.environ.get("WARTA_SANDBOX_X_PORT", "8093"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DevStack(Stack):
    """The embedded stack with the sandbox channels as supervisord programs of their own."""

    # Sandbox stand-ins of the publishing channels started with the stack: name -> URL.
    sandbox_urls: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(sandbox_env(self))
        env.update(self.extra_env)
        return env

    def programs(self) -> list[Program]:
        return super().programs() + _sandbox_programs(self)

    def describe(self) -> list[str]:
        from warta.config import get_config

        lines = super().describe()[:-1]
        lines += [f"  {name + ':':<23}{url}" for name, url in self.sandbox_urls.items()]
        lines.append("  Dev logins (user / password / SOP role):")
        config = get_config()
        for name, password in self.passwords().items():
            roles = ", ".join(config.roles[r].name_id for r in config.roles_of(name)) or "- (reads reports)"
            lines.append(f"    {name:<11} {password:<14} {roles}")
        lines += ["Try:  .venv/bin/warta create --as pelaksana --title 'Kunjungan agro eduwisata'",
                  "      (with the env printed by `make env`)"]
        return lines


def _sandbox_programs(stack: DevStack) -> list[Program]:
    """The sandbox website, Facebook Page, Instagram account and X account, all served by
    one process (scripts/sandboxes.py: one interpreter, not one per channel). Their
    secrets reach it through the environment (``sandbox_env``), never the command line."""
    stack.sandbox_urls.update({"Sandbox website": f"http://127.0.0.1:{SANDBOX_SITE_PORT}/",
                               "Sandbox Meta (FB, IG)": f"http://127.0.0.1:{SANDBOX_GRAPH_PORT}/",
                               "Sandbox X": f"http://127.0.0.1:{SANDBOX_X_PORT}/"})
    return [Program("sandboxes", [sys.executable, str(REPO / "scripts" / "sandboxes.py"),
                                  "--site-port", str(SANDBOX_SITE_PORT), "--site-user", "warta",
                                  "--site-state", str(stack.home / "sandbox.json"),
                                  "--graph-port", str(SANDBOX_GRAPH_PORT), "--x-port", str(SANDBOX_X_PORT),
                                  "--x-client-id", "warta-sandbox"], stopsignal="TERM")]


def sandbox_env(stack: Stack) -> dict[str, str]:
    """The sandboxes' secrets (kept in the stack's home) and the Connections to them."""
    password = stack._secret("sandbox_password", 12)
    graph_token = stack._secret("sandbox_graph_token", 18)
    x_refresh_token = stack._secret("sandbox_x_refresh_token", 18)
    return {
        "WARTA_SANDBOX_PASSWORD": password,
        "WARTA_SANDBOX_GRAPH_TOKEN": graph_token,
        "WARTA_SANDBOX_X_REFRESH_TOKEN": x_refresh_token,
        "AIRFLOW_CONN_WARTA_WEBSITE": json.dumps(
            {"conn_type": "warta_wordpress", "host": "127.0.0.1", "port": SANDBOX_SITE_PORT, "schema": "http",
             "login": "warta", "password": password}),
        **social_sandbox_connections(SANDBOX_GRAPH_PORT, SANDBOX_X_PORT, graph_token, x_refresh_token),
    }


def social_sandbox_connections(graph_port: int, x_port: int, graph_token: str, x_refresh_token: str,
                               page_id: str = "1000000001", ig_user_id: str = "17841400000000001") -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values pointing the social channels at the sandbox Graph API and X."""
    graph = {"host": "127.0.0.1", "port": graph_port, "schema": "http", "password": graph_token}
    return {
        "AIRFLOW_CONN_WARTA_FACEBOOK": json.dumps(
            {"conn_type": "warta_facebook_page", **graph, "extra": {"page_id": page_id}}),
        "AIRFLOW_CONN_WARTA_INSTAGRAM": json.dumps(
            {"conn_type": "warta_instagram", **graph, "extra": {"ig_user_id": ig_user_id}}),
        "AIRFLOW_CONN_WARTA_X": json.dumps(
            {"conn_type": "warta_x", "host": "127.0.0.1", "port": x_port, "schema": "http", "login": "warta-sandbox",
             "extra": {"refresh_token": x_refresh_token, "public_url": f"http://127.0.0.1:{x_port}"}}
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m warta_dev.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("run", help="start the whole stack with the sandbox channels until Ctrl-C or SIGTERM")
    command.add_argument("--home", default=str(DEFAULT_HOME))
    command.add_argument("--port", type=int, default=int(os.environ.get("WARTA_PORT", "8080")))
    args = parser.parse_args()
    return serve(DevStack(home=Path(args.home), port=args.port))


if __name__ == "__main__":
    sys.exit(main())
