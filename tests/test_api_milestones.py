"""Contract tests for GET /api/v1/projects/{project_id}/milestones and
GET /api/v1/milestones/{milestone_id} (Testmo's list conventions; Charter's decisions in
docs/api.md).

A small, fully known dataset: project Pines with a nested milestone tree, sessions
with results in some milestones; Quarry (another project) for access checks; Rows
(20 plain milestones) for pagination.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from charter.catalog import service as catalog_service
from charter.db import rows as db_rows
from charter.db.engine import Database
from charter.db.tables import COUNTER_COLUMNS, milestones
from charter.milestones import queries as milestone_queries
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import queries as session_queries
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import Api, make_fresh_database, migrate, open_api

ADMIN = "admin@example.com"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
EXPANDS = ("issues", "milestone_stats", "milestone_types", "milestones", "statuses", "users")
MILESTONE_KEYS = {
    "id",
    "project_id",
    "root_id",
    "parent_id",
    "type_id",
    "name",
    "note",
    "is_started",
    "is_completed",
    "start_date",
    "due_date",
    "automation_tags",
    "issues",
    "links",
    "started_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "completed_at",
}
STATS_KEYS = {"id", *COUNTER_COLUMNS}
USERS = [
    ("admin", "Zoe Admin", ADMIN, True),
    ("alice", "Alice Archer", "alice@example.com", False),
    ("bob", "Bob Baker", "bob@example.com", False),
    ("carol", "Carol Chen", "carol@example.com", False),
    ("dave", "Dave Doe", "dave@example.com", False),
]
RELEASE, SPRINT = 2, 3  # milestone types seeded by the first migration
ROWS_SIZE = 20


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def key_of(self, milestone_id: int) -> str:
        milestone_keys = {"m1", "m2", "m3", "m4", "q1", *(f"r{i}" for i in range(ROWS_SIZE))}
        return next(k for k in milestone_keys if self.ids[k] == milestone_id)


def _build(db: Database) -> World:
    w = World()
    with db.write() as conn:
        for key, name, email, is_admin in USERS:
            w.ids[key] = user_service.new_user(conn, name, email, is_admin=is_admin)
            w.emails[key], w.names[key] = email, name
        admin = w.ids["admin"]
        for key, name in (("pines", "Pines"), ("quarry", "Quarry"), ("rows", "Rows")):
            w.ids[key] = project_service.new_project(conn, name, created_by=admin)
        project_service.add_member(conn, w.ids["pines"], w.emails["alice"], "manager")
        project_service.add_member(conn, w.ids["pines"], w.emails["bob"], "viewer")
        project_service.add_member(conn, w.ids["quarry"], w.emails["carol"], "tester")
        w.ids["i1"] = catalog_service.new_issue(conn, 4, "WEB-1", 100, "WEB")
        w.ids["i2"] = catalog_service.new_issue(conn, 2, "#9", 200, "acme/shop")
        w.ids["i3"] = catalog_service.new_issue(conn, 1, "X-3")
        pines = w.ids["pines"]

        m1 = milestone_service.new_milestone(
            conn,
            pines,
            "Release 1",
            created_by=admin,
            is_completed=True,
            type_id=RELEASE,
            start_date=date(2025, 1, 1),
            due_date=date(2025, 1, 31),
            note="First release",
        )
        db_rows.update(
            conn,
            milestones,
            m1,
            created_at=datetime(2025, 1, 1),
            completed_at=datetime(2025, 2, 1, 12, 30, 0, 250000),
            is_started=True,
            started_at=datetime(2025, 1, 2),
            updated_at=datetime(2025, 2, 1, 12, 30, 0, 250000),
            updated_by=w.ids["alice"],
        )
        milestone_queries.set_issues(conn, m1, [w.ids["i2"], w.ids["i1"]])
        m2 = milestone_service.new_milestone(
            conn, pines, "Alpha sprint", created_by=w.ids["alice"], parent_id=m1, type_id=SPRINT
        )
        db_rows.update(conn, milestones, m2, created_at=datetime(2025, 1, 5))
        m3 = milestone_service.new_milestone(
            conn, pines, "Zeta sprint", created_by=w.ids["bob"], parent_id=m2, is_completed=True
        )
        db_rows.update(
            conn,
            milestones,
            m3,
            created_at=datetime(2025, 1, 5),
            completed_at=datetime(2025, 3, 1),
        )
        milestone_queries.set_issues(conn, m3, [w.ids["i2"]])
        m4 = milestone_service.new_milestone(
            conn, pines, "Beta", created_by=admin, due_date=date(2025, 6, 30)
        )
        db_rows.update(conn, milestones, m4, created_at=datetime(2025, 2, 1))
        w.ids.update(m1=m1, m2=m2, m3=m3, m4=m4)
        for key in ("m1", "m2", "m3", "m4"):
            w.names[key] = db_rows.row_by_id(conn, milestones, w.ids[key])["name"]  # type: ignore[index]

        q1 = milestone_service.new_milestone(
            conn, w.ids["quarry"], "Quarry M", created_by=w.ids["carol"]
        )
        w.ids["q1"] = q1
        for i in range(ROWS_SIZE):
            r = milestone_service.new_milestone(
                conn, w.ids["rows"], f"Row {i:02d}", created_by=admin
            )
            # Pairs of equal created_at: ties broken by id.
            db_rows.update(conn, milestones, r, created_at=datetime(2025, 5, 1, i // 2))
            w.ids[f"r{i}"] = r

    # Sessions with results: two in m1, one in m2, one without a milestone, none in m3/m4.
    plan = [("m1", (1, 2, 2, 3, None)), ("m1", (2, 5)), ("m2", (3, 3, 4)), (None, (2,))]
    with db.write() as conn:
        for n, (mkey, statuses) in enumerate(plan):
            sid = session_service.create_session(
                conn,
                pines,
                w.ids["alice"],
                f"Session {n}",
                milestone_id=None if mkey is None else w.ids[mkey],
            )
            items = [{"status_id": s, "note": f"note {k}"} for k, s in enumerate(statuses)]
            result_service.add_results(conn, sid, w.ids["alice"], items)
            w.ids[f"s{n}"] = sid
    return w


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, cleanup = make_fresh_database(tmp_path_factory.mktemp("milestones"))
    try:
        yield url
    finally:
        cleanup()  # type: ignore[operator]


@pytest.fixture(scope="module")
def world(world_url: str) -> World:
    db = migrate(world_url)
    try:
        return _build(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def api(world: World, world_url: str) -> Iterator[Api]:
    yield from open_api(world_url)


# --- helpers -------------------------------------------------------------------------


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers.get("etag")
    body: dict[str, Any] = resp.json()
    return body


def assert_error(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body.get("message"), str) and body["message"]
    if field is not None:
        assert list(body.get("errors", {})) == [field], body
        assert all(isinstance(m, str) for m in body["errors"][field])


def keys(w: World, body: dict[str, Any]) -> list[str]:
    return [w.key_of(m["id"]) for m in body["result"]]


def pines(api: Api, w: World, as_user: str = ADMIN, **params: Any) -> httpx.Response:
    return api.get(f"/api/v1/projects/{w.ids['pines']}/milestones", as_user=as_user, **params)


# --- the milestone object ------------------------------------------------------------


def test_milestone_fields(api: Api, world: World) -> None:
    w = world
    body = ok(api.get(f"/api/v1/milestones/{w.ids['m1']}"))
    assert body == {
        "result": {
            "id": w.ids["m1"],
            "project_id": w.ids["pines"],
            "root_id": w.ids["m1"],
            "parent_id": None,
            "type_id": RELEASE,
            "name": "Release 1",
            "note": "First release",
            "is_started": True,
            "is_completed": True,
            "start_date": "2025-01-01",
            "due_date": "2025-01-31",
            "automation_tags": [],
            "issues": sorted([w.ids["i1"], w.ids["i2"]]),
            "links": [],
            "started_at": "2025-01-02T00:00:00.000000Z",
            "created_at": "2025-01-01T00:00:00.000000Z",
            "created_by": w.ids["admin"],
            "updated_at": "2025-02-01T12:30:00.250000Z",
            "updated_by": w.ids["alice"],
            "completed_at": "2025-02-01T12:30:00.250000Z",
        },
        "expands": {},
    }
    m3 = ok(api.get(f"/api/v1/milestones/{w.ids['m3']}"))["result"]
    assert m3 == {
        "id": w.ids["m3"],
        "project_id": w.ids["pines"],
        "root_id": w.ids["m1"],
        "parent_id": w.ids["m2"],
        "type_id": 1,  # none named: the default type
        "name": "Zeta sprint",
        "note": None,
        "is_started": False,
        "is_completed": True,
        "start_date": None,
        "due_date": None,
        "automation_tags": [],
        "issues": [w.ids["i2"]],
        "links": [],
        "started_at": None,
        "created_at": "2025-01-05T00:00:00.000000Z",
        "created_by": w.ids["bob"],
        "updated_at": None,
        "updated_by": None,
        "completed_at": "2025-03-01T00:00:00.000000Z",
    }


def test_list_rows_equal_single_objects(api: Api, world: World) -> None:
    body = ok(pines(api, world))
    assert body["total"] == 4
    for row in body["result"]:
        assert set(row) == MILESTONE_KEYS
        assert DATE_RE.match(row["created_at"])
        assert ok(api.get(f"/api/v1/milestones/{row['id']}"))["result"] == row
    m2 = next(r for r in body["result"] if r["id"] == world.ids["m2"])
    assert (m2["root_id"], m2["parent_id"], m2["type_id"]) == (
        world.ids["m1"],
        world.ids["m1"],
        SPRINT,
    )
    assert m2["is_completed"] is False and m2["completed_at"] is None


# --- sorting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # m2 and m3 share created_at: ties broken by id in the same direction.
        ({}, ["m4", "m3", "m2", "m1"]),
        ({"order": "asc"}, ["m1", "m2", "m3", "m4"]),
        ({"sort": "milestones:created_at", "order": "desc"}, ["m4", "m3", "m2", "m1"]),
        ({"sort": "milestones:name", "order": "asc"}, ["m2", "m4", "m1", "m3"]),
        ({"sort": "milestones:name"}, ["m3", "m1", "m4", "m2"]),
        # Nulls sort as lowest: first in asc (by id), last in desc.
        ({"sort": "milestones:completed_at", "order": "asc"}, ["m2", "m4", "m1", "m3"]),
        ({"sort": "milestones:completed_at", "order": "desc"}, ["m3", "m1", "m4", "m2"]),
        ({"sort": "milestones:due_date", "order": "asc"}, ["m2", "m3", "m1", "m4"]),
        ({"sort": "milestones:due_date", "order": "DESC"}, ["m4", "m1", "m3", "m2"]),
        ({"sort": "milestones:start_date", "order": "asc"}, ["m2", "m3", "m4", "m1"]),
        ({"sort": "", "order": ""}, ["m4", "m3", "m2", "m1"]),
    ],
)
def test_sorting(api: Api, world: World, params: dict[str, str], expected: list[str]) -> None:
    assert keys(world, ok(pines(api, world, **params))) == expected


# --- filters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"is_completed": "1"}, ["m3", "m1"]),
        ({"is_completed": "false"}, ["m4", "m2"]),
        ({"created_by": "{admin}"}, ["m4", "m1"]),
        ({"created_by": "{alice},{bob}"}, ["m3", "m2"]),
        ({"created_by": "{dave}"}, []),
        ({"parent_id": "{m1}"}, ["m2"]),
        ({"parent_id": "{m1},{m2}"}, ["m3", "m2"]),
        ({"root_id": "{m1}"}, ["m3", "m2", "m1"]),
        ({"root_id": "{m4}"}, ["m4"]),
        ({"type_id": "2,3"}, ["m2", "m1"]),
        ({"type_id": "1"}, ["m4", "m3"]),  # no type named: the default one
        # Strictly after / before.
        ({"created_after": "2025-01-01T00:00:00Z"}, ["m4", "m3", "m2"]),
        ({"created_after": "2025-01-05"}, ["m4"]),
        ({"created_before": "2025-01-05T00:00:00.000Z"}, ["m1"]),
        ({"created_before": "2025-01-05T01:00:00+01:00"}, ["m1"]),
        ({"created_before": "2025-01-05T00:00:00.000001Z"}, ["m3", "m2", "m1"]),
        ({"completed_after": "2025-02-01T12:30:00.250000Z"}, ["m3"]),
        ({"completed_after": "2025-02-01T12:30:00Z"}, ["m3", "m1"]),
        ({"completed_before": "2025-03-01"}, ["m1"]),
        ({"completed_after": "2025-01-01", "completed_before": "2026-01-01"}, ["m3", "m1"]),
        ({"is_completed": "1", "created_by": "{admin}"}, ["m1"]),
        ({"root_id": "{m1}", "is_completed": "0", "sort": "milestones:name"}, ["m2"]),
        # Charter has no automation: no milestone has automation tags.
        ({"automation_tags": "nightly"}, []),
        ({"automation_tags": "nightly,ci", "expands": "milestone_stats,users"}, []),
        # Empty values are absent.
        ({"is_completed": "", "created_by": "", "automation_tags": ""}, ["m4", "m3", "m2", "m1"]),
    ],
)
def test_filters(api: Api, world: World, params: dict[str, str], expected: list[str]) -> None:
    resolved = {k: world_fmt(world, v) for k, v in params.items()}
    body = ok(pines(api, world, **resolved))
    assert keys(world, body) == expected
    assert body["total"] == len(expected)
    if not expected:
        assert (body["page"], body["last_page"]) == (None, None)


def world_fmt(w: World, text: str) -> str:
    return text.format(**w.ids)


def test_filters_stay_in_the_project(api: Api, world: World) -> None:
    # q1 belongs to Quarry: naming it in Pines' list finds nothing.
    body = ok(pines(api, world, root_id=str(world.ids["q1"])))
    assert body["result"] == []


# --- pagination ----------------------------------------------------------------------


def test_pages_do_not_overlap(api: Api, world: World) -> None:
    path = f"/api/v1/projects/{world.ids['rows']}/milestones"
    want = [world.ids[f"r{i}"] for i in reversed(range(ROWS_SIZE))]
    seen: list[int] = []
    for page in (1, 2):
        body = ok(api.get(path, per_page="15", page=str(page)))
        assert body["page"] == page
        assert body["last_page"] == 2
        assert body["per_page"] == 15
        assert body["total"] == ROWS_SIZE
        assert body["prev_page"] == (None if page == 1 else 1)
        assert body["next_page"] == (2 if page == 1 else None)
        seen += [m["id"] for m in body["result"]]
    assert seen == want
    past = ok(api.get(path, per_page="15", page="3"))
    assert (past["page"], past["prev_page"], past["next_page"], past["last_page"]) == (
        3,
        2,
        None,
        2,
    )
    assert past["result"] == []
    asc = ok(api.get(path, per_page="25", order="asc"))
    assert [m["id"] for m in asc["result"]] == want[::-1]


# --- expands -------------------------------------------------------------------------


def _session_sums(api: Api, world: World, key: str) -> dict[str, int]:
    """Counter sums of a milestone's sessions, from the sessions API."""
    body = ok(
        api.get(
            f"/api/v1/projects/{world.ids['pines']}/sessions",
            milestone_id=str(world.ids[key]),
        )
    )
    return {c: sum(s[c] for s in body["result"]) for c in COUNTER_COLUMNS}


