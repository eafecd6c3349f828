"""Project administration API (Charter extension): projects, members and roles,
configurations, milestone writes. Runs on the known dataset of helpers_data plus a
project "Delta" whose members cover every role:
alice manager, bob tester, carol viewer; dave is not a member; admin is a site admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.db.tables import metadata
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from helpers_data import World, build_world, world_database
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
ALICE = "alice@example.com"  # Delta manager (Alpha manager, Beta viewer)
BOB = "bob@example.com"  # Delta tester
CAROL = "carol@example.com"  # Delta viewer
DAVE = "dave@example.com"  # no project
# Tables an administration write may touch; a failed write must leave them all as they were.
WATCHED = (
    "projects",
    "project_members",
    "milestones",
    "milestone_issues",
    "configs",
    "templates",
    "template_fields",
    "field_values",
    "states",
    "statuses",
    "issues",
    "tags",
    "sessions",
    "session_tags",
)


# --- fixtures and helpers ----------------------------------------------------------


def build_admin_world(db: Database) -> World:
    w = build_world(db)
    with db.write() as conn:
        w.ids["delta"] = project_service.new_project(conn, "Delta", created_by=w.ids["admin"])
        for key, role in (("alice", "manager"), ("bob", "tester"), ("carol", "viewer")):
            project_service.add_member(conn, w.ids["delta"], w.emails[key], role)
        w.ids["dconf"] = catalog_service.new_config(conn, w.ids["delta"], "Delta config")
        w.ids["dms"] = milestone_service.new_milestone(
            conn, w.ids["delta"], "Delta MS", w.ids["admin"]
        )
    return w


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from world_database(tmp_path_factory.mktemp("admin"))


@pytest.fixture(scope="module")
def world(world_url: str) -> World:
    db = migrate(world_url)
    try:
        return build_admin_world(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def api(world: World, world_url: str) -> Iterator[Api]:
    yield from open_api(world_url)


def call(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    as_user: str = ADMIN,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> httpx.Response:
    all_headers = {"Authorization": f"Bearer {api.tokens[as_user]}", **(headers or {})}
    if raw is not None:
        all_headers["Content-Type"] = "application/json"
        return api.client.request(method, path, content=raw, headers=all_headers)
    if body is None:
        return api.client.request(method, path, headers=all_headers)
    return api.client.request(method, path, json=body, headers=all_headers)


def assert_error(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body.get("message"), str) and body["message"]
    if field is not None:
        assert field in body.get("errors", {}), body


def result(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) == {"result", "expands"}
    assert body["expands"] == {}
    item: dict[str, Any] = body["result"]
    return item


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as conn:
        out = {}
        for name in WATCHED:
            table = metadata.tables[name]
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out


def etag(api: Api, path: str) -> str:
    resp = call(api, "GET", path)
    assert resp.status_code == 200, resp.text
    return resp.headers["etag"]


def project_counters(db: Database, project_id: int) -> tuple[tuple[int, int, int], tuple[int, ...]]:
    """(stored milestone counters, counted ones) of a project."""
    with db.read() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT milestone_count, milestone_active_count, milestone_completed_count "
                "FROM projects WHERE id = :p"
            ),
            {"p": project_id},
        ).one()
        rows = conn.execute(
            sa.text("SELECT is_completed FROM milestones WHERE project_id = :p"), {"p": project_id}
        ).all()
    done = sum(1 for r in rows if r[0])
    return tuple(stored), (len(rows), len(rows) - done, done)


def assert_milestone_counters(api: Api, project_id: int) -> None:
    stored, counted = project_counters(api.db, project_id)
    assert stored == counted


# --- the generic rules, for every route ---------------------------------------------

# (method, path template, body of a valid request, who may do it)
WRITES = [
    ("POST", "/api/v1/projects", {"name": "P"}, "admin"),
    ("PATCH", "/api/v1/projects/{delta}", {"name": "Delta"}, "manager"),
    ("PUT", "/api/v1/projects/{delta}/members/{dave}", {"role": "viewer"}, "manager"),
    ("POST", "/api/v1/projects/{delta}/configs", {"name": "C"}, "manager"),
    ("PATCH", "/api/v1/configs/{dconf}", {"name": "Delta config"}, "manager"),
    ("POST", "/api/v1/projects/{delta}/milestones", {"name": "M"}, "manager"),
    ("PATCH", "/api/v1/milestones/{dms}", {"name": "Delta MS"}, "manager"),
]
BODYLESS = [
    ("POST", "/api/v1/projects/{delta}/complete"),
    ("POST", "/api/v1/projects/{delta}/reopen"),
    ("DELETE", "/api/v1/projects/{delta}/members/{alice}"),
    ("DELETE", "/api/v1/configs/{dconf}"),
    ("POST", "/api/v1/milestones/{dms}/complete"),
    ("POST", "/api/v1/milestones/{dms}/reopen"),
    ("DELETE", "/api/v1/milestones/{dms}"),
]


@pytest.mark.parametrize(("method", "path", "body", "who"), WRITES)
def test_malformed_json_is_400_and_changes_nothing(
    api: Api, world: World, method: str, path: str, body: Any, who: str
) -> None:
    before = snapshot(api.db)
    assert_error(call(api, method, world.fmt(path), raw=b'{"name": '), 400)
    assert_error(call(api, method, world.fmt(path), raw=b"[1, 2"), 400)
    assert snapshot(api.db) == before


@pytest.mark.parametrize(("method", "path", "body", "who"), WRITES)
def test_unknown_field_is_422_naming_it(
    api: Api, world: World, method: str, path: str, body: Any, who: str
) -> None:
    before = snapshot(api.db)
    assert_error(call(api, method, world.fmt(path), {**body, "colour": "red"}), 422, "colour")
    assert_error(call(api, method, world.fmt(path), [body]), 422, "body")
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "who"),
    [*WRITES, *((m, p, None, "manager") for m, p in BODYLESS)],
)
def test_forbidden_without_the_role(
    api: Api, world: World, method: str, path: str, body: Any, who: str
) -> None:
    before = snapshot(api.db)
    users = [ALICE, BOB, CAROL, DAVE] if who == "admin" else [BOB, CAROL, DAVE]
    for user in users:
        assert_error(call(api, method, world.fmt(path), body, as_user=user), 403)
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/projects/999999"),
        ("POST", "/api/v1/projects/999999/complete"),
        ("POST", "/api/v1/projects/abc/reopen"),
        ("GET", "/api/v1/projects/999999/members"),
        ("GET", "/api/v1/projects/{delta}/members/999999"),
        ("GET", "/api/v1/projects/{delta}/members/{dave}"),
        ("PUT", "/api/v1/projects/999999/members/{dave}"),
        ("PUT", "/api/v1/projects/{delta}/members/999999"),
        ("DELETE", "/api/v1/projects/{delta}/members/{dave}"),
        ("GET", "/api/v1/projects/999999/configs"),
        ("POST", "/api/v1/projects/999999/configs"),
        ("GET", "/api/v1/configs/999999"),
        ("PATCH", "/api/v1/configs/999999"),
        ("DELETE", "/api/v1/configs/0"),
        ("POST", "/api/v1/projects/999999/milestones"),
        ("PATCH", "/api/v1/milestones/999999"),
        ("POST", "/api/v1/milestones/999999/complete"),
        ("POST", "/api/v1/milestones/999999/reopen"),
        ("DELETE", "/api/v1/milestones/999999"),
    ],
)
def test_unknown_ids_are_404(api: Api, world: World, method: str, path: str) -> None:
    body = {"role": "viewer"} if method == "PUT" else ({"name": "X"} if method != "GET" else None)
    if method in ("DELETE", "GET") or path.endswith(("complete", "reopen")):
        body = None
    assert_error(call(api, method, world.fmt(path), body), 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/projects/{delta}", {"name": "Delta"}),
        ("PUT", "/api/v1/projects/{delta}/members/{bob}", {"role": "tester"}),
        ("DELETE", "/api/v1/projects/{delta}/members/{bob}", None),
        ("PATCH", "/api/v1/configs/{dconf}", {"name": "Delta config"}),
        ("DELETE", "/api/v1/configs/{dconf}", None),
        ("PATCH", "/api/v1/milestones/{dms}", {"name": "Delta MS"}),
        ("DELETE", "/api/v1/milestones/{dms}", None),
    ],
)
def test_stale_if_match_is_412(api: Api, world: World, method: str, path: str, body: Any) -> None:
    before = snapshot(api.db)
    stale = {"If-Match": '"0123456789abcdef0123456789abcdef"'}
    assert_error(call(api, method, world.fmt(path), body, headers=stale), 412)
    assert snapshot(api.db) == before


def test_unauthenticated_is_401(api: Api, world: World) -> None:
    resp = api.client.post("/api/v1/projects", json={"name": "X"})
    assert_error(resp, 401)
    resp = api.client.patch(f"/api/v1/configs/{world.ids['dconf']}", json={"name": "X"})
    assert_error(resp, 401)


# --- projects ----------------------------------------------------------------------


def test_create_project(api: Api, world: World) -> None:
    item = result(call(api, "POST", "/api/v1/projects", {"name": " Epsilon ", "note": "n"}), 201)
    assert item["name"] == "Epsilon"
    assert item["note"] == "n"
    assert item["is_completed"] is False
    assert item["created_by"] == world.ids["admin"]
    assert item["milestone_count"] == item["session_count"] == 0
    got = call(api, "GET", f"/api/v1/projects/{item['id']}").json()["result"]
    assert got == {k: v for k, v in item.items() if k != "note"}
    members = call(api, "GET", f"/api/v1/projects/{item['id']}/members").json()
    assert members["result"] == [
        {"user_id": world.ids["admin"], "name": "Zoe Admin", "email": ADMIN, "role": "manager"}
    ]


def test_create_project_idempotency_key(api: Api) -> None:
    headers = {"Idempotency-Key": "project-zeta"}
    first = call(api, "POST", "/api/v1/projects", {"name": "Zeta"}, headers=headers)
    again = call(api, "POST", "/api/v1/projects", {"name": "Zeta"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    names = [p["name"] for p in call(api, "GET", "/api/v1/projects").json()["result"]]
    assert names.count("Zeta") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "note": 5}, "note"),
        ({"name": "ok", "note": ["a"]}, "note"),
    ],
)
def test_create_project_bad_fields(api: Api, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "POST", "/api/v1/projects", body), 422, field)
    assert snapshot(api.db) == before


def test_edit_project_as_manager(api: Api, world: World) -> None:
    pid = world.ids["delta"]
    path = f"/api/v1/projects/{pid}"
    tag = etag(api, path)
    item = result(
        call(api, "PATCH", path, {"note": "the plan"}, as_user=ALICE, headers={"If-Match": tag})
    )
    assert item["note"] == "the plan"
    assert item["name"] == "Delta"
    assert item["updated_by"] == world.ids["alice"]
    assert item["updated_at"] is not None
    # The old ETag names an older version now.
    assert_error(call(api, "PATCH", path, {"name": "D2"}, headers={"If-Match": tag}), 412)
    item = result(
        call(api, "PATCH", path, {"name": "Delta"}, headers={"If-Match": etag(api, path)})
    )
    assert item["note"] == "the plan"


@pytest.mark.parametrize(
    ("body", "field"), [({"name": ""}, "name"), ({"name": 1}, "name"), ({"note": {}}, "note")]
)
def test_edit_project_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    path = f"/api/v1/projects/{world.ids['delta']}"
    assert_error(call(api, "PATCH", path, body, as_user=ALICE), 422, field)
    assert snapshot(api.db) == before


def test_complete_and_reopen_project(api: Api, world: World) -> None:
    pid = result(call(api, "POST", "/api/v1/projects", {"name": "Eta"}), 201)["id"]
    item = result(call(api, "POST", f"/api/v1/projects/{pid}/complete"))
    assert item["is_completed"] is True
    assert item["completed_at"] is not None
    assert call(api, "GET", f"/api/v1/projects/{pid}").json()["result"]["is_completed"] is True
    before = snapshot(api.db)
    assert_error(call(api, "POST", f"/api/v1/projects/{pid}/complete"), 409)
    assert snapshot(api.db) == before
    item = result(call(api, "POST", f"/api/v1/projects/{pid}/reopen"))
    assert item["is_completed"] is False
    assert item["completed_at"] is None
    assert_error(call(api, "POST", f"/api/v1/projects/{pid}/reopen"), 409)


# --- members -----------------------------------------------------------------------


def test_list_members(api: Api, world: World) -> None:
    path = f"/api/v1/projects/{world.ids['delta']}/members"
    body = call(api, "GET", path, as_user=CAROL, headers={}).json()
    assert body["total"] >= 3
    by_id = {m["user_id"]: m for m in body["result"]}
    assert by_id[world.ids["bob"]] == {
        "user_id": world.ids["bob"],
        "name": "Bob Baker",
        "email": BOB,
        "role": "tester",
    }
    assert set(body) == {
        "page",
        "prev_page",
        "next_page",
        "last_page",
        "per_page",
        "total",
        "result",
        "expands",
    }
    asc = call(api, "GET", path + "?sort=members:name&order=asc").json()["result"]
    assert [m["name"] for m in asc] == sorted(m["name"] for m in asc)
    assert_error(call(api, "GET", path + "?sort=members:email"), 422, "sort")
    assert_error(call(api, "GET", path, as_user=DAVE), 403)
    one = call(api, "GET", f"{path}/{world.ids['carol']}", as_user=BOB)
    assert result(one)["role"] == "viewer"


def test_add_change_and_remove_a_member(api: Api, world: World) -> None:
    path = f"/api/v1/projects/{world.ids['delta']}/members/{world.ids['dave']}"
    # A site admin adds Dave: Alice manages delta but shares no project with Dave, so
    # she may not learn of him (tests/test_scoping.py).
    added = call(api, "PUT", path, {"role": "viewer"})
    assert result(added, 201) == {
        "user_id": world.ids["dave"],
        "name": "Dave Doe",
        "email": DAVE,
        "role": "viewer",
    }
    assert (
        call(api, "GET", f"/api/v1/projects/{world.ids['delta']}", as_user=DAVE).status_code == 200
    )
    changed = call(api, "PUT", path, {"role": "tester"}, headers={"If-Match": etag(api, path)})
    assert result(changed)["role"] == "tester"
    assert_error(call(api, "DELETE", path, headers={"If-Match": '"nope"'}), 412)
    resp = call(api, "DELETE", path, as_user=ALICE, headers={"If-Match": etag(api, path)})
    assert resp.status_code == 204 and resp.content == b""
    assert_error(call(api, "GET", path), 404)
    assert_error(call(api, "GET", f"/api/v1/projects/{world.ids['delta']}", as_user=DAVE), 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "role"), ({"role": "boss"}, "role"), ({"role": 3}, "role"), ({"role": None}, "role")],
)
def test_set_member_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    path = f"/api/v1/projects/{world.ids['delta']}/members/{world.ids['bob']}"
    assert_error(call(api, "PUT", path, body, as_user=ALICE), 422, field)
    assert snapshot(api.db) == before


def test_the_last_manager_stays(api: Api, world: World) -> None:
    pid = result(call(api, "POST", "/api/v1/projects", {"name": "Theta"}), 201)["id"]
    admin_path = f"/api/v1/projects/{pid}/members/{world.ids['admin']}"
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", admin_path), 409)
    assert_error(call(api, "PUT", admin_path, {"role": "tester"}), 409)
    assert snapshot(api.db) == before
    # With a second manager, the first may go.
    alice_path = f"/api/v1/projects/{pid}/members/{world.ids['alice']}"
    assert result(call(api, "PUT", alice_path, {"role": "manager"}), 201)["role"] == "manager"
    assert call(api, "DELETE", admin_path).status_code == 204
    assert_error(call(api, "DELETE", alice_path, as_user=ALICE), 409)


# --- configurations ----------------------------------------------------------------


def test_configs_lifecycle(api: Api, world: World) -> None:
    pid = world.ids["delta"]
    created = call(api, "POST", f"/api/v1/projects/{pid}/configs", {"name": "Firefox"}, ALICE)
    item = result(created, 201)
    assert set(item) == {"id", "project_id", "name", "created_at"}
    assert item["project_id"] == pid and item["name"] == "Firefox"
    path = f"/api/v1/configs/{item['id']}"
    assert result(call(api, "GET", path, as_user=CAROL)) == item
    listed = call(api, "GET", f"/api/v1/projects/{pid}/configs", as_user=BOB).json()
    assert item in listed["result"] and listed["total"] == len(listed["result"])
    renamed = call(
        api, "PATCH", path, {"name": "Firefox ESR"}, ALICE, {"If-Match": etag(api, path)}
    )
    assert result(renamed)["name"] == "Firefox ESR"
    assert_error(call(api, "GET", path, as_user=DAVE), 403)
    assert call(api, "DELETE", path, as_user=ALICE).status_code == 204
    assert_error(call(api, "GET", path), 404)


@pytest.mark.parametrize(
    ("body", "field"), [({}, "name"), ({"name": ""}, "name"), ({"name": 7}, "name")]
)
def test_config_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    if body:
        assert_error(call(api, "PATCH", world.fmt("/api/v1/configs/{dconf}"), body), 422, field)
    assert_error(call(api, "POST", world.fmt("/api/v1/projects/{delta}/configs"), body), 422, field)
    assert snapshot(api.db) == before


def test_a_used_config_is_not_deleted(api: Api, world: World) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", world.fmt("/api/v1/configs/{c1}"), as_user=ALICE), 409)
    assert snapshot(api.db) == before


# --- milestones --------------------------------------------------------------------


def test_milestone_tree_and_counters(api: Api, world: World) -> None:
    pid = world.ids["delta"]
    assert_milestone_counters(api, pid)
    body = {
        "name": "Q3",
        "note": "quarter",
        "type_id": 2,
        "start_date": "2025-07-01",
        "due_date": "2025-09-30",
    }
    top = result(call(api, "POST", f"/api/v1/projects/{pid}/milestones", body, ALICE), 201)
    assert top["root_id"] == top["id"] and top["parent_id"] is None
    assert (top["type_id"], top["start_date"], top["due_date"]) == (2, "2025-07-01", "2025-09-30")
    assert top["is_completed"] is False and top["created_by"] == world.ids["alice"]
    child = result(
        call(
            api,
            "POST",
            f"/api/v1/projects/{pid}/milestones",
            {"name": "S1", "parent_id": top["id"]},
        ),
        201,
    )
    assert (child["parent_id"], child["root_id"], child["type_id"]) == (top["id"], top["id"], 1)
    grandchild = result(
        call(
            api,
            "POST",
            f"/api/v1/projects/{pid}/milestones",
            {"name": "S1a", "parent_id": child["id"]},
        ),
        201,
    )
    assert grandchild["root_id"] == top["id"]
    assert_milestone_counters(api, pid)

    # The write answers what GET answers (so If-Match from a GET works).
    path = f"/api/v1/milestones/{child['id']}"
    assert call(api, "GET", path).json()["result"] == child

    # Moving a subtree to the top makes it its own root.
    moved = result(
        call(api, "PATCH", path, {"parent_id": None}, headers={"If-Match": etag(api, path)})
    )
    assert moved["root_id"] == child["id"] and moved["parent_id"] is None
    g = result(call(api, "GET", f"/api/v1/milestones/{grandchild['id']}"))
    assert g["root_id"] == child["id"]
    # ...and back under top.
    moved = result(call(api, "PATCH", path, {"parent_id": top["id"]}))
    assert moved["root_id"] == top["id"]
    assert (
        result(call(api, "GET", f"/api/v1/milestones/{grandchild['id']}"))["root_id"] == top["id"]
    )

    done = result(call(api, "POST", f"{path}/complete", as_user=ALICE))
    assert done["is_completed"] is True and done["completed_at"] is not None
    assert_milestone_counters(api, pid)
    assert_error(call(api, "POST", f"{path}/complete"), 409)
    assert_milestone_counters(api, pid)
    again = result(call(api, "POST", f"{path}/reopen"))
    assert again["is_completed"] is False and again["completed_at"] is None
    assert_error(call(api, "POST", f"{path}/reopen"), 409)
    assert_milestone_counters(api, pid)

    # Children keep a parent alive; leaves go, the counters follow.
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", path), 409)
    assert snapshot(api.db) == before
    result(call(api, "POST", f"/api/v1/milestones/{grandchild['id']}/complete"))
    assert_milestone_counters(api, pid)
    assert call(api, "DELETE", f"/api/v1/milestones/{grandchild['id']}").status_code == 204
    assert_milestone_counters(api, pid)
    assert call(api, "DELETE", path, as_user=ALICE).status_code == 204
    assert call(api, "DELETE", f"/api/v1/milestones/{top['id']}").status_code == 204
    assert_milestone_counters(api, pid)
    assert_error(call(api, "GET", path), 404)


def test_a_milestone_in_use_is_not_deleted(api: Api, world: World) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", world.fmt("/api/v1/milestones/{m1}"), as_user=ALICE), 409)
    assert snapshot(api.db) == before


def test_milestone_cannot_move_under_itself(api: Api, world: World) -> None:
    pid = world.ids["delta"]
    top = result(call(api, "POST", f"/api/v1/projects/{pid}/milestones", {"name": "T"}), 201)
    kid = result(
        call(
            api, "POST", f"/api/v1/projects/{pid}/milestones", {"name": "K", "parent_id": top["id"]}
        ),
        201,
    )
    before = snapshot(api.db)
    path = f"/api/v1/milestones/{top['id']}"
    assert_error(call(api, "PATCH", path, {"parent_id": top["id"]}), 422, "parent_id")
    assert_error(call(api, "PATCH", path, {"parent_id": kid["id"]}), 422, "parent_id")
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 3}, "name"),
        ({"name": "M", "parent_id": "{m1}"}, "parent_id"),  # a milestone of Alpha
        ({"name": "M", "parent_id": 999999}, "parent_id"),
        ({"name": "M", "parent_id": "x"}, "parent_id"),
        ({"name": "M", "type_id": 99}, "type_id"),
        ({"name": "M", "type_id": True}, "type_id"),
        ({"name": "M", "start_date": "2025-13-01"}, "start_date"),
        ({"name": "M", "start_date": 20250101}, "start_date"),
        ({"name": "M", "due_date": "tomorrow"}, "due_date"),
        ({"name": "M", "start_date": "2025-02-01", "due_date": "2025-01-01"}, "due_date"),
        ({"name": "M", "note": 1}, "note"),
    ],
)
def test_milestone_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    resolved = {
        k: int(world.fmt(v)) if isinstance(v, str) and v.startswith("{") else v
        for k, v in body.items()
    }
    before = snapshot(api.db)
    path = world.fmt("/api/v1/projects/{delta}/milestones")
    assert_error(call(api, "POST", path, resolved, as_user=ALICE), 422, field)
    if resolved:
        patch_path = world.fmt("/api/v1/milestones/{dms}")
        assert_error(call(api, "PATCH", patch_path, resolved, as_user=ALICE), 422, field)
    assert snapshot(api.db) == before
    assert_milestone_counters(api, world.ids["delta"])
