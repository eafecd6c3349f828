"""Contract tests for GET /api/v1/projects, /api/v1/projects/{id}, /api/v1/user and the
OpenAPI document (Testmo's list conventions; Charter's decisions in docs/api.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.db.engine import Database
from charter.projects import service as project_service
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_data import BETA_SIZE, World, beta_closed_at, build_world, world_database
from helpers_db import DEMO_SESSIONS, Api, migrate, open_api

ADMIN = "admin@example.com"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# Every field of the Testmo Project model.
PROJECT_KEYS = {
    "id",
    "name",
    "is_completed",
    "milestone_count",
    "milestone_active_count",
    "milestone_completed_count",
    "run_count",
    "run_active_count",
    "run_closed_count",
    "session_count",
    "session_active_count",
    "session_closed_count",
    "automation_source_count",
    "automation_source_active_count",
    "automation_source_retired_count",
    "automation_run_count",
    "automation_run_active_count",
    "automation_run_completed_count",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "completed_at",
}
ZERO_COUNTERS = [
    "run_count",
    "run_active_count",
    "run_closed_count",
    "automation_source_count",
    "automation_source_active_count",
    "automation_source_retired_count",
    "automation_run_count",
    "automation_run_active_count",
    "automation_run_completed_count",
]
ENVELOPE_KEYS = {
    "page",
    "prev_page",
    "next_page",
    "last_page",
    "per_page",
    "total",
    "result",
    "expands",
}
BETA_CLOSED = sum(beta_closed_at(i) is not None for i in range(BETA_SIZE))
# Project created_at: Beta 2024-01-01, Gamma 2024-02-01, Alpha 2024-03-01.
BY_CREATED_DESC = ["Alpha", "Gamma", "Beta"]


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from world_database(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def world(world_url: str) -> World:
    db = migrate(world_url)
    try:
        return build_world(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def api(world: World, world_url: str) -> Iterator[Api]:
    yield from open_api(world_url)


# --- helpers -----------------------------------------------------------------------


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    return body


def assert_error(resp: httpx.Response, status: int, field: str | None = None) -> None:
    """A JSON error body {"message": str, "errors"?: {field: [str, ...]}}."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body.get("message"), str)
    assert body["message"]
    if field is None:
        assert "errors" not in body, body  # errors only when a field is at fault
    else:
        assert isinstance(body.get("errors"), dict), body
        messages = body["errors"].get(field)
        assert isinstance(messages, list), body
        assert messages
        assert all(isinstance(m, str) for m in messages)


def names(body: dict[str, Any]) -> list[str]:
    return [p["name"] for p in body["result"]]


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    assert set(body) == ENVELOPE_KEYS
    return {
        k: body[k] for k in ("page", "prev_page", "next_page", "last_page", "per_page", "total")
    }


def real_session_counts(db: Database, project_id: int) -> tuple[int, int, int]:
    """(all, open, closed) sessions of a project, counted in the database."""
    with db.read() as conn:
        rows = conn.execute(
            sa.text("SELECT is_closed, COUNT(*) FROM sessions WHERE project_id = :p GROUP BY 1"),
            {"p": project_id},
        ).all()
    by_state = {bool(closed): int(n) for closed, n in rows}
    return sum(by_state.values()), by_state.get(False, 0), by_state.get(True, 0)


# --- GET /api/v1/projects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("admin", BY_CREATED_DESC),  # a site admin sees every project, member or not
        ("alice", ["Alpha", "Beta"]),
        ("bob", ["Alpha"]),
        ("carol", ["Gamma"]),
    ],
)
def test_projects_visible_to_the_user(
    api: Api, world: World, user: str, expected: list[str]
) -> None:
    body = ok(api.get("/api/v1/projects", as_user=world.emails[user]))
    assert names(body) == expected
    assert envelope(body) == {
        "page": 1,
        "prev_page": None,
        "next_page": None,
        "last_page": 1,
        "per_page": 100,
        "total": len(expected),
    }
    assert body["expands"] == {}