def test_milestone_stats(api: Api, world: World, world_url: str) -> None:
    body = ok(pines(api, world, expands="milestone_stats"))
    stats = body["expands"]["milestone_stats"]
    assert [s["id"] for s in stats] == sorted(world.ids[k] for k in ("m1", "m2", "m3", "m4"))
    by_key = {world.key_of(s["id"]): s for s in stats}
    for item in stats:
        assert set(item) == STATS_KEYS
    for key in ("m1", "m2", "m3", "m4"):
        assert {c: by_key[key][c] for c in COUNTER_COLUMNS} == _session_sums(api, world, key)
    m1 = by_key["m1"]
    # m1: results (1, 2, 2, 3, None) and (2, 5): 7 results; status 1 = untested.
    assert m1["total_count"] == 7
    assert m1["untested_count"] == 1
    assert m1["status1_count"] == 3  # status id 2, three times
    assert m1["status2_count"] == 1
    assert m1["status4_count"] == 1
    # Direct sessions only: m1's sums do not include m2's session.
    assert by_key["m2"]["total_count"] == 3
    assert by_key["m3"] == {"id": world.ids["m3"], **dict.fromkeys(COUNTER_COLUMNS, 0)}
    # Stored counters equal a recount from the result_service.
    db = Database(world_url)
    try:
        with db.read() as conn:
            hist = session_queries.result_status_histogram(conn)
    finally:
        db.close()
    s0, s1 = world.ids["s0"], world.ids["s1"]
    assert sum(hist[s0].values()) + sum(hist[s1].values()) == m1["total_count"]
    single = ok(api.get(f"/api/v1/milestones/{world.ids['m1']}", expands="milestone_stats"))
    assert single["expands"]["milestone_stats"] == [m1]


