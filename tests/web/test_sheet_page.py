"""The printable session sheet page (/sessions/{id}/sheet) and its .ses download, with
the demo data: what it shows, who may see it, print CSS; and in a real browser (marked
browser) the bar drawn under the real CSP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from charter.db.engine import Database
from charter.sbtm import sheet_import

DATA = Path(__file__).resolve().parents[1] / "data" / "sbtm"
Client = Callable[[str], TestClient[Any]]


@pytest.fixture(scope="module")
def sheet_session(web_demo_url: str) -> int:
    """A session imported from the hand-written sheet a into project 1."""
    db = Database(web_demo_url)
    with db.write() as conn:
        actor = sheet_import.command_actor(conn, None)
        text = (DATA / "et-mk-261103-a.ses").read_text()
        done = sheet_import.import_sheets(conn, actor, 1, [("et-mk-261103-a.ses", text)])
    db.close()
    return int(done.sessions[0]["id"])


@pytest.fixture(scope="module")
def plain_session(web_demo_url: str) -> int:
    """A session of project 1 created without any SBTM data."""
    from charter.sessions import service as session_service

    db = Database(web_demo_url)
    with db.write() as conn:
        actor = sheet_import.command_actor(conn, None)
        session_id = session_service.create_session(conn, 1, actor.id, "No sheet data")
    db.close()
    return session_id


def test_sheet_page_shows_the_sheet(web_client: Client, sheet_session: int) -> None:
    resp = web_client("viewer").get(f"/sessions/{sheet_session}/sheet")
    assert resp.status_code == 200
    html = resp.text
    assert "Session sheet: Explore the checkout" in html
    assert "et-mk-261103-a.ses" in html
    assert "11/3/26 9:15am" in html
    assert "Mira Kowalski" in html
    for area in ("Checkout | Discounts", "OS | Linux", "Strategy | Function Testing"):
        assert area in html
    assert re.search(
        r'aria-label="Task breakdown: test, bug, setup: Test design and '
        r'execution 70%, Bug investigation and reporting 20%, Session setup 10%"',
        html,
    )
    assert 'class="seg seg-opportunity" x="85" y="0" width="15"' in html
    assert '<strong class="sheet-ref">4711</strong>' in html
    assert 'href="https://wiki.example.test/pricing/currencies"' in html
    assert 'rel="stylesheet" href="/static/sheet.css"' in html
    css = web_client("viewer").get("/static/sheet.css").text
    assert "@media print" in css


def test_sheet_download(web_client: Client, sheet_session: int) -> None:
    resp = web_client("tester").get(f"/sessions/{sheet_session}/sheet.ses")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert 'filename="et-mk-261103-a.ses"' in resp.headers["content-disposition"]
    assert resp.text.startswith("CHARTER\n")


def test_sheet_page_of_any_session_and_refusals(
    web_client: Client, sheet_session: int, plain_session: int
) -> None:
    # a session with no sheet data: defaults, a notice, a generated name
    resp = web_client("manager").get(f"/sessions/{plain_session}/sheet")
    assert resp.status_code == 200
    assert "has no duration or task breakdown yet" in resp.text
    assert re.search(r"et-[a-z]+-\d{6}-a\.ses", resp.text)
    assert web_client("outsider").get(f"/sessions/{sheet_session}/sheet").status_code == 403
    assert web_client("outsider").get(f"/sessions/{sheet_session}/sheet.ses").status_code == 403
    assert web_client("viewer").get("/sessions/99999999/sheet").status_code == 404
    assert web_client("viewer").get("/sessions/abc/sheet").status_code == 404


@pytest.mark.browser
def test_sheet_page_in_the_browser(
    page: Any, live_server: str, sign_in: Any, sheet_session: int
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server, "viewer")
    page.goto(f"{live_server}/sessions/{sheet_session}/sheet")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Session sheet")
    bar = page.get_by_role("img", name=re.compile("Task breakdown"))
    expect(bar).to_be_visible()
    assert bar.locator("rect").count() == 3
    assert page.locator(".sheet-bugs li").count() == 2
    # printed: no site header, no download button
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile("Download"))).to_be_hidden()
    assert not problems, problems