def test_no_projects(api: Api, world: World) -> None:
    body = ok(api.get("/api/v1/projects", as_user=world.emails["dave"]))
    assert envelope(body) == {
        "page": None,
        "prev_page": None,
        "next_page": None,
        "last_page": None,
        "per_page": 100,
        "total": 0,
    }
    assert body["result"] == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, BY_CREATED_DESC),
        ({"sort": "projects:created_at"}, BY_CREATED_DESC),
        ({"sort": "projects:created_at", "order": "asc"}, BY_CREATED_DESC[::-1]),
        ({"sort": "projects:name"}, ["Gamma", "Beta", "Alpha"]),
        ({"sort": "projects:name", "order": "asc"}, ["Alpha", "Beta", "Gamma"]),
        ({"sort": "projects:name", "order": "desc"}, ["Gamma", "Beta", "Alpha"]),
        ({"is_completed": "1"}, ["Gamma"]),
        ({"is_completed": "true"}, ["Gamma"]),
        ({"is_completed": "TRUE"}, ["Gamma"]),
        ({"is_completed": "0"}, ["Alpha", "Beta"]),
        ({"is_completed": "false"}, ["Alpha", "Beta"]),
        ({"is_completed": "0", "sort": "projects:name", "order": "desc"}, ["Beta", "Alpha"]),
        ({"is_completed": ""}, BY_CREATED_DESC),
        ({"sort": "", "order": ""}, BY_CREATED_DESC),
    ],
)
def test_sort_and_filter(
    api: Api, world: World, params: dict[str, str], expected: list[str]
) -> None:
    body = ok(api.get("/api/v1/projects", **params))
    assert names(body) == expected
    assert body["total"] == len(expected)


def test_filter_to_nothing(api: Api, world: World) -> None:
    body = ok(api.get("/api/v1/projects", as_user=world.emails["alice"], is_completed="1"))
    assert body["result"] == []
    assert body["total"] == 0
    assert body["page"] is None
    assert body["last_page"] is None


@pytest.mark.parametrize("per_page", ["15", "25", "50", "100"])
def test_per_page_is_echoed(api: Api, per_page: str) -> None:
    body = ok(api.get("/api/v1/projects", per_page=per_page))
    assert body["per_page"] == int(per_page)
    assert len(body["result"]) == 3


def test_page_past_the_last(api: Api) -> None:
    body = ok(api.get("/api/v1/projects", per_page="15", page="2"))
    assert envelope(body) == {
        "page": 2,
        "prev_page": 1,
        "next_page": None,
        "last_page": 1,
        "per_page": 15,
        "total": 3,
    }
    assert body["result"] == []


@pytest.mark.parametrize(
    ("user", "expected_users"),
    [("admin", ["admin", "carol"]), ("alice", ["admin"]), ("carol", ["admin", "carol"])],
)
def test_users_expand(api: Api, world: World, user: str, expected_users: list[str]) -> None:
    # Alpha and Beta: created by admin; Gamma: created by carol, updated by admin.
    body = ok(api.get("/api/v1/projects", as_user=world.emails[user], expands="users"))
    assert body["expands"] == {
        "users": [{"id": world.ids[k], "name": world.names[k]} for k in expected_users]
    }


def test_users_expand_on_one_project(api: Api, world: World) -> None:
    body = ok(api.get(f"/api/v1/projects/{world.ids['alpha']}", expands="users"))
    assert body["expands"] == {"users": [{"id": world.ids["admin"], "name": "Zoe Admin"}]}
    empty = ok(api.get("/api/v1/projects", as_user=world.emails["dave"], expands="users"))
    assert empty["expands"] == {"users": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "20"}, "per_page"),
        ({"per_page": "abc"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"sort": "projects:bogus"}, "sort"),
        ({"sort": "sessions:created_at"}, "sort"),
        ({"order": "up"}, "order"),
        ({"is_completed": "maybe"}, "is_completed"),
        ({"expands": "bogus"}, "expands"),
    ],
)
def test_bad_parameters(api: Api, params: dict[str, str], field: str) -> None:
    assert_error(api.get("/api/v1/projects", **params), 422, field)


# --- the project object --------------------------------------------------------------


