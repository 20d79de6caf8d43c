"""The report's workbook through XlsxWriter, in ``constant_memory`` mode: each row is
written to a temporary file as it comes, so a month of 100,000 items stays small in
memory. Real dates, date-times and durations (Excel serials with formats), clickable
links, wrapped bold headers, column widths, a frozen header row, an autofilter and print
setup (A4 landscape, fit to width, the header row repeated on every printed page).
The tests read every workbook back with openpyxl.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

import xlsxwriter

MAX_CELL_CHARS = 32767  # Excel's limit for one cell
MAX_URL_CHARS = 2079  # Excel's limit for a link
MAX_URLS_PER_SHEET = 65530  # Excel's limit; later links are written as plain text
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# Serial 1 is 1900-01-01 and Excel counts a 29 February 1900: from March 1900 on, the
# serial is the days since 1899-12-30.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Percent(float):
    """A share (0.875) shown as a percentage (87.50%) whatever its column's kind."""


class Duration(float):
    """Seconds shown as an Excel duration ([h]:mm:ss) whatever its column's kind."""


@dataclass(frozen=True)
class Column:
    header: str
    # text, number, date, datetime, percent, wrap, duration (seconds), link (a URL)
    kind: str = "text"
    width: float = 14


@dataclass
class Sheet:
    name: str
    columns: list[Column]
    rows: Iterable[Sequence]
    # Rows above the table (a title block); the first cell of each is bold.
    preamble: list[Sequence] = field(default_factory=list)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub("-", name).strip("'")[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _clean(text: str) -> str:
    if len(text) <= MAX_CELL_CHARS and text.isprintable():  # nearly every cell: nothing to do
        return text
    text = _ILLEGAL.sub("", text)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def write_workbook(sheets: list[Sheet], *, title: str = "", creator: str = "Warta") -> bytes:
    buffer = io.BytesIO()
    # strings_to_* off: a title that looks like a number or a URL stays text.
    book = xlsxwriter.Workbook(buffer, {
        "constant_memory": True, "in_memory": False, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "default_date_format": "dd/mm/yyyy",
    })
    book.set_properties({"title": title, "author": creator})
    formats = {
        "header": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF4",
                                   "border": 1}),
        "bold": book.add_format({"bold": True}),
        "date": book.add_format({"num_format": "dd/mm/yyyy", "valign": "top"}),
        "datetime": book.add_format({"num_format": "dd/mm/yyyy hh:mm", "valign": "top"}),
        "percent": book.add_format({"num_format": "0.00%", "valign": "top"}),
        "duration": book.add_format({"num_format": "[h]:mm:ss", "valign": "top"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "link": book.add_format({"font_color": "#0B4F8A", "underline": 1, "valign": "top"}),
        "text": book.add_format({"valign": "top"}),
    }
    formats["number"] = formats["text"]
    taken: set[str] = set()
    for sheet in sheets:
        _write_sheet(book, book.add_worksheet(_sheet_name(sheet.name, taken)), sheet, formats)
    book.close()
    return buffer.getvalue()


def _write_sheet(book, worksheet, sheet: Sheet, formats: dict) -> None:
    worksheet.set_landscape()
    worksheet.set_paper(9)  # A4
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.set_footer("&L&A&RHalaman &P / &N")
    for index, column in enumerate(sheet.columns):
        worksheet.set_column(index, index, column.width)
    row_number = 0
    for line in sheet.preamble:
        for index, value in enumerate(line):
            if value is not None:
                worksheet.write(row_number, index, value, formats["bold"] if index == 0 else None)
        row_number += 1
    if sheet.preamble:
        row_number += 1
    header_row = row_number
    for index, column in enumerate(sheet.columns):
        worksheet.write_string(header_row, index, column.header, formats["header"])
    worksheet.set_row(header_row, 15 * max(1, max(_header_lines(c) for c in sheet.columns)))
    worksheet.freeze_panes(header_row + 1, 0)
    worksheet.repeat_rows(header_row)
    kinds = [column.kind for column in sheet.columns]
    cell_formats = [formats.get(kind, formats["text"]) for kind in kinds]
    write_string, write_number, write_datetime = worksheet.write_string, worksheet.write_number, worksheet.write_datetime
    write_url = worksheet.write_url
    link_format, percent_format, duration_format = formats["link"], formats["percent"], formats["duration"]
    row_number = header_row
    links_left = MAX_URLS_PER_SHEET
    for row in sheet.rows:
        row_number += 1
        for index, value in enumerate(row):
            if value is None:
                continue
            cls = type(value)
            if cls is str:
                if (kinds[index] == "link" and links_left and value.startswith(("http://", "https://"))
                        and len(value) <= MAX_URL_CHARS):
                    write_url(row_number, index, value, link_format, value)
                    links_left -= 1
                else:
                    write_string(row_number, index, _clean(value), cell_formats[index])
            elif cls is int or cls is float:
                if kinds[index] == "duration":
                    write_number(row_number, index, value / 86400, duration_format)
                else:
                    write_number(row_number, index, value, cell_formats[index])
            elif cls is Percent:
                write_number(row_number, index, float(value), percent_format)
            elif cls is Duration:
                write_number(row_number, index, float(value) / 86400, duration_format)
            elif cls is datetime:
                if value.tzinfo is not None:
                    raise ValueError("spreadsheet cells hold local times: convert aware datetimes first")
                # Excel's serial day number (what write_datetime computes, without its checks).
                write_number(row_number, index, (value - _EXCEL_EPOCH) / _DAY, cell_formats[index])
            elif cls is date:
                write_datetime(row_number, index, value, cell_formats[index])
            elif cls is timedelta:
                write_number(row_number, index, value.total_seconds() / 86400, duration_format)
            elif cls is bool:
                worksheet.write_boolean(row_number, index, value)
            else:
                write_string(row_number, index, _clean(str(value)), cell_formats[index])
    worksheet.autofilter(header_row, 0, max(row_number, header_row), max(len(sheet.columns) - 1, 0))


def _header_lines(column: Column) -> int:
    """Lines a wrapped header needs in its column width (about one character per unit)."""
    words, lines, length = column.header.split(), 1, 0
    for word in words:
        if length and length + 1 + len(word) > column.width:
            lines, length = lines + 1, len(word)
        else:
            length += len(word) + (1 if length else 0)
    return lines
