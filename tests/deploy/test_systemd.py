"""The systemd unit in deploy/ starts the product's stack (`warta serve`: what `make run`
starts, without the sandboxes) and stops it the way Warta stops cleanly."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "systemd" / "warta.service"


def _unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str
    parser.read(UNIT)
    return parser


def test_unit_runs_the_product_stack_and_stops_it_with_sigterm():
    unit = _unit()
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command == [service["WorkingDirectory"] + "/.venv/bin/warta", "serve"]
    assert service["KillSignal"] == "SIGTERM" and service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) >= 60  # an orderly stop takes ~10 s, up to 30 s per component
    assert service["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_command_it_runs_exists():
    helped = subprocess.run([sys.executable, "-m", "warta.cli", "serve", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and "--home" in helped.stdout
