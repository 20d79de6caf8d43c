"""The ``schedule:`` section of config/warta.yaml (scheduled publishing, jadwal tayang).

Light on purpose: the DAG file reads it at parse time (the wait task's id and name).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field

from warta.config import Duration, Text, config_model, warta_yaml_section, warta_yaml_section_parser


@config_model
class ScheduleSettings:
    """The ``schedule:`` section of config/warta.yaml."""

    # The Airflow task that waits for the time (its name in sop.yaml's style).
    task_id: Text = "menunggu_jadwal_tayang"
    name_id: Text = "Menunggu jadwal tayang"
    name_en: Text = "Waiting for the scheduled publication time"
    # SOP roles that may set, move, cancel and release a schedule.
    roles: tuple[str, ...] = ("subkoordinator", "operator")
    # How far ahead a time may be set, and at least how far ahead.
    horizon: Duration = timedelta(days=90)
    min_lead: Duration = timedelta(minutes=1)
    # The triggerer looks at every waiting schedule once per interval (one query for all).
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0


parse_schedule_settings = warta_yaml_section_parser("schedule", ScheduleSettings)


def load_schedule_settings(folder: Path | str | None = None) -> ScheduleSettings:
    return parse_schedule_settings(warta_yaml_section("schedule", folder))


_settings: ScheduleSettings | None = None


def schedule_settings() -> ScheduleSettings:
    """The settings in force (read once per process)."""
    global _settings
    if _settings is None:
        _settings = load_schedule_settings()
    return _settings


