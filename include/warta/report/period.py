"""The calendar month a report covers, in the SOP's local time (WIB by default).

A month runs from 00:00 local time on the 1st to 00:00 on the 1st of the next month; the
editorial DB stores UTC, so the bounds are converted once here. In WIB (UTC+7) an item
published at 23:30 WIB on 31 October (16:30 UTC) falls in October, one published at
00:30 WIB on 1 November (17:30 UTC on 31 October) in November.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class InvalidReportMonth(ValueError):
    """A month that can't be reported: badly written, or not over yet."""


@dataclass(frozen=True)
class ReportMonth:
    year: int
    month: int
    timezone: str = "Asia/Jakarta"

    @classmethod
    def parse(cls, text: str, timezone_name: str = "Asia/Jakarta") -> "ReportMonth":
        match = _MONTH.match(str(text).strip())
        if not match:
            raise InvalidReportMonth(f"month {text!r} is not written like 2026-10")
        return cls(int(match.group(1)), int(match.group(2)), timezone_name)

    @classmethod
    def containing(cls, moment: datetime, timezone_name: str = "Asia/Jakarta") -> "ReportMonth":
        """The local calendar month that ``moment`` (aware) falls in."""
        if moment.tzinfo is None:
            raise ValueError("an aware datetime is needed to find its local month")
        local = moment.astimezone(ZoneInfo(timezone_name))
        return cls(local.year, local.month, timezone_name)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> list[date]:
        first = self.first_day
        return [first + timedelta(days=n) for n in range((self.next().first_day - first).days)]

    @property
    def start(self) -> datetime:
        """00:00 local time on the 1st, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=self.tz).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        """00:00 local time on the 1st of the next month, in UTC (exclusive)."""
        return self.next().start

    def next(self) -> "ReportMonth":
        if self.month == 12:
            return ReportMonth(self.year + 1, 1, self.timezone)
        return ReportMonth(self.year, self.month + 1, self.timezone)

    def previous(self) -> "ReportMonth":
        if self.month == 1:
            return ReportMonth(self.year - 1, 12, self.timezone)
        return ReportMonth(self.year, self.month - 1, self.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def __str__(self) -> str:
        return self.key


def month_to_report(
    requested: str | None, reference: datetime | None, now: datetime, timezone_name: str
) -> ReportMonth:
    """The month a run reports on.

    ``requested`` (a run's conf, e.g. "2026-10") wins; otherwise the calendar month
    before the one containing ``reference`` (the run's data interval end / logical date,
    or when it was started). Only months that are over can be reported: a report of a
    running month would be silently incomplete.
    """
    if requested:
        month = ReportMonth.parse(requested, timezone_name)
    else:
        month = ReportMonth.containing(reference or now, timezone_name).previous()
    if month.end > now:
        raise InvalidReportMonth(
            f"month {month.key} is not over yet (it ends {month.end.astimezone(month.tz):%Y-%m-%d %H:%M %Z}); "
            "only past months can be reported"
        )
    return month
