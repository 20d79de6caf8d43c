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
class Letterhead:
    """The official letterhead (kop surat): the hierarchy above the unit, its full name,
    address and logo."""

    # From the top: ministry, agency (badan); the unit's full name is printed last, larger.
    hierarchy: tuple[str, ...] = ("Kementerian Pertanian", "Badan Perakitan dan Modernisasi Pertanian")
    unit_full_name: str = ""
    address: str = ""
    # An image file (PNG/JPEG/SVG), relative to the config folder; empty = no logo.
    logo: str = ""


@dataclass(frozen=True)
class ReportSettings:
    dag_id: str = "warta_laporan_bulanan"
    # Cron, in the SOP's timezone, of the run that compiles the month just ended.
    schedule: str = "0 0 1 * *"
    language: str = "id"
    # The city printed before the signature date ("Pangkalpinang, 3 November 2026").
    place: str = ""
    # HTML lists at most this many rejections and items in progress; the PDF and XLSX
    # list every row.
    list_limit: int = 50
    # Above this many items the PDF lists them in a compact annex (one line each, drawn
    # directly; the month's every item, never cut) instead of the full table.
    annex_threshold: int = 300
    # The report's number: {year}, {month} (01-12) and {month_roman} (I-XII) are filled in.
    number_pattern: str = ""
    letterhead: Letterhead = field(default_factory=Letterhead)
    # Worst cases (steps over their standard time) listed per SOP step.
    worst_cases_per_step: int = 3
    # Usernames (users.yaml) the finished report is sent to, through the alert channels.
    recipients: tuple[str, ...] = ()
    # SOP step 7: the Operator prepares the report, the Kepala acknowledges it.
    prepared_by: Signatory | None = field(
        default_factory=lambda: Signatory("Operator Website dan Media Sosial", "Website and Social Media Operator")
    )
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


def _letterhead(spec, where: str) -> Letterhead:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a mapping")
    unknown = set(spec) - set(Letterhead.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    hierarchy = spec.get("hierarchy", Letterhead.hierarchy)
    if isinstance(hierarchy, str) or not all(isinstance(line, str) for line in hierarchy or ()):
        raise ConfigError(f"{where} hierarchy: a list of lines, from the ministry down")
    return Letterhead(
        hierarchy=tuple(hierarchy or ()),
        unit_full_name=str(spec.get("unit_full_name") or ""),
        address=str(spec.get("address") or ""),
        logo=str(spec.get("logo") or ""),
    )


ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def report_number(settings: ReportSettings, year: int, month: int) -> str:
    return settings.number_pattern.format(year=year, month=f"{month:02d}", month_roman=ROMAN_MONTHS[month - 1])


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
    if "letterhead" in values:
        values["letterhead"] = _letterhead(values["letterhead"], f"{where} letterhead")
    for name in ("list_limit", "worst_cases_per_step", "annex_threshold"):
        if name in values:
            values[name] = int(values[name])
            if values[name] < 1:
                raise ConfigError(f"{where} {name}: must be at least 1")
    if "dag_id" in values and not re.fullmatch(r"[A-Za-z0-9_.-]+", str(values["dag_id"])):
        raise ConfigError(f"{where} dag_id: {values['dag_id']!r} is not a valid DAG id")
    if "number_pattern" in values:
        try:
            str(values["number_pattern"] or "").format(year=2026, month="01", month_roman="I")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{where} number_pattern: only {{year}}, {{month}} and {{month_roman}} "
                              f"can be filled in ({exc})") from exc
    for name in ("schedule", "place", "dag_id", "number_pattern"):
        if name in values:
            values[name] = str(values[name] or "")
    return ReportSettings(**values)


def warta_yaml_section(name: str, folder: Path | str | None = None) -> dict | None:
    """One top-level section of warta.yaml in ``folder`` (default: the config in force)."""
    path = Path(folder or config_dir()) / "warta.yaml"
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"missing config file {path}") from exc
    return document.get(name)


def load_report_settings(folder: Path | str | None = None) -> ReportSettings:
    """The ``report:`` section of warta.yaml in ``folder`` (default: the config in force)."""
    return parse_report_settings(warta_yaml_section("report", folder))
