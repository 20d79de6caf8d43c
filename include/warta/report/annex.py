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
from dataclasses import dataclass
from functools import lru_cache
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


@dataclass(frozen=True)
class EmbeddedFont:
    """What the PDF needs of a font: its subset file and metrics."""

    name: str
    data: bytes
    widths: tuple[int, ...]  # character codes 32 to 255
    ascent: int
    descent: int
    bbox: tuple[int, ...]

    @classmethod
    def of(cls, font: _Font) -> "EmbeddedFont":
        return cls(font.name, font.data, tuple(font.widths[c] for c in range(32, 256)), font.ascent, font.descent,
                   tuple(font.bbox))


@dataclass(frozen=True)
class DrawnAnnex:
    """The annex drawn: its fonts and each page's compressed content stream. Plain bytes,
    so another process can draw it (render.Beside) while WeasyPrint lays out the body."""

    fonts: tuple[EmbeddedFont, EmbeddedFont]  # regular (F1), bold (F2)
    pages: tuple[bytes, ...]


def _pdf_font(pdf: pydyf.PDF, font: EmbeddedFont) -> pydyf.Dictionary:
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
        "Widths": pydyf.Array(font.widths), "Encoding": "/WinAnsiEncoding",
        "FontDescriptor": descriptor.reference,
    })
    pdf.add_object(dictionary)
    return dictionary


class _CompressedStream(pydyf.Object):
    """A content stream compressed already (pydyf's own would compress it again, at level 9)."""

    def __init__(self, compressed: bytes):
        super().__init__()
        self.compressed = compressed

    @property
    def compressible(self) -> bool:
        return False  # a stream never goes inside an object stream

    @property
    def data(self) -> bytes:
        extra = pydyf.Dictionary({"Filter": "/FlateDecode", "Length": len(self.compressed)})
        return b"\n".join((extra.data, b"stream", self.compressed, b"endstream"))


def _pdf_string(text: str) -> bytes:
    if _needs_escape(text):
        text = _escape(text)
    return b"(" + text.encode(ENCODING, errors="replace") + b")"


def wrap(text: str, width: float, font: _Font, size: float, cache: dict | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width``, broken between words (a single word wider
    than the column keeps its own line whole). Word widths are looked up in ``cache``
    (titles share most of their words), so a 100,000-row annex wraps in well under a
    second."""
    words = text.split()
    if cache is None:
        cache = {}
    limit = width / size
    space = font.char_widths[" "]
    lines, line, used = [], [], 0.0
    for word in words:
        word_width = cache.get(word)
        if word_width is None:
            word_width = cache[word] = font.text_width(word, 1.0)
        if line and used + space + word_width > limit:
            lines.append(" ".join(line))
            line, used = [word], word_width
        elif line:
            line.append(word)
            used += space + word_width
        else:
            line, used = [word], word_width
    if line or not lines:
        lines.append(" ".join(line))
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


def draw_annex(annex: Annex) -> DrawnAnnex:
    """Lay the annex out and draw its pages (the costly part: no PDF object is touched)."""
    import zlib

    font, bold = _font(FONT_FILE), _font(BOLD_FONT_FILE)
    laid_out = [(section, _layout(section, font)) for section in annex.sections]
    total = sum(len(pages) for _section, pages in laid_out)
    number = 0
    cache: dict = {}
    drawn = []
    for section, pages in laid_out:
        xs, x = [], MARGIN_X
        for column in section.columns:
            xs.append(x)
            x += column.width
        right = x
        for rows in pages:
            number += 1
            content = _page(section, rows, xs, right, font, bold, cache, annex.footer.format(page=number, pages=total))
            # Level 1: half of level 6's time for these text streams (0.24 s less for a
            # 100,000-item month), the annex a sixth larger.
            drawn.append(zlib.compress(content, 1))
    return DrawnAnnex((EmbeddedFont.of(font), EmbeddedFont.of(bold)), tuple(drawn))


def attach_annex(pdf: pydyf.PDF, drawn: DrawnAnnex) -> int:
    """Append the drawn annex's pages to ``pdf``; returns how many."""
    regular, bold = drawn.fonts
    regular_ref, bold_ref = _pdf_font(pdf, regular).reference, _pdf_font(pdf, bold).reference
    resources = pydyf.Dictionary({"Font": pydyf.Dictionary({"F1": regular_ref, "F2": bold_ref})})
    pdf.add_object(resources)
    media_box = pydyf.Array([0, 0, PAGE_W, PAGE_H])
    pdf.add_object(media_box)
    for compressed in drawn.pages:
        content = _CompressedStream(compressed)
        pdf.add_object(content)
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": media_box.reference,
            "Contents": content.reference, "Resources": resources.reference,
        }))
    return len(drawn.pages)


def add_annex(pdf: pydyf.PDF, annex: Annex) -> int:
    """Append the annex's pages to ``pdf``; returns how many."""
    return attach_annex(pdf, draw_annex(annex))


def _page(section: AnnexSection, rows, xs: list[float], right: float, font: _Font, bold: _Font, cache: dict,
          footer: str) -> bytes:
    """One page's content stream. The rows are one text object of absolutely placed cells,
    built as text and encoded once (a million cells in a large month)."""
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
    last = "%.2f" % (xs[-1] + 2)
    rules = []
    fixed = [(column.align == "right", left + column.width - 3 if column.align == "right" else left + 2)
             for column, left in zip(section.columns[:-1], xs)]
    width = font.width
    digit = font.char_widths["0"] * SIZE  # DejaVu's figures are all one width
    cells = ["BT /%s %.1f Tf" % ("F1", SIZE)]
    put = cells.append
    for y, lines, row in rows:
        if any(map(_needs_escape, row)):  # a parenthesis in a title or a service name
            row = [_escape(v) if _needs_escape(v) else v for v in row]
            lines = [_escape(v) if _needs_escape(v) else v for v in lines]
        ys = "%.2f" % y
        for (right_aligned, x), value in zip(fixed, row):
            if right_aligned:
                x -= digit * len(value) if value.isdigit() else width(value, SIZE, cache)
            put(f"1 0 0 1 {x:.2f} {ys} Tm ({value}) Tj")
        for index, line in enumerate(lines):
            put(f"1 0 0 1 {last} {y - index * LEADING:.2f} Tm ({line}) Tj")
        rules.append(y - LEADING * (len(lines) - 1) - 2.6)
    put("ET 0.85 G 0.3 w")
    put("".join("%.2f %.2f m %.2f %.2f l\n" % (MARGIN_X, rule, right, rule) for rule in rules))
    put("S")
    add("\n".join(cells).encode(ENCODING, errors="replace"))
    if section.legend:
        add(b"BT /F1 6 Tf %.2f %.2f Td %s Tj ET" % (MARGIN_X, MARGIN_BOTTOM - 2, _pdf_string(section.legend)))
    footer_w = font.width(footer, 7, cache)
    add(b"BT /F1 7 Tf %.2f %.2f Td %s Tj ET" % (right - footer_w, MARGIN_BOTTOM - 12, _pdf_string(footer)))
    return b"\n".join(out)


def _needs_escape(text: str) -> bool:
    return "(" in text or ")" in text or "\\" in text


def _escape(text: str) -> str:
    """Text for inside a PDF literal string (the parentheses and the backslash escaped)."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _cell(font: _Font, name: str, text: str, left: float, y: float, column: AnnexColumn, size: float,
          cache: dict) -> bytes:
    if column.align == "right":
        left = left + column.width - 3 - font.width(text, size, cache)
    else:
        left += 2
    return b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET" % (name.encode(), size, left, y, _pdf_string(text))
