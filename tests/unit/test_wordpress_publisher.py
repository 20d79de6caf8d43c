"""The website channel against the WordPress contract fake: publishing, finding a post by
its marker after a lost answer (the exactly-once proof), error mapping, the online check."""

from __future__ import annotations

import logging
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.fakes.wordpress import FakeWordPress, Term, airflow_connection_json, png_bytes, serve_fake_wordpress
from warta.channels.base import ChannelAuthError, ChannelError, MediaFile, PostContent, publisher_for
from warta.channels.wordpress import WordPressPublisher
from warta.http_retry import retry_after_seconds as _retry_after_seconds
from warta.config import Channel

CONN_ID = "warta_website"
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
MARKER = "warta-42-website-1a2b3c4d5e"
CHANNEL = Channel(id="website", name_id="Website", name_en="Website", kind="wordpress", conn_id=CONN_ID,
                  options={"category": "Berita"})


def news(title: str = 'Kunjungan "Agro Eduwisata" ke kebun lada siswa SMK', **changes) -> PostContent:
    content = PostContent(
        title=title,
        body_html="<p>Siswa SMK belajar budidaya lada di kebun percobaan.</p>",
        excerpt="Siswa SMK belajar budidaya lada di kebun percobaan.",
        media=(
            MediaFile("kebun lada.png", png_bytes(20, 120, 40), "image/png", caption="Siswa di kebun lada"),
            MediaFile("panen.png", png_bytes(180, 60, 10), "image/png"),
        ),
        tags=("Eduwisata", "Lada", "eduwisata"),
    )
    return PostContent(**{**content.__dict__, **changes})


@pytest.fixture(params=[True, False], ids=["pretty-permalinks", "plain-permalinks"])
def site(request):
    running = serve_fake_wordpress(user="warta", application_password=PASSWORD, pretty_permalinks=request.param)
    yield running
    running.stop()


@pytest.fixture
def pretty_site():
    running = serve_fake_wordpress(user="warta", application_password=PASSWORD)
    yield running
    running.stop()


def connect(monkeypatch, site, *, login: str = "warta", password: str = PASSWORD,
            channel: Channel = CHANNEL) -> WordPressPublisher:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", airflow_connection_json(site, login=login, password=password))
    return WordPressPublisher(channel)


def post_link(site, post) -> str:
    if site.fake.pretty_permalinks:
        return f"{site.base_url}/{post.slug}/"
    return f"{site.base_url}/?p={post.id}"


# ----------------------------------------------------------------- publishing
def test_publish_creates_post_with_photos_category_and_tags(site, monkeypatch):
    publisher = connect(monkeypatch, site)

    remote = publisher.publish(news(), MARKER)

    fake = site.fake
    [post] = fake.posts.values()
    first, second = sorted(fake.media.values(), key=lambda m: m.id)
    assert (post.status, post.slug) == ("publish", MARKER)
    assert fake.term_names(post.categories) == ["Berita"]
    assert sorted(fake.term_names(post.tags)) == ["Eduwisata", "Lada"]
    assert post.featured_media == first.id
    assert (first.alt_text, first.caption) == ("Siswa di kebun lada", "Siswa di kebun lada")
    assert second.alt_text == news().title  # no caption: the title describes the photo
    assert first.data == news().media[0].data
    assert f"/wp-content/uploads/{second.path}" in post.content  # the other photo is in the text
    assert remote.remote_id == str(post.id)
    assert remote.url == post_link(site, post)
    assert remote.details["media_ids"] == [first.id, second.id]
    assert remote.details["featured_image_url"].endswith(f"/wp-content/uploads/{first.path}")
    assert remote.details["slug"] == MARKER
    page = httpx.get(remote.url)
    assert page.status_code == 200 and "Agro Eduwisata" in page.text


def test_publisher_for_the_website_channel_is_wordpress():
    assert isinstance(publisher_for(CHANNEL), WordPressPublisher)  # and needs no connection yet


