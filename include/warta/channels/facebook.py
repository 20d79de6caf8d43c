"""The Facebook Page channel (Graph API): a text post with the website link, a photo post,
or a multi-photo post, published as the Page.

- no photo: ``POST /{page-id}/feed`` with ``message`` and ``link``
- one photo: ``POST /{page-id}/photos`` with the file as ``source`` and the ``message``
- several: each photo ``POST /{page-id}/photos`` with ``published=false``, then
  ``POST /{page-id}/feed`` with ``attached_media[i]={"media_fbid": id}``

Exactly once: before each call the attempt records what it is about to do (the message's
fingerprint and the time; the ids of photos already uploaded); after the post its id.
A later attempt reads the recorded post, or finds it among the Page's recent posts by
the fingerprint, before it posts anything.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from warta.channels.base import (
    ChannelDuplicate,
    ChannelError,
    CheckResult,
    PostContent,
    PublishAttempt,
    RemotePost,
    utc_timestamp,
)
from warta.channels.graph import GraphApi, GraphObjectMissing, epoch_now, fingerprint
from warta.channels.typography import comparable
from warta.config import Channel
from warta.channels.social import adapt, rules_for

log = logging.getLogger(__name__)

POST_FIELDS = "id,message,permalink_url,created_time,full_picture"
# A lost answer is looked for among posts made from this long before the attempt on.
LOOKUP_SLACK_SECONDS = 300


class FacebookPagePublisher:
    def __init__(self, channel: Channel, api: GraphApi | None = None):
        self.channel = channel
        self.api = api or GraphApi(channel)
        self.rules = rules_for(channel)

    @property
    def page_id(self) -> str:
        return self.api.required_extra("page_id", "the Facebook Page's id")

    # ------------------------------------------------------------ the protocol
    def find_existing(self, marker: str, attempt: PublishAttempt | None = None) -> RemotePost | None:
        self.api.verify_credentials(self.page_id, "the Facebook Page", attempt)
        details = attempt.details if attempt else {}
        if details.get("post_id"):
            try:
                return self._remote(self._read(details["post_id"]), details)
            except GraphObjectMissing:
                log.warning("%s: recorded post %s is gone; looking for it by content", self.channel.id,
                            details["post_id"])
        if details.get("fingerprint"):
            found = self._find_by_fingerprint(details["fingerprint"], int(details.get("requested_at") or 0), attempt)
            if found is not None:
                if attempt is not None:
                    attempt.note(post_id=found["id"])
                return self._remote(found, details)
        return None

    def publish(self, content: PostContent, marker: str, attempt: PublishAttempt | None = None) -> RemotePost:
        attempt = attempt or PublishAttempt()
        self.api.verify_credentials(self.page_id, "the Facebook Page", attempt)
        post = adapt(content, self.rules)
        message = post.text
        if post.images and content.link and self.rules.caption.link == "attach":
            message = f"{message}\n\n{content.link}"  # photo posts take no link attachment
        attempt.note(fingerprint=fingerprint(message), requested_at=epoch_now(), marker=marker)
        try:
            if not post.images:
                data: dict[str, Any] = {"message": message}
                if post.link:
                    data["link"] = post.link
                created = self.api.graph("POST", f"{self.page_id}/feed", "creating the post", data=data,
                                         attempt=attempt)
                post_id = created["id"]
            elif len(post.images) == 1:
                image = post.images[0]
                created = self.api.graph(
                    "POST", f"{self.page_id}/photos", "creating the photo post", attempt=attempt,
                    data={"message": message, "published": "true"},
                    files={"source": (image.filename, image.data, image.content_type)},
                )
                post_id = created.get("post_id") or created["id"]
            else:
                photo_ids = self._upload_unpublished(post.images, attempt)
                data = {"message": message}
                for index, photo_id in enumerate(photo_ids):
                    data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
                created = self.api.graph("POST", f"{self.page_id}/feed", "creating the multi-photo post",
                                         data=data, attempt=attempt)
                post_id = created["id"]
        except ChannelDuplicate as duplicate:
            # Facebook already has this message: maybe ours, from an attempt whose answer was lost.
            found = self.find_existing(marker, attempt)
            if found is not None:
                return found
            raise ChannelError(f"{duplicate} (and no post of ours with this text was found on the Page; "
                               "change the text or remove the other post)", retryable=False) from None
        attempt.note(post_id=post_id)
        log.info("%s: published post %s", self.channel.id, post_id)
        return self._remote(self._read(post_id), attempt.details)

    def check_online(self, post: RemotePost, content: PostContent) -> CheckResult:
        return graph_check(self.channel.id, lambda: self._read(post.remote_id), post, content,
                           text_field="message", link_field="permalink_url",
                           image_field="full_picture" if any(m.content_type.startswith("image/")
                                                             for m in content.media) else None)

    # ---------------------------------------------------------------- helpers
    def _upload_unpublished(self, images, attempt: PublishAttempt) -> list[str]:
        """Upload the photos unpublished, keeping ids an earlier attempt already uploaded."""
        photo_ids = list(attempt.details.get("photo_ids") or [])
        for image in images[len(photo_ids):]:
            uploaded = self.api.graph(
                "POST", f"{self.page_id}/photos", f"uploading {image.filename}", attempt=attempt,
                data={"published": "false"},
                files={"source": (image.filename, image.data, image.content_type)},
            )
            photo_ids.append(uploaded["id"])
            attempt.note(photo_ids=photo_ids)
        return photo_ids

    def _read(self, post_id: str) -> dict[str, Any]:
        return self.api.graph("GET", str(post_id), f"reading post {post_id}", params={"fields": POST_FIELDS})

    def _find_by_fingerprint(self, wanted: str, requested_at: int, attempt) -> dict[str, Any] | None:
        params = {"fields": POST_FIELDS, "limit": 25}
        if requested_at:
            params["since"] = requested_at - LOOKUP_SLACK_SECONDS
        answer = self.api.graph("GET", f"{self.page_id}/published_posts", "looking for a post of an earlier attempt",
                                params=params, attempt=attempt)
        for candidate in answer.get("data") or []:
            if fingerprint(candidate.get("message") or "") == wanted:
                return candidate
        return None

    def _remote(self, post: dict[str, Any], details: dict[str, Any]) -> RemotePost:
        return RemotePost(
            remote_id=str(post["id"]),
            url=post.get("permalink_url") or f"https://www.facebook.com/{post['id']}",
            details={**details, "post_id": str(post["id"]), "created_time": post.get("created_time"),
                     "image_url": post.get("full_picture")},
        )


def graph_check(channel_id: str, read, post: RemotePost, content: PostContent, *, text_field: str,
                link_field: str, image_field: str | None) -> CheckResult:
    """Step 6 for a Graph API post: read it back through the API and compare."""
    failures: list[str] = []
    evidence: dict[str, Any] = {"read_through": "graph_api", "remote_id": post.remote_id, "url": post.url,
                                "checked_at": utc_timestamp(), "failures": failures}
    started = time.monotonic()
    try:
        found = read()
    except GraphObjectMissing as missing:
        failures.append(f"the post is not there any more: {missing}")
        return CheckResult(ok=False, http_status=404, evidence=evidence)
    evidence["elapsed_ms"] = round((time.monotonic() - started) * 1000)
    evidence["permalink"] = found.get(link_field)
    text = found.get(text_field) or ""
    evidence["text_excerpt"] = text[:200]
    evidence["title_found"] = comparable(content.title)[:60] in comparable(text)
    if not evidence["title_found"]:
        failures.append(f"the title {content.title!r} is not in the post's text")
    if not found.get(link_field):
        failures.append("the API gives no public link for the post")
    if image_field is not None:
        evidence["image_url"] = found.get(image_field)
        if not found.get(image_field):
            failures.append("the item has photos but the post shows none")
    log.info("%s: online check of %s: %s", channel_id, post.remote_id, "ok" if not failures else failures)
    return CheckResult(ok=not failures, http_status=200, evidence=evidence)
