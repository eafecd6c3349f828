"""Contract tests for the members of a project (GET /api/v1/projects/{id}/users) and
the admin namespaces GET /api/v1/users, /users/{id}, /roles, /roles/{id}, /groups,
/groups/{id} (Testmo's list conventions; Charter's decisions in docs/api.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.db.engine import Database
from charter.db.tables import groups, roles, users
from charter.projects import service as project_service
from charter.users import service as user_service
from helpers_db import Api, make_fresh_database, migrate, open_api

ADMIN = "admin@example.com"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
USER_KEYS = {
    "id",
    "name",
    "email",
    "type",
    "timezone",
    "date_format",
    "time_format",
    "notifications",
    "tfa_enabled",
    "is_active",
    "is_forgotten",
    "is_api",
    "role_id",
    "groups",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
}
ROLE_KEYS = {
    "id",
    "name",
    "permissions",
    "is_default",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
}
GROUP_KEYS = {"id", "name", "members", "created_at", "created_by", "updated_at", "updated_by"}
# (key, name, email, is_admin, created_at). Names are not in id order on purpose.
USERS = [
    ("admin", "Zoe Admin", ADMIN, True, datetime(2024, 1, 1)),
    ("alice", "Alice Archer", "alice@example.com", False, datetime(2024, 1, 2)),
    ("bob", "Bob Baker", "bob@example.com", False, datetime(2024, 1, 3)),
    ("carol", "Carol Chen", "carol@example.com", False, datetime(2024, 1, 3)),
    ("dave", "Dave Doe", "dave@example.com", False, datetime(2024, 1, 4)),
    ("erin", "Erin Inactive", "erin@example.com", False, datetime(2024, 1, 5)),
]
TESTER = 2  # seeded roles: 1 Viewer, 2 Tester (default), 3 Manager


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def user_expand(self, *user_keys: str) -> list[dict[str, Any]]:
        return sorted(
            ({"id": self.ids[k], "name": self.names[k]} for k in set(user_keys)),
            key=lambda u: u["id"],
        )


def _build(db: Database) -> World:
    w = World()
    with db.write() as conn:
        for key, name, email, is_admin, created in USERS:
            w.ids[key] = user_service.new_user(conn, name, email, is_admin=is_admin)
            w.emails[key], w.names[key] = email, name
            conn.execute(
                sa.update(users).where(users.c.id == w.ids[key]).values(created_at=created)
            )
        admin = w.ids["admin"]
        conn.execute(
            sa.update(users)
            .where(users.c.id == w.ids["alice"])
            .values(updated_at=datetime(2024, 6, 1, 8, 0, 0, 123456), updated_by=admin)
        )
        conn.execute(
            sa.update(users)
            .where(users.c.id.in_([w.ids["bob"], w.ids["carol"]]))
            .values(created_by=admin)
        )
        conn.execute(sa.update(users).where(users.c.id == w.ids["erin"]).values(is_active=False))
        w.ids["pines"] = project_service.new_project(conn, "Pines", created_by=admin)
        w.ids["quarry"] = project_service.new_project(conn, "Quarry", created_by=admin)
        w.ids["empty"] = project_service.new_project(conn, "Empty", created_by=admin)
        project_service.add_member(conn, w.ids["pines"], w.emails["alice"], "manager")
        project_service.add_member(conn, w.ids["pines"], w.emails["bob"], "viewer")
        project_service.add_member(conn, w.ids["pines"], w.emails["erin"], "tester")
        project_service.add_member(conn, w.ids["quarry"], w.emails["carol"], "tester")

        auditor = user_service.create_role(
            conn, "Auditor", "auditor", permissions=1, created_by=admin
        )
        conn.execute(
            sa.update(roles).where(roles.c.id == auditor).values(created_at=datetime(2000, 1, 1))
        )
        w.ids["auditor"] = auditor
        w.names["auditor"] = "Auditor"
        user_service.set_default_role(conn, w.ids["alice"], TESTER)
        user_service.set_default_role(conn, w.ids["bob"], auditor)

        for key, name, members, creator, created in (
            ("qa", "QA", ("alice", "bob"), "admin", datetime(2024, 2, 1)),
            ("dev", "Dev", ("bob",), "alice", datetime(2024, 3, 1)),
            ("nobody", "Nobody", (), "admin", datetime(2024, 3, 1)),
        ):
            gid = user_service.create_group(
                conn, name, [w.ids[m] for m in members], created_by=w.ids[creator]
            )
            conn.execute(sa.update(groups).where(groups.c.id == gid).values(created_at=created))
            w.ids[key], w.names[key] = gid, name
        conn.execute(
            sa.update(groups)
            .where(groups.c.id == w.ids["dev"])
            .values(updated_at=datetime(2024, 4, 1), updated_by=w.ids["carol"])
        )
    return w


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, cleanup = make_fresh_database(tmp_path_factory.mktemp("people"))
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


def ids(body: dict[str, Any]) -> list[int]:
    return [row["id"] for row in body["result"]]


def envelope(body: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        body[k] for k in ("page", "prev_page", "next_page", "last_page", "per_page", "total")
    )


# --- members of a project ------------------------------------------------------------


def test_project_users(api: Api, world: World) -> None:
    w = world
    path = f"/api/v1/projects/{w.ids['pines']}/users"
    body = ok(api.get(path, as_user=w.emails["bob"]))  # a viewer may list the members
    assert body["result"] == [
        {"id": w.ids["erin"], "name": "Erin Inactive"},
        {"id": w.ids["bob"], "name": "Bob Baker"},
        {"id": w.ids["alice"], "name": "Alice Archer"},
    ]
    assert envelope(body) == (1, None, None, 1, 100, 3)
    assert body["expands"] == {}
    by_name = ok(api.get(path, sort="users:name", order="asc"))
    assert ids(by_name) == [w.ids[k] for k in ("alice", "bob", "erin")]
    asc = ok(api.get(path, order="asc", per_page="15"))
    assert ids(asc) == [w.ids[k] for k in ("alice", "bob", "erin")]
    past = ok(api.get(path, page="2", per_page="15"))
    assert envelope(past) == (2, 1, None, 1, 15, 3)
    assert past["result"] == []


def test_project_without_members(api: Api, world: World) -> None:
    body = ok(api.get(f"/api/v1/projects/{world.ids['empty']}/users"))
    assert envelope(body) == (None, None, None, None, 100, 0)
    assert body["result"] == []


@pytest.mark.parametrize(("user", "status"), [("carol", 403), ("dave", 403), ("admin", 200)])
def test_project_users_access(api: Api, world: World, user: str, status: int) -> None:
    resp = api.get(f"/api/v1/projects/{world.ids['pines']}/users", as_user=world.emails[user])
    assert resp.status_code == status, resp.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"expands": "users"}, "expands"),
        ({"per_page": "10"}, "per_page"),
        ({"sort": "users:email"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"page": "-1"}, "page"),
    ],
)
def test_project_users_bad_parameters(
    api: Api, world: World, params: dict[str, str], field: str
) -> None:
    assert_error(api.get(f"/api/v1/projects/{world.ids['pines']}/users", **params), 422, field)


def test_project_users_unknown_project(api: Api) -> None:
    assert_error(api.get("/api/v1/projects/987654321/users"), 404)
    assert_error(api.get("/api/v1/projects/x/users"), 404)


# --- users ---------------------------------------------------------------------------


def test_user_fields(api: Api, world: World) -> None:
    w = world
    body = ok(api.get(f"/api/v1/users/{w.ids['alice']}"))
    assert body == {
        "result": {
            "id": w.ids["alice"],
            "name": "Alice Archer",
            "email": "alice@example.com",
            "type": 1,
            "timezone": "UTC",
            "date_format": "Y-m-d",
            "time_format": "H:i",
            "notifications": 0,
            "tfa_enabled": False,
            "is_active": True,
            "is_forgotten": False,
            "is_api": False,
            "role_id": TESTER,
            "groups": [w.ids["qa"]],
            "created_at": "2024-01-02T00:00:00.000000Z",
            "created_by": w.ids["admin"],  # seeded: the first admin
            "updated_at": "2024-06-01T08:00:00.123456Z",
            "updated_by": w.ids["admin"],
        },
        "expands": {},
    }
    bob = ok(api.get(f"/api/v1/users/{w.ids['bob']}"))["result"]
    assert bob["groups"] == sorted([w.ids["qa"], w.ids["dev"]])
    assert bob["role_id"] == w.ids["auditor"]
    erin = ok(api.get(f"/api/v1/users/{w.ids['erin']}"))["result"]
    assert (erin["is_active"], erin["role_id"], erin["groups"]) == (False, TESTER, [])


def test_user_list(api: Api, world: World) -> None:
    w = world
    body = ok(api.get("/api/v1/users"))
    # created_at desc; bob and carol tie, broken by id desc.
    assert ids(body) == [w.ids[k] for k in ("erin", "dave", "carol", "bob", "alice", "admin")]
    assert envelope(body) == (1, None, None, 1, 100, 6)
    for row in body["result"]:
        assert set(row) == USER_KEYS
        assert DATE_RE.match(row["created_at"])
        assert ok(api.get(f"/api/v1/users/{row['id']}"))["result"] == row
    by_name = ok(api.get("/api/v1/users", sort="users:name", order="asc"))
    assert [u["name"] for u in by_name["result"]] == sorted(n for _, n, *_ in USERS)
    asc = ok(api.get("/api/v1/users", order="asc", per_page="15"))
    assert ids(asc) == ids(body)[::-1]
    past = ok(api.get("/api/v1/users", page="3", per_page="15"))
    assert envelope(past) == (3, 1, None, 1, 15, 6)


def test_user_expands(api: Api, world: World) -> None:
    w = world
    body = ok(api.get("/api/v1/users", expands="groups,roles,users"))
    assert body["expands"] == {
        "groups": [{"id": w.ids[k], "name": w.names[k]} for k in ("qa", "dev")],
        "roles": [{"id": TESTER, "name": "Tester"}, {"id": w.ids["auditor"], "name": "Auditor"}],
        "users": w.user_expand("admin"),
    }
    single = ok(api.get(f"/api/v1/users/{w.ids['dave']}", expands="groups,roles,users"))
    # Dave has the default role and was created by the first admin.
    assert single["expands"] == {
        "groups": [],
        "roles": [{"id": TESTER, "name": "Tester"}],
        "users": w.user_expand("admin"),
    }
    bob = ok(api.get(f"/api/v1/users/{w.ids['bob']}", expands="roles"))
    assert bob["expands"] == {"roles": [{"id": w.ids["auditor"], "name": "Auditor"}]}


# --- roles ---------------------------------------------------------------------------


def test_roles(api: Api, world: World) -> None:
    w = world
    body = ok(api.get("/api/v1/roles", expands="users"))
    # The seeded roles share one created_at (ties: id desc); Auditor is backdated.
    assert ids(body) == [3, 2, 1, w.ids["auditor"]]
    assert envelope(body) == (1, None, None, 1, 100, 4)
    assert body["expands"] == {"users": w.user_expand("admin")}
    for row in body["result"]:
        assert set(row) == ROLE_KEYS
    seeded = {r["id"]: (r["name"], r["permissions"], r["is_default"]) for r in body["result"]}
    assert seeded[1] == ("Viewer", 1, False)
    assert seeded[2] == ("Tester", 3, True)
    assert seeded[3] == ("Manager", 7, False)
    one = ok(api.get(f"/api/v1/roles/{w.ids['auditor']}"))
    assert one == {
        "result": {
            "id": w.ids["auditor"],
            "name": "Auditor",
            "permissions": 1,
            "is_default": False,
            "created_at": "2000-01-01T00:00:00.000000Z",
            "created_by": w.ids["admin"],
            "updated_at": None,
            "updated_by": None,
        },
        "expands": {},
    }
    by_name = ok(api.get("/api/v1/roles", sort="roles:name", order="asc"))
    assert [r["name"] for r in by_name["result"]] == ["Auditor", "Manager", "Tester", "Viewer"]
    # Seeded roles name the first admin as their creator.
    seeded_one = ok(api.get("/api/v1/roles/2", expands="users"))
    assert seeded_one["result"]["created_by"] == w.ids["admin"]
    assert seeded_one["expands"] == {"users": w.user_expand("admin")}


# --- groups --------------------------------------------------------------------------


def test_groups(api: Api, world: World) -> None:
    w = world
    body = ok(api.get("/api/v1/groups"))
    # dev and nobody share created_at: id desc.
    assert ids(body) == [w.ids[k] for k in ("nobody", "dev", "qa")]
    assert body["expands"] == {}
    for row in body["result"]:
        assert set(row) == GROUP_KEYS
    dev = ok(api.get(f"/api/v1/groups/{w.ids['dev']}", expands="users"))
    assert dev == {
        "result": {
            "id": w.ids["dev"],
            "name": "Dev",
            "members": [w.ids["bob"]],
            "created_at": "2024-03-01T00:00:00.000000Z",
            "created_by": w.ids["alice"],
            "updated_at": "2024-04-01T00:00:00.000000Z",
            "updated_by": w.ids["carol"],
        },
        # Members and creators / updaters.
        "expands": {"users": w.user_expand("alice", "bob", "carol")},
    }
    qa = ok(api.get(f"/api/v1/groups/{w.ids['qa']}"))["result"]
    assert qa["members"] == sorted([w.ids["alice"], w.ids["bob"]])
    nobody = ok(api.get(f"/api/v1/groups/{w.ids['nobody']}", expands="users"))
    assert nobody["result"]["members"] == []
    assert nobody["expands"] == {"users": w.user_expand("admin")}
    listed = ok(api.get("/api/v1/groups", expands="users", sort="groups:name", order="asc"))
    assert [g["name"] for g in listed["result"]] == ["Dev", "Nobody", "QA"]
    assert listed["expands"] == {"users": w.user_expand("admin", "alice", "bob", "carol")}
    paged = ok(api.get("/api/v1/groups", per_page="15", page="2"))
    assert envelope(paged) == (2, 1, None, 1, 15, 3)


# --- access and errors ---------------------------------------------------------------

ADMIN_PATHS = [
    "/api/v1/users",
    "/api/v1/users/{alice}",
    "/api/v1/users/987654321",
    "/api/v1/users/abc",
    "/api/v1/roles",
    "/api/v1/roles/1",
    "/api/v1/roles/987654321",
    "/api/v1/groups",
    "/api/v1/groups/{qa}",
    "/api/v1/groups/987654321",
]


@pytest.mark.parametrize("path", ADMIN_PATHS)
@pytest.mark.parametrize("user", ["alice", "dave"])
def test_admin_only(api: Api, world: World, path: str, user: str) -> None:
    # 403 before anything else: a bad parameter or unknown id does not leak through.
    resp = api.get(path.format(**world.ids), as_user=world.emails[user], per_page="7")
    assert_error(resp, 403)


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_admin_paths_need_a_token(api: Api, world: World, path: str) -> None:
    assert_error(api.get(path.format(**world.ids), as_user=""), 401)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/987654321",
        "/api/v1/users/abc",
        "/api/v1/users/0",
        "/api/v1/roles/987654321",
        "/api/v1/roles/x",
        "/api/v1/groups/987654321",
        "/api/v1/groups/-3",
    ],
)
def test_unknown_objects(api: Api, path: str) -> None:
    assert_error(api.get(path), 404)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/users", {"expands": "roles,bogus"}, "expands"),
        ("/api/v1/users", {"per_page": "1000"}, "per_page"),
        ("/api/v1/users", {"sort": "roles:name"}, "sort"),
        ("/api/v1/users", {"order": "random"}, "order"),
        ("/api/v1/users/{alice}", {"expands": "projects"}, "expands"),
        ("/api/v1/roles", {"expands": "groups"}, "expands"),
        ("/api/v1/roles", {"page": "0"}, "page"),
        ("/api/v1/roles/1", {"expands": "roles"}, "expands"),
        ("/api/v1/groups", {"sort": "groups:members"}, "sort"),
        ("/api/v1/groups/{qa}", {"expands": "groups"}, "expands"),
    ],
)
def test_bad_parameters(
    api: Api, world: World, path: str, params: dict[str, str], field: str
) -> None:
    assert_error(api.get(path.format(**world.ids), **params), 422, field)


def test_openapi_lists_the_paths(api: Api) -> None:
    paths = api.client.get("/api/schema/openapi.json").json()["paths"]
    for path in (
        "/api/v1/projects/{project_id}/users",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/roles",
        "/api/v1/roles/{role_id}",
        "/api/v1/groups",
        "/api/v1/groups/{group_id}",
    ):
        assert "get" in paths[path], path
    listed = {p["name"] for p in paths["/api/v1/users"]["get"]["parameters"]}
    assert listed >= {"page", "per_page", "sort", "order", "expands"}
    single = {p["name"] for p in paths["/api/v1/groups/{group_id}"]["get"]["parameters"]}
    assert "expands" in single
