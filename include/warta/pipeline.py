"""What the pipeline's automatic steps do (SOP steps 5–7), independent of Airflow.

Each function is idempotent: run it again after a crash or a retry and it finishes the
job without doing anything twice.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Callable

from sqlalchemy.exc import IntegrityError

from warta.channels.api import throttle_retrying
from warta.channels.base import (
    ChannelAuthError,
    ChannelError,
    CheckResult,
    PublishAttempt,
    RemotePost,
    publisher_for,
)
from warta.channel_routing import links_to
from warta.content import build_post_content
from warta.service import EditorialService
from warta.storage import archive_prefix
from warta.workflow import DONE, Conflict

log = logging.getLogger(__name__)


class StepFailed(RuntimeError):
    """An automatic step failed; ``retryable`` tells Airflow whether to retry."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class _LeaseLost(RuntimeError):
    """This attempt's lease lapsed and another attempt took the publication over."""


def alert_operator(service: EditorialService, item_id: int, message: str) -> None:
    """Tell the Operator something needs fixing, through the alert path: recorded in the
    editorial DB (once per failure and round, however often the task retries) and sent
    by the configured notifiers. Never raises: the caller's own error is what matters."""
    holders = service.config.holders_of(service.config.step_of_kind("publish").role)
    log.error("ALERT for %s about item %s: %s", ", ".join(holders) or "operator", item_id, message)
    try:
        from warta.alerts import AlertDesk, default_sender

        AlertDesk(service, default_sender(service.config)).publishing_failure(item_id, message)
    except Exception:
        log.exception("the alert about item %s could not be recorded or sent", item_id)


def _complete(service: EditorialService, item_id: int, round_number: int, step_id: str, **details) -> None:
    try:
        service.complete_automatic_step(item_id, round_number, step_id, **details)
    except IntegrityError:
        pass  # a sibling channel task recorded it at the same moment


# How long a publishing attempt's lease on the publication lasts past its latest sign of
# life (each recorded step, each wait): longer than any one remote call may take.
LEASE_SECONDS = 180.0


def _content_for(service: EditorialService, item_id: int, channel_id: str, links: dict[str, str] | None = None):
    channel = service.config.channels[channel_id]
    manuscript = service.approved_manuscript(item_id)
    wordpress = channel.options if channel.kind == "wordpress" else None
    return build_post_content(
        manuscript,
        service.assets(item_id),
        service.storage,
        category=wordpress.category if wordpress else None,
        tags=wordpress.tags if wordpress else (),
        link=_link_for(service, item_id, channel, links),
    )


def _link_for(service: EditorialService, item_id: int, channel, links: dict[str, str] | None) -> str | None:
    """The address of the item's website article, for a social post to point at.

    The DAG runs a linking channel's publishing after the website's and hands it the
    address (``links``, from XCom); nothing waits here. Without ``links`` (the online
    check, a direct call) the published address is read from the editorial DB. When the
    website failed, the social post goes out without the link: one channel failing must
    not stop the others."""
    link_from = links_to(channel, service.item_channels(item_id))
    if link_from is None:
        return None
    if links is not None:
        link = links.get(link_from)
    else:
        source = next((p for p in service.publications(item_id) if p.channel == link_from), None)
        link = source.url if source is not None and source.status == "published" else None
    if not link:
        log.warning("%s: item %s is posted without the %s link (not published)", channel.id, item_id, link_from)
    return link or None


