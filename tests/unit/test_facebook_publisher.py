"""The Facebook Page channel against the Graph API contract fake: text+link, photo and
multi-photo posts, exactly once after a lost answer, the documented errors, the online check."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.fakes.graph import graph_connection_json, image_bytes, serve_fake_graph
from warta.channels.base import (
    ChannelAuthError,
    ChannelError,
    MediaFile,
    PostContent,
    PublishAttempt,
    publisher_for,
)
from warta.channels.facebook import FacebookPagePublisher
from warta.config import get_config

TOKEN = "EAAB-page-token-123"
MARKER = "warta-7-facebook-abc123"
LINK = "https://bsip-babel.example/?p=42"


class Timer:
    """A clock and sleep the test controls: waits are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def attempt(timer: Timer | None = None, budget: float = 600) -> PublishAttempt:
    timer = timer or Timer()
    return PublishAttempt(deadline=timer.clock() + budget, clock=timer.clock, sleep=timer.sleep)


def news(photos: int = 0, **changes) -> PostContent:
    content = PostContent(
        title="Siswa SMAN 1 belajar budidaya lada",
        body_html="<p>Siswa belajar.</p>",
        excerpt="Siswa belajar budidaya lada di kebun percobaan.",
        text="Siswa belajar budidaya lada di kebun percobaan BSIP Babel bersama para penyuluh.",
        media=tuple(MediaFile(f"foto{n}.png", image_bytes(800, 600, "PNG", (n * 40, 90, 30)), "image/png")
                    for n in range(1, photos + 1)),
        link=LINK,
    )
    return PostContent(**{**content.__dict__, **changes})


@pytest.fixture
def graph():
    running = serve_fake_graph(tokens=(TOKEN,))
    yield running
    running.stop()


@pytest.fixture
def connect(graph, monkeypatch):
    def make(token: str = TOKEN) -> FacebookPagePublisher:
        monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK",
                           graph_connection_json(graph, token=token, page_id=graph.fake.page_id))
        return FacebookPagePublisher(get_config().channels["facebook"])

    return make


def test_publisher_for_the_facebook_channel():
    assert isinstance(publisher_for(get_config().channels["facebook"]), FacebookPagePublisher)


def test_text_post_carries_the_link_and_hashtags(graph, connect):
    remote = connect().publish(news(), MARKER, attempt())

    [post] = graph.fake.page_posts()
    assert post.link == LINK and not post.photo_ids
    assert post.message.startswith("Siswa SMAN 1 belajar budidaya lada\n\nSiswa belajar budidaya lada")
    assert post.message.endswith("#BSIPBabel #Kementan #StandardisasiPertanian")
    assert remote.remote_id == post.id
    assert remote.url == f"{graph.base_url}/{post.page_id}/posts/{post.id.split('_')[1]}"
    assert httpx.get(remote.url).status_code == 200


def test_single_photo_post_uploads_the_file(graph, connect):
    remote = connect().publish(news(photos=1), MARKER, attempt())

    [post] = graph.fake.page_posts()
    [photo_id] = post.photo_ids
    assert graph.fake.photos[photo_id].data == news(photos=1).media[0].data
    assert LINK in post.message  # photo posts take no link attachment: the address is in the text
    assert remote.details["image_url"].endswith(f"/media/{photo_id}")


def test_multi_photo_post_attaches_unpublished_photos(graph, connect):
    progress = attempt()
    connect().publish(news(photos=3), MARKER, progress)

    [post] = graph.fake.page_posts()
    assert len(post.photo_ids) == 3 and len(graph.fake.photos) == 3
    assert progress.details["photo_ids"] == post.photo_ids
    assert all(graph.fake.photos[p].post_id == post.id for p in post.photo_ids)


