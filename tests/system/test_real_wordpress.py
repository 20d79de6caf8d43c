"""Publishing to a real WordPress (Debian's packages on 127.0.0.1, plain permalinks, an
Application Password over http): the publisher directly, then one item end to end through
the running Airflow stack; and every sandbox channel through the stack, as `make run` has them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes.graph import image_bytes
from tests.system.conftest import REAL_WEBSITE_CHANNEL, real_wordpress_connection_json, wait_until
from warta.channels.base import ChannelAuthError, MediaFile, PostContent
from warta.channels.wordpress import WordPressPublisher
from warta.config import Channel

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
        WordPressPublisher(CHANNEL).publish(news("Tidak boleh tayang"), "warta-9003-website-denied")
    # WordPress 6.1 answers a wrong Application Password with 401 (rest_not_logged_in or
    # incorrect_password, by endpoint): either way the message names the connection to fix.
    assert CONN_ID in str(refused.value) and "HTTP 401" in str(refused.value)
    assert "Application Password" in str(refused.value) and wrong["application_password"] not in str(refused.value)


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
