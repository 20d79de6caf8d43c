"""Compile the monthly report's figures from the editorial DB.

The counts are SQL aggregates. The month's items are found once per month and kept in
a temporary table (item, first publication, author), so the per-service, per-author and
per-item queries join a small table instead of re-deriving "first published in the
month" each time. The service levels need percentiles, which SQLite lacks: the month's
step timings are streamed once (id, step, duration, verdict, standard) and counted,
sorted and ranked in Python, which measured twice as fast as window functions over the
same rows. A month of 100,000 items compiles in about five seconds on SQLite.

Definitions (also printed in the report's footnote and in README "Monthly report"):
  - month: 00:00 on the 1st to 00:00 on the 1st of the next month, SOP timezone (WIB);
  - publication in the month: a post (one item on one channel) with status "published"
    whose ``published_at`` falls in the month;
  - item published in the month: an item whose *first* publication falls in the month
    (an item posted on 31 October and again on another channel on 1 November counts in
    October; the second post counts in November's per-channel figures);
  - author: who wrote the item's latest manuscript version (SOP step 2), else who
    registered it;
  - service levels: step timings that *ended* in the month, judged by their
    ``within_standard`` flag, which the service sets from the step's own service clock
    (warta.service_clock: working hours skip nights, weekends and holidays);
  - rejection: a decision (step 4) recorded as rejected in the month;
  - in progress at month end: an item with a step started before the month ended and not
    finished by then; it waits at that step.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, NamedTuple

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from warta.alert_log import DESK_ALERT_KINDS
from warta.config import WartaConfig
from warta.models import Alert, AuditEvent, NewsItem, OnlineCheck, Publication, StepRecord, StepTiming, UTCDateTime
from warta.service_clock import clock_for, past_due
from warta.report.period import ReportMonth
from warta.report.reach import ReachSection, compile_reach
from warta.report.settings import ReportSettings

PUBLISHED = "published"
CURRENT, PREVIOUS = 0, 1
# Percentiles reported per SOP step.
MEDIAN, P90 = 0.5, 0.9

# The month's items, filled per compile and dropped after it (a temporary table lives in
# the connection only; nothing is written to the editorial DB).
_month_items = Table(
    "warta_report_month_items",
    MetaData(),
    Column("period", Integer, primary_key=True),
    Column("item_id", Integer, primary_key=True),
    Column("first_published_at", UTCDateTime),
    Column("author", String(150)),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class Figure:
    """A headline figure this month and the month before."""

    current: float | int | None
    previous: float | int | None

    @property
    def change(self) -> float | int | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


class Count(NamedTuple):
    """One row of a per-channel, per-service or per-author table."""

    key: str
    current: int
    previous: int


class ItemPublication(NamedTuple):
    channel: str
    status: str
    url: str | None
    # The latest online check (SOP step 6) of this post: None when never checked.
    check_ok: bool | None


class ItemRow(NamedTuple):
    id: int
    title: str
    activity_date: date | None
    first_published_at: datetime
    service: str
    author: str
    rounds: int
    publications: tuple[ItemPublication, ...]
    # "publish_failed" when a post failed to go out, "ok" when every post's latest online
    # check passed, "failed" when one failed, "unchecked" when a post has no check yet.
    check_result: str


def check_result(publications: Iterable[ItemPublication]) -> str:
    checks = []
    for publication in publications:
        if publication.status == PUBLISHED:
            checks.append(publication.check_ok)
        elif publication.status == "failed":
            return "publish_failed"
    if False in checks:
        return "failed"
    if not checks or None in checks:
        return "unchecked"
    return "ok"


@dataclass(frozen=True)
class StepLevel:
    """Service level of one SOP step: the timings that ended in the month."""

    step_id: str
    number: int
    standard_seconds: int
    done: int
    judged: int
    within: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def breaches(self) -> int:
        return self.judged - self.within

    @property
    def share_within(self) -> float | None:
        return self.within / self.judged if self.judged else None


class WorstCase(NamedTuple):
    step_id: str
    item_id: int
    title: str
    round: int
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    standard_seconds: int


class Rejection(NamedTuple):
    item_id: int
    title: str
    round: int
    actor: str
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class Freshness:
    """The SOP's Peringatan ("always up to date") per channel, on working days."""

    channel: str
    publications: int
    longest_gap_seconds: float
    gap_start: datetime
    gap_end: datetime
    days_without: tuple[date, ...]
    # Working days the longest gap spans, against the channel's freshness_days (0 = not watched).
    gap_working_days: int = 0
    working_days_without: tuple[date, ...] = ()
    freshness_days: int = 0

    @property
    def up_to_date(self) -> bool | None:
        """The verdict: None for a channel the freshness warning does not watch."""
        if not self.freshness_days:
            return None
        return self.gap_working_days <= self.freshness_days


