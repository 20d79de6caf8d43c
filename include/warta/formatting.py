"""How Warta shows dates, times, durations and numbers: one place, on Babel's CLDR data.

Every page, alert, report and CLI line formats through a ``Formatter`` bound to a language
(``id`` or ``en``) and the SOP's timezone (``sop.yaml`` ``timezone``). The zone's label
comes from the timezone database: Asia/Jakarta reads WIB, Asia/Makassar WITA,
Asia/Jayapura WIT.

A moment reads the same everywhere people see one: the desk, the report, the CLI and the
sandboxes' pages (``moment``; ``datetime`` and ``medium_datetime`` are the same format):
  moment    2 Des 2026 14.05 WIB   (en 2 Dec 2026 14:05 WIB)   desk, report, CLI, sandboxes
  long      Kamis, 26 November 2026 08.00 WIB                  alerts (a sentence people read)
  compact   31/10 23.30            (en 10-31 23:30)            one-line-per-item annexes

Patterns are Babel (CLDR) patterns, compiled once per formatter into plain functions over
Babel's month and day names: a report of 100,000 items formats each moment at strftime
speed, not at the cost of a Babel call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_date_format, get_time_format
from babel.numbers import format_decimal

LANGUAGES = ("id", "en")
LOCALES = {"id": "id_ID", "en": "en_GB"}

# Where CLDR's own short forms are not the ones the unit reads (CLDR's Indonesian short
# date is d/M/yy), the pattern is set here; medium and long dates and the clock are CLDR's.
_FIXED_PATTERNS = {
    "id": {"short_date": "dd/MM/y", "full_date": "EEEE, d MMMM y", "month": "MMMM y", "compact": "dd/MM HH.mm"},
    "en": {"short_date": "y-MM-dd", "full_date": "EEEE, d MMMM y", "month": "MMMM y", "compact": "MM-dd HH:mm"},
}

# Duration unit words, largest first. CLDR's English short units ("5 mins", "2 hrs") are
# not the compact ones Warta prints, so the words are Warta's (Indonesian as CLDR's long).
_DURATION_UNITS = {
    "id": (("day", 86400, "hari"), ("hour", 3600, "jam"), ("minute", 60, "menit"), ("second", 1, "detik")),
    "en": (("day", 86400, "d"), ("hour", 3600, "h"), ("minute", 60, "min"), ("second", 1, "s")),
}
_LESS_THAN = {"id": "kurang dari 1 {unit}", "en": "less than 1 {unit}"}

_FIELD = re.compile(r"'[^']*'|([a-zA-Z])\1*")


class Formatter:
    """Dates, times, durations and numbers in one language and the SOP's timezone."""

    def __init__(self, lang: str, timezone_name: str):
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} is not one of {LANGUAGES}")
        self.lang = lang
        self.timezone_name = timezone_name
        self.tz = ZoneInfo(timezone_name)
        self.locale = LOCALES[lang]
        cldr = Locale.parse(self.locale)
        patterns = dict(_FIXED_PATTERNS[lang])
        patterns["medium_date"] = get_date_format("medium", cldr).pattern
        patterns["long_date"] = get_date_format("long", cldr).pattern
        patterns["time"] = get_time_format("short", cldr).pattern
        self.patterns = patterns
        self._compiled = {name: _compile(pattern, cldr, self.tz) for name, pattern in patterns.items()}

    # ------------------------------------------------------------------ zone
    @property
    def tzname(self) -> str:
        """The zone's label now, e.g. WIB."""
        return self.zone_label(None)

    def zone_label(self, moment: datetime | None) -> str:
        """The zone's label at ``moment`` (now when None): WIB, WITA, WIT, CET/CEST..."""
        local = (moment or datetime.now(self.tz)).astimezone(self.tz)
        return local.tzname() or self.timezone_name

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz)

    def local_naive(self, value: datetime | None) -> datetime | None:
        """Local wall time without tzinfo: what a spreadsheet cell can hold."""
        return value.astimezone(self.tz).replace(tzinfo=None) if value else None

    # ------------------------------------------------------------------ dates
    def _day(self, value: str | date | datetime) -> date:
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            return value.astimezone(self.tz).date() if value.tzinfo else value.date()
        return value

    def _moment(self, value: str | datetime) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(self.tz)

    def date(self, value: str | date | datetime | None) -> str:
        """26 November 2026."""
        return "–" if not value else self._compiled["long_date"](self._day(value))

    def medium_date(self, value: str | date | datetime | None) -> str:
        """26 Nov 2026."""
        return "–" if not value else self._compiled["medium_date"](self._day(value))

    def short_date(self, value: str | date | datetime | None) -> str:
        """31/10/2026 (en 2026-10-31)."""
        return "–" if not value else self._compiled["short_date"](self._day(value))

    def month_name(self, year: int, month: int) -> str:
        """November 2026."""
        return self._compiled["month"](date(year, month, 1))

    # ------------------------------------------------------------------ moments
    def moment(self, value: str | datetime | None) -> str:
        """The one format of a moment: 2 Des 2026 14.05 WIB (en 2 Dec 2026 14:05 WIB)."""
        if not value:
            return "–"
        local = self._moment(value)
        return f"{self._compiled['medium_date'](local)} {self._compiled['time'](local)} {local.tzname()}"

    # Tables, the CLI and the desk once had a style each; they share ``moment`` now.
    datetime = moment
    medium_datetime = moment

    def long_datetime(self, value: str | datetime | None) -> str:
        """The alerts' style: Kamis, 26 November 2026 08.00 WIB."""
        if not value:
            return "–"
        local = self._moment(value)
        return f"{self._compiled['full_date'](local)} {self._compiled['time'](local)} {local.tzname()}"

    def compact_datetime(self, value: datetime | None) -> str:
        """Day, month and clock without the year or zone: 31/10 23.30 (en 10-31 23:30)."""
        return "–" if not value else self._compiled["compact"](value.astimezone(self.tz))

    # ------------------------------------------------------------------ numbers
    def number(self, value: int | float | None, decimals: int = 0) -> str:
        """1.234,5 in Indonesian, 1,234.5 in English."""
        if value is None:
            return "–"
        if not decimals and isinstance(value, int):
            return _whole_number(value, self.locale)
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def signed(self, value: int | float | None, decimals: int = 0) -> str:
        if value is None:
            return "–"
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return sign + self.number(abs(value), decimals)

    def percent(self, share: float | None) -> str:
        return "–" if share is None else f"{self.number(share * 100, 1)}%"

    def file_size(self, size: int | None) -> str:
        """12 B, 1,5 KB, 50,0 MB (en 1.5 KB)."""
        size = size or 0
        for unit in ("B", "KB", "MB", "GB"):
            if size < 1024 or unit == "GB":
                return f"{size} {unit}" if unit == "B" else f"{self.number(size, 1)} {unit}"
            size /= 1024
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ durations
    def duration(self, value: float | int | timedelta | None, *, parts: int | None = 2,
                 smallest: str = "minute") -> str:
        """A span in words, its ``parts`` largest non-zero units down to ``smallest``
        (None = every unit): '1 hari 2 jam', '45 menit', 'kurang dari 1 menit'."""
        if value is None:
            return "–"
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        remaining = abs(round(seconds))
        units = _DURATION_UNITS[self.lang]
        last = next(i for i, unit in enumerate(units) if unit[0] == smallest)
        words = []
        for _, size, word in units[:last + 1]:
            amount, remaining = divmod(remaining, size)
            if amount:
                words.append(f"{self.number(amount)} {word}")
            if parts is not None and len(words) == parts:
                break
        if words:
            return " ".join(words)
        # Nothing below seconds exists: zero seconds is a value, not "less than".
        return f"0 {units[last][2]}" if smallest == "second" else _LESS_THAN[self.lang].format(unit=units[last][2])


