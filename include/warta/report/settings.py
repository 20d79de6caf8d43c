"""The monthly report's settings: the ``report:`` section of config/warta.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from warta.config import ConfigError, config_dir

LANGUAGES = ("id", "en")


@dataclass(frozen=True)
class Signatory:
    """One signature in the report's signature block."""

    title_id: str
    title_en: str
    # Empty name: a dotted line is printed for the name to be written by hand.
    name: str = ""
    # Nomor Induk Pegawai (civil servant number); printed when given.
    nip: str = ""

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_id


@dataclass(frozen=True)
class ReportSettings:
    dag_id: str = "warta_laporan_bulanan"
    # Cron, in the SOP's timezone, of the run that compiles the month just ended.
    schedule: str = "0 0 1 * *"
    language: str = "id"
    # The city printed before the signature date ("Pangkalpinang, 3 November 2026").
    place: str = ""
    # HTML and PDF list at most this many rows per long table (items, rejections, items in
    # progress) so a busy month stays readable; the XLSX always lists every row.
    list_limit: int = 50
    # Worst cases (steps over their standard time) listed per SOP step.
    worst_cases_per_step: int = 3
    # Usernames (users.yaml) the finished report is sent to, through the alert channels.
    recipients: tuple[str, ...] = ()
    prepared_by: Signatory | None = None
    approved_by: Signatory | None = field(
        default_factory=lambda: Signatory("Kepala", "Head")
    )


def _signatory(spec, where: str) -> Signatory | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec.get("title_id"):
        raise ConfigError(f"{where}: needs at least title_id")
    return Signatory(
        title_id=str(spec["title_id"]),
        title_en=str(spec.get("title_en") or spec["title_id"]),
        name=str(spec.get("name") or ""),
        nip=str(spec.get("nip") or ""),
    )


def parse_report_settings(spec: dict | None) -> ReportSettings:
    where = "warta.yaml report"
    spec = dict(spec or {})
    known = set(ReportSettings.__dataclass_fields__)
    unknown = set(spec) - known
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    values = dict(spec)
    for name in ("prepared_by", "approved_by"):
        if name in values:
            values[name] = _signatory(values[name], f"{where} {name}")
    if values.get("language", "id") not in LANGUAGES:
        raise ConfigError(f"{where} language: {values['language']!r} is not one of {LANGUAGES}")
    if "recipients" in values:
        values["recipients"] = tuple(str(name) for name in values["recipients"] or ())
    for name in ("list_limit", "worst_cases_per_step"):
        if name in values:
            values[name] = int(values[name])
            if values[name] < 1:
                raise ConfigError(f"{where} {name}: must be at least 1")
    if "dag_id" in values and not re.fullmatch(r"[A-Za-z0-9_.-]+", str(values["dag_id"])):
        raise ConfigError(f"{where} dag_id: {values['dag_id']!r} is not a valid DAG id")
    for name in ("schedule", "place", "dag_id"):
        if name in values:
            values[name] = str(values[name] or "")
    return ReportSettings(**values)


def load_report_settings(folder: Path | str | None = None) -> ReportSettings:
    """The ``report:`` section of warta.yaml in ``folder`` (default: the config in force)."""
    path = Path(folder or config_dir()) / "warta.yaml"
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"missing config file {path}") from exc
    return parse_report_settings(document.get("report"))
