"""scripts/sandboxes.py: every sandbox channel of `make run` in one supervised process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from warta_dev.devstack import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "sandboxes.py"


def _get(url: str, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_one_process_serves_the_website_graph_api_and_x_and_stops_on_sigterm(tmp_path):
    site, graph, x = free_port(), free_port(), free_port()
    env = {**os.environ, "WARTA_SANDBOX_PASSWORD": "site pass", "WARTA_SANDBOX_GRAPH_TOKEN": "graph-token",
           "WARTA_SANDBOX_X_REFRESH_TOKEN": "x-refresh"}
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--site-port", str(site), "--graph-port", str(graph),
                             "--x-port", str(x), "--site-state", str(tmp_path / "sandbox.json")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The website answers WordPress's REST API; Graph refuses a wrong token like Meta does.
        assert _get(f"http://127.0.0.1:{site}/wp-json/").status_code == 200
        refused = _get(f"http://127.0.0.1:{graph}/v23.0/me?access_token=wrong")
        assert refused.status_code in (400, 401) and "error" in refused.json()
        assert _get(f"http://127.0.0.1:{x}/").status_code < 500
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    # Secrets come from the environment and never show in what it prints.
    assert "site pass" not in output and "graph-token" not in output and "x-refresh" not in output


def test_missing_secrets_are_named(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_SANDBOX_")}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "WARTA_SANDBOX_PASSWORD" in done.stderr and "WARTA_SANDBOX_GRAPH_TOKEN" in done.stderr
