"""The Instagram channel against the Graph API contract fake (photos hosted on the
WordPress contract fake): container, status poll, publish, carousel, the 24-hour limit,
exactly once after a lost answer, containers in ERROR or EXPIRED, the online check."""

from __future__ import annotations

import io

import pytest

from tests.fakes.graph import graph_connection_json, image_bytes, serve_fake_graph
from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from tests.unit.test_facebook_publisher import Timer, attempt
from warta.channels.base import ChannelAuthError, ChannelError, MediaFile, PostContent, PublishAttempt
from warta.channels.instagram import InstagramPublisher
from warta.config import get_config

TOKEN = "EAAB-ig-token-456"
WP_PASSWORD = "abcd efgh ijkl mnop"
MARKER = "warta-8-instagram-def456"
LINK = "https://bsip-babel.example/?p=43"


def news(photos: int = 1, size=(1600, 900), fmt="PNG") -> PostContent:
    return PostContent(
        title="Bimtek budidaya padi",
        body_html="<p>Petani belajar.</p>",
        excerpt="Petani belajar.",
        text="Petani belajar menanam padi varietas unggul #PadiUnggul",
        media=tuple(MediaFile(f"padi{n}.{fmt.lower()}", image_bytes(*size, fmt, (n * 50, 100, 20)),
                              f"image/{fmt.lower()}") for n in range(1, photos + 1)),
        link=LINK,
    )


@pytest.fixture
def sites(monkeypatch):
    graph = serve_fake_graph(tokens=(TOKEN,))
    website = serve_fake_wordpress(application_password=WP_PASSWORD)
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_WEBSITE", airflow_connection_json(website, login="warta",
                                                                             password=WP_PASSWORD))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_INSTAGRAM",
                       graph_connection_json(graph, token=TOKEN, ig_user_id=graph.fake.ig_user_id))
    yield graph, website
    graph.stop()
    website.stop()


def publisher() -> InstagramPublisher:
    return InstagramPublisher(get_config().channels["instagram"])


def test_single_photo_is_converted_hosted_and_published(sites):
    graph, website = sites
    progress = attempt()
    remote = publisher().publish(news(), MARKER, progress)

    [media] = graph.fake.instagram_media()
    assert media.media_type == "IMAGE" and remote.remote_id == media.id
    assert media.caption.startswith("Bimtek budidaya padi\n\nPetani belajar menanam padi")
    assert "link di bio" in media.caption and LINK not in media.caption  # no clickable links on Instagram
    assert media.caption.endswith("#BSIPBabel #Kementan #StandardisasiPertanian #BangkaBelitung")
    [hosted] = website.fake.media.values()
    assert hosted.mime_type == "image/jpeg" and media.media_url.endswith(hosted.path)
    from PIL import Image

    with Image.open(io.BytesIO(hosted.data)) as image:  # 16:9 cropped into 1.91:1 at most
        assert image.format == "JPEG" and image.size[0] / image.size[1] <= 1.91
    assert progress.details["container_id"] and progress.details["media_id"] == media.id
    assert remote.url == f"{graph.base_url}/p/{media.id}"
    assert graph.fake.quota_usage == 1


def test_several_photos_make_a_carousel(sites):
    graph, _ = sites
    publisher().publish(news(photos=3, size=(900, 1600)), MARKER, attempt())
    [media] = graph.fake.instagram_media()
    assert media.media_type == "CAROUSEL_ALBUM" and len(media.children) == 3
    assert all(graph.fake.containers[c].is_carousel_item for c in media.children)


def test_container_in_progress_is_polled_until_finished(sites):
    graph, _ = sites
    graph.fake.container_polls_in_progress = 2
    timer = Timer()
    publisher().publish(news(), MARKER, attempt(timer))
    assert timer.slept == [1.0, 2.0]  # soon first, then backing off towards status_poll_seconds
    assert len(graph.fake.instagram_media()) == 1


def test_a_slow_container_is_polled_at_the_configured_interval_after_the_first_looks(sites):
    graph, _ = sites
    graph.fake.container_polls_in_progress = 5
    timer = Timer()
    publisher().publish(news(), MARKER, attempt(timer))
    assert timer.slept == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len(graph.fake.instagram_media()) == 1


def test_container_still_in_progress_at_the_budget_end_is_reused_by_the_retry(sites):
    graph, _ = sites
    graph.fake.container_polls_in_progress = 5
    first = attempt(budget=12)
    with pytest.raises(ChannelError) as slow:
        publisher().publish(news(), MARKER, first)
    assert slow.value.retryable and "still being processed" in str(slow.value)

    retry = attempt()
    retry.details.update(first.details)
    assert publisher().find_existing(MARKER, retry) is None
    publisher().publish(news(), MARKER, retry)
    assert len(graph.fake.containers) == 1 and len(graph.fake.instagram_media()) == 1


@pytest.mark.parametrize("status", ["ERROR", "EXPIRED"])
def test_container_in_error_or_expired_is_replaced(sites, status):
    graph, _ = sites
    graph.fake.container_statuses.append(status)
    progress = attempt()
    publisher().publish(news(), MARKER, progress)
    assert len(graph.fake.containers) == 2 and len(graph.fake.instagram_media()) == 1
    assert progress.details["discarded"][0]["status"] == status


def test_lost_publish_answer_is_found_through_the_container(sites):
    graph, _ = sites
    graph.fake.accept_then_drop_next("POST", "/media_publish")
    first = attempt()
    with pytest.raises(ChannelError) as lost:
        publisher().publish(news(), MARKER, first)
    assert lost.value.retryable
    container = first.details["container_id"]
    assert graph.fake.containers[container].status_code == "PUBLISHED"

    retry = PublishAttempt(first.details)
    found = publisher().find_existing(MARKER, retry)
    [media] = graph.fake.instagram_media()
    assert found is not None and found.remote_id == media.id
    assert graph.fake.quota_usage == 1


def test_publishing_limit_is_respected_before_anything_is_made(sites):
    graph, website = sites
    graph.fake.quota_usage = graph.fake.quota_total
    with pytest.raises(ChannelError) as limited:
        publisher().publish(news(), MARKER, attempt())
    assert not limited.value.retryable and "50 of its 50" in str(limited.value)
    assert not graph.fake.containers and not website.fake.media


def test_item_without_photos_is_refused(sites):
    with pytest.raises(ChannelError, match="at least one photo") as refused:
        publisher().publish(news(photos=0), MARKER, attempt())
    assert not refused.value.retryable


def test_expired_token(sites):
    graph, _ = sites
    graph.fake.expire_token(TOKEN)
    with pytest.raises(ChannelAuthError, match="warta_instagram"):
        publisher().publish(news(), MARKER, attempt())


def test_check_online_reads_the_media_back(sites):
    graph, _ = sites
    instagram = publisher()
    remote = instagram.publish(news(), MARKER, attempt())
    result = instagram.check_online(remote, news())
    assert result.ok, result.evidence
    assert result.evidence["permalink"] == remote.url and result.evidence["image_url"]

    graph.fake.ig_media.clear()
    assert not instagram.check_online(remote, news()).ok
