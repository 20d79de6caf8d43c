"""The X channel against the X API v2 contract fake: post with media, OAuth 2.0 refresh
with rotating refresh tokens, exactly once after a lost answer, duplicate content, 429
with x-rate-limit-reset, revoked tokens, the online check."""

from __future__ import annotations

import logging

import pytest

from tests.fakes.graph import image_bytes
from tests.fakes.x import x_connection_json, serve_fake_x
from tests.unit.test_facebook_publisher import Timer, attempt
from warta.channels import x as x_channel
from warta.channels.base import ChannelAuthError, ChannelError, MediaFile, PostContent, PublishAttempt
from warta.channels.x import MemoryTokenStore, XPublisher
from warta.config import get_config
from warta.channels.social import x_weighted_length

CLIENT_ID = "warta-app"
REFRESH = "first-refresh-token"
MARKER = "warta-9-x-0a1b2c"
LINK = "https://bsip-babel.example/index.php?p=44&very=long&address=" + "x" * 250


def news(photos: int = 2) -> PostContent:
    return PostContent(
        title="Layanan UPBS: benih padi bersertifikat untuk petani Bangka",
        body_html="<p>Benih.</p>",
        excerpt="Benih.",
        text="Benih padi bersertifikat dibagikan kepada kelompok tani. " * 20,
        media=tuple(MediaFile(f"benih{n}.jpg", image_bytes(1000, 800, "JPEG", (n * 30, 80, 90)), "image/jpeg")
                    for n in range(1, photos + 1)),
        link=LINK,
    )


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    x_channel._cached_tokens.clear()
    yield
    x_channel._cached_tokens.clear()


@pytest.fixture
def api(monkeypatch):
    running = serve_fake_x(client_id=CLIENT_ID, refresh_token=REFRESH)
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_X", x_connection_json(running, client_id=CLIENT_ID, refresh_token=REFRESH))
    yield running
    running.stop()


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


def publisher(store: MemoryTokenStore) -> XPublisher:
    return XPublisher(get_config().channels["x"], token_store=store)


def test_post_with_photos_fits_280_and_links_the_website(api, store):
    progress = attempt()
    remote = publisher(store).publish(news(), MARKER, progress)

    [tweet] = api.fake.timeline()
    assert tweet.text.startswith("Layanan UPBS: benih padi bersertifikat")
    assert LINK in tweet.text and tweet.text.endswith("#BSIPBabel #Kementan")
    assert x_weighted_length(tweet.text) <= 280 < len(tweet.text)  # the long link counts as 23
    assert len(tweet.media_keys) == 2
    assert remote.remote_id == tweet.id and remote.url == f"{api.base_url}/{api.fake.username}/status/{tweet.id}"
    assert progress.details["tweet_id"] == tweet.id and len(progress.details["media_ids"]) == 2


def test_refresh_token_rotation_is_kept_for_the_next_process(api, store):
    remote = publisher(store).publish(news(photos=0), MARKER, attempt())
    first = store.saved["warta_x"]
    assert first["refresh_token"] != REFRESH  # X rotated it; the connection's one is spent

    # Another process (empty memory cache) whose access token has expired: refreshes with the saved token.
    x_channel._cached_tokens.clear()
    store.saved["warta_x"] = {**first, "expires_at": 0}
    assert publisher(store).find_existing(MARKER, PublishAttempt({"tweet_id": remote.remote_id})) is not None
    assert api.fake.refreshes == 2
    assert store.saved["warta_x"]["refresh_token"] not in (REFRESH, first["refresh_token"])


def test_revoked_access_token_is_refreshed_once_and_the_call_repeated(api, store):
    publisher(store).publish(news(photos=0), MARKER, attempt())
    api.fake.revoke_access_tokens()
    found = publisher(store).find_existing(MARKER, PublishAttempt({"tweet_id": api.fake.timeline()[0].id}))
    assert found is not None and api.fake.refreshes == 2


def test_revoked_refresh_token_fails_at_once_naming_the_connection(api, store, caplog):
    caplog.set_level(logging.DEBUG)
    api.fake.revoke_refresh_tokens()
    with pytest.raises(ChannelAuthError) as refused:
        publisher(store).publish(news(), MARKER, attempt())
    message = str(refused.value)
    assert "warta_x" in message and "refresh_token" in message and not refused.value.retryable
    assert REFRESH not in message and REFRESH not in caplog.text
    assert not api.fake.timeline()


def test_lost_answer_is_found_in_the_timeline(api, store):
    api.fake.accept_then_drop_next("POST", "/2/tweets")
    first = attempt()
    with pytest.raises(ChannelError) as lost:
        publisher(store).publish(news(), MARKER, first)
    assert lost.value.retryable

    retry = PublishAttempt(first.details)
    found = publisher(store).find_existing(MARKER, retry)
    [tweet] = api.fake.timeline()
    assert found is not None and found.remote_id == tweet.id and retry.details["tweet_id"] == tweet.id


