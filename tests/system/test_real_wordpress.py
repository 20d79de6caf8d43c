"""Publishing to a real WordPress (Debian's packages on 127.0.0.1, plain permalinks, an
Application Password over http): the publisher directly, then one item end to end through
the running Airflow stack; and every sandbox channel through the stack, as `make run` has them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.fakes.graph import image_bytes
from tests.system.conftest import REAL_WEBSITE_CHANNEL, real_wordpress_connection_json, wait_until
from warta.channels.base import ChannelAuthError, MediaFile, PostContent
from warta.channels.typography import same_typography
from warta.channels.wordpress import WordPressPublisher
from warta.config import Channel
from warta.content import build_post_content, text_of_html

pytestmark = pytest.mark.wordpress

CONN_ID = "warta_real_wordpress"
CHANNEL = Channel(id="website", name_id="Website", name_en="Website", kind="wordpress", conn_id=CONN_ID,
                  options={"category": "Berita"})


def news(title: str) -> PostContent:
    return PostContent(
        title=title,
        body_html="<p>Siswa SMAN 1 Pangkalpinang belajar budidaya lada.</p>",
        excerpt="Siswa SMAN 1 Pangkalpinang belajar budidaya lada.",
        media=(MediaFile("kebun lada.jpg", image_bytes(900, 600), "image/jpeg", caption="Siswa di kebun lada"),
               MediaFile("panen.png", image_bytes(600, 600, "PNG", (200, 40, 40)), "image/png")),
        tags=("Eduwisata", "Lada"),
    )


def api_get(site: dict, route: str, **params) -> httpx.Response:
    """The real site's REST API through ?rest_route= (plain permalinks), as its user."""
    return httpx.get(f"{site['url']}/", params={"rest_route": route, **params},
                     auth=(site["user"], site["application_password"]), timeout=30)


def test_publisher_posts_photos_category_and_tags_to_a_real_wordpress(real_site, monkeypatch):
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", real_wordpress_connection_json(real_site))
    marker = "warta-9001-website-realwp001"
    publisher = WordPressPublisher(CHANNEL)
    assert publisher.find_existing(marker) is None

    remote = publisher.publish(news("Kunjungan agro eduwisata ke kebun lada"), marker)

    assert remote.url == f"{real_site['url']}/?p={remote.remote_id}"  # plain permalinks
    assert "rest_route=" in publisher._discover_api_root()
    post = api_get(real_site, f"/wp/v2/posts/{remote.remote_id}", context="edit").json()
    assert post["status"] == "publish" and post["slug"] == marker
    category_names = [api_get(real_site, f"/wp/v2/categories/{c}").json()["name"] for c in post["categories"]]
    tag_names = sorted(api_get(real_site, f"/wp/v2/tags/{t}").json()["name"] for t in post["tags"])
    assert category_names == ["Berita"] and tag_names == ["Eduwisata", "Lada"]
    featured = api_get(real_site, f"/wp/v2/media/{post['featured_media']}", context="edit").json()
    assert featured["alt_text"] == "Siswa di kebun lada" and featured["mime_type"] == "image/jpeg"
    assert len(remote.details["media_ids"]) == 2

    # A retry (a new process) finds the post by its marker instead of posting again.
    found = WordPressPublisher(CHANNEL).find_existing(marker)
    assert found is not None and found.remote_id == remote.remote_id and found.url == remote.url

    # Step 6 reads the public page anonymously: HTTP 200, title, featured image, links and images load.
    result = publisher.check_online(remote, news("Kunjungan agro eduwisata ke kebun lada"))
    assert result.ok, result.evidence["failures"]
    assert result.evidence["title_found"] and result.evidence["featured_image_found"]
    assert all(image["ok"] for image in result.evidence["images"]) and result.evidence["links_checked"] > 0