@lru_cache(maxsize=16)
def formatter(lang: str, timezone_name: str) -> Formatter:
    """The formatter of a language and timezone (built once; patterns compiled once)."""
    return Formatter(lang, timezone_name)


@lru_cache(maxsize=4096)
def _whole_number(value: int, locale: str) -> str:
    return format_decimal(value, format="#,##0", locale=locale)


# ------------------------------------------------------------------ pattern compiler
def _compile(pattern: str, cldr: Locale, tz: ZoneInfo) -> Callable[[date], str]:
    """A CLDR date pattern as a function of a (local) date or datetime, for the fields
    Warta's patterns use; any other field falls back to Babel itself."""
    months_wide = cldr.months["format"]["wide"]
    months_short = cldr.months["format"]["abbreviated"]
    standalone_wide = cldr.months["stand-alone"]["wide"]
    days_wide = cldr.days["format"]["wide"]
    fields = {
        "d": lambda v: str(v.day), "dd": lambda v: f"{v.day:02d}",
        "M": lambda v: str(v.month), "MM": lambda v: f"{v.month:02d}",
        "MMM": lambda v: months_short[v.month], "MMMM": lambda v: months_wide[v.month],
        "LLLL": lambda v: standalone_wide[v.month],
        "y": lambda v: str(v.year), "yyyy": lambda v: f"{v.year:04d}",
        "EEEE": lambda v: days_wide[v.weekday()],
        "H": lambda v: str(v.hour), "HH": lambda v: f"{v.hour:02d}",
        "mm": lambda v: f"{v.minute:02d}", "ss": lambda v: f"{v.second:02d}",
    }
    parts: list[Callable[[date], str] | str] = []
    position = 0
    for match in _FIELD.finditer(pattern):
        if match.start() > position:
            parts.append(pattern[position:match.start()])
        token = match.group(0)
        if token.startswith("'"):
            parts.append(token[1:-1] or "'")
        elif token in fields:
            parts.append(fields[token])
        else:
            return lambda value: babel_format_datetime(value, pattern, tzinfo=tz, locale=cldr)
        position = match.end()
    if position < len(pattern):
        parts.append(pattern[position:])

    def render(value: date) -> str:
        return "".join(part if isinstance(part, str) else part(value) for part in parts)

    return render
