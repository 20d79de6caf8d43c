"""The editorial service: every action people or the pipeline take on an item.

The CLI, the REST API and the desk (the pages) call these methods; each is one transaction
that either happens whole, with its audit entry, or not at all.
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from warta import workflow
from warta.config import Step, WartaConfig
from warta.models import (
    Alert,
    Asset,
    AuditEvent,
    Manuscript,
    NewsItem,
    OnlineCheck,
    Publication,
    RunRequest,
    StepRecord,
    StepTiming,
    run_id_for,
    utcnow,
)
from warta.storage import Storage, asset_key, display_filename, photo_problem
from warta.text_checks import check_characters
from warta.workflow import Conflict, FieldChecks, InvalidInput, NotFound, Position

PIPELINE_ACTOR = "warta"
# Row ids are 64-bit in every database Warta runs on: a larger number names nothing.
MAX_ROW_ID = 2**63 - 1


@dataclass
class Upload:
    """A file given with a step (photos, video, audio of the coverage)."""

    filename: str
    data: bytes
    caption: str = ""
    content_type: str | None = None


def too_large(filename: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(f"{filename!r} is larger than {max_bytes // (1024 * 1024)} MB", field="files",
                        reason="file_size", params={"name": filename, "max_bytes": max_bytes})


class EditorialService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: WartaConfig,
        storage: Storage,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.sessions = sessions
        self.config = config
        self.storage = storage
        self.clock = clock
        # Sends the hand-off alerts a recorded step wrote (service, alert ids), after the
        # commit; None: left to the service-level scan (tests, tools).
        self.alert_delivery: Callable[[EditorialService, list[int]], Any] | None = None

    # ----------------------------------------------------------------- helpers
    def _session(self) -> Session:
        return self.sessions()

    def _item(self, session: Session, item_id: int, lock: bool = False) -> NewsItem:
        if not 1 <= item_id <= MAX_ROW_ID:
            raise NotFound(f"there is no news item {item_id}")
        query = select(NewsItem).where(NewsItem.id == item_id)
        if lock:
            query = query.with_for_update()
        item = session.scalars(query).one_or_none()
        if item is None:
            raise NotFound(f"there is no news item {item_id}")
        return item

    def _audit(self, session: Session, item_id: int | None, actor: str, action: str, **details) -> None:
        session.add(AuditEvent(item_id=item_id, at=self.clock(), actor=actor, action=action, details=details))

    def _start_timing(self, session: Session, item_id: int, round_number: int, step: Step) -> None:
        existing = session.scalars(
            select(StepTiming).where(
                StepTiming.item_id == item_id, StepTiming.round == round_number, StepTiming.step_id == step.id
            )
        ).one_or_none()
        if existing is None:
            session.add(
                StepTiming(
                    item_id=item_id,
                    round=round_number,
                    step_id=step.id,
                    started_at=self.clock(),
                    standard_seconds=int(step.standard_time.total_seconds()),
                )
            )

    def _end_timing(self, session: Session, item_id: int, round_number: int, step: Step) -> None:
        timing = session.scalars(
            select(StepTiming).where(
                StepTiming.item_id == item_id, StepTiming.round == round_number, StepTiming.step_id == step.id
            )
        ).one_or_none()
        now = self.clock()
        if timing is None:  # a step that became current before timings were kept
            timing = StepTiming(
                item_id=item_id, round=round_number, step_id=step.id, started_at=now,
                standard_seconds=int(step.standard_time.total_seconds()),
            )
            session.add(timing)
        if timing.ended_at is None:
            timing.ended_at = now
            timing.duration_seconds = (now - timing.started_at).total_seconds()
            from warta.service_clock import clock_for

            # On the step's own clock (working hours skip nights, weekends and holidays).
            timing.within_standard = clock_for(self.config).within_standard(step, timing.started_at, now)

    def _advance(self, session: Session, item: NewsItem, step: Step, decision: str = "done") -> Position:
        position = workflow.next_position(
            self.config, Position(item.current_step, item.round), step, decision
        )
        item.current_step = position.step_id
        item.round = position.round
        item.updated_at = self.clock()
        if position.step_id == workflow.DONE:
            item.status = "done"
        else:
            next_step = self.config.step(position.step_id)
            self._start_timing(session, item.id, position.round, next_step)
            if next_step.kind == "publish":
                from warta.scheduling import open_publish_clock

                open_publish_clock(self, session, item)  # a scheduled item's clock starts at its time
            item.status = "revision" if position.round > 1 and next_step.is_human else "in_progress"
            if not next_step.is_human:
                item.status = "publishing"
        return position

    def _completed_steps(self, session: Session, item: NewsItem) -> set[str]:
        rows = session.execute(
            select(StepRecord.step_id, StepRecord.round).where(StepRecord.item_id == item.id)
        ).all()
        done = set()
        for step_id, round_number in rows:
            try:
                step = self.config.step(step_id)
            except KeyError:
                continue
            if round_number == workflow.record_round(step, item.round):
                done.add(step_id)
        return done

    def _validate_text(self, value: str | None, field: str, max_chars: int, required: bool = True) -> str:
        value = (value or "").strip()
        check_characters(value, field)
        if required and not value:
            raise InvalidInput(f"{field} is required", field=field, reason="required")
        if len(value) > max_chars:
            raise InvalidInput(f"{field} is longer than {max_chars} characters", field=field, reason="too_long",
                               params={"n": max_chars})
        return value

    def _discard_files(self, keys: list[str]) -> None:
        """Remove files stored by a transaction that did not commit (best effort)."""
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # the original error is the one to report
                pass

    def _check_uploads(self, uploads: list[Upload]) -> dict[int, str | None]:
        """Every file's problems (InvalidInput naming them all); the photos' real types."""
        limits = self.config.limits
        kinds_by_ext = {ext: kind for kind, exts in limits.upload_types.items() for ext in exts}
        allowed = ", ".join(sorted(kinds_by_ext))
        content_types: dict[int, str | None] = {}
        checks = FieldChecks()
        for upload in uploads:
            checks(check_characters, upload.filename, "files")
            checks(check_characters, upload.caption, "caption")
            ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
            if ext not in kinds_by_ext:
                checks.problems.append(InvalidInput(
                    f"{upload.filename!r}: file type not allowed (allowed: {allowed})",
                    field="files", reason="file_type", params={"name": upload.filename, "types": allowed},
                ))
            elif len(upload.data) > limits.upload_max_bytes:
                checks.problems.append(too_large(upload.filename, limits.upload_max_bytes))
            elif not upload.data:
                checks.problems.append(InvalidInput(f"{upload.filename!r} is empty", field="files",
                                                    reason="file_empty", params={"name": upload.filename}))
            elif len(upload.caption or "") > limits.caption_max_chars:
                checks.problems.append(InvalidInput(
                    f"the caption of {upload.filename!r} is longer than {limits.caption_max_chars} characters",
                    field="files"))
            elif kinds_by_ext[ext] == "photo":
                # Photos are published: what a channel would refuse is refused here, not at publishing.
                photo_type, problem = photo_problem(upload.data, limits.photo_max_pixels)
                if problem:
                    checks.problems.append(InvalidInput(f"{upload.filename!r} {problem}", field="files"))
                content_types[id(upload)] = photo_type
        checks.done()
        return content_types

    def acceptable_uploads(self, uploads: Iterable[Upload]) -> list[Upload]:
        """The files the SOP would take, each checked alone: what a refused submit keeps."""
        acceptable = []
        for upload in uploads:
            try:
                self._check_uploads([upload])
            except InvalidInput:
                continue
            acceptable.append(upload)
        return acceptable

    def _store_uploads(
        self, session: Session, item_id: int, actor: str, uploads: Iterable[Upload],
        new_keys: list[str] | None = None, photo_types: dict[int, str | None] | None = None,
    ) -> list[Asset]:
        """Store the files; ``photo_types`` from ``_check_uploads`` when they were checked."""
        limits = self.config.limits
        kinds_by_ext = {ext: kind for kind, exts in limits.upload_types.items() for ext in exts}
        uploads = list(uploads)
        # Every file is checked before any is stored: a bad second file stores nothing.
        content_types = self._check_uploads(uploads) if photo_types is None else photo_types
        assets = []
        for upload in uploads:
            ext = upload.filename.rsplit(".", 1)[-1].lower()
            key = asset_key(item_id, upload.filename, upload.data)
            if new_keys is not None and not self.storage.exists(key):
                new_keys.append(key)
            self.storage.put_bytes(key, upload.data)
            asset = Asset(
                item_id=item_id,
                kind=kinds_by_ext[ext],
                filename=display_filename(upload.filename),
                # A photo's type is what its bytes are, not what the browser claimed.
                content_type=content_types.get(id(upload)) or upload.content_type
                or mimetypes.guess_type(upload.filename)[0]
                or "application/octet-stream",
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                storage_key=key,
                caption=upload.caption or "",
                uploaded_by=actor,
                created_at=self.clock(),
            )
            session.add(asset)
            assets.append(asset)
        return assets

    # ------------------------------------------------------------- creating
    @staticmethod
    def _activity_date(value: date | str | None, required: bool) -> date | None:
        if isinstance(value, str) and value.strip():
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise InvalidInput(f"activity date {value!r} is not a date like 2026-11-26",
                                   field="activity_date", reason="date") from None
        if not value and required:
            raise InvalidInput("activity_date is required", field="activity_date", reason="required")
        return value or None

    def _check_service(self, service: str) -> None:
        if service not in self.config.services:
            raise InvalidInput(f"unknown service {service!r} (one of: {', '.join(self.config.services)})",
                               field="service", reason="service")

    def _channels(self, channels: list[str] | None, default_when_empty: bool) -> list[str]:
        config = self.config
        channels = list(dict.fromkeys(channels or (config.default_channels if default_when_empty else [])))
        unknown = [c for c in channels if c not in config.channels]
        if unknown:
            raise InvalidInput(
                f"unknown channel(s) {', '.join(unknown)} (configured: {', '.join(config.channels)})",
                field="channels", reason="channels",
            )
        if not channels:
            raise InvalidInput("choose at least one channel", field="channels", reason="channels")
        return channels

    def create_item(
        self,
        actor: str,
        *,
        title: str,
        activity_date: date | str | None = None,
        place: str = "",
        service: str = "lainnya",
        notes: str = "",
        channels: list[str] | None = None,
        submission_key: str | None = None,
        uploads: Iterable[Upload] = (),
        start_run: bool = True,
        intake_form: bool = False,
        coverage_complete: bool = False,
    ) -> dict[str, Any]:
        """Register a news item (step 1 starts), with the request to start its Airflow run
        (the outbox, ``RunRequest``) in the same transaction: both are saved or neither.
        The same ``submission_key`` again returns the first item (``duplicate``), also
        when both arrive at once. ``intake_form``: the desk's intake form, which asks for
        the activity date and at least one channel (the API and CLI default to none and to
        the configured channels). ``coverage_complete``: the intake already carries the
        whole coverage (notes and files), so step 1 is recorded with it at once."""
        config = self.config
        first = config.steps[0]
        workflow.check_role(config, first, actor, config.roles_of(actor))
        limits = config.limits
        checks = FieldChecks()  # every field's problem at once, so a form can mark them all
        title = checks(self._validate_text, title, "title", limits.title_max_chars)
        place = checks(self._validate_text, place, "place", 300, required=False)
        notes = checks(self._validate_text, notes, "notes", limits.notes_max_chars, required=False)
        submission_key = checks(self._validate_text, submission_key, "submission_key", 128, required=False) or None
        activity_date = checks(self._activity_date, activity_date, required=intake_form)
        checks(self._check_service, service)
        channels = checks(self._channels, channels, default_when_empty=not intake_form)
        uploads = list(uploads)
        photo_types = checks(self._check_uploads, uploads)
        checks.done()

        with self._session() as session:
            if submission_key:
                existing = self._submitted(session, submission_key)
                if existing is not None:
                    return existing
            now = self.clock()
            item = NewsItem(
                title=title,
                activity_date=activity_date,
                place=place,
                service=service,
                notes=notes,
                channels=channels,
                current_step=first.id,
                round=1,
                status="in_progress",
                created_by=actor,
                created_at=now,
                updated_at=now,
                submission_key=submission_key,
                dag_id=config.dag_id,
            )
            session.add(item)
            try:
                session.flush()
            except IntegrityError:
                # The same submission committed a moment ago (a retried request).
                session.rollback()
                existing = self._submitted(session, submission_key) if submission_key else None
                if existing is None:
                    raise Conflict("this submission was already received") from None
                return existing
            new_keys: list[str] = []
            try:
                self._start_timing(session, item.id, 1, first)
                stored = self._store_uploads(session, item.id, actor, uploads, new_keys, photo_types)
                self._audit(session, item.id, actor, "item_created", title=title, channels=channels)
                if coverage_complete and first.kind == "coverage":
                    self._record_coverage_at_intake(session, item, first, actor, notes, stored)
                if start_run:
                    self._request_run(session, item, 1)
                session.commit()
            except IntegrityError:
                session.rollback()
                self._discard_files(new_keys)
                existing = self._submitted(session, submission_key) if submission_key else None
                if existing is None:
                    raise
                return existing
            except BaseException:
                self._discard_files(new_keys)
                raise
            return self._summary(item) | {"duplicate": False}

    def _record_coverage_at_intake(self, session: Session, item: NewsItem, step: Step, actor: str,
                                   notes: str, stored: list[Asset]) -> None:
        """Step 1 (coverage) recorded with the intake's notes and files, as record_step would."""
        session.add(StepRecord(item_id=item.id, round=1, step_id=step.id, actor=actor, role=step.role,
                               recorded_at=self.clock(), reason=notes))
        self._end_timing(session, item.id, 1, step)
        self._advance(session, item, step)
        self._audit(session, item.id, actor, f"step_{step.id}", round=1,
                    assets=[a.filename for a in stored], at_intake=True)

    def _submitted(self, session: Session, submission_key: str) -> dict[str, Any] | None:
        existing = session.scalars(select(NewsItem).where(NewsItem.submission_key == submission_key)).one_or_none()
        return None if existing is None else self._summary(existing) | {"duplicate": True}

    # ------------------------------------------------------- the run outbox
    def _request_run(self, session: Session, item: NewsItem, round_number: int) -> None:
        now = self.clock()
        session.add(RunRequest(
            item_id=item.id, round=round_number, dag_id=item.dag_id or self.config.dag_id,
            run_id=run_id_for(item.id, round_number), note=item.title[:1000], created_at=now,
            next_attempt_at=now, attempts=0,
        ))

    def request_run(self, item_id: int, round_number: int) -> dict[str, Any]:
        """Queue the run of ``round_number`` of an item (idempotent: one request per run)."""
        with self._session() as session:
            item = self._item(session, item_id)
            run_id = run_id_for(item_id, round_number)
            existing = session.scalars(select(RunRequest).where(RunRequest.run_id == run_id)).one_or_none()
            if existing is None:
                self._request_run(session, item, round_number)
                try:
                    session.commit()
                except IntegrityError:  # queued a moment ago by another caller
                    session.rollback()
            return {"item": item_id, "round": round_number, "run_id": run_id, "queued": existing is None}

    def due_run_requests(self, limit: int = 50) -> list[RunRequest]:
        """Run requests not started yet whose next attempt is due, oldest first."""
        with self._session() as session:
            return list(session.scalars(
                select(RunRequest)
                .where(RunRequest.started_at.is_(None), RunRequest.next_attempt_at <= self.clock())
                .order_by(RunRequest.id)
                .limit(limit)
            ))

    def run_request_started(self, request_id: int) -> None:
        with self._session() as session:
            request = session.get(RunRequest, request_id)
            if request is not None and request.started_at is None:
                request.started_at = self.clock()
                request.attempts += 1
                request.last_error = None
                session.commit()

    def run_request_failed(self, request_id: int, error: str, retry_in: timedelta) -> None:
        with self._session() as session:
            request = session.get(RunRequest, request_id)
            if request is not None and request.started_at is None:
                request.attempts += 1
                request.last_error = error[:2000]
                request.next_attempt_at = self.clock() + retry_in
                session.commit()

    # ------------------------------------------------------- human steps
    def record_step(
        self,
        item_id: int,
        step_id: str,
        actor: str,
        *,
        notes: str = "",
        title: str | None = None,
        body: str | None = None,
        decision: str | None = None,
        reason: str = "",
        reason_codes: Iterable[str] = (),
        uploads: Iterable[Upload] = (),
        publish_at: str | datetime | None = None,
    ) -> dict[str, Any]:
        """Record a human step. What it carries depends on the step's kind:
        coverage (notes, files), manuscript and correction (title, body, notes),
        decision (approve/reject with reason: typed, preset ``reason_codes``, or both; an
        approval may carry ``publish_at``, the scheduled publication time, set in the same
        transaction)."""
        config = self.config
        with self._session() as session:
            item = self._item(session, item_id, lock=True)
            step = workflow.check_can_record(
                config,
                Position(item.current_step, item.round),
                step_id,
                actor,
                config.roles_of(actor),
                self._completed_steps(session, item),
            )
            round_number = workflow.record_round(step, item.round)
            waiting_round = item.round  # the round a claim on this step was made in
            record = StepRecord(
                item_id=item.id, round=round_number, step_id=step.id, actor=actor, role=step.role,
                recorded_at=self.clock(),
            )
            limits = config.limits
            new_keys: list[str] = []
            checks = FieldChecks()
            if step.kind == "coverage":
                record.reason = checks(self._validate_text, notes, "notes", limits.notes_max_chars, required=False)
                uploads = list(uploads)
                photo_types = checks(self._check_uploads, uploads)
                checks.done()
                stored = self._store_uploads(session, item.id, actor, uploads, new_keys, photo_types)
                details = {"assets": [a.filename for a in stored]}
            elif step.kind in ("manuscript", "correction"):
                latest = self._latest_manuscript(session, item.id)
                if step.kind == "correction" and latest is None:
                    raise Conflict("there is no manuscript to correct yet")
                if step.kind == "correction" and config.duties.checker_not_author:
                    workflow.check_checker_not_author(actor, set(session.scalars(
                        select(Manuscript.author).where(
                            Manuscript.item_id == item.id, Manuscript.round == item.round,
                            Manuscript.kind == "naskah",
                        )
                    )))
                new_title = checks(
                    self._validate_text, title if title is not None else (latest.title if latest else item.title),
                    "title", limits.title_max_chars,
                )
                if body is None and step.kind == "correction":
                    body = latest.body  # checked, no corrections needed
                new_body = checks(self._validate_text, body, "body", limits.manuscript_max_chars)
                note = checks(self._validate_text, notes, "notes", limits.notes_max_chars, required=False)
                checks.done()
                manuscript = Manuscript(
                    item_id=item.id,
                    round=item.round,
                    version=(latest.version + 1) if latest else 1,
                    kind="naskah" if step.kind == "manuscript" else "koreksi",
                    title=new_title,
                    body=new_body,
                    author=actor,
                    note=note,
                    created_at=self.clock(),
                )
                session.add(manuscript)
                try:
                    session.flush()
                except IntegrityError:  # another save of this manuscript took the version
                    session.rollback()
                    raise Conflict(
                        f"step {step.number} ({step.name_id}) was just recorded by someone else"
                    ) from None
                record.manuscript_id = manuscript.id
                details = {"version": manuscript.version, "kind": manuscript.kind}
            elif step.kind == "decision":
                reason = workflow.compose_reason(check_characters(reason, "reason"), reason_codes,
                                                 config.rejection_reasons)
                decided, reason = workflow.normalize_decision(
                    decision or "", reason, limits.reason_min_chars, limits.reason_max_chars
                )
                if config.duties.decider_not_author:
                    authorship: dict[str, list[tuple[int, int]]] = {}
                    for author, version, round_number in session.execute(
                        select(Manuscript.author, Manuscript.version, Manuscript.round)
                        .where(Manuscript.item_id == item.id)
                    ):
                        authorship.setdefault(author, []).append((version, round_number))
                    workflow.check_not_own_manuscript(actor, authorship)
                latest = self._latest_manuscript(session, item.id)
                if latest is None:
                    raise Conflict("there is no manuscript to decide on")
                record.decision = decided
                record.reason = reason
                if publish_at not in (None, "") and decided == "approved":
                    from warta.scheduling import Scheduling

                    Scheduling(self).schedule(item.id, actor, publish_at, session=session)
                record.manuscript_id = latest.id
                details = {"decision": decided, "reason": reason, "version": latest.version}
            else:  # pragma: no cover - check_can_record refuses automatic steps
                raise Conflict(f"step {step.id} is automatic")
            session.add(record)
            self._end_timing(session, item.id, item.round, step)
            position = self._advance(session, item, step, record.decision)
            self._audit(session, item.id, actor, f"step_{step.id}", round=round_number, **details)
            from warta.desk_flow import end_claims, handoff_alerts

            # Whose turn it is now, told in the step's own transaction: never lost, never twice.
            end_claims(session, item.id, waiting_round, step.id)
            alerts = handoff_alerts(session, config, item, step, record, position, actor, self.clock())
            try:
                session.commit()
            except BaseException as exc:
                session.rollback()
                self._discard_files(new_keys)
                if not isinstance(exc, IntegrityError):
                    raise
                raise Conflict(
                    f"step {step.number} ({step.name_id}) was just recorded by someone else"
                ) from None
            if self.alert_delivery is not None:
                self.alert_delivery(self, [a.id for a in alerts])
            return self._summary(item) | {
                "recorded": {"step": step.id, "round": round_number, "decision": record.decision},
                "next": {"step": position.step_id, "round": position.round},
            }

    def _latest_manuscript(self, session: Session, item_id: int) -> Manuscript | None:
        return session.scalars(
            select(Manuscript).where(Manuscript.item_id == item_id).order_by(Manuscript.version.desc()).limit(1)
        ).first()

    # ---------------------------------------------------- pipeline steps
    def is_recorded(self, item_id: int, round_number: int, step_id: str) -> bool:
        step = self.config.step(step_id)
        with self._session() as session:
            return session.scalar(
                select(func.count()).select_from(StepRecord).where(
                    StepRecord.item_id == item_id,
                    StepRecord.round == workflow.record_round(step, round_number),
                    StepRecord.step_id == step_id,
                )
            ) > 0

    def decision(self, item_id: int, round_number: int) -> str | None:
        """'approved', 'rejected' or None (not decided yet) for one round."""
        step = self.config.decision_step
        with self._session() as session:
            return session.scalar(
                select(StepRecord.decision).where(
                    StepRecord.item_id == item_id, StepRecord.round == round_number,
                    StepRecord.step_id == step.id,
                )
            )

    def complete_automatic_step(self, item_id: int, round_number: int, step_id: str, **details) -> None:
        """Record an automatic step done and move the item on (idempotent)."""
        step = self.config.step(step_id)
        with self._session() as session:
            item = self._item(session, item_id, lock=True)
            if step.id in self._completed_steps(session, item):
                return
            if item.current_step != step.id or item.round != round_number:
                raise Conflict(
                    f"item {item_id} waits at {item.current_step} round {item.round}, not {step.id} round {round_number}"
                )
            session.add(
                StepRecord(
                    item_id=item.id, round=round_number, step_id=step.id, actor=PIPELINE_ACTOR,
                    role=step.role, recorded_at=self.clock(),
                )
            )
            self._end_timing(session, item.id, round_number, step)
            self._advance(session, item, step)
            if item.current_step == workflow.DONE and details.get("archive_key"):
                item.archived_at = self.clock()
                item.archive_key = details["archive_key"]
            self._audit(session, item.id, PIPELINE_ACTOR, f"step_{step.id}", round=round_number, **details)
            session.commit()

    def must_wait_for_schedule(self, item_id: int) -> bool:
        """Whether the approved item waits at the schedule task (jadwal tayang)."""
        from warta.scheduling import must_wait

        with self._session() as session:
            return must_wait(self._item(session, item_id).publication_schedule)

    def approved_manuscript(self, item_id: int) -> Manuscript:
        with self._session() as session:
            record = session.scalars(
                select(StepRecord).where(
                    StepRecord.item_id == item_id,
                    StepRecord.step_id == self.config.decision_step.id,
                    StepRecord.decision == "approved",
                ).order_by(StepRecord.id.desc())
            ).first()
            if record is None or record.manuscript_id is None:
                raise Conflict(f"item {item_id} has no approved manuscript")
            return session.get(Manuscript, record.manuscript_id)

    def item_channels(self, item_id: int) -> list[str]:
        with self._session() as session:
            return list(self._item(session, item_id).channels)

    def assets(self, item_id: int) -> list[Asset]:
        with self._session() as session:
            return list(session.scalars(select(Asset).where(Asset.item_id == item_id).order_by(Asset.id)))

    # ------------------------------------------------------ publications
    def publication_intent(self, item_id: int, channel: str) -> Publication:
        """The channel's publication row, created (with its marker) before any remote call.
        Two attempts creating it at the same moment get the same row (and marker)."""
        for _ in range(2):
            with self._session() as session:
                publication = session.scalars(
                    select(Publication).where(Publication.item_id == item_id, Publication.channel == channel)
                ).one_or_none()
                if publication is None:
                    publication = Publication(
                        item_id=item_id, channel=channel, status="pending",
                        marker=f"warta-{item_id}-{channel}-{uuid.uuid4().hex[:10]}", created_at=self.clock(),
                        attempts=0,
                    )
                    session.add(publication)
                    self._audit(session, item_id, PIPELINE_ACTOR, "publication_intent", channel=channel,
                                marker=publication.marker)
                publication.attempts += 1
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()  # created meanwhile by the other attempt: read it
                    continue
                return publication
        raise RuntimeError(f"publication intent of item {item_id} on {channel} could not be recorded")

    def claim_publication(self, publication_id: int, owner: str, seconds: float) -> bool:
        """Take (or extend) the lease on a publication's intent for ``seconds``, atomically:
        True when ``owner`` holds it now; False while another attempt's lease runs, or when
        the publication is already published."""
        now = self.clock()
        with self._session() as session:
            claimed = session.execute(
                update(Publication)
                .where(Publication.id == publication_id, Publication.status != "published",
                       or_(Publication.lease_owner.is_(None), Publication.lease_owner == owner,
                           Publication.lease_expires_at.is_(None), Publication.lease_expires_at < now))
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
            return claimed == 1

    def release_publication(self, publication_id: int, owner: str) -> None:
        """End ``owner``'s lease (a retry may start at once)."""
        with self._session() as session:
            session.execute(
                update(Publication).where(Publication.id == publication_id, Publication.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None).execution_options(synchronize_session=False)
            )
            session.commit()

    def publication(self, publication_id: int) -> Publication:
        with self._session() as session:
            return session.get(Publication, publication_id)

    def publication_done(self, publication_id: int, *, remote_id: str, url: str, details: dict | None = None) -> Publication:
        with self._session() as session:
            publication = session.get(Publication, publication_id)
            publication.status = "published"
            publication.remote_id = str(remote_id)
            publication.url = url
            publication.error = ""
            publication.details = details or {}
            publication.published_at = publication.published_at or self.clock()
            self._audit(session, publication.item_id, PIPELINE_ACTOR, "published", channel=publication.channel,
                        remote_id=str(remote_id), url=url)
            session.commit()
            return publication

    def publication_progress(self, publication_id: int, details: dict) -> None:
        """Keep what a publishing attempt has done so far (remote ids, fingerprints), before
        its next remote call: a later attempt looks that work up instead of repeating it."""
        with self._session() as session:
            publication = session.get(Publication, publication_id)
            if publication.status == "published":
                return
            publication.details = dict(details)
            session.commit()

    def publication_failed(self, publication_id: int, error: str) -> None:
        with self._session() as session:
            publication = session.get(Publication, publication_id)
            if publication.status != "published":
                publication.status = "failed"
            publication.error = error[:4000]
            self._audit(session, publication.item_id, PIPELINE_ACTOR, "publish_failed",
                        channel=publication.channel, error=error[:500])
            session.commit()

    def publications(self, item_id: int) -> list[Publication]:
        with self._session() as session:
            return list(session.scalars(
                select(Publication).where(Publication.item_id == item_id).order_by(Publication.id)
            ))

    def record_check(self, publication: Publication, *, ok: bool, http_status: int | None, evidence: dict) -> OnlineCheck:
        with self._session() as session:
            check = OnlineCheck(
                item_id=publication.item_id, publication_id=publication.id, channel=publication.channel,
                ok=ok, http_status=http_status, evidence=evidence, checked_at=self.clock(),
            )
            session.add(check)
            self._audit(session, publication.item_id, PIPELINE_ACTOR, "online_check", channel=publication.channel,
                        ok=ok, http_status=http_status)
            session.commit()
            return check

    # ---------------------------------------------------------- reading
    def _summary(self, item: NewsItem) -> dict[str, Any]:
        step = None if item.current_step == workflow.DONE else self.config.step(item.current_step)
        status = item.status
        # A channel that failed makes the item "Gagal terbit", never "publishing" as if all went well.
        if status == "publishing" and any(p.status == "failed" for p in item.publications):
            status = "failed"
        return {
            "id": item.id,
            "title": item.title,
            "status": status,
            "current_step": item.current_step,
            "current_step_name": step.name_id if step else "Selesai",
            "waiting_for_role": step.role if step and step.is_human else None,
            "round": item.round,
            "channels": list(item.channels),
            "service": item.service,
            "activity_date": item.activity_date.isoformat() if item.activity_date else None,
            "place": item.place,
            "created_by": item.created_by,
            "created_at": item.created_at.isoformat(),
            "run_id": item.run_id(),
            "dag_id": item.dag_id,
            "run_state": self._run_state(item),
            "schedule": self._schedule_summary(item),
        }

    @staticmethod
    def _schedule_summary(item: NewsItem) -> dict[str, Any] | None:
        from warta.scheduling import summary_of

        return summary_of(item.publication_schedule)

    def _run_state(self, item: NewsItem) -> str | None:
        """``queued`` while the outbox has not started the current round's run, then
        ``started``; None for an item without a request (finished, or created without one)."""
        if item.current_step == workflow.DONE:
            return None
        request = next((r for r in item.run_requests if r.round == item.round), None)
        if request is None:
            return None
        return "started" if request.started_at is not None else "queued"

    def get_item(self, item_id: int) -> dict[str, Any]:
        with self._session() as session:
            return self._summary(self._item(session, item_id))

    def waiting_for(self, username: str | None = None, role: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Items waiting at a human step for ``role`` (or any role ``username`` holds),
        oldest first, with the time left against the SOP standard time."""
        roles = {role} if role else set(self.config.roles_of(username or ""))
        if role and role not in self.config.roles:
            raise InvalidInput(f"unknown role {role!r} (one of: {', '.join(self.config.roles)})", field="role")
        step_ids = [s.id for s in self.config.human_steps if s.role in roles]
        if not step_ids:
            return []
        now = self.clock()
        with self._session() as session:
            rows = session.execute(
                select(NewsItem, StepTiming)
                .join(
                    StepTiming,
                    (StepTiming.item_id == NewsItem.id)
                    & (StepTiming.step_id == NewsItem.current_step)
                    & (StepTiming.ended_at.is_(None)),
                )
                .where(NewsItem.current_step.in_(step_ids))
                .order_by(StepTiming.started_at, NewsItem.id)
                .limit(limit)
            ).all()
            from warta.alert_log import alerts_by_step
            from warta.service_clock import clock_for, past_due

            service_clock = clock_for(self.config)
            alerts = alerts_by_step(self, [(item.id, timing.round, timing.step_id) for item, timing in rows])
            result = []
            for item, timing in rows:
                step = self.config.step(item.current_step)
                # The SOP service level: the standard time on the step's own clock
                # (working hours or wall), which is what reminders, breaches and the report follow.
                service_due = service_clock.due_at(step, timing.started_at)
                breached = past_due(service_due, now)
                result.append(
                    self._summary(item)
                    | {
                        "waiting_since": timing.started_at.isoformat(),
                        "due_at": service_due.isoformat(),
                        "seconds_left": round((service_due - now).total_seconds()),
                        "overdue": breached,
                        "step_role": step.role,
                        "clock": step.clock,
                        "service_due_at": service_due.isoformat(),
                        "breached": breached,
                        "alerts": alerts[(item.id, timing.round, timing.step_id)],
                    }
                )
            return result

    def history(self, item_id: int) -> dict[str, Any]:
        """Everything about an item: its rounds, manuscripts, records, timings,
        publications, checks and audit trail."""
        if not 1 <= item_id <= MAX_ROW_ID:
            raise NotFound(f"there is no news item {item_id}")
        with self._session() as session:
            item = session.scalars(
                select(NewsItem)
                .where(NewsItem.id == item_id)
                .options(
                    selectinload(NewsItem.manuscripts),
                    selectinload(NewsItem.records),
                    selectinload(NewsItem.timings),
                    selectinload(NewsItem.assets),
                    selectinload(NewsItem.publications),
                    selectinload(NewsItem.checks),
                )
            ).one_or_none()
            if item is None:
                raise NotFound(f"there is no news item {item_id}")
            audit = session.scalars(
                select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
            ).all()
            rejections = [r for r in item.records if r.decision == "rejected"]
            from warta.alert_log import alert_summary

            alerts = session.scalars(select(Alert).where(Alert.item_id == item_id).order_by(Alert.id)).all()
            return self._summary(item) | {
                "notes": item.notes,
                "revision_rounds": item.round,
                "rejections": len(rejections),
                "archive_key": item.archive_key,
                # SOP step 7: where the item's archive (manuscript, files, links, evidence) is.
                "archive": {
                    "key": item.archive_key,
                    "manifest": f"{item.archive_key}/manifest.json",
                    "archived_at": item.archived_at.isoformat() if item.archived_at else None,
                } if item.archive_key else None,
                "manuscripts": [
                    {"version": m.version, "round": m.round, "kind": m.kind, "title": m.title, "body": m.body,
                     "author": m.author, "note": m.note, "created_at": m.created_at.isoformat()}
                    for m in item.manuscripts
                ],
                "records": [
                    {"step": r.step_id, "round": r.round, "actor": r.actor, "role": r.role,
                     "decision": r.decision, "reason": r.reason, "recorded_at": r.recorded_at.isoformat()}
                    for r in item.records
                ],
                "timings": [
                    {"step": t.step_id, "round": t.round, "started_at": t.started_at.isoformat(),
                     "ended_at": t.ended_at.isoformat() if t.ended_at else None,
                     "duration_seconds": t.duration_seconds, "standard_seconds": t.standard_seconds,
                     "within_standard": t.within_standard}
                    for t in item.timings
                ],
                "assets": [
                    {"id": a.id, "kind": a.kind, "filename": a.filename, "size": a.size,
                     "content_type": a.content_type, "caption": a.caption}
                    for a in item.assets
                ],
                "publications": [
                    {"channel": p.channel, "status": p.status, "remote_id": p.remote_id, "url": p.url,
                     "error": p.error, "published_at": p.published_at.isoformat() if p.published_at else None,
                     "attempts": p.attempts, "details": p.details or {}}
                    for p in item.publications
                ],
                "checks": [
                    {"channel": c.channel, "ok": c.ok, "http_status": c.http_status, "evidence": c.evidence,
                     "checked_at": c.checked_at.isoformat()}
                    for c in item.checks
                ],
                "audit": [
                    {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "details": e.details}
                    for e in audit
                ],
                "alerts": [alert_summary(a) for a in alerts],
            }

    # ------------------------------------------------------------- views for people (desk and API)
    ITEM_STATUSES = ("in_progress", "revision", "publishing", "done")

    def list_items(
        self,
        *,
        status: str | None = None,
        step: str | None = None,
        service: str | None = None,
        created_by: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Items newest first, filtered; ``total`` counts every match (for paging)."""
        if status and status not in self.ITEM_STATUSES:
            raise InvalidInput(f"unknown status {status!r} (one of: {', '.join(self.ITEM_STATUSES)})", field="status")
        if step and step != workflow.DONE and step not in {s.id for s in self.config.steps}:
            raise InvalidInput(f"unknown step {step!r}", field="step")
        if service and service not in self.config.services:
            raise InvalidInput(f"unknown service {service!r}", field="service")
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be between 1 and 500", field="limit")
        if offset < 0:
            raise InvalidInput("offset must not be negative", field="offset")
        conditions = []
        if status:
            conditions.append(NewsItem.status == status)
        if step:
            conditions.append(NewsItem.current_step == step)
        if service:
            conditions.append(NewsItem.service == service)
        check_characters(created_by, "created_by")
        check_characters(search, "q")
        if offset > MAX_ROW_ID:
            raise InvalidInput(f"offset must be at most {MAX_ROW_ID}", field="offset")
        if created_by:
            conditions.append(NewsItem.created_by == created_by)
        if search and search.strip():
            words = search.strip()[:200].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(NewsItem.title.ilike(f"%{words}%", escape="\\"))
        with self._session() as session:
            total = session.scalar(select(func.count()).select_from(NewsItem).where(*conditions))
            items = session.scalars(
                select(NewsItem).where(*conditions).order_by(NewsItem.id.desc()).limit(limit).offset(offset)
            ).all()
            return {"total": total, "limit": limit, "offset": offset,
                    "items": [self._summary(item) | {"updated_at": item.updated_at.isoformat()} for item in items]}

    def asset_file(self, item_id: int, asset_id: int) -> tuple[dict[str, Any], bytes]:
        """One stored file of an item: its description and its bytes."""
        if not 1 <= asset_id <= MAX_ROW_ID:
            raise NotFound(f"item {item_id} has no file {asset_id}")
        with self._session() as session:
            asset = session.get(Asset, asset_id)
            if asset is None or asset.item_id != item_id:
                raise NotFound(f"item {item_id} has no file {asset_id}")
            described = {"id": asset.id, "kind": asset.kind, "filename": asset.filename,
                         "content_type": asset.content_type, "size": asset.size, "sha256": asset.sha256}
            key = asset.storage_key
        return described, self.storage.get_bytes(key)

    def manuscript_diff(self, item_id: int, from_version: int | None = None, to_version: int | None = None) -> dict[str, Any]:
        """What changed between two manuscript versions (default: the latest and the one before)."""
        from warta.manuscript_diff import unified_diff, word_diff_html

        with self._session() as session:
            self._item(session, item_id)
            versions = {m.version: m for m in session.scalars(
                select(Manuscript).where(Manuscript.item_id == item_id).order_by(Manuscript.version)
            )}
        if not versions:
            raise NotFound(f"item {item_id} has no manuscript yet")
        newest = max(versions)
        to_version = to_version or newest
        from_version = from_version or max((v for v in versions if v < to_version), default=to_version)
        for name, version in (("from", from_version), ("to", to_version)):
            if version not in versions:
                raise NotFound(f"item {item_id} has no manuscript version {version}", field=name)
        old, new = versions[from_version], versions[to_version]
        return {
            "item_id": item_id,
            "from": {"version": old.version, "kind": old.kind, "author": old.author, "round": old.round},
            "to": {"version": new.version, "kind": new.kind, "author": new.author, "round": new.round},
            "title_changed": old.title != new.title,
            "title_html": word_diff_html(old.title, new.title),
            "body_html": word_diff_html(old.body, new.body),
            "unified": unified_diff(f"{old.title}\n\n{old.body}\n", f"{new.title}\n\n{new.body}\n",
                                    f"v{old.version}-{old.kind}", f"v{new.version}-{new.kind}"),
        }

    def preview(self, item_id: int) -> dict[str, Any]:
        """Exactly what would be published now: the approved manuscript once decided,
        else the latest version, rendered by the same function the pipeline uses."""
        from warta.content import excerpt, publishable_html

        with self._session() as session:
            item = self._item(session, item_id)
            approved = session.scalars(
                select(StepRecord).where(
                    StepRecord.item_id == item_id, StepRecord.step_id == self.config.decision_step.id,
                    StepRecord.decision == "approved",
                ).order_by(StepRecord.id.desc())
            ).first()
            manuscript = (session.get(Manuscript, approved.manuscript_id) if approved and approved.manuscript_id
                          else self._latest_manuscript(session, item_id))
            photos = session.scalars(
                select(Asset).where(Asset.item_id == item_id, Asset.kind == "photo").order_by(Asset.id)
            ).all()
            if manuscript is None:
                return {"item_id": item_id, "ready": False, "approved": False, "version": None, "title": item.title,
                        "body_html": "", "excerpt": "", "photos": [], "channels": list(item.channels)}
            return {
                "item_id": item_id,
                "ready": True,
                "approved": approved is not None,
                "version": manuscript.version,
                "title": manuscript.title,
                "body_html": publishable_html(manuscript.body),
                "excerpt": excerpt(manuscript.body),
                # The first photo becomes the featured image, as the channels publish it.
                "photos": [{"id": a.id, "filename": a.filename, "caption": a.caption or manuscript.title}
                           for a in photos],
                "channels": list(item.channels),
                "social": self._social_previews(item, manuscript, session),
            }

    def _social_previews(self, item: NewsItem, manuscript: Manuscript, session: Session) -> list[dict[str, Any]]:
        """Each social channel's caption, made by the same adaptation the publishers use.
        Until the website article is live its address is shown as a placeholder."""
        from warta.channels.base import PostContent
        from warta.content import excerpt, plain_text
        from warta.channels.social import caption, rules_for

        published = {
            p.channel: p.url for p in session.scalars(select(Publication).where(Publication.item_id == item.id))
            if p.status == "published"
        }
        previews = []
        for channel_id in item.channels:
            channel = self.config.channels.get(channel_id)
            if channel is None or channel.kind == "wordpress":
                continue
            rules = rules_for(channel)
            link = published.get(rules.link_from or "") or (
                "https://…/tautan-berita-di-website" if rules.link_from in item.channels else None
            )
            content = PostContent(
                title=manuscript.title, body_html="", excerpt=excerpt(manuscript.body),
                text=" ".join(plain_text(manuscript.body).split()), link=link,
            )
            previews.append({"channel": channel_id, "name": channel.name_id, "text": caption(content, rules.caption),
                             "link": link if rules.caption.link == "attach" else None})
        return previews


def default_service(config: WartaConfig | None = None, database_url: str | None = None) -> EditorialService:
    """The service on the configured editorial DB (or ``database_url``) and storage."""
    from warta.config import get_config
    from warta.db import session_factory

    from warta.desk_flow import deliver_in_background

    service = EditorialService(session_factory(database_url), config or get_config(), Storage.default())
    service.alert_delivery = deliver_in_background
    return service
