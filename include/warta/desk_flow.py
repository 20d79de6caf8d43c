"""Whose turn it is: hand-off and rejection alerts, step claims, the desk's alert reads,
and the failed publications people retry ("Coba lagi").

Hand-off alerts are written by ``EditorialService.record_step`` in the same transaction
as the step (``handoff_drafts``), under a key naming the event, so a step recorded once
alerts once: never lost (no commit, no step either) and never doubled (the key is unique).
They are delivered right after the commit through the same notifiers as every alert
(``warta.alerts.AlertDesk.deliver``); one not delivered then is retried by the service
level scan (``deliver_pending``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Text, cast, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warta import workflow
from warta.alert_log import DESK_ALERT_KINDS, alert_summary
from warta.config import Step, WartaConfig
from warta.models import Alert, AlertRead, AuditEvent, Manuscript, NewsItem, Publication, StepClaim, StepRecord
from warta.workflow import Conflict, NotFound, PermissionDenied, Position

log = logging.getLogger(__name__)

HANDOFF, REJECTION = DESK_ALERT_KINDS


# ------------------------------------------------------------------ hand-off alerts
def _deliveries(config: WartaConfig, usernames: list[str]) -> list[dict[str, Any]]:
    from warta.alerts import AlertDesk

    return AlertDesk.deliveries_for(config, usernames)


def round_authors(session: Session, item_id: int, round_number: int) -> list[str]:
    """Who wrote the round's manuscript (the people a rejection goes back to)."""
    return sorted(set(session.scalars(
        select(Manuscript.author).where(Manuscript.item_id == item_id, Manuscript.round == round_number,
                                        Manuscript.kind == "naskah")
    )))


def handoff_alerts(session: Session, config: WartaConfig, item: NewsItem, step: Step, record: StepRecord,
                   position: Position, actor: str, now) -> list[Alert]:
    """The alerts of one recorded step, added to ``session`` (the step's transaction):
    "handoff" to the holders of the next human step's role, or "rejection" to the
    round's author with the reason. None when the next step is automatic or the end."""
    levels = config.service_levels
    link = levels.item_link(item.id)
    alerts: list[Alert] = []
    if record.decision == "rejected":
        recipients = round_authors(session, item.id, record.round) or [item.created_by]
        next_step = config.step(position.step_id)
        subject = f"[Warta] Ditolak: berita #{item.id} {item.title}"
        message = "\n".join([
            f"Naskah Anda dikembalikan untuk diperbaiki (Revisi ke-{position.round}).",
            "",
            f"Alasan: {record.reason}",
            f"Oleh: {config.full_name(actor)}",
            f"Berita: #{item.id} \"{item.title}\"",
            f"Menunggu Anda: langkah {next_step.number}. {next_step.name_id}",
            "",
            f"Buka di desk: {link}",
        ])
        alerts.append(Alert(
            dedupe_key=f"{REJECTION}:{item.id}:{record.round}", kind=REJECTION, item_id=item.id,
            round=position.round, step_id=position.step_id, recipients=recipients,
            deliveries=_deliveries(config, recipients), subject=subject[:300], message=message, link=link,
            waiting_since=now, created_at=now, attempts=0,
        ))
    elif position.step_id != workflow.DONE:
        next_step = config.step(position.step_id)
        if not next_step.is_human:
            return alerts
        # The one who just handed over holds the next role too (an admin): no note to self.
        recipients = [u for u in config.holders_of(next_step.role) if u != actor]
        if not recipients:
            return alerts
        role = config.roles[next_step.role]
        subject = f"[Warta] Menunggu Anda: langkah {next_step.number} ({next_step.name_id}) berita #{item.id}"
        message = "\n".join([
            f"Menunggu Anda ({role.name_id}): langkah {next_step.number}. {next_step.name_id}.",
            "",
            f"Berita: #{item.id} \"{item.title}\"" + (f" (Revisi ke-{position.round})" if position.round > 1 else ""),
            f"Langkah sebelumnya: {step.number}. {step.name_id}, oleh {config.full_name(actor)}",
            "",
            f"Buka di desk: {link}",
        ])
        alerts.append(Alert(
            dedupe_key=f"{HANDOFF}:{item.id}:{position.round}:{next_step.id}", kind=HANDOFF, item_id=item.id,
            round=position.round, step_id=next_step.id, recipients=recipients,
            deliveries=_deliveries(config, recipients), subject=subject[:300], message=message, link=link,
            waiting_since=now, created_at=now, attempts=0,
        ))
    for alert in alerts:
        session.add(alert)
    return alerts