def test_expands_reference_the_rows(api: Api, world: World) -> None:
    w = world
    body = ok(pines(api, w, expands=",".join(EXPANDS), is_completed="1"))
    ex = body["expands"]
    assert set(ex) == set(EXPANDS)
    assert ex["issues"] == [
        {
            "id": w.ids["i1"],
            "type": 4,
            "display_id": "WEB-1",
            "external_project_id": 100,
            "external_project_key": "WEB",
        },
        {
            "id": w.ids["i2"],
            "type": 2,
            "display_id": "#9",
            "external_project_id": 200,
            "external_project_key": "acme/shop",
        },
    ]
    # m3 names no type: the default one.
    assert ex["milestone_types"] == [
        {"id": 1, "name": "Milestone", "is_default": True},
        {"id": RELEASE, "name": "Release", "is_default": False},
    ]
    # m1 (root of itself) and m3 (root m1, parent m2).
    assert ex["milestones"] == [
        {"id": w.ids["m1"], "name": "Release 1"},
        {"id": w.ids["m2"], "name": "Alpha sprint"},
    ]
    assert ex["users"] == [
        {"id": w.ids[k], "name": w.names[k]}
        for k in sorted(("admin", "alice", "bob"), key=lambda k: w.ids[k])
    ]
    statuses = ex["statuses"]
    assert statuses and statuses[0]["id"] == 1 and statuses[0]["is_untested"] is True
    assert [s["id"] for s in statuses] == sorted(s["id"] for s in statuses)
    assert [s["id"] for s in ex["milestone_stats"]] == sorted([w.ids["m1"], w.ids["m3"]])