def test_lost_answer_is_found_by_the_next_attempt(graph, connect):
    graph.fake.accept_then_drop_next("POST", "/feed")
    first = attempt()
    with pytest.raises(ChannelError) as lost:
        connect().publish(news(), MARKER, first)
    assert lost.value.retryable

    # The next attempt starts from what the first recorded (the pipeline keeps it).
    retry = PublishAttempt(first.details)
    found = connect().find_existing(MARKER, retry)
    assert found is not None
    [post] = graph.fake.page_posts()
    assert found.remote_id == post.id and retry.details["post_id"] == post.id


def test_retry_of_a_multi_photo_post_reuses_uploaded_photos(graph, connect):
    graph.fake.fail_next(2, "An unexpected error has occurred. Please retry your request later.",
                         status=500, method="POST", path="/feed", type="OAuthException")
    first = attempt()
    with pytest.raises(ChannelError) as failed:
        connect().publish(news(photos=2), MARKER, first)
    assert failed.value.retryable

    retry = PublishAttempt(first.details)
    assert connect().find_existing(MARKER, retry) is None
    connect().publish(news(photos=2), MARKER, retry)
    assert len(graph.fake.photos) == 2 and len(graph.fake.page_posts()) == 1


def test_duplicate_refusal_leads_to_our_earlier_post(graph, connect):
    connect().publish(news(), MARKER, attempt())
    # An attempt that knows nothing of the first (its record was lost) is refused as a duplicate.
    again = attempt()
    found = connect().publish(news(), MARKER, again)
    assert len(graph.fake.page_posts()) == 1
    assert found.remote_id == graph.fake.page_posts()[0].id


def test_expired_token_fails_at_once_naming_the_connection(graph, connect, caplog):
    caplog.set_level(logging.DEBUG)
    graph.fake.expire_token(TOKEN)
    with pytest.raises(ChannelAuthError) as refused:
        connect().publish(news(), MARKER, attempt())
    message = str(refused.value)
    assert "warta_facebook" in message and "expired" in message and "190/463" in message
    assert not refused.value.retryable
    assert TOKEN not in message and TOKEN not in caplog.text
    assert not graph.fake.page_posts()


def test_throttling_waits_as_told_within_the_budget(graph, connect):
    usage = '{"1000000001": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}]}'
    graph.fake.fail_next(32, "Page request limit reached", headers={"X-Business-Use-Case-Usage": usage},
                         method="POST", path="/feed")
    timer = Timer()
    connect().publish(news(), MARKER, attempt(timer))
    assert timer.slept == [120.0]
    assert len(graph.fake.page_posts()) == 1


def test_throttling_beyond_the_budget_fails_retryable_without_waiting(graph, connect):
    usage = '{"1000000001": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 30}]}'
    graph.fake.fail_next(80001, "There have been too many calls to this Page account.",
                         headers={"X-Business-Use-Case-Usage": usage}, method="POST", path="/feed")
    timer = Timer()
    with pytest.raises(ChannelError) as throttled:
        connect().publish(news(), MARKER, attempt(timer, budget=600))
    assert throttled.value.retryable and throttled.value.retry_after == 1800
    assert timer.slept == []


def test_app_usage_throttling_without_a_time_is_left_to_airflow_retries(graph, connect):
    graph.fake.fail_next(4, "Application request limit reached",
                         headers={"X-App-Usage": '{"call_count": 100, "total_time": 20, "total_cputime": 10}'})
    with pytest.raises(ChannelError) as throttled:
        connect().publish(news(), MARKER, attempt())
    assert throttled.value.retryable and throttled.value.retry_after is None
    assert "X-App-Usage call_count 100%" in str(throttled.value)


def test_blocked_post_is_not_retried(graph, connect):
    graph.fake.fail_next(368, "The action attempted has been deemed abusive or is otherwise disallowed",
                         method="POST", path="/feed")
    with pytest.raises(ChannelError) as blocked:
        connect().publish(news(), MARKER, attempt())
    assert not blocked.value.retryable and "368" in str(blocked.value)


def test_missing_page_id_names_the_connection(graph, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(graph, token=TOKEN))
    with pytest.raises(ChannelAuthError, match="warta_facebook.*page_id"):
        FacebookPagePublisher(get_config().channels["facebook"]).publish(news(), MARKER, attempt())


