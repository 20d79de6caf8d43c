"""The desk in a real browser (Debian's chromium, headless, driven by Playwright) against
the running stack: people log in through Airflow's own login page and walk one item
intake → manuscript → correction → reject → revise → approve, on a phone-sized screen
(the reporter) and on desktops (the operator and the approver). Screenshots of every
page land in test-artifacts/desk/."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from tests.system.conftest import wait_until

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "desk"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def photo_png(width: int = 480, height: int = 300) -> bytes:
    """A small real photo stand-in (a green field under a sky), so previews show an image."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            row += bytes((40 + x * 60 // width, 150 + y * 60 // height, 60)) if y > height // 3 else bytes((120, 180, 235))
        rows.append(bytes(row))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


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


class Person:
    """One user in their own browser context, signed in through Airflow's login page."""

    def __init__(self, browser, stack, username: str, device: dict):
        self.stack = stack
        self.username = username
        self.context = browser.new_context(base_url=stack.url, locale="id-ID", timezone_id="Asia/Jakarta", **device)
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()

    def login(self, path: str = "/warta/desk/") -> None:
        page = self.page
        page.goto(path)
        page.wait_for_url(re.compile(r"/auth/login"))
        assert "next=" in page.url
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", self.stack.passwords()[self.username])
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/warta/desk/"))
        assert page.get_by_test_id("username").get_attribute("data-username") == self.username

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def open_item(self, item_id: int) -> None:
        self.page.goto(f"/warta/desk/items/{item_id}")

    def close(self) -> None:
        self.context.close()


