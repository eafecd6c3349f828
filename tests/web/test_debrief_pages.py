"""The debrief workflow's pages on the demo (TestClient): the SBTM fields of the
session form, close and submit with the sheet's problems and "submit anyway", the
debrief page (save, approve, return, follow-ups), the charter backlog and the
"waiting for debrief" list, and who may see and do what."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.db.engine import Database
from charter.db.tables import debriefs, sessions
from helpers_web import csrf_of

Client = Callable[[str], TestClient[Any]]


def post(client: TestClient[Any], path: str, data: Any = None) -> Any:
    pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
    body: dict[str, list[str]] = {"csrf_token": [csrf_of(client)]}
    for key, value in pairs:
        body.setdefault(key, []).append(value)
    return client.post(path, data=body, follow_redirects=False)


def new_session(tester: TestClient[Any], name: str, **fields: str) -> int:
    tester.get("/projects/1/sessions/new")
    resp = post(tester, "/projects/1/sessions", {"name": name, **fields})
    assert resp.status_code == 303, resp.text[:2000]
    return int(resp.headers["location"].rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def db(web_demo_url: str) -> Iterator[Database]:
    database = Database(web_demo_url)
    yield database
    database.close()


def row(db: Database, table: Any, **where: Any) -> Any:
    with db.read() as conn:
        cond = [table.c[k] == v for k, v in where.items()]
        return conn.execute(sa.select(table).where(*cond)).mappings().first()


SHEET = {
    "duration_class": "normal",
    "duration_multiplier": "",
    "pct_test": "70",
    "pct_bug": "20",
    "pct_setup": "10",
    "pct_charter": "80",
    "pct_opportunity": "20",
    "areas": "Checkout | Cards",
}


def test_the_session_form_saves_areas_and_duration(web_client: Client, db: Database) -> None:
    tester = web_client("tester")
    form = tester.get("/projects/1/sessions/new").text
    assert 'list="area-options"' in form and 'name="tester_ids"' in form
    sid = new_session(
        tester, "Planned charter", areas="Search | Filters", area_new="Search | Sorting"
    )
    edit = tester.get(f"/sessions/{sid}/edit").text
    areas = re.search(r'<textarea id="areas"[^>]*>([^<]*)<', edit)
    assert areas is not None and areas[1] == "Search | Filters\nSearch | Sorting", areas
    resp = post(
        tester,
        f"/sessions/{sid}/edit",
        {"name": "Planned charter", "duration_class": "long", "duration_multiplier": "x"},
    )
    assert resp.status_code == 422 and "Duration multiplier" in resp.text


def test_close_submit_shows_problems_then_submits_anyway(web_client: Client, db: Database) -> None:
    tester = web_client("tester")
    sid = new_session(tester, "Close me")
    page = tester.get(f"/sessions/{sid}/close-sheet")
    assert page.status_code == 200 and "Close and submit" in page.text
    shown = post(tester, f"/sessions/{sid}/close-sheet", {**SHEET, "action": "submit"})
    assert shown.status_code == 200 and 'id="sheet-problems"' in shown.text
    assert "No test notes." in shown.text and "Submit anyway" in shown.text
    assert not row(db, sessions, id=sid)["is_closed"]  # saved, not closed
    bad = post(tester, f"/sessions/{sid}/close-sheet", {**SHEET, "pct_bug": "50"})
    assert bad.status_code == 422 and 'id="form-errors"' in bad.text
    done = post(tester, f"/sessions/{sid}/close-sheet", {**SHEET, "action": "force"})
    assert done.status_code == 303, done.text[:1000]
    assert row(db, sessions, id=sid)["is_closed"]
    assert row(db, debriefs, session_id=sid)["status"] == "submitted"
    waiting = web_client("manager").get("/projects/1/debriefs").text
    assert f'href="/sessions/{sid}/debrief"' in waiting


def test_a_manager_debriefs_returns_and_approves(web_client: Client, db: Database) -> None:
    tester, manager, viewer = web_client("tester"), web_client("manager"), web_client("viewer")
    sid = new_session(tester, "Debrief me", areas="Checkout")
    post(tester, f"/sessions/{sid}/close-sheet", {**SHEET, "action": "force"})
    assert post(tester, f"/sessions/{sid}/debrief/approve").status_code == 403
    page = viewer.get(f"/sessions/{sid}/debrief")
    assert page.status_code == 200 and "Approve" not in page.text
    manager.get(f"/sessions/{sid}/debrief")
    body = {"past": "Went well", "outlook": "Explore refunds\nExplore coupons", "results": ""}
    assert post(manager, f"/sessions/{sid}/debrief", body).status_code == 303
    empty = post(manager, f"/sessions/{sid}/debrief/return", {"comment": " "})
    assert empty.status_code == 422
    assert (
        post(manager, f"/sessions/{sid}/debrief/return", {"comment": "Add notes"}).status_code
        == 303
    )
    assert "Add notes" in tester.get(f"/sessions/{sid}").text
    assert post(tester, f"/sessions/{sid}/close-sheet", {"action": "force"}).status_code == 303
    assert post(manager, f"/sessions/{sid}/debrief/approve").status_code == 303
    approved = manager.get(f"/sessions/{sid}/debrief").text
    assert re.search(r'id="debrief-status">approved<', approved)
    made = post(manager, f"/sessions/{sid}/debrief/follow-ups", [("items", "1")])
    assert made.status_code == 303
    follow = row(db, sessions, follow_up_of=sid)
    assert follow["name"] == "Explore coupons" and not follow["is_started"]
    backlog = tester.get("/projects/1/backlog").text
    assert f'href="/sessions/{follow["id"]}"' in backlog and "Checkout" in backlog
    assert "Reopen session" not in tester.get(f"/sessions/{sid}").text  # locked


def test_outsiders_get_403_on_every_page(web_client: Client) -> None:
    outsider = web_client("outsider")
    tester = web_client("tester")
    sid = new_session(tester, "Private")
    for path in (
        f"/sessions/{sid}/debrief",
        f"/sessions/{sid}/close-sheet",
        "/projects/1/backlog",
        "/projects/1/debriefs",
    ):
        assert outsider.get(path).status_code == 403, path
    outsider.get("/")
    for path in (
        f"/sessions/{sid}/close-sheet",
        f"/sessions/{sid}/debrief",
        f"/sessions/{sid}/debrief/approve",
        f"/sessions/{sid}/debrief/return",
        f"/sessions/{sid}/debrief/follow-ups",
    ):
        assert post(outsider, path, {"comment": "x"}).status_code == 403, path
    assert web_client("viewer").get(f"/sessions/{sid}/close-sheet").status_code == 403
