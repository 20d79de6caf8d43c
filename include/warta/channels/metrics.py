"""Reading a published post's public metrics (reach and engagement) from its channel.

One reader per channel kind, on the channel's own API client (same Connection, same
transport and error mapping as publishing):

- Facebook Page post (Graph API): ``GET /{post-id}/insights?metric=post_total_media_view_unique,
  post_reactions_by_type_total`` (``post_impressions_unique`` is deprecated for every version:
  Meta names ``post_total_media_view_unique`` as its replacement) and
  ``GET /{post-id}?fields=shares,comments.summary(true).limit(0)``. Needs a Page token with
  ``read_insights`` and ``pages_read_engagement``; Page insights exist only for Pages with
  100 or more likes and are updated about once a day.
- Instagram media (Graph API): ``GET /{media-id}/insights?metric=reach,likes,comments,shares,saved,views``
  (feed images and carousels). Needs ``instagram_manage_insights``. Data can lag up to 48
  hours; unavailable data is an *empty data set*, not zeros.
- X: ``GET /2/tweets?ids=…&tweet.fields=public_metrics`` (up to 100 ids a call):
  ``impression_count``, ``like_count``, ``retweet_count``, ``reply_count``, ``quote_count``.
  X gives impressions (views), not unique reach.
- WordPress has no reach API: no reader (the report says so; no figure, not zero).

What a reader returns is a ``PostReading``; a figure the platform did not give is None.
Permission refusals and posts too new for insights are readings (``no_access``,
``not_ready``), not exceptions; a transient failure raises ``ChannelError(retryable=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from warta.channels.base import ChannelAuthError, ChannelError
from warta.config import Channel

FACEBOOK_INSIGHTS = ("post_total_media_view_unique", "post_reactions_by_type_total")
FACEBOOK_FIELDS = "shares,comments.summary(true).limit(0)"
INSTAGRAM_INSIGHTS = ("reach", "likes", "comments", "shares", "saved", "views")
X_BATCH = 100
# Kinds that have a metrics reader; the others (wordpress) have no reach API.
METRIC_KINDS = ("facebook_page", "instagram", "x")

OK, NOT_READY, NO_ACCESS, GONE, ERROR = "ok", "not_ready", "no_access", "gone", "error"
STATUSES = (OK, NOT_READY, NO_ACCESS, GONE, ERROR)


@dataclass(frozen=True)
class PostReading:
    status: str
    reach: int | None = None
    views: int | None = None
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def has_metrics(channel: Channel) -> bool:
    return channel.kind in METRIC_KINDS


def refusal(error: ChannelError) -> PostReading:
    """A refusal that a retry today cannot fix, as a reading that says why."""
    from warta.channels.graph import GraphObjectMissing

    text = str(error)
    if isinstance(error, GraphObjectMissing):
        return PostReading(GONE, message=text)
    if "not enough viewers" in text.lower():  # Graph error 10 on media with too few viewers
        return PostReading(NOT_READY, message=text)
    if isinstance(error, ChannelAuthError):
        return PostReading(NO_ACCESS, message=text)
    return PostReading(ERROR, message=text)


def _insight_values(answer: dict[str, Any]) -> dict[str, Any]:
    """``{"data": [{"name", "period", "values": [{"value"}]}]}`` -> {name: latest value}."""
    values = {}
    for metric in answer.get("data") or []:
        if not isinstance(metric, dict):
            continue
        points = metric.get("values")
        if isinstance(points, list) and points:
            values[str(metric.get("name"))] = points[-1].get("value")
        elif "total_value" in metric:  # newer metrics answer total_value instead of values
            values[str(metric.get("name"))] = (metric.get("total_value") or {}).get("value")
    return values


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, dict):  # e.g. reactions by type
        return sum(c for c in (_count(v) for v in value.values()) if c is not None)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FacebookMetrics:
    def __init__(self, channel: Channel, api=None):
        from warta.channels.graph import GraphApi

        self.channel = channel
        self.api = api or GraphApi(channel)

    def read(self, post_id: str) -> PostReading:
        try:
            counts = self.api.graph("GET", post_id, f"reading the shares and comments of post {post_id}",
                                    params={"fields": FACEBOOK_FIELDS})
            insights = _insight_values(self.api.graph(
                "GET", f"{post_id}/insights", f"reading the insights of post {post_id}",
                params={"metric": ",".join(FACEBOOK_INSIGHTS), "period": "lifetime"}))
        except ChannelError as error:
            if error.retryable:
                raise
            return refusal(error)
        comments = _count(((counts.get("comments") or {}).get("summary") or {}).get("total_count"))
        # A post nobody shared has no "shares" field at all.
        shares = _count((counts.get("shares") or {}).get("count")) if "shares" in counts else 0
        reactions_by_type = insights.get("post_reactions_by_type_total")
        reach = _count(insights.get("post_total_media_view_unique"))
        reading = PostReading(
            OK if reach is not None else NOT_READY, reach=reach,
            reactions=_count(reactions_by_type) if reactions_by_type is not None else None,
            comments=comments, shares=shares,
            details={"reactions_by_type": reactions_by_type if isinstance(reactions_by_type, dict) else {}},
        )
        if reading.status == NOT_READY:
            return replace(reading, message="Facebook has no insights for this post yet")
        return reading


class InstagramMetrics:
    def __init__(self, channel: Channel, api=None):
        from warta.channels.graph import GraphApi

        self.channel = channel
        self.api = api or GraphApi(channel)

    def read(self, media_id: str) -> PostReading:
        try:
            insights = _insight_values(self.api.graph(
                "GET", f"{media_id}/insights", f"reading the insights of media {media_id}",
                params={"metric": ",".join(INSTAGRAM_INSIGHTS)}))
        except ChannelError as error:
            if error.retryable:
                raise
            return refusal(error)
        if not insights:
            return PostReading(NOT_READY, message="Instagram has no insights for this media yet (up to 48 hours)")
        return PostReading(
            OK if insights.get("reach") is not None else NOT_READY,
            reach=_count(insights.get("reach")), views=_count(insights.get("views")),
            reactions=_count(insights.get("likes")), comments=_count(insights.get("comments")),
            shares=_count(insights.get("shares")), saves=_count(insights.get("saved")),
        )


class XMetrics:
    def __init__(self, channel: Channel, api=None):
        from warta.channels.x import XApi

        self.channel = channel
        self.api = api or XApi(channel)

    def read_many(self, tweet_ids: Iterable[str]) -> dict[str, PostReading]:
        ids = list(dict.fromkeys(str(t) for t in tweet_ids))
        readings: dict[str, PostReading] = {}
        for start in range(0, len(ids), X_BATCH):
            batch = ids[start:start + X_BATCH]
            try:
                answer = self.api.call("GET", "/2/tweets", f"reading the public metrics of {len(batch)} posts",
                                       params={"ids": ",".join(batch), "tweet.fields": "public_metrics"})
            except ChannelError as error:
                if error.retryable:
                    raise
                readings.update({tweet_id: refusal(error) for tweet_id in batch})
                continue
            for tweet in answer.get("data") or []:
                metrics = tweet.get("public_metrics") or {}
                if not metrics:
                    readings[str(tweet["id"])] = PostReading(NOT_READY, message="X sent no public_metrics")
                    continue
                retweets, quotes = _count(metrics.get("retweet_count")), _count(metrics.get("quote_count"))
                readings[str(tweet["id"])] = PostReading(
                    OK, views=_count(metrics.get("impression_count")), reactions=_count(metrics.get("like_count")),
                    comments=_count(metrics.get("reply_count")),
                    shares=None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0),
                    saves=_count(metrics.get("bookmark_count")),
                    details={k: metrics[k] for k in sorted(metrics)},
                )
            for problem in answer.get("errors") or []:  # deleted or protected posts
                tweet_id = str(problem.get("resource_id") or problem.get("value") or "")
                if tweet_id in batch and tweet_id not in readings:
                    readings[tweet_id] = PostReading(GONE, message=str(problem.get("detail") or problem.get("title")))
        return readings


def reader_for(channel: Channel):
    if channel.kind == "facebook_page":
        return FacebookMetrics(channel)
    if channel.kind == "instagram":
        return InstagramMetrics(channel)
    if channel.kind == "x":
        return XMetrics(channel)
    raise ValueError(f"channel {channel.id!r}: {channel.kind!r} has no metrics API")


def read_posts(reader, remote_ids: list[str]) -> dict[str, PostReading]:
    """Readings of ``remote_ids`` by one reader. After the first permission refusal the
    rest of the channel gets the same reading without another call: the token is the same."""
    if isinstance(reader, XMetrics):
        return reader.read_many(remote_ids)
    readings: dict[str, PostReading] = {}
    for remote_id in remote_ids:
        denied = next((r for r in readings.values() if r.status == NO_ACCESS), None)
        readings[remote_id] = denied or reader.read(remote_id)
    return readings