class Failure(NamedTuple):
    """A publishing failure or a failed online check of one post in the month."""

    kind: str  # "publish" or "check"
    item_id: int
    title: str
    channel: str
    at: datetime  # the first failure in the month
    error: str  # the platform's own message, as recorded
    http_status: int | None
    attempts: int
    resolved_at: datetime | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class AlertCount(NamedTuple):
    key: str  # a step id, a username or a channel id
    reminder: int
    breach: int
    escalation: int
    freshness: int

    @property
    def total(self) -> int:
        return self.reminder + self.breach + self.escalation + self.freshness


@dataclass(frozen=True)
class TrendMonth:
    """One month of the trend table."""

    key: str
    year: int
    month: int
    items_published: int
    publications: int
    rejections: int
    judged: int
    within: int

    @property
    def share_within(self) -> float | None:
        return self.within / self.judged if self.judged else None


class WaitingItem(NamedTuple):
    item_id: int
    title: str
    step_id: str
    round: int
    waiting_since: datetime
    waited_seconds: float
    standard_seconds: int
    # Due on the step's own service clock (None for a step no longer in the SOP).
    due_at: datetime | None
    # Past due at month end, by the one definition (warta.service_clock.past_due).
    overdue: bool


@dataclass(frozen=True)
class DayCount:
    day: date
    total: int
    by_channel: dict[str, int]


@dataclass
class MonthlyReport:
    month: ReportMonth
    previous_month: ReportMonth
    generated_at: datetime
    channels: list[str]
    items_published: Figure
    publications: Figure
    items_registered: Figure
    rejections_count: Figure
    in_progress_count: Figure
    steps_done: Figure
    share_within_standard: Figure
    per_channel: list[Count]
    per_service: list[Count]
    per_author: list[Count]
    items: list[ItemRow]
    rounds: list[tuple[int, int]]
    service_levels: list[StepLevel]
    worst_cases: list[WorstCase]
    rejections: list[Rejection]
    freshness: list[Freshness]
    in_progress: list[WaitingItem]
    per_day: list[DayCount]
    failures: list[Failure]
    alerts_per_step: list[AlertCount]
    alerts_per_person: list[AlertCount]
    alerts_total: AlertCount
    trend: list[TrendMonth]
    year_to_date: TrendMonth
    # Social media reach and engagement (warta.report.reach), read by the DAG jangkauan_kanal.
    reach: ReachSection | None = None

    @property
    def open_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.open]

    @property
    def nothing_published(self) -> bool:
        return not self.items_published.current and not self.publications.current

    @property
    def no_activity(self) -> bool:
        """Nothing at all happened in the month: no post, no step, no item waiting."""
        return (
            self.nothing_published
            and not self.steps_done.current
            and not self.rejections_count.current
            and not self.in_progress_count.current
            and not self.items_registered.current
        )


# ------------------------------------------------------------------------ queries
def _in(column, month: ReportMonth):
    return and_(column >= month.start, column < month.end)


def _open_at(moment: datetime):
    """Step timings running at ``moment``: started before it, not ended by then."""
    return and_(
        StepTiming.started_at < moment,
        or_(StepTiming.ended_at.is_(None), StepTiming.ended_at >= moment),
    )