def test_photos_hosted_for_instagram_are_public_on_a_real_wordpress(real_site, monkeypatch):
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", real_wordpress_connection_json(real_site))
    media = (MediaFile("ig.jpg", image_bytes(1080, 1080), "image/jpeg"),)
    first = WordPressPublisher(CHANNEL).host_media(media, "warta-9002-instagram-ig", alt_text="Foto")
    again = WordPressPublisher(CHANNEL).host_media(media, "warta-9002-instagram-ig", alt_text="Foto")
    assert first == again  # found by slug, not uploaded twice
    response = httpx.get(first[0], timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"


def test_wrong_application_password_is_refused_by_a_real_wordpress(real_site, monkeypatch):
    wrong = {**real_site, "application_password": "wxyz WXYZ 9999 wxyz WXYZ 9999"}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", real_wordpress_connection_json(wrong))
    with pytest.raises(ChannelAuthError) as refused:
        # The pipeline's first call. Without the login check WordPress 6.1 (?rest_route=) takes the
        # wrong password for no login and the marker look-up fails with "400 rest_invalid_param: status".
        WordPressPublisher(CHANNEL).find_existing("warta-9003-website-denied")
    assert CONN_ID in str(refused.value) and "HTTP 401" in str(refused.value)
    assert "checking the login" in str(refused.value) and "rest_invalid_param" not in str(refused.value)
    assert "Application Password" in str(refused.value) and wrong["application_password"] not in str(refused.value)


# ------------------------------------------------------------------- fidelity
# Titles and excerpts as people type them: HTML-like text, quotes, ampersands (also one that
# looks like an entity), apostrophes, dashes, numbers with x, ellipsis, emoji, Indonesian.
HARD_TITLES = [
    'Rapat <b>evaluasi</b> & "sosialisasi" <script>alert(1)</script> di Jum\'at -- 3x4 meter... AT&amp;T 🌾',
    "Harga cabai naik 10% - 15%: <i>petani</i> 'senang' & pedagang \"resah\"",
    "Penyuluhan 2x seminggu --- benih 5x5 cm <img src=x onerror=alert(2)> 🚜🇮🇩",
    "Kunjungan Bupati ke UPBS: «benih unggul» & <a href='https://contoh.id'>tautan</a> (tm)",
]
HARD_EXCERPT = "Ringkasan <em>uji</em> & \"kutip\" — <script>document.write('x')</script> 2x3 ... selesai 🌾"


def _as(role: str, site: dict, monkeypatch) -> WordPressPublisher:
    user, password = ((site["user"], site["application_password"]) if role == "administrator"
                      else (site["author_user"], site["author_application_password"]))
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}",
                       real_wordpress_connection_json({**site, "user": user, "application_password": password}))
    return WordPressPublisher(CHANNEL)


def _fidelity_content(title: str) -> PostContent:
    photo = MediaFile("foto uji.jpg", image_bytes(640, 480), "image/jpeg", caption=f"Keterangan: {title}")
    second = MediaFile("kedua.png", image_bytes(320, 320, "PNG", (10, 90, 200)), "image/png",
                       caption="Foto <b>kedua</b> & terakhir")
    return PostContent(title=title, body_html="<p>Isi berita &lt;b&gt;tetap teks&lt;/b&gt; &amp; [gallery].</p>",
                       excerpt=HARD_EXCERPT, media=(photo, second))


def _elements(page: str) -> list[tuple[str, dict, str]]:
    """Every element of the page as (tag, attributes, its first text)."""
    from html.parser import HTMLParser

    found: list[list] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append([tag, dict(attrs), ""])

        def handle_data(self, data):
            if found and not found[-1][2]:
                found[-1][2] = data

    Reader(convert_charrefs=True).feed(page)
    return [tuple(e) for e in found]


def _element_text(page: str, pattern: str) -> list[str]:
    return [" ".join(text_of_html(found).split()) for found in re.findall(pattern, page, re.S)]


@pytest.mark.parametrize("role", ["administrator", "author"])
def test_html_like_titles_and_excerpts_are_shown_as_typed(real_site, monkeypatch, role):
    publisher = _as(role, real_site, monkeypatch)
    assert publisher.verify_credentials()["roles"] == [role]
    for number, title in enumerate(HARD_TITLES, start=1):
        content = _fidelity_content(title)
        remote = publisher.publish(content, f"warta-95{number}-website-{role[:5]}")
        page = httpx.get(remote.url, timeout=30).text
        # No live markup from any text field, whatever the role.
        elements = _elements(page)
        assert not [e for e in elements if e[0] == "script" and "alert" in e[2]]
        assert not [e for e in elements if "onerror" in e[1] or e[1].get("href") == "https://contoh.id"]
        assert not [e for e in elements if e[0] in ("b", "i") and e[2] in ("evaluasi", "petani", "kedua")]
        [heading] = _element_text(page, r'<h1[^>]*wp-block-post-title[^>]*>(.*?)</h1>')
        assert same_typography(heading, title), heading  # as typed, up to wptexturize's typography
        body = " ".join(text_of_html(page).split())
        assert "Isi berita <b>tetap teks</b> & [gallery]." in body
        assert "Foto <b>kedua</b> & terakhir" in body  # the second photo's caption, in the content
        alts = [text_of_html(alt) for alt in re.findall(r'<img[^>]*alt="([^"]*)"', page)]
        assert f"Keterangan: {title}" in [" ".join(a.split()) for a in alts] or any(
            same_typography(a, f"Keterangan: {title}") for a in alts), alts
        result = publisher.check_online(remote, content)
        assert result.ok, result.evidence["failures"]
    # The excerpt, where the theme shows it: the front page's post list.
    front = httpx.get(f"{real_site['url']}/", timeout=30).text
    excerpts = _element_text(front, r'wp-block-post-excerpt__excerpt">(.*?)</p>')
    assert excerpts and all(same_typography(shown, HARD_EXCERPT) for shown in excerpts[:len(HARD_TITLES)]), excerpts


