"""The desk on a phone in a real browser (Debian's chromium, headless, Playwright) without
the Airflow stack: the web app served by uvicorn in a thread on a SQLite editorial DB,
each person signed in by the tests' header authenticator (the real login is covered by
tests/system/test_desk_browser.py). Every check looks at a 390×844 screen; screenshots
land in test-artifacts/desk-phone/ and axe-core (axe-playwright-python) checks the main
pages for serious and critical accessibility violations.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.fakes.wordpress import png_bytes
from tests.unit.conftest import FakeClock, Flow
from tests.unit.test_desk import HeaderAuth
from warta import db
from warta.config import get_config
from warta.service import EditorialService, Upload
from warta.storage import Storage
from warta.web import app as web_app
from warta.web import deps

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "desk-phone"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
LONG_TITLE = ("Kunjungan agro eduwisata siswa SMAN 1 Pangkalpinang ke kebun percontohan BSIP Kepulauan "
              "Bangka Belitung untuk belajar budidaya lada dan cabai")
BODY = "\n\n".join(
    f"Paragraf {n}: sebanyak 40 siswa SMAN 1 Pangkalpinang mengunjungi kebun percontohan BSIP Babel dan "
    "belajar budidaya lada serta cabai dari para penyuluh pertanian yang mendampingi." for n in range(1, 9))


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """(base URL, service, flow) of a desk served on a free local port."""
    import uvicorn

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make browser-deps)")
    folder = tmp_path_factory.mktemp("desk-phone")
    url = f"sqlite:///{folder / 'editorial.db'}"
    db.upgrade(url)
    clock = FakeClock()
    service = EditorialService(db.session_factory(url), get_config(), Storage(str(folder / "files")), clock=clock)
    app = web_app.create_app(auth=HeaderAuth())
    app.dependency_overrides[deps.editorial_service] = lambda: service
    root = FastAPI()
    root.mount("/warta", app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the desk did not start")
        time.sleep(0.05)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield f"http://127.0.0.1:{port}", service, Flow(service, clock)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose_all()


@pytest.fixture(scope="module")
def browser(desk):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(desk, browser):
    """A phone signed in as a user: ``phone("subkoor")`` → a Playwright page."""
    contexts = []

    def open_as(username: str, **extra):
        context = browser.new_context(base_url=desk[0], locale="id-ID", timezone_id="Asia/Jakarta",
                                      extra_http_headers={"Authorization": f"Bearer {username}"}, **PHONE, **extra)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-screen.png"))


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def item_at_decision(flow: Flow, channels=("website", "facebook", "instagram", "x")) -> int:
    item_id = flow.create(title=LONG_TITLE, place="Kebun percontohan BSIP Babel", channels=list(channels),
                          notes="Rombongan 40 siswa dan 3 guru.",
                          uploads=[Upload(filename="kebun.png", data=png_bytes())])
    flow.cover(item_id)
    flow.write(item_id, title="Siswa SMAN 1 Pangkalpinang belajar di kebun percontohan", body=BODY)
    flow.correct(item_id, body=BODY.replace("mengunjungi", "berkunjung ke"))
    return item_id


def published_item(flow: Flow, service: EditorialService, *, fail: str | None = "x") -> int:
    """Rejected once, approved in round 2, posted to every channel but ``fail``."""
    item_id = item_at_decision(flow)
    flow.reject(item_id, reason="Tambahkan kutipan dari guru pendamping.")
    flow.write(item_id, title="Siswa SMAN 1 Pangkalpinang belajar di kebun percontohan", body=BODY + "\n\nKutipan.")
    flow.correct(item_id, body=BODY + "\n\nKutipan guru.")
    flow.approve(item_id)
    for channel in ("website", "facebook", "instagram", "x"):
        publication = service.publication_intent(item_id, channel)
        if channel == fail:
            service.publication_failed(publication.id, "403 Forbidden: You are not permitted to perform this action.")
        else:
            service.publication_done(publication.id, remote_id=f"{channel}-1",
                                     url=f"https://example.go.id/{channel}/siswa-sman-1-belajar-{item_id}")
    return item_id


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def in_first_screen(page, selector: str) -> bool:
    """Whether the element is wholly inside the 390×844 screen at the top of the page."""
    found = box(page, selector)
    return found["y"] >= 0 and found["y"] + found["height"] <= PHONE["viewport"]["height"]


def small_tap_targets(page, scope: str = "body") -> list[str]:
    """Links, buttons and summaries under ``scope`` smaller than 44×44 CSS px (WCAG 2.5.5)."""
    return page.evaluate("""scope => [...document.querySelectorAll(scope)].flatMap(root =>
        [...root.querySelectorAll('a[href], button, summary, input[type=checkbox]')]
          .filter(el => el.offsetParent !== null && !el.closest('.post, .post-body, .diff-body, p, li.meta'))
          .map(el => { const r = (el.closest('label') || el).getBoundingClientRect();
                       return [el.outerHTML.slice(0, 80), r.width, r.height]; })
          .filter(([, w, h]) => w < 44 || h < 44).map(([html, w, h]) => `${html} ${w}x${h}`))""", scope)


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_deciding_on_a_phone_preview_first_sticky_bar_confirmation(desk, phone):
    _, service, flow = desk
    item_id = item_at_decision(flow)
    page = phone("subkoor")
    page.goto(f"/warta/desk/items/{item_id}")
    shot(page, "01-decision-first-screen")
    # The first screen: the title, the state and what to do next, and the bar to decide with.
    for selector in ("[data-testid=item-title]", "[data-testid=next-step]", "[data-testid=decision-bar]"):
        assert in_first_screen(page, selector), selector
    assert "Giliran Anda" in page.get_by_test_id("next-step").inner_text()
    # The preview comes first; the decision bar stays at the bottom of the screen while it is read.
    assert box(page, "[data-testid=preview]")["y"] < box(page, "[data-testid=decision-bar]")["y"]
    preview = box(page, "[data-testid=preview]")
    page.mouse.wheel(0, preview["height"] / 2)
    page.wait_for_timeout(200)
    bar = page.get_by_test_id("decision-bar").bounding_box()
    assert abs(bar["y"] + bar["height"] - PHONE["viewport"]["height"]) < 2, bar
    page.screenshot(path=str(SHOTS / "02-decision-reading-preview-screen.png"))
    assert small_tap_targets(page, "header, [data-testid=decision-bar], #reject, [data-testid=next-step]") == []
    assert serious_violations(page) == []
    height = page_height(page)

    page.get_by_test_id("approve").click()
    page.wait_for_load_state()
    confirm = page.get_by_test_id("confirm-approval")
    assert confirm.is_visible() and in_first_screen(page, "[data-testid=confirm-approval]")
    assert page.get_by_test_id("confirm-channels").locator("li").all_inner_texts() == [
        "Website", "Facebook", "Instagram", "X"]
    assert service.get_item(item_id)["current_step"] == "menyetujui"  # nothing published yet
    shot(page, "03-confirm-approval")
    assert serious_violations(page) == []
    page.get_by_test_id("confirm-publish").click()
    page.wait_for_url(re.compile(r"done=menyetujui"))
    assert in_first_screen(page, "[data-testid=notice]")
    assert service.get_item(item_id)["status"] == "publishing"
    shot(page, "04-approved")
    print(f"decision_page_height_px={height}")


def test_rejecting_on_a_phone_error_summary_takes_focus_and_presets(desk, phone):
    _, service, flow = desk
    item_id = item_at_decision(flow)
    page = phone("subkoor")
    page.goto(f"/warta/desk/items/{item_id}")
    page.get_by_test_id("to-reject").click()
    assert page.url.endswith("#reject")
    page.fill("#reason", "kurang")
    page.get_by_test_id("reject").click()
    page.wait_for_load_state()
    summary = page.get_by_test_id("form-problem")
    assert page.evaluate("document.activeElement.dataset.testid") == "form-problem"
    assert in_first_screen(page, "[data-testid=form-problem]")
    assert "minimal 12 karakter" in summary.inner_text()
    shot(page, "05-reject-error-summary")
    assert serious_violations(page) == []
    summary.get_by_test_id("error-link-reason").click()
    assert page.url.endswith("#reason")
    page.wait_for_timeout(200)
    assert page.locator("#reason").evaluate("el => el.getBoundingClientRect().top") < PHONE["viewport"]["height"]
    assert page.input_value("#reason") == "kurang"  # what was typed is kept
    page.check("input[name=reason_codes][value=kutipan]")
    page.fill("#reason", "")
    assert small_tap_targets(page, "#reject") == []
    page.get_by_test_id("reject").click()
    page.wait_for_url(re.compile(r"done=menyetujui"))
    assert service.history(item_id)["records"][-1]["reason"] == "Tambahkan kutipan narasumber"


def test_a_published_item_on_a_phone_shows_posts_first_and_folds_the_rest(desk, phone):
    _, service, flow = desk
    item_id = published_item(flow, service)
    page = phone("pelaksana")
    page.goto(f"/warta/desk/items/{item_id}")
    shot(page, "06-published-item")
    links = box(page, "[data-testid=publication-link]")
    height = page_height(page)
    assert in_first_screen(page, "[data-testid=item-title]") and in_first_screen(page, "[data-testid=next-step]")
    assert "gagal terbit" in page.get_by_test_id("next-step").inner_text()
    assert in_first_screen(page, "[data-testid=publication-link]")
    channels = page.locator("[data-testid=publications] li[data-channel]").evaluate_all(
        "items => items.map(li => li.dataset.channel)")
    assert channels == ["website", "facebook", "instagram", "x"]
    # The raw platform error waits behind a toggle; facts, history and versions are folded.
    assert not page.get_by_text("403 Forbidden").is_visible()
    for fold in ("preview-card", "facts", "documentation", "history", "versions"):
        assert page.get_by_test_id(fold).get_attribute("open") is None, fold
    page.get_by_test_id("history").locator("summary").first.click()
    assert "Pelaksana Kegiatan (dev)" in page.get_by_test_id("history").inner_text()
    content = page.content()
    for jargon in ("HTTP 200", "archive/items", "Run Airflow", "Sedang tayang", "Putaran", "/dags/"):
        assert jargon not in content, jargon
    assert small_tap_targets(page) == []
    assert serious_violations(page) == []
    print(f"published_item_height_px={height} first_post_link_y={links['y']:.0f}")


def test_the_head_of_the_unit_lands_on_the_month_page(desk, phone):
    _, service, flow = desk
    published_item(flow, service, fail="instagram")
    flow.create(title="Bimtek budidaya cabai di Bangka Tengah")
    page = phone("kepala")
    page.goto("/warta/desk/")
    page.wait_for_url(re.compile(r"/warta/desk/month$"))
    assert page.locator("h1").inner_text().startswith("Bulan ini: November 2026")
    for section in ("month-published", "month-levels", "month-failures", "month-waiting", "month-reports"):
        assert page.get_by_test_id(section).is_visible(), section
    assert "Instagram" in page.get_by_test_id("month-failures").inner_text()
    assert "Bimtek budidaya cabai" in page.get_by_test_id("month-waiting").inner_text()
    assert page.get_by_test_id("nav-airflow").count() == 0
    shot(page, "07-month-head-of-unit")
    assert small_tap_targets(page) == []
    assert serious_violations(page) == []


@pytest.mark.parametrize("username, path", [
    ("pelaksana", "/warta/desk/"), ("pelaksana", "/warta/desk/new"), ("operator", "/warta/desk/items"),
    ("operator", "/warta/desk/reports"), ("pelaksana", "/warta/desk/items/1?lang=en")])
def test_main_pages_have_no_serious_accessibility_violations(desk, phone, username, path):
    _, service, flow = desk
    if not service.list_items()["total"]:
        item_at_decision(flow)
    page = phone(username)
    page.goto(path)
    assert small_tap_targets(page) == []
    assert serious_violations(page) == []


def test_embedded_in_airflow_drops_the_header_and_logout_signs_out(desk, phone):
    page = phone("operator")
    page.goto("/warta/desk/?embedded=1")
    assert page.get_by_test_id("desk-header").count() == 0
    shot(page, "08-embedded")
    page.goto("/warta/desk/")
    assert page.get_by_test_id("nav-airflow").is_visible()
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r"/auth/login"))


def test_intake_errors_are_summarised_on_top_with_links_to_the_fields(desk, phone):
    page = phone("pelaksana")
    page.goto("/warta/desk/new")
    page.fill("#title", "Kunjungan kebun")
    page.locator("[data-testid=intake-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.dataset.testid") == "form-problem"
    page.get_by_test_id("error-link-activity_date").click()
    assert page.url.endswith("#activity_date")
    shot(page, "09-intake-error-summary")
    assert serious_violations(page) == []
