"""The service clock: due times in working hours (WIB, weekends, Indonesian holidays,
end-of-day carry-over) or wall-clock time, configured per step."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import holidays
import pytest
import yaml

from warta.config import ConfigError, load_config
from warta.service_clock import ServiceClock, clock_for

WIB = timezone(timedelta(hours=7))
OFFICE = {d: (time(7, 30), time(16, 0)) for d in range(4)} | {4: (time(7, 30), time(16, 30))}


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


@pytest.fixture
def clock() -> ServiceClock:
    return ServiceClock("Asia/Jakarta", OFFICE, "ID")


def due_local(clock: ServiceClock, start: str, duration: timedelta, mode: str = "working_hours") -> str:
    return clock.add(wib(start), duration, mode).astimezone(WIB).strftime("%Y-%m-%d %H:%M")


HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_within_a_working_day(clock):
    # Thursday 26 November 2026.
    assert due_local(clock, "2026-11-26T08:00", HOUR) == "2026-11-26 09:00"
    assert due_local(clock, "2026-11-26T08:00", timedelta(minutes=10)) == "2026-11-26 08:10"


def test_end_of_day_carries_over_to_the_next_working_morning(clock):
    assert due_local(clock, "2026-11-26T15:30", HOUR) == "2026-11-27 08:00"
    assert due_local(clock, "2026-11-26T16:00", HOUR) == "2026-11-27 08:30"


def test_weekend_is_skipped(clock):
    # Friday ends at 16:30: 30 minutes on Friday, 30 on Monday.
    assert due_local(clock, "2026-11-27T16:00", HOUR) == "2026-11-30 08:00"
    # A whole day from Friday is Monday at the same time.
    assert due_local(clock, "2026-11-27T10:00", DAY) == "2026-11-30 10:00"


def test_start_outside_working_hours_counts_from_the_next_working_start(clock):
    assert due_local(clock, "2026-11-28T10:00", HOUR) == "2026-11-30 08:30"  # Saturday
    assert due_local(clock, "2026-11-26T06:00", HOUR) == "2026-11-26 08:30"  # before office hours
    assert due_local(clock, "2026-11-26T19:00", HOUR) == "2026-11-27 08:30"  # evening
    assert due_local(clock, "2026-11-28T10:00", DAY) == "2026-12-01 07:30"


def test_independence_day_is_not_a_working_day(clock):
    assert date(2026, 8, 17) in holidays.country_holidays("ID", years=2026)
    assert not clock.is_working_day(date(2026, 8, 17))  # a Monday
    assert due_local(clock, "2026-08-14T16:00", HOUR) == "2026-08-18 08:00"
    assert due_local(clock, "2026-08-14T09:00", DAY) == "2026-08-18 09:00"


def test_idul_fitri_from_the_holiday_library(clock):
    calendar = holidays.country_holidays("ID", years=2026)
    eid_days = sorted(day for day, name in calendar.items() if "Eid al-Fitr" in name)
    assert eid_days, "the holiday library knows Idul Fitri"
    day_before = eid_days[0] - timedelta(days=1)
    while not clock.is_working_day(day_before):
        day_before -= timedelta(days=1)
    due = clock.add(datetime.combine(day_before, time(15, 30), WIB), HOUR, "working_hours").astimezone(WIB)
    assert due.date() > eid_days[-1]
    assert all(not clock.is_working_day(d) for d in eid_days)
    assert clock.holiday_name(eid_days[0]).startswith("Eid al-Fitr")


def test_extra_holidays_from_config_count_too():
    clock = ServiceClock("Asia/Jakarta", OFFICE, "ID", extra_holidays=[date(2026, 12, 24)])  # cuti bersama
    assert not clock.is_working_day(date(2026, 12, 24))
    # Thursday 24 is cuti bersama, Friday 25 is Christmas: due the next Monday.
    assert due_local(clock, "2026-12-23T15:30", HOUR) == "2026-12-28 08:00"


def test_a_whole_day_lands_inside_a_shorter_day(clock):
    # Friday 16:15 is after Monday's 16:00 close: due at Monday's close.
    assert due_local(clock, "2026-11-27T16:15", DAY) == "2026-11-30 16:00"


def test_reminder_time_is_counted_back_in_working_time(clock):
    config = load_config()
    levels = config.service_levels
    # 1 hari from Thursday 08:00 is due Friday 08:00; 15 working minutes before is 07:45.
    meliput = clock.deadlines(config.step("meliput"), wib("2026-11-26T08:00"), levels)
    assert meliput.reminder_at.astimezone(WIB) == wib("2026-11-27T07:45")
    # Counting back crosses the weekend to Friday's close (16:30) when Monday morning is too short.
    assert clock.subtract_working_time(wib("2026-11-30T07:45"), timedelta(minutes=15)).astimezone(WIB) == wib(
        "2026-11-30T07:30"
    )
    assert clock.subtract_working_time(wib("2026-11-30T07:40"), timedelta(minutes=15)).astimezone(WIB) == wib(
        "2026-11-27T16:25"
    )
    assert clock.subtract_working_time(wib("2026-11-29T12:00"), HOUR).astimezone(WIB) == wib("2026-11-27T15:30")


def test_wall_clock_ignores_office_hours(clock):
    assert due_local(clock, "2026-11-28T23:55", timedelta(minutes=10), "wall") == "2026-11-29 00:05"


def test_is_working_time(clock):
    assert clock.is_working_time(wib("2026-11-26T10:00"))
    assert not clock.is_working_time(wib("2026-11-26T17:00"))
    assert not clock.is_working_time(wib("2026-11-29T10:00"))


def test_defaults_from_config():
    config = load_config()
    clocks = {s.id: s.clock for s in config.steps}
    assert clocks == {
        "meliput": "working_hours", "menyusun": "working_hours", "memeriksa": "working_hours",
        "menyetujui": "working_hours", "updating": "wall", "pengecekan": "wall", "mendokumentasi": "wall",
    }
    levels = config.service_levels
    assert levels.working_hours[4] == (time(7, 30), time(16, 30))
    assert 5 not in levels.working_hours and 6 not in levels.working_hours
    assert levels.reminder_before == timedelta(minutes=15)
    assert config.step("updating").reminder_before == timedelta(0)
    service_clock = clock_for(config)
    assert clock_for(config) is service_clock
    meliput = config.step("meliput")
    # 1 hari started on Friday morning is due on Monday morning.
    assert service_clock.due_at(meliput, wib("2026-11-27T09:00")).astimezone(WIB) == wib("2026-11-30T09:00")


def test_deadlines_remind_before_due_and_escalate_after(clock):
    config = load_config()
    levels = config.service_levels
    deadlines = clock.deadlines(config.step("memeriksa"), wib("2026-11-26T15:00"), levels)
    assert deadlines.reminder_at.astimezone(WIB) == wib("2026-11-26T15:45")
    assert deadlines.due_at.astimezone(WIB) == wib("2026-11-26T16:00")  # the day's last minute
    assert deadlines.escalate_at.astimezone(WIB) == wib("2026-11-27T08:30")  # an hour of the next day
    publish = clock.deadlines(config.step("updating"), wib("2026-11-28T22:00"), levels)
    assert publish.reminder_at is None  # the pipeline's steps get no reminder
    assert publish.due_at.astimezone(WIB) == wib("2026-11-28T22:10")


def edit(folder, name, change):
    path = folder / name
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


def test_clock_is_configurable_per_step(config_copy):
    edit(config_copy, "sop.yaml", lambda d: d["steps"][3].update(clock="wall"))
    config = load_config(config_copy)
    assert config.step("menyetujui").clock == "wall"
    # On the wall clock, a Friday-evening approval is due an hour later, not on Monday.
    assert clock_for(config).due_at(config.step("menyetujui"), wib("2026-11-27T18:00")).astimezone(WIB) == wib(
        "2026-11-27T19:00"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["steps"][0].update(clock="office"), "clock 'office'"),
        (lambda d: d["steps"][0].update(reminder_before="soon"), "reminder_before"),
    ],
)
def test_bad_step_clock_settings(config_copy, change, message):
    edit(config_copy, "sop.yaml", change)
    with pytest.raises(ConfigError, match=message):
        load_config(config_copy)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"working_hours": {"funday": "08:00-16:00"}}, "funday"),
        ({"working_hours": {"mon": "16:00-08:00"}}, "end after it starts"),
        ({"working_hours": {"mon": "8 pagi-16:00"}}, "not a time"),
        ({"escalation_role": "kepala"}, "escalation_role"),
        ({"deputies": ["nobody"]}, "deputies"),
        ({"extra_holidays": ["24-12-2026"]}, "extra_holidays"),
        ({"reminder_minutes": 5}, "unknown settings"),
    ],
)
def test_bad_service_level_settings(config_copy, settings, message):
    edit(config_copy, "warta.yaml", lambda d: d["service_levels"].update(settings))
    with pytest.raises(ConfigError, match=message):
        load_config(config_copy)


def test_bad_user_notification_settings(config_copy):
    edit(config_copy, "users.yaml", lambda d: d["users"]["operator"].update(notify="pigeon"))
    with pytest.raises(ConfigError, match="notify 'pigeon'"):
        load_config(config_copy)
    edit(config_copy, "users.yaml", lambda d: d["users"]["operator"].update(notify="email", email=""))
    with pytest.raises(ConfigError, match="no email address"):
        load_config(config_copy)


# ------------------------------------------------ one definition of "within the standard time"
def test_within_standard_counts_working_hours_across_a_weekend(clock):
    meliput = load_config().step("meliput")  # 1 hari, working hours
    friday = wib("2026-11-27T10:00")
    # Three wall-clock days later, but only one working day: within the standard time.
    assert clock.within_standard(meliput, friday, wib("2026-11-30T10:00"))
    assert not clock.within_standard(meliput, friday, wib("2026-11-30T10:01"))


def test_within_standard_skips_a_public_holiday(clock):
    memeriksa = load_config().step("memeriksa")  # 1 jam, working hours
    # Friday 14 August 16:00 (half an hour before closing); Monday 17 August is Independence
    # Day: due Tuesday 08:00.
    assert clock.within_standard(memeriksa, wib("2026-08-14T16:00"), wib("2026-08-18T08:00"))
    assert not clock.within_standard(memeriksa, wib("2026-08-14T16:00"), wib("2026-08-18T08:05"))


def test_within_standard_across_a_month_end(clock):
    menyetujui = load_config().step("menyetujui")  # 1 jam, working hours
    # Begun on the last evening of October (a Saturday) it is due on Monday 2 November 08:30.
    started = wib("2026-10-31T19:00")
    assert clock.within_standard(menyetujui, started, wib("2026-11-02T08:30"))
    assert not clock.within_standard(menyetujui, started, wib("2026-11-02T08:31"))
    # Wall-clock steps count around the clock, month end or not.
    updating = load_config().step("updating")  # 10 menit, wall
    assert clock.within_standard(updating, wib("2026-10-31T23:55"), wib("2026-11-01T00:05"))
    assert not clock.within_standard(updating, wib("2026-10-31T23:55"), wib("2026-11-01T00:06"))

