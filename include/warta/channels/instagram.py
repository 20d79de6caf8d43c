"""The Instagram channel (Graph API content publishing, Instagram professional account).

Instagram takes photos only by public URL, so the photos (converted to JPEG within its
aspect ratios) are first put in the media library of the WordPress site named by the
channel's ``image_host_conn_id`` (once: found again by slug on a retry). Then:

1. ``GET /{ig-user-id}/content_publishing_limit``: refuse early when the 24-hour limit is used up
2. one photo: ``POST /{ig-user-id}/media`` (``image_url``, ``caption``); several: one
   ``is_carousel_item`` container per photo, then ``media_type=CAROUSEL`` with ``children``
3. ``GET /{container-id}?fields=status_code`` until ``FINISHED`` (within the step's budget)
4. ``POST /{ig-user-id}/media_publish`` with ``creation_id``

Exactly once: the container id is recorded before it is published, the media id after.
A later attempt reads the recorded media; or checks the container: ``FINISHED`` is
published (not created again), ``PUBLISHED`` means the media exists and is found in the
account's media by the caption's fingerprint; ``ERROR``/``EXPIRED`` start a new container.
"""

from __future__ import annotations

import logging
from typing import Any

from warta.channels.base import ChannelError, CheckResult, PostContent, PublishAttempt, RemotePost
from warta.channels.facebook import LOOKUP_SLACK_SECONDS, graph_check
from warta.channels.graph import GraphApi, GraphObjectMissing, epoch_now, fingerprint
from warta.config import Channel
from warta.channels.social import adapt, rules_for

log = logging.getLogger(__name__)

MEDIA_FIELDS = "id,caption,permalink,media_type,media_url,timestamp"
CONTAINER_RESTARTS = 2
# The first look again at a container still being processed (then doubling up to the
# channel's status_poll_seconds).
FIRST_STATUS_POLL_SECONDS = 1.0