def _fill_month_items(db: Connection, config: WartaConfig, period: int, month: ReportMonth) -> None:
    """Record the items first published in ``month``, with that moment and their author."""
    published = Publication.status == PUBLISHED
    # Only items with a post in the month can have their first post in it: the
    # published_at index narrows the scan before grouping.
    candidates = select(Publication.item_id).where(published, _in(Publication.published_at, month))
    first = func.min(Publication.published_at)
    db.execute(
        insert(_month_items).from_select(
            ["period", "item_id", "first_published_at"],
            select(literal(period), Publication.item_id, first)
            .where(published, Publication.item_id.in_(candidates))
            .group_by(Publication.item_id)
            .having(first >= month.start),
        )
    )
    items = _month_items.c
    writer = (
        select(StepRecord.actor)
        .where(StepRecord.item_id == items.item_id, StepRecord.step_id == config.step_of_kind("manuscript").id)
        .order_by(StepRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    registrar = select(NewsItem.created_by).where(NewsItem.id == items.item_id).scalar_subquery()
    db.execute(
        update(_month_items).where(items.period == period).values(author=func.coalesce(writer, registrar))
    )


@dataclass(frozen=True)
class _Headline:
    items_published: int
    publications: int
    items_registered: int
    rejections: int
    in_progress: int
    per_channel: dict[str, int]
    per_service: dict[str, int]
    per_author: dict[str, int]


def _headline(db: Connection, config: WartaConfig, period: int, month: ReportMonth) -> _Headline:
    items = _month_items.c
    in_period = items.period == period
    per_channel = dict(
        db.execute(
            select(Publication.channel, func.count())
            .where(Publication.status == PUBLISHED, _in(Publication.published_at, month))
            .group_by(Publication.channel)
        ).all()
    )
    per_service = dict(
        db.execute(
            select(NewsItem.service, func.count())
            .join(_month_items, items.item_id == NewsItem.id)
            .where(in_period)
            .group_by(NewsItem.service)
        ).all()
    )
    per_author = dict(
        db.execute(select(items.author, func.count()).where(in_period).group_by(items.author)).all()
    )
    rejections = db.scalar(
        select(func.count()).select_from(StepRecord).where(
            StepRecord.step_id == config.decision_step.id,
            StepRecord.decision == "rejected",
            _in(StepRecord.recorded_at, month),
        )
    )
    registered = db.scalar(select(func.count()).select_from(NewsItem).where(_in(NewsItem.created_at, month)))
    in_progress = db.scalar(select(func.count(func.distinct(StepTiming.item_id))).where(_open_at(month.end)))
    return _Headline(
        items_published=sum(per_service.values()),
        publications=sum(per_channel.values()),
        items_registered=registered or 0,
        rejections=rejections or 0,
        in_progress=in_progress or 0,
        per_channel=per_channel,
        per_service=per_service,
        per_author=per_author,
    )


def _step_totals(db: Connection, config: WartaConfig, month: ReportMonth) -> tuple[int, int, int]:
    """(done, judged, within) over the SOP's steps that ended in ``month``."""
    totals = [0, 0, 0]
    for counts in _step_counts(db, config, month).values():
        totals = [a + b for a, b in zip(totals, counts)]
    return tuple(totals)


def _step_counts(db: Connection, config: WartaConfig, month: ReportMonth) -> dict[str, tuple[int, int, int]]:
    """Per SOP step: (done, judged, within) of the timings that ended in ``month``. One
    query per step: each reads only the (step, ended_at, …) index."""
    result = {}
    for step in config.steps:
        done, judged, within = db.execute(
            select(
                func.count(),
                func.count(StepTiming.within_standard),
                func.sum(case((StepTiming.within_standard.is_(true()), 1), else_=0)),
            ).where(StepTiming.step_id == step.id, _in(StepTiming.ended_at, month))
        ).one()
        result[step.id] = (done or 0, judged or 0, int(within or 0))
    return result


def _counts(
    order: Iterable[str], current: dict[str, int], previous: dict[str, int], *, keep_listed: bool
) -> list[Count]:
    """Rows in ``order`` (config order; kept even at zero when ``keep_listed``), then
    anything else seen (e.g. a channel since removed from the config), busiest first."""
    order = list(order)
    others = sorted(set(current) - set(order) | set(previous) - set(order),
                    key=lambda k: (-current.get(k, 0), -previous.get(k, 0), str(k)))
    rows = [Count(k, current.get(k, 0), previous.get(k, 0)) for k in order + others]
    listed = set(order) if keep_listed else set()
    return [r for r in rows if r.key in listed or r.current or r.previous]


def percentile(ordered, q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default) of sorted values."""
    if not len(ordered):
        return None
    position = (len(ordered) - 1) * q
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _raw(db: Connection, statement) -> list[tuple]:
    """The rows of a large scan as the driver gives them. For hundreds of thousands of
    rows SQLAlchemy's per-row work (Row objects, type processors) costs more than the
    query; values then need _utc (SQLite gives datetimes as text, PostgreSQL as objects)."""
    result = db.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _utc(value) -> datetime | None:
    """A driver's timestamp (ISO text on SQLite, a datetime elsewhere) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _service_levels(
    db: Connection, config: WartaConfig, month: ReportMonth, worst_per_step: int
) -> tuple[list[StepLevel], list[WorstCase]]:
    """Per SOP step: done, judged, within standard, median and p90 of the timings that
    ended in the month, and the ``worst_per_step`` furthest over their standard time.
    Counts are one GROUP BY; the percentiles read each step's durations sorted by the DB."""
    ended = _in(StepTiming.ended_at, month)
    counts = _step_counts(db, config, month)
    levels = []
    for step in config.steps:
        done, judged, within = counts.get(step.id, (0, 0, 0))
        ordered = [row[0] for row in _raw(db, select(StepTiming.duration_seconds).where(
            ended, StepTiming.step_id == step.id, StepTiming.duration_seconds.is_not(None)
        ).order_by(StepTiming.duration_seconds))] if done else []
        levels.append(
            StepLevel(
                step_id=step.id,
                number=step.number,
                standard_seconds=int(step.standard_time.total_seconds()),
                done=done,
                judged=judged,
                within=within,
                median_seconds=percentile(ordered, MEDIAN),
                p90_seconds=percentile(ordered, P90),
            )
        )
    worst_cases = []
    over = StepTiming.duration_seconds - StepTiming.standard_seconds
    for step in config.steps:
        if not counts.get(step.id, (0, 0, 0))[1] - counts.get(step.id, (0, 0, 0))[2]:
            continue  # nothing over its standard time
        for r in db.execute(
            select(StepTiming.step_id, StepTiming.item_id, NewsItem.title, StepTiming.round,
                   StepTiming.started_at, StepTiming.ended_at, StepTiming.duration_seconds,
                   StepTiming.standard_seconds)
            .join(NewsItem, NewsItem.id == StepTiming.item_id)
            .where(ended, StepTiming.step_id == step.id, StepTiming.within_standard.is_(False),
                   StepTiming.duration_seconds.is_not(None))
            # Furthest over first; the older timing first on a tie.
            .order_by(over.desc(), StepTiming.id)
            .limit(worst_per_step)
        ):
            worst_cases.append(WorstCase(r.step_id, r.item_id, r.title, r.round, r.started_at, r.ended_at,
                                         float(r.duration_seconds), r.standard_seconds))
    return levels, worst_cases


def _rejections(db: Connection, config: WartaConfig, month: ReportMonth) -> list[Rejection]:
    rows = db.execute(
        select(StepRecord.item_id, NewsItem.title, StepRecord.round, StepRecord.actor, StepRecord.reason,
               StepRecord.recorded_at)
        .join(NewsItem, NewsItem.id == StepRecord.item_id)
        .where(
            StepRecord.step_id == config.decision_step.id,
            StepRecord.decision == "rejected",
            _in(StepRecord.recorded_at, month),
        )
        .order_by(StepRecord.recorded_at, StepRecord.id)
    )
    return [Rejection(*row) for row in rows]


def _items(db: Connection) -> list[ItemRow]:
    """Every item first published in the month (the temporary table's current period),
    with its posts and each post's latest online check."""
    items = _month_items.c
    this_month = items.period == CURRENT
    # The item_id index finds an item's few checks; the newest per post wins.
    check = aliased(OnlineCheck)
    latest_check = (
        select(func.max(check.id))
        .where(check.item_id == Publication.item_id, check.publication_id == Publication.id)
        .correlate(Publication)
        .scalar_subquery()
    )
    publications: dict[int, list[ItemPublication]] = defaultdict(list)
    checked = {None: None, 0: False, 1: True, False: False, True: True}
    for item_id, channel, status, url, ok in _raw(db, (
        select(Publication.item_id, Publication.channel, Publication.status, Publication.url, OnlineCheck.ok)
        .join(_month_items, items.item_id == Publication.item_id)
        .outerjoin(OnlineCheck, OnlineCheck.id == latest_check)
        .where(this_month)
        .order_by(Publication.item_id, Publication.id)
    )):
        publications[item_id].append(ItemPublication(channel, status, url, checked[ok]))
    rows = _raw(db, (
        select(NewsItem.id, NewsItem.title, NewsItem.activity_date, items.first_published_at, NewsItem.service,
               items.author, NewsItem.round)
        .join(_month_items, items.item_id == NewsItem.id)
        .where(this_month)
        .order_by(items.first_published_at, NewsItem.id)
    ))
    result = []
    append = result.append
    empty = ()
    for item_id, title, activity, first, service, author, rounds in rows:
        posts = tuple(publications.get(item_id, empty))
        if isinstance(activity, str):
            activity = date.fromisoformat(activity)
        append(ItemRow(item_id, title, activity, _utc(first), service, author, rounds, posts, check_result(posts)))
    return result


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)