def test_content_category_overrides_the_channel_default(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    publisher.publish(news(category="Pengumuman"), MARKER)
    [post] = pretty_site.fake.posts.values()
    assert pretty_site.fake.term_names(post.categories) == ["Pengumuman"]


def test_existing_terms_are_reused_even_with_escaped_names(pretty_site, monkeypatch):
    channel = Channel(id="website", name_id="Website", name_en="Website", kind="wordpress", conn_id=CONN_ID,
                      options={"category": "Berita & Acara"})
    connect(monkeypatch, pretty_site, channel=channel).publish(news(), MARKER)
    second = connect(monkeypatch, pretty_site, channel=channel)
    second.publish(news(title="Berita kedua"), "warta-43-website-ffffffffff")

    terms = [t.name for t in pretty_site.fake.terms.values()]
    assert sorted(terms) == ["Berita & Acara", "Eduwisata", "Lada", "Uncategorized"]
    assert len(pretty_site.fake.posts) == 2


def test_find_existing_finds_the_post_by_marker(site, monkeypatch):
    publisher = connect(monkeypatch, site)
    assert publisher.find_existing(MARKER) is None

    published = publisher.publish(news(), MARKER)
    found = connect(monkeypatch, site).find_existing(MARKER)

    assert found is not None
    assert (found.remote_id, found.url) == (published.remote_id, published.url)
    assert found.details["featured_image_url"] == published.details["featured_image_url"]
    assert connect(monkeypatch, site).find_existing("warta-42-website-0000000000") is None


def test_lost_answer_then_lookup_finds_exactly_one_post(site, monkeypatch):
    """The pipeline's exactly-once path: the post is made but the answer is lost; the retry
    looks the marker up first and finds the one post instead of posting again."""
    site.fake.accept_then_drop_next_post()

    with pytest.raises(ChannelError) as lost:
        connect(monkeypatch, site).publish(news(), MARKER)
    assert lost.value.retryable

    retry = connect(monkeypatch, site)
    found = retry.find_existing(MARKER)
    assert found is not None
    [post] = site.fake.posts.values()
    assert found.remote_id == str(post.id) and found.url == post_link(site, post)


def test_retry_after_a_failed_post_reuses_the_uploaded_media(pretty_site, monkeypatch):
    pretty_site.fake.fail_next(500, "internal_server_error", "There has been a critical error on this website.",
                               method="POST", route="/wp/v2/posts")
    with pytest.raises(ChannelError) as failed:
        connect(monkeypatch, pretty_site).publish(news(), MARKER)
    assert failed.value.retryable and "internal_server_error" in str(failed.value)

    retry = connect(monkeypatch, pretty_site)
    assert retry.find_existing(MARKER) is None
    retry.publish(news(), MARKER)

    assert len(pretty_site.fake.posts) == 1
    assert len(pretty_site.fake.media) == 2


def test_site_without_the_api_link_header_is_reached_through_rest_route(monkeypatch):
    with serve_fake_wordpress(application_password=PASSWORD, pretty_permalinks=False, advertise_api=False) as site:
        remote = connect(monkeypatch, site).publish(news(media=()), MARKER)
        assert remote.url == f"{site.base_url}/?p={remote.remote_id}"
        assert ("POST", "/wp/v2/posts") in site.fake.api_calls


def test_api_root_on_another_host_is_refused_without_sending_credentials(monkeypatch):
    with serve_fake_wordpress(application_password=PASSWORD, site_url="http://wordpress.example") as site:
        with pytest.raises(ChannelError) as refused:
            connect(monkeypatch, site).publish(news(), MARKER)
        assert not refused.value.retryable
        assert CONN_ID in str(refused.value) and "wordpress.example" in str(refused.value)
        assert not site.fake.api_calls


@pytest.mark.parametrize(
    ("api_root", "expected"),
    [
        ("http://h:8/wp-json/", "http://h:8/wp-json/wp/v2/posts"),
        ("http://h:8/?rest_route=/", "http://h:8/?rest_route=/wp/v2/posts"),
        ("https://h/blog/index.php?rest_route=/", "https://h/blog/index.php?rest_route=/wp/v2/posts"),
    ],
)
def test_endpoint_urls_for_both_api_root_forms(api_root, expected):
    publisher = WordPressPublisher(CHANNEL)
    publisher._api_root = api_root
    assert publisher._endpoint("/wp/v2/posts") == expected


# --------------------------------------------------------------------- errors
def test_wrong_application_password_is_an_auth_error_naming_the_connection(pretty_site, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wxyz WXYZ 9999 wxyz WXYZ 9999"

    with pytest.raises(ChannelAuthError) as refused:
        # The marker look-up comes first in the pipeline; as anonymous it would get a 400 about "status".
        connect(monkeypatch, pretty_site, password=wrong).find_existing(MARKER)

    message = str(refused.value)
    assert CONN_ID in message and "checking the login" in message and "Application Password" in message
    assert "rest_invalid_param" not in message
    assert not refused.value.retryable
    assert wrong not in message and wrong not in caplog.text
    assert not pretty_site.fake.posts


def test_connection_without_login_is_an_auth_error(pretty_site, monkeypatch):
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}",
                       f'{{"conn_type": "http", "host": "127.0.0.1", "port": {pretty_site.port}}}')
    with pytest.raises(ChannelAuthError, match="has no login"):
        WordPressPublisher(CHANNEL).publish(news(), MARKER)


