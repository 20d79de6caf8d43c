"""Reach and engagement: once a day, the public metrics of every post published in the
last ``window_days`` days, read from its channel and kept in the editorial DB
(table ``post_metrics``, one row per post and reading day).

Plain Python; the DAG ``jangkauan_kanal`` (warta.airflow.reach_dag) schedules it, one task
per social channel. Per channel:
  - a permission refusal (Graph error 10/200, X 403) or a post too new for insights is
    recorded as that post's reading (``no_access``/``not_ready``) with the platform's
    message, and the task succeeds: the report says why figures are missing;
  - a transient failure (timeouts, 5xx, throttling) leaves that post unread and fails
    the task at the end, for Airflow to retry; what was read stays read;
  - reading a day again replaces that day's rows (unique post and day), so re-runs and
    retries never duplicate a reading.
WordPress has no reach API and is never read.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from warta.channels.base import ChannelError
from warta.channels.metrics import OK, PostReading, has_metrics, read_posts, reader_for
from warta.config import (AtLeastOne, DagId, Text, WartaConfig, config_model, warta_yaml_section,
                          warta_yaml_section_parser)
from warta.models import PostMetric, Publication

log = logging.getLogger(__name__)

# Posts read and kept together: a transient failure loses at most one group's reading.
GROUP_SIZE = 100


@config_model
class ReachSettings:
    """The ``reach:`` section of config/warta.yaml."""

    dag_id: DagId = "jangkauan_kanal"
    # Cron, in the SOP's timezone (WIB), of the daily reading.
    schedule: Text = "0 7 * * *"
    # A post is read once a day for this many days after it was published.
    window_days: AtLeastOne = 7
    # Posts listed in the report's "top posts" table.
    top_posts: AtLeastOne = 10


parse_reach_settings = warta_yaml_section_parser("reach", ReachSettings)


def load_reach_settings(folder: Path | str | None = None) -> ReachSettings:
    return parse_reach_settings(warta_yaml_section("reach", folder))


def metric_channels(config: WartaConfig) -> list[str]:
    """The channels whose posts have public metrics to read (not the website)."""
    return [channel.id for channel in config.channels.values() if has_metrics(channel)]


def reading_day(moment: datetime, timezone_name: str) -> date:
    return moment.astimezone(ZoneInfo(timezone_name)).date()


def due_posts(session, channel: str, as_of: datetime, window_days: int) -> list[tuple[int, int, str]]:
    """(publication id, item id, remote id) of ``channel``'s posts published within
    ``window_days`` before ``as_of``."""
    return [tuple(row) for row in session.execute(
        select(Publication.id, Publication.item_id, Publication.remote_id)
        .where(Publication.channel == channel, Publication.status == "published",
               Publication.remote_id.is_not(None),
               Publication.published_at <= as_of,
               Publication.published_at > as_of - timedelta(days=window_days))
        .order_by(Publication.published_at, Publication.id)
    )]


def record_reading(session, publication_id: int, item_id: int, channel: str, day: date, read_at: datetime,
                   reading: PostReading) -> None:
    """Keep ``reading`` as ``day``'s row of the post, replacing one read earlier that day."""
    session.execute(delete(PostMetric).where(PostMetric.publication_id == publication_id,
                                             PostMetric.reading_date == day))
    session.add(PostMetric(
        publication_id=publication_id, item_id=item_id, channel=channel, reading_date=day, read_at=read_at,
        status=reading.status, reach=reading.reach, views=reading.views, reactions=reading.reactions,
        comments=reading.comments, shares=reading.shares, saves=reading.saves,
        message=reading.message[:4000], details=reading.details,
    ))


class TransientReadFailure(ChannelError):
    """Some posts could not be read for a reason a retry may fix (the others were kept)."""


def collect_channel(service, channel_id: str, as_of: datetime, settings: ReachSettings | None = None,
                    reader=None) -> dict:
    """Read and keep the metrics of ``channel_id``'s recent posts for the day of ``as_of``.

    Posts already read ``ok`` that day are skipped (a retry only reads what is missing).
    Returns counts per status; raises ``TransientReadFailure`` (retryable) at the end when
    some posts could not be read for a transient reason."""
    settings = settings or load_reach_settings()
    config = service.config
    channel = config.channels[channel_id]
    if not has_metrics(channel):
        return {"channel": channel_id, "skipped": "no metrics API"}
    day = reading_day(as_of, config.timezone)
    with service.sessions() as session:
        due = due_posts(session, channel_id, as_of, settings.window_days)
        done = set(session.scalars(
            select(PostMetric.publication_id).where(PostMetric.channel == channel_id, PostMetric.reading_date == day,
                                                    PostMetric.status == OK)))
    todo = [post for post in due if post[0] not in done]
    counts: dict[str, int] = {"due": len(due), "already_read": len(due) - len(todo)}
    if not todo:
        return {"channel": channel_id, "day": day.isoformat(), **counts}
    reader = reader or reader_for(channel)
    by_remote = {remote_id: (publication_id, item_id) for publication_id, item_id, remote_id in todo}
    failure: ChannelError | None = None
    readings: dict[str, PostReading] = {}
    # Small groups, each kept at once: a transient failure loses none of what was read.
    remote_ids = list(by_remote)
    for start in range(0, len(remote_ids), GROUP_SIZE):
        try:
            group = read_posts(reader, remote_ids[start:start + GROUP_SIZE])
        except ChannelError as error:
            if not error.retryable:
                raise
            failure = error
            log.warning("%s: reading metrics failed for a transient reason: %s", channel_id, error)
            continue
        readings.update(group)
        with service.sessions() as session:
            for remote_id, reading in group.items():
                publication_id, item_id = by_remote[remote_id]
                record_reading(session, publication_id, item_id, channel_id, day, service.clock(), reading)
            session.commit()
    for reading in readings.values():
        counts[reading.status] = counts.get(reading.status, 0) + 1
    denied = next((r.message for r in readings.values() if r.status == "no_access"), "")
    if denied:
        log.warning("%s: no access to the metrics (recorded; the report says why): %s", channel_id, denied)
    if failure is not None:
        raise TransientReadFailure(f"{channel_id}: {len(todo) - len(readings)} of {len(todo)} posts not read: "
                                   f"{failure}", retryable=True)
    return {"channel": channel_id, "day": day.isoformat(), **counts}

