"""Nothing typed is lost, in a real browser (Debian's chromium, phone viewport 390×844)
against the running stack: an autosaved draft survives a reload; a manuscript sent after
the login expired comes back after signing in again; a 5 MB video stays attached through
a validation error; the intake can complete step 1. Screenshots in test-artifacts/desk/.

The desk's CSP allows only same-origin script files, so the tests poll the DOM from
Python instead of evaluating script in the page."""

from __future__ import annotations

import re
import time

import pytest

from tests.system.conftest import wait_until
from tests.system.test_desk_browser import PHONE, Person, browser, photo_png  # noqa: F401 (fixture)

pytestmark = pytest.mark.system

VIDEO_BYTES = 5 * 1024 * 1024


def _poll(condition, timeout: float = 30, what: str = "the page") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _sign_in_on_the_login_page(person: Person) -> None:
    page = person.page
    page.wait_for_url(re.compile(r"/auth/login"))
    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", person.stack.passwords()[person.username])
    page.click("button[type=submit]")


def test_a_draft_survives_a_reload_and_an_expired_login_keeps_the_manuscript(stack, browser, users):
    item = users["pelaksana"].create(title="Pelatihan pembuatan pupuk organik di Bangka Tengah")
    assert users["pelaksana"].record(item["id"], "meliput", notes="Foto menyusul").status_code == 200
    reporter = Person(browser, stack, "pelaksana", PHONE)
    try:
        reporter.login(f"/warta/desk/items/{item['id']}")
        page = reporter.page
        assert page.locator("script[src$='/desk/static/keep.js']").count() == 1
        page.fill("#m-title", "Petani Bangka Tengah belajar membuat pupuk organik")
        page.fill("#body", "Sebanyak 25 petani mengikuti pelatihan pembuatan pupuk organik.")
        page.locator("#notes").focus()  # leaving the field saves at once
        draft_url = f"/warta/api/v1/drafts/items/{item['id']}/menyusun"

        def saved_body() -> str | None:
            answer = users["pelaksana"].http.get(draft_url)
            return answer.json()["fields"].get("body") if answer.status_code == 200 else None

        _poll(lambda: saved_body() == "Sebanyak 25 petani mengikuti pelatihan pembuatan pupuk organik.",
              what="the autosave on the server")
        status = page.get_by_test_id("keep-status")
        _poll(lambda: "Draf tersimpan otomatis" in status.inner_text(), what="the autosave notice")
        reporter.shot("keep-01-autosaved-phone")

        # --- type → reload → the text is back, with a notice and a discard button
        page.reload()
        assert page.input_value("#body") == "Sebanyak 25 petani mengikuti pelatihan pembuatan pupuk organik."
        assert page.input_value("#m-title") == "Petani Bangka Tengah belajar membuat pupuk organik"
        assert "Draf tersimpan" in page.get_by_test_id("draft-notice").inner_text()
        assert page.get_by_test_id("draft-discard").is_visible()
        reporter.shot("keep-02-draft-restored-phone")
        # Reloaded the moment after typing, before any save: the tab's copy brings it back.
        page.fill("#notes", "Narasumber: Ketua Gapoktan")
        page.reload()
        assert page.input_value("#notes") == "Narasumber: Ketua Gapoktan"
        _poll(lambda: users["pelaksana"].http.get(draft_url).json()["fields"].get("notes") == "Narasumber: Ketua Gapoktan",
              what="the restored copy to be saved")

        # --- the login expires while typing; sending keeps the form on the server
        manuscript = page.input_value("#body") + "\n\nPelatihan dibuka oleh kepala dinas pertanian."
        page.fill("#body", manuscript)
        reporter.context.clear_cookies(name="_token")
        page.click("[data-testid=step-form] button[type=submit]")
        page.wait_for_url(re.compile(r"/warta/desk/kept/"))
        assert "Tidak ada yang hilang" in page.get_by_test_id("kept-notice").inner_text()
        assert "Method Not Allowed" not in page.content()
        reporter.shot("keep-03-kept-after-expiry-phone")

        # --- sign in again → back at the form, filled in
        page.get_by_test_id("kept-login").click()
        _sign_in_on_the_login_page(reporter)
        page.wait_for_url(re.compile(rf"/warta/desk/items/{item['id']}\?kept="))
        assert page.input_value("#body") == manuscript
        assert page.get_by_test_id("kept-restored").is_visible()
        reporter.shot("keep-04-back-after-login-phone")
        page.click("[data-testid=step-form] button[type=submit]")
        page.wait_for_url(re.compile(r"done=menyusun"))
        assert "kepala dinas pertanian" in page.get_by_test_id("preview").inner_text()
        reporter.shot("keep-05-sent-phone")
    finally:
        reporter.close()


