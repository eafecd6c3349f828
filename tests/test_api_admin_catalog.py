"""Site-wide reference data API (Charter extension): templates, custom fields and
their values, workflow states, statuses (with the counter rebuild), external issues,
tags. Any user reads; site admins write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from charter.sessions import counters
from helpers_data import DONE, NEW, World, world_database
from helpers_db import Api, migrate, open_api
from test_api_admin import (
    ALICE,
    BOB,
    DAVE,
    assert_error,
    build_admin_world,
    call,
    etag,
    result,
    snapshot,
)


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from world_database(tmp_path_factory.mktemp("catalog"))


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


def field_id(api: Api, template_id: int, system_name: str) -> int:
    fields = result(call(api, "GET", f"/api/v1/templates/{template_id}"))["fields"]
    return int(next(f["id"] for f in fields if f["system_name"] == system_name))


def session(api: Api, world: World, key: str) -> dict[str, Any]:
    return result_any(call(api, "GET", f"/api/v1/sessions/{world.ids[key]}"))


def result_any(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    item: dict[str, Any] = resp.json()["result"]
    return item


# --- generic rules -----------------------------------------------------------------

# (method, path, a valid body) for every admin write of this module
WRITES = [
    ("POST", "/api/v1/templates", {"name": "T"}),
    ("PATCH", "/api/v1/templates/{t2}", {"name": "Bug bash"}),
    ("POST", "/api/v1/templates/{t2}/fields", {"name": "F", "system_name": "f", "type": "text"}),
    ("PATCH", "/api/v1/fields/{field}", {"name": "Area"}),
    ("POST", "/api/v1/fields/{field}/values", {"name": "V"}),
    ("PATCH", "/api/v1/fields/values/{checkout}", {"name": "Checkout"}),
    ("POST", "/api/v1/states", {"name": "S"}),
    ("PATCH", "/api/v1/states/2", {"name": "In progress"}),
    ("PATCH", "/api/v1/statuses/4", {"name": "Retest"}),
    ("POST", "/api/v1/issues", {"type": 1, "display_id": "Z-1"}),
    ("PATCH", "/api/v1/tags/{tag}", {"name": "smoke"}),
]
DELETES = [
    "/api/v1/fields/{field}",
    "/api/v1/fields/values/{checkout}",
    "/api/v1/states/2",
    "/api/v1/issues/{jira1}",
    "/api/v1/tags/{tag}",
]


def resolve(api: Api, world: World, path: str) -> str:
    ids = dict(world.ids)
    ids["field"] = field_id(api, 1, "area")
    ids["tag"] = next(
        t["id"] for t in call(api, "GET", "/api/v1/tags").json()["result"] if t["name"] == "smoke"
    )
    return path.format(**ids)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_bad_bodies(api: Api, world: World, method: str, path: str, body: Any) -> None:
    target = resolve(api, world, path)
    before = snapshot(api.db)
    assert_error(call(api, method, target, raw=b'{"name": "x",}'), 400)
    assert_error(call(api, method, target, {**body, "extra": 1}), 422, "extra")
    assert_error(call(api, method, target, "just a string"), 422, "body")
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("method", "path", "body"), [*WRITES, *(("DELETE", p, None) for p in DELETES)]
)
def test_writes_are_for_site_admins(
    api: Api, world: World, method: str, path: str, body: Any
) -> None:
    target = resolve(api, world, path)
    before = snapshot(api.db)
    for user in (ALICE, BOB, DAVE):
        assert_error(call(api, method, target, body, as_user=user), 403)
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/templates",
        "/api/v1/templates/1",
        "/api/v1/templates/1/fields",
        "/api/v1/fields/{field}",
        "/api/v1/fields/{field}/values",
        "/api/v1/fields/values/{checkout}",
        "/api/v1/states",
        "/api/v1/states/1",
        "/api/v1/statuses",
        "/api/v1/statuses/1",
        "/api/v1/issues",
        "/api/v1/tags",
    ],
)
def test_any_user_reads(api: Api, world: World, path: str) -> None:
    resp = call(api, "GET", resolve(api, world, path), as_user=DAVE)
    assert resp.status_code == 200, resp.text
    assert resp.headers["etag"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/templates/999999"),
        ("PATCH", "/api/v1/templates/999999"),
        ("GET", "/api/v1/templates/999999/fields"),
        ("POST", "/api/v1/templates/999999/fields"),
        ("GET", "/api/v1/fields/999999"),
        ("PATCH", "/api/v1/fields/999999"),
        ("DELETE", "/api/v1/fields/999999"),
        ("GET", "/api/v1/fields/999999/values"),
        ("POST", "/api/v1/fields/999999/values"),
        ("GET", "/api/v1/fields/values/999999"),
        ("PATCH", "/api/v1/fields/values/999999"),
        ("DELETE", "/api/v1/fields/values/999999"),
        ("GET", "/api/v1/states/999999"),
        ("PATCH", "/api/v1/states/999999"),
        ("DELETE", "/api/v1/states/x"),
        ("GET", "/api/v1/statuses/26"),
        ("PATCH", "/api/v1/statuses/0"),
        ("GET", "/api/v1/issues/999999"),
        ("DELETE", "/api/v1/issues/999999"),
        ("GET", "/api/v1/tags/999999"),
        ("PATCH", "/api/v1/tags/999999"),
        ("DELETE", "/api/v1/tags/999999"),
    ],
)
def test_unknown_ids_are_404(api: Api, method: str, path: str) -> None:
    body = {"name": "X"} if method in ("POST", "PATCH") else None
    assert_error(call(api, method, path, body), 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/templates/{t2}", {"name": "Bug bash"}),
        ("PATCH", "/api/v1/fields/{field}", {"name": "Area"}),
        ("DELETE", "/api/v1/fields/{field}", None),
        ("PATCH", "/api/v1/fields/values/{checkout}", {"name": "Checkout"}),
        ("DELETE", "/api/v1/fields/values/{login}", None),
        ("PATCH", "/api/v1/states/3", {"name": "In review"}),
        ("DELETE", "/api/v1/states/3", None),
        ("PATCH", "/api/v1/statuses/4", {"is_passed": True}),
        ("DELETE", "/api/v1/issues/{unused}", None),
        ("PATCH", "/api/v1/tags/{tag}", {"name": "smoke2"}),
        ("DELETE", "/api/v1/tags/{tag}", None),
    ],
)
def test_stale_if_match_is_412(api: Api, world: World, method: str, path: str, body: Any) -> None:
    target = resolve(api, world, path)
    before = snapshot(api.db)
    assert_error(call(api, method, target, body, headers={"If-Match": '"stale"'}), 412)
    assert snapshot(api.db) == before


# --- templates ---------------------------------------------------------------------


def test_templates(api: Api, world: World) -> None:
    listed = call(api, "GET", "/api/v1/templates?sort=templates:name&order=asc", as_user=BOB)
    body = listed.json()
    assert [t["name"] for t in body["result"]] == ["Bug bash", "Exploratory session"]
    t1 = next(t for t in body["result"] if t["id"] == 1)
    assert t1["is_default"] is True
    assert [f["system_name"] for f in t1["fields"]] == ["area", "build"]
    area = t1["fields"][0]
    assert set(area) == {
        "id",
        "template_id",
        "name",
        "system_name",
        "type",
        "scope",
        "is_required",
        "display_order",
        "values",
    }
    assert [v["name"] for v in area["values"]] == ["Checkout", "Search", "Login"]

    created = result(call(api, "POST", "/api/v1/templates", {"name": "Tour"}), 201)
    assert created["is_default"] is False and created["fields"] == []
    path = f"/api/v1/templates/{created['id']}"
    made_default = call(
        api, "PATCH", path, {"is_default": True}, headers={"If-Match": etag(api, path)}
    )
    assert result(made_default)["is_default"] is True
    assert result(call(api, "GET", "/api/v1/templates/1"))["is_default"] is False
    defaults = [
        t for t in call(api, "GET", "/api/v1/templates").json()["result"] if t["is_default"]
    ]
    assert [t["id"] for t in defaults] == [created["id"]]
    before = snapshot(api.db)
    assert_error(call(api, "PATCH", path, {"is_default": False}), 422, "is_default")
    assert snapshot(api.db) == before
    result(call(api, "PATCH", "/api/v1/templates/1", {"is_default": True}))
    renamed = result(call(api, "PATCH", path, {"name": "City tour"}))
    assert renamed["name"] == "City tour" and renamed["is_default"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 1}, "name"),
        ({"name": "T", "is_default": "yes"}, "is_default"),
        ({"name": "T", "is_default": 1}, "is_default"),
    ],
)
def test_template_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "POST", "/api/v1/templates", body), 422, field)
    if body:
        assert_error(call(api, "PATCH", world.fmt("/api/v1/templates/{t2}"), body), 422, field)
    assert snapshot(api.db) == before


# --- fields and values --------------------------------------------------------------


def test_fields_lifecycle(api: Api, world: World) -> None:
    t2 = world.ids["t2"]
    body = {
        "name": "Severity",
        "system_name": "severity",
        "type": "dropdown",
        "scope": "result",
        "is_required": True,
    }
    field = result(call(api, "POST", f"/api/v1/templates/{t2}/fields", body), 201)
    assert field["scope"] == "result" and field["is_required"] is True
    assert field["values"] == [] and field["template_id"] == t2
    listed = call(api, "GET", f"/api/v1/templates/{t2}/fields").json()
    assert field["id"] in [f["id"] for f in listed["result"]]
    # the result field shows on results, not on sessions
    s2 = session(api, world, "s2")
    assert "custom_severity" not in s2

    path = f"/api/v1/fields/{field['id']}"
    values_path = f"{path}/values"
    high = result(
        call(api, "POST", values_path, {"name": "High", "color": "#FF0000", "icon": "up"}), 201
    )
    assert high == {
        "id": high["id"],
        "field_id": field["id"],
        "name": "High",
        "icon": "up",
        "color": "#ff0000",
        "display_order": 0,
    }
    low = result(call(api, "POST", values_path, {"name": "Low"}), 201)
    assert low["display_order"] == 1 and low["color"] is None
    assert [v["id"] for v in call(api, "GET", values_path).json()["result"]] in (
        [high["id"], low["id"]],
        [low["id"], high["id"]],
    )
    vpath = f"/api/v1/fields/values/{low['id']}"
    edited = call(
        api,
        "PATCH",
        vpath,
        {"name": "Lowest", "color": None},
        headers={"If-Match": etag(api, vpath)},
    )
    assert result(edited)["name"] == "Lowest"
    assert result(call(api, "GET", path))["values"][-1]["name"] == "Lowest"

    # a value a result uses stays; once unused it goes
    sid = world.ids["s5"]  # open, template t2
    added = call(
        api,
        "POST",
        f"/api/v1/sessions/{sid}/results",
        {"note": "x", "custom_severity": high["id"]},
        BOB,
    )
    assert added.status_code == 201, added.text
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", f"/api/v1/fields/values/{high['id']}"), 409)
    assert_error(call(api, "DELETE", path), 409)
    assert snapshot(api.db) == before
    assert call(api, "DELETE", vpath).status_code == 204
    assert_error(call(api, "GET", vpath), 404)
    call(api, "DELETE", f"/api/v1/sessions/results/{added.json()['result']['id']}")
    assert call(api, "DELETE", f"/api/v1/fields/values/{high['id']}").status_code == 204

    renamed = call(api, "PATCH", path, {"name": "Sev", "system_name": "sev", "display_order": 9})
    assert (result(renamed)["system_name"], result(renamed)["display_order"]) == ("sev", 9)
    assert (
        result(call(api, "PATCH", path, {"type": "dropdown", "scope": "result"}))["type"]
        == "dropdown"
    )
    assert call(api, "DELETE", path, headers={"If-Match": etag(api, path)}).status_code == 204
    assert_error(call(api, "GET", path), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"system_name": "s", "type": "text"}, "name"),
        ({"name": "N", "type": "text"}, "system_name"),
        ({"name": "N", "system_name": "s"}, "type"),
        ({"name": "N", "system_name": "Bad Name", "type": "text"}, "system_name"),
        ({"name": "N", "system_name": 5, "type": "text"}, "system_name"),
        ({"name": "N", "system_name": "s", "type": "blob"}, "type"),
        ({"name": "N", "system_name": "s", "type": "text", "scope": "run"}, "scope"),
        ({"name": "N", "system_name": "s", "type": "text", "is_required": "no"}, "is_required"),
        ({"name": "N", "system_name": "s", "type": "text", "display_order": -1}, "display_order"),
        ({"name": "N", "system_name": "s", "type": "text", "display_order": 1.5}, "display_order"),
    ],
)
def test_field_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "POST", world.fmt("/api/v1/templates/{t2}/fields"), body), 422, field)
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"type": "text"}, "type", 422),
        ({"scope": "result"}, "scope", 422),
        ({"system_name": "build"}, "system_name", 409),  # another field of t1
        ({"name": ""}, "name", 422),
        ({"is_required": None}, "is_required", 422),
    ],
)
def test_field_bad_edits(
    api: Api, world: World, body: dict[str, Any], field: str, status: int
) -> None:
    before = snapshot(api.db)
    path = f"/api/v1/fields/{field_id(api, 1, 'area')}"
    assert_error(call(api, "PATCH", path, body), status, field)
    assert snapshot(api.db) == before


def test_duplicate_system_name_is_409(api: Api, world: World) -> None:
    before = snapshot(api.db)
    body = {"name": "Area 2", "system_name": "area", "type": "text"}
    assert_error(call(api, "POST", "/api/v1/templates/1/fields", body), 409, "system_name")
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "V", "color": "red"}, "color"),
        ({"name": "V", "color": "#12345"}, "color"),
        ({"name": "V", "icon": 5}, "icon"),
        ({"name": "V", "icon": "x" * 65}, "icon"),
        ({"name": "V", "display_order": "1"}, "display_order"),
    ],
)
def test_value_bad_fields(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    fid = field_id(api, 1, "area")
    assert_error(call(api, "POST", f"/api/v1/fields/{fid}/values", body), 422, field)
    if body:
        path = world.fmt("/api/v1/fields/values/{search}")
        assert_error(call(api, "PATCH", path, body), 422, field)
    assert snapshot(api.db) == before


def test_values_only_for_choice_fields_and_used_values_stay(api: Api, world: World) -> None:
    before = snapshot(api.db)
    fid = field_id(api, 1, "build")  # a string field
    assert_error(call(api, "POST", f"/api/v1/fields/{fid}/values", {"name": "V"}), 422, "field_id")
    # 'checkout' is the value of s1 and s6; 'ios' is in a multi-select of s2
    assert_error(call(api, "DELETE", world.fmt("/api/v1/fields/values/{checkout}")), 409)
    assert_error(call(api, "DELETE", world.fmt("/api/v1/fields/values/{ios}")), 409)
    # 'area' holds values on sessions
    assert_error(call(api, "DELETE", f"/api/v1/fields/{field_id(api, 1, 'area')}"), 409)
    assert snapshot(api.db) == before


# --- workflow states ---------------------------------------------------------------


def test_states(api: Api, world: World) -> None:
    listed = call(api, "GET", "/api/v1/states?sort=states:display_order&order=asc", as_user=DAVE)
    assert [s["name"] for s in listed.json()["result"]][:4] == [
        "New",
        "In progress",
        "In review",
        "Done",
    ]
    state = result(call(api, "POST", "/api/v1/states", {"name": "Parked"}), 201)
    assert state == {
        "id": state["id"],
        "name": "Parked",
        "is_default": False,
        "display_order": 5,
        "meaning": None,
    }
    path = f"/api/v1/states/{state['id']}"
    moved = call(
        api,
        "PATCH",
        path,
        {"name": "On hold", "is_default": True},
        headers={"If-Match": etag(api, path)},
    )
    assert result(moved) == {**state, "name": "On hold", "is_default": True}
    assert result(call(api, "GET", f"/api/v1/states/{NEW}"))["is_default"] is False
    # sessions created now get the new default
    made = call(api, "POST", world.fmt("/api/v1/projects/{delta}/sessions"), {"name": "x"}, ALICE)
    assert made.status_code == 201 and made.json()["result"]["state_id"] == state["id"]
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", path), 409)  # the default
    assert_error(call(api, "PATCH", path, {"is_default": False}), 422, "is_default")
    assert snapshot(api.db) == before
    result(call(api, "PATCH", f"/api/v1/states/{NEW}", {"is_default": True}))
    assert_error(call(api, "DELETE", path), 409)  # used by the session above
    call(api, "DELETE", f"/api/v1/sessions/{made.json()['result']['id']}", as_user=ALICE)
    assert call(api, "DELETE", path).status_code == 204
    assert_error(call(api, "GET", path), 404)


def test_a_used_state_stays(api: Api, world: World) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", f"/api/v1/states/{DONE}"), 409)
    assert snapshot(api.db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "S", "is_default": None}, "is_default"),
        ({"name": "S", "display_order": "first"}, "display_order"),
    ],
)
def test_state_bad_fields(api: Api, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "POST", "/api/v1/states", body), 422, field)
    if body:
        assert_error(call(api, "PATCH", "/api/v1/states/2", body), 422, field)
    assert snapshot(api.db) == before


# --- statuses ----------------------------------------------------------------------


def test_statuses_list(api: Api) -> None:
    body = call(api, "GET", "/api/v1/statuses?order=asc", as_user=DAVE).json()
    assert body["total"] == 25
    assert [s["id"] for s in body["result"]] == list(range(1, 26))
    assert body["result"][1] == {
        "id": 2,
        "name": "Passed",
        "system_name": "passed",
        "color": "#16a34a",
        "is_final": True,
        "is_untested": False,
        "is_passed": True,
        "is_failed": False,
        "aliases": ["pass", "ok", "success"],
        "is_active": True,
    }
    active = call(api, "GET", "/api/v1/statuses?is_active=1").json()
    assert active["total"] == 6


def test_status_flag_change_rebuilds_counters(api: Api, world: World) -> None:
    # s1 has results with statuses 1, 2, 2, 3, None, 5, 6: status 4 (Retest) none, so
    # give s1 a Retest result first.
    sid = world.ids["s1"]
    added = call(api, "POST", f"/api/v1/sessions/{sid}/results", {"status_id": 4}, ALICE)
    assert added.status_code == 201, added.text
    before = session(api, world, "s1")
    path = "/api/v1/statuses/4"
    changed = call(
        api,
        "PATCH",
        path,
        {"is_passed": True, "is_final": True, "aliases": ["again", "again", " redo "]},
        headers={"If-Match": etag(api, path)},
    )
    item = result(changed)
    assert item["is_passed"] is True and item["aliases"] == ["again", "redo"]
    after = session(api, world, "s1")
    assert after["success_count"] == before["success_count"] + 1
    assert after["completed_count"] == before["completed_count"] + 1
    assert after["failure_count"] == before["failure_count"]
    with api.db.read() as conn:
        assert counters.verify(conn) == []
    # Failed (3) stops counting as a failure
    result(call(api, "PATCH", "/api/v1/statuses/3", {"is_failed": False}))
    assert session(api, world, "s1")["failure_count"] == before["failure_count"] - 1
    with api.db.read() as conn:
        assert counters.verify(conn) == []
    result(call(api, "PATCH", "/api/v1/statuses/3", {"is_failed": True}))
    result(call(api, "PATCH", path, {"is_passed": False, "is_final": False, "aliases": ["rerun"]}))
    assert session(api, world, "s1")["success_count"] == before["success_count"]
    with api.db.read() as conn:
        assert counters.verify(conn) == []


def test_status_enable_rename_and_disable(api: Api) -> None:
    path = "/api/v1/statuses/7"
    item = result(
        call(
            api,
            "PATCH",
            path,
            {"name": "Flaky", "system_name": "flaky", "color": "#AABBCC", "is_active": True},
        )
    )
    assert (item["name"], item["system_name"], item["color"], item["is_active"]) == (
        "Flaky",
        "flaky",
        "#aabbcc",
        True,
    )
    assert 7 in [
        s["id"] for s in call(api, "GET", "/api/v1/statuses?is_active=true").json()["result"]
    ]
    assert result(call(api, "PATCH", path, {"is_active": False}))["is_active"] is False


@pytest.mark.parametrize(
    ("status_id", "body", "field", "code"),
    [
        (1, {"is_active": False}, "is_active", 422),
        (4, {"name": ""}, "name", 422),
        (4, {"system_name": "Re Test"}, "system_name", 422),
        (4, {"system_name": "passed"}, "system_name", 409),
        (4, {"color": "orange"}, "color", 422),
        (4, {"color": None}, "color", 422),
        (4, {"is_final": "true"}, "is_final", 422),
        (4, {"is_untested": 0}, "is_untested", 422),
        (4, {"is_failed": None}, "is_failed", 422),
        (4, {"is_active": 1}, "is_active", 422),
        (4, {"aliases": "rerun"}, "aliases", 422),
        (4, {"aliases": ["ok", 5]}, "aliases", 422),
        (4, {"aliases": [""]}, "aliases", 422),
        (2, {"is_failed": True}, "is_passed", 422),
    ],
)
def test_status_bad_fields(
    api: Api, status_id: int, body: dict[str, Any], field: str, code: int
) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "PATCH", f"/api/v1/statuses/{status_id}", body), code, field)
    assert snapshot(api.db) == before


def test_statuses_have_no_create_or_delete(api: Api) -> None:
    assert call(api, "POST", "/api/v1/statuses", {"name": "x"}).status_code == 405
    assert call(api, "DELETE", "/api/v1/statuses/7").status_code == 405


# --- issues ------------------------------------------------------------------------


def test_issues(api: Api, world: World) -> None:
    body = {
        "type": 3,
        "display_id": "#12",
        "external_project_id": 77,
        "external_project_key": "g/r",
    }
    issue = result(call(api, "POST", "/api/v1/issues", body), 201)
    assert issue == {**body, "id": issue["id"], "created_at": issue["created_at"]}
    path = f"/api/v1/issues/{issue['id']}"
    assert result(call(api, "GET", path)) == issue  # linked to nothing: admins only
    gitlab = call(api, "GET", "/api/v1/issues?type=3").json()
    assert [i["id"] for i in gitlab["result"]] == [issue["id"]]
    jira = call(api, "GET", "/api/v1/issues?type=4&sort=issues:display_id&order=asc").json()
    assert [i["display_id"] for i in jira["result"]] == ["WEB-101", "WEB-102"]
    assert_error(call(api, "GET", "/api/v1/issues?type=x"), 422, "type")
    before = snapshot(api.db)
    assert_error(call(api, "DELETE", world.fmt("/api/v1/issues/{jira1}")), 409)  # linked
    assert snapshot(api.db) == before
    assert call(api, "DELETE", path, headers={"If-Match": etag(api, path)}).status_code == 204
    assert_error(call(api, "GET", path), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_id": "X"}, "type"),
        ({"type": 5, "display_id": "X"}, "type"),
        ({"type": "1", "display_id": "X"}, "type"),
        ({"type": True, "display_id": "X"}, "type"),
        ({"type": 1}, "display_id"),
        ({"type": 1, "display_id": ""}, "display_id"),
        ({"type": 1, "display_id": "X", "external_project_id": "1"}, "external_project_id"),
        ({"type": 1, "display_id": "X", "external_project_key": 1}, "external_project_key"),
    ],
)
def test_issue_bad_fields(api: Api, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.db)
    assert_error(call(api, "POST", "/api/v1/issues", body), 422, field)
    assert snapshot(api.db) == before


# --- tags --------------------------------------------------------------------------


def test_tags(api: Api, world: World) -> None:
    listed = call(api, "GET", "/api/v1/tags?sort=tags:name&order=asc", as_user=BOB).json()
    counts = {t["name"]: t["session_count"] for t in listed["result"]}
    assert counts == {"regression": 2, "security": 2, "smoke": 4}
    security = next(t for t in listed["result"] if t["name"] == "security")
    path = f"/api/v1/tags/{security['id']}"
    before = snapshot(api.db)
    assert_error(call(api, "PATCH", path, {"name": "smoke"}), 409, "name")
    assert_error(call(api, "PATCH", path, {"name": "a,b"}), 422, "name")
    assert_error(call(api, "PATCH", path, {"name": ""}), 422, "name")
    assert_error(call(api, "PATCH", path, {"name": ["x"]}), 422, "name")
    assert_error(call(api, "PATCH", path, {"name": "x" * 101}), 422, "name")
    assert snapshot(api.db) == before
    renamed = call(api, "PATCH", path, {"name": "sec"}, headers={"If-Match": etag(api, path)})
    assert result(renamed) == {"id": security["id"], "name": "sec", "session_count": 2}
    assert session(api, world, "s4")["tags"] == ["sec"]
    assert call(api, "DELETE", path, headers={"If-Match": etag(api, path)}).status_code == 204
    assert session(api, world, "s4")["tags"] == []
    assert session(api, world, "s8")["tags"] == ["smoke"]
    assert_error(call(api, "GET", path), 404)
    assert "sec" not in [t["name"] for t in call(api, "GET", "/api/v1/tags").json()["result"]]
