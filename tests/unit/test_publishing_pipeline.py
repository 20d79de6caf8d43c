"""SOP steps 5-7 over every channel, against the contract fakes: exactly one post per
channel however often a step runs (also after the remote side accepted and the answer
was lost), throttling within the step's budget, expired tokens failing at once with an
alert, channels failing independently, and the archive covering every channel."""

from __future__ import annotations

import json

import pytest

from tests.fakes.graph import graph_connection_json, image_bytes, serve_fake_graph
from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from tests.fakes.x import serve_fake_x, x_connection_json
from tests.unit.test_facebook_publisher import Timer
from warta import pipeline
from warta.channels import x as x_channel
from warta.service import Upload

TOKEN = "EAAB-sandbox-token"
WP_PASSWORD = "abcd efgh ijkl mnop"
CHANNELS = ["website", "facebook", "instagram", "x"]


@pytest.fixture
def remote(monkeypatch):
    """Every channel's contract fake, with the Airflow Connections pointing at them."""
    website = serve_fake_wordpress(application_password=WP_PASSWORD)
    graph = serve_fake_graph(tokens=(TOKEN,))
    x_api = serve_fake_x(client_id="warta-app", refresh_token="refresh-1")
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_WEBSITE", airflow_connection_json(website, login="warta",
                                                                             password=WP_PASSWORD))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(graph, token=TOKEN,
                                                                            page_id=graph.fake.page_id))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_INSTAGRAM", graph_connection_json(graph, token=TOKEN,
                                                                             ig_user_id=graph.fake.ig_user_id))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_X", x_connection_json(x_api, client_id="warta-app",
                                                                 refresh_token="refresh-1"))
    x_channel._cached_tokens.clear()
    yield {"website": website.fake, "graph": graph.fake, "x": x_api.fake}
    for running in (website, graph, x_api):
        running.stop()
    x_channel._cached_tokens.clear()


@pytest.fixture
def alerts(monkeypatch) -> list[str]:
    raised: list[str] = []
    monkeypatch.setattr(pipeline, "alert_operator", lambda service, item_id, message: raised.append(message))
    return raised


@pytest.fixture
def item(flow) -> int:
    item_id = flow.create(title="Kunjungan agro eduwisata", channels=CHANNELS,
                          uploads=[Upload("kebun.jpg", image_bytes(1200, 800), caption="Siswa di kebun"),
                                   Upload("panen.jpg", image_bytes(800, 1000, color=(200, 90, 10)))])
    flow.to_publish(item_id)
    return item_id


def counts(remote) -> dict[str, int]:
    return {"website": len(remote["website"].published_posts()), "facebook": len(remote["graph"].page_posts()),
            "instagram": len(remote["graph"].instagram_media()), "x": len(remote["x"].timeline())}


def run_step(step, *args, **kwargs):
    timer = Timer()
    return step(*args, clock=timer.clock, sleep=timer.sleep, **kwargs)


def test_every_channel_is_published_checked_and_archived_once(service, item, remote, alerts):
    for channel in CHANNELS:
        run_step(pipeline.publish, service, item, 1, channel)
    # The whole step again (a re-run): nothing is posted twice.
    for channel in CHANNELS:
        run_step(pipeline.publish, service, item, 1, channel)
    assert counts(remote) == {"website": 1, "facebook": 1, "instagram": 1, "x": 1}

    website_url = next(p.url for p in service.publications(item) if p.channel == "website")
    [fb_post] = remote["graph"].page_posts()
    assert len(fb_post.photo_ids) == 2 and website_url in fb_post.message
    assert website_url in remote["x"].timeline()[0].text
    assert "link di bio" in remote["graph"].instagram_media()[0].caption

    for channel in CHANNELS:
        assert pipeline.check_online(service, item, 1, channel)["ok"]
    result = pipeline.archive(service, item, 1)

    history = service.history(item)
    assert history["current_step"] == "selesai" and not alerts
    assert {p["channel"]: p["status"] for p in history["publications"]} == dict.fromkeys(CHANNELS, "published")
    assert history["archive"]["key"] == result["archive"] and history["archive"]["archived_at"]
    manifest = json.loads(service.storage.get_bytes(history["archive"]["manifest"]))
    assert [c["channel"] for c in manifest["channels"]] == CHANNELS
    assert all(c["status"] == "published" and c["url"] and c["check_ok"] and c["check_evidence"]
               for c in manifest["channels"])
    assert {c["check_evidence"].get("read_through") for c in manifest["channels"]} == {None, "graph_api", "x_api_v2"}


