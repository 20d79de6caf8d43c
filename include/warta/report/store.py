"""Where monthly reports are kept: archive storage (warta.storage), one folder per month.

    reports/2026-10/laporan-2026-10.pdf       (Bahasa Indonesia)
    reports/2026-10/laporan-2026-10.xlsx
    reports/2026-10/laporan-2026-10.html
    reports/2026-10/laporan-2026-10-en.pdf    (English, when built with lang "en")

Rebuilding a month writes the same keys again: the new files replace the old ones, until
the month is final (warta.report.final). Each final revision is also kept under its own
keys, which are never written again:

    reports/2026-10/laporan-2026-10-r1.pdf    (final revision 1; -en-r1 for English)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from warta.report.period import ReportMonth
from warta.storage import Storage
from warta.workflow import InvalidInput, NotFound

PREFIX = "reports"
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
_KEY = re.compile(rf"^{PREFIX}/(\d{{4}}-\d{{2}})/laporan-\1(?:-(en))?\.({'|'.join(FORMATS)})$")


def report_filename(month: str, fmt: str, lang: str = "id") -> str:
    suffix = "" if lang == "id" else f"-{lang}"
    return f"laporan-{month}{suffix}.{fmt}"


def report_key(month: str, fmt: str, lang: str = "id") -> str:
    """The storage key of one file of one month's report."""
    ReportMonth.parse(month)  # refuses anything that is not YYYY-MM
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    if lang not in ("id", "en"):
        raise InvalidInput(f"language {lang!r} is not one of id, en", field="lang")
    return f"{PREFIX}/{month}/{report_filename(month, fmt, lang)}"


@dataclass(frozen=True)
class StoredReport:
    month: str
    lang: str
    keys: dict[str, str]  # format → storage key
    final_revision: int | None = None  # set when the month is final and was left as it was


def store_report(storage: Storage, month: str, lang: str, files: dict[str, bytes]) -> StoredReport:
    """Write the month's files, replacing any earlier build (each write is atomic)."""
    keys = {}
    for fmt, data in files.items():
        keys[fmt] = storage.put_bytes(report_key(month, fmt, lang), data)
    return StoredReport(month, lang, keys)


def revision_key(month: str, fmt: str, lang: str, revision: int) -> str:
    """The storage key of one file of a final revision (kept for good)."""
    base = report_key(month, fmt, lang)
    return base.removesuffix(f".{fmt}") + f"-r{int(revision)}.{fmt}"


def store_final(storage: Storage, month: str, lang: str, revision: int, files: dict[str, bytes]) -> StoredReport:
    """A final revision's files: under the revision's own keys and as the month's current files."""
    for fmt, data in files.items():
        storage.put_bytes(revision_key(month, fmt, lang, revision), data)
    return store_report(storage, month, lang, files)


def list_reports(storage: Storage) -> list[dict]:
    """The months with a stored report, newest first, and the formats and languages each has."""
    found: dict[str, dict[str, set[str]]] = {}
    for key in storage.list(PREFIX):
        match = _KEY.match(key)
        if match:
            month, lang, fmt = match.group(1), match.group(2) or "id", match.group(3)
            found.setdefault(month, {}).setdefault(lang, set()).add(fmt)
    return [
        {
            "month": month,
            "languages": {lang: sorted(formats) for lang, formats in sorted(languages.items())},
        }
        for month, languages in sorted(found.items(), reverse=True)
    ]


def read_report(storage: Storage, month: str, fmt: str, lang: str = "id") -> tuple[bytes, str, str]:
    """(bytes, file name, media type) of one stored report file."""
    try:
        key = report_key(month, fmt, lang)
    except ValueError as exc:  # a month not written like 2026-10
        raise InvalidInput(str(exc), field="month") from None
    if not storage.exists(key):
        raise NotFound(f"there is no {fmt.upper()} report for {month} ({lang})")
    return storage.get_bytes(key), report_filename(month, fmt, lang), FORMATS[fmt]
