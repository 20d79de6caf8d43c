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
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.url import Url
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

MAX_CELL_CHARS = 32767  # Excel's limit for one cell
MAX_URL_CHARS = 2079  # Excel's limit for a link
MAX_URLS_PER_SHEET = 65530  # Excel's limit; later links are written as plain text
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# Serial 1 is 1900-01-01 and Excel counts a 29 February 1900: from March 1900 on, the
# serial is the days since 1899-12-30.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_EXCEL_EPOCH_DATE = _EXCEL_EPOCH.date()
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


def write_workbook(sheets: list[Sheet], *, title: str = "", creator: str = "Warta",
                   page_footer: str = "Halaman &P dari &N") -> bytes:
    """The workbook's bytes. ``page_footer`` is the printed footer's right side, in the
    report's language (XlsxWriter's codes: &P the page, &N the pages)."""
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
        _write_sheet(book, book.add_worksheet(_sheet_name(sheet.name, taken), worksheet_class=_RowStream), sheet,
                     formats, page_footer)
    with _ZIP_LOCK:
        # XlsxWriter zips at zlib's default level 6; level 1 takes a third of the time for
        # the 100 MB of XML a 100,000-item month makes, and the file is a third larger.
        # XlsxWriter has no option for it, so its module's ZipFile is swapped while the
        # workbook is packed (under a lock: only one workbook is packed at a time).
        packing, xlsxwriter.workbook.ZipFile = xlsxwriter.workbook.ZipFile, _FastZipFile
        try:
            book.close()
        finally:
            xlsxwriter.workbook.ZipFile = packing
    return buffer.getvalue()


_ZIP_LOCK = threading.Lock()


class _FastZipFile(zipfile.ZipFile):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("compresslevel", 1)
        super().__init__(*args, **kwargs)


def _write_sheet(book, worksheet, sheet: Sheet, formats: dict, page_footer: str) -> None:
    worksheet.set_landscape()
    worksheet.set_paper(9)  # A4
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.set_footer(f"&L&A&R{page_footer}")
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
    row_number = worksheet.stream_rows(header_row + 1, sheet.rows, sheet.columns, formats)
    worksheet.autofilter(header_row, 0, max(row_number, header_row), max(len(sheet.columns) - 1, 0))