def _publication_times(db: Connection, month: ReportMonth) -> list[tuple[str, datetime]]:
    """(channel, published_at as naive UTC) of the month's posts, oldest first. Naive UTC
    because hundreds of thousands of timestamps only get bucketed and subtracted here."""
    result = []
    append = result.append
    parse = datetime.fromisoformat
    for channel, moment in _raw(db, (
        select(Publication.channel, Publication.published_at)
        .where(Publication.status == PUBLISHED, _in(Publication.published_at, month))
        .order_by(Publication.published_at)
    )):
        moment = parse(moment) if isinstance(moment, str) else moment
        append((channel, moment if moment.tzinfo is None else _naive_utc(moment)))
    return result


def _day_starts(month: ReportMonth) -> list[datetime]:
    """Naive UTC moments at which each local day of the month begins."""
    return [_naive_utc(datetime(d.year, d.month, d.day, tzinfo=month.tz)) for d in month.days]


def _per_day(month: ReportMonth, times: list[tuple[str, datetime]], channels: list[str]) -> list[DayCount]:
    starts = _day_starts(month)
    counts = [Counter() for _ in starts]
    for channel, moment in times:
        counts[bisect_right(starts, moment) - 1][channel] += 1
    return [
        DayCount(day, sum(count.values()), {c: count.get(c, 0) for c in channels})
        for day, count in zip(month.days, counts)
    ]


