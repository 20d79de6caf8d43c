"""Production logins in a real browser: the desk sends an anonymous visitor to the FAB
auth manager's login page, and after signing in there the person lands back on the desk
with their SOP role (Debian's chromium, headless; screenshots in test-artifacts/fab/)."""

from __future__ import annotations

import re

import pytest

from tests.system.test_desk_browser import DESKTOP, REPO, browser  # noqa: F401  (browser: the fixture)

pytestmark = pytest.mark.distributed

SHOTS = REPO / "test-artifacts" / "fab"


def test_the_desk_signs_people_in_through_fab(cluster, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=cluster.url, locale="id-ID", timezone_id="Asia/Jakarta", **DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto("/warta/desk/")
        page.wait_for_url(re.compile(r"/auth/login"))
        page.screenshot(path=str(SHOTS / "01-fab-login.png"), full_page=True)
        page.fill("input[name=username]", "subkoor")
        page.fill("input[name=password]", "not the password")
        page.locator("[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/auth/login"))
        assert page.get_by_test_id("username").count() == 0
        page.fill("input[name=username]", "subkoor")
        page.fill("input[name=password]", cluster.passwords()["subkoor"])
        page.locator("[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/warta/desk/"))
        assert page.get_by_test_id("username").get_attribute("data-username") == "subkoor"
        page.screenshot(path=str(SHOTS / "02-desk-after-fab-login.png"), full_page=True)
    finally:
        context.close()
