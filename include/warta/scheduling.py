"""Scheduled publishing (jadwal tayang): when an approved item is published.

Plain Python on the editorial DB (no Airflow). One ``PublicationSchedule`` row per item;
its ``state`` is the whole story:

    none ──set──▶ scheduled ──time comes──▶ released ──▶ publishing (steps 5-7)
                  │  ▲  move                  ▲
          cancel  │  │ set                    │ "Terbitkan sekarang" (release)
                  ▼  │                        │
                  held ───────────────────────┘

- Before approval a schedule can be set, moved and cancelled freely (cancel → ``none``).
- An approved item with a schedule waits at the schedule task of its Airflow run
  (``warta.yaml`` ``schedule.task_id``); one without passes straight on to publishing.
- Cancelling after approval does **not** publish: the item is ``held`` at the schedule
  task until someone sets a new time or releases it ("Terbitkan sekarang").
- Once ``released`` (the time came, or released by hand) nothing can be moved any more:
  409. Every change is one conditional UPDATE on ``state``, so a move and the time
  coming at the same moment cannot both win.

The publish step's service clock starts at the scheduled time (``service_clock.clock_start``):
its ``StepTiming.started_at`` is that moment, which the inbox, the alerts and the monthly
report all read. A held item has no running publish clock (nobody can publish it until a
person decides).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from warta import workflow
from warta.schedule_settings import ScheduleSettings, schedule_settings
from warta.models import CalendarToken, NewsItem, PublicationSchedule, StepTiming
from warta.workflow import Conflict, InvalidInput, NotFound, PermissionDenied

NONE, SCHEDULED, HELD, RELEASED = "none", "scheduled", "held", "released"
STATES = (NONE, SCHEDULED, HELD, RELEASED)
# How the CLI names the states (Indonesian, English); the desk's words are in web/i18n.py.
STATE_LABELS = {NONE: ("tanpa jadwal", "not scheduled"), SCHEDULED: ("terjadwal", "scheduled"),
                HELD: ("ditahan", "held"), RELEASED: ("dirilis untuk terbit", "released")}
# Who releases an item whose time came.
SCHEDULE_ACTOR = "jadwal"


def parse_publish_at(value: str | datetime | None, tz_name: str) -> datetime:
    """A publication time from a form or the API: ISO 8601 with an offset, or a local
    time in the SOP's timezone (the desk's ``datetime-local`` field: ``2026-12-07T08:00``)."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = (value or "").strip()
        if not text:
            raise InvalidInput("publish_at is required", field="publish_at", reason="required")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            raise InvalidInput(
                f"waktu tayang {text[:40]!r} tidak valid; contoh 2026-12-07T08:00 / not a valid time; "
                "e.g. 2026-12-07T08:00", field="publish_at", reason="publish_at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment.astimezone(timezone.utc).replace(microsecond=0)


@dataclass
class ScheduleView:
    item_id: int
    state: str
    publish_at: datetime | None
    revision: int
    updated_by: str | None
    updated_at: datetime | None
    released_at: datetime | None
    released_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id, "state": self.state,
            "publish_at": self.publish_at.isoformat() if self.publish_at else None,
            "revision": self.revision, "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_by": self.released_by,
        }


def view_of(item_id: int, row: PublicationSchedule | None) -> ScheduleView:
    if row is None:
        return ScheduleView(item_id, NONE, None, 0, None, None, None, None)
    return ScheduleView(item_id, row.state, row.publish_at if row.state != NONE else None, row.revision,
                        row.updated_by, row.updated_at, row.released_at, row.released_by)


def summary_of(row: PublicationSchedule | None) -> dict[str, Any] | None:
    """The schedule as item summaries carry it (None: not scheduled)."""
    if row is None or row.state == NONE:
        return None
    return {"state": row.state, "publish_at": row.publish_at.isoformat() if row.publish_at else None,
            "revision": row.revision, "released_at": row.released_at.isoformat() if row.released_at else None}


def must_wait(row: PublicationSchedule | None) -> bool:
    """Whether an approved item waits at the schedule task (else it publishes at once)."""
    return row is not None and row.state in (SCHEDULED, HELD)


