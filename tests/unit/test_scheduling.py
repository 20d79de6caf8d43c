"""Scheduled publishing (jadwal tayang): set, move, cancel (held), release, the race with
the time coming, and the publish step's service clock counting from the scheduled time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.unit.conftest import OPERATOR, PELAKSANA, SUBKOOR
from warta import db
from warta.models import PublicationSchedule, StepTiming
from warta.scheduling import (
    HELD, NONE, RELEASED, SCHEDULED, Scheduling, ical_feed, parse_publish_at, release_due, released_items,
)
from warta.service_clock import clock_for, clock_start
from warta.workflow import Conflict, InvalidInput, NotFound, PermissionDenied

WIB = "Asia/Jakarta"


@pytest.fixture
def scheduling(service) -> Scheduling:
    return Scheduling(service)


def _publish_timing(service, item_id):
    with service.sessions() as session:
        return session.scalars(select(StepTiming).where(
            StepTiming.item_id == item_id, StepTiming.step_id == "updating")).one_or_none()


def _fire(service, item_ids):
    """What the triggerer's feed does once per poll."""
    with service.sessions.kw["bind"].begin() as connection:
        release_due(connection, item_ids, service.clock())
        return released_items(connection, item_ids)


def test_local_times_are_wib_and_offsets_are_kept():
    assert parse_publish_at("2026-12-07T08:00", WIB) == datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)
    assert parse_publish_at("2026-12-07T08:00:00+00:00", WIB) == datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
    assert parse_publish_at("2026-12-07 08:00Z", WIB) == datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
    for bad in ("", "besok pagi", "2026-13-01T08:00"):
        with pytest.raises(InvalidInput) as problem:
            parse_publish_at(bad, WIB)
        assert problem.value.field == "publish_at"


def test_time_must_be_in_the_future_and_within_the_horizon(scheduling, flow, clock):
    item_id = flow.to_decision()
    with pytest.raises(InvalidInput) as past:
        scheduling.schedule(item_id, SUBKOOR, clock.now - timedelta(minutes=5))
    assert past.value.reason == "publish_at_past"
    with pytest.raises(InvalidInput) as far:
        scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(days=91))
    assert far.value.reason == "publish_at_horizon"
    assert scheduling.get(item_id)["state"] == NONE


def test_only_the_subkoordinator_or_the_operator_schedule(scheduling, flow, clock):
    item_id = flow.to_decision()
    with pytest.raises(PermissionDenied):
        scheduling.schedule(item_id, PELAKSANA, clock.now + timedelta(hours=1))
    assert scheduling.schedule(item_id, OPERATOR, clock.now + timedelta(hours=1))["state"] == SCHEDULED
    with pytest.raises(NotFound):
        scheduling.get(10**6)