def test_the_online_check_fails_clearly_on_a_changed_post(real_site, monkeypatch):
    publisher = _as("administrator", real_site, monkeypatch)
    title = 'Pengecekan "daring" -- 2x uji'
    content = _fidelity_content(title)
    remote = publisher.publish(content, "warta-9601-website-check")
    assert publisher.check_online(remote, content).ok
    auth = (real_site["user"], real_site["application_password"])
    post_url = f"{real_site['url']}/?rest_route=/wp/v2/posts/{remote.remote_id}"

    httpx.post(post_url, json={"title": "Judul lain"}, auth=auth, timeout=30).raise_for_status()
    retitled = publisher.check_online(remote, content)
    assert not retitled.ok and "retitled" in retitled.evidence["failures"][0]
    httpx.post(post_url, json={"title": title}, auth=auth, timeout=30).raise_for_status()
    assert publisher.check_online(remote, content).ok

    # The featured image's file replaced by an HTML page (served as image/jpeg by its name).
    media = api_get(real_site, f"/wp/v2/media/{remote.details['featured_media']}", context="edit").json()
    path = Path("/var/lib/wordpress/wp-content/uploads") / media["media_details"]["file"]
    original = path.read_bytes()
    path.write_bytes(b"<!doctype html><html><body>Not Found</body></html>")
    try:
        broken = publisher.check_online(remote, content)
        assert not broken.ok and any("not an image" in failure for failure in broken.evidence["failures"])
    finally:
        path.write_bytes(original)

    httpx.post(post_url, json={"status": "draft"}, auth=auth, timeout=30).raise_for_status()
    drafted = publisher.check_online(remote, content)
    assert not drafted.ok and "HTTP 404" in drafted.evidence["failures"][0]
    httpx.post(post_url, json={"status": "publish"}, auth=auth, timeout=30).raise_for_status()
    httpx.delete(post_url, auth=auth, timeout=30).raise_for_status()  # to the trash
    trashed = publisher.check_online(remote, content)
    assert not trashed.ok and "HTTP 404" in trashed.evidence["failures"][0]


def test_an_author_is_told_to_create_a_missing_category(real_site, monkeypatch):
    channel = Channel(id="website", name_id="Website", name_en="Website", kind="wordpress", conn_id=CONN_ID,
                      options={"category": "Kategori Baru Uji"})
    _as("author", real_site, monkeypatch)
    with pytest.raises(ChannelAuthError) as refused:
        WordPressPublisher(channel).publish(news("Kategori belum ada"), "warta-9702-website-category")
    assert "no category 'Kategori Baru Uji'" in str(refused.value) and "author" in str(refused.value)
    assert api_get(real_site, "/wp/v2/posts", search="Kategori belum ada", status="publish,draft").json() == []


def test_two_attempts_at_the_same_moment_leave_one_post(real_site, monkeypatch):
    _as("administrator", real_site, monkeypatch)
    marker = "warta-9701-website-race"
    content = news("Dua percobaan sekaligus")
    barrier = threading.Barrier(2)
    results = []

    def attempt() -> None:
        publisher = WordPressPublisher(CHANNEL)
        publisher.verify_credentials()
        barrier.wait()
        results.append(publisher.publish(content, marker))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posts = api_get(real_site, "/wp/v2/posts", search="Dua percobaan sekaligus", status="publish,draft,trash",
                    context="edit").json()
    assert [p["status"] for p in posts] == ["publish"] and posts[0]["slug"] == marker
    assert {r.remote_id for r in results} == {str(posts[0]["id"])}