def test_expands_on_one_milestone(api: Api, world: World) -> None:
    w = world
    body = ok(api.get(f"/api/v1/milestones/{w.ids['m2']}", expands="milestones,milestone_types"))
    assert body["expands"] == {
        "milestones": [{"id": w.ids["m1"], "name": "Release 1"}],
        "milestone_types": [{"id": SPRINT, "name": "Sprint", "is_default": False}],
    }
    body = ok(api.get(f"/api/v1/milestones/{w.ids['m4']}", expands="issues,users,milestone_types"))
    assert body["expands"] == {
        "issues": [],
        "milestone_types": [{"id": 1, "name": "Milestone", "is_default": True}],
        "users": [{"id": w.ids["admin"], "name": "Zoe Admin"}],
    }


def test_expands_on_an_empty_list(api: Api, world: World) -> None:
    body = ok(pines(api, world, created_by=str(world.ids["dave"]), expands=",".join(EXPANDS)))
    assert body["result"] == []
    ex = body["expands"]
    assert set(ex) == set(EXPANDS)
    assert all(ex[k] == [] for k in EXPANDS if k != "statuses")
    assert ex["statuses"]  # all active statuses, always


# --- permissions ---------------------------------------------------------------------


@pytest.mark.parametrize(("user", "status"), [("admin", 200), ("alice", 200), ("bob", 200)])
def test_members_and_admins_read(api: Api, world: World, user: str, status: int) -> None:
    assert pines(api, world, as_user=world.emails[user]).status_code == status
    resp = api.get(f"/api/v1/milestones/{world.ids['m3']}", as_user=world.emails[user])
    assert resp.status_code == status