def test_approval_with_a_time_schedules_it_and_the_clock_counts_from_it(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    at = clock.now + timedelta(days=3)
    result = service.record_step(item_id, "menyetujui", SUBKOOR, decision="approve", publish_at=at.isoformat())
    assert result["current_step"] == "updating"
    assert result["schedule"]["state"] == SCHEDULED and result["schedule"]["publish_at"] == at.isoformat()
    assert service.must_wait_for_schedule(item_id)
    timing = _publish_timing(service, item_id)
    assert timing.started_at == at  # the publish step's 10 minutes start at the scheduled time
    assert clock_for(service.config).due_at(service.config.step("updating"), timing.started_at) == at + timedelta(minutes=10)
    audit = [e["action"] for e in service.history(item_id)["audit"]]
    assert audit[-2:] == ["schedule_set", "step_menyetujui"]


def test_a_rejection_with_a_time_schedules_nothing(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    service.record_step(item_id, "menyetujui", SUBKOOR, decision="reject", reason="Lengkapi data",
                        publish_at=(clock.now + timedelta(days=1)).isoformat())
    assert scheduling.get(item_id)["state"] == NONE


def test_bad_time_at_approval_records_nothing(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    with pytest.raises(InvalidInput):
        service.record_step(item_id, "menyetujui", SUBKOOR, decision="approve", publish_at="kemarin")
    assert service.get_item(item_id)["current_step"] == "menyetujui"


def test_unscheduled_items_pass_straight_on_and_cannot_be_scheduled_later(service, scheduling, flow, clock):
    item_id = flow.to_publish()
    assert not service.must_wait_for_schedule(item_id)
    assert service.get_item(item_id)["schedule"] is None
    with pytest.raises(Conflict):
        scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))


def test_move_then_time_comes_releases_once(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))
    flow.approve(item_id)
    moved = scheduling.schedule(item_id, OPERATOR, clock.now + timedelta(hours=2), expected_revision=1)
    assert moved["moved"] and moved["revision"] == 2
    assert _publish_timing(service, item_id).started_at == clock.now + timedelta(hours=2)
    with pytest.raises(Conflict):  # someone else's stale revision
        scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=3), expected_revision=1)

    clock.advance(3600)
    assert _fire(service, [item_id]) == set()  # the old time means nothing now
    clock.advance(3600)
    assert _fire(service, [item_id]) == {item_id}
    released = scheduling.get(item_id)
    assert released["state"] == RELEASED and released["released_by"] == "jadwal"
    # Fired: neither a move nor a cancel nor a release can change it any more.
    with pytest.raises(Conflict):
        scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))
    with pytest.raises(Conflict):
        scheduling.cancel(item_id, SUBKOOR)
    with pytest.raises(Conflict):
        scheduling.release(item_id, SUBKOOR)


def test_cancel_after_approval_holds_the_item_until_a_new_time_or_a_release(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    at = clock.now + timedelta(hours=1)
    service.record_step(item_id, "menyetujui", SUBKOOR, decision="approve", publish_at=at.isoformat())
    held = scheduling.cancel(item_id, OPERATOR)
    assert held["state"] == HELD
    assert _publish_timing(service, item_id) is None  # nobody can publish it: no clock runs
    clock.advance(7200)
    assert _fire(service, [item_id]) == set()  # cancelled: never published by surprise
    assert service.must_wait_for_schedule(item_id)

    again = scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))
    assert again["state"] == SCHEDULED and again["moved"]
    assert _publish_timing(service, item_id).started_at == clock.now + timedelta(hours=1)
    scheduling.cancel(item_id, SUBKOOR)

    clock.advance(60)
    released = scheduling.release(item_id, SUBKOOR)  # "Terbitkan sekarang"
    assert released["state"] == RELEASED and released["released_by"] == SUBKOOR
    assert _publish_timing(service, item_id).started_at == clock.now
    assert _fire(service, [item_id]) == {item_id}
    actions = [e["action"] for e in service.history(item_id)["audit"]]
    assert actions[-6:] == ["schedule_set", "step_menyetujui", "schedule_cancelled", "schedule_moved",
                            "schedule_cancelled", "schedule_released"]


def test_cancel_before_approval_means_no_schedule(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))
    assert scheduling.cancel(item_id, SUBKOOR)["state"] == NONE
    with pytest.raises(NotFound):
        scheduling.cancel(item_id, SUBKOOR)
    flow.approve(item_id)
    assert not service.must_wait_for_schedule(item_id)


def test_the_time_coming_and_a_move_at_the_same_moment_one_wins(service, scheduling, flow, clock):
    item_id = flow.to_decision()
    scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(minutes=2))
    flow.approve(item_id)
    clock.advance(180)
    assert _fire(service, [item_id]) == {item_id}
    with pytest.raises(Conflict):  # the move lost: 409, the item is publishing
        scheduling.schedule(item_id, SUBKOOR, clock.now + timedelta(hours=1))
    with service.sessions() as session:
        row = session.scalars(select(PublicationSchedule)).one()
        assert row.state == RELEASED and row.revision == 2


