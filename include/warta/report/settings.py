"""The monthly report's settings: the ``report:`` section of config/warta.yaml."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from warta.config import AtLeastOne, DagId, Text, config_model, warta_yaml_section, warta_yaml_section_parser

LANGUAGES = ("id", "en")
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def _number_pattern(value: str) -> str:
    try:
        value.format(year=2026, month="01", month_roman="I")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"only {{year}}, {{month}} and {{month_roman}} can be filled in ({exc})") from None
    return value


@config_model
class Signatory:
    """One signature in the report's signature block."""

    title_id: Annotated[str, Field(min_length=1)]
    title_en: Text = ""
    # Empty name: a dotted line is printed for the name to be written by hand.
    name: Text = ""
    # Nomor Induk Pegawai (civil servant number); printed when given.
    nip: Text = ""

    def __post_init__(self):
        if not self.title_en:
            object.__setattr__(self, "title_en", self.title_id)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_id


@config_model
class Letterhead:
    """The official letterhead (kop surat): the hierarchy above the unit, its full name,
    address and logo."""

    # From the top: ministry, agency (badan); the unit's full name is printed last, larger.
    hierarchy: tuple[str, ...] = ("Kementerian Pertanian", "Badan Perakitan dan Modernisasi Pertanian")
    unit_full_name: Text = ""
    address: Text = ""
    # An image file (PNG/JPEG/SVG), relative to the config folder; empty = no logo.
    logo: Text = ""


@config_model
class ReportSettings:
    dag_id: DagId = "warta_laporan_bulanan"
    # Cron, in the SOP's timezone, of the run that compiles the month just ended.
    schedule: Text = "0 0 1 * *"
    language: Literal["id", "en"] = "id"
    # The city printed before the signature date ("Pangkalpinang, 3 November 2026").
    place: Text = ""
    # HTML lists at most this many rejections and items in progress (0: none); the PDF
    # and XLSX list every row.
    list_limit: Annotated[int, Field(ge=0)] = 50
    # Above this many items the PDF lists them in a compact annex (one line each, drawn
    # directly; the month's every item, never cut) instead of the full table.
    annex_threshold: AtLeastOne = 300
    # The report's number: {year}, {month} (01-12) and {month_roman} (I-XII) are filled in.
    number_pattern: Annotated[Text, AfterValidator(_number_pattern)] = ""
    letterhead: Letterhead = field(default_factory=Letterhead)
    # Worst cases (steps over their standard time) listed per SOP step.
    worst_cases_per_step: AtLeastOne = 3
    # Usernames (users.yaml) the finished report is sent to, through the alert channels.
    recipients: tuple[str, ...] = ()
    # SOP step 7: the Operator prepares the report, the Kepala acknowledges it.
    prepared_by: Signatory | None = field(
        default_factory=lambda: Signatory("Operator Website dan Media Sosial", "Website and Social Media Operator")
    )
    approved_by: Signatory | None = field(default_factory=lambda: Signatory("Kepala", "Head"))


def report_number(settings: ReportSettings, year: int, month: int) -> str:
    return settings.number_pattern.format(year=year, month=f"{month:02d}", month_roman=ROMAN_MONTHS[month - 1])


parse_report_settings = warta_yaml_section_parser("report", ReportSettings)


def load_report_settings(folder: Path | str | None = None) -> ReportSettings:
    """The ``report:`` section of warta.yaml in ``folder`` (default: the config in force)."""
    return parse_report_settings(warta_yaml_section("report", folder))
