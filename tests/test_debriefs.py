"""The SBTM debrief workflow through the API (docs/sbtm-debriefs.md): sheet checks,
submit, the debrief with If-Match, approve (the sheet locks: every write path 409),
return, follow-up charters, the workflow state, and one winner of concurrent
approve / return. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.auth import service as auth
from charter.core.errors import Conflict
from charter.db.engine import Database
from charter.db.tables import sessions, states, users
from charter.debriefs import service as debrief_service
from charter.debriefs.sheet_checks import is_sentence, warnings
from charter.projects import service as project_service
from charter.sbtm import service as sbtm_service
from charter.sbtm.schemas import SheetData
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
LEAD = "lead@example.com"  # manager of P
LEAD2 = "lead2@example.com"  # manager of P
TESTER = "tess@example.com"
VIEWER = "vic@example.com"
OUTSIDER = "otto@example.com"


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[Api]:
    db = migrate(fresh_database_url)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
        for name, email in (
            ("Lee", LEAD),
            ("Lou", LEAD2),
            ("Tess", TESTER),
            ("Vic", VIEWER),
            ("Otto", OUTSIDER),
        ):
            user_service.new_user(conn, name, email)
        project = project_service.new_project(conn, "Shop", created_by=admin)
        other = project_service.new_project(conn, "Other", created_by=admin)
        project_service.add_member(conn, project, LEAD, "manager")
        project_service.add_member(conn, project, LEAD2, "manager")
        project_service.add_member(conn, project, TESTER, "tester")
        project_service.add_member(conn, project, VIEWER, "viewer")
        project_service.add_member(conn, other, OUTSIDER, "manager")
    db.close()
    yield from open_api(fresh_database_url)


def call(
    api: Api, method: str, path: str, body: Any = None, as_user: str = TESTER, **headers: str
) -> httpx.Response:
    hdrs = {"Authorization": f"Bearer {api.tokens[as_user]}", **headers}
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["json"] = body
    return api.client.request(method, f"/api/v1{path}", **kwargs)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def project_id(api: Api) -> int:
    with api.db.read() as conn:
        return int(
            conn.execute(sa.text("SELECT id FROM projects WHERE name = 'Shop'")).scalar_one()
        )


def new_session(api: Api, name: str = "Explore checkout") -> int:
    body = {"name": name, "charter": "Explore the checkout with expired cards"}
    return int(
        ok(call(api, "POST", f"/projects/{project_id(api)}/sessions", body), 201)["result"]["id"]
    )


def fill_sheet(api: Api, session_id: int, opportunity: int = 10) -> None:
    """A complete sheet: duration, T/B/S, C/O, an area, a tester, a test note."""
    with api.db.read() as conn:
        tess = conn.execute(sa.select(users.c.id).where(users.c.email == TESTER)).scalar_one()
    body = {
        "duration_class": "normal",
        "pct_test": 60,
        "pct_bug": 30,
        "pct_setup": 10,
        "pct_charter": 100 - opportunity,
        "pct_opportunity": opportunity,
        "areas": ["Checkout | Cards"],
        "tester_ids": [tess],
    }
    ok(call(api, "PATCH", f"/sessions/{session_id}/sbtm", body))
    note = {"note": "Tried three expired cards"}
    ok(call(api, "POST", f"/sessions/{session_id}/results", note), 201)


def closed_session(api: Api, complete: bool = True, opportunity: int = 10) -> int:
    sid = new_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/start"))
    if complete:
        fill_sheet(api, sid, opportunity)
    ok(call(api, "POST", f"/sessions/{sid}/close"))
    return sid


def state_meaning(api: Api, session_id: int) -> str | None:
    with api.db.read() as conn:
        meaning: str | None = conn.execute(
            sa.select(states.c.meaning)
            .join(sessions, sessions.c.state_id == states.c.id)
            .where(sessions.c.id == session_id)
        ).scalar_one()
    return meaning


# --- the sheet checks -----------------------------------------------------------------


def test_a_sentence_is_three_words() -> None:
    assert not is_sentence(None)
    assert not is_sentence("crash")
    assert not is_sentence("login -- broken !!")
    assert is_sentence("Login fails silently")
    assert is_sentence("Zahlung schlägt fehl")


def test_opportunity_warnings_follow_the_checklist() -> None:
    assert warnings(None) == [] and warnings(25) == []
    assert "consider changing the charter" in warnings(26)[0]
    assert "consider" in warnings(50)[0]
    assert "schedule a new session for the original" in warnings(51)[0]


def test_an_empty_sheet_lists_every_problem_and_submit_refuses_it(api: Api) -> None:
    sid = closed_session(api, complete=False)
    problems = ok(call(api, "GET", f"/sessions/{sid}/sheet/problems"))["result"]["problems"]
    fields = {p["field"] for p in problems}
    assert fields == {
        "duration",
        "task_breakdown",
        "opportunity",
        "areas",
        "testers",
        "test_notes",
    }
    refused = call(api, "POST", f"/sessions/{sid}/submit", {})
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["errors"]) == fields
    forced = ok(call(api, "POST", f"/sessions/{sid}/submit", {"force": True}))["result"]
    assert forced["status"] == "submitted"
    assert state_meaning(api, sid) == "review"


def test_sums_and_short_bug_notes_are_problems(api: Api) -> None:
    sid = closed_session(api)
    assert ok(call(api, "GET", f"/sessions/{sid}/sheet/problems"))["result"]["problems"] == []
    with api.db.write() as conn:
        conn.execute(sa.update(sessions).where(sessions.c.id == sid).values(pct_test=50))
    problems = ok(call(api, "GET", f"/sessions/{sid}/sheet/problems"))["result"]["problems"]
    assert problems == [
        {
            "field": "task_breakdown",
            "message": "Test + bug + setup adds up to 90, not 100.",
            "result_id": None,
        }
    ]


def test_submit_needs_a_closed_session_and_happens_once(api: Api) -> None:
    sid = new_session(api)
    assert call(api, "POST", f"/sessions/{sid}/submit", {"force": True}).status_code == 409
    ok(call(api, "POST", f"/sessions/{sid}/close"))
    ok(call(api, "POST", f"/sessions/{sid}/submit", {"force": True}))
    assert call(api, "POST", f"/sessions/{sid}/submit", {"force": True}).status_code == 409
    bad = call(api, "POST", f"/sessions/{sid}/submit", {"force": "yes"})
    assert bad.status_code == 422 and "force" in bad.json()["errors"]


# --- the debrief ------------------------------------------------------------------------


def test_a_manager_records_the_debrief_with_if_match(api: Api) -> None:
    sid = closed_session(api, opportunity=60)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    got = call(api, "GET", f"/sessions/{sid}/debrief", as_user=VIEWER)
    debrief = ok(got)["result"]
    assert debrief["status"] == "submitted" and debrief["submitted_at"]
    assert "rewrite the charter" in debrief["warnings"][0]
    etag = got.headers["etag"]
    body = {
        "past": "Ran the expired-card paths.",
        "results": "Two bugs.",
        "obstacles": "The sandbox was slow.",
        "outlook": ["Explore refunds", "  ", "Explore saved cards"],
        "feelings": "Fragile.",
    }
    assert call(api, "PUT", f"/sessions/{sid}/debrief", body, as_user=TESTER).status_code == 403
    saved = ok(
        call(api, "PUT", f"/sessions/{sid}/debrief", body, as_user=LEAD, **{"If-Match": etag})
    )
    result = saved["result"]
    assert result["outlook"] == ["Explore refunds", "Explore saved cards"]
    assert result["debriefed_by"] is not None and result["debriefed_at"]
    stale = call(
        api, "PUT", f"/sessions/{sid}/debrief", {"past": "x"}, as_user=LEAD, **{"If-Match": etag}
    )
    assert stale.status_code == 412
    bad = call(api, "PUT", f"/sessions/{sid}/debrief", {"outlook": ["a\nb"]}, as_user=LEAD)
    assert bad.status_code == 422 and "outlook.0" in bad.json()["errors"]
    unknown = call(api, "PUT", f"/sessions/{sid}/debrief", {"verdict": 1}, as_user=LEAD)
    assert unknown.status_code == 422


def test_approve_locks_every_write_path(api: Api) -> None:
    sid = closed_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    assert call(api, "POST", f"/sessions/{sid}/debrief/approve", as_user=TESTER).status_code == 403
    approved = ok(call(api, "POST", f"/sessions/{sid}/debrief/approve", as_user=LEAD))["result"]
    assert approved["status"] == "approved" and approved["approved_by"] is not None
    assert state_meaning(api, sid) == "done"
    with api.db.read() as conn:
        result_id = conn.execute(
            sa.text("SELECT id FROM session_results WHERE session_id = :s"), {"s": sid}
        ).scalar_one()
    png = ("files[]", ("a.txt", b"x", "text/plain"))
    refused = [
        ("PATCH", f"/sessions/{sid}", {"name": "renamed"}),
        ("POST", f"/sessions/{sid}/start", None),
        ("POST", f"/sessions/{sid}/resume", None),
        ("POST", f"/sessions/{sid}/close", None),
        ("POST", f"/sessions/{sid}/reopen", None),
        ("POST", f"/sessions/{sid}/results", {"note": "late"}),
        ("PATCH", f"/sessions/results/{result_id}", {"note": "edited"}),
        ("DELETE", f"/sessions/results/{result_id}", None),
        ("DELETE", f"/sessions/{sid}/attachments", {"ids": [1]}),
        ("POST", f"/sessions/{sid}/submit", {"force": True}),
        ("PUT", f"/sessions/{sid}/debrief", {"past": "rewritten"}),
        ("POST", f"/sessions/{sid}/debrief/approve", None),
        ("POST", f"/sessions/{sid}/debrief/return", {"comment": "again"}),
    ]
    for method, path, body in refused:
        who = LEAD if "debrief" in path else TESTER
        resp = call(api, method, path, body, as_user=who)
        assert resp.status_code == 409, (method, path, resp.status_code, resp.text)
    upload = api.client.post(
        f"/api/v1/sessions/{sid}/attachments",
        files=[png],
        headers={"Authorization": f"Bearer {api.tokens[TESTER]}"},
    )
    assert upload.status_code == 409, upload.text
    # the SBTM data: through the API and through the sheet importer's service call
    sbtm = call(api, "PATCH", f"/sessions/{sid}/sbtm", {"pct_test": 60})
    assert sbtm.status_code == 409, sbtm.text
    with pytest.raises(Conflict), api.db.write() as conn:
        sbtm_service.set_session_sheet(conn, sid, SheetData(), 1)
    # a manager may still delete it (deleting is not editing the sheet)
    ok(call(api, "DELETE", f"/sessions/{sid}", as_user=LEAD), 204)


def test_return_sends_it_back_and_the_tester_resubmits(api: Api) -> None:
    sid = closed_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    missing = call(api, "POST", f"/sessions/{sid}/debrief/return", {}, as_user=LEAD)
    assert missing.status_code == 422 and "comment" in missing.json()["errors"]
    returned = ok(
        call(
            api,
            "POST",
            f"/sessions/{sid}/debrief/return",
            {"comment": "Name the cards"},
            as_user=LEAD,
        )
    )["result"]
    assert returned["status"] == "returned" and returned["return_comment"] == "Name the cards"
    assert call(api, "POST", f"/sessions/{sid}/debrief/approve", as_user=LEAD).status_code == 409
    ok(call(api, "POST", f"/sessions/{sid}/reopen"))
    ok(call(api, "POST", f"/sessions/{sid}/results", {"note": "Visa 4000 0000 0000 0069"}), 201)
    ok(call(api, "POST", f"/sessions/{sid}/close"))
    again = ok(call(api, "POST", f"/sessions/{sid}/submit", {}))["result"]
    assert again["status"] == "submitted"


def test_reopening_a_submitted_session_withdraws_it(api: Api) -> None:
    sid = closed_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    ok(call(api, "POST", f"/sessions/{sid}/reopen"))
    assert ok(call(api, "GET", f"/sessions/{sid}/debrief"))["result"]["status"] is None
    assert call(api, "POST", f"/sessions/{sid}/debrief/approve", as_user=LEAD).status_code == 409


def test_outlook_items_become_follow_up_charters(api: Api) -> None:
    sid = closed_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    body = {"outlook": ["Explore refunds", "Explore saved cards"]}
    ok(call(api, "PUT", f"/sessions/{sid}/debrief", body, as_user=LEAD))
    path = f"/sessions/{sid}/debrief/follow-ups"
    assert call(api, "POST", path, {"items": [0]}, as_user=TESTER).status_code == 403
    for bad in ([], [2], ["0"], [True]):
        resp = call(api, "POST", path, {"items": bad}, as_user=LEAD)
        assert resp.status_code == 422 and "items" in resp.json()["errors"], bad
    created = ok(call(api, "POST", path, {"items": [1, 0, 1]}, as_user=LEAD), 201)["result"]
    assert len(created) == 2
    first = ok(call(api, "GET", f"/sessions/{created[0]}"))["result"]
    assert first["name"] == "Explore saved cards" and not first["is_started"]
    with api.db.read() as conn:
        linked = (
            conn.execute(sa.select(sessions.c.follow_up_of).where(sessions.c.id.in_(created)))
            .scalars()
            .all()
        )
    assert linked == [sid, sid]
    assert ok(call(api, "GET", f"/sessions/{sid}/debrief"))["result"]["follow_ups"] == created
    areas = ok(call(api, "GET", f"/sessions/{created[0]}/sbtm"))["result"]["areas"]
    assert areas == ["Checkout | Cards"], areas
    # deleting the origin keeps the follow-ups, unlinked
    ok(call(api, "DELETE", f"/sessions/{sid}", as_user=LEAD), 204)
    with api.db.read() as conn:
        assert conn.execute(
            sa.select(sessions.c.follow_up_of).where(sessions.c.id.in_(created))
        ).scalars().all() == [None, None]


def test_outsiders_and_viewers_are_refused(api: Api) -> None:
    sid = closed_session(api)
    for method, path, body in (
        ("GET", f"/sessions/{sid}/debrief", None),
        ("GET", f"/sessions/{sid}/sheet/problems", None),
        ("POST", f"/sessions/{sid}/submit", {}),
    ):
        assert call(api, method, path, body, as_user=OUTSIDER).status_code == 403
    assert call(api, "POST", f"/sessions/{sid}/submit", {}, as_user=VIEWER).status_code == 403
    assert call(api, "GET", "/sessions/99999/debrief", as_user=ADMIN).status_code == 404


# --- concurrency ------------------------------------------------------------------------


def _user(db: Database, email: str) -> auth.User:
    with db.read() as conn:
        row = conn.execute(sa.select(users).where(users.c.email == email)).mappings().one()
        return auth.user_of(row)


@pytest.mark.parametrize("second", ["approve", "return"])
def test_two_managers_at_once_one_wins(api: Api, second: str) -> None:
    """Two managers approve, or one approves while the other returns, the same sheet at
    the same moment: exactly one succeeds, the other gets 409 (both lock the session
    row before reading the status, on PostgreSQL too)."""
    sid = closed_session(api)
    ok(call(api, "POST", f"/sessions/{sid}/submit", {}))
    leads = [_user(api.db, LEAD), _user(api.db, LEAD2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(index: int) -> None:
        user = leads[index]
        barrier.wait()
        try:
            with api.db.write() as conn:
                if index == 0 or second == "approve":
                    debrief_service.approve(conn, user, sid)
                else:
                    debrief_service.return_sheet(conn, user, sid, "Redo it")
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    status = ok(call(api, "GET", f"/sessions/{sid}/debrief"))["result"]["status"]
    assert status in ("approved", "returned")


def test_a_state_chosen_by_hand_is_left_alone(api: Api) -> None:
    """Submit and approve move the state only where nobody chose it by hand."""
    sid = new_session(api)
    created = call(api, "POST", "/states", {"name": "Blocked"}, as_user=ADMIN)
    blocked = ok(created, 201)["result"]["id"]
    ok(call(api, "PATCH", f"/sessions/{sid}", {"state_id": blocked}))
    ok(call(api, "POST", f"/sessions/{sid}/close"))
    ok(call(api, "POST", f"/sessions/{sid}/submit", {"force": True}))
    ok(call(api, "POST", f"/sessions/{sid}/debrief/approve", as_user=LEAD))
    assert ok(call(api, "GET", f"/sessions/{sid}"))["result"]["state_id"] == blocked
