"""The SBTM debrief workflow in a real browser (Playwright driving Debian's chromium
against a real `charter serve`): a tester closes a session through the sheet (the
percentages keep their sum at 100 as they are typed), sees its problems, fixes one
and submits; a manager finds it waiting, records the debrief, approves it (the sheet
locks) and turns an outlook item into a follow-up charter that a tester finds in the
backlog and starts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from helpers_web import SCREENSHOTS

pytestmark = pytest.mark.browser

NAME = "Explore refunds of partial orders"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def close_and_submit_as_tester(page: Page, base: str) -> int:
    page.goto(f"{base}/projects/1/sessions/new")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Charter").fill("Explore refunds of partial orders with coupons.")
    page.get_by_label("Add an area").fill("Checkout | Refunds")
    page.get_by_label("Add an area").press("Enter")  # sbtm.js moves it into the list
    expect(page.locator("#areas")).to_have_value("Checkout | Refunds")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.locator("#note-text").fill("Refunded half an order: the coupon was refunded in full")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline li.note")).to_have_count(1)

    page.get_by_role("link", name="Close and submit…").click()
    page.get_by_label("Duration", exact=True).select_option("normal")
    page.get_by_label("Test design and execution %").fill("70")
    expect(page.get_by_label("Session setup %")).to_have_value("30")
    page.get_by_label("Bug investigation and reporting %").fill("20")
    expect(page.get_by_label("Session setup %")).to_have_value("10")
    page.get_by_label("Charter %").fill("70")
    expect(page.get_by_label("Opportunity %")).to_have_value("30")
    page.get_by_role("button", name="Close and submit").click()
    problems = page.locator("#sheet-problems")
    expect(problems).to_contain_text("No tester.")
    expect(page.get_by_role("button", name="Submit anyway")).to_be_visible()
    page.get_by_label("Testers").select_option(label="Alan Turing")  # the fix
    page.get_by_role("button", name="Close and submit").click()
    page.wait_for_url(re.compile(rf"/sessions/{session_id}$"))
    expect(page.get_by_text("Closed and submitted for debrief.")).to_be_visible()
    expect(page.get_by_text("Its sheet waits for a debrief.")).to_be_visible()
    return session_id


def manager_debriefs(page: Page, base: str, session_id: int) -> None:
    page.goto(f"{base}/projects/1/sessions")
    page.get_by_role("link", name="Waiting for debrief").click()
    page.get_by_role("link", name=NAME).click()
    page.wait_for_url(re.compile(rf"/sessions/{session_id}/debrief$"))
    expect(page.locator("#debrief-warnings")).to_contain_text("consider changing the charter")
    page.get_by_label(re.compile("^Past")).fill("Refunds of partial orders, with coupons.")
    page.get_by_label(re.compile("^Results")).fill("One bug: coupons are refunded in full.")
    page.get_by_label(re.compile("^Outlook")).fill(
        "Explore refunds by gift card\nExplore store credit"
    )
    page.get_by_label(re.compile("^Feelings")).fill("Worried about coupons.")
    page.get_by_role("button", name="Save debrief").click()
    expect(page.get_by_text("Debrief saved.")).to_be_visible()
    page.get_by_role("button", name="Approve and lock the sheet").click()
    expect(page.locator("#debrief-status")).to_have_text("approved")
    page.get_by_role("checkbox", name="Explore store credit").check()
    page.get_by_role("button", name="Add to the backlog").click()
    expect(page.get_by_text("1 follow-up charter added to the backlog.")).to_be_visible()
    expect(page.locator("#follow-ups")).to_contain_text("Explore store credit")
    screenshot(page, "debrief.png")


def test_close_submit_debrief_approve_follow_up(
    browser: Any, live_server: str, sign_in: Any
) -> None:
    base = live_server
    tester = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    manager = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        sign_in(tester, base, "tester")
        session_id = close_and_submit_as_tester(tester, base)
        sign_in(manager, base, "manager")
        manager_debriefs(manager, base, session_id)

        tester.goto(f"{base}/sessions/{session_id}")
        expect(tester.get_by_text("Its debrief is approved: the sheet is locked.")).to_be_visible()
        expect(tester.get_by_role("button", name="Reopen session")).to_have_count(0)
        tester.goto(f"{base}/projects/1/backlog")
        row = tester.locator("#backlog tr", has_text="Explore store credit")
        expect(row).to_contain_text("Checkout | Refunds")  # the origin's areas
        expect(row).to_contain_text(NAME)  # where it came from
        row.get_by_role("button", name=re.compile("^Start")).click()
        expect(tester.get_by_role("button", name="Pause")).to_be_visible()
    finally:
        tester.context.close()
        manager.context.close()