@pytest.mark.parametrize("user", ["carol", "dave"])
def test_non_members_get_403(api: Api, world: World, user: str) -> None:
    email = world.emails[user]
    assert_error(pines(api, world, as_user=email), 403)
    assert_error(api.get(f"/api/v1/milestones/{world.ids['m1']}", as_user=email), 403)


def test_carol_reads_her_own_project(api: Api, world: World) -> None:
    email = world.emails["carol"]
    body = ok(api.get(f"/api/v1/projects/{world.ids['quarry']}/milestones", as_user=email))
    assert [m["id"] for m in body["result"]] == [world.ids["q1"]]
    assert body["result"][0]["root_id"] == world.ids["q1"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/987654321/milestones",
        "/api/v1/projects/abc/milestones",
        "/api/v1/projects/0/milestones",
        "/api/v1/milestones/987654321",
        "/api/v1/milestones/abc",
        "/api/v1/milestones/-1",
    ],
)
def test_unknown_is_404(api: Api, path: str) -> None:
    assert_error(api.get(path), 404)


def test_unknown_milestone_is_404_for_everyone(api: Api, world: World) -> None:
    assert_error(api.get("/api/v1/milestones/987654321", as_user=world.emails["dave"]), 404)


def test_no_token_is_401(api: Api, world: World) -> None:
    assert_error(pines(api, world, as_user=""), 401)
    assert_error(api.get(f"/api/v1/milestones/{world.ids['m1']}", as_user=""), 401)