def test_walk_an_item_through_the_desk_in_a_browser(stack, browser, tmp_path, users):
    photo = tmp_path / "kunjungan-kebun.png"
    photo.write_bytes(photo_png())
    reporter = Person(browser, stack, "pelaksana", PHONE)
    operator = Person(browser, stack, "operator", DESKTOP)
    approver = Person(browser, stack, "subkoor", DESKTOP)
    try:
        # --- Pelaksana Kegiatan, on a phone: intake form, with one mistake first
        reporter.login("/warta/desk/new")
        page = reporter.page
        assert page.url.endswith("/warta/desk/new")
        page.fill("#title", "Kunjungan agro eduwisata siswa SMAN 1 Pangkalpinang")
        page.fill("#place", "Kebun percontohan BSIP Babel")
        page.select_option("#service", "agro_eduwisata")
        page.fill("#notes", "Rombongan 40 siswa dan 3 guru.")
        page.set_input_files("#files", str(photo))
        reporter.shot("01-intake-form-phone")
        page.click("[data-testid=intake-form] button[type=submit]")  # no activity date yet
        assert page.locator("#activity_date-error").is_visible()
        assert page.input_value("#title") == "Kunjungan agro eduwisata siswa SMAN 1 Pangkalpinang"
        reporter.shot("02-intake-error-phone")
        page.fill("#activity_date", "2026-11-25")
        page.set_input_files("#files", str(photo))
        page.click("[data-testid=intake-form] button[type=submit]")
        page.wait_for_url(re.compile(r"/warta/desk/items/\d+\?created=1"))
        item_id = int(re.search(r"/items/(\d+)", page.url).group(1))
        assert "Berita dibuat" in page.get_by_test_id("notice").inner_text()
        assert page.get_by_test_id("airflow-run-link").count() == 0  # Airflow is not the reporter's tool
        wait_until(lambda: users["admin"].run_state(item_id, 1), what="the run started by the form")
        reporter.shot("03-item-created-phone")

        page.fill("#notes", "Dokumentasi lengkap: foto kegiatan di kebun.")
        page.click("[data-testid=step-form] button[type=submit]")
        page.wait_for_url(re.compile(r"done=meliput"))
        page.fill("#m-title", "Siswa SMAN 1 Pangkalpinang belajar di kebun percontohan")
        page.fill("#body", "Sebanyak 40 siswa SMAN 1 Pangkalpinang mengunjungi kebun percontohan BSIP Babel.\n\n"
                           "Mereka belajar <b>budidaya lada</b> dan cabai dari para penyuluh.")
        reporter.shot("04-manuscript-form-phone")
        page.click("[data-testid=step-form] button[type=submit]")
        page.wait_for_url(re.compile(r"done=menyusun"))
        assert "budidaya lada" in page.get_by_test_id("preview").inner_html()

        # --- Operator, on a desktop: the inbox, then the correction
        operator.login()
        inbox = operator.page.get_by_test_id("inbox")
        assert "Siswa SMAN 1 Pangkalpinang" in inbox.inner_text() or "Kunjungan agro" in inbox.inner_text()
        operator.shot("05-inbox-operator-desktop")
        operator.page.click(f"a[href$='/desk/items/{item_id}']")
        operator.page.get_by_test_id("facts").locator("summary").click()
        run_link = operator.page.get_by_test_id("airflow-run-link").first.get_attribute("href")
        assert run_link == f"/dags/warta_berita/runs/item-{item_id}-round-1"
        body = operator.page.input_value("#body")
        operator.page.fill("#body", body.replace("mengunjungi", "berkunjung ke").replace("para penyuluh", "penyuluh pertanian"))
        operator.page.click("[data-testid=step-form] button[type=submit]")
        operator.page.wait_for_url(re.compile(r"done=memeriksa"))
        diff = operator.page.get_by_test_id("diff").first.inner_html()
        assert "<del>" in diff and "<ins>" in diff
        operator.shot("06-correction-diff-desktop")

        # --- Subkoordinator: too short a reason first, then reject
        approver.login(f"/warta/desk/items/{item_id}")
        assert approver.page.url.endswith(f"/warta/desk/items/{item_id}")
        assert approver.page.locator("[data-testid=preview] img").count() >= 1
        approver.page.fill("#reason", "kurang")
        approver.page.click("button[value=reject]")
        assert approver.page.locator("#reason-error").is_visible()
        approver.shot("07-reject-reason-error-desktop")
        approver.page.fill("#reason", "Tambahkan kutipan dari guru pendamping.")
        approver.page.click("button[value=reject]")
        approver.page.wait_for_url(re.compile(r"done=menyetujui"))

        # --- Pelaksana revises in round 2
        reporter.page.goto("/warta/desk/")
        # Returned to its author: in "Tugas saya", marked "Ditolak".
        assert "Revisi ke-2" in reporter.page.get_by_test_id("inbox-mine").inner_text()
        assert reporter.page.get_by_test_id("returned").first.is_visible()
        reporter.shot("08-inbox-round-2-phone")
        reporter.open_item(item_id)
        assert "Tambahkan kutipan" in reporter.page.get_by_test_id("rejection").inner_text()
        revised = reporter.page.input_value("#body") + "\n\n“Siswa sangat antusias,” kata guru pendamping."
        reporter.page.fill("#body", revised)
        reporter.page.click("[data-testid=step-form] button[type=submit]")
        reporter.page.wait_for_url(re.compile(r"done=menyusun"))

        operator.open_item(item_id)
        operator.page.click("[data-testid=step-form] button[type=submit]")  # checked, no changes
        operator.page.wait_for_url(re.compile(r"done=memeriksa"))

        # --- Subkoordinator approves what the preview shows
        approver.open_item(item_id)
        preview = approver.page.get_by_test_id("preview")
        assert "Siswa sangat antusias" in preview.inner_text()
        assert preview.locator("b", has_text="budidaya lada").count() == 1
        approver.shot("09-decision-preview-desktop")
        approver.page.click("button[value=approve]")
        assert approver.page.get_by_test_id("confirm-channels").inner_text().strip() == "Website"
        approver.shot("09b-confirm-approval-desktop")
        approver.page.get_by_test_id("confirm-publish").click()
        approver.page.wait_for_url(re.compile(r"done=menyetujui"))

        def published() -> bool:
            approver.open_item(item_id)
            return approver.page.get_by_test_id("publication-link").count() > 0

        wait_until(published, timeout=150, what="the post to be published")
        approver.shot("10-published-desktop")
        reporter.page.goto(f"/warta/desk/items/{item_id}?lang=en")
        assert "Current step" in reporter.page.content()
        assert "WIB" in reporter.page.content()
        reporter.shot("11-item-english-phone")
    finally:
        for person in (reporter, operator, approver):
            person.close()


def test_airflow_run_page_links_to_the_item_in_the_desk(stack, browser, users):
    """The Airflow UI's run page has the plugin's "Warta: berita" tab: the desk's item page."""
    created = users["pelaksana"].http.post("/warta/api/v1/items", json={"title": "Tautan dari run Airflow"})
    item_id = created.json()["id"]
    wait_until(lambda: users["admin"].run_state(item_id, 1), what="the item's run")
    admin = Person(browser, stack, "admin", DESKTOP)
    try:
        admin.login()
        admin.page.goto(f"/dags/warta_berita/runs/item-{item_id}-round-1")
        tab = admin.page.get_by_text("Warta: berita").first
        tab.wait_for()
        tab.click()
        frame = admin.page.frame_locator("iframe").first
        frame.get_by_test_id("item-title").wait_for()
        assert frame.get_by_test_id("item-title").inner_text() == "Tautan dari run Airflow"
        # Inside Airflow's frame (Sec-Fetch-Dest: iframe) the desk drops its own header.
        assert frame.get_by_test_id("desk-header").count() == 0
        admin.shot("12-airflow-run-tab-desktop")
    finally:
        admin.close()