def deliver_in_background(service, alert_ids: list[int]) -> threading.Thread | None:
    """Send the alerts now without holding the request (a slow mail server must not slow
    the desk); what fails stays undelivered for the service-level scan to retry."""
    if not alert_ids:
        return None

    def send() -> None:
        try:
            from warta.alerts import AlertDesk, default_sender

            desk = AlertDesk(service, default_sender(service.config))
            for alert_id in alert_ids:
                desk.deliver(alert_id)
        except Exception:  # the step is recorded; the scan retries the delivery
            log.exception("hand-off alerts %s not delivered now", alert_ids)

    thread = threading.Thread(target=send, name="warta-handoff-alerts", daemon=True)
    thread.start()
    _pending.append(thread)
    return thread


_pending: list[threading.Thread] = []


def wait_for_deliveries(timeout: float = 30.0) -> None:
    """Let background deliveries finish (a CLI command before it exits)."""
    while _pending:
        _pending.pop().join(timeout)


# ------------------------------------------------------------------ step claims
def _waiting_step(service, session: Session, item_id: int, step_id: str, actor: str) -> tuple[NewsItem, Step]:
    item = service._item(session, item_id)
    try:
        step = service.config.step(step_id)
    except KeyError:
        raise NotFound(f"there is no step {step_id!r}", field="step") from None
    if not step.is_human or item.current_step != step.id:
        raise Conflict(f"item {item_id} does not wait at step {step.number} ({step.name_id})")
    if step.role not in service.config.roles_of(actor):
        raise PermissionDenied(f"{actor} does not hold the role {step.role} of step {step.number}")
    return item, step


def claim_summary(claim: StepClaim | None, config: WartaConfig) -> dict[str, Any] | None:
    if claim is None:
        return None
    return {"item_id": claim.item_id, "round": claim.round, "step": claim.step_id, "username": claim.username,
            "full_name": config.full_name(claim.username), "claimed_at": claim.claimed_at.isoformat()}


def claim_step(service, item_id: int, step_id: str, actor: str) -> dict[str, Any]:
    """"Saya kerjakan": ``actor`` takes the step the item waits at. Claiming one's own
    claim again is fine; a step someone else holds answers Conflict (409)."""
    with service.sessions() as session:
        item, step = _waiting_step(service, session, item_id, step_id, actor)
        existing = session.scalars(select(StepClaim).where(
            StepClaim.item_id == item.id, StepClaim.round == item.round, StepClaim.step_id == step.id)).one_or_none()
        if existing is not None:
            if existing.username == actor:
                return claim_summary(existing, service.config)
            raise Conflict(f"step {step.number} of item {item_id} is taken by "
                           f"{service.config.full_name(existing.username)}")
        claim = StepClaim(item_id=item.id, round=item.round, step_id=step.id, username=actor,
                          claimed_at=service.clock())
        session.add(claim)
        session.add(AuditEvent(item_id=item.id, at=service.clock(), actor=actor, action="step_claimed",
                               details={"step": step.id, "round": item.round}))
        try:
            session.commit()
        except IntegrityError:  # taken at the same moment by someone else
            session.rollback()
            holder = session.scalar(select(StepClaim.username).where(
                StepClaim.item_id == item_id, StepClaim.step_id == step.id)) or "?"
            raise Conflict(f"step {step.number} of item {item_id} is taken by "
                           f"{service.config.full_name(holder)}") from None
        return claim_summary(claim, service.config)


def release_step(service, item_id: int, step_id: str, actor: str) -> dict[str, Any]:
    """"Lepaskan": give the step back to the role's queue. Only its holder (or an admin)
    releases it; releasing a step nobody holds changes nothing."""
    with service.sessions() as session:
        item, step = _waiting_step(service, session, item_id, step_id, actor)
        claim = session.scalars(select(StepClaim).where(
            StepClaim.item_id == item.id, StepClaim.round == item.round, StepClaim.step_id == step.id)).one_or_none()
        if claim is None:
            return {"released": False, "item_id": item_id, "step": step.id}
        if claim.username != actor and actor not in service.config.logins.admins:
            raise Conflict(f"step {step.number} of item {item_id} is taken by "
                           f"{service.config.full_name(claim.username)}; only they can release it")
        session.delete(claim)
        session.add(AuditEvent(item_id=item.id, at=service.clock(), actor=actor, action="step_released",
                               details={"step": step.id, "round": item.round, "holder": claim.username}))
        session.commit()
        return {"released": True, "item_id": item_id, "step": step.id}


def end_claims(session: Session, item_id: int, round_number: int, step_id: str) -> None:
    """A recorded step is nobody's to hold any more."""
    session.execute(delete(StepClaim).where(StepClaim.item_id == item_id, StepClaim.round == round_number,
                                            StepClaim.step_id == step_id))


def current_claim(service, item_id: int) -> dict[str, Any] | None:
    with service.sessions() as session:
        item = service._item(session, item_id)
        claim = session.scalars(select(StepClaim).where(
            StepClaim.item_id == item.id, StepClaim.round == item.round,
            StepClaim.step_id == item.current_step)).one_or_none()
        return claim_summary(claim, service.config)


