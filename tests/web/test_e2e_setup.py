"""A lead sets a project up from nothing to a first session in a real browser, without
the CLI or the API (Playwright driving Debian's chromium against `charter serve`): a
site admin creates the project, adds a tester, a template with a required field, a
workflow state and a milestone; the tester then creates a session with them, and the
required field is enforced on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def add(page: Page, fields: dict[str, str], button: str) -> None:
    """Fill the add form (controls by the start of their label) and send it."""
    form = page.locator("form", has=page.get_by_role("button", name=button))
    for label, value in fields.items():
        control = form.get_by_label(re.compile(r"^\s*" + re.escape(label)))
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(label=value)
        elif value == "on":
            control.check()
        else:
            control.fill(value)
    page.get_by_role("button", name=button).click()


def test_a_lead_sets_a_project_up_and_a_tester_runs_a_session_in_it(
    page: Page, live_server: str, sign_in: Any
) -> None:
    base = live_server
    sign_in(page, base, "admin")

    # The project, from the header's Administration area.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Projects", exact=True).last.click()
    add(page, {"Name": "Payments", "Note": "Cards and wallets"}, "Add project")
    expect(page.get_by_text("Project added.")).to_be_visible()
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_role("heading", name="Project: Payments")).to_be_visible()
    project_id = int(re.findall(r"/projects/(\d+)/settings", page.url)[0])

    # A tester joins it.
    page.get_by_role("link", name="Members").click()
    page.locator("#new-member").select_option(label="Alan Turing (alan@example.com)")
    page.locator("#new-role").select_option("tester")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Member added.")).to_be_visible()

    # A milestone, from the project's Settings.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Milestones").click()
    add(page, {"Name": "Beta", "Due date": "2027-03-01"}, "Add milestone")
    expect(page.get_by_text("Milestone added.")).to_be_visible()

    # A template with a required session field.
    page.goto(f"{base}/admin/templates")
    add(page, {"Name": "Payments template"}, "Add template")
    page.get_by_role("link", name="Fields of Payments template").click()
    add(page, {"Name": "Card type", "System name": "Card type"}, "Add field")
    expect(page.locator("#new-system_name-error")).to_contain_text("Lowercase letters")
    add(
        page,
        {
            "Name": "Card type",
            "System name": "card_type",
            "Type": "string",
            "Scope": "session (the session form)",
            "Required": "on",
        },
        "Add field",
    )
    expect(page.get_by_text("Field added.")).to_be_visible()
    expect(page.get_by_role("cell", name="card_type")).to_be_visible()

    # A workflow state that means "planned".
    page.goto(f"{base}/admin/states")
    add(page, {"Name": "Triage", "Meaning": "planned"}, "Add workflow state")
    expect(page.get_by_text("Workflow state added.")).to_be_visible()

    # The tester creates a session with all of it.
    page.context.clear_cookies()
    sign_in(page, base, "tester")
    page.goto(f"{base}/projects/{project_id}/sessions/new")
    page.get_by_label("Name").fill("Pay with an expired card")
    page.get_by_label("Template").select_option(label="Payments template")
    expect(page.get_by_label("Card type")).to_be_visible()
    page.get_by_label("State").select_option(label="Triage")
    page.get_by_label("Milestone").select_option(label="Beta")
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#form-errors")).to_contain_text("Card type")  # required
    page.get_by_label("Card type").fill("Visa")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    expect(page.get_by_text("Session created.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Visa")
    expect(page.locator("main")).to_contain_text("Beta")