def _freshness(
    config: WartaConfig, month: ReportMonth, times: list[tuple[str, datetime]], channels: list[str]
) -> list[Freshness]:
    """Per channel: the longest stretch of the month without a post (from the month's
    start, between posts, to its end) in working days, the working days without any post,
    and the verdict against the channel's ``freshness_days`` (as the freshness alert uses)."""
    service_clock = clock_for(config)
    default_days = config.service_levels.freshness_days
    working = [service_clock.is_working_day(d) for d in month.days]
    working_before = [0]  # working days before each day index (a prefix sum)
    for flag in working:
        working_before.append(working_before[-1] + flag)
    by_channel: dict[str, list[datetime]] = defaultdict(list)
    for channel, moment in times:
        by_channel[channel].append(moment)
    starts = _day_starts(month)
    month_start, month_end = _naive_utc(month.start), _naive_utc(month.end)
    result = []
    for channel in channels:
        moments = by_channel.get(channel, [])
        posted = sorted({bisect_right(starts, m) - 1 for m in moments})
        posted_set = set(posted)
        working_without = tuple(d for n, d in enumerate(month.days)
                                if n not in posted_set and working[n])
        # The longest gap in working days without a post: between two days with a post (the
        # month's start and end bound it); its moments are the posts on either side.
        bounds = [-1, *posted, len(month.days)]
        longest_days, gap_start, gap_end = -1, month_start, month_end
        for before, after in zip(bounds, bounds[1:]):
            days = working_before[after] - working_before[before + 1]
            if days > longest_days:
                longest_days = days
                gap_start = month_start if before < 0 else _last_on_day(moments, starts, before, month_end)
                gap_end = month_end if after >= len(month.days) else moments[bisect_left(moments, starts[after])]
        longest = gap_end - gap_start
        spec = config.channels.get(channel)
        watched_days = (spec.options.freshness_days if spec and spec.options.freshness_days is not None
                        else default_days)
        result.append(
            Freshness(
                channel=channel,
                publications=len(moments),
                longest_gap_seconds=longest.total_seconds(),
                gap_start=gap_start.replace(tzinfo=timezone.utc),
                gap_end=gap_end.replace(tzinfo=timezone.utc),
                days_without=tuple(d for n, d in enumerate(month.days) if n not in posted_set),
                gap_working_days=max(longest_days, 0),
                working_days_without=working_without,
                freshness_days=watched_days,
            )
        )
    return result


def _last_on_day(moments: list[datetime], starts: list[datetime], day_index: int, month_end: datetime) -> datetime:
    """The last of the sorted ``moments`` on the day ``day_index`` of the month."""
    day_end = starts[day_index + 1] if day_index + 1 < len(starts) else month_end
    return moments[bisect_left(moments, day_end) - 1]