class Scheduling:
    """Setting, moving, cancelling and releasing an item's publication time (one
    transaction each, audited), for the REST API, the desk and the CLI."""

    def __init__(self, service, settings: ScheduleSettings | None = None):
        self.service = service
        self.config = service.config
        self.settings = settings or schedule_settings()

    # ------------------------------------------------------------ helpers
    def _check_role(self, actor: str) -> None:
        if not set(self.config.roles_of(actor)) & set(self.settings.roles):
            names = ", ".join(self.config.roles[r].name_id for r in self.settings.roles if r in self.config.roles)
            raise PermissionDenied(f"{actor!r} may not schedule publications (roles: {names})")

    def _publish_step(self):
        return self.config.step_of_kind("publish")

    def _stage(self, item: NewsItem) -> str:
        """``before`` approval (a human step), ``waiting`` (approved, at publishing), ``done``."""
        if item.current_step == workflow.DONE:
            return "done"
        if self.config.step(item.current_step).is_human:
            return "before"
        return "waiting" if item.current_step == self._publish_step().id else "done"

    def _row(self, session: Session, item_id: int) -> PublicationSchedule | None:
        return session.scalars(select(PublicationSchedule).where(PublicationSchedule.item_id == item_id)).one_or_none()

    def _validate_time(self, publish_at) -> datetime:
        moment = parse_publish_at(publish_at, self.config.timezone)
        now = self.service.clock()
        if moment < now + self.settings.min_lead:
            raise InvalidInput(
                "waktu tayang harus di masa depan / the publication time must be in the future "
                f"(at least {int(self.settings.min_lead.total_seconds())} s ahead)",
                field="publish_at", reason="publish_at_past")
        if moment > now + self.settings.horizon:
            raise InvalidInput(
                f"waktu tayang paling lambat {self.settings.horizon.days} hari ke depan / the publication time "
                f"must be within {self.settings.horizon.days} days", field="publish_at", reason="publish_at_horizon",
                params={"n": self.settings.horizon.days})
        return moment

    def _check_revision(self, row: PublicationSchedule | None, expected: int | None) -> None:
        if expected is not None and (row.revision if row else 0) != expected:
            raise Conflict(f"the schedule was changed meanwhile (revision {row.revision if row else 0}, "
                           f"not {expected}); reload and try again")

    def _fired(self, row: PublicationSchedule | None) -> Conflict:
        when = f" at {row.released_at:%Y-%m-%d %H:%M} UTC" if row is not None and row.released_at else ""
        return Conflict(f"sudah terbit atau sedang diterbitkan / the item was already released for publishing{when}; "
                        "its schedule can no longer change")

    def set_publish_clock(self, session: Session, item: NewsItem, start: datetime | None) -> None:
        """Start the publish step's service clock at ``start`` (None: no running clock, held)."""
        from warta.service_clock import clock_start

        step = self._publish_step()
        if item.current_step != step.id:
            return
        timing = session.scalars(select(StepTiming).where(
            StepTiming.item_id == item.id, StepTiming.round == item.round, StepTiming.step_id == step.id,
            StepTiming.ended_at.is_(None))).one_or_none()
        if start is None:
            if timing is not None:
                session.delete(timing)
            return
        start = clock_start(self.service.clock(), start)
        if timing is None:
            session.add(StepTiming(item_id=item.id, round=item.round, step_id=step.id, started_at=start,
                                   standard_seconds=int(step.standard_time.total_seconds())))
        else:
            timing.started_at = start

    def _conditional(self, session: Session, item_id: int, states: Iterable[str], **values) -> bool:
        """One UPDATE that only changes the row while it is in ``states``: the arbiter
        between people and the time coming (the triggerer's ``release_due``)."""
        result = session.execute(
            update(PublicationSchedule)
            .where(PublicationSchedule.item_id == item_id, PublicationSchedule.state.in_(tuple(states)))
            .values(revision=PublicationSchedule.revision + 1, updated_at=self.service.clock(), **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def _answer(self, session: Session, item_id: int) -> dict[str, Any]:
        session.expire_all()
        return view_of(item_id, self._row(session, item_id)).as_dict()

    # ------------------------------------------------------------ actions
    def get(self, item_id: int) -> dict[str, Any]:
        with self.service.sessions() as session:
            self.service._item(session, item_id)
            return view_of(item_id, self._row(session, item_id)).as_dict()

    def schedule(self, item_id: int, actor: str, publish_at, *, expected_revision: int | None = None,
                 session: Session | None = None) -> dict[str, Any]:
        """Set or move the publication time (PUT). 409 once released or finished."""
        if session is not None:
            return self._schedule(session, item_id, actor, publish_at, expected_revision)
        with self.service.sessions() as own:
            answer = self._schedule(own, item_id, actor, publish_at, expected_revision)
            own.commit()
            return self._answer(own, item_id) | {"moved": answer["moved"]}

    def _schedule(self, session: Session, item_id: int, actor: str, publish_at, expected_revision) -> dict:
        self._check_role(actor)
        moment = self._validate_time(publish_at)
        item = self.service._item(session, item_id, lock=True)
        stage = self._stage(item)
        row = self._row(session, item_id)
        if stage == "done" or (stage == "waiting" and not must_wait(row)):
            raise self._fired(row)
        self._check_revision(row, expected_revision)
        moved = row is not None and row.state in (SCHEDULED, HELD)
        if row is None:
            item.publication_schedule = PublicationSchedule(
                item_id=item_id, state=SCHEDULED, publish_at=moment, revision=1, updated_by=actor,
                updated_at=self.service.clock())
        elif not self._conditional(session, item_id, (NONE, SCHEDULED, HELD, RELEASED) if stage == "before"
                                   else (SCHEDULED, HELD), state=SCHEDULED, publish_at=moment, updated_by=actor,
                                   released_at=None, released_by=None):
            raise self._fired(row)
        else:
            session.refresh(row)
        self.set_publish_clock(session, item, moment)
        self.service._audit(session, item_id, actor, "schedule_moved" if moved else "schedule_set",
                            publish_at=moment.isoformat(), round=item.round)
        session.flush()
        return {"moved": moved}

    def cancel(self, item_id: int, actor: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        """Cancel the schedule (DELETE). After approval the item is held, not published."""
        self._check_role(actor)
        with self.service.sessions() as session:
            item = self.service._item(session, item_id, lock=True)
            stage = self._stage(item)
            row = self._row(session, item_id)
            if row is None or row.state == NONE:
                raise NotFound(f"item {item_id} has no publication schedule")
            if stage == "done" or row.state == RELEASED:
                raise self._fired(row)
            self._check_revision(row, expected_revision)
            if stage == "before":
                self._conditional(session, item_id, (SCHEDULED, HELD), state=NONE, publish_at=None, updated_by=actor)
            elif row.state == SCHEDULED:
                if not self._conditional(session, item_id, (SCHEDULED,), state=HELD, updated_by=actor):
                    raise self._fired(row)
                self.set_publish_clock(session, item, None)
            self.service._audit(session, item_id, actor, "schedule_cancelled", round=item.round,
                                held=stage == "waiting")
            session.commit()
            return self._answer(session, item_id)

    def release(self, item_id: int, actor: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        """"Terbitkan sekarang": publish a scheduled or held item now."""
        self._check_role(actor)
        with self.service.sessions() as session:
            item = self.service._item(session, item_id, lock=True)
            stage = self._stage(item)
            row = self._row(session, item_id)
            if stage == "before":
                # Not approved yet: publish at approval, as an unscheduled item.
                if row is not None and row.state != NONE:
                    self._conditional(session, item_id, (SCHEDULED, HELD, RELEASED), state=NONE, publish_at=None,
                                      updated_by=actor)
            else:
                if stage == "done" or not must_wait(row):
                    raise self._fired(row)
                self._check_revision(row, expected_revision)
                now = self.service.clock()
                if not self._conditional(session, item_id, (SCHEDULED, HELD), state=RELEASED, released_at=now,
                                         released_by=actor, updated_by=actor):
                    raise self._fired(row)
                self.set_publish_clock(session, item, now)
            self.service._audit(session, item_id, actor, "schedule_released", round=item.round)
            session.commit()
            return self._answer(session, item_id)

    # ------------------------------------------------------------ listings
    def calendar(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Scheduled and published entries between ``start`` and ``end``, one per item and
        channel: scheduled (``publish_at``, not yet published there) and published
        (``published_at`` of the channel's post)."""
        from warta.models import Publication

        entries: list[dict[str, Any]] = []
        with self.service.sessions() as session:
            rows = session.execute(
                select(PublicationSchedule, NewsItem).join(NewsItem, NewsItem.id == PublicationSchedule.item_id)
                .where(PublicationSchedule.state.in_((SCHEDULED, RELEASED)), PublicationSchedule.publish_at >= start,
                       PublicationSchedule.publish_at < end)
            ).all()
            published = session.execute(
                select(Publication, NewsItem).join(NewsItem, NewsItem.id == Publication.item_id)
                .where(Publication.status == "published", Publication.published_at >= start,
                       Publication.published_at < end)
            ).all()
            done = {(p.item_id, p.channel) for p, _ in published}
            for row, item in rows:
                for channel in item.channels:
                    if (item.id, channel) not in done and item.status != "done":
                        entries.append({"kind": "scheduled", "item_id": item.id, "title": item.title,
                                        "channel": channel, "at": row.publish_at, "state": row.state,
                                        "approved": self._stage(item) == "waiting"})
            for publication, item in published:
                entries.append({"kind": "published", "item_id": item.id, "title": item.title,
                                "channel": publication.channel, "at": publication.published_at,
                                "url": publication.url, "state": "published", "approved": True})
        entries.sort(key=lambda e: (e["at"], e["item_id"], e["channel"]))
        return entries

    def upcoming(self, limit: int = 20) -> list[dict[str, Any]]:
        """Scheduled and held items not published yet, soonest first (held ones last)."""
        with self.service.sessions() as session:
            rows = session.scalars(
                select(NewsItem).join(PublicationSchedule, PublicationSchedule.item_id == NewsItem.id)
                .where(PublicationSchedule.state.in_((SCHEDULED, HELD)), NewsItem.status != "done")
                .order_by(PublicationSchedule.state.desc(), PublicationSchedule.publish_at, NewsItem.id).limit(limit)
            ).all()
            return [self.service._summary(item) for item in rows]

    # ------------------------------------------------------------ iCal tokens
    def new_feed_token(self, username: str) -> str:
        """A new secret for ``username``'s iCal feed (the old one stops working)."""
        if username not in self.config.users:
            raise PermissionDenied(f"{username!r} is not a Warta user")
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.service.sessions() as session:
            session.execute(delete(CalendarToken).where(CalendarToken.username == username))
            session.add(CalendarToken(username=username, token_sha256=digest, created_at=self.service.clock()))
            self.service._audit(session, None, username, "calendar_token_created")
            session.commit()
        return token

    def feed_user(self, token: str) -> str | None:
        """The user whose feed ``token`` opens (None: no such token)."""
        if not token or len(token) > 200:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.service.sessions() as session:
            username = session.scalar(select(CalendarToken.username).where(CalendarToken.token_sha256 == digest))
        return username if username in self.config.users else None

    def has_feed_token(self, username: str) -> bool:
        with self.service.sessions() as session:
            return session.scalar(select(CalendarToken.id).where(CalendarToken.username == username)) is not None


def open_publish_clock(service, session: Session, item: NewsItem) -> None:
    """The approval just opened the publish step: a scheduled item's clock starts at its time."""
    row = session.scalars(select(PublicationSchedule).where(PublicationSchedule.item_id == item.id)).one_or_none()
    if row is None or row.state in (NONE, RELEASED):
        return
    scheduling = Scheduling(service)
    scheduling.set_publish_clock(session, item, row.publish_at if row.state == SCHEDULED else None)


# ---------------------------------------------------------------- the triggerer's side
def release_due(connection, item_ids: list[int], now: datetime) -> None:
    """Release the waiting items whose time has come (one UPDATE for all)."""
    if not item_ids:
        return
    connection.execute(
        update(PublicationSchedule)
        .where(PublicationSchedule.item_id.in_(item_ids), PublicationSchedule.state == SCHEDULED,
               PublicationSchedule.publish_at <= now)
        .values(state=RELEASED, released_at=now, released_by=SCHEDULE_ACTOR,
                revision=PublicationSchedule.revision + 1, updated_at=now)
    )


def released_items(connection, item_ids: list[int]) -> set[int]:
    """Those of ``item_ids`` whose wait is over (released, or never scheduled)."""
    if not item_ids:
        return set()
    waiting = set(connection.scalars(
        select(PublicationSchedule.item_id).where(PublicationSchedule.item_id.in_(item_ids),
                                                  PublicationSchedule.state.in_((SCHEDULED, HELD)))))
    return set(item_ids) - waiting


def ical_feed(entries: list[dict[str, Any]], *, config, lang: str, desk_url: str) -> bytes:
    """The calendar as RFC 5545 (icalendar): one event per item and channel."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Warta//Jadwal tayang//ID")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Warta: jadwal tayang" if lang == "id" else "Warta: publishing calendar")
    calendar.add("x-wr-timezone", config.timezone)
    for entry in entries:
        channel = config.channels.get(entry["channel"])
        channel_name = (channel.name_en if lang == "en" else channel.name_id) if channel else entry["channel"]
        label = {"id": {"scheduled": "Jadwal", "published": "Terbit"},
                 "en": {"scheduled": "Scheduled", "published": "Published"}}[lang][entry["kind"]]
        event = Event()
        event.add("uid", f"warta-{entry['item_id']}-{entry['channel']}-{entry['kind']}@warta")
        event.add("summary", f"[{label}] {channel_name}: {entry['title']}")
        event.add("dtstart", entry["at"])
        event.add("dtend", entry["at"] + timedelta(minutes=15))
        event.add("dtstamp", entry["at"])
        event.add("url", entry.get("url") or f"{desk_url}/items/{entry['item_id']}")
        event.add("description", f"#{entry['item_id']} · {channel_name} · {label}")
        calendar.add_component(event)
    return calendar.to_ical()