@pytest.mark.parametrize(("channel", "drop"), [
    ("facebook", ("graph", "POST", "/feed")),
    ("instagram", ("graph", "POST", "/media_publish")),
    ("x", ("x", "POST", "/2/tweets")),
])
def test_accepted_then_dropped_post_is_published_exactly_once(service, item, remote, alerts, channel, drop):
    fake, method, path = drop
    remote[fake].accept_then_drop_next(method, path)
    with pytest.raises(pipeline.StepFailed) as lost:
        run_step(pipeline.publish, service, item, 1, channel)
    assert lost.value.retryable
    [pending] = [p for p in service.publications(item) if p.channel == channel]
    assert pending.status == "failed" and pending.details["fingerprint"]  # the trail the retry follows

    result = run_step(pipeline.publish, service, item, 1, channel)

    assert counts(remote)[channel] == 1
    [publication] = [p for p in service.publications(item) if p.channel == channel]
    assert publication.status == "published" and publication.remote_id == result["remote_id"]
    assert publication.attempts == 2


def test_expired_token_fails_at_once_alerts_and_leaves_other_channels_alone(service, item, remote, alerts):
    remote["graph"].expire_token(TOKEN)
    results = {}
    for channel in CHANNELS:
        try:
            results[channel] = run_step(pipeline.publish, service, item, 1, channel)
        except pipeline.StepFailed as failed:
            results[channel] = failed

    for channel in ("facebook", "instagram"):
        assert isinstance(results[channel], pipeline.StepFailed) and not results[channel].retryable
    assert "warta_facebook" in str(results["facebook"]) and "warta_instagram" in str(results["instagram"])
    assert len(alerts) == 2 and "warta_facebook" in alerts[0]
    statuses = {p["channel"]: p["status"] for p in service.history(item)["publications"]}
    assert statuses == {"website": "published", "facebook": "failed", "instagram": "failed", "x": "published"}
    assert service.get_item(item)["current_step"] == "updating"  # step 5 is not done until every channel is


def test_throttling_waits_within_the_step_budget(service, item, remote, alerts):
    remote["x"].rate_limit_next(90, method="POST", path="/2/tweets")
    timer = Timer()
    pipeline.publish(service, item, 1, "x", clock=timer.clock, sleep=timer.sleep)
    assert any(85 <= s <= 91 for s in timer.slept) and counts(remote)["x"] == 1


def test_throttling_beyond_the_budget_fails_for_airflow_to_retry(service, item, remote, alerts):
    remote["x"].rate_limit_next(3600, method="POST", path="/2/tweets")
    with pytest.raises(pipeline.StepFailed) as throttled:
        run_step(pipeline.publish, service, item, 1, "x")
    assert throttled.value.retryable and not alerts and counts(remote)["x"] == 0


def test_social_post_goes_without_the_link_when_the_website_failed(service, item, remote, alerts):
    remote["website"].fail_next(400, "rest_invalid_param", "Invalid parameter(s): title", method="POST",
                                route="/wp/v2/posts")
    with pytest.raises(pipeline.StepFailed):
        run_step(pipeline.publish, service, item, 1, "website")
    run_step(pipeline.publish, service, item, 1, "x")
    [tweet] = remote["x"].timeline()
    assert "http" not in tweet.text