def test_a_long_file_name_is_published_with_its_extension(real_site, monkeypatch):
    publisher = _as("author", real_site, monkeypatch)
    name = "Dokumentasi kegiatan penyuluhan " + "sangat panjang " * 25 + ".jpg"
    content = PostContent(title="Nama berkas panjang", body_html="<p>Isi.</p>", excerpt="Isi.",
                          media=(MediaFile(name, image_bytes(400, 300), "image/jpeg"),))
    remote = publisher.publish(content, "warta-9801-website-longname")
    assert remote.details["featured_image_url"].endswith(".jpg")
    assert publisher.check_online(remote, content).ok


# ------------------------------------------------------------- through Airflow
def _warta(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "warta"), *args], env=stack.env(),
                          capture_output=True, text=True, timeout=120)


def _approve(users, item_id: int, title: str) -> None:
    reporter, operator, approver = users["pelaksana"], users["operator"], users["subkoor"]
    wait_until(lambda: reporter.ti_state(item_id, 1, "meliput") == "deferred", what="the item's run to park")
    assert reporter.record(item_id, "meliput", notes="Foto lengkap").status_code == 200
    assert reporter.record(item_id, "menyusun", title=title,
                           body="Siswa belajar budidaya lada.\n\nKata guru: sangat bermanfaat.").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    assert approver.record(item_id, "menyetujui", decision="approve").status_code == 200


def _create_with_photo(stack, tmp_path, title: str, channels: list[str]) -> int:
    photo = tmp_path / "kebun.jpg"
    photo.write_bytes(image_bytes(1200, 800))
    args = ["--json", "create", "--as", "pelaksana", "--title", title, "--file", str(photo)]
    for channel in channels:
        args += ["--channel", channel]
    created = _warta(stack, *args)
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)["id"]


@pytest.mark.system
def test_item_is_published_to_a_real_wordpress_and_checked_online(stack, users, real_site, tmp_path):
    title = "Siswa SMAN 1 belajar budidaya lada di WordPress nyata"
    item_id = _create_with_photo(stack, tmp_path, "Kunjungan kebun lada", [REAL_WEBSITE_CHANNEL])
    _approve(users, item_id, title)

    reporter = users["pelaksana"]
    wait_until(lambda: reporter.run_state(item_id, 1) in ("success", "failed"), timeout=180, what="the run to end")
    history = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()
    assert reporter.run_state(item_id, 1) == "success", history["publications"]
    [publication] = history["publications"]
    assert publication["status"] == "published" and publication["url"].startswith(real_site["url"] + "/?p=")
    [check] = history["checks"]
    assert check["ok"] and check["http_status"] == 200 and check["evidence"]["featured_image_found"]
    assert history["current_step"] == "selesai" and history["archive"]["key"]

    page = httpx.get(publication["url"], timeout=30)  # as any reader
    assert page.status_code == 200 and title in page.text
    post = api_get(real_site, f"/wp/v2/posts/{publication['remote_id']}").json()
    assert post["featured_media"] and post["title"]["rendered"] == title


@pytest.mark.system
def test_item_reaches_every_sandbox_channel_through_the_stack(stack, users, social, website, tmp_path):
    title = "Layanan UPBS benih padi untuk kelompok tani"
    item_id = _create_with_photo(stack, tmp_path, "Layanan UPBS", ["website", "facebook", "instagram", "x"])
    _approve(users, item_id, title)

    reporter, admin = users["pelaksana"], users["admin"]
    wait_until(lambda: reporter.run_state(item_id, 1) in ("success", "failed"), timeout=240, what="the run to end")
    history = reporter.http.get(f"/warta/api/v1/items/{item_id}").json()
    assert reporter.run_state(item_id, 1) == "success", history["publications"]
    assert {p["channel"]: p["status"] for p in history["publications"]} == {
        "website": "published", "facebook": "published", "instagram": "published", "x": "published"}
    assert {c["channel"] for c in history["checks"] if c["ok"]} == {"website", "facebook", "instagram", "x"}

    graph, x_api = social["graph"].fake, social["x"].fake
    assert [p.message.split("\n")[0] for p in graph.page_posts()].count(title) == 1
    assert [m.caption.split("\n")[0] for m in graph.instagram_media()].count(title) == 1
    [tweet] = [t for t in x_api.timeline() if t.text.startswith(title)]
    website_url = next(p["url"] for p in history["publications"] if p["channel"] == "website")
    assert website_url in tweet.text
    # The rotated X tokens are kept in an Airflow Variable for the next task process.
    variable = admin.http.get("/api/v2/variables/warta_x_oauth_token_warta_x")
    assert variable.status_code == 200