class InstagramPublisher:
    def __init__(self, channel: Channel, api: GraphApi | None = None, image_host=None):
        self.channel = channel
        self.api = api or GraphApi(channel)
        self.rules = rules_for(channel)
        self._image_host = image_host
        self.poll_seconds = channel.options.status_poll_seconds

    @property
    def ig_user_id(self) -> str:
        return self.api.required_extra("ig_user_id", "the Instagram professional account's id")

    def image_host(self):
        """The WordPress site whose media library serves the photos Instagram fetches."""
        if self._image_host is None:
            conn_id = self.channel.options.image_host_conn_id
            if not conn_id:
                raise ChannelError(f"{self.channel.id}: channels.yaml sets no image_host_conn_id (Instagram takes "
                                   "photos only from a public address)", retryable=False)
            from warta.channels.wordpress import WordPressPublisher

            self._image_host = WordPressPublisher(Channel(
                id=f"{self.channel.id}-images", name_id=self.channel.name_id, name_en=self.channel.name_en,
                kind="wordpress", conn_id=conn_id))
        return self._image_host

    # ------------------------------------------------------------ the protocol
    def find_existing(self, marker: str, attempt: PublishAttempt | None = None) -> RemotePost | None:
        self.api.verify_credentials(self.ig_user_id, "the Instagram account", attempt)
        details = attempt.details if attempt else {}
        if details.get("media_id"):
            try:
                return self._remote(self._read(details["media_id"]), details)
            except GraphObjectMissing:
                log.warning("%s: recorded media %s is gone", self.channel.id, details["media_id"])
                return None
        container = details.get("container_id")
        if container and self._status(container, attempt).get("status_code") == "PUBLISHED":
            found = self._find_by_fingerprint(details.get("fingerprint", ""), int(details.get("requested_at") or 0),
                                              attempt)
            if found is not None:
                if attempt is not None:
                    attempt.note(media_id=found["id"])
                return self._remote(found, details)
        return None

    def publish(self, content: PostContent, marker: str, attempt: PublishAttempt | None = None) -> RemotePost:
        attempt = attempt or PublishAttempt()
        self.api.verify_credentials(self.ig_user_id, "the Instagram account", attempt)
        post = adapt(content, self.rules)
        if not post.images:
            raise ChannelError(f"{self.channel.id}: Instagram posts need at least one photo; this item has none",
                               retryable=False)
        self._check_publishing_limit(attempt)
        for _ in range(CONTAINER_RESTARTS + 1):
            container = attempt.details.get("container_id") or self._create_container(content, post, marker, attempt)
            status = self._wait_until_ready(container, attempt)
            if status == "FINISHED":
                break
            if status == "PUBLISHED":
                found = self.find_existing(marker, attempt)
                if found is not None:
                    return found
                raise ChannelError(f"{self.channel.id}: container {container} is already published but its media "
                                   "was not found in the account; check the account before re-running",
                                   retryable=False)
            # ERROR or EXPIRED: this container can never be published; make a new one.
            attempt.note(container_id=None, children=None, discarded=[*attempt.details.get("discarded", []),
                                                                       {"id": container, "status": status}])
        else:
            raise ChannelError(f"{self.channel.id}: Instagram could not process the photos "
                               f"({attempt.details.get('discarded')})", retryable=False)
        published = self.api.graph("POST", f"{self.ig_user_id}/media_publish", "publishing the container",
                                   data={"creation_id": container}, attempt=attempt)
        attempt.note(media_id=published["id"])
        log.info("%s: published media %s", self.channel.id, published["id"])
        return self._remote(self._read(published["id"]), attempt.details)

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        return graph_check(self.channel.id, lambda: self._read(post.remote_id), post, content,
                           text_field="caption", link_field="permalink", image_field="media_url")

    # ---------------------------------------------------------------- helpers
    def _check_publishing_limit(self, attempt: PublishAttempt) -> None:
        answer = self.api.graph("GET", f"{self.ig_user_id}/content_publishing_limit", "reading the publishing limit",
                                params={"fields": "quota_usage,config"}, attempt=attempt)
        [usage] = answer.get("data") or [{}]
        used = int(usage.get("quota_usage") or 0)
        config = usage.get("config") or {}
        total = int(config.get("quota_total") or 0)
        attempt.note(quota={"used": used, "total": total})
        if total and used >= total:
            hours = int(config.get("quota_duration") or 86400) // 3600
            raise ChannelError(
                f"{self.channel.id}: the account has published {used} of its {total} API posts allowed in "
                f"{hours} hours; re-run this task when the oldest of them is {hours} hours old", retryable=False)

    def _create_container(self, content: PostContent, post, marker: str, attempt: PublishAttempt) -> str:
        urls = self.image_host().host_media(post.images, f"{marker}-ig", alt_text=content.title)
        attempt.note(image_urls=urls, fingerprint=fingerprint(post.text), requested_at=epoch_now(), marker=marker)
        if len(urls) == 1:
            created = self.api.graph("POST", f"{self.ig_user_id}/media", "creating the photo container",
                                     data={"image_url": urls[0], "caption": post.text}, attempt=attempt)
        else:
            children = []
            for url in urls:
                child = self.api.graph("POST", f"{self.ig_user_id}/media", "creating a carousel item",
                                       data={"image_url": url, "is_carousel_item": "true"}, attempt=attempt)
                children.append(child["id"])
            attempt.note(children=children)
            for child in children:  # the carousel may only be made from finished items
                status = self._wait_until_ready(child, attempt)
                if status != "FINISHED":
                    raise ChannelError(f"{self.channel.id}: carousel item {child} is {status}", retryable=False)
            created = self.api.graph("POST", f"{self.ig_user_id}/media", "creating the carousel container",
                                     data={"media_type": "CAROUSEL", "children": ",".join(children),
                                           "caption": post.text}, attempt=attempt)
        attempt.note(container_id=created["id"])
        return created["id"]

    def _status(self, container: str, attempt: PublishAttempt | None) -> dict[str, Any]:
        return self.api.graph("GET", container, f"reading container {container}",
                              params={"fields": "status_code,status"}, attempt=attempt)

    def _wait_until_ready(self, container: str, attempt: PublishAttempt) -> str:
        """FINISHED, PUBLISHED, ERROR or EXPIRED; IN_PROGRESS past the budget fails retryably
        (the next attempt goes on with the same container)."""
        # A photo container is usually ready within a second or two: look again soon, then
        # back off to the configured interval (1, 2, 4, ... status_poll_seconds).
        pause = min(FIRST_STATUS_POLL_SECONDS, self.poll_seconds)
        while True:
            answer = self._status(container, attempt)
            status = answer.get("status_code") or "IN_PROGRESS"
            if status != "IN_PROGRESS":
                if status == "ERROR":
                    log.warning("%s: container %s: %s", self.channel.id, container, answer.get("status"))
                return status
            waited = attempt.wait(pause, f"container {container} is still being processed")
            pause = min(pause * 2, self.poll_seconds)
            if not waited:
                raise ChannelError(f"{self.channel.id}: container {container} is still being processed by "
                                   "Instagram at the end of the step's time budget", retryable=True)

    def _read(self, media_id: str) -> dict[str, Any]:
        return self.api.graph("GET", str(media_id), f"reading media {media_id}", params={"fields": MEDIA_FIELDS})

    def _find_by_fingerprint(self, wanted: str, requested_at: int, attempt) -> dict[str, Any] | None:
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": 25}
        if requested_at:
            params["since"] = requested_at - LOOKUP_SLACK_SECONDS
        answer = self.api.graph("GET", f"{self.ig_user_id}/media", "looking for the media of an earlier attempt",
                                params=params, attempt=attempt)
        for candidate in answer.get("data") or []:
            if fingerprint(candidate.get("caption") or "") == wanted:
                return candidate
        return None

    def _remote(self, media: dict[str, Any], details: dict[str, Any]) -> RemotePost:
        return RemotePost(
            remote_id=str(media["id"]),
            url=media.get("permalink") or "",
            details={**details, "media_id": str(media["id"]), "media_type": media.get("media_type"),
                     "media_url": media.get("media_url"), "timestamp": media.get("timestamp")},
        )
