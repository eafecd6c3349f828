"""The dashboard in a real browser against a real `charter serve`: reached from the
projects page, three labelled charts drawn without CSP violations, the numbers behind
them one keypress away, and a screenshot for the README (docs/screenshots)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from charter.db.engine import Database
from charter.db.migrate import optimize
from helpers_web import SCREENSHOTS, prepare_web_demo

pytestmark = pytest.mark.browser

# Enough sessions that the default window has a few every day.
N_SESSIONS = 4000


@pytest.fixture(scope="module")
def web_demo_url(module_database_url: str) -> str:
    prepare_web_demo(module_database_url, n_sessions=N_SESSIONS)
    db = Database(module_database_url)
    optimize(db)
    db.close()
    return module_database_url


def test_dashboard_in_the_browser(page: Any, live_server: str, sign_in: Any) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server, "viewer")

    # From the projects page, the project's dashboard link.
    page.get_by_role("row", name=re.compile("Webshop")).get_by_role(
        "link", name="Dashboard"
    ).click()
    page.wait_for_url(re.compile(r"/projects/1/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Webshop: dashboard")

    # Three charts, each an image with an accessible name, with bars or areas drawn.
    for name in ("by state", "Results per day by status", "Time spent per tester"):
        chart = page.get_by_role("img", name=re.compile(name))
        expect(chart).to_be_visible()
        assert chart.locator("rect, polygon").count() > 0, name
    assert int(page.locator('[data-counter="window_sessions"]').inner_text()) > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert (SCREENSHOTS / "dashboard.png").stat().st_size > 10_000

    # The numbers behind a chart open from the keyboard.
    summary = page.locator("#dash-states ~ details > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#table-states")).to_be_visible()
    page.keyboard.press("Enter")

    # Another window length through the labelled form.
    page.get_by_label("Days", exact=True).select_option("7")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"days=7"))
    expect(page.get_by_role("heading", level=2, name=re.compile("^7 days"))).to_be_visible()

    # No CSP violation (an inline style or script would log one) and no script error.
    assert not problems, problems
