"""The service clock: when an SOP step is due, counted in working hours or around the clock.

Plain Python (no Airflow, no database). Working time follows the unit's working days and
hours in the SOP's timezone (WIB) and skips Indonesian public holidays (the maintained
``holidays`` library) plus any extra days off from config (cuti bersama).

How a standard time is counted on the working-hours clock:
- whole days ("1d") move to the same time of day on the next working day(s), so
  "1 hari" started on Friday 10:00 is due on Monday 10:00;
- hours and minutes are working minutes: a 1-hour step started at 15:30 on a day that
  ends at 16:00 is due at 08:00 on the next working day;
- a step started outside working hours starts counting when the next working day begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from warta.config import ServiceLevels, Step, WartaConfig

WORKING_HOURS = "working_hours"
WALL = "wall"
# Nobody plans years of holidays ahead; a year without a working day is a config error.
_MAX_DAYS_SEARCHED = 366


@dataclass(frozen=True)
class StepDeadlines:
    """When to remind, when the step breaches its standard time, when to escalate."""

    reminder_at: datetime | None
    due_at: datetime
    escalate_at: datetime


class ServiceClock:
    def __init__(
        self,
        timezone_name: str,
        working_hours: dict[int, tuple[time, time]],
        holiday_country: str = "ID",
        extra_holidays: tuple[date, ...] | list[date] = (),
    ):
        if not working_hours:
            raise ValueError("at least one working day is needed")
        self.tz = ZoneInfo(timezone_name)
        self.working_hours = dict(working_hours)
        self.extra_holidays = frozenset(extra_holidays)
        self._calendar = (
            holiday_calendars.country_holidays(holiday_country) if holiday_country else None
        )

    @classmethod
    def from_config(cls, config: WartaConfig) -> ServiceClock:
        levels: ServiceLevels = config.service_levels
        return cls(config.timezone, levels.working_hours, levels.holiday_country, levels.extra_holidays)

    # ------------------------------------------------------------ calendar
    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_holidays:
            return "Cuti bersama / libur tambahan"
        # `in` makes the calendar compute the year on first use; .get alone does not.
        if self._calendar is not None and day in self._calendar:
            return self._calendar.get(day)
        return None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_hours and self.holiday_name(day) is None

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start, end = self.working_hours[day.weekday()]
        return datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz)

    def _next_working_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS_SEARCHED):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within a year after {day}")

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` if it is inside working hours, else the start of the next working window."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day):
            start, end = self._window(day)
            if local < start:
                return start
            if local < end:
                return local
        return self._window(self._next_working_day(day))[0]

    def is_working_time(self, moment: datetime) -> bool:
        return self.next_working_moment(moment) == moment.astimezone(self.tz)

    # ------------------------------------------------------------ arithmetic
    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """``start`` plus ``duration`` of working time (see the module docstring)."""
        if start.tzinfo is None:
            raise ValueError("the service clock needs timezone-aware datetimes")
        cursor = self.next_working_moment(start)
        whole_days = duration.days
        remaining = duration - timedelta(days=whole_days)
        if whole_days:
            day = cursor.date()
            for _ in range(whole_days):
                day = self._next_working_day(day)
            day_start, day_end = self._window(day)
            # Same time of day, within that day's window (Friday may end later than Monday).
            same_time = datetime.combine(day, cursor.timetz().replace(tzinfo=None), self.tz)
            cursor = min(max(same_time, day_start), day_end)
        while remaining > timedelta(0):
            _, day_end = self._window(cursor.date())
            available = day_end - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(timezone.utc)
            remaining -= available
            cursor = self._window(self._next_working_day(cursor.date()))[0]
        return cursor.astimezone(timezone.utc)

    def _previous_working_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS_SEARCHED):
            day -= timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within a year before {day}")

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time before ``end`` (for reminders)."""
        local = end.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and self._window(day)[0] <= local:
            cursor = min(local, self._window(day)[1])
        else:
            cursor = self._window(self._previous_working_day(day))[1]
        remaining = duration
        while remaining > timedelta(0):
            day_start, _ = self._window(cursor.date())
            available = cursor - day_start
            if remaining <= available:
                return (cursor - remaining).astimezone(timezone.utc)
            remaining -= available
            cursor = self._window(self._previous_working_day(cursor.date()))[1]
        return cursor.astimezone(timezone.utc)

    def add(self, start: datetime, duration: timedelta, clock: str) -> datetime:
        if clock == WALL:
            return (start + duration).astimezone(timezone.utc)
        if clock == WORKING_HOURS:
            return self.add_working_time(start, duration)
        raise ValueError(f"unknown clock {clock!r}")

    def due_at(self, step: Step, started_at: datetime) -> datetime:
        return self.add(started_at, step.standard_time, step.clock)

    def within_standard(self, step: Step, started_at: datetime, ended_at: datetime) -> bool:
        """THE definition of "within the standard time" (Mutu Baku): the step ended no later
        than its due moment on its own clock. Inbox, alerts and the monthly report use it."""
        return not past_due(self.due_at(step, started_at), ended_at)

    def deadlines(self, step: Step, started_at: datetime, levels: ServiceLevels) -> StepDeadlines:
        lead = levels.reminder_before if step.reminder_before is None else step.reminder_before
        due = self.due_at(step, started_at)
        reminder_at = None
        # A lead as long as the step itself would remind at the start: no use to anyone.
        if timedelta(0) < lead < step.standard_time:
            if step.clock == WALL:
                reminder_at = due - lead
            else:
                reminder_at = max(self.subtract_working_time(due, lead), started_at.astimezone(timezone.utc))
        escalate_at = self.add(due, levels.escalate_after, step.clock) if levels.escalate_after else due
        return StepDeadlines(reminder_at=reminder_at, due_at=due, escalate_at=escalate_at)


def clock_start(opened_at: datetime, scheduled_at: datetime | None = None) -> datetime:
    """THE moment a step's service clock starts: when the step opened, or, for a publication
    scheduled later (jadwal tayang), the scheduled time. The step's ``StepTiming.started_at``
    holds it, so the inbox, the alerts and the monthly report (``report.compile``) all count
    the same standard time from the same moment."""
    if scheduled_at is None or scheduled_at <= opened_at:
        return opened_at
    return scheduled_at


def past_due(due_at: datetime, moment: datetime) -> bool:
    """Whether ``moment`` is past ``due_at``: a step recorded at its due moment is still
    within the standard time; an open step is breached from just after it."""
    return moment > due_at


# id(config) -> (config, clock); holding the config keeps its id from being reused.
_clocks: dict[int, tuple[WartaConfig, ServiceClock]] = {}


def clock_for(config: WartaConfig) -> ServiceClock:
    """One ServiceClock per loaded configuration (the holiday calendar fills lazily)."""
    entry = _clocks.get(id(config))
    if entry is None or entry[0] is not config:
        if len(_clocks) > 32:
            _clocks.clear()
        entry = _clocks[id(config)] = (config, ServiceClock.from_config(config))
    return entry[1]