def _failures(db: Connection, month: ReportMonth) -> list[Failure]:
    """Every post that failed to go out, or failed its online check, in the month: one row
    per post and kind, with the latest error and when (if at all) it was put right."""
    titles: dict[int, str] = {}
    publish: dict[tuple[int, str], list] = {}
    for item_id, at, details in db.execute(
        select(AuditEvent.item_id, AuditEvent.at, AuditEvent.details)
        .where(AuditEvent.action == "publish_failed", _in(AuditEvent.at, month))
        .order_by(AuditEvent.at, AuditEvent.id)
    ):
        details = details or {}
        key = (item_id, str(details.get("channel", "")))
        entry = publish.setdefault(key, [at, "", 0])
        entry[1] = str(details.get("error", ""))
        entry[2] += 1
    published = {}
    if publish:
        item_ids = sorted({item_id for item_id, _ in publish})
        for start in range(0, len(item_ids), 500):
            for item_id, channel, status, published_at, error in db.execute(
                select(Publication.item_id, Publication.channel, Publication.status, Publication.published_at,
                       Publication.error)
                .where(Publication.item_id.in_(item_ids[start:start + 500]))
            ):
                published[(item_id, channel)] = (status, published_at, error)
    failures = []
    for (item_id, channel), (at, error, attempts) in publish.items():
        status, published_at, full_error = published.get((item_id, channel), (None, None, ""))
        resolved = published_at if status == PUBLISHED and published_at is not None else None
        failures.append(Failure("publish", item_id, "", channel, at, full_error or error, None, attempts, resolved))
    checks: dict[int, list] = {}
    failed_checks = select(OnlineCheck.publication_id).where(
        OnlineCheck.ok.is_(False), _in(OnlineCheck.checked_at, month))
    for publication_id, item_id, channel, ok, status, checked_at in db.execute(
        select(OnlineCheck.publication_id, OnlineCheck.item_id, OnlineCheck.channel, OnlineCheck.ok,
               OnlineCheck.http_status, OnlineCheck.checked_at)
        .where(OnlineCheck.publication_id.in_(failed_checks), OnlineCheck.checked_at < month.end)
        .order_by(OnlineCheck.checked_at, OnlineCheck.id)
    ):
        entry = checks.get(publication_id)
        if not ok and checked_at >= month.start:
            if entry is None or entry[5] is not None:  # a new failure (again, after a fix)
                entry = checks[publication_id] = [item_id, channel, checked_at, status, 0, None]
            entry[3] = status
            entry[4] += 1
        elif ok and entry is not None and entry[5] is None:
            entry[5] = checked_at
    for item_id, channel, at, status, attempts, resolved in checks.values():
        failures.append(Failure("check", item_id, "", channel, at, "", status, attempts, resolved))
    if failures:
        item_ids = sorted({f.item_id for f in failures})
        for start in range(0, len(item_ids), 500):
            titles.update(db.execute(
                select(NewsItem.id, NewsItem.title).where(NewsItem.id.in_(item_ids[start:start + 500]))).all())
    # Still open first, then by when they happened.
    return sorted((f._replace(title=titles.get(f.item_id, "")) for f in failures),
                  key=lambda f: (not f.open, f.at, f.item_id, f.channel))


# The SOP's alerts, the only ones the report counts: other kinds (hand-offs, rejections)
# tell people about work, not about the SOP's times.
_ALERT_KINDS = ("reminder", "breach", "escalation", "freshness")


def _alert_counts(db: Connection, month: ReportMonth) -> tuple[list[AlertCount], list[AlertCount], AlertCount]:
    """The SOP's alerts raised in the month (``_ALERT_KINDS``, selected by name), per SOP
    step (or channel, for freshness warnings) and per person alerted."""
    per_step: dict[str, Counter] = defaultdict(Counter)
    per_person: dict[str, Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for kind, step_id, channel, recipients in db.execute(
        select(Alert.kind, Alert.step_id, Alert.publishing_channel, Alert.recipients)
        .where(Alert.kind.in_(_ALERT_KINDS), _in(Alert.created_at, month))
    ):
        total[kind] += 1
        per_step[step_id or (f"channel:{channel}" if channel else "")][kind] += 1
        for person in recipients or ():
            per_person[str(person)][kind] += 1

    def rows(counts: dict[str, Counter]) -> list[AlertCount]:
        return [AlertCount(key, *(c[k] for k in _ALERT_KINDS)) for key, c in counts.items()]

    by_person = sorted(rows(per_person), key=lambda r: (-r.total, r.key))
    return rows(per_step), by_person, AlertCount("", *(total[k] for k in _ALERT_KINDS))


TREND_MONTHS = 6


def _trend_months(db: Connection, config: WartaConfig, month: ReportMonth) -> dict[str, TrendMonth]:
    """The trend's other months (the last six and the year so far, but not ``month``).
    Counted with one query per figure per month over indexed columns."""
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, months[0].previous())
    wanted = {m.key: m for m in months + _months_of_year(month)}
    earliest = min(m.start for m in wanted.values())
    # Items by the month of their first publication, over the whole range at once.
    published = Publication.status == PUBLISHED
    first = func.min(Publication.published_at)
    firsts = db.execute(
        select(first).where(published, Publication.item_id.in_(
            select(Publication.item_id).where(published, Publication.published_at >= earliest,
                                              Publication.published_at < month.start)))
        .group_by(Publication.item_id).having(first >= earliest)
    ).scalars()
    items_by_month: Counter = Counter()
    for moment in firsts:
        if moment is not None:
            items_by_month[ReportMonth.containing(moment, month.timezone).key] += 1
    result = {}
    for key, m in wanted.items():
        if key == month.key:
            continue
        publications = db.scalar(select(func.count()).select_from(Publication)
                                 .where(published, _in(Publication.published_at, m))) or 0
        rejections = db.scalar(select(func.count()).select_from(StepRecord).where(
            StepRecord.step_id == config.decision_step.id, StepRecord.decision == "rejected",
            _in(StepRecord.recorded_at, m))) or 0
        _done, judged, within = _step_totals(db, config, m)
        result[key] = TrendMonth(key, m.year, m.month, items_by_month.get(key, 0), publications, rejections,
                                 judged, within)
    return result