def _project(api: Api, world: World, key: str) -> dict[str, Any]:
    body = ok(api.get(f"/api/v1/projects/{world.ids[key]}"))
    assert set(body) == {"result", "expands"}
    assert body["expands"] == {}
    project: dict[str, Any] = body["result"]
    assert set(project) == PROJECT_KEYS
    return project


def test_project_fields(api: Api, world: World) -> None:
    w = world
    alpha = _project(api, w, "alpha")
    assert alpha == {
        "id": w.ids["alpha"],
        "name": "Alpha",
        "is_completed": False,
        "milestone_count": 2,
        "milestone_active_count": 1,
        "milestone_completed_count": 1,
        "session_count": 8,
        "session_active_count": 4,
        "session_closed_count": 4,
        **dict.fromkeys(ZERO_COUNTERS, 0),
        "created_at": "2024-03-01T00:00:00.000000Z",
        "created_by": w.ids["admin"],
        "updated_at": None,
        "updated_by": None,
        "completed_at": None,
    }
    gamma = _project(api, w, "gamma")
    assert gamma == {
        "id": w.ids["gamma"],
        "name": "Gamma",
        "is_completed": True,
        "milestone_count": 0,
        "milestone_active_count": 0,
        "milestone_completed_count": 0,
        "session_count": 0,
        "session_active_count": 0,
        "session_closed_count": 0,
        **dict.fromkeys(ZERO_COUNTERS, 0),
        "created_at": "2024-02-01T00:00:00.000000Z",
        "created_by": w.ids["carol"],
        "updated_at": "2024-06-01T12:00:00.000000Z",
        "updated_by": w.ids["admin"],
        "completed_at": "2024-06-01T12:00:00.000000Z",
    }
    beta = _project(api, w, "beta")
    assert (beta["session_count"], beta["session_active_count"], beta["session_closed_count"]) == (
        BETA_SIZE,
        BETA_SIZE - BETA_CLOSED,
        BETA_CLOSED,
    )


def test_listed_projects_equal_single_projects(api: Api, world: World) -> None:
    listed = ok(api.get("/api/v1/projects"))["result"]
    for project in listed:
        assert set(project) == PROJECT_KEYS
        assert ok(api.get(f"/api/v1/projects/{project['id']}"))["result"] == project
        for name in ("created_at", "updated_at", "completed_at"):
            assert project[name] is None or DATE_RE.match(project[name]), name


def test_session_counters_equal_the_real_counts(api: Api, world: World) -> None:
    for project in ok(api.get("/api/v1/projects"))["result"]:
        counted = real_session_counts(api.db, project["id"])
        stored = (
            project["session_count"],
            project["session_active_count"],
            project["session_closed_count"],
        )
        assert stored == counted, project["name"]


def test_session_counters_follow_writes(empty_db: Database) -> None:
    with empty_db.write() as conn:
        user = user_service.new_user(conn, "Writer", "writer@example.com")
        project = project_service.new_project(conn, "Counters", created_by=user)
        project_service.add_member(conn, project, "writer@example.com", "tester")
        ids = [session_service.create_session(conn, project, user, f"S{i}") for i in range(5)]
        session_service.close(conn, ids[0], user)
        session_service.close(conn, ids[1], user)
        session_service.reopen(conn, ids[1], user)
        session_service.close(conn, ids[2], user)
        session_service.delete(conn, ids[2])  # a closed one
        session_service.delete(conn, ids[3])  # an open one
    for api in open_api(empty_db.url):
        body = ok(api.get(f"/api/v1/projects/{project}", as_user="writer@example.com"))
        counts = (
            body["result"]["session_count"],
            body["result"]["session_active_count"],
            body["result"]["session_closed_count"],
        )
        assert counts == (3, 2, 1)
        assert counts == real_session_counts(api.db, project)


def test_demo_session_counters(demo_api: Api) -> None:
    projects = ok(demo_api.get("/api/v1/projects"))["result"]
    assert sum(p["session_count"] for p in projects) == DEMO_SESSIONS
    for p in projects:
        real = real_session_counts(demo_api.db, p["id"])
        assert (p["session_count"], p["session_active_count"], p["session_closed_count"]) == real
        sessions_page = ok(demo_api.get(f"/api/v1/projects/{p['id']}/sessions"))
        assert sessions_page["total"] == p["session_count"]
        closed = sum(s["is_closed"] for s in sessions_page["result"])
        assert closed == p["session_closed_count"]


