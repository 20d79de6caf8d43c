"""The editorial database: Warta's own records, never Airflow's metadata DB.

Every timestamp is stored in UTC and read back timezone-aware; local time (WIB) is a
presentation concern.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the editorial DB; use UTC-aware datetimes")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# BigInteger ids that are still SQLite rowids (autoincrement) there.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class NewsItem(Base):
    """One news item: one activity covered, one manuscript, its publications."""

    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    activity_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300), default="")
    service: Mapped[str] = mapped_column(String(64), default="lainnya")
    notes: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[list[str]] = mapped_column(default=list)
    # Where the item waits now: a step id, or workflow.DONE when archived.
    current_step: Mapped[str] = mapped_column(String(64), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(32), default="in_progress", index=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The same form posted twice creates one item.
    submission_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    dag_id: Mapped[str] = mapped_column(String(250), default="")
    archived_at: Mapped[datetime | None] = mapped_column()
    archive_key: Mapped[str | None] = mapped_column(String(500))

    manuscripts: Mapped[list[Manuscript]] = relationship(
        back_populates="item", order_by="Manuscript.version", cascade="all, delete-orphan"
    )
    records: Mapped[list[StepRecord]] = relationship(
        back_populates="item", order_by="StepRecord.id", cascade="all, delete-orphan"
    )
    timings: Mapped[list[StepTiming]] = relationship(
        back_populates="item", order_by="StepTiming.id", cascade="all, delete-orphan"
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="item", order_by="Asset.id", cascade="all, delete-orphan"
    )
    publications: Mapped[list[Publication]] = relationship(
        back_populates="item", order_by="Publication.id", cascade="all, delete-orphan"
    )
    checks: Mapped[list[OnlineCheck]] = relationship(
        back_populates="item", order_by="OnlineCheck.id", cascade="all, delete-orphan"
    )
    # Loaded with the item: summaries show whether its run is still queued.
    run_requests: Mapped[list[RunRequest]] = relationship(order_by="RunRequest.id", lazy="selectin",
                                                          cascade="all, delete-orphan")
    # Scheduled publishing (jadwal tayang); loaded with the item: inbox and lists show it.
    publication_schedule: Mapped[PublicationSchedule | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", uselist=False)

    def run_id(self, round_number: int | None = None) -> str:
        return run_id_for(self.id, round_number or self.round)


def run_id_for(item_id: int, round_number: int) -> str:
    """The Airflow run id of one revision round of one item: readable, unique, stable."""
    return f"item-{item_id}-round-{round_number}"


RUN_ID = re.compile(r"^item-(\d+)-round-(\d+)$")


def parse_run_id(run_id: str) -> tuple[int, int] | None:
    """(item id, round) of a run id ``run_id_for`` built; None for any other run id."""
    match = RUN_ID.match(run_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


class Manuscript(Base):
    """One version of the manuscript (naskah); the reviewer's corrections are versions too."""

    __tablename__ = "manuscripts"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    # "naskah" (written by the reporter) or "koreksi" (the reviewer's corrected version).
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(150))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[NewsItem] = relationship(back_populates="manuscripts")