def test_duplicate_content_refusal_leads_to_our_earlier_post(api, store):
    publisher(store).publish(news(), MARKER, attempt())
    again = publisher(store).publish(news(), MARKER, attempt())  # an attempt with no record of the first
    [tweet] = api.fake.timeline()
    assert again.remote_id == tweet.id


def test_duplicate_of_someone_elses_post_is_not_retried(api, store):
    api.fake.fail_next(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.",
                       method="POST", path="/2/tweets")
    with pytest.raises(ChannelError) as duplicate:
        publisher(store).publish(news(photos=0), MARKER, attempt())
    assert not duplicate.value.retryable and "duplicate content" in str(duplicate.value)


def test_rate_limit_waits_until_the_reset_within_the_budget(api, store):
    api.fake.rate_limit_next(60, method="POST", path="/2/tweets")
    timer = Timer()
    publisher(store).publish(news(photos=0), MARKER, attempt(timer))
    assert len(timer.slept) == 1 and 55 <= timer.slept[0] <= 61
    assert len(api.fake.timeline()) == 1


def test_rate_limit_beyond_the_budget_fails_retryable(api, store):
    api.fake.rate_limit_next(900, method="POST", path="/2/tweets")
    timer = Timer()
    with pytest.raises(ChannelError) as limited:
        publisher(store).publish(news(photos=0), MARKER, attempt(timer, budget=600))
    assert limited.value.retryable and limited.value.retry_after > 600 and timer.slept == []


def test_check_online_reads_the_post_back(api, store):
    x = publisher(store)
    remote = x.publish(news(), MARKER, attempt())
    result = x.check_online(remote, news())
    assert result.ok, result.evidence
    assert result.evidence["media_found"] == 2 and result.evidence["title_found"]

    api.fake.tweets.clear()
    gone = x.check_online(remote, news())
    assert not gone.ok and gone.http_status == 404


def test_missing_refresh_token_names_the_connection(api, store, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_X", '{"conn_type": "http", "host": "127.0.0.1", "port": %d, '
                       '"schema": "http", "login": "warta-app"}' % api.port)
    with pytest.raises(ChannelAuthError, match="warta_x.*refresh_token"):
        publisher(store).publish(news(), MARKER, attempt())


def test_a_pair_rotated_meanwhile_by_another_task_is_used(api, store):
    """Two tasks refresh with the same saved token: X accepts one; the other finds the new pair."""
    remote = publisher(store).publish(news(photos=0), MARKER, attempt())
    stale = dict(store.saved["warta_x"], expires_at=0)
    store.saved["warta_x"] = stale
    x_channel._cached_tokens.clear()
    publisher(store).api.access_token()  # the other task rotates the pair first
    x_channel._cached_tokens.clear()
    rotated = store.saved["warta_x"]
    assert rotated["refresh_token"] != stale["refresh_token"]

    class Racing(MemoryTokenStore):
        """Answers the first load with the pair this task read before the other rotated it."""

        def __init__(self):
            super().__init__()
            self.saved = {"warta_x": rotated}
            self.first = True

        def load(self, conn_id):
            if self.first:
                self.first = False
                return stale
            return super().load(conn_id)

    refreshes = api.fake.refreshes
    found = publisher(Racing()).find_existing(MARKER, PublishAttempt({"tweet_id": remote.remote_id}))
    assert found is not None and found.remote_id == remote.remote_id
    assert api.fake.refreshes == refreshes  # both refusals were answered by the other task's pair


def test_the_tokens_are_checked_first_naming_the_connection(api, store):
    api.fake.revoke_refresh_tokens()
    with pytest.raises(ChannelAuthError) as refused:
        publisher(store).find_existing(MARKER, attempt())  # the pipeline's first call, with nothing recorded yet
    assert "warta_x" in str(refused.value)
    assert [path for _, path in api.fake.calls] == ["/2/oauth2/token"]


def test_html_like_text_is_posted_as_typed_and_found_again(api, store):
    """X answers texts with &amp; &lt; &gt;: Warta decodes them, so the check and the
    look-up of an earlier attempt's post still match what was sent."""
    content = PostContent(title='Rapat <b>evaluasi</b> & "uji" 3x4 AT&amp;T', body_html="", excerpt="",
                          text="Isi & <i>lain</i>.", media=(), link=None)
    x = publisher(store)
    progress = attempt()
    remote = x.publish(content, MARKER, progress)
    [tweet] = api.fake.tweets.values()
    assert tweet.text.startswith('Rapat <b>evaluasi</b> & "uji" 3x4 AT&amp;T\n')
    assert x.check_online(remote, content).ok
    # A later attempt that lost the answer finds the post by its fingerprint.
    again = publisher(store).find_existing(MARKER, PublishAttempt({**progress.details, "tweet_id": None}))
    assert again is not None and again.remote_id == remote.remote_id