def test_undefined_connection_is_an_auth_error(monkeypatch):
    monkeypatch.delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", raising=False)
    with pytest.raises(ChannelAuthError, match=CONN_ID):
        WordPressPublisher(CHANNEL).find_existing(MARKER)


def test_forbidden_is_an_auth_error(pretty_site, monkeypatch):
    pretty_site.fake.fail_next(403, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.",
                               method="POST", route="/wp/v2/posts")
    with pytest.raises(ChannelAuthError) as refused:
        connect(monkeypatch, pretty_site).publish(news(), MARKER)
    assert "rest_cannot_create" in str(refused.value) and CONN_ID in str(refused.value)


def test_rate_limit_carries_retry_after(pretty_site, monkeypatch):
    pretty_site.fake.fail_next(429, "rest_too_many_requests", "Too many requests.", headers={"Retry-After": "120"})
    with pytest.raises(ChannelError) as limited:
        connect(monkeypatch, pretty_site).find_existing(MARKER)
    assert limited.value.retryable and limited.value.retry_after == 120


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (500, "internal_server_error", True),
    (503, "service_unavailable", True),
    (400, "rest_invalid_param", False),
    (404, "rest_no_route", False),
])
def test_server_errors_are_retryable_and_other_client_errors_are_not(pretty_site, monkeypatch, status, code, retryable):
    pretty_site.fake.fail_next(status, code, "Something about this request.", method="POST", route="/wp/v2/media")
    with pytest.raises(ChannelError) as failed:
        connect(monkeypatch, pretty_site).publish(news(), MARKER)
    assert failed.value.retryable is retryable
    assert not isinstance(failed.value, ChannelAuthError)
    assert code in str(failed.value) and "Something about this request." in str(failed.value)


def test_unreachable_site_is_retryable(monkeypatch):
    site = serve_fake_wordpress(application_password=PASSWORD)
    publisher = connect(monkeypatch, site)
    site.stop()
    with pytest.raises(ChannelError) as unreachable:
        publisher.publish(news(), MARKER)
    assert unreachable.value.retryable


def test_retry_after_may_be_an_http_date():
    in_a_minute = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    assert 55 <= _retry_after_seconds(in_a_minute) <= 60
    assert _retry_after_seconds("7") == 7
    assert _retry_after_seconds("soon") is None


# --------------------------------------------------------------- online check
def test_check_online_passes_for_a_good_post(site, monkeypatch):
    publisher = connect(monkeypatch, site)
    remote = publisher.publish(news(), MARKER)

    result = publisher.check_online(remote, news())

    assert result.ok, result.evidence["failures"]
    assert result.http_status == 200
    evidence = result.evidence
    assert evidence["url"] == remote.url and evidence["status"] == 200 and evidence["elapsed_ms"] >= 0
    assert evidence["title_found"] and evidence["featured_image_found"]
    assert len(evidence["images"]) == 2 and all(image["ok"] for image in evidence["images"])
    assert [image["featured"] for image in evidence["images"]] == [True, False]
    assert evidence["links_checked"] >= 3 and evidence["broken_links"] == [] and evidence["failures"] == []