# ------------------------------------------------------------------ the inbox: mine and the team's
def split_inbox(service, rows: list[dict[str, Any]], username: str) -> dict[str, list[dict[str, Any]]]:
    """``waiting_for`` rows as "Tugas saya" (claimed by me, or returned to me as the
    author) and "Tim" (my roles' queue); each row gets ``claimed_by``, ``returned`` and the
    rejection ``reason``. Returned items come first in both, then oldest first."""
    if not rows:
        return {"mine": [], "team": []}
    ids = [row["id"] for row in rows]
    with service.sessions() as session:
        claims = {(c.item_id, c.round, c.step_id): c for c in session.scalars(
            select(StepClaim).where(StepClaim.item_id.in_(ids)))}
        rejections: dict[int, StepRecord] = {}
        for record in session.scalars(select(StepRecord).where(
                StepRecord.item_id.in_(ids), StepRecord.decision == "rejected").order_by(StepRecord.id)):
            rejections[record.item_id] = record
        authors: dict[tuple[int, int], set[str]] = {}
        for item_id, round_number, author in session.execute(select(
                Manuscript.item_id, Manuscript.round, Manuscript.author).where(
                Manuscript.item_id.in_(ids), Manuscript.kind == "naskah")):
            authors.setdefault((item_id, round_number), set()).add(author)
    mine, team = [], []
    for row in rows:
        claim = claims.get((row["id"], row["round"], row["current_step"]))
        step = service.config.step(row["current_step"])
        rejection = rejections.get(row["id"])
        returned = bool(rejection and step.kind == "manuscript" and rejection.round == row["round"] - 1)
        returned_to_me = returned and username in authors.get((row["id"], rejection.round), {row["created_by"]})
        row = row | {
            "claimed_by": claim.username if claim else None,
            "claimed_by_name": service.config.full_name(claim.username) if claim else None,
            "returned": returned,
            "rejection_reason": rejection.reason if returned else None,
            "rejected_by": service.config.full_name(rejection.actor) if returned else None,
        }
        (mine if (claim and claim.username == username) or (returned_to_me and not claim) else team).append(row)
    for group in (mine, team):
        group.sort(key=lambda r: not r["returned"])  # stable: oldest first within each
    return {"mine": mine, "team": team}


# ------------------------------------------------------------------ the desk's alerts
def _to(username: str):
    """Alerts whose recipients (a JSON list of names) hold ``username``: a text match on
    the list as stored (``["a", "b"]``), the same on SQLite and PostgreSQL."""
    escaped = username.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Alert.recipients, Text).like(f'%"{escaped}"%', escape="\\")


def _reason_of(alert: Alert) -> str | None:
    """A rejection's reason, as its message carries it (the desk shows it on the card)."""
    if alert.kind != REJECTION:
        return None
    line = next((line for line in alert.message.splitlines() if line.startswith("Alasan: ")), None)
    return line[len("Alasan: "):] if line else None


def unread_count(service, username: str) -> int:
    with service.sessions() as session:
        read = select(AlertRead.alert_id).where(AlertRead.username == username)
        return session.scalar(select(func.count()).select_from(Alert).where(
            _to(username), Alert.id.not_in(read))) or 0