def _trend_with(month: ReportMonth, others: dict[str, TrendMonth], current: TrendMonth
                ) -> tuple[list[TrendMonth], TrendMonth]:
    """The last six months (this one last) and the year to date."""
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, months[0].previous())
    result = {**others, month.key: current}
    ytd_rows = [result[m.key] for m in _months_of_year(month)]
    year_to_date = TrendMonth(
        f"{month.year}", month.year, month.month,
        *(sum(getattr(r, name) for r in ytd_rows) for name in ("items_published", "publications", "rejections",
                                                                 "judged", "within")),
    )
    return [result[m.key] for m in months], year_to_date


def _months_of_year(month: ReportMonth) -> list[ReportMonth]:
    result = [month]
    while result[0].month > 1:
        result.insert(0, result[0].previous())
    return result


def _in_progress(db: Connection, config: WartaConfig, month: ReportMonth) -> list[WaitingItem]:
    rows = db.execute(
        select(StepTiming.item_id, NewsItem.title, StepTiming.step_id, StepTiming.round, StepTiming.started_at,
               StepTiming.standard_seconds)
        .join(NewsItem, NewsItem.id == StepTiming.item_id)
        .where(_open_at(month.end))
        .order_by(StepTiming.started_at, StepTiming.item_id, StepTiming.id)
    )
    waiting: dict[int, WaitingItem] = {}
    service_clock = clock_for(config)
    steps = {step.id: step for step in config.steps}
    for item_id, title, step_id, round_number, started_at, standard_seconds in rows:
        step = steps.get(step_id)
        due = (service_clock.due_at(step, started_at) if step
               else started_at + timedelta(seconds=standard_seconds))
        # One step runs at a time; should the records say otherwise, the latest wins.
        waiting[item_id] = WaitingItem(
            item_id, title, step_id, round_number, started_at, (month.end - started_at).total_seconds(),
            standard_seconds, due if step else None, past_due(due, month.end),
        )
    return sorted(waiting.values(), key=lambda w: (w.waiting_since, w.item_id))


