"""Live updates in a real browser: two pages on the same session see each other's
notes and counters without reloading, and the sessions list shows a note added in
another page in its row's counts (Playwright, Debian's chromium, a real server)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


def open_session(browser: Any, base_url: str, sign_in: Any, role: str, path: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, base_url, role)
    page.goto(f"{base_url}{path}")
    return page


def add_note(page: Any, text: str) -> None:
    box = page.locator("#note-text")
    box.fill(text)
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text(text)


def test_two_pages_see_each_others_notes_without_reload(
    browser: Any, live_server: str, sign_in: Any
) -> None:
    first = open_session(browser, live_server, sign_in, "tester", "/projects/1/sessions")
    first.get_by_role("link", name="New session").click()
    first.get_by_label("Name").fill("Watched live")
    first.get_by_role("button", name="Create session").click()
    first.wait_for_url("**/sessions/*")
    path = first.url.removeprefix(live_server)
    sid = path.rsplit("/", 1)[1]
    second = open_session(browser, live_server, sign_in, "manager", path)
    listing = open_session(browser, live_server, sign_in, "manager", "/projects/1/sessions")
    try:
        # Each page has its stream open before the other writes.
        for page in (first, second, listing):
            expect(page.locator('[data-live-state="open"]')).to_be_attached(timeout=WAIT_MS)
        total = second.locator('#counters [data-status-id="total"] [data-count]')
        expect(total).to_have_text("0")
        add_note(first, "Seen from the other tab")
        expect(second.locator("#timeline")).to_contain_text(
            "Seen from the other tab", timeout=WAIT_MS
        )
        expect(total).to_have_text("1", timeout=WAIT_MS)
        add_note(second, "And answered back")
        expect(first.locator("#timeline")).to_contain_text("And answered back", timeout=WAIT_MS)
        row = listing.locator(f"#session-{sid}")
        expect(row).to_contain_text("2", timeout=WAIT_MS)
        # Typed text in the note box survives the refreshes.
        second.locator("#note-text").fill("half a thought")
        add_note(first, "A third note")
        expect(second.locator("#timeline")).to_contain_text("A third note", timeout=WAIT_MS)
        expect(second.locator("#note-text")).to_have_value("half a thought")
    finally:
        for page in (first, second, listing):
            page.context.close()


def test_list_filters_apply_as_they_change(browser: Any, live_server: str, sign_in: Any) -> None:
    """Ticking a filter or choosing a state reloads the list at once, with the filters
    in the URL (shareable); no Apply click needed."""
    page = open_session(browser, live_server, sign_in, "manager", "/projects/1/sessions")
    try:
        page.get_by_label("Running now").check()
        page.wait_for_url("**is_running=1**", timeout=WAIT_MS)
        expect(page.get_by_label("Running now")).to_be_checked()
        page.locator("#f-is_closed").select_option("1")
        page.wait_for_url("**is_closed=1**", timeout=WAIT_MS)
        assert "is_running=1" in page.url
    finally:
        page.context.close()