def user_alerts(service, username: str, *, unread_only: bool = False, limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    """The alerts that reached ``username``, newest first, each with whether they read it."""
    with service.sessions() as session:
        read_ids = set(session.scalars(select(AlertRead.alert_id).where(AlertRead.username == username)))
        conditions = [_to(username)]
        if unread_only and read_ids:
            conditions.append(Alert.id.not_in(read_ids))
        total = session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
        rows = session.scalars(select(Alert).where(*conditions).order_by(Alert.id.desc())
                               .limit(limit).offset(offset)).all()
        titles = {item_id: title for item_id, title in session.execute(select(NewsItem.id, NewsItem.title).where(
            NewsItem.id.in_({a.item_id for a in rows if a.item_id})))} if rows else {}
        alerts = [alert_summary(a) | {
            "item_id": a.item_id, "item_title": titles.get(a.item_id), "message": a.message, "link": a.link,
            "publishing_channel": a.publishing_channel, "read": a.id in read_ids,
            "reason": _reason_of(a),
        } for a in rows]
    return {"total": total, "unread": unread_count(service, username), "limit": limit, "offset": offset,
            "alerts": alerts}


def mark_read(service, username: str, alert_ids: list[int] | None = None) -> dict[str, Any]:
    """Mark alerts read for ``username`` (``None``: every alert that reached them).
    Idempotent; an alert that did not reach them is NotFound."""
    now = service.clock()
    with service.sessions() as session:
        query = select(Alert.id).where(_to(username))
        if alert_ids is not None:
            query = query.where(Alert.id.in_(alert_ids))
        mine = set(session.scalars(query))
        if alert_ids is not None and set(alert_ids) - mine:
            raise NotFound(f"no alert {sorted(set(alert_ids) - mine)[0]} for {username}")
        already = set(session.scalars(select(AlertRead.alert_id).where(
            AlertRead.username == username, AlertRead.alert_id.in_(mine)))) if mine else set()
        for alert_id in sorted(mine - already):
            session.add(AlertRead(alert_id=alert_id, username=username, read_at=now))
        try:
            session.commit()
        except IntegrityError:  # the same read from another tab a moment ago
            session.rollback()
    return {"marked": len(mine - already), "unread": unread_count(service, username)}


# ------------------------------------------------------------------ failed publications
def open_failures(service, item_id: int | None = None) -> list[dict[str, Any]]:
    """Publications that failed and wait for someone ("Gagal terbit"), newest first, with
    the cause in plain words (``warta.publish_errors``)."""
    from warta.publish_errors import CAUSES, cause_of

    with service.sessions() as session:
        query = (select(Publication, NewsItem).join(NewsItem, NewsItem.id == Publication.item_id)
                 .where(Publication.status == "failed"))
        if item_id is not None:
            query = query.where(Publication.item_id == item_id)
        rows = session.execute(query.order_by(Publication.id.desc()).limit(200)).all()
        result = []
        for publication, item in rows:
            failed_at = session.scalar(select(func.max(AuditEvent.at)).where(
                AuditEvent.item_id == item.id, AuditEvent.action == "publish_failed"))
            channel = service.config.channels.get(publication.channel)
            result.append({
                "item_id": item.id, "title": item.title, "round": item.round, "channel": publication.channel,
                "channel_name_id": channel.name_id if channel else publication.channel,
                "channel_name_en": channel.name_en if channel else publication.channel,
                "error": publication.error, "cause": cause_of(publication.error),
                "cause_id": CAUSES[cause_of(publication.error)][0], "cause_en": CAUSES[cause_of(publication.error)][1],
                "attempts": publication.attempts, "failed_at": failed_at.isoformat() if failed_at else None,
            })
        return result


def failed_channels(service, item_id: int) -> list[str]:
    with service.sessions() as session:
        return list(session.scalars(select(Publication.channel).where(
            Publication.item_id == item_id, Publication.status == "failed").order_by(Publication.id)))


def retry_publication(service, item_id: int, channel: str, actor: str, clear) -> dict[str, Any]:
    """"Coba lagi": publish a failed channel again, exactly once. The publication goes
    from "failed" to "pending" in one conditional update (a second click, or a second
    operator at the same moment, finds it no longer failed: Conflict, 409), then
    ``clear(dag_id, run_id, task_id, map_index)`` clears that mapped task instance in
    Airflow. If Airflow refuses, the publication is failed again and the error raised."""
    from warta.channel_routing import publish_task_of

    config = service.config
    publish_role = config.step_of_kind("publish").role
    if publish_role not in config.roles_of(actor):
        raise PermissionDenied(f"{actor} does not hold the role {publish_role} that retries publications")
    with service.sessions() as session:
        item = service._item(session, item_id)
        publication = session.scalars(select(Publication).where(
            Publication.item_id == item_id, Publication.channel == channel)).one_or_none()
        if publication is None:
            raise NotFound(f"item {item_id} has no publication on {channel!r}", field="channel")
        task_id, map_index = publish_task_of(config, list(item.channels), channel)
        run_id, dag_id, round_number = item.run_id(), item.dag_id or config.dag_id, item.round
        taken = session.execute(
            update(Publication).where(Publication.id == publication.id, Publication.status == "failed")
            .values(status="pending").execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            session.rollback()
            raise Conflict(f"the publication of item {item_id} on {channel} is not failed (now: "
                           f"{publication.status}); a retry may be running already")
        session.add(AuditEvent(item_id=item_id, at=service.clock(), actor=actor, action="publish_retry",
                               details={"channel": channel, "round": round_number, "run_id": run_id,
                                        "task_id": task_id, "map_index": map_index}))
        session.commit()
    try:
        clear(dag_id, run_id, task_id, map_index)
    except Exception as exc:
        with service.sessions() as session:
            session.execute(update(Publication).where(
                Publication.item_id == item_id, Publication.channel == channel, Publication.status == "pending")
                .values(status="failed").execution_options(synchronize_session=False))
            session.add(AuditEvent(item_id=item_id, at=service.clock(), actor=actor, action="publish_retry_failed",
                                   details={"channel": channel, "error": str(exc)[:500]}))
            session.commit()
        raise
    return {"item_id": item_id, "channel": channel, "run_id": run_id, "task_id": task_id, "map_index": map_index,
            "retrying": True}