def compile_report(
    session: Session,
    config: WartaConfig,
    month: ReportMonth,
    settings: ReportSettings | None = None,
    generated_at: datetime | None = None,
    *,
    parallel: bool = False,
) -> MonthlyReport:
    """Everything the monthly report shows for ``month``, read from the editorial DB.

    Reads only; the temporary table it uses lives in ``session``'s connection and is
    dropped before returning. With ``parallel`` and a session that has not begun its
    transaction, part of the figures is read on two more connections at the same time."""
    settings = settings or ReportSettings()
    previous_month = month.previous()
    from warta.reach import load_reach_settings

    reach_settings = load_reach_settings()
    # The figures that need no temporary table are read on connections of their own in two
    # threads: the drivers (sqlite3, psycopg2) let go of the GIL while a query runs, so on
    # a busy month the queries run side by side on two cores instead of one after another.
    beside = parallel and _can_read_beside(session)
    engine = session.get_bind()
    connection = session.connection()
    if beside:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(2, thread_name_prefix="warta-report")
        levels_part = pool.submit(_on_own_connection, engine, _levels_part, config, month, previous_month, settings)
        posts_part = pool.submit(_on_own_connection, engine, _posts_part, config, month, reach_settings)
    _month_items.drop(connection, checkfirst=True)  # left over by a failed compile on this connection
    _month_items.create(connection)
    try:
        _fill_month_items(connection, config, CURRENT, month)
        _fill_month_items(connection, config, PREVIOUS, previous_month)
        current = _headline(connection, config, CURRENT, month)
        previous = _headline(connection, config, PREVIOUS, previous_month)
        items = _items(connection)
    finally:
        _month_items.drop(connection)
    if beside:
        try:
            levels_figures, posts_figures = levels_part.result(), posts_part.result()
        finally:
            pool.shutdown()
    else:
        levels_figures = _levels_part(connection, config, month, previous_month, settings)
        posts_figures = _posts_part(connection, config, month, reach_settings)
    levels, worst_cases, (previous_done, previous_judged, previous_within), others = levels_figures
    times, channels, alerts, rejections, in_progress, failures, reach = posts_figures
    alerts_per_step, alerts_per_person, alerts_total = alerts
    done = sum(level.done for level in levels)
    judged = sum(level.judged for level in levels)
    within = sum(level.within for level in levels)
    this_month = TrendMonth(month.key, month.year, month.month, current.items_published, current.publications,
                            current.rejections, judged, within)
    trend, year_to_date = _trend_with(month, others, this_month)
    return MonthlyReport(
        month=month,
        previous_month=previous_month,
        generated_at=generated_at or datetime.now(timezone.utc),
        channels=channels,
        items_published=Figure(current.items_published, previous.items_published),
        publications=Figure(current.publications, previous.publications),
        items_registered=Figure(current.items_registered, previous.items_registered),
        rejections_count=Figure(current.rejections, previous.rejections),
        in_progress_count=Figure(current.in_progress, previous.in_progress),
        steps_done=Figure(done, previous_done),
        share_within_standard=Figure(
            within / judged if judged else None, previous_within / previous_judged if previous_judged else None
        ),
        per_channel=_counts(channels, current.per_channel, previous.per_channel, keep_listed=True),
        per_service=_counts(config.services, current.per_service, previous.per_service, keep_listed=True),
        per_author=_counts((), current.per_author, previous.per_author, keep_listed=False),
        items=items,
        rounds=sorted(Counter(item.rounds for item in items).items()),
        service_levels=levels,
        worst_cases=worst_cases,
        rejections=rejections,
        freshness=_freshness(config, month, times, channels),
        in_progress=in_progress,
        per_day=_per_day(month, times, channels),
        failures=failures,
        alerts_per_step=alerts_per_step,
        alerts_per_person=alerts_per_person,
        alerts_total=alerts_total,
        trend=trend,
        year_to_date=year_to_date,
        reach=reach,
    )


def _can_read_beside(session: Session) -> bool:
    """Whether other connections see what ``session`` would: a session that has not begun
    its transaction (so it holds no writes, flushed or not) on a file or server database
    (not SQLite in memory, which is one connection's own)."""
    from sqlalchemy.engine import Engine

    engine = session.get_bind()
    if not isinstance(engine, Engine) or session.in_transaction():
        return False
    database = engine.url.database or ""
    return not (engine.dialect.name == "sqlite" and (not database or database == ":memory:"
                                                     or database.startswith("file::memory:")))


def _on_own_connection(engine, part, *args):
    with engine.connect() as connection:
        return part(connection, *args)


def _levels_part(db: Connection, config: WartaConfig, month: ReportMonth, previous_month: ReportMonth,
                 settings: ReportSettings):
    """The step timings' figures: this month's service levels and worst cases, last
    month's totals and the trend's other months."""
    levels, worst_cases = _service_levels(db, config, month, settings.worst_cases_per_step)
    return levels, worst_cases, _step_totals(db, config, previous_month), _trend_months(db, config, month)


def _posts_part(db: Connection, config: WartaConfig, month: ReportMonth, reach_settings):
    """The month's posts (times, failures, reach), alerts, rejections and waiting items."""
    times = _publication_times(db, month)
    channels = list(dict.fromkeys(list(config.channels) + sorted({c for c, _ in times})))
    return (
        times, channels, _alert_counts(db, month), _rejections(db, config, month), _in_progress(db, config, month),
        _failures(db, month),
        compile_reach(db, config, month, channels, reach_settings.top_posts, reach_settings.window_days),
    )