def test_publish_step_within_standard_counts_from_the_scheduled_time(service, scheduling, flow, clock):
    """Approved on Friday, published Monday 08:05 as scheduled: within the 10 minutes."""
    item_id = flow.to_decision()
    at = clock.now + timedelta(days=4)
    service.record_step(item_id, "menyetujui", SUBKOOR, decision="approve", publish_at=at.isoformat())
    clock.now = at
    _fire(service, [item_id])
    clock.advance(5 * 60)
    service.complete_automatic_step(item_id, 1, "updating")
    [timing] = [t for t in service.history(item_id)["timings"] if t["step"] == "updating"]
    assert timing["started_at"] == at.isoformat() and timing["duration_seconds"] == 300
    assert timing["within_standard"] is True


def test_clock_start_is_the_later_of_opening_and_schedule():
    opened = datetime(2026, 12, 1, 1, tzinfo=timezone.utc)
    assert clock_start(opened) == opened
    assert clock_start(opened, opened - timedelta(hours=1)) == opened
    assert clock_start(opened, opened + timedelta(hours=1)) == opened + timedelta(hours=1)


def test_calendar_lists_scheduled_and_published_per_channel(service, scheduling, flow, clock):
    item_id = flow.create(channels=["website", "facebook"])
    flow.to_decision(item_id)
    at = clock.now + timedelta(days=1)
    scheduling.schedule(item_id, SUBKOOR, at)
    entries = scheduling.calendar(clock.now, clock.now + timedelta(days=7))
    assert [(e["kind"], e["channel"], e["at"]) for e in entries] == [
        ("scheduled", "facebook", at), ("scheduled", "website", at)]
    assert not entries[0]["approved"]
    ics = ical_feed(entries, config=service.config, lang="id", desk_url="http://desk")
    from icalendar import Calendar

    events = Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 2 and events[0]["summary"].startswith("[Jadwal]")
    assert events[0].decoded("dtstart") == at


def test_feed_tokens_are_secret_and_replaceable(scheduling):
    first = scheduling.new_feed_token(OPERATOR)
    assert scheduling.feed_user(first) == OPERATOR
    second = scheduling.new_feed_token(OPERATOR)
    assert scheduling.feed_user(first) is None and scheduling.feed_user(second) == OPERATOR
    assert scheduling.feed_user("") is None and scheduling.feed_user("x" * 500) is None
    assert scheduling.has_feed_token(OPERATOR) and not scheduling.has_feed_token(SUBKOOR)


def test_cli_sets_moves_cancels_releases_and_lists(service, flow, clock, monkeypatch, capsys):
    from warta import cli

    monkeypatch.setattr(cli, "_service", lambda: service)
    item_id = flow.to_decision()
    at = (clock.now + timedelta(days=1)).astimezone(ZoneInfo(WIB)).strftime("%Y-%m-%d %H:%M")
    assert cli.main(["jadwal", str(item_id), "set", at, "--as", "subkoor"]) == 0
    assert "terjadwal (scheduled)" in capsys.readouterr().out
    assert cli.main(["schedule", str(item_id), "set", "--as", "subkoor"]) == 2  # no time given
    flow.approve(item_id)
    assert cli.main(["jadwal", str(item_id), "cancel", "--as", "operator"]) == 0
    assert "ditahan (held)" in capsys.readouterr().out
    assert cli.main(["--json", "jadwal", str(item_id), "release", "--as", "operator"]) == 0
    assert '"state": "released"' in capsys.readouterr().out
    assert cli.main(["jadwal", str(item_id), "cancel", "--as", "operator"]) == 1  # 409: already released
    assert "already released" in capsys.readouterr().err
    assert cli.main(["kalender", "--from", "2026-11-01", "--days", "60"]) == 0
    assert cli.main(["kalender", "--from", "kemarin"]) == 2
