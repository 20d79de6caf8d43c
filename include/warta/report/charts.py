"""The report's charts as inline SVG, drawn in Python: no browser and no plotting library,
and the same markup renders in the HTML file and (through WeasyPrint) in the PDF."""

from __future__ import annotations

import math
from html import escape

# Colour-blind-safe palette (Okabe-Ito), one colour per channel in config order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "DejaVu Sans, sans-serif"


def _nice_ceiling(value: float) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × a power of ten)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power) if step * power >= 1 else 1
    return int(10 * power)


def _integer_ticks(maximum: int, count: int = 4) -> list[int]:
    """Whole-number ticks from 0 to at least ``maximum`` (counts never show fractions)."""
    step = max(1, math.ceil(_nice_ceiling(max(maximum, 1)) / count))
    top = step * math.ceil(max(maximum, 1) / step)
    return list(range(0, top + 1, step))


def _text(x: float, y: float, text: str, *, size: float = 9, anchor: str = "start", fill: str = "#333",
          weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def _open_chart(width: int, height: int, title: str, title_x: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        _text(title_x, 16, title, size=11, weight="bold"),
    ]


def _value_axis(parts: list[str], ticks: list[int], left: float, top: float, plot_w: float, plot_h: float,
                number) -> None:
    """Grid lines and whole-number labels from 0 to the last tick."""
    for value in ticks:
        y = top + plot_h - plot_h * value / ticks[-1]
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.6"/>')
        parts.append(_text(left - 4, y + 3, number(value), size=8, anchor="end"))


def _close_bars(parts: list[str], series, left: float, top: float, plot_w: float, plot_h: float,
                height: int) -> str:
    """The base line, a legend entry for every colour, and the end of the chart."""
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#666" stroke-width="0.8"/>'
    )
    legend_x = left
    for series_index, (label, _values) in enumerate(series):
        colour = PALETTE[series_index % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="9" height="9" fill="{colour}"/>')
        parts.append(_text(legend_x + 12, height - 6, label, size=8))
        legend_x += 22 + 6 * len(label)
    parts.append("</svg>")
    return "".join(parts)


def stacked_day_bars(
    days: list[str], series: list[tuple[str, list[int]]], *, title: str, width: int = 680, height: int = 230,
    number=str,
) -> str:
    """Publications per day, one stacked bar per day, one colour per channel.

    ``days`` are the x labels (day of month), ``series`` (label, counts per day)."""
    left, right, top, bottom = 34, 10, 28, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(days))]
    ticks = _integer_ticks(max(totals, default=0))
    axis_max = ticks[-1]
    parts = _open_chart(width, height, title, left)
    _value_axis(parts, ticks, left, top, plot_w, plot_h, number)
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar_w) / 2
        base = top + plot_h
        for series_index, (_label, values) in enumerate(series):
            value = values[index]
            if not value:
                continue
            bar_h = plot_h * value / axis_max
            base -= bar_h
            colour = PALETTE[series_index % len(PALETTE)]
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{colour}"/>')
        parts.append(_text(x + bar_w / 2, top + plot_h + 11, day, size=7, anchor="middle"))
    return _close_bars(parts, series, left, top, plot_w, plot_h, height)


def _wrap(label: str, chars: int) -> list[str]:
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > chars:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines or [""]


def compliance_bars(
    rows: list[tuple[str, float | None, str]], *, title: str, no_data: str, width: int = 680,
    legend: tuple[str, str, str] = ("≥ 90%", "60–90%", "< 60%"),
) -> str:
    """Share of steps within the standard time, one horizontal bar per SOP step.

    ``rows`` are (label, share 0..1 or None when nothing was done, value text)."""
    label_w, right, top, row_h = 250, 60, 28, 24
    height = top + row_h * len(rows) + 36
    plot_w = width - label_w - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        _text(0, 16, title, size=11, weight="bold"),
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + row_h * len(rows)}" stroke="#ddd" stroke-width="0.6"/>'
        )
        parts.append(_text(x, top + row_h * len(rows) + 12, f"{tick}%", size=8, anchor="middle"))
    legend_x = label_w
    for colour, text in zip(("#009E73", "#E69F00", "#D55E00"), legend):
        parts.append(f'<rect x="{legend_x}" y="{height - 13}" width="9" height="9" fill="{colour}"/>')
        parts.append(_text(legend_x + 12, height - 5, text, size=8))
        legend_x += 24 + 6 * len(text)
    for index, (label, share, value_text) in enumerate(rows):
        y = top + index * row_h
        # Long step names wrap onto a second line instead of being cut.
        lines = _wrap(label, 46)[:2]
        for line_index, line in enumerate(lines):
            offset = 13 + (line_index - (len(lines) - 1) / 2) * 9
            parts.append(_text(label_w - 6, y + offset, line, size=8, anchor="end"))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 6}" fill="#f1f1f1"/>')
        if share is None:
            parts.append(_text(label_w + 4, y + 13, no_data, size=8, fill="#777"))
            continue
        colour = "#009E73" if share >= 0.9 else ("#E69F00" if share >= 0.6 else "#D55E00")  # as in the legend
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{plot_w * share:.1f}" height="{row_h - 6}" fill="{colour}"/>'
        )
        parts.append(_text(label_w + plot_w + 4, y + 13, value_text, size=8.5))
    parts.append("</svg>")
    return "".join(parts)


def grouped_month_bars(
    months: list[str], series: list[tuple[str, list[int]]], *, title: str, number=str, width: int = 680,
    height: int = 220,
) -> str:
    """Bars side by side per month (the trend), one colour per series, value on each bar."""
    left, right, top, bottom = 44, 10, 28, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _integer_ticks(max((v for _, values in series for v in values), default=0))
    axis_max = ticks[-1]
    parts = _open_chart(width, height, title, left)
    _value_axis(parts, ticks, left, top, plot_w, plot_h, number)
    slot = plot_w / max(len(months), 1)
    bar_w = slot * 0.7 / max(len(series), 1)
    for index, month in enumerate(months):
        x0 = left + index * slot + slot * 0.15
        for series_index, (_label, values) in enumerate(series):
            value = values[index]
            bar_h = plot_h * value / axis_max
            x = x0 + series_index * bar_w
            colour = PALETTE[series_index % len(PALETTE)]
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{colour}"/>')
            parts.append(_text(x + bar_w / 2, top + plot_h - bar_h - 2, number(value), size=7, anchor="middle"))
        for line_index, line in enumerate(month.split("\n")):
            parts.append(_text(left + index * slot + slot / 2, top + plot_h + 11 + line_index * 9, line, size=7.5,
                               anchor="middle"))
    return _close_bars(parts, series, left, top, plot_w, plot_h, height)