class StepRecord(Base):
    """An approval record: a person (or the pipeline) completed a step of a round.

    The id only grows, so waiting sensors find new records with one query for all.
    """

    __tablename__ = "step_records"
    # A step can't be completed twice in a round: the database says so too.
    __table_args__ = (UniqueConstraint("item_id", "round", "step_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(150))
    role: Mapped[str] = mapped_column(String(64))
    # "done" for ordinary steps; "approved" or "rejected" for the decision.
    decision: Mapped[str] = mapped_column(String(16), default="done")
    reason: Mapped[str] = mapped_column(Text, default="")
    manuscript_id: Mapped[int | None] = mapped_column(ForeignKey("manuscripts.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[NewsItem] = relationship(back_populates="records")


class StepTiming(Base):
    """When a step of a round started and ended, against its SOP standard time."""

    __tablename__ = "step_timings"
    __table_args__ = (
        UniqueConstraint("item_id", "round", "step_id"),
        # The monthly report's service levels read one step's month from this index alone.
        Index("ix_step_timings_step_ended", "step_id", "ended_at", "duration_seconds", "within_standard"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    standard_seconds: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column()
    within_standard: Mapped[bool | None] = mapped_column(Boolean)

    item: Mapped[NewsItem] = relationship(back_populates="timings")


class Asset(Base):
    """A photo, video, audio file or document of the coverage, kept in asset storage."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500))
    caption: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[NewsItem] = relationship(back_populates="assets")


class Publication(Base):
    """One post on one channel. Intent is recorded before the remote call, the remote id
    after it, so a retry looks the post up instead of posting twice."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("item_id", "channel"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    # "pending" (intent recorded), "published", "failed".
    status: Mapped[str] = mapped_column(String(16), default="pending")
    marker: Mapped[str] = mapped_column(String(128))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # The publishing attempt now holding the intent, and until when: a second attempt at
    # the same moment waits instead of posting too; a crashed holder's lease lapses.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()

    item: Mapped[NewsItem] = relationship(back_populates="publications")


class OnlineCheck(Base):
    """Evidence that a publication is live and correct (SOP step 6)."""

    __tablename__ = "online_checks"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    channel: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    http_status: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[NewsItem] = relationship(back_populates="checks")


class AuditEvent(Base):
    """Append-only trail of everything that happened to an item."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Alert(Base):
    """A notification Warta raised: a reminder, a service-level breach or escalation, a
    freshness warning, or a publishing failure. One row per event, whoever it reaches.

    ``dedupe_key`` names the event (e.g. ``breach:12:1:memeriksa``): the same breach is
    recorded once however often the scan runs, retries or restarts. ``deliveries`` holds
    one entry per recipient address (channel, address, status, error); ``sent_at`` is set
    when every delivery is done.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(250), unique=True)
    # reminder, breach, escalation, freshness, publish_failure, check_failure; handoff and
    # rejection (the desk's "menunggu Anda", written with the step that hands the item on)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id"), index=True)
    round: Mapped[int | None] = mapped_column(Integer)
    step_id: Mapped[str | None] = mapped_column(String(64))
    # The publishing channel concerned (freshness warnings, publishing failures).
    publishing_channel: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(default=list)
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(1000), default="")
    waiting_since: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A sender claims an undelivered alert by stamping this; a crashed sender's claim lapses.
    last_attempt_at: Mapped[datetime | None] = mapped_column()


class StepClaim(Base):
    """A person took a waiting step ("Saya kerjakan"), so others see who has it. One claim
    per step and round (the unique key answers a second claim with a conflict); releasing
    deletes the row, and recording the step ends it too."""

    __tablename__ = "step_claims"
    __table_args__ = (UniqueConstraint("item_id", "round", "step_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"))
    round: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(150), index=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRead(Base):
    """One user has read one alert in the desk (reads are per user: an alert to a role
    stays unread for the colleague who has not opened it)."""

    __tablename__ = "alert_reads"
    __table_args__ = (UniqueConstraint("alert_id", "username"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    username: Mapped[str] = mapped_column(String(150), index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunRequest(Base):
    """The outbox: a request to start the Airflow run of one round of an item.

    Written in the same transaction as what needs the run (a new item, a rejection's next
    round) and deleted by nobody: the outbox loop (``warta outbox serve``) starts the run
    and stamps ``started_at``. Starting is idempotent (the run id is fixed), so a row
    drained twice starts one run."""

    __tablename__ = "run_requests"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250), unique=True)
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Pending rows have no started_at; the loop looks at those due (next_attempt_at).
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ReportNarrative(Base):
    """One version of a monthly report's narrative (uraian): summary, problems and
    follow-up. Warta drafts it from the figures; the Operator edits it in the desk before
    the PDF is final. Every saved version is kept; the highest is printed."""

    __tablename__ = "report_narratives"
    __table_args__ = (UniqueConstraint("month", "lang", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # 2026-10
    lang: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    edited_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportFinal(Base):
    """One final revision of a month's report: the Operator (SOP step 7) made it final,
    freezing the narrative version it carries and the figures it was made from. A later
    build never changes it; a correction is a new revision, and every revision is kept."""

    __tablename__ = "report_finals"
    __table_args__ = (UniqueConstraint("month", "lang", "revision"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # 2026-10
    lang: Mapped[str] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer)
    narrative_version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    finalised_by: Mapped[str] = mapped_column(String(150))
    finalised_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostMetric(Base):
    """One day's reading of a published post's public metrics (reach and engagement),
    taken by the DAG ``jangkauan_kanal`` once a day for the first days after publishing.

    One row per post and reading day (WIB): reading a day again replaces that day's row.
    ``status`` says whether figures came: ``ok``; ``not_ready`` (too new for insights);
    ``no_access`` (the token lacks a permission, e.g. read_insights); ``gone`` (the post
    was deleted); ``error`` (another refusal). ``message`` says why in the platform's words.
    A figure the platform does not give stays NULL (never 0)."""

    __tablename__ = "post_metrics"
    __table_args__ = (UniqueConstraint("publication_id", "reading_date"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    reading_date: Mapped[date] = mapped_column(Date, index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    reach: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    reactions: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# ---------------------------------------------------------------- desk-keep: nothing typed is lost
class Draft(Base):
    """The text of a desk form being typed (a manuscript, a correction, notes, a reason),
    autosaved by the page's script: one per user, item and form (the step's id). ``version``
    goes up with every save; a save that names an older version is refused (409), so two
    tabs never silently overwrite each other. Deleted when the form is submitted."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("username", "item_id", "form"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150))
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    form: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KeptForm(Base):
    """A desk form posted after the login expired: kept so that nothing typed is lost.
    Anonymous until its owner signs in again and opens it (``token`` is known only to the
    browser that posted it; ``csrf_token`` is the desk's token the form carried, which is
    signed for one user: only that user can claim the form). Expires soon (warta.yaml keep)."""

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(150))
    target: Mapped[str] = mapped_column(String(250))  # "new" or "items/<id>/steps/<step>"
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PendingUpload(Base):
    """A file of a desk form that was not accepted yet (a validation error, or a login that
    expired): stored so the person need not pick it again, listed in the form as still
    attached, used by the next submit, and removed when abandoned (warta.yaml keep)."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    username: Mapped[str | None] = mapped_column(String(150), index=True)
    kept_form_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("kept_forms.id", ondelete="SET NULL"), index=True)
    target: Mapped[str] = mapped_column(String(250))
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
class PublicationSchedule(Base):
    """When an approved item is to be published (jadwal tayang), one row per item.

    ``state``: ``scheduled`` (waits for ``publish_at``), ``held`` (the schedule was
    cancelled after approval: the item waits at the schedule step until a new time is set
    or someone releases it), ``released`` (the wait is over: the time came, or someone chose
    "Terbitkan sekarang"), ``none`` (cancelled before approval). Every change goes through
    one conditional UPDATE on ``state``, so a move or cancel and the time coming cannot both
    win; ``revision`` counts the changes."""

    __tablename__ = "publication_schedules"
    __table_args__ = (Index("ix_publication_schedules_state_publish_at", "state", "publish_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    publish_at: Mapped[datetime | None] = mapped_column()
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column()
    released_by: Mapped[str | None] = mapped_column(String(150))


class CalendarToken(Base):
    """A user's secret for the iCal feed (calendar apps cannot sign in); only its hash is kept."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _keep_audit_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AppendOnlyError("the audit trail is append-only")