def test_extra_keys_are_not_sent_as_headers(graph, connect):
    publisher = connect()
    session = publisher.api.session()
    assert "page_id" not in {k.lower() for k in session.headers}


def test_check_online_reads_the_post_back(graph, connect):
    publisher = connect()
    remote = publisher.publish(news(photos=1), MARKER, attempt())

    result = publisher.check_online(remote, news(photos=1))
    assert result.ok, result.evidence
    assert result.evidence["permalink"] == remote.url and result.evidence["title_found"]
    assert result.evidence["image_url"]

    graph.fake.posts.clear()
    gone = publisher.check_online(remote, news(photos=1))
    assert not gone.ok and gone.http_status == 404


# ---------------------------------------------------- credentials and fidelity
def test_a_wrong_token_is_refused_by_the_first_call_naming_the_connection(graph, connect):
    with pytest.raises(ChannelAuthError) as refused:
        connect(token="EAAB-not-a-token").find_existing(MARKER, attempt())
    assert "warta_facebook" in str(refused.value) and "checking the token" in str(refused.value)
    assert "EAAB-not-a-token" not in str(refused.value)


def test_a_wrong_page_id_is_an_error_that_says_what_to_fix(graph, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(graph, token=TOKEN, page_id="999"))
    with pytest.raises(ChannelAuthError) as refused:
        FacebookPagePublisher(get_config().channels["facebook"]).publish(news(), MARKER, attempt())
    assert "'999'" in str(refused.value) and "warta_facebook" in str(refused.value) and "extra" in str(refused.value)
    assert not graph.fake.page_posts()


def test_the_message_is_the_approved_text_exactly(graph, connect):
    title = 'Rapat <b>evaluasi</b> & "sosialisasi" 3x4 -- Jum\'at... AT&amp;T 🌾'
    text = "Isi <script>alert(1)</script> & kutipan \u201cresmi\u201d."
    connect().publish(news(title=title, text=text), MARKER, attempt())
    [post] = graph.fake.page_posts()
    assert post.message.startswith(f"{title}\n\n{text}\n\n")


# ------------------------------------------------------------------ Graph API version
def test_calls_the_configured_graph_version_and_a_connection_may_pin_another(graph, connect, monkeypatch):
    connect().publish(news(), MARKER, attempt())
    assert {asked for asked, _ in graph.fake.versions} == {"v26.0"}
    graph.fake.versions.clear()
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(
        graph, token=TOKEN, page_id=graph.fake.page_id, api_version="v25.0"))
    FacebookPagePublisher(get_config().channels["facebook"]).publish(news(text="Berita lain."), MARKER + "2",
                                                                     attempt())
    assert {asked for asked, _ in graph.fake.versions} == {"v25.0"}


def test_the_sandbox_serves_versions_as_meta_does(graph):
    from datetime import date

    token = {"Authorization": f"Bearer {TOKEN}"}
    page = graph.fake.page_id
    unknown = httpx.get(f"{graph.base_url}/v99.0/{page}/published_posts", headers=token)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 2500
    graph.fake.today = lambda: date(2027, 1, 22)  # v21.0 ended the day before
    assert httpx.get(f"{graph.base_url}/v21.0/{page}/published_posts", headers=token).status_code == 200
    assert graph.fake.versions[-1] == ("v21.0", "v22.0")  # served as the oldest available version
    assert httpx.get(f"{graph.base_url}/v26.0/{page}/published_posts", headers=token).status_code == 200
    assert graph.fake.versions[-1] == ("v26.0", "v26.0")


def test_an_unknown_graph_version_in_the_connection_fails_clearly(graph, connect, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(
        graph, token=TOKEN, page_id=graph.fake.page_id, api_version="v99.0"))
    with pytest.raises(ChannelError, match="2500") as refused:
        FacebookPagePublisher(get_config().channels["facebook"]).publish(news(), MARKER, attempt())
    assert not refused.value.retryable and not graph.fake.page_posts()