def publish(
    service: EditorialService, item_id: int, round_number: int, channel_id: str, *,
    links: dict[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """SOP step 5 for one channel: exactly one post, however often this runs.

    ``links``: the published addresses of the channels others link to (channel → URL),
    as the DAG passes them to channels that publish after the website.

    Before any call the publication's intent (its marker) is recorded; publishers record
    their progress (ids, fingerprints) on it as they go, and every attempt first looks
    for what an earlier one did. Throttling waits as the channel says while the wait
    fits the step's standard time (sop.yaml), and otherwise fails for Airflow to retry.

    Two attempts at the same moment (a retry while the first still runs) cannot both
    post: each first takes the publication's lease in the editorial DB; the one that
    does not get it fails retryable and finds the post published when it runs again."""
    config = service.config
    if channel_id not in config.channels:
        raise StepFailed(f"channel {channel_id!r} is not configured", retryable=False)
    channel = config.channels[channel_id]
    publication = service.publication_intent(item_id, channel_id)
    owner = uuid.uuid4().hex
    if publication.status != "published" and not service.claim_publication(publication.id, owner, LEASE_SECONDS):
        publication = service.publication(publication.id)
        if publication.status != "published":
            raise StepFailed(
                f"{channel.name_id}: another attempt is publishing this item now (its lease lasts until "
                f"{publication.lease_expires_at:%H:%M:%S} UTC); this one stops without posting", retryable=True)
    if publication.status != "published":
        publication_id = publication.id
        budget = config.step_of_kind("publish").standard_time.total_seconds()
        attempt = PublishAttempt(
            publication.details or {}, deadline=clock() + budget, clock=clock, sleep=sleep,
            record=lambda details: service.publication_progress(publication_id, details),
            keep_alive=lambda seconds: _keep_lease(service, publication_id, owner, seconds),
        )
        try:
            publisher = publisher_for(channel)
            content = _content_for(service, item_id, channel_id, links)

            def find_or_publish() -> RemotePost:
                # A previous attempt may have posted and died before recording it.
                return (publisher.find_existing(publication.marker, attempt)
                        or publisher.publish(content, publication.marker, attempt))

            # A throttle the publisher did not wait out itself: look again, then post, after the wait.
            post = throttle_retrying(attempt, f"{channel.id}: publishing")(find_or_publish)
            publication = service.publication_done(
                publication_id, remote_id=post.remote_id, url=post.url, details={**attempt.details, **post.details}
            )
        except _LeaseLost:
            raise StepFailed(f"{channel.name_id}: this attempt was too slow and another one took over publishing; "
                             "it stopped before its next call", retryable=True) from None
        except ChannelAuthError as exc:
            message = f"{channel.name_id}: {exc}"  # the publisher names the connection to fix
            service.publication_failed(publication_id, message)
            alert_operator(service, item_id, message)
            raise StepFailed(message, retryable=False) from exc
        except ChannelError as exc:
            message = f"{channel.name_id}: {exc}"
            service.publication_failed(publication_id, message)
            if not exc.retryable:  # retrying will not help: someone has to act
                alert_operator(service, item_id, message)
            raise StepFailed(message, retryable=exc.retryable) from exc
        finally:
            service.release_publication(publication_id, owner)
    publish_step = config.step_of_kind("publish")
    published = {p.channel for p in service.publications(item_id) if p.status == "published"}
    if set(service.item_channels(item_id)) <= published:
        _complete(service, item_id, round_number, publish_step.id, channels=sorted(published))
    return {"channel": channel_id, "remote_id": publication.remote_id, "url": publication.url}


def _keep_lease(service: EditorialService, publication_id: int, owner: str, seconds: float) -> None:
    """Extend this attempt's lease over its next call or wait; stop it if another took over."""
    if not service.claim_publication(publication_id, owner, seconds + LEASE_SECONDS):
        raise _LeaseLost()


def check_online(service: EditorialService, item_id: int, round_number: int, channel_id: str) -> dict:
    """SOP step 6 for one channel: the live post is there and right; evidence is kept.

    The website is read as an anonymous reader would; social posts are read back through
    their API. A failed check is recorded, alerts the Operator and fails the task, which
    can be re-run after the fix."""
    config = service.config
    channel = config.channels[channel_id]
    publication = next((p for p in service.publications(item_id) if p.channel == channel_id), None)
    if publication is None or publication.status != "published":
        raise StepFailed(f"{channel.name_id}: nothing published to check", retryable=False)
    publisher = publisher_for(channel)
    try:
        result = publisher.check_online(
            RemotePost(publication.remote_id, publication.url, publication.details or {}),
            _content_for(service, item_id, channel_id),
        )
    except ChannelError as exc:
        # The channel's API did not answer as it should: that is a failed check too.
        result = CheckResult(ok=False, http_status=None,
                             evidence={"url": publication.url, "failures": [str(exc)], "error": type(exc).__name__})
    service.record_check(publication, ok=result.ok, http_status=result.http_status, evidence=result.evidence)
    if not result.ok:
        failures = "; ".join(result.evidence.get("failures", [])) or "check failed"
        message = f"{channel.name_id}: online check of {publication.url} failed: {failures}"
        alert_operator(service, item_id, message)
        raise StepFailed(message, retryable=True)
    check_step = config.step_of_kind("online_check")
    checks = service.history(item_id)["checks"]
    ok_channels = {c["channel"] for c in checks if c["ok"]}
    if set(service.item_channels(item_id)) <= ok_channels:
        _complete(service, item_id, round_number, check_step.id, channels=sorted(ok_channels))
    return {"channel": channel_id, "ok": True, "url": publication.url}


def archive(service: EditorialService, item_id: int, round_number: int) -> dict:
    """SOP step 7: manuscript, assets, links and check evidence stored together."""
    storage = service.storage
    history = service.history(item_id)
    prefix = archive_prefix(item_id)
    manuscript = service.approved_manuscript(item_id)
    storage.put_bytes(f"{prefix}/naskah.txt", f"{manuscript.title}\n\n{manuscript.body}\n".encode())
    files = [f"{prefix}/naskah.txt"]
    for asset in service.assets(item_id):
        key = f"{prefix}/assets/{asset.storage_key.rsplit('/', 1)[-1]}"
        if not storage.exists(key):
            storage.put_bytes(key, storage.get_bytes(asset.storage_key))
        files.append(key)
    manifest = {
        "item": {k: history[k] for k in ("id", "title", "service", "activity_date", "place", "channels", "created_by")},
        "approved_manuscript": {"version": manuscript.version, "title": manuscript.title, "author": manuscript.author},
        "revision_rounds": history["revision_rounds"],
        "records": history["records"],
        "timings": history["timings"],
        "publications": history["publications"],
        "checks": history["checks"],
        # One entry per channel of the item: where it was published and the last check.
        "channels": _channel_summary(history),
        "files": files,
    }
    storage.put_bytes(f"{prefix}/manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    archive_step = service.config.step_of_kind("archive")
    try:
        _complete(service, item_id, round_number, archive_step.id, archive_key=prefix)
    except Conflict:
        if service.get_item(item_id)["current_step"] != DONE:
            raise
    return {"archive": prefix, "files": len(files) + 1}


def _channel_summary(history: dict) -> list[dict]:
    """Every channel chosen for the item, with its link and latest online-check evidence."""
    publications = {p["channel"]: p for p in history["publications"]}
    summary = []
    for channel_id in history["channels"]:
        publication = publications.get(channel_id) or {}
        checks = [c for c in history["checks"] if c["channel"] == channel_id]
        latest = checks[-1] if checks else None
        summary.append({
            "channel": channel_id,
            "status": publication.get("status", "not_published"),
            "url": publication.get("url"),
            "remote_id": publication.get("remote_id"),
            "published_at": publication.get("published_at"),
            "check_ok": latest["ok"] if latest else None,
            "checked_at": latest["checked_at"] if latest else None,
            "check_evidence": latest["evidence"] if latest else None,
        })
    return summary
