"""A whole session in a real browser (Playwright driving Debian's chromium against a
real `charter serve`): sign in, create a session, start it, add notes with three
statuses by keyboard, pause, resume, close, and find the counts on the list. Saves
the screenshots the README links to (docs/screenshots/, 1280 wide).

The steps are small functions so later checks (e.g. the dashboard) can be added to
the end of the test with the same session.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from helpers_web import SCREENSHOTS

pytestmark = pytest.mark.browser

# (shortcut digit, status name, note): three statuses chosen with Alt+digit.
NOTES = (
    ("2", "Passed", "Coupon SAVE10 takes 10% off the cart"),
    ("3", "Failed", "Total shows 0.00 after removing the last item"),
    ("5", "Blocked", "Cannot reach payment: the sandbox is down"),
)
NAME = "Explore checkout coupons by keyboard"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def create_session(page: Page, base_url: str) -> int:
    page.goto(f"{base_url}/projects/1/sessions")
    page.get_by_role("link", name="New session").click()
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Charter").fill(
        "Explore **checkout** with coupons to discover wrong totals.\n\n"
        "- stacked coupons\n- expired codes"
    )
    page.get_by_label("Estimate").fill("45")
    page.get_by_label("Tags").fill("checkout, e2e")
    page.get_by_role("radio", name="Checkout").check()  # a dropdown custom field
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    expect(page.get_by_text("Session created.")).to_be_visible()
    return int(page.url.rsplit("/", 1)[1])


def add_note_by_keyboard(page: Page, digit: str, status: str, text: str) -> None:
    """Type the note, pick its status with Alt+digit, add it with Ctrl+Enter: the
    keys must neither type into the note nor leave the keyboard."""
    box = page.locator("#note-text")
    box.focus()
    box.press_sequentially(text)
    page.keyboard.press(f"Alt+{digit}")
    picked = page.locator(f'#note-form input[name="status_id"][data-key="{digit}"]')
    expect(picked).to_be_checked()
    label = page.locator("#note-form label.status-pick").filter(
        has=page.locator(f'input[data-key="{digit}"]')
    )
    expect(label).to_contain_text(status)
    page.keyboard.press("Control+Enter")
    item = page.locator("#timeline li.note").filter(has_text=text)
    expect(item).to_be_visible()
    expect(item.locator(".status-badge")).to_have_text(status)
    expect(item.locator(".note-text")).to_have_text(text)  # no digit typed into it
    expect(box).to_have_value("")
    expect(box).to_be_focused()


def dashboard_figures(page: Page, base_url: str) -> dict[str, int]:
    """The project dashboard's figures for the week ending today (UTC): closed
    sessions, results in the window and results per status (Passed, Failed, Blocked)."""
    today = datetime.now(UTC).date().isoformat()
    page.goto(f"{base_url}/projects/1/dashboard?days=7&until={today}")
    figures = {
        "closed": page.locator('[data-counter="session_closed_count"]'),
        "results": page.locator('[data-counter="window_results"]'),
        **{s: page.locator(f'#table-results td[data-status="{s}"]') for s in ("2", "3", "5")},
    }
    return {k: int((v.text_content() or "0").replace(",", "")) for k, v in figures.items()}


def counter(page: Page, status_id: str) -> Any:
    return page.locator(f'#counters [data-status-id="{status_id}"] [data-count]')


def test_a_whole_session_in_the_browser(page: Page, live_server: str, sign_in: Any) -> None:
    base_url = live_server
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base_url, "tester")
    before = dashboard_figures(page, base_url)

    session_id = create_session(page, base_url)
    expect(page.locator(".markdown strong")).to_have_text("checkout")
    expect(page.locator("[data-timer-state]")).to_have_text("Not started")

    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator("[data-timer-state]")).to_have_text("Running")
    # The timer ticks in the page (charter/web/static/run.js), without a reload.
    expect(page.locator("[data-timer-text]")).not_to_have_text("0:00", timeout=10_000)

    for digit, status, text in NOTES:
        add_note_by_keyboard(page, digit, status, text)
    # Counters were swapped out of band, without a reload.
    for status_id in ("2", "3", "5"):
        expect(counter(page, status_id)).to_have_text("1")
    expect(counter(page, "total")).to_have_text("3")
    expect(page.locator("#counters svg.chart title").first).to_have_text("Results by status")
    screenshot(page, "session-run.png")

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.locator("[data-timer-state]")).to_have_text("Paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()

    page.get_by_role("link", name="Edit session").click()
    expect(page.get_by_label("Name")).to_have_value(NAME)
    expect(page.get_by_role("radio", name="Checkout")).to_be_checked()
    screenshot(page, "session-edit.png")
    page.go_back()

    page.get_by_role("button", name="Close session").click()
    expect(page.get_by_text("This session is closed and read-only.")).to_be_visible()
    expect(page.locator("#note-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen session")).to_be_visible()

    page.goto(f"{base_url}/projects/1/sessions?is_closed=1")
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name=NAME))
    expect(row).to_have_count(1)
    expect(row.locator(".results-summary")).to_have_text("1 Passed, 1 Failed, 1 Blocked")
    expect(row).to_contain_text("closed")
    expect(row.locator("svg.chart-status-bar rect")).to_have_count(3)
    page.goto(f"{base_url}/projects/1/sessions")
    screenshot(page, "sessions-list.png")

    # The dashboard counts them too: one more closed session, its three results.
    after = dashboard_figures(page, base_url)
    changes = {k: after[k] - before[k] for k in before}
    assert changes == {"closed": 1, "results": 3, "2": 1, "3": 1, "5": 1}, (before, after)

    assert session_id > 0
    assert errors == [], errors


def test_template_fields_and_notes_in_the_browser(
    page: Page, live_server: str, sign_in: Any
) -> None:
    """What only a browser shows: the template's fields swap in (htmx), an invalid form
    keeps its input, a note is edited in place with an issue linked, an empty note's
    error appears in the note box (a 422 swapped out of band), a deleted note leaves
    the counters right."""
    base_url = live_server
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: d.accept())  # "Delete this note?"
    sign_in(page, base_url, "tester")

    page.goto(f"{base_url}/projects/1/sessions/new")
    page.get_by_label("Template").select_option(label="Bug bash")
    expect(page.get_by_role("group", name="Platforms")).to_be_visible()
    page.get_by_label("Name").fill("Bug bash on mobile")
    page.get_by_role("checkbox", name="iOS").check()
    page.get_by_label("Bugs found").fill("2.5")
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#e-custom_bugs_found")).to_have_text("Must be a whole number.")
    expect(page.get_by_label("Name")).to_have_value("Bug bash on mobile")
    expect(page.get_by_role("checkbox", name="iOS")).to_be_checked()
    page.get_by_label("Bugs found").fill("2")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))

    box = page.locator("#note-text")
    box.fill("Rotating the phone resets the form")
    page.keyboard.press("Alt+3")
    page.keyboard.press("Control+Enter")
    item = page.locator("#timeline li.note")
    expect(item).to_have_count(1)

    item.get_by_role("link", name=re.compile("^Edit")).click()
    text = page.locator("#timeline textarea")
    text.fill("Rotating the phone resets the form (iOS only)")
    page.locator("#timeline input[name=issue_keys]").fill("WEB-101")
    text.press("Alt+4")
    text.press("Control+Enter")
    expect(item.locator(".note-text")).to_have_text("Rotating the phone resets the form (iOS only)")
    expect(item.locator(".status-badge")).to_have_text("Retest")
    expect(item.locator(".note-issues")).to_contain_text("WEB-101")
    expect(counter(page, "4")).to_have_text("1")
    expect(counter(page, "3")).to_have_text("0")

    box.fill("")
    box.press("Alt+0")
    box.press("Control+Enter")
    expect(page.locator("#note-error")).to_contain_text("Type a note: a status alone is not saved.")
    expect(item).to_have_count(1)

    item.get_by_role("button", name=re.compile("^Delete")).click()
    expect(item).to_have_count(0)
    expect(counter(page, "total")).to_have_text("0")
    expect(page.get_by_text("No notes yet.")).to_be_visible()
    assert errors == [], errors