class _RowStream(Worksheet):
    """XlsxWriter's worksheet with a faster path for a table's data rows.

    In ``constant_memory`` mode XlsxWriter turns each cell into XML through half a dozen
    calls (about 7 µs a cell: 1.4 million cells of a 100,000-item month took 10 s). Here a
    whole row's cells become one string, the very XML XlsxWriter writes for them (an inline
    string, a number with its format's index, a boolean), and links are recorded in the
    worksheet's hyperlink table as ``write_url`` records them. Everything else (the header,
    column widths, panes, filter, print setup, the files' assembly) stays XlsxWriter's. The
    tests read the workbooks back with openpyxl; XlsxWriter is pinned in requirements.txt,
    so the attributes used here cannot change under it."""

    def stream_rows(self, first_row: int, rows: Iterable[Sequence], columns: Sequence[Column],
                    formats: dict) -> int:
        """Write ``rows`` from ``first_row`` on; returns the last row's number (or the one
        before ``first_row`` when there is none)."""
        if not self.constant_memory:
            raise RuntimeError("stream_rows needs the workbook's constant_memory mode")
        kinds = [column.kind for column in columns]
        # A link column's cells beyond Excel's links per sheet are plain text, not blue.
        indices = [formats.get("text" if kind == "link" else kind, formats["text"])._get_xf_index() for kind in kinds]
        link_s = formats["link"]._get_xf_index()
        number_s = {"percent": formats["percent"]._get_xf_index(), "duration": formats["duration"]._get_xf_index()}
        letters = [xl_col_to_name(index) for index in range(len(columns))]
        cell_attrs = [(letter, f' s="{index}"' if index else "") for letter, index in zip(letters, indices)]
        is_link = [kind == "link" for kind in kinds]
        is_duration = [kind == "duration" for kind in kinds]
        percent_attr, duration_attr = (f' s="{number_s["percent"]}"', f' s="{number_s["duration"]}"')
        link_attr = f' s="{link_s}"'
        write = self.fh.write
        # Labels repeat down a column (a service, a person, a check result): each distinct
        # short text is escaped once. Links are unique and not kept.
        texts: dict[str, str] = {}
        row_number = first_row - 1
        for row in rows:
            row_number += 1
            if self.table:  # a row XlsxWriter still holds (the header): out first, in order
                self._write_single_row(row_number)
            self.previous_row = row_number
            number = str(row_number + 1)
            parts = []
            add = parts.append
            for index, value in enumerate(row):
                if value is None:
                    continue
                letter, attr = cell_attrs[index]
                cls = type(value)
                if cls is str:
                    if (is_link[index] and value.startswith(("http://", "https://")) and len(value) <= MAX_URL_CHARS
                            and self.hlink_count < MAX_URLS_PER_SHEET):
                        self.hlink_count += 1
                        self.hyperlinks[row_number][index] = Url(value)
                        attr = link_attr
                        add(f'<c r="{letter}{number}"{attr} t="inlineStr"><is>{_inline_text(value)}</is></c>')
                        continue
                    xml = texts.get(value)
                    if xml is None:
                        xml = _inline_text(value)
                        if len(value) <= 64:
                            texts[value] = xml
                    add(f'<c r="{letter}{number}"{attr} t="inlineStr"><is>{xml}</is></c>')
                elif cls is int or cls is float:
                    if is_duration[index]:
                        add(f'<c r="{letter}{number}"{duration_attr}><v>{value / 86400:.16G}</v></c>')
                    else:
                        add(f'<c r="{letter}{number}"{attr}><v>{value:.16G}</v></c>')
                elif cls is Percent:
                    add(f'<c r="{letter}{number}"{percent_attr}><v>{float(value):.16G}</v></c>')
                elif cls is Duration:
                    add(f'<c r="{letter}{number}"{duration_attr}><v>{float(value) / 86400:.16G}</v></c>')
                elif cls is datetime:
                    if value.tzinfo is not None:
                        raise ValueError("spreadsheet cells hold local times: convert aware datetimes first")
                    add(f'<c r="{letter}{number}"{attr}><v>{(value - _EXCEL_EPOCH) / _DAY:.16G}</v></c>')
                elif cls is date:
                    add(f'<c r="{letter}{number}"{attr}><v>{(value - _EXCEL_EPOCH_DATE).days}</v></c>')
                elif cls is timedelta:
                    add(f'<c r="{letter}{number}"{duration_attr}><v>{value.total_seconds() / 86400:.16G}</v></c>')
                elif cls is bool:
                    add(f'<c r="{letter}{number}"{attr} t="b"><v>{int(value)}</v></c>')
                else:
                    add(f'<c r="{letter}{number}"{attr} t="inlineStr"><is>{_inline_text(str(value))}</is></c>')
            if parts:
                self._check_dimensions(row_number, 0)
                self._check_dimensions(row_number, len(columns) - 1)
                write(f'<row r="{number}">')
                write("".join(parts))
                write("</row>")
        return row_number


def _inline_text(text: str) -> str:
    """``<t>…</t>`` of an inline string, escaped as XlsxWriter escapes it."""
    text = _clean(text)
    if "_x" in text or not text.isprintable():
        text = Worksheet._escape_control_characters(text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def _header_lines(column: Column) -> int:
    """Lines a wrapped header needs in its column width (about one character per unit)."""
    words, lines, length = column.header.split(), 1, 0
    for word in words:
        if length and length + 1 + len(word) > column.width:
            lines, length = lines + 1, len(word)
        else:
            length += len(word) + (1 if length else 0)
    return lines
