"""What the pipeline's automatic steps do (SOP steps 5–7), independent of Airflow.

Each function is idempotent: run it again after a crash or a retry and it finishes the
job without doing anything twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from warta.channels.base import ChannelAuthError, ChannelError, RemotePost, publisher_for
from warta.content import build_post_content
from warta.service import EditorialService
from warta.storage import archive_prefix
from warta.workflow import Conflict

log = logging.getLogger(__name__)


class StepFailed(RuntimeError):
    """An automatic step failed; ``retryable`` tells Airflow whether to retry."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def alert_operator(service: EditorialService, item_id: int, message: str) -> None:
    """Tell the Operator something needs fixing (notifications get their own channels later)."""
    holders = service.config.holders_of(service.config.step_of_kind("publish").role)
    log.error("ALERT for %s about item %s: %s", ", ".join(holders) or "operator", item_id, message)


def _complete(service: EditorialService, item_id: int, round_number: int, step_id: str, **details) -> None:
    try:
        service.complete_automatic_step(item_id, round_number, step_id, **details)
    except IntegrityError:
        pass  # a sibling channel task recorded it at the same moment


def _content_for(service: EditorialService, item_id: int, channel_id: str):
    channel = service.config.channels[channel_id]
    manuscript = service.approved_manuscript(item_id)
    return build_post_content(
        manuscript,
        service.assets(item_id),
        service.storage,
        category=channel.options.get("category"),
        tags=tuple(channel.options.get("tags", ())),
    )


def publish(service: EditorialService, item_id: int, round_number: int, channel_id: str) -> dict:
    """SOP step 5 for one channel: exactly one post, however often this runs."""
    config = service.config
    if channel_id not in config.channels:
        raise StepFailed(f"channel {channel_id!r} is not configured", retryable=False)
    channel = config.channels[channel_id]
    publication = service.publication_intent(item_id, channel_id)
    if publication.status != "published":
        publisher = publisher_for(channel)
        try:
            # A previous attempt may have posted and died before recording it.
            post = publisher.find_existing(publication.marker)
            if post is None:
                post = publisher.publish(_content_for(service, item_id, channel_id), publication.marker)
            publication = service.publication_done(
                publication.id, remote_id=post.remote_id, url=post.url, details=post.details
            )
        except ChannelAuthError as exc:
            message = f"{channel.name_id}: {exc}"  # the publisher names the connection to fix
            service.publication_failed(publication.id, message)
            alert_operator(service, item_id, message)
            raise StepFailed(message, retryable=False) from exc
        except ChannelError as exc:
            service.publication_failed(publication.id, f"{channel.name_id}: {exc}")
            raise StepFailed(f"{channel.name_id}: {exc}", retryable=exc.retryable) from exc
    publish_step = config.step_of_kind("publish")
    published = {p.channel for p in service.publications(item_id) if p.status == "published"}
    if set(service.item_channels(item_id)) <= published:
        _complete(service, item_id, round_number, publish_step.id, channels=sorted(published))
    return {"channel": channel_id, "remote_id": publication.remote_id, "url": publication.url}


def check_online(service: EditorialService, item_id: int, round_number: int, channel_id: str) -> dict:
    """SOP step 6 for one channel: the live post is there and right; evidence is kept."""
    config = service.config
    channel = config.channels[channel_id]
    publication = next((p for p in service.publications(item_id) if p.channel == channel_id), None)
    if publication is None or publication.status != "published":
        raise StepFailed(f"{channel.name_id}: nothing published to check", retryable=False)
    publisher = publisher_for(channel)
    result = publisher.check_online(
        RemotePost(publication.remote_id, publication.url, publication.details or {}),
        _content_for(service, item_id, channel_id),
    )
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
        "files": files,
    }
    storage.put_bytes(f"{prefix}/manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    archive_step = service.config.step_of_kind("archive")
    try:
        _complete(service, item_id, round_number, archive_step.id, archive_key=prefix)
    except Conflict:
        if service.get_item(item_id)["current_step"] != "selesai":
            raise
    return {"archive": prefix, "files": len(files) + 1}