def test_check_online_reports_a_broken_image(site, monkeypatch):
    publisher = connect(monkeypatch, site)
    remote = publisher.publish(news(), MARKER)
    site.fake.break_media_file(remote.details["featured_media"])

    result = publisher.check_online(remote, news())

    assert not result.ok and result.http_status == 200
    [broken] = [image for image in result.evidence["images"] if not image["ok"]]
    assert broken["featured"] and broken["status"] == 404
    assert any("does not load" in failure for failure in result.evidence["failures"])


def test_check_online_reports_a_broken_link_in_the_text(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    content = news(body_html='<p>Lihat <a href="/tidak-ada/">laporan</a>.</p>')
    remote = publisher.publish(content, MARKER)

    result = publisher.check_online(remote, content)

    assert not result.ok
    assert result.evidence["broken_links"] == [{"url": f"{pretty_site.base_url}/tidak-ada/", "status": 404}]
    assert result.evidence["links_checked"] >= 4  # home, category, two tags, the broken one


def test_check_online_reports_a_missing_page(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(news(), MARKER)
    pretty_site.fake.set_post_status(int(remote.remote_id), "draft")

    result = publisher.check_online(remote, news())

    assert not result.ok and result.http_status == 404
    assert result.evidence["failures"] == ["the page answered HTTP 404"]


def test_check_online_reports_a_wrong_title(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(news(), MARKER)

    result = publisher.check_online(remote, news(title="Judul yang lain"))

    assert not result.ok and not result.evidence["title_found"]


# ------------------------------------------------------------------- the fake
def test_fake_drops_the_connection_after_saving_the_post(pretty_site):
    pretty_site.fake.accept_then_drop_next_post()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{pretty_site.base_url}/wp-json/wp/v2/posts", auth=("warta", PASSWORD),
                   json={"title": "Halo", "status": "publish"})
    assert [p.title for p in pretty_site.fake.posts.values()] == ["Halo"]


def test_fake_keeps_its_state_in_a_file(tmp_path):
    state = tmp_path / "sandbox.json"
    with serve_fake_wordpress(application_password=PASSWORD, state_file=state) as site:
        httpx.post(f"{site.base_url}/wp-json/wp/v2/media", auth=("warta", PASSWORD), content=png_bytes(),
                   headers={"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="a.png"'})
        httpx.post(f"{site.base_url}/wp-json/wp/v2/posts", auth=("warta", PASSWORD),
                   json={"title": "Tetap ada", "status": "publish", "featured_media": 1})
    restarted = FakeWordPress(application_password=PASSWORD, state_file=state)
    assert [p.title for p in restarted.published_posts()] == ["Tetap ada"]
    assert restarted.media[1].data == png_bytes()


# ------------------------------------------------------------------- fidelity
HTML_LIKE_TITLE = 'Rapat <b>evaluasi</b> & "sosialisasi" 3x4 -- Jum\'at... AT&amp;T <script>alert(1)</script> 🌾'


@pytest.mark.parametrize("role", ["administrator", "author"])
def test_text_fields_reach_the_public_page_as_typed_whatever_the_role(role, monkeypatch):
    running = serve_fake_wordpress(user="warta", application_password=PASSWORD, role=role)
    running.fake.terms[99] = Term(99, "category", "Berita", "berita")  # an Author may not create it
    try:
        excerpt = "Ringkasan <i>miring</i> & <script>x()</script>"
        caption = "Foto <b>lada</b> & panen"
        content = news(HTML_LIKE_TITLE, excerpt=excerpt,
                       media=(MediaFile("a.png", png_bytes(), "image/png", caption=caption),
                              MediaFile("b.png", png_bytes(1, 2, 3), "image/png", caption=caption)))
        publisher = connect(monkeypatch, running)
        remote = publisher.publish(content, MARKER)

        page = httpx.get(remote.url).text
        assert "<script>" not in page and "<b>evaluasi</b>" not in page and "<i>miring</i>" not in page
        text = _visible(page)
        shown_title = "Rapat <b>evaluasi</b> & \u201csosialisasi\u201d 3\u00d74 \u2014 Jum\u2019at\u2026 AT&amp;T " \
                      "<script>alert(1)</script> 🌾"
        assert shown_title in text
        assert "Foto <b>lada</b> & panen" in text  # the second photo's caption, in the content
        index = _visible(httpx.get(f"{running.base_url}/").text)
        assert "Ringkasan <i>miring</i> & <script>x()</script>" in index
        [first, _] = sorted(running.fake.media.values(), key=lambda m: m.id)
        assert 'alt="Foto &lt;b&gt;lada&lt;/b&gt; &amp; panen"' in page  # the featured image's alt text
        assert publisher.check_online(remote, content).ok
    finally:
        running.stop()


def test_raw_title_would_lose_its_text_for_an_author_and_run_for_an_administrator():
    """What the sandbox does with HTML sent raw, as WordPress does: the reason Warta escapes."""
    for role, expected in (("author", "Rapat <b>evaluasi</b> alert(1)"), ("administrator", None)):
        fake = FakeWordPress(user="warta", application_password=PASSWORD, role=role)
        client = httpx.Client(transport=httpx.WSGITransport(app=fake), base_url="http://wp.test")
        created = client.post("/wp-json/wp/v2/posts", auth=("warta", PASSWORD),
                              json={"title": "Rapat <b>evaluasi</b> <script>alert(1)</script>", "status": "publish"})
        rendered = created.json()["title"]["rendered"]
        if expected:
            assert rendered == expected
        else:
            assert "<script>alert(1)</script>" in rendered  # unfiltered_html: live markup


def test_online_check_passes_wptexturize_typography(pretty_site, monkeypatch):
    title = "Pameran \"UMKM\" 2x3 meter -- buka 08.00-16.00... it's (tm) ''kutip''"
    content = news(title)
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(content, MARKER)
    # Without the rendered title recorded (an older publication), the typography is undone instead.
    older = type(remote)(remote.remote_id, remote.url, {**remote.details, "title_rendered": ""})
    for post in (remote, older):
        result = publisher.check_online(post, content)
        assert result.ok, result.evidence["failures"]


def test_online_check_fails_when_the_site_shows_another_title(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(news(), MARKER)
    [post] = pretty_site.fake.posts.values()
    post.title = "Judul diganti"
    result = publisher.check_online(remote, news())
    assert not result.ok and "retitled" in result.evidence["failures"][0]


def test_online_check_fails_when_wordpress_altered_the_title_at_publishing(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(news(), MARKER)
    altered = type(remote)(remote.remote_id, remote.url, {**remote.details, "title_rendered": "Kunjungan ke kebun"})
    result = publisher.check_online(altered, news())
    assert not result.ok and "not as approved" in result.evidence["failures"][0]


def test_online_check_counts_an_html_page_as_a_broken_image(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    remote = publisher.publish(news(), MARKER)
    featured = pretty_site.fake.media[pretty_site.fake.posts[int(remote.remote_id)].featured_media]
    featured.data, featured.mime_type = b"<!doctype html><p>Halaman tidak ditemukan</p>", "text/html"
    result = publisher.check_online(remote, news())
    assert not result.ok
    assert any("not an image: Content-Type text/html" in failure for failure in result.evidence["failures"])
    featured.mime_type = "image/png"  # the right type, but not the bytes of an image
    result = publisher.check_online(remote, news())
    assert any("does not start like image/png" in failure for failure in result.evidence["failures"])


def test_shortcode_like_text_in_the_body_is_not_a_shortcode(pretty_site, monkeypatch):
    publisher = connect(monkeypatch, pretty_site)
    publisher.publish(news(body_html="<p>Ketik [gallery] untuk galeri</p>"), MARKER)
    [post] = pretty_site.fake.posts.values()
    assert "[gallery]" not in post.content and _visible(post.content) == "Ketik [gallery] untuk galeri"


# ------------------------------------------------------- credentials and roles
def test_a_role_that_may_not_publish_is_refused_before_anything_is_uploaded(monkeypatch):
    running = serve_fake_wordpress(user="warta", application_password=PASSWORD, role="contributor")
    try:
        with pytest.raises(ChannelAuthError) as refused:
            connect(monkeypatch, running).publish(news(), MARKER)
        assert "contributor" in str(refused.value) and "publish posts" in str(refused.value)
        assert CONN_ID in str(refused.value)
        assert not running.fake.media and not running.fake.posts
    finally:
        running.stop()


def test_concurrent_attempts_leave_one_post(pretty_site, monkeypatch):
    """Two attempts posting the same marker at once: the one WordPress gave ``slug-2``
    removes its own post and answers with the first."""
    first = connect(monkeypatch, pretty_site)
    second = WordPressPublisher(CHANNEL)
    import threading

    barrier = threading.Barrier(2)
    results = {}

    def attempt(name, publisher):
        barrier.wait()
        results[name] = publisher.publish(news(), MARKER)

    threads = [threading.Thread(target=attempt, args=(n, p)) for n, p in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posts = [p for p in pretty_site.fake.posts.values() if p.status != "trash"]
    assert len(posts) == 1 and posts[0].slug == MARKER
    assert results["a"].remote_id == results["b"].remote_id == str(posts[0].id)


def test_two_posts_stored_with_the_same_slug_leave_the_older(pretty_site, monkeypatch):
    """Real WordPress checks a slug and inserts the post without a lock: two inserts at the
    same moment can both keep the marker's slug. The younger attempt deletes its own."""
    monkeypatch.setattr(type(pretty_site.fake), "_unique_slug", lambda self, slug, exclude=None: slug)
    first = connect(monkeypatch, pretty_site).publish(news(), MARKER)
    second = WordPressPublisher(CHANNEL).publish(news(), MARKER)
    posts = [p for p in pretty_site.fake.posts.values() if p.status != "trash"]
    assert [str(p.id) for p in posts] == [first.remote_id] and posts[0].slug == MARKER
    assert second.remote_id == first.remote_id


def _visible(page: str) -> str:
    from warta.content import text_of_html

    return " ".join(text_of_html(page).split())


def test_a_long_file_name_is_uploaded_with_its_extension(pretty_site, monkeypatch):
    name = "Dokumentasi kegiatan " + "panjang sekali " * 20 + ".png"
    remote = connect(monkeypatch, pretty_site).publish(
        news(media=(MediaFile(name, png_bytes(), "image/png"),)), MARKER)
    [media] = pretty_site.fake.media.values()
    assert media.filename.endswith(".png") and len(media.filename) <= 120
    assert remote.details["featured_image_url"].endswith(".png")


def test_an_author_may_not_create_the_category_and_is_told_what_to_do(monkeypatch):
    running = serve_fake_wordpress(user="warta", application_password=PASSWORD, role="author")
    try:
        with pytest.raises(ChannelAuthError) as refused:
            connect(monkeypatch, running).publish(news(), MARKER)
        message = str(refused.value)
        assert "no category 'Berita'" in message and "author" in message and CONN_ID in message
        assert not running.fake.media and not running.fake.posts  # stopped before any upload
        running.fake.terms[99] = Term(99, "category", "Berita", "berita")  # an Editor created it
        connect(monkeypatch, running).publish(news(), MARKER)
        [post] = running.fake.posts.values()
        assert post.categories == [99] and len(running.fake.term_names(post.tags)) == 2  # tags: Authors may
    finally:
        running.stop()


def test_online_check_probes_a_few_addresses_at_once_and_keeps_their_order(monkeypatch):
    import threading
    import time as _time

    from warta.channels import wordpress as wp

    running, most = [0], [0]
    lock = threading.Lock()

    def probe(client, url):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        _time.sleep(0.05 * (10 - int(url.rsplit("/", 1)[1])))  # later addresses answer sooner
        with lock:
            running[0] -= 1
        return (404 if url.endswith("/3") else 200), None

    monkeypatch.setattr(wp, "_probe", probe)
    monkeypatch.setattr(wp, "_probe_image", probe)
    images, links = wp._probe_all(None, ["http://s/img/1", "http://s/img/2"], [f"http://s/a/{n}" for n in range(3, 9)])
    assert images == [(200, None), (200, None)]
    assert links == [(404, None)] + [(200, None)] * 5
    assert most[0] == wp.PROBES_AT_ONCE