def test_a_validation_error_keeps_a_5_mb_video_and_the_intake_completes_step_1(stack, browser, users, tmp_path):
    video = tmp_path / "panen-lada.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x11" * (VIDEO_BYTES - 12))
    photo = tmp_path / "panen-lada.png"
    photo.write_bytes(photo_png())
    reporter = Person(browser, stack, "pelaksana", PHONE)
    try:
        reporter.login("/warta/desk/new")
        page = reporter.page
        page.fill("#title", "Panen raya lada putih di Kebun Percontohan")
        page.select_option("#service", "agro_eduwisata")
        page.fill("#notes", "Liputan lengkap: video dan foto panen.")
        page.set_input_files("#files", [str(video), str(photo)])
        page.check("[data-testid=coverage-complete]")
        reporter.shot("keep-06-intake-phone")
        page.click("[data-testid=intake-form] button[type=submit]")  # no activity date yet
        assert page.locator("#activity_date-error").is_visible()
        attached = page.get_by_test_id("pending-uploads")
        assert "panen-lada.mp4" in attached.inner_text() and "tetap dilampirkan" in attached.inner_text()
        assert "5 MB" in attached.inner_text() or "5,0 MB" in attached.inner_text()
        assert page.locator("[data-testid=pending-upload]:checked").count() == 2
        assert page.is_checked("[data-testid=coverage-complete]")
        reporter.shot("keep-07-error-files-still-attached-phone")

        page.fill("#activity_date", "2026-11-28")  # the files are not picked again
        page.click("[data-testid=intake-form] button[type=submit]")
        page.wait_for_url(re.compile(r"/warta/desk/items/\d+\?created=1&covered=1"))
        item_id = int(re.search(r"/items/(\d+)", page.url).group(1))
        assert "sudah tercatat" in page.get_by_test_id("notice").inner_text()
        files = [link.text_content().strip() for link in page.get_by_test_id("file-link").all()]  # folded on the page
        assert sorted(files) == ["panen-lada.mp4", "panen-lada.png"]
        assert page.locator("#body").count() == 1  # step 2's form: no "Simpan liputan" again
        assert page.get_by_text("Simpan liputan").count() == 0
        reporter.shot("keep-08-created-step-1-done-phone")
        wait_until(lambda: users["admin"].ti_state(item_id, 1, "meliput") == "success", timeout=150,
                   what="the run's step 1 to find the intake's record")
    finally:
        reporter.close()


def test_two_tabs_never_overwrite_each_others_draft_unseen(stack, browser, users):
    item = users["pelaksana"].create(title="Sosialisasi standar benih padi")
    assert users["pelaksana"].record(item["id"], "meliput", notes="Foto menyusul").status_code == 200
    reporter = Person(browser, stack, "pelaksana", PHONE)
    try:
        reporter.login(f"/warta/desk/items/{item['id']}")
        first = reporter.page
        second = reporter.context.new_page()
        second.goto(f"/warta/desk/items/{item['id']}")  # both tabs start without a draft
        first.fill("#body", "Versi dari tab pertama.")
        first.locator("#notes").focus()
        _poll(lambda: "Draf tersimpan otomatis" in first.get_by_test_id("keep-status").inner_text(),
              what="the first tab's save")
        second.fill("#body", "Versi dari tab kedua.")
        second.locator("#notes").focus()
        status = second.get_by_test_id("keep-status")
        _poll(lambda: "diubah di tab atau perangkat lain" in status.inner_text(), what="the 409 notice")
        draft_url = f"/warta/api/v1/drafts/items/{item['id']}/menyusun"
        assert users["pelaksana"].http.get(draft_url).json()["fields"]["body"] == "Versi dari tab pertama."
        reporter.page = second
        reporter.shot("keep-09-draft-conflict-phone")
        second.get_by_test_id("keep-overwrite").click()  # the person chooses their version
        _poll(lambda: users["pelaksana"].http.get(draft_url).json()["fields"]["body"] == "Versi dari tab kedua.",
              what="the chosen version to be saved")
        assert second.input_value("#body") == "Versi dari tab kedua."
    finally:
        reporter.close()
