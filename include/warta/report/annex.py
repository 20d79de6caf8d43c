"""The PDF's compact annex: every item of a very large month, one line each, drawn
straight into the PDF WeasyPrint writes (its ``finisher`` hook gives the pydyf document).

A month of 100,000 items is some 1,300 pages; laying those out as HTML tables takes
WeasyPrint minutes, while these pages are plain text lines at fixed positions (a second
or two). The font is DejaVu Sans Condensed (Debian's fonts-dejavu, which WeasyPrint
already uses), embedded as a TrueType font in the WinAnsi encoding, which holds every
letter of Indonesian; titles wrap between words, never inside one.
"""

from __future__ import annotations

import io
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import pydyf

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf")
BOLD_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf")
ENCODING = "cp1252"
PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 36.0, 40.0, 36.0
SIZE, LEADING = 6.6, 8.2


@dataclass(frozen=True)
class AnnexColumn:
    title: str
    width: float  # points
    align: str = "left"  # or "right"


@dataclass(frozen=True)
class AnnexSection:
    """One list of the annex: a title line, the columns, the rows (the last column wraps)."""

    title: str
    subtitle: str
    columns: tuple[AnnexColumn, ...]
    rows: list[tuple[str, ...]]
    legend: str = ""


@dataclass(frozen=True)
class Annex:
    """The annex: its sections, each from a new page, and the footer pattern
    ("… {page} … {pages}", numbered across the whole annex)."""

    sections: tuple[AnnexSection, ...]
    footer: str


class _Font:
    def __init__(self, path: Path):
        import logging

        from fontTools import subset
        from fontTools.ttLib import TTFont

        # The subsetter warns about tables it drops (FFTM, a FontForge timestamp): not news.
        logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
        font = TTFont(str(path))
        units = font["head"].unitsPerEm
        cmap = font.getBestCmap()
        metrics = font["hmtx"].metrics
        self.widths = {}
        for code in range(32, 256):
            try:
                char = bytes([code]).decode(ENCODING)
            except UnicodeDecodeError:
                char = None
            glyph = cmap.get(ord(char)) if char else None
            self.widths[code] = round(metrics[glyph][0] * 1000 / units) if glyph else 0
        self.char_widths = {bytes([c]).decode(ENCODING, "replace"): w / 1000 for c, w in self.widths.items()}
        self.ascent = round(font["hhea"].ascent * 1000 / units)
        self.descent = round(font["hhea"].descent * 1000 / units)
        head = font["head"]
        self.bbox = [round(v * 1000 / units) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        # Only the WinAnsi letters are embedded: a few dozen KB instead of 700.
        options = subset.Options()
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in self.char_widths if c != "\ufffd"])
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        self.data = buffer.getvalue()
        self.name = path.stem.replace("-", "")

    def width(self, text: str, size: float, cache: dict) -> float:
        value = cache.get(text)
        if value is None:
            try:
                value = sum(map(self.char_widths.__getitem__, text))
            except KeyError:  # a letter outside WinAnsi prints as "?"
                value = sum(self.char_widths.get(c, 0.5) for c in text)
            cache[text] = value
        return value * size

    def text_width(self, text: str, size: float) -> float:
        """Like ``width``, uncached: for texts seen once (a whole title)."""
        try:
            return sum(map(self.char_widths.__getitem__, text)) * size
        except KeyError:
            return sum(self.char_widths.get(c, 0.5) for c in text) * size


@lru_cache(maxsize=2)
def _font(path: Path) -> _Font:
    return _Font(path)


def _pdf_font(pdf: pydyf.PDF, font: _Font) -> pydyf.Dictionary:
    stream = pydyf.Stream([font.data], {"Length1": len(font.data)}, compress=True)
    pdf.add_object(stream)
    descriptor = pydyf.Dictionary({
        "Type": "/FontDescriptor", "FontName": f"/{font.name}", "Flags": 32,
        "FontBBox": pydyf.Array(font.bbox), "ItalicAngle": 0, "Ascent": font.ascent, "Descent": font.descent,
        "CapHeight": font.ascent, "StemV": 80, "FontFile2": stream.reference,
    })
    pdf.add_object(descriptor)
    dictionary = pydyf.Dictionary({
        "Type": "/Font", "Subtype": "/TrueType", "BaseFont": f"/{font.name}", "FirstChar": 32, "LastChar": 255,
        "Widths": pydyf.Array([font.widths[c] for c in range(32, 256)]), "Encoding": "/WinAnsiEncoding",
        "FontDescriptor": descriptor.reference,
    })
    pdf.add_object(dictionary)
    return dictionary


def _pdf_string(text: str) -> bytes:
    if "\\" in text or "(" in text or ")" in text:  # rare: most cells need no escape
        text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + text.encode(ENCODING, errors="replace") + b")"


