"""A small streaming XLSX (SpreadsheetML) writer for the report's workbook.

Why not openpyxl for writing: a month of 100,000 items is a sheet of about a million
cells, and openpyxl's write-only mode spends ~9 µs of CPU per cell on this project's
machines (8 s with lxml for the item sheet alone), which breaks the report's 15-second
budget. Rows here are formatted straight into the sheet's XML and streamed into the zip
(~1 µs per cell). The output is plain Office Open XML: inline strings, one style sheet
(bold header, date, date-time, percent, wrapped text), a frozen header row and an
autofilter per table. The tests read every workbook back with openpyxl.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

MAX_CELL_CHARS = 32767  # Excel's limit for one cell
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Characters that keep a string from going into <t> as it is: markup, or what XML forbids.
_NOT_PLAIN = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_EPOCH_DATE = date(1899, 12, 30)
_EPOCH = datetime(1899, 12, 30)

# Column kinds → cell style index in styles.xml below.
STYLE = {"text": 0, "number": 0, "header": 1, "date": 2, "datetime": 3, "percent": 4, "wrap": 5, "bold": 1}

_STYLES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class Percent(float):
    """A share (0.875) shown as a percentage (87.50%) whatever its column's kind."""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True)
class Column:
    header: str
    # text, number, date, datetime, percent, wrap
    kind: str = "text"
    width: float = 14


@dataclass
class Sheet:
    name: str
    columns: list[Column]
    rows: Iterable[Sequence]
    # Rows above the table (a title block); the first cell of each is bold.
    preamble: list[Sequence] = field(default_factory=list)


def _text(value: str) -> str:
    """An inline string's content, escaped; most strings need none of the fixes."""
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - 1] + "…"
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{value}</t></is>'
    return f"<is><t>{value}</t></is>"


def _cell(ref: str, value, style: int) -> str:
    """One <c> element of any supported type; '' for an empty cell."""
    if value is None or value == "":
        return ""
    style_attr = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{style_attr}><v>{int(value)}</v></c>'
    if isinstance(value, Percent):
        style_attr = f' s="{STYLE["percent"]}"'
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):  # NaN/inf: Excel has no such number
            return f'<c r="{ref}" t="inlineStr"{style_attr}>{_text(str(value))}</c>'
        return f'<c r="{ref}"{style_attr}><v>{value!r}</v></c>'
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("give spreadsheet cells local naive datetimes")
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or STYLE["datetime"]}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style or STYLE["date"]}"><v>{(value - _EPOCH_DATE).days}</v></c>'
    return f'<c r="{ref}" t="inlineStr"{style_attr}>{_text(str(value))}</c>'


def _column_writer(letter: str, style: int):
    """A cell writer for one column, with fast paths for the common value types (a sheet
    can have a million cells) and ``_cell`` for anything else."""
    style_attr = f' s="{style}"' if style else ""
    date_style = f' s="{style or STYLE["date"]}"'
    datetime_style = f' s="{style or STYLE["datetime"]}"'

    def write(value, row: int) -> str:
        kind = type(value)
        if kind is str:
            if not value:
                return ""
            # Leading or trailing whitespace needs xml:space="preserve": the slow path.
            if (len(value) <= MAX_CELL_CHARS and _NOT_PLAIN.search(value) is None
                    and not value[0].isspace() and not value[-1].isspace()):
                return f'<c r="{letter}{row}" t="inlineStr"{style_attr}><is><t>{value}</t></is></c>'
            return f'<c r="{letter}{row}" t="inlineStr"{style_attr}>{_text(value)}</c>'
        if kind is int:
            return f'<c r="{letter}{row}"{style_attr}><v>{value}</v></c>'
        if value is None:
            return ""
        if kind is datetime and value.tzinfo is None:
            return f'<c r="{letter}{row}"{datetime_style}><v>{(value - _EPOCH).total_seconds() / 86400!r}</v></c>'
        if kind is date:
            return f'<c r="{letter}{row}"{date_style}><v>{(value - _EPOCH_DATE).days}</v></c>'
        return _cell(f"{letter}{row}", value, style)

    return write


def _sheet_name(name: str, taken: set[str]) -> str:
    clean = _SHEET_NAME_BAD.sub("-", name).strip("'")[:31] or "Sheet"
    candidate, number = clean, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = clean[: 31 - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def _write_sheet(stream, sheet: Sheet) -> None:
    columns = sheet.columns
    letters = [column_letter(i) for i in range(max(len(columns), *(len(r) for r in sheet.preamble), 1))]
    styles = [STYLE[c.kind] for c in columns]
    header_row = len(sheet.preamble) + (2 if sheet.preamble else 1)
    write = stream.write
    pane = (
        f'<pane ySplit="{header_row}" topLeftCell="A{header_row + 1}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="A{header_row + 1}" sqref="A{header_row + 1}"/>'
    )
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>' for i, c in enumerate(columns)
    )
    write(
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'.encode()
    )
    row_number = 0
    for values in sheet.preamble:
        row_number += 1
        cells = "".join(
            _cell(f"{letters[i]}{row_number}", v, STYLE["bold"] if i == 0 else 0) for i, v in enumerate(values)
        )
        write(f'<row r="{row_number}">{cells}</row>'.encode())
    if sheet.preamble:
        row_number += 1  # a blank row between the title block and the table
    row_number += 1
    header = "".join(_cell(f"{letters[i]}{row_number}", c.header, STYLE["header"]) for i, c in enumerate(columns))
    write(f'<row r="{row_number}">{header}</row>'.encode())
    writers = [_column_writer(letters[i], styles[i]) for i in range(len(columns))]
    buffer: list[str] = []
    for values in sheet.rows:
        row_number += 1
        cells = "".join([writer(value, row_number) for writer, value in zip(writers, values)])
        buffer.append(f'<row r="{row_number}">{cells}</row>')
        if len(buffer) >= 2000:
            write("".join(buffer).encode())
            buffer.clear()
    write("".join(buffer).encode())
    write("</sheetData>".encode())
    if columns:
        write(f'<autoFilter ref="A{header_row}:{letters[len(columns) - 1]}{max(row_number, header_row)}"/>'.encode())
    write("</worksheet>".encode())


def write_workbook(sheets: list[Sheet], *, title: str = "", creator: str = "Warta") -> bytes:
    """The workbook's bytes: one worksheet per ``Sheet``, in order."""
    taken: set[str] = set()
    names = [_sheet_name(s.name, taken) for s in sheets]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>',
        )
        archive.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}</dc:creator>"
            "</cp:coreProperties>",
        )
        sheet_entries = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1)
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} xmlns:r="{_REL_NS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheet_entries}</sheets></workbook>',
        )
        relationships = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{relationships}<Relationship Id="rId{len(sheets) + 1}" Type="{_REL_NS}/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        archive.writestr("xl/styles.xml", _STYLES_XML)
        for index, sheet in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as stream:
                _write_sheet(stream, sheet)
    return buffer.getvalue()
