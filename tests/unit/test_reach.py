"""Reach and engagement: the metric readers against the Graph API and X contract fakes
(insights, permission errors, posts too new, deleted posts, transient failures), and the
daily collection into the editorial DB (window, idempotent re-runs, non-fatal refusals)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from tests.fakes.graph import FeedPost, IgMedia, graph_connection_json, serve_fake_graph
from tests.fakes.x import Tweet, serve_fake_x, x_connection_json
from tests.unit.conftest import PELAKSANA
from warta.channels import x as x_channel
from warta.channels.base import ChannelError
from warta.channels.metrics import FacebookMetrics, InstagramMetrics, XMetrics, read_posts
from warta.channels.x import MemoryTokenStore, XApi
from warta.config import get_config
from warta.models import PostMetric
from warta.reach import ReachSettings, TransientReadFailure, collect_channel, parse_reach_settings
from warta.config import ConfigError

TOKEN = "EAAB-page-token-metrics"
CLIENT_ID = "warta-app"
REFRESH = "metrics-refresh-token"


def ago(**delta) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


@pytest.fixture
def graph(monkeypatch):
    running = serve_fake_graph(tokens=(TOKEN,))
    fake = running.fake
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(running, token=TOKEN, page_id=fake.page_id))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_INSTAGRAM",
                       graph_connection_json(running, token=TOKEN, ig_user_id=fake.ig_user_id))
    yield running
    running.stop()


@pytest.fixture
def x_api(monkeypatch):
    x_channel._cached_tokens.clear()
    running = serve_fake_x(client_id=CLIENT_ID, refresh_token=REFRESH)
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_X", x_connection_json(running, client_id=CLIENT_ID, refresh_token=REFRESH))
    yield running
    running.stop()
    x_channel._cached_tokens.clear()


def fb_post(graph, number: int, age: timedelta, **stats) -> str:
    fake = graph.fake
    post = FeedPost(id=f"{fake.page_id}_{number}", page_id=fake.page_id, message=f"Berita {number}",
                    created=datetime.now(timezone.utc) - age)
    fake.posts[post.id] = post
    if stats:
        fake.post_stats[post.id] = stats
    return post.id


def ig_media(graph, number: int, age: timedelta, **stats) -> str:
    fake = graph.fake
    media = IgMedia(id=str(number), ig_user_id=fake.ig_user_id, caption=f"Berita {number}", media_type="IMAGE",
                    media_url=None, created=datetime.now(timezone.utc) - age)
    fake.ig_media[media.id] = media
    if stats:
        fake.media_stats[media.id] = stats
    return media.id


def tweet(x_api, number: int, age: timedelta, **stats) -> str:
    fake = x_api.fake
    tweet_id = str(1900000000000000000 + number)
    fake.tweets[tweet_id] = Tweet(id=tweet_id, text=f"Berita {number}", author_id=fake.user_id,
                                  created_at=datetime.now(timezone.utc) - age)
    if stats:
        fake.tweet_stats[tweet_id] = stats
    return tweet_id


def facebook() -> FacebookMetrics:
    return FacebookMetrics(get_config().channels["facebook"])


def instagram() -> InstagramMetrics:
    return InstagramMetrics(get_config().channels["instagram"])


def x_reader() -> XMetrics:
    return XMetrics(get_config().channels["x"], XApi(get_config().channels["x"], MemoryTokenStore()))


# ------------------------------------------------------------------------ Facebook
def test_facebook_reads_media_view_unique_reactions_comments_and_shares(graph):
    post_id = fb_post(graph, 1, timedelta(days=2), reach=1234, reactions={"like": 40, "love": 5, "wow": 1},
                      comments=7, shares=3)
    reading = facebook().read(post_id)
    assert (reading.status, reading.reach, reading.reactions, reading.comments, reading.shares) == ("ok", 1234, 46, 7, 3)
    assert reading.details["reactions_by_type"] == {"like": 40, "love": 5, "wow": 1}
    asked = [path for method, path in graph.fake.calls if path.endswith("/insights")]
    assert asked == [f"/{post_id}/insights"]


def test_facebook_post_nobody_shared_has_no_shares_field_and_counts_zero(graph):
    post_id = fb_post(graph, 2, timedelta(days=1), reach=10, reactions={}, comments=0, shares=0)
    reading = facebook().read(post_id)
    assert reading.shares == 0 and reading.reactions == 0 and reading.status == "ok"


def test_facebook_deprecated_reach_metric_is_refused_as_meta_does(graph):
    post_id = fb_post(graph, 3, timedelta(days=1))
    answer = httpx.get(f"{graph.base_url}/v26.0/{post_id}/insights", params={"metric": "post_impressions_unique"},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100


def test_facebook_post_too_new_for_insights_is_not_ready_not_zero(graph):
    post_id = fb_post(graph, 4, timedelta(minutes=2), reach=99)
    reading = facebook().read(post_id)
    assert reading.status == "not_ready" and reading.reach is None and reading.reactions is None
    assert "no insights" in reading.message


@pytest.mark.parametrize("permission, code", [("read_insights", "200"), ("pages_read_engagement", "10")])
def test_facebook_missing_permission_is_a_no_access_reading(graph, permission, code):
    graph.fake.missing_permissions = {permission}
    post_id = fb_post(graph, 5, timedelta(days=1))
    reading = facebook().read(post_id)
    assert reading.status == "no_access" and reading.reach is None
    assert f"Graph API error {code}" in reading.message and permission in reading.message
    assert "warta_facebook" in reading.message and TOKEN not in reading.message


def test_facebook_deleted_post_is_gone(graph):
    assert facebook().read(f"{graph.fake.page_id}_404").status == "gone"


def test_facebook_transient_error_raises_for_a_retry(graph):
    post_id = fb_post(graph, 6, timedelta(days=1))
    graph.fake.fail_next(2, "An unexpected error has occurred. Please retry your request later.", status=500)
    with pytest.raises(ChannelError) as failed:
        facebook().read(post_id)
    assert failed.value.retryable


def test_one_permission_refusal_is_reused_for_the_channel_without_more_calls(graph):
    graph.fake.missing_permissions = {"read_insights"}
    ids = [fb_post(graph, 10 + n, timedelta(days=1)) for n in range(3)]
    readings = read_posts(facebook(), ids)
    assert {r.status for r in readings.values()} == {"no_access"}
    assert len([p for _, p in graph.fake.calls if p.endswith("/insights")]) == 1


# ----------------------------------------------------------------------- Instagram
def test_instagram_reads_reach_likes_comments_shares_saved_views(graph):
    media_id = ig_media(graph, 7001, timedelta(days=3), reach=800, views=1500, likes=90, comments=4, shares=6, saved=11)
    reading = instagram().read(media_id)
    assert (reading.status, reading.reach, reading.views, reading.reactions, reading.comments, reading.shares,
            reading.saves) == ("ok", 800, 1500, 90, 4, 6, 11)


def test_instagram_empty_data_set_is_not_ready(graph):
    media_id = ig_media(graph, 7002, timedelta(minutes=1))
    reading = instagram().read(media_id)
    assert reading.status == "not_ready" and reading.reach is None


def test_instagram_without_manage_insights_is_no_access(graph):
    graph.fake.missing_permissions = {"instagram_manage_insights"}
    reading = instagram().read(ig_media(graph, 7003, timedelta(days=1)))
    assert reading.status == "no_access" and "Graph API error 10" in reading.message


# ------------------------------------------------------------------------------- X
def test_x_reads_public_metrics_in_one_call_and_deleted_posts_are_gone(x_api):
    first = tweet(x_api, 1, timedelta(days=1), impression_count=5000, like_count=70, retweet_count=9, quote_count=2,
                  reply_count=5, bookmark_count=1)
    second = tweet(x_api, 2, timedelta(days=2))
    readings = x_reader().read_many([first, second, "1999999999999999999"])
    assert (readings[first].views, readings[first].reactions, readings[first].shares, readings[first].comments,
            readings[first].reach) == (5000, 70, 11, 5, None)
    assert readings[second].status == "ok" and readings["1999999999999999999"].status == "gone"
    assert [p for m, p in x_api.fake.calls if m == "GET" and p == "/2/tweets"] == ["/2/tweets"]


def test_x_forbidden_is_no_access_for_every_post(x_api):
    ids = [tweet(x_api, n, timedelta(days=1)) for n in range(3)]
    x_api.fake.fail_next(403, "Client Forbidden", "This request must be made using an approved developer account "
                         "that is enrolled in the requested endpoint.", method="GET", path="/2/tweets")
    readings = x_reader().read_many(ids)
    assert {r.status for r in readings.values()} == {"no_access"} and "warta_x" in readings[ids[0]].message


def test_x_rate_limit_far_off_raises_for_a_retry(x_api):
    ids = [tweet(x_api, 1, timedelta(days=1))]
    x_api.fake.rate_limit_next(3600, method="GET", path="/2/tweets")
    with pytest.raises(ChannelError) as failed:
        x_reader().read_many(ids)
    assert failed.value.retryable


# ---------------------------------------------------------------- daily collection
def published(service, clock, channel: str, remote_id: str, at: datetime) -> int:
    clock.now = at
    item_id = service.create_item(PELAKSANA, title=f"Berita {remote_id}", channels=["website", channel])["id"]
    publication = service.publication_intent(item_id, channel)
    service.publication_done(publication.id, remote_id=remote_id, url=f"https://example/{remote_id}")
    return publication.id


def readings(service) -> list[PostMetric]:
    with service.sessions() as session:
        return list(session.scalars(select(PostMetric).order_by(PostMetric.publication_id, PostMetric.reading_date)))


def test_collection_reads_posts_within_the_window_once_per_day(graph, service, clock):
    now = datetime.now(timezone.utc)
    fresh = fb_post(graph, 21, timedelta(days=2), reach=500, reactions={"like": 5}, comments=1, shares=0)
    old = fb_post(graph, 22, timedelta(days=9), reach=900)
    fresh_pub = published(service, clock, "facebook", fresh, now - timedelta(days=2))
    published(service, clock, "facebook", old, now - timedelta(days=9))
    clock.now = now

    first = collect_channel(service, "facebook", now, ReachSettings(window_days=7))
    assert first["due"] == 1 and first["ok"] == 1
    graph.fake.post_stats[fresh]["reach"] = 650
    again = collect_channel(service, "facebook", now, ReachSettings(window_days=7))
    assert again == {"channel": "facebook", "day": first["day"], "due": 1, "already_read": 1}
    [row] = readings(service)
    assert (row.publication_id, row.reach, row.status) == (fresh_pub, 500, "ok")

    tomorrow = now + timedelta(days=1)
    clock.now = tomorrow
    collect_channel(service, "facebook", tomorrow, ReachSettings(window_days=7))
    assert [(r.reach, r.reading_date) for r in readings(service)] == [
        (500, first_day := readings(service)[0].reading_date), (650, first_day + timedelta(days=1))]


def test_collection_replaces_a_day_read_without_figures(graph, service, clock):
    now = datetime.now(timezone.utc)
    post = fb_post(graph, 31, timedelta(minutes=1))
    published(service, clock, "facebook", post, now - timedelta(minutes=1))
    collect_channel(service, "facebook", now)
    assert [r.status for r in readings(service)] == ["not_ready"]
    graph.fake.insights_delay_seconds = 0
    collect_channel(service, "facebook", now)  # the same day again: replaced, not added
    assert [r.status for r in readings(service)] == ["ok"]


def test_collection_records_permission_refusals_and_succeeds(graph, service, clock):
    now = datetime.now(timezone.utc)
    graph.fake.missing_permissions = {"instagram_manage_insights"}
    media = ig_media(graph, 7100, timedelta(days=1))
    published(service, clock, "instagram", media, now - timedelta(days=1))
    result = collect_channel(service, "instagram", now)
    assert result["no_access"] == 1
    [row] = readings(service)
    assert row.status == "no_access" and row.reach is None
    assert "Graph API error 10" in row.message


def test_collection_keeps_what_was_read_when_a_transient_failure_stops_it(x_api, service, clock, monkeypatch):
    now = datetime.now(timezone.utc)
    monkeypatch.setattr("warta.reach.GROUP_SIZE", 1)
    ids = [tweet(x_api, 40 + n, timedelta(days=1), impression_count=100 + n) for n in range(2)]
    for tweet_id in ids:
        published(service, clock, "x", tweet_id, now - timedelta(days=1))
    reader = x_reader()
    x_api.fake.fail_next(503, "Service Unavailable", "Service Unavailable", method="GET", path="/2/tweets")
    with pytest.raises(TransientReadFailure) as failed:
        collect_channel(service, "x", now, reader=reader)
    assert failed.value.retryable
    assert len(readings(service)) == 1  # the second group was read and kept
    collect_channel(service, "x", now, reader=reader)  # Airflow's retry reads only the missing one
    assert sorted(r.views for r in readings(service)) == [100, 101]


def test_website_has_no_metrics_and_is_never_read(service):
    assert collect_channel(service, "website", datetime.now(timezone.utc)) == {
        "channel": "website", "skipped": "no metrics API"}


def test_reach_settings_errors_are_clear():
    assert parse_reach_settings({"window_days": "7"}).window_days == 7
    with pytest.raises(ConfigError, match="window_days"):
        parse_reach_settings({"window_days": 0})
    with pytest.raises(ConfigError, match="unknown settings"):
        parse_reach_settings({"windows": 7})
