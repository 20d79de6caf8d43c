"""The desk on a phone in a real browser (Debian's chromium, headless, Playwright) without
the Airflow stack: the web app served by uvicorn in a thread on a SQLite editorial DB,
each person signed in by the tests' header authenticator (the real login is covered by
tests/system/test_desk_browser.py). Every check looks at a 390×844 screen; screenshots
land in test-artifacts/desk-phone/ and axe-core (axe-playwright-python) checks the main
pages for serious and critical accessibility violations.
"""

from __future__ import annotations

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


def test_measure_item_page_height(desk, phone):
    _, service, flow = desk
    item_id = item_at_decision(flow)
    page = phone("subkoor")
    page.goto(f"/warta/desk/items/{item_id}")
    shot(page, "00-item-decision")
    print(f"item_page_height_px={page_height(page)}")


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


def test_measure_published_item_page_height(desk, phone):
    _, service, flow = desk
    item_id = published_item(flow, service)
    page = phone("pelaksana")
    page.goto(f"/warta/desk/items/{item_id}")
    shot(page, "00-item-published")
    links = page.locator("[data-testid=publication-link]").first.bounding_box()
    print(f"published_item_height_px={page_height(page)} first_post_link_y={links['y']:.0f}")