def wrap(text: str, width: float, font: _Font, size: float, cache: dict | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width``, broken between words (a single word wider
    than the column keeps its own line whole). The running width of the letters is summed
    once (itertools.accumulate) and each break found by bisection: a 100,000-row annex
    wraps in a fraction of a second."""
    text = " ".join(text.split())
    limit = width / size
    widths = font.char_widths
    try:
        running = list(accumulate(map(widths.__getitem__, text)))
    except KeyError:  # a letter outside WinAnsi prints as "?"
        running = list(accumulate(widths.get(c, 0.5) for c in text))
    if not running or running[-1] <= limit:
        return [text]
    lines = []
    start, offset = 0, 0.0  # offset: the width before the current line
    length = len(text)
    while start < length:
        end = bisect_right(running, offset + limit, lo=start)  # letters [start, end) fit
        if end >= length:
            lines.append(text[start:])
            break
        if text[end] == " ":
            cut = end
        else:
            cut = text.rfind(" ", start, end)
            if cut <= start:  # one word wider than the column: keep it whole
                cut = text.find(" ", end)
                if cut < 0:
                    lines.append(text[start:])
                    break
        lines.append(text[start:cut])
        start = cut + 1
        offset = running[cut]
    return lines


def _layout(annex: AnnexSection, font: _Font) -> list[list[tuple[float, list[str], tuple[str, ...]]]]:
    """Rows as pages: each entry (y of the row's first line, the wrapped last column, the row)."""
    cache: dict = {}
    wrap_width = annex.columns[-1].width - 4
    header_h = LEADING * 2 + 22  # title, subtitle, column header
    top = PAGE_H - MARGIN_TOP - header_h
    bottom = MARGIN_BOTTOM + LEADING * (2 if annex.legend else 1)
    pages, page, y = [], [], top
    for row in annex.rows:
        lines = wrap(row[-1], wrap_width, font, SIZE, cache)
        height = LEADING * len(lines) + 1.6
        if page and y - height < bottom:
            pages.append(page)
            page, y = [], top
        page.append((y, lines, row))
        y -= height
    if page or not pages:
        pages.append(page)
    return pages


def add_annex(pdf: pydyf.PDF, annex: Annex) -> int:
    """Append the annex's pages to ``pdf``; returns how many."""
    font, bold = _font(FONT_FILE), _font(BOLD_FONT_FILE)
    regular_ref, bold_ref = _pdf_font(pdf, font).reference, _pdf_font(pdf, bold).reference
    resources = pydyf.Dictionary({"Font": pydyf.Dictionary({"F1": regular_ref, "F2": bold_ref})})
    pdf.add_object(resources)
    laid_out = [(section, _layout(section, font)) for section in annex.sections]
    total = sum(len(pages) for _section, pages in laid_out)
    number = 0
    cache: dict = {}
    for section, pages in laid_out:
        xs, x = [], MARGIN_X
        for column in section.columns:
            xs.append(x)
            x += column.width
        right = x
        for rows in pages:
            number += 1
            content = pydyf.Stream([_page(section, rows, xs, right, font, bold, cache,
                                          annex.footer.format(page=number, pages=total))], compress=True)
            pdf.add_object(content)
            pdf.add_page(pydyf.Dictionary({
                "Type": "/Page", "Parent": pdf.pages.reference,
                "MediaBox": pydyf.Array([0, 0, PAGE_W, PAGE_H]), "Contents": content.reference,
                "Resources": resources.reference,
            }))
    return total


def _page(section: AnnexSection, rows, xs: list[float], right: float, font: _Font, bold: _Font, cache: dict,
          footer: str) -> bytes:
    out = []
    add = out.append
    top = PAGE_H - MARGIN_TOP
    add(b"BT /F2 9 Tf %.2f %.2f Td %s Tj ET" % (MARGIN_X, top, _pdf_string(section.title)))
    add(b"BT /F1 7 Tf %.2f %.2f Td %s Tj ET" % (MARGIN_X, top - LEADING - 2, _pdf_string(section.subtitle)))
    header_y = top - LEADING * 2 - 12
    add(b"0.91 0.93 0.96 rg %.2f %.2f %.2f %.2f re f 0 g" % (MARGIN_X, header_y - 3, right - MARGIN_X, LEADING + 4))
    for column, left in zip(section.columns, xs):
        add(_cell(bold, "F2", column.title, left, header_y, column, SIZE, cache))
    add(b"0.6 G 0.4 w %.2f %.2f m %.2f %.2f l S" % (MARGIN_X, header_y - 3.5, right, header_y - 3.5))
    last = xs[-1] + 2
    rules = []
    # One text object for the page's rows; each cell placed with an absolute text matrix.
    add(b"BT /F1 %.1f Tf" % SIZE)
    fixed = [(column.align == "right", left + column.width - 3 if column.align == "right" else left + 2)
             for column, left in zip(section.columns[:-1], xs)]
    width = font.width
    for y, lines, row in rows:
        cells = []
        for (right_aligned, x), value in zip(fixed, row):
            if right_aligned:
                x -= width(value, SIZE, cache)
            cells.append(b"1 0 0 1 %.2f %.2f Tm %s Tj" % (x, y, _pdf_string(value)))
        for index, line in enumerate(lines):
            cells.append(b"1 0 0 1 %.2f %.2f Tm %s Tj" % (last, y - index * LEADING, _pdf_string(line)))
        add(b"\n".join(cells))
        rules.append(y - LEADING * (len(lines) - 1) - 2.6)
    add(b"ET 0.85 G 0.3 w")
    for rule in rules:
        add(b"%.2f %.2f m %.2f %.2f l" % (MARGIN_X, rule, right, rule))
    add(b"S")
    if section.legend:
        add(b"BT /F1 6 Tf %.2f %.2f Td %s Tj ET" % (MARGIN_X, MARGIN_BOTTOM - 2, _pdf_string(section.legend)))
    footer_w = font.width(footer, 7, cache)
    add(b"BT /F1 7 Tf %.2f %.2f Td %s Tj ET" % (right - footer_w, MARGIN_BOTTOM - 12, _pdf_string(footer)))
    return b"\n".join(out)


def _cell(font: _Font, name: str, text: str, left: float, y: float, column: AnnexColumn, size: float,
          cache: dict) -> bytes:
    if column.align == "right":
        left = left + column.width - 3 - font.width(text, size, cache)
    else:
        left += 2
    return b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET" % (name.encode(), size, left, y, _pdf_string(text))
