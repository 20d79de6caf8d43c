"""Service-level alerts: reminders, breaches, escalations, freshness warnings and
publishing failures. Plain Python: Airflow's notifiers sit behind ``NotificationSender``
(``warta.boundary``, implemented in ``warta.airflow.notifiers``), so the scan is tested without Airflow.

Every alert is first recorded in the editorial DB under a unique ``dedupe_key`` that
names the event, then delivered. Recording the same event again (the next scan, a task
retry, a restarted scheduler, two scanners at once) finds the key taken and sends
nothing. Delivery is retried on later scans for addresses that failed, up to
``max_delivery_attempts``; a sender claims an alert before delivering it, so two
scanners never deliver the same alert at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from warta import boundary
from warta.boundary import NotificationSender
from warta.config import Step
from warta.formatting import formatter
from warta.alert_log import STEP_ALERT_KINDS
from warta.models import Alert, NewsItem, Publication, StepTiming
from warta.service_clock import WALL, StepDeadlines, clock_for, past_due

log = logging.getLogger(__name__)

FAILURE_KINDS = ("publish_failure", "check_failure")
KINDS = STEP_ALERT_KINDS + ("freshness",) + FAILURE_KINDS + ("report", "component_failure", "graph_version")
# A sender that crashed mid-delivery leaves its claim; after this long another may retry.
CLAIM_LEASE = timedelta(minutes=5)
SOP_WARNING = "Website dan sosial media perlu selalu update untuk memberikan informasi terkini."



@dataclass(frozen=True)
class Notification:
    """One message to one address on one notification channel."""

    kind: str
    channel: str  # "email" or "chat"
    address: str  # an email address, or the chat target's tag in the chat connection
    usernames: tuple[str, ...]
    subject: str
    text: str
    link: str


def default_sender(config) -> NotificationSender:
    """The platform's notifiers (Airflow's SMTP and Apprise notifiers, wired in by
    ``warta.airflow.boundary``) as configured."""
    return boundary.notification_sender(config)


# ------------------------------------------------------------------ formatting
def format_local(moment: datetime, timezone_name: str) -> str:
    """'Kamis, 26 November 2026 08.00 WIB': how people in the unit read a time."""
    return formatter("id", timezone_name).long_datetime(moment)


def format_duration(delta: timedelta) -> str:
    """Every unit down to minutes: '1 hari 2 jam 5 menit'; 'kurang dari 1 menit'."""
    return formatter("id", "UTC").duration(max(delta, timedelta(0)), parts=None)


def _message_key(message: str) -> str:
    return hashlib.sha256(message.encode("utf-8")).hexdigest()[:16]


@dataclass
class _Draft:
    """An alert before it is recorded."""

    dedupe_key: str
    kind: str
    recipients: list[str]
    subject: str
    message: str
    link: str
    item_id: int | None = None
    round: int | None = None
    step_id: str | None = None
    publishing_channel: str | None = None
    waiting_since: datetime | None = None
    due_at: datetime | None = None


class AlertDesk:
    """Raises, records and delivers alerts for one editorial DB and configuration."""

    def __init__(self, service, sender: NotificationSender):
        self.service = service
        self.config = service.config
        self.levels = service.config.service_levels
        self.sender = sender
        self.clock = clock_for(service.config)

    # ------------------------------------------------------------ recording
    def _deliveries(self, usernames: list[str]) -> list[dict[str, Any]]:
        return self.deliveries_for(self.config, usernames)

    @staticmethod
    def deliveries_for(config, usernames: list[str]) -> list[dict[str, Any]]:
        """One delivery per distinct address: two users sharing a group chat get one message."""
        by_address: dict[tuple[str, str], dict[str, Any]] = {}
        skipped = []
        for username in usernames:
            user = config.users.get(username)
            if user is None or user.notify == "none":
                skipped.append({"usernames": [username], "channel": "none", "address": "", "status": "skipped",
                                "error": "no notification channel configured in users.yaml"})
                continue
            address = user.email if user.notify == "email" else user.chat_tag
            entry = by_address.setdefault(
                (user.notify, address),
                {"usernames": [], "channel": user.notify, "address": address, "status": "pending", "error": ""},
            )
            entry["usernames"].append(username)
        return list(by_address.values()) + skipped

    def _record(self, draft: _Draft) -> int | None:
        """Record the alert; None when this event was already recorded (by anyone)."""
        with self.service.sessions() as session:
            if session.scalar(select(Alert.id).where(Alert.dedupe_key == draft.dedupe_key)) is not None:
                return None
            alert = Alert(
                dedupe_key=draft.dedupe_key, kind=draft.kind, item_id=draft.item_id, round=draft.round,
                step_id=draft.step_id, publishing_channel=draft.publishing_channel,
                recipients=sorted(set(draft.recipients)), deliveries=self._deliveries(sorted(set(draft.recipients))),
                subject=draft.subject[:300], message=draft.message, link=draft.link[:1000],
                waiting_since=draft.waiting_since, due_at=draft.due_at, created_at=self.service.clock(),
                attempts=0,
            )
            session.add(alert)
            try:
                session.commit()
            except IntegrityError:  # another scanner recorded the same event a moment ago
                session.rollback()
                return None
            log.info("alert %s recorded for %s: %s", draft.dedupe_key, ", ".join(alert.recipients) or "-",
                     draft.subject)
            return alert.id

    # ------------------------------------------------------------ delivering
    def deliver(self, alert_id: int) -> bool:
        """Send the alert's undelivered messages; True when it is fully delivered now."""
        now = self.service.clock()
        with self.service.sessions() as session:
            claimed = session.execute(
                update(Alert)
                .where(
                    Alert.id == alert_id,
                    Alert.sent_at.is_(None),
                    Alert.attempts < self.levels.max_delivery_attempts,
                    or_(Alert.last_attempt_at.is_(None), Alert.last_attempt_at < now - CLAIM_LEASE),
                )
                .values(attempts=Alert.attempts + 1, last_attempt_at=now)
            ).rowcount
            session.commit()
            if not claimed:
                return False
            alert = session.get(Alert, alert_id)
            deliveries = [dict(d) for d in alert.deliveries]
            kind, subject, message, link = alert.kind, alert.subject, alert.message, alert.link
        for delivery in deliveries:
            if delivery["status"] not in ("pending", "failed"):
                continue
            notification = Notification(
                kind=kind, channel=delivery["channel"], address=delivery["address"],
                usernames=tuple(delivery["usernames"]), subject=subject, text=message, link=link,
            )
            try:
                self.sender.send(notification)
            except Exception as exc:  # any notifier failure is kept and retried, never raised
                delivery.update(status="failed", error=str(exc)[:500] or type(exc).__name__)
                log.warning("alert %s to %s <%s> not delivered: %s", alert_id, delivery["channel"],
                            delivery["address"], exc)
            else:
                delivery.update(status="sent", error="", sent_at=self.service.clock().isoformat())
        with self.service.sessions() as session:
            alert = session.get(Alert, alert_id)
            alert.deliveries = deliveries
            done = all(d["status"] in ("sent", "skipped") for d in deliveries)
            if done:
                alert.sent_at = self.service.clock()
            session.commit()
        return done

    def deliver_pending(self) -> int:
        """Retry alerts that are not fully delivered (a failed address, a crashed sender)."""
        now = self.service.clock()
        with self.service.sessions() as session:
            ids = session.scalars(
                select(Alert.id).where(
                    Alert.sent_at.is_(None),
                    Alert.attempts < self.levels.max_delivery_attempts,
                    or_(Alert.last_attempt_at.is_(None), Alert.last_attempt_at < now - CLAIM_LEASE),
                ).order_by(Alert.id)
            ).all()
        return sum(self.deliver(alert_id) for alert_id in ids)

    def _raise(self, drafts: list[_Draft]) -> list[int | None]:
        """Record each draft, then deliver the new ones; the ids line up with the drafts
        (None where the event was already recorded)."""
        ids = [self._record(draft) for draft in drafts]
        for alert_id in ids:
            if alert_id is not None:
                self.deliver(alert_id)
        return ids

    # ------------------------------------------------------------ SOP steps
    def _step_drafts(self, item: NewsItem, timing: StepTiming, step: Step, deadlines: StepDeadlines,
                     kinds: list[str]) -> list[_Draft]:
        config, tz = self.config, self.config.timezone
        role = config.roles[step.role]
        holders = config.holders_of(step.role)
        link = self.levels.item_link(item.id)
        now = self.service.clock()
        clock_label = "jam kerja" if step.clock != WALL else "waktu berjalan"
        drafts = []
        for kind in kinds:
            if kind == "reminder":
                recipients = holders
                subject = f"[Warta] Pengingat: langkah {step.number} berita #{item.id} jatuh tempo " \
                          f"{format_local(deadlines.due_at, tz)}"
                intro = (f"Pengingat: langkah ini jatuh tempo dalam "
                         f"{format_duration(deadlines.due_at - now)}.")
            elif kind == "breach":
                recipients = holders
                subject = f"[Warta] Terlambat: langkah {step.number} ({step.name_id}) berita #{item.id}"
                intro = "Langkah ini melewati batas waktu SOP (mutu baku)."
            else:
                escalation_role = self.levels.escalation_role
                recipients = config.holders_of(escalation_role)
                deputies = list(self.levels.deputies) if step.role == escalation_role else []
                recipients = recipients + deputies
                subject = f"[Warta] Eskalasi: langkah {step.number} ({step.name_id}) berita #{item.id} terlambat"
                intro = (f"Eskalasi kepada {config.roles[escalation_role].name_id}"
                         + (" dan Plt/Plh" if deputies else "")
                         + ": langkah ini masih terlambat "
                         f"{format_duration(now - deadlines.due_at)} setelah batas waktunya.")
            lines = [
                intro,
                "",
                f"Berita: #{item.id} \"{item.title}\" (putaran {timing.round})",
                f"Langkah: {step.number}. {step.name_id}",
                f"Menunggu: {role.name_id} ({', '.join(holders) or 'belum ada pemegang peran'})",
                f"Sejak: {format_local(timing.started_at, tz)}",
                f"Batas waktu: {format_local(deadlines.due_at, tz)} "
                f"(mutu baku {format_duration(step.standard_time)}, {clock_label})",
            ]
            if kind != "reminder":
                lines.append(f"Terlambat: {format_duration(now - deadlines.due_at)}")
            lines += ["", f"Buka di desk: {link}"]
            drafts.append(_Draft(
                dedupe_key=f"{kind}:{item.id}:{timing.round}:{step.id}", kind=kind, recipients=recipients,
                subject=subject, message="\n".join(lines), link=link, item_id=item.id, round=timing.round,
                step_id=step.id, waiting_since=timing.started_at, due_at=deadlines.due_at,
            ))
        return drafts

    def scan_steps(self) -> dict[str, int]:
        """Raise the reminders, breaches and escalations that are due for every open step.

        Only open step timings of the step an item waits at are scanned, so alerts stop
        the moment a step is recorded."""
        now = self.service.clock()
        with self.service.sessions() as session:
            rows = session.execute(
                select(NewsItem, StepTiming)
                .join(StepTiming, StepTiming.item_id == NewsItem.id)
                .where(StepTiming.ended_at.is_(None), StepTiming.step_id == NewsItem.current_step)
                .order_by(StepTiming.started_at)
            ).all()
            item_ids = list({item.id for item, _ in rows})
            known = set()
            for start in range(0, len(item_ids), 500):
                known.update(session.scalars(
                    select(Alert.dedupe_key).where(
                        Alert.item_id.in_(item_ids[start:start + 500]), Alert.kind.in_(STEP_ALERT_KINDS)
                    )
                ))
        drafts = []
        for item, timing in rows:
            try:
                step = self.config.step(timing.step_id)
            except KeyError:  # a step removed from the SOP since
                continue
            deadlines = self.clock.deadlines(step, timing.started_at, self.levels)
            kinds = []
            if past_due(deadlines.due_at, now):
                kinds.append("breach")
                if now >= deadlines.escalate_at:
                    kinds.append("escalation")
            elif deadlines.reminder_at is not None and now >= deadlines.reminder_at:
                kinds.append("reminder")
            kinds = [k for k in kinds if f"{k}:{item.id}:{timing.round}:{step.id}" not in known]
            if kinds:
                drafts += self._step_drafts(item, timing, step, deadlines, kinds)
        counts = {kind: 0 for kind in STEP_ALERT_KINDS}
        for draft, alert_id in zip(drafts, self._raise(drafts)):
            if alert_id is not None:
                counts[draft.kind] += 1
        return counts | {"open_steps": len(rows), "redelivered": self.deliver_pending()}

    # ------------------------------------------------------------ freshness
    def check_freshness(self) -> dict[str, Any]:
        """Warn the freshness role about every watched channel with no publication for
        ``freshness_days`` (a channel option ``freshness_days`` overrides; 0 = never).

        Watched: the default channels (the website) always, other configured channels
        once they have published anything (a channel set up ahead of its first post
        is not nagged about). A channel never published to counts from the first item."""
        now = self.service.clock()
        tz = self.config.timezone
        with self.service.sessions() as session:
            last_published = dict(session.execute(
                select(Publication.channel, func.max(Publication.published_at))
                .where(Publication.status == "published")
                .group_by(Publication.channel)
            ).all())
            first_item_at = session.scalar(select(func.min(NewsItem.created_at)))
            last_urls = {}
            for channel_id, published_at in last_published.items():
                last_urls[channel_id] = session.scalar(
                    select(Publication.url).where(Publication.channel == channel_id,
                                                  Publication.published_at == published_at).limit(1)
                )
        if first_item_at is not None and first_item_at.tzinfo is None:
            first_item_at = first_item_at.replace(tzinfo=timezone.utc)
        recipients = self.config.holders_of(self.levels.freshness_role)
        drafts, stale = [], []
        for channel in self.config.channels.values():
            days = channel.options.freshness_days if channel.options.freshness_days is not None else self.levels.freshness_days
            last = last_published.get(channel.id)
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=timezone.utc)
            if days <= 0 or (last is None and not channel.default):
                continue
            reference = last or first_item_at
            if reference is None:
                continue
            age = now - reference
            limit = timedelta(days=days)
            if age < limit:
                continue
            stale.append(channel.id)
            # One warning per stale stretch of `days`: again after another `days` without news.
            periods = int(age / limit)
            since = format_local(reference, tz)
            what = f"publikasi terakhir {since}" if last else f"belum pernah ada publikasi (dihitung sejak {since})"
            lines = [
                f"Kanal {channel.name_id} tidak memuat publikasi baru selama {format_duration(age)}: {what}.",
                f"Batas: {days} hari. Peringatan SOP: \"{SOP_WARNING}\"",
                "",
                f"Menunggu: {self.config.roles[self.levels.freshness_role].name_id} ({', '.join(recipients) or '-'})",
            ]
            if last_urls.get(channel.id):
                lines.append(f"Publikasi terakhir: {last_urls[channel.id]}")
            lines += ["", f"Buka di desk: {self.levels.desk_link}"]
            drafts.append(_Draft(
                dedupe_key=f"freshness:{channel.id}:{reference.astimezone(timezone.utc).isoformat()}:{periods}",
                kind="freshness", recipients=recipients,
                subject=f"[Warta] {channel.name_id} belum diperbarui {age.days} hari",
                message="\n".join(lines), link=self.levels.desk_link, publishing_channel=channel.id,
                waiting_since=reference,
            ))
        new_ids = [alert_id for alert_id in self._raise(drafts) if alert_id is not None]
        return {"stale_channels": stale, "alerts": len(new_ids)}

    # ------------------------------------------------------------ Graph API version
    def check_graph_versions(self, versions_in_use: dict[str, str], today: date | None = None) -> dict[str, Any]:
        """Warn the Operator (the freshness role) before the Graph API version a channel
        calls expires: once per version and lead time of channels.yaml ``graph_api
        warn_before``, once when it has expired, once when its expiry is not configured.
        ``versions_in_use`` maps channel ids to the version their Connection calls."""
        graph = self.config.graph_api
        today = today or self.service.clock().astimezone(ZoneInfo(self.config.timezone)).date()
        recipients = self.config.holders_of(self.levels.freshness_role)
        drafts = []
        by_version: dict[str, list[str]] = {}
        for channel_id, version in sorted(versions_in_use.items()):
            by_version.setdefault(version, []).append(channel_id)
        for version, channel_ids in sorted(by_version.items()):
            names = ", ".join(self.config.channels[c].name_id for c in channel_ids if c in self.config.channels)
            until = graph.expires.get(version)
            fix = (f"Perbarui extra \"api_version\" di Connection kanal ({names}) ke {graph.default_version} "
                   "atau versi lain yang masih berlaku, atau hapus agar memakai bawaan; periksa changelog Meta "
                   "(developers.facebook.com/docs/graph-api/changelog).")
            if until is None:
                key, subject = f"graph_version:{version}:unknown", \
                    f"[Warta] Versi Graph API {version} tidak dikenal: tanggal berakhirnya tidak tercatat"
                intro = (f"Kanal {names} memanggil Graph API {version}, yang tidak tercatat di channels.yaml "
                         "graph_api.expires; Warta tidak dapat memperingatkan sebelum versi ini berakhir.")
            else:
                left = (until - today).days
                if left < 0:
                    key = f"graph_version:{version}:expired"
                    subject = f"[Warta] Graph API {version} sudah berakhir ({until.isoformat()})"
                    intro = (f"Meta tidak lagi melayani Graph API {version} sejak {until.isoformat()}: panggilan "
                             "dialihkan ke versi tertua yang masih berlaku dan dapat berperilaku lain atau gagal.")
                else:
                    due = [t for t in graph.warn_before if left <= t.days]
                    if not due:
                        continue
                    threshold = min(due)  # the nearest lead time reached: one alert per threshold
                    key = f"graph_version:{version}:{threshold.days}d"
                    subject = f"[Warta] Graph API {version} berakhir dalam {left} hari ({until.isoformat()})"
                    intro = (f"Kanal {names} memanggil Graph API {version}, yang berakhir pada "
                             f"{until.isoformat()} ({left} hari lagi). Setelah itu publikasi Facebook/Instagram "
                             "dapat gagal.")
            lines = [intro, "", fix, "",
                     f"Menunggu: {self.config.roles[self.levels.freshness_role].name_id} ({', '.join(recipients) or '-'})"]
            drafts.append(_Draft(dedupe_key=key, kind="graph_version", recipients=recipients, subject=subject,
                                 message="\n".join(lines), link=self.levels.desk_link,
                                 publishing_channel=channel_ids[0]))
        new_ids = [alert_id for alert_id in self._raise(drafts) if alert_id is not None]
        return {"versions": {v: c for v, c in sorted(by_version.items())}, "alerts": len(new_ids)}

    # ------------------------------------------------------------ failures
    def publishing_failure(self, item_id: int, message: str, kind: str | None = None) -> int | None:
        """Alert the Operator about a failed publication or online check of an item.

        The kind follows the step the item waits at (the online check or publishing). The
        same failure of the same round is alerted once, however often the task retries."""
        config = self.config
        with self.service.sessions() as session:
            item = session.get(NewsItem, item_id)
            current_step = item.current_step if item else None
            round_number = item.round if item else None
            title = item.title if item else ""
        if kind is None:
            check_step = config.step_of_kind("online_check")
            kind = "check_failure" if current_step == check_step.id else "publish_failure"
        channel = next((c.id for c in config.channels.values() if message.startswith(f"{c.name_id}:")), None)
        publish_step = config.step_of_kind("publish")
        recipients = config.holders_of(publish_step.role)
        link = self.levels.item_link(item_id)
        label = "Pengecekan online gagal" if kind == "check_failure" else "Publikasi gagal"
        lines = [
            f"{label}: {message}",
            "",
            f"Berita: #{item_id} \"{title}\"" + (f" (putaran {round_number})" if round_number else ""),
            f"Menunggu: {config.roles[publish_step.role].name_id} ({', '.join(recipients) or '-'}) "
            "untuk memperbaiki lalu menjalankan ulang task-nya",
            f"Sejak: {format_local(self.service.clock(), config.timezone)}",
            "",
            f"Buka di desk: {link}",
        ]
        [alert_id] = self._raise([_Draft(
            dedupe_key=f"{kind}:{item_id}:{round_number}:{_message_key(message)}", kind=kind,
            recipients=recipients, subject=f"[Warta] {label}: berita #{item_id} {title}"[:300],
            # An item id the DB does not know would break the foreign key; keep it in the text only.
            message="\n".join(lines), link=link, item_id=item_id if current_step is not None else None,
            round=round_number, step_id=current_step, publishing_channel=channel,
        )])
        return alert_id

    def component_failure(self, component: str, reason: str, restarts: int) -> int | None:
        """Alert the admins that a supervised component keeps dying (``reason`` "repeated")
        or could not be started at all ("fatal"). One alert per component and reason per
        hour, however often it dies."""
        now = self.service.clock()
        label = ("gagal dijalankan dan dicoba lagi tiap menit" if reason == "fatal"
                 else "berulang kali mati dan dijalankan ulang")
        lines = [
            f"Komponen Warta \"{component}\" {label}.",
            f"Jumlah restart sejauh ini: {restarts}.",
            f"Sejak: {format_local(now, self.config.timezone)}",
            "",
            "Periksa `warta status` dan log komponen di server (folder logs-stack).",
        ]
        [alert_id] = self._raise([_Draft(
            dedupe_key=f"component_failure:{component}:{reason}:{now:%Y-%m-%dT%H}", kind="component_failure",
            recipients=list(self.config.logins.admins), subject=f"[Warta] Komponen {component} {label}"[:300],
            message="\n".join(lines), link=self.levels.desk_link,
        )])
        return alert_id

    def report_ready(self, month: str, lang: str, files: dict[str, str], fingerprint: str,
                     recipients: tuple[str, ...]) -> int | None:
        """Send the monthly report's download links to its readers. A retried task or a
        rebuild with the same content sends nothing new (``fingerprint`` is the content's)."""
        base = f"{self.levels.desk_base_url.rstrip('/')}/warta/api/v1/reports/{month}"
        suffix = "?lang=en" if lang == "en" else ""
        links = {fmt: f"{base}/{fmt}{suffix}" for fmt in sorted(files)}
        lines = [
            f"Laporan bulanan updating website dan media sosial bulan {month} sudah tersusun.",
            "",
            *(f"{fmt.upper()}: {link}" for fmt, link in links.items()),
            "",
            f"SOP {self.config.sop.get('number', '')} · {self.config.sop.get('unit', '')}",
        ]
        [alert_id] = self._raise([_Draft(
            dedupe_key=f"report:{month}:{lang}:{fingerprint}", kind="report", recipients=list(recipients),
            subject=f"[Warta] Laporan bulanan {month}", message="\n".join(lines),
            link=links.get("pdf") or next(iter(links.values()), self.levels.desk_link),
        )])
        return alert_id
