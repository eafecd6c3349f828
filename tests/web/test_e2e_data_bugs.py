"""Data bugs of web issue 14 in a real browser (Playwright + Debian's chromium against
a real `charter serve`): a stale edit in a second tab is refused and shown, a note
typed offline is kept (across a reload too) and retried, and the timeline of a
1,500-note session pages back to its first note."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from charter.db.engine import Database
from charter.results import service as result_service


def new_session(page: Page, base_url: str, name: str) -> int:
    page.goto(f"{base_url}/projects/1/sessions/new")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_stale_edit_in_another_tab_is_refused_and_shown(
    browser: Any, live_server: str, sign_in: Callable[..., None], web_demo_url: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        first = context.new_page()
        sign_in(first, live_server, "tester")
        sid = new_session(first, live_server, "Two tabs")
        second = context.new_page()
        for tab in (first, second):
            tab.goto(f"{live_server}/sessions/{sid}/edit")
        second.get_by_label("Name").fill("Saved in the second tab")
        second.get_by_role("button", name="Save session").click()
        expect(second.get_by_text("Session saved.")).to_be_visible()

        first.get_by_label("Name").fill("Typed in the first tab")
        first.get_by_role("button", name="Save session").click()
        conflict = first.locator("#form-conflict")
        expect(conflict).to_be_visible()
        expect(conflict).to_contain_text("Nothing was saved")
        expect(conflict.locator("li").filter(has_text="Name")).to_contain_text(
            "theirs Saved in the second tab"
        )
        expect(conflict.locator("li").filter(has_text="Name")).to_contain_text(
            "yours Typed in the first tab"
        )
        expect(first.get_by_label("Name")).to_have_value("Typed in the first tab")
        db = Database(web_demo_url)
        with db.read() as conn:
            name = conn.execute(sa.text("SELECT name FROM sessions WHERE id = :s"), {"s": sid})
            assert name.scalar_one() == "Saved in the second tab"
        db.close()
        # Saving again is a deliberate choice, and then it saves.
        first.get_by_role("button", name="Save session").click()
        expect(first.get_by_text("Session saved.")).to_be_visible()
        expect(first.get_by_role("heading", level=1)).to_have_text("Typed in the first tab")
    finally:
        context.close()


def test_an_offline_note_is_kept_and_retried(
    page: Page, live_server: str, sign_in: Callable[..., None]
) -> None:
    sign_in(page, live_server, "tester")
    new_session(page, live_server, "Offline notes")
    box = page.locator("#note-text")
    message = page.locator("#run-message")
    notes = page.locator("#timeline li.note")

    box.fill("Typed while the wifi dropped")
    page.keyboard.press("Alt+3")
    page.context.set_offline(True)
    page.get_by_role("button", name="Add note").click()
    expect(message).to_contain_text("Not saved: your note")
    expect(message).to_contain_text("Typed while the wifi dropped")
    expect(box).to_have_value("Typed while the wifi dropped")
    expect(notes).to_have_count(0)

    page.context.set_offline(False)
    page.get_by_role("button", name="Add note").click()  # retry
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("Typed while the wifi dropped")
    expect(message).to_have_text("")  # the failure's message is gone
    expect(box).to_have_value("")
    # The status does not stick to the next note.
    expect(page.locator('#note-form input[name="status_id"][value=""]')).to_be_checked()

    # An unsent note survives a reload.
    box.fill("Half-written thought")
    page.reload()
    expect(box).to_have_value("Half-written thought")
    expect(message).to_contain_text("unsent note")
    page.get_by_role("button", name="Add note").click()
    expect(notes).to_have_count(2)
    expect(notes.first).to_contain_text("Half-written thought")  # newest first
    page.reload()
    expect(box).to_have_value("")


def test_paging_the_timeline_of_a_1500_note_session(
    page: Page, live_server: str, sign_in: Callable[..., None], web_demo_url: str
) -> None:
    sign_in(page, live_server, "tester")
    sid = new_session(page, live_server, "A long session")
    db = Database(web_demo_url)
    with db.write() as conn:
        for start in (0, 750):
            items = [{"note": f"Note number {i + 1}"} for i in range(start, start + 750)]
            result_service.add_results(conn, sid, 1, items)
    db.close()
    page.reload()
    notes = page.locator("#timeline li.note")
    expect(notes).to_have_count(50)
    expect(notes.first).to_contain_text("Note number 1500")
    expect(page.locator("#timeline-more")).to_contain_text("1500 in all")
    page.locator("#note-text").fill("Just added")
    page.get_by_role("button", name="Add note").click()
    expect(notes.first).to_contain_text("Just added")  # the newest is visible at once
    more = page.get_by_role("link", name="Load older notes")
    while more.count():
        shown = notes.count()
        more.click()
        expect(notes).not_to_have_count(shown)
    expect(notes).to_have_count(1501)
    expect(notes.last).to_contain_text("Note number 1")
    # Notes render as Markdown paragraphs: the block's text ends in line breaks.
    texts = [t.strip() for t in notes.locator(".note-text").all_inner_texts()]
    assert texts[1:] == [f"Note number {i}" for i in range(1500, 0, -1)]


LONG_WORD = "Unbroken" * 40  # 320 characters without a space


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_long_words_and_narrow_screens_do_not_widen_pages(
    browser: Any, live_server: str, sign_in: Callable[..., None]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        sign_in(page, live_server, "tester")
        sid = new_session(page, live_server, LONG_WORD)
        page.locator("#note-text").fill(LONG_WORD)
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#timeline li.note")).to_have_count(1)
        for path in (f"/sessions/{sid}", "/projects/1/sessions?per_page=15", "/"):
            page.goto(f"{live_server}{path}")
            assert page_width(page) <= 1280, path
        page.set_viewport_size({"width": 390, "height": 844})
        for path in (
            "/",
            "/projects/1/sessions",
            "/projects/1/members",
            f"/sessions/{sid}",
            f"/sessions/{sid}/edit",
            "/projects/1/dashboard",
            "/account",
        ):
            page.goto(f"{live_server}{path}")
            assert page_width(page) <= 390, (path, page_width(page))
        # The filter panel folds away on a phone: the first screen shows sessions.
        page.goto(f"{live_server}/projects/1/sessions")
        filters = page.locator("details.filters-fold")
        expect(filters).not_to_have_attribute("open", "")
        table = page.locator("table.sessions-table")
        box = table.bounding_box()
        assert box is not None and box["y"] < 844
        filters.locator("summary").click()
        expect(page.get_by_label("Open or closed")).to_be_visible()
        # On a wide screen it is open.
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{live_server}/projects/1/sessions")
        expect(page.get_by_label("Open or closed")).to_be_visible()
    finally:
        context.close()
