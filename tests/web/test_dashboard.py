"""The project dashboard: its figures equal a recount from the raw rows, its queries
use indexes (never a scan of sessions, never a read of the results table), bad
parameters answer 422 naming the field, and outsiders are refused."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.auth import service as auth
from charter.auth.service import User
from charter.core.clock import utcnow
from charter.core.errors import Forbidden, Invalid, NotFound
from charter.dashboard import read as dashboard_read
from charter.db.engine import Database
from charter.db.migrate import optimize
from charter.demo import DEMO_ADMIN_EMAIL
from charter.projects import service as project_service
from charter.users import service as user_service
from helpers_web import prepare_web_demo

N_SESSIONS = 1500


def user_of(conn: Connection, email: str) -> User:
    row = conn.execute(
        sa.text("SELECT id, name, email, is_admin FROM users WHERE email = :e"), {"e": email}
    ).one()
    return User(row.id, row.name, row.email, bool(row.is_admin), None, None, None)


@pytest.fixture(scope="module")
def web_demo_url(module_database_url: str) -> str:
    """The web demo (see conftest) with N_SESSIONS sessions over two years, analysed
    as after `charter migrate`: the page tests and the plan tests share it."""
    prepare_web_demo(module_database_url, n_sessions=N_SESSIONS)
    db = Database(module_database_url)
    optimize(db)
    db.close()
    return module_database_url


@pytest.fixture(scope="module")
def big(web_demo_url: str) -> Iterator[Database]:
    db = Database(web_demo_url)
    yield db
    db.close()


def recount(conn: Connection, project_id: int, first: date, last: date) -> dict[str, Any]:
    """The window's figures straight from the rows (the results table included), in
    Python: an independent check of the stored counters and of the grouping."""
    since = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    # Time is credited to who started a session (its assignee when unknown).
    rows = conn.execute(
        sa.text(
            "SELECT id, created_at, state_id, coalesce(started_by, assignee_id), elapsed"
            " FROM sessions WHERE project_id = :p AND created_at >= :s AND created_at < :e"
        ),
        {"p": project_id, "s": since, "e": end},
    ).all()
    day_of = {}
    states: Counter[int] = Counter()
    elapsed: Counter[int | None] = Counter()
    for sid, created, state_id, assignee_id, spent in rows:
        created = created if isinstance(created, datetime) else datetime.fromisoformat(created)
        day_of[sid] = created.date()
        states[state_id] += 1
        elapsed[assignee_id] += spent or 0
    by_status: dict[int | None, Counter[date]] = defaultdict(Counter)
    active = {
        r[0]
        for r in conn.execute(sa.text("SELECT id FROM statuses WHERE is_active = :t"), {"t": True})
    }
    # Results count on the day they were recorded, whenever their session was created.
    results = conn.execute(
        sa.text(
            "SELECT created_at, status_id FROM session_results"
            " WHERE project_id = :p AND created_at >= :s AND created_at < :e"
        ),
        {"p": project_id, "s": since, "e": end},
    ).all()
    n_results = 0
    for at, status_id in results:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        n_results += 1
        by_status[status_id if status_id in active else None][at.date()] += 1
    return {
        "sessions": len(rows),
        "results": n_results,
        "states": states,
        "elapsed": elapsed,
        "by_status": by_status,
    }


def test_figures_equal_a_recount_from_the_rows(big: Database) -> None:
    with big.read() as conn:
        admin = user_of(conn, DEMO_ADMIN_EMAIL)
        for project_id in (1, 2):
            board = dashboard_read.project_dashboard(conn, admin, project_id, days=90)
            want = recount(conn, project_id, board.window.first, board.window.last)
            assert board.sessions == want["sessions"] > 0
            assert board.results == want["results"] > 0
            assert {s.state_id: s.sessions for s in board.states if s.sessions} == dict(
                want["states"]
            )
            assert {t.user_id: t.elapsed for t in board.testers} == dict(want["elapsed"])
            days = board.window.days
            assert len(days) == 90
            got = {s.status_id: dict(zip(days, s.per_day, strict=True)) for s in board.statuses}
            for status_id, per_day in want["by_status"].items():
                assert {d: n for d, n in got[status_id].items() if n} == dict(per_day)
            assert sum(s.total for s in board.statuses) == board.results
            project = conn.execute(
                sa.text("SELECT session_count, session_closed_count FROM projects WHERE id = :p"),
                {"p": project_id},
            ).one()
            assert board.project["session_count"] == project.session_count
            assert board.project["session_closed_count"] == project.session_closed_count


def test_window_defaults_to_the_newest_session_and_is_bounded(big: Database) -> None:
    with big.read() as conn:
        admin = user_of(conn, DEMO_ADMIN_EMAIL)
        newest = conn.execute(
            sa.text("SELECT max(created_at) FROM sessions WHERE project_id = 1")
        ).scalar_one()
        newest = newest if isinstance(newest, datetime) else datetime.fromisoformat(newest)
        board = dashboard_read.project_dashboard(conn, admin, 1)
        assert board.window.last == min(newest.date(), utcnow().date())
        assert len(board.window.days) == dashboard_read.DEFAULT_DAYS
        # An explicit end day and length: exactly those days, even with no data.
        quiet = dashboard_read.project_dashboard(conn, admin, 1, days=3, until=date(2000, 1, 3))
        assert quiet.window.days == [date(2000, 1, 1), date(2000, 1, 2), date(2000, 1, 3)]
        assert quiet.sessions == quiet.results == quiet.elapsed == 0
        assert quiet.testers == []
        assert all(s.per_day == [0, 0, 0] for s in quiet.statuses)
        for days in (0, dashboard_read.MAX_DAYS + 1):
            with pytest.raises(Invalid) as caught:
                dashboard_read.project_dashboard(conn, admin, 1, days=days)
            assert caught.value.errors is not None and "days" in caught.value.errors


@pytest.mark.parametrize("raw", ["0", "91", "-1", "abc", "1.5", " 7", "٣"])
def test_bad_days_name_the_field(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        dashboard_read.parse_days(raw)
    assert caught.value.errors is not None and list(caught.value.errors) == ["days"]


@pytest.mark.parametrize(
    "raw", ["2026-13-01", "yesterday", "2026-1-1", "2026-01-01T00:00", "2026-W01-1", "20260101"]
)
def test_bad_until_names_the_field(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        dashboard_read.parse_until(raw)
    assert caught.value.errors is not None and list(caught.value.errors) == ["until"]


def test_good_parameters_parse() -> None:
    assert (
        dashboard_read.parse_days(None)
        == dashboard_read.parse_days("")
        == dashboard_read.DEFAULT_DAYS
    )
    assert dashboard_read.parse_days("90") == 90
    assert dashboard_read.parse_until("2026-02-28") == date(2026, 2, 28)
    assert dashboard_read.parse_until("") is None


def test_outsiders_are_refused(big: Database) -> None:
    with big.read() as conn:
        # Alan is a viewer of project 3 and a tester of 1, not a member of 2.
        alan = user_of(conn, "alan@example.com")
        assert dashboard_read.project_dashboard(conn, alan, 3).project["id"] == 3
        with pytest.raises(Forbidden):
            dashboard_read.project_dashboard(conn, alan, 2)
        with pytest.raises(NotFound):
            dashboard_read.project_dashboard(conn, alan, 999_999)


# --- query plans ----------------------------------------------------------------------


def served_statements(conn: Connection, user: User, days: int) -> list[tuple[str, Any]]:
    recorded: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        recorded.append((statement, parameters))

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        board = dashboard_read.project_dashboard(conn, user, 1, days=days)
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    assert board.sessions > 0
    return [(s, p) for s, p in recorded if s.lstrip().upper().startswith("SELECT")]


def explain(conn: Connection, statement: str, parameters: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        return [
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    return [str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]


@pytest.mark.parametrize("days", [1, dashboard_read.DEFAULT_DAYS, dashboard_read.MAX_DAYS])
def test_queries_use_indexes_and_never_read_results(big: Database, days: int) -> None:
    with big.read() as conn:
        admin = user_of(conn, DEMO_ADMIN_EMAIL)
        statements = served_statements(conn, admin, days)
        dialect = conn.dialect.name
        if dialect == "postgresql":
            # An available index must then always win over a sequential scan.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [(s, explain(conn, s, p)) for s, p in statements]
    # The stored counters answer everything: the results table is never read.
    assert not [s for s, _ in statements if "session_results" in s]
    on_sessions = [(s, plan) for s, plan in plans if re.search(r"FROM sessions\b", s)]
    assert len(on_sessions) == 2, [s for s, _ in on_sessions]  # newest day, the window
    text = "\n".join(f"{s}\n  " + "\n  ".join(plan) for s, plan in on_sessions)
    for _statement, plan in on_sessions:
        if dialect == "sqlite":
            assert not [
                line
                for line in plan
                if re.match(r"\s*SCAN sessions\b", line) and "INDEX" not in line
            ], text
            assert any(
                re.search(r"SEARCH sessions USING (COVERING )?INDEX \w+ \(project_id=\?", line)
                for line in plan
            ), text
        else:
            assert not [line for line in plan if "Seq Scan on sessions" in line], text
            assert any(re.search(r"Index.*Cond: .*project_id", line) for line in plan), text
    # The window is bounded on created_at by the index itself (a range, not a filter).
    window_statement, window_plan = next((s, plan) for s, plan in on_sessions if "GROUP BY" in s)
    if dialect == "sqlite":
        assert any(
            re.search(r"\(project_id=\? AND created_at>\? AND created_at<\?\)", line)
            for line in window_plan
        ), window_statement + "\n" + "\n".join(window_plan)
    else:
        assert any(
            re.search(r"Index Cond: .*project_id.*created_at.*created_at", line)
            for line in window_plan
        ), window_statement + "\n" + "\n".join(window_plan)


# --- the page -------------------------------------------------------------------------

COUNTER = re.compile(r'data-counter="(\w+)">([^<]*)<')
STATE_CELL = re.compile(r'data-state="(\d+)">(\d+)<')
STATUS_CELL = re.compile(r'data-status="(\w+)">(\d+)<')
ELAPSED_CELL = re.compile(r'data-elapsed="(\d+)"')


@pytest.fixture(scope="module")
def api_get(web_client: Any, big: Database) -> Any:
    """GET an API path as the admin, with a bearer token (the API ignores cookies)."""
    with big.write() as conn:
        token = auth.create_token(conn, DEMO_ADMIN_EMAIL, "dashboard tests")
    client = web_client("anonymous")

    def get(path: str, **params: Any) -> Any:
        resp = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text
        return resp.json()

    return get


def test_page_numbers_equal_the_api_and_a_recount(
    web_client: Any, api_get: Any, big: Database
) -> None:
    resp = web_client("admin").get("/projects/1/dashboard", params={"days": "90"})
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert "style=" not in html and "<script>" not in html  # the CSP allows neither
    found = dict(COUNTER.findall(html))
    project = api_get("/api/v1/projects/1")["result"]
    for key in ("session_count", "session_active_count", "session_closed_count"):
        assert int(found[key].replace(",", "")) == project[key]
    assert int(found["milestone_active_count"]) == project["milestone_active_count"]

    with big.read() as conn:
        board = dashboard_read.project_dashboard(conn, user_of(conn, DEMO_ADMIN_EMAIL), 1, days=90)
        want = recount(conn, 1, board.window.first, board.window.last)
    # The window, asked of the API's list: created_after/before are strict.
    after = datetime.combine(board.window.first, datetime.min.time()) - timedelta(microseconds=1)
    before = datetime.combine(board.window.last + timedelta(days=1), datetime.min.time())
    window = {
        "created_after": after.isoformat() + "Z",
        "created_before": before.isoformat() + "Z",
        "per_page": "15",
    }
    assert (
        int(found["window_sessions"].replace(",", ""))
        == api_get("/api/v1/projects/1/sessions", **window)["total"]
        == want["sessions"]
        > 0
    )
    assert int(found["window_results"].replace(",", "")) == want["results"]
    states = {int(k): int(v) for k, v in STATE_CELL.findall(html)}
    assert {k: v for k, v in states.items() if v} == dict(want["states"])
    for state_id, n in states.items():
        listed = api_get("/api/v1/projects/1/sessions", state_id=str(state_id), **window)
        assert listed["total"] == n
    statuses = {k: int(v) for k, v in STATUS_CELL.findall(html)}
    for status_id, per_day in want["by_status"].items():
        assert statuses["none" if status_id is None else str(status_id)] == sum(per_day.values())
    assert sorted(int(v) for v in ELAPSED_CELL.findall(html)) == sorted(
        v for v in want["elapsed"].values()
    )
    # Three charts, each an accessible SVG with its own title.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 3
    assert html.count('role="img"') == 3


def test_every_member_may_look_outsiders_may_not(web_client: Any) -> None:
    for role in ("manager", "tester", "viewer"):
        assert web_client(role).get("/projects/1/dashboard").status_code == 200
    refused = web_client("outsider").get("/projects/1/dashboard")
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "Traceback" not in refused.text and "not a member" in refused.text
    for path in (
        "/projects/999999/dashboard",
        "/projects/abc/dashboard",
        "/projects/0/dashboard",
        "/projects/99999999999999999999999/dashboard",
    ):
        missing = web_client("admin").get(path)
        assert missing.status_code == 404, path
        assert "text/html" in missing.headers["content-type"]


def test_signed_out_browsers_go_to_sign_in(web_client: Any) -> None:
    resp = web_client("anonymous").get("/projects/1/dashboard?days=7", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fprojects%2F1%2Fdashboard%3Fdays%3D7"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": "0"}, "days"),
        ({"days": "1000"}, "days"),
        ({"days": "x"}, "days"),
        ({"until": "2026-02-30"}, "until"),
        ({"until": "soon"}, "until"),
    ],
)
def test_bad_parameters_get_a_422_page_naming_them(
    web_client: Any, params: dict[str, str], field: str
) -> None:
    resp = web_client("viewer").get("/projects/1/dashboard", params=params)
    assert resp.status_code == 422
    assert "text/html" in resp.headers["content-type"]
    assert field in resp.text


def test_the_window_follows_the_parameters(web_client: Any) -> None:
    html = (
        web_client("viewer")
        .get("/projects/1/dashboard", params={"days": "7", "until": "2025-03-09"})
        .text
    )
    assert "7 days: Mar 3 2025 to Mar 9 2025" in html
    assert 'value="2025-03-09"' in html
    assert '<option value="7" selected>' in html
    # Links to other lengths keep the end day.
    assert "/projects/1/dashboard?days=30&amp;until=2025-03-09" in html


def test_hostile_names_stay_text(web_client: Any, api_get: Any, big: Database) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with big.write() as conn:
        admin = user_of(conn, DEMO_ADMIN_EMAIL)
        project_id = project_service.new_project(conn, hostile, created_by=admin.id)
        tester = user_service.new_user(conn, hostile + " tester", "hostile@example.com")
        project_service.add_member(conn, project_id, "hostile@example.com", "tester")
    client = web_client("admin")
    with big.write() as conn:
        bearer = auth.create_token(conn, DEMO_ADMIN_EMAIL, "hostile")
    auth_header = {"Authorization": f"Bearer {bearer}"}
    created = client.post(
        f"/api/v1/projects/{project_id}/sessions",
        json={"name": hostile, "assignee_id": tester},
        headers=auth_header,
    )
    assert created.status_code == 201, created.text
    sid = created.json()["result"]["id"]
    added = client.post(
        f"/api/v1/sessions/{sid}/results",
        json={"results": [{"status_id": 3, "note": hostile}, {"note": "plain"}]},
        headers=auth_header,
    )
    assert added.status_code in (200, 201), added.text
    resp = client.get(f"/projects/{project_id}/dashboard")
    assert resp.status_code == 200
    html = resp.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert dict(COUNTER.findall(html))["window_results"] == "2"
    statuses = dict(STATUS_CELL.findall(html))
    assert statuses["3"] == "1" and statuses["none"] == "1"
