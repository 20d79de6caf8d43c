"""Whose turn it is and failed publications, against the running stack, in Debian's
chromium on a phone (390×844): every hand-off alerts the next role (and the desk counts
it unread), a rejection goes back to the author with the reason, and a website post that
failed is "Gagal terbit" at the top of the Operator's inbox and the item page, until
"Coba lagi" clears exactly that mapped task in Airflow and the item is published.
Screenshots land in test-artifacts/desk-flow/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.system.conftest import wait_until
from tests.system.test_desk_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, Person

pytestmark = pytest.mark.system

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "desk-flow"


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make browser-deps`")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def shot(person: Person, name: str) -> None:
    person.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _my_alerts(client) -> dict:
    response = client.http.get("/warta/api/v1/me/alerts")
    assert response.status_code == 200, response.text
    return response.json()


def _ti(client, item_id: int, task_id: str, map_index: int) -> str | None:
    response = client.http.get(f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances/"
                               f"{task_id}/{map_index}")
    return response.json().get("state") if response.status_code == 200 else None


def test_hand_offs_alert_the_next_role_and_a_rejection_the_author(stack, users, browser):
    reporter, operator, approver = users["pelaksana"], users["operator"], users["subkoor"]
    item_id = reporter.create(title="Panen raya padi di Desa Namang", channels=["website"])["id"]
    before = _my_alerts(operator)["unread"]
    assert reporter.record(item_id, "meliput", notes="Foto panen").status_code == 200
    assert reporter.record(item_id, "menyusun", title="Panen raya padi di Namang",
                           body="Petani Namang memanen padi varietas unggul.").status_code == 200
    mine = _my_alerts(operator)
    assert mine["unread"] == before + 1
    newest = mine["alerts"][0]
    assert newest["kind"] == "handoff" and newest["item_id"] == item_id and newest["step"] == "memeriksa"
    assert operator.record(item_id, "memeriksa").status_code == 200
    assert [a["kind"] for a in _my_alerts(approver)["alerts"] if a["item_id"] == item_id] == ["handoff"]
    rejected = approver.record(item_id, "menyetujui", decision="reject",
                               reason="Tambahkan jumlah hasil panen per hektare")
    assert rejected.status_code == 200
    [back] = [a for a in _my_alerts(reporter)["alerts"] if a["item_id"] == item_id]
    assert back["kind"] == "rejection" and "Tambahkan jumlah hasil panen per hektare" in back["message"]
    # Delivered through the notifiers after the commit, as every alert is (sent or kept for a retry).
    wait_until(lambda: any(d["status"] != "pending" for d in
                           [a for a in _my_alerts(reporter)["alerts"] if a["id"] == back["id"]][0]["delivered"]),
               what="the rejection's delivery")

    # The author, on a phone: the nav counts it, the inbox shows it first and marked "Ditolak".
    person = Person(browser, stack, "pelaksana", PHONE)
    try:
        person.login()
        page = person.page
        assert int(page.get_by_test_id("unread-count").inner_text().split()[0]) >= 1
        mine = page.get_by_test_id("inbox-mine")
        assert "Ditolak" in mine.get_by_test_id("returned").first.inner_text()
        shot(person, "01-inbox-returned-phone")
        page.get_by_test_id("nav-alerts").click()
        page.wait_for_url(re.compile(r"/warta/desk/alerts"))
        first = page.get_by_test_id("alert").first
        assert first.get_attribute("data-kind") == "rejection" and first.get_attribute("data-read") == "no"
        shot(person, "02-alerts-phone")
        first.get_by_test_id("open-alert").click()
        page.wait_for_url(re.compile(rf"/warta/desk/items/{item_id}"))
        page.goto("/warta/desk/alerts")
        assert page.get_by_test_id("alert").first.get_attribute("data-read") == "yes"
        # Take the revision so colleagues see who has it.
        page.goto(f"/warta/desk/items/{item_id}")
        page.get_by_test_id("claim-button").click()
        page.wait_for_url(re.compile(r"\?claimed=1"))
        assert "Sedang Anda kerjakan" in page.get_by_test_id("claimed-by").inner_text()
        shot(person, "03-item-claimed-phone")
    finally:
        person.close()
    taken = users["pelaksana2"].http.post(f"/warta/api/v1/items/{item_id}/steps/menyusun/claim")
    assert taken.status_code == 409


def test_a_failed_publication_is_retried_once_from_the_desk(stack, users, browser, website):
    reporter, operator, approver, admin = users["pelaksana"], users["operator"], users["subkoor"], users["admin"]
    item_id = reporter.create(title="Bimtek pengolahan lada putih", channels=["website"])["id"]
    assert reporter.record(item_id, "meliput", notes="Foto bimtek").status_code == 200
    assert reporter.record(item_id, "menyusun", title="Bimtek pengolahan lada putih Muntok",
                           body="Petani lada belajar pascapanen.").status_code == 200
    assert operator.record(item_id, "memeriksa").status_code == 200
    # The website refuses the post once, as WordPress does when the application password is revoked.
    website.fake.fail_next(401, "rest_not_logged_in", "You are not currently logged in.", method="POST",
                           route="/wp/v2/posts")
    assert approver.record(item_id, "menyetujui", decision="approve").status_code == 200
    wait_until(lambda: _ti(admin, item_id, "updating", 0) == "failed", timeout=180, what="the website task to fail")
    [failure] = [f for f in operator.http.get("/warta/api/v1/failures").json() if f["item_id"] == item_id]
    assert failure["cause"] == "auth" and failure["channel"] == "website"
    assert operator.http.get(f"/warta/api/v1/items/{item_id}").json()["status"] == "failed"

    person = Person(browser, stack, "operator", PHONE)
    try:
        person.login()
        page = person.page
        block = page.get_by_test_id("channel-failures")
        assert "Gagal terbit: Website" in block.inner_text()
        shot(person, "04-inbox-failure-phone")
        person.open_item(item_id)
        block = page.get_by_test_id("channel-failures")
        # On the first screen, right under the title and its state, above the live posts.
        assert page.get_by_test_id("item-title").bounding_box()["y"] < block.bounding_box()["y"] < 844
        assert "token kedaluwarsa" in block.get_by_test_id("failure-cause").inner_text()
        assert "berjalan otomatis" not in page.content()
        assert not block.get_by_test_id("failure-raw").is_visible()
        block.locator("summary").click()
        assert "rest_not_logged_in" in block.get_by_test_id("failure-raw").inner_text()
        shot(person, "05-item-failure-phone")
        block.get_by_test_id("retry").click()
        page.wait_for_url(re.compile(r"\?retrying=website"))
        assert "Sedang dicoba lagi" in page.get_by_test_id("retry-notice").inner_text()
        shot(person, "06-item-retrying-phone")
    finally:
        person.close()
    # A second click while the first retry runs: 409, and nothing else cleared.
    again = operator.http.post(f"/warta/api/v1/items/{item_id}/publications/website/retry")
    assert again.status_code == 409
    try:
        wait_until(lambda: admin.run_state(item_id, 1) == "success", timeout=300, what="the retried run to succeed")
    except AssertionError:
        tis = admin.http.get(f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances").json()
        raise AssertionError([(t["task_id"], t["map_index"], t["state"], t.get("rendered_map_index"))
                              for t in tis["task_instances"]]) from None
    labels = {(t["task_id"], t["rendered_map_index"]) for t in admin.http.get(
        f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1/taskInstances").json()["task_instances"]
        if t["task_id"] in ("updating", "pengecekan")}
    assert labels == {("updating", "Website"), ("pengecekan", "Website")}
    run = admin.http.get(f"/api/v2/dags/warta_berita/dagRuns/item-{item_id}-round-1").json()
    assert run["note"] == "Berita baru: Bimtek pengolahan lada putih"
    history = operator.http.get(f"/warta/api/v1/items/{item_id}").json()
    assert [p["status"] for p in history["publications"]] == ["published"]
    assert [e["actor"] for e in history["audit"] if e["action"] == "publish_retry"] == ["operator"]
    assert len(website.fake.published_posts()) >= 1