# --- bad parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "20"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"sort": "milestones:bogus"}, "sort"),
        ({"sort": "sessions:created_at"}, "sort"),
        ({"order": "up"}, "order"),
        ({"is_completed": "maybe"}, "is_completed"),
        ({"created_by": "1,x"}, "created_by"),
        ({"parent_id": "-1"}, "parent_id"),
        ({"root_id": "1.5"}, "root_id"),
        ({"type_id": "a"}, "type_id"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2025-13-01"}, "created_before"),
        ({"completed_after": "2025-01-01T25:00:00Z"}, "completed_after"),
        ({"completed_before": "nope"}, "completed_before"),
        ({"automation_tags": ","}, "automation_tags"),
        ({"expands": "bogus"}, "expands"),
        ({"expands": "users,configs"}, "expands"),
    ],
)
def test_bad_parameters(api: Api, world: World, params: dict[str, str], field: str) -> None:
    assert_error(pines(api, world, **params), 422, field)


def test_bad_expand_on_one_milestone(api: Api, world: World) -> None:
    assert_error(
        api.get(f"/api/v1/milestones/{world.ids['m1']}", expands="sessions"), 422, "expands"
    )


# --- OpenAPI -------------------------------------------------------------------------


def test_openapi_lists_milestone_parameters(api: Api) -> None:
    paths = api.client.get("/api/schema/openapi.json").json()["paths"]
    listed = {
        p["name"] for p in paths["/api/v1/projects/{project_id}/milestones"]["get"]["parameters"]
    }
    assert listed >= {
        "page",
        "per_page",
        "sort",
        "order",
        "expands",
        "automation_tags",
        "completed_after",
        "completed_before",
        "created_after",
        "created_before",
        "created_by",
        "is_completed",
        "parent_id",
        "root_id",
        "type_id",
    }
    single = {p["name"] for p in paths["/api/v1/milestones/{milestone_id}"]["get"]["parameters"]}
    assert "expands" in single