def test_failed_social_check_alerts_and_can_be_rerun(service, item, remote, alerts):
    for channel in CHANNELS:
        run_step(pipeline.publish, service, item, 1, channel)
    remote["graph"].fail_next(2, "Service temporarily unavailable", status=503, method="GET")
    with pytest.raises(pipeline.StepFailed) as failed:
        pipeline.check_online(service, item, 1, "facebook")
    assert failed.value.retryable and len(alerts) == 1 and "Facebook" in alerts[0]
    assert pipeline.check_online(service, item, 1, "facebook")["ok"]
    assert [c["ok"] for c in service.history(item)["checks"] if c["channel"] == "facebook"] == [False, True]


def test_social_post_carries_the_address_it_is_given_and_never_waits(service, item, remote, alerts):
    """The DAG hands the website's address (XCom) to the linking channels' tasks."""
    timer = Timer()
    link = "http://example.test/2026/11/panen-lada/"
    pipeline.publish(service, item, 1, "x", links={"website": link}, clock=timer.clock, sleep=timer.sleep)
    [tweet] = remote["x"].timeline()
    assert link in tweet.text and timer.slept == []


def test_social_post_goes_without_the_link_when_the_website_failed(service, item, remote, alerts):
    timer = Timer()
    pipeline.publish(service, item, 1, "x", links={}, clock=timer.clock, sleep=timer.sleep)
    assert timer.slept == []
    assert "http" not in remote["x"].timeline()[0].text


def test_without_given_links_the_published_website_address_is_read(service, item, remote, alerts):
    pipeline.publish(service, item, 1, "website")
    website_url = next(p.url for p in service.publications(item) if p.channel == "website")
    pipeline.publish(service, item, 1, "x")
    assert website_url in remote["x"].timeline()[0].text


# ------------------------------------------------------------------ concurrency
def test_two_attempts_at_the_same_moment_post_once(service, item, remote, alerts):
    """A retry started while the first attempt still runs: the lease lets one post; the
    other stops (retryable) without posting and finds the post when it runs again."""
    import threading

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            run_step(pipeline.publish, service, item, 1, "website")
            outcomes.append("published")
        except pipeline.StepFailed as exc:
            assert exc.retryable and "another attempt" in str(exc)
            outcomes.append("stopped")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(remote["website"].posts) == 1 and "published" in outcomes
    run_step(pipeline.publish, service, item, 1, "website")  # Airflow's retry of the stopped one
    assert len(remote["website"].posts) == 1


def test_a_crashed_holders_lease_lapses(service, item, remote, alerts):
    from datetime import timedelta

    publication = service.publication_intent(item, "website")
    assert service.claim_publication(publication.id, "crashed-attempt", pipeline.LEASE_SECONDS)
    with pytest.raises(pipeline.StepFailed, match="another attempt"):
        run_step(pipeline.publish, service, item, 1, "website")
    assert not remote["website"].posts
    later = service.clock() + timedelta(seconds=pipeline.LEASE_SECONDS + 1)
    service.clock = lambda: later
    run_step(pipeline.publish, service, item, 1, "website")
    assert len(remote["website"].posts) == 1
    assert service.publication(publication.id).lease_owner is None


def test_an_attempt_whose_lease_was_taken_over_stops_before_its_next_call(service, item, remote, alerts,
                                                                            monkeypatch):
    claims = []
    real_claim = service.claim_publication

    def claim(publication_id, owner, seconds):
        claims.append(owner)
        return real_claim(publication_id, owner, seconds) if len(claims) == 1 else False

    monkeypatch.setattr(service, "claim_publication", claim)
    with pytest.raises(pipeline.StepFailed, match="another one took over") as stopped:
        run_step(pipeline.publish, service, item, 1, "x")
    assert stopped.value.retryable and not remote["x"].timeline() and not alerts
    assert next(p for p in service.publications(item) if p.channel == "x").status == "pending"