def test_demo_membership(demo_api: Api) -> None:
    barbara = ok(demo_api.get("/api/v1/projects", as_user="barbara@example.com"))
    assert sorted(names(barbara)) == ["Mobile App", "Webshop"]
    admin = ok(demo_api.get("/api/v1/projects"))
    assert sorted(names(admin)) == ["Internal Tools", "Mobile App", "Webshop"]
    internal = next(p["id"] for p in admin["result"] if p["name"] == "Internal Tools")
    assert_error(demo_api.get(f"/api/v1/projects/{internal}", as_user="barbara@example.com"), 403)


# --- GET /api/v1/projects/{id} -------------------------------------------------------


@pytest.mark.parametrize(("user", "project"), [("dave", "alpha"), ("alice", "gamma")])
def test_project_forbidden(api: Api, world: World, user: str, project: str) -> None:
    resp = api.get(f"/api/v1/projects/{world.ids[project]}", as_user=world.emails[user])
    assert_error(resp, 403)


@pytest.mark.parametrize("raw_id", ["999999", "abc", "0", "-1"])
def test_project_not_found(api: Api, raw_id: str) -> None:
    assert_error(api.get(f"/api/v1/projects/{raw_id}"), 404)


def test_project_bad_expands(api: Api, world: World) -> None:
    assert_error(api.get(f"/api/v1/projects/{world.ids['alpha']}", expands="bogus"), 422, "expands")


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/1", "/api/v1/user"])
def test_unauthenticated(api: Api, path: str) -> None:
    assert_error(api.client.get(path), 401)
    assert_error(api.client.get(path, headers={"Authorization": "Bearer nope"}), 401)


# --- GET /api/v1/user ----------------------------------------------------------------


@pytest.mark.parametrize("user", ["admin", "alice", "dave"])
def test_current_user_is_a_bare_object(api: Api, world: World, user: str) -> None:
    body = ok(api.get("/api/v1/user", as_user=world.emails[user]))
    assert body == {
        "id": world.ids[user],
        "name": world.names[user],
        "timezone": "UTC",
        "date_format": "Y-m-d",
        "time_format": "H:i",
    }


def test_wrong_method_on_user(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.tokens[ADMIN]}"}
    assert_error(api.client.post("/api/v1/user", headers=headers, json={}), 405)


# --- OpenAPI -------------------------------------------------------------------------

SESSION_LIST_PARAMS = {
    "page",
    "per_page",
    "sort",
    "order",
    "assignee_id",
    "config_id",
    "created_by",
    "milestone_id",
    "state_id",
    "template_id",
    "tags",
    "is_closed",
    "created_after",
    "created_before",
    "closed_after",
    "closed_before",
    "expands",
}


def _openapi(api: Api) -> dict[str, Any]:
    resp = api.client.get("/api/schema/openapi.json")
    assert resp.status_code == 200
    document: dict[str, Any] = resp.json()  # served as application/vnd.oai.openapi+json
    return document


def _query_params(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def test_openapi_lists_every_path(api: Api) -> None:
    paths = set(_openapi(api)["paths"])
    assert {
        "/api/v1/projects/{project_id}/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/user",
    } <= paths
    served = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in api.client.app.routes
        if route.path.startswith("/api/v1/")
    }
    assert served <= paths


def test_openapi_lists_every_query_parameter(api: Api) -> None:
    paths = _openapi(api)["paths"]
    listed = _query_params(paths["/api/v1/projects/{project_id}/sessions"]["get"])
    assert listed >= SESSION_LIST_PARAMS
    assert "expands" in _query_params(paths["/api/v1/sessions/{session_id}"]["get"])
    projects = _query_params(paths["/api/v1/projects"]["get"])
    assert projects >= {"page", "per_page", "sort", "order", "is_completed", "expands"}
