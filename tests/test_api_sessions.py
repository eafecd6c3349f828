"""Contract tests for GET /api/v1/projects/{project_id}/sessions and
GET /api/v1/sessions/{session_id} (Testmo's list conventions; Charter's decisions in
docs/api.md).

Most checks run on a small, fully known dataset (tests/helpers_data.py) so that every
expected answer can be stated exactly; access checks also run on the demo dataset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.auth import service as auth
from helpers_data import (
    ALPHA,
    BETA_SIZE,
    DONE,
    IN_PROGRESS,
    IN_REVIEW,
    ISSUES,
    NEW,
    SessionSpec,
    World,
    beta_closed_at,
    beta_created_at,
    build_world,
    world_database,
)
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
EXPAND_NAMES = (
    "configs",
    "field_values",
    "issues",
    "milestones",
    "states",
    "statuses",
    "templates",
    "users",
)
COUNTER_KEYS = [
    "untested_count",
    *(f"status{n}_count" for n in range(1, 25)),
    "success_count",
    "failure_count",
    "completed_count",
    "total_count",
]
SESSION_KEYS = {
    "id",
    "project_id",
    "template_id",
    "name",
    "config_id",
    "milestone_id",
    "state_id",
    "assignee_id",
    "estimate",
    "forecast",
    "elapsed",
    "is_started",
    "is_closed",
    "issues",
    "tags",
    *COUNTER_KEYS,
    "started_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "closed_at",
    "closed_by",
}
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
STATE_NAMES = {NEW: "New", IN_PROGRESS: "In progress", IN_REVIEW: "In review", DONE: "Done"}
ALL_DESC = ["s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1"]
ALL_ASC = ALL_DESC[::-1]
# closed_at: s8 01-10, s4 = s6 01-15 12:00, s2 02-01; open ones are null (lowest)
CLOSED_AT_ASC = ["s1", "s3", "s5", "s7", "s8", "s4", "s6", "s2"]
CLOSED_AT_DESC = ["s2", "s6", "s4", "s8", "s7", "s5", "s3", "s1"]
CLOSED = ["s8", "s6", "s4", "s2"]
OPEN = ["s7", "s5", "s3", "s1"]


# --- fixtures ----------------------------------------------------------------------


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


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        errors = body.get("errors")
        assert isinstance(errors, dict), body
        assert field in errors, body
        assert isinstance(errors[field], list)
        assert errors[field]
        assert all(isinstance(m, str) for m in errors[field])


def alpha_list(api: Api, w: World, as_user: str = ADMIN, **params: str) -> httpx.Response:
    """List Alpha's sessions; '{key}' placeholders in values become ids."""
    resolved = {k: w.fmt(v) for k, v in params.items()}
    return api.get(f"/api/v1/projects/{w.ids['alpha']}/sessions", as_user=as_user, **resolved)


def keys(w: World, body: dict[str, Any]) -> list[str]:
    return [w.session_keys[row["id"]] for row in body["result"]]


def get_session(
    api: Api, w: World, key: str, as_user: str = ADMIN, **params: str
) -> httpx.Response:
    return api.get(f"/api/v1/sessions/{w.ids[key]}", as_user=as_user, **params)


def assert_envelope(
    body: dict[str, Any],
    *,
    page: int | None,
    prev_page: int | None,
    next_page: int | None,
    last_page: int | None,
    per_page: int,
    total: int,
) -> None:
    assert set(body) == ENVELOPE_KEYS
    actual = {k: body[k] for k in ENVELOPE_KEYS - {"result", "expands"}}
    assert actual == {
        "page": page,
        "prev_page": prev_page,
        "next_page": next_page,
        "last_page": last_page,
        "per_page": per_page,
        "total": total,
    }


def expected_expand(w: World, specs: list[SessionSpec], name: str) -> list[dict[str, Any]]:
    """What `expands=<name>` must hold for a page of Alpha sessions (not statuses)."""

    def refs(*attrs: str) -> list[str]:
        found = {getattr(s, a) for s in specs for a in attrs}
        return sorted((k for k in found if k is not None), key=lambda k: w.ids[k])

    if name == "users":
        keys_ = refs("creator", "updated_by", "closer", "assignee")
        return [{"id": w.ids[k], "name": w.names[k]} for k in keys_]
    if name == "configs":
        return [{"id": w.ids[k], "name": w.names[k]} for k in refs("config")]
    if name == "milestones":
        return [{"id": w.ids[k], "name": w.names[k]} for k in refs("milestone")]
    if name == "templates":
        return [
            {"id": w.ids[k], "name": w.names[k], "is_default": k == "t1"} for k in refs("template")
        ]
    if name == "states":
        ids = sorted({s.state for s in specs})
        return [{"id": i, "name": STATE_NAMES[i], "is_default": i == NEW} for i in ids]
    if name == "issues":
        keys_ = sorted({i for s in specs for i in s.issues}, key=lambda k: w.ids[k])
        return [
            dict(
                zip(
                    ("id", "type", "display_id", "external_project_id", "external_project_key"),
                    (w.ids[k], *ISSUES[k]),
                    strict=True,
                )
            )
            for k in keys_
        ]
    if name == "field_values":
        used: set[str] = set()
        for s in specs:
            for system_name, value in s.custom.items():
                kind = w.field_types[system_name]
                if kind == "dropdown":
                    used.add(value)
                elif kind == "multiselect":
                    used.update(value)
        out = []
        for k in sorted(used, key=lambda k: w.ids[k]):
            vname, icon, color = w.value_info[k]
            out.append({"id": w.ids[k], "name": vname, "icon": icon, "color": color})
        return out
    raise AssertionError(name)


def active_statuses(api: Api) -> list[dict[str, Any]]:
    with api.db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, name, system_name, color, is_final, is_untested, is_passed, "
                "is_failed, aliases FROM statuses WHERE is_active = :t ORDER BY id"
            ),
            {"t": True},
        ).mappings()
        out = []
        for r in rows:
            item = dict(r)
            for flag in ("is_final", "is_untested", "is_passed", "is_failed"):
                item[flag] = bool(item[flag])
            item["aliases"] = json.loads(item["aliases"])
            out.append(item)
        return out


# --- the session object --------------------------------------------------------------


@pytest.mark.parametrize("key", [s.key for s in ALPHA])
def test_session_object_matches_the_data(api: Api, world: World, key: str) -> None:
    w, spec = world, world.specs[key]
    body = ok(get_session(api, w, key))
    assert set(body) == {"result", "expands"}
    assert body["expands"] == {}
    s = body["result"]
    custom_keys = {f"custom_{n}" for n in w.template_fields[spec.template]}
    assert set(s) == SESSION_KEYS | custom_keys

    def ref(k: str | None) -> int | None:
        return None if k is None else w.ids[k]

    assert s["id"] == w.ids[key]
    assert s["project_id"] == w.ids["alpha"]
    assert s["name"] == f"Session {key}"
    assert s["template_id"] == w.ids[spec.template]
    assert s["config_id"] == ref(spec.config)
    assert s["milestone_id"] == ref(spec.milestone)
    assert s["state_id"] == spec.state
    assert s["assignee_id"] == ref(spec.assignee)
    assert s["estimate"] == spec.estimate
    assert s["created_by"] == w.ids[spec.creator]
    assert s["created_at"] == iso(spec.created_at)
    assert s["is_closed"] is (spec.closed_at is not None)
    assert s["closed_at"] == iso(spec.closed_at)
    assert s["closed_by"] == ref(spec.closer)
    assert s["is_started"] is (spec.started_by is not None)
    assert s["updated_by"] == ref(spec.updated_by)
    assert isinstance(s["tags"], list)
    assert sorted(s["tags"]) == sorted(spec.tags)
    assert sorted(s["issues"]) == sorted(w.ids[i] for i in spec.issues)
    assert all(isinstance(i, int) for i in s["issues"])
    for system_name in w.template_fields[spec.template]:
        value = spec.custom.get(system_name)
        kind = w.field_types[system_name]
        if value is not None and kind == "dropdown":
            value = w.ids[value]
        elif value is not None and kind == "multiselect":
            value = sorted(w.ids[v] for v in value)
        actual = s[f"custom_{system_name}"]
        if kind == "multiselect" and actual is not None:
            actual = sorted(actual)
        assert actual == value, system_name
    # The same object in the list (a running session's elapsed grows between calls).
    listed = next(r for r in ok(alpha_list(api, w))["result"] if r["id"] == s["id"])
    if spec.started_by and spec.closed_at is None:
        assert listed.pop("elapsed") >= s.pop("elapsed")
    assert listed == s


def test_custom_keys_are_the_templates_fields_only(api: Api, world: World) -> None:
    rows = ok(alpha_list(api, world))["result"]
    by_template = {
        world.ids[t]: {f"custom_{n}" for n in names} for t, names in world.template_fields.items()
    }
    for row in rows:
        custom = {k for k in row if k.startswith("custom_")}
        assert custom == by_template[row["template_id"]]


def test_unset_custom_values_are_null(api: Api, world: World) -> None:
    s3 = ok(get_session(api, world, "s3"))["result"]
    assert s3["custom_area"] is None
    assert s3["custom_build"] is None
    s8 = ok(get_session(api, world, "s8"))["result"]
    for name in ("platforms", "bugs_found", "needs_follow_up", "test_date"):
        assert s8[f"custom_{name}"] is None


def test_custom_value_types(api: Api, world: World) -> None:
    s1 = ok(get_session(api, world, "s1"))["result"]
    assert s1["custom_area"] == world.ids["checkout"]
    assert s1["custom_build"] == "1.0"
    s2 = ok(get_session(api, world, "s2"))["result"]
    assert sorted(s2["custom_platforms"]) == sorted([world.ids["web"], world.ids["ios"]])
    assert s2["custom_bugs_found"] == 3
    assert s2["custom_needs_follow_up"] is True
    assert ok(get_session(api, world, "s5"))["result"]["custom_test_date"] == "2025-01-04"


def test_counts(api: Api, world: World) -> None:
    # s1 results: statuses 1, 2, 2, 3, none, 5, 6 (see helpers_data.ALPHA).
    s1 = ok(get_session(api, world, "s1"))["result"]
    expected = dict.fromkeys(COUNTER_KEYS, 0)
    expected.update(
        untested_count=1,  # status 1
        status1_count=2,  # status 2 (Passed)
        status2_count=1,  # status 3 (Failed)
        status4_count=1,  # status 5 (Blocked)
        status5_count=1,  # status 6 (Skipped)
        success_count=2,  # Passed
        failure_count=2,  # Failed, Blocked
        completed_count=5,  # Passed x2, Failed, Blocked, Skipped
        total_count=7,
    )
    assert {k: s1[k] for k in COUNTER_KEYS} == expected
    s2 = ok(get_session(api, world, "s2"))["result"]
    expected = dict.fromkeys(COUNTER_KEYS, 0)
    expected.update(status1_count=1, success_count=1, completed_count=1, total_count=1)
    assert {k: s2[k] for k in COUNTER_KEYS} == expected
    s3 = ok(get_session(api, world, "s3"))["result"]
    assert all(s3[k] == 0 for k in COUNTER_KEYS)


def test_nullable_fields_of_an_untouched_session(api: Api, world: World) -> None:
    s3 = ok(get_session(api, world, "s3"))["result"]
    for name in (
        "config_id",
        "assignee_id",
        "estimate",
        "forecast",
        "elapsed",
        "started_at",
        "updated_at",
        "updated_by",
        "closed_at",
        "closed_by",
    ):
        assert s3[name] is None, name
    assert s3["is_started"] is False
    assert s3["is_closed"] is False
    assert s3["tags"] == []
    assert s3["issues"] == []


def test_updated_fields_are_set_by_the_first_change(api: Api, world: World) -> None:
    s7 = ok(get_session(api, world, "s7"))["result"]  # started by bob, still running
    assert s7["is_started"] is True
    assert DATE_RE.match(s7["started_at"])
    assert DATE_RE.match(s7["updated_at"])
    assert s7["updated_by"] == world.ids["bob"]
    assert isinstance(s7["elapsed"], int)
    assert s7["elapsed"] >= 0
    s4 = ok(get_session(api, world, "s4"))["result"]  # closed by alice
    assert DATE_RE.match(s4["updated_at"])
    assert s4["updated_by"] == world.ids["alice"]


def test_dates_are_utc_with_microseconds(api: Api, world: World) -> None:
    rows = ok(alpha_list(api, world))["result"]
    assert rows
    for row in rows:
        assert DATE_RE.match(row["created_at"])
        for name in ("started_at", "updated_at", "closed_at"):
            assert row[name] is None or DATE_RE.match(row[name]), (name, row[name])
    by_key = {world.session_keys[r["id"]]: r for r in rows}
    assert by_key["s1"]["created_at"] == "2025-01-01T10:00:00.000000Z"
    assert by_key["s2"]["created_at"] == "2025-01-02T10:00:00.500000Z"
    assert by_key["s6"]["created_at"] == "2025-01-05T23:59:59.999999Z"
    assert by_key["s2"]["closed_at"] == "2025-02-01T00:00:00.000000Z"


# --- envelope, paging, sorting --------------------------------------------------------


def test_defaults(api: Api, world: World) -> None:
    body = ok(alpha_list(api, world))
    assert_envelope(
        body, page=1, prev_page=None, next_page=None, last_page=1, per_page=100, total=8
    )
    assert keys(world, body) == ALL_DESC
    assert body["expands"] == {}


@pytest.mark.parametrize("per_page", ["15", "25", "50", "100"])
def test_per_page_is_echoed(api: Api, world: World, per_page: str) -> None:
    body = ok(api.get(f"/api/v1/projects/{world.ids['beta']}/sessions", per_page=per_page))
    n = int(per_page)
    last = -(-BETA_SIZE // n)
    assert_envelope(
        body,
        page=1,
        prev_page=None,
        next_page=2 if last > 1 else None,
        last_page=last,
        per_page=n,
        total=BETA_SIZE,
    )
    assert len(body["result"]) == min(n, BETA_SIZE)


@pytest.mark.parametrize(
    ("page", "prev_page", "next_page", "size"),
    [(1, None, 2, 15), (2, 1, 3, 15), (3, 2, None, 2)],
)
def test_pages(
    api: Api, world: World, page: int, prev_page: int | None, next_page: int | None, size: int
) -> None:
    body = ok(
        api.get(f"/api/v1/projects/{world.ids['beta']}/sessions", per_page="15", page=str(page))
    )
    assert_envelope(
        body,
        page=page,
        prev_page=prev_page,
        next_page=next_page,
        last_page=3,
        per_page=15,
        total=BETA_SIZE,
    )
    assert len(body["result"]) == size


@pytest.mark.parametrize("page", [4, 50])
def test_page_past_the_last(api: Api, world: World, page: int) -> None:
    body = ok(
        api.get(f"/api/v1/projects/{world.ids['beta']}/sessions", per_page="15", page=str(page))
    )
    assert_envelope(
        body, page=page, prev_page=3, next_page=None, last_page=3, per_page=15, total=BETA_SIZE
    )
    assert body["result"] == []


def test_empty_result(api: Api, world: World) -> None:
    body = ok(api.get(f"/api/v1/projects/{world.ids['gamma']}/sessions"))
    assert_envelope(
        body, page=None, prev_page=None, next_page=None, last_page=None, per_page=100, total=0
    )
    assert body["result"] == []
    assert body["expands"] == {}
    filtered = ok(alpha_list(api, world, tags="no-such-tag", per_page="15"))
    assert_envelope(
        filtered, page=None, prev_page=None, next_page=None, last_page=None, per_page=15, total=0
    )
    assert filtered["result"] == []


def _beta_expected(sort: str, order: str) -> list[str]:
    def key(i: int) -> tuple[Any, ...]:
        if sort == "created_at":
            return (beta_created_at(i), i)
        closed = beta_closed_at(i)
        return (closed is not None, closed or datetime.min, i)  # nulls lowest

    return [f"b{i}" for i in sorted(range(BETA_SIZE), key=key, reverse=order == "desc")]


@pytest.mark.parametrize("sort", ["created_at", "closed_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_never_overlap_or_skip(api: Api, world: World, sort: str, order: str) -> None:
    """Beta has ties in created_at (groups of 4) and closed_at; ids break them."""
    seen: list[str] = []
    for page in (1, 2, 3):
        body = ok(
            api.get(
                f"/api/v1/projects/{world.ids['beta']}/sessions",
                per_page="15",
                page=str(page),
                sort=f"sessions:{sort}",
                order=order,
            )
        )
        seen += keys(world, body)
    assert seen == _beta_expected(sort, order)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL_DESC),
        ({"order": "desc"}, ALL_DESC),
        ({"order": "asc"}, ALL_ASC),  # s3, s4, s5 tie on created_at: id asc
        ({"sort": "sessions:created_at"}, ALL_DESC),
        ({"sort": "sessions:created_at", "order": "asc"}, ALL_ASC),
        ({"sort": "sessions:closed_at", "order": "asc"}, CLOSED_AT_ASC),
        ({"sort": "sessions:closed_at"}, CLOSED_AT_DESC),
        ({"sort": "sessions:closed_at", "order": "desc"}, CLOSED_AT_DESC),
        (
            {"sort": "sessions:closed_at", "order": "asc", "is_closed": "1"},
            ["s8", "s4", "s6", "s2"],
        ),
        ({"sort": "sessions:closed_at", "order": "asc", "page": "2", "per_page": "15"}, []),
    ],
)
def test_sort_and_order(
    api: Api, world: World, params: dict[str, str], expected: list[str]
) -> None:
    assert keys(world, ok(alpha_list(api, world, **params))) == expected


# --- filters -------------------------------------------------------------------------

FILTER_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"assignee_id": "{alice}"}, ["s7", "s4", "s1"]),
    ({"assignee_id": "{alice},{bob}"}, ["s7", "s6", "s5", "s4", "s2", "s1"]),
    ({"assignee_id": "999999"}, []),
    ({"config_id": "{c1}"}, ["s6", "s4", "s1"]),
    ({"config_id": "{c1},{c2}"}, ["s7", "s6", "s5", "s4", "s2", "s1"]),
    ({"created_by": "{bob}"}, ["s7", "s4", "s2"]),
    ({"created_by": "{bob},{admin}"}, ["s7", "s5", "s4", "s2"]),
    ({"milestone_id": "{m1}"}, ["s7", "s5", "s1"]),
    ({"milestone_id": "{m1},{m2}"}, ["s7", "s5", "s4", "s3", "s1"]),
    ({"state_id": str(IN_PROGRESS)}, ["s7", "s6", "s3"]),
    ({"state_id": f"{NEW},{DONE}"}, ["s8", "s5", "s2", "s1"]),
    ({"template_id": "{t2}"}, ["s8", "s5", "s2"]),
    ({"template_id": "{t1},{t2}"}, ALL_DESC),
    ({"tags": "smoke"}, ["s8", "s5", "s2", "s1"]),
    ({"tags": "security,regression"}, ["s8", "s6", "s4", "s2"]),
    ({"tags": "smoke,no-such-tag"}, ["s8", "s5", "s2", "s1"]),
    ({"tags": "no-such-tag"}, []),
    ({"is_closed": "1"}, CLOSED),
    ({"is_closed": "true"}, CLOSED),
    ({"is_closed": "TRUE"}, CLOSED),
    ({"is_closed": "True"}, CLOSED),
    ({"is_closed": "0"}, OPEN),
    ({"is_closed": "false"}, OPEN),
    ({"is_closed": "FALSE"}, OPEN),
    # different filters are AND-ed
    ({"is_closed": "1", "tags": "smoke"}, ["s8", "s2"]),
    ({"assignee_id": "{alice}", "config_id": "{c1}"}, ["s4", "s1"]),
    ({"created_by": "{alice}", "milestone_id": "{m2}"}, ["s3"]),
    ({"state_id": str(IN_PROGRESS), "is_closed": "1"}, ["s6"]),
    ({"state_id": str(IN_PROGRESS), "is_closed": "0", "tags": "regression"}, []),
    ({"template_id": "{t1}", "assignee_id": "{alice},{bob}", "tags": "security,regression"},
     ["s6", "s4"]),
    # an empty value is treated as absent
    ({"assignee_id": ""}, ALL_DESC),
    ({"config_id": ""}, ALL_DESC),
    ({"created_by": ""}, ALL_DESC),
    ({"milestone_id": ""}, ALL_DESC),
    ({"state_id": ""}, ALL_DESC),
    ({"template_id": ""}, ALL_DESC),
    ({"tags": ""}, ALL_DESC),
    ({"is_closed": ""}, ALL_DESC),
    ({"created_after": ""}, ALL_DESC),
    ({"created_before": ""}, ALL_DESC),
    ({"closed_after": ""}, ALL_DESC),
    ({"closed_before": ""}, ALL_DESC),
    ({"sort": "", "order": ""}, ALL_DESC),
    ({"page": "", "per_page": ""}, ALL_DESC),
]  # fmt: skip


def _case_id(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize(
    ("params", "expected"), FILTER_CASES, ids=[_case_id(p) for p, _ in FILTER_CASES]
)
def test_filters(api: Api, world: World, params: dict[str, str], expected: list[str]) -> None:
    body = ok(alpha_list(api, world, **params))
    assert keys(world, body) == expected
    assert body["total"] == len(expected)
    assert body["per_page"] == 100


DATE_CASES: list[tuple[dict[str, str], list[str]]] = [
    # s3, s4, s5 were created at exactly 2025-01-03T00:00:00Z
    ({"created_after": "2025-01-03T00:00:00Z"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-03T02:00:00+02:00"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-02T19:00:00-05:00"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-03T00:00:00.000000Z"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-03T00:00:00.000+00:00"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-03"}, ["s8", "s7", "s6"]),
    ({"created_after": "2025-01-02T23:59:59.999999Z"}, ["s8", "s7", "s6", "s5", "s4", "s3"]),
    # s2 was created at 10:00:00.5
    ({"created_after": "2025-01-02T10:00:00Z"}, ["s8", "s7", "s6", "s5", "s4", "s3", "s2"]),
    ({"created_after": "2025-01-02T10:00:00.5Z"}, ["s8", "s7", "s6", "s5", "s4", "s3"]),
    ({"created_after": "2025-01-02T12:00:00.499+02:00"}, ALL_DESC[:-1]),
    ({"created_before": "2025-01-03T00:00:00Z"}, ["s2", "s1"]),
    ({"created_before": "2025-01-03"}, ["s2", "s1"]),
    ({"created_before": "2025-01-03T00:00:00.000001Z"}, ["s5", "s4", "s3", "s2", "s1"]),
    ({"created_before": "2025-01-03T01:00:00.000001+01:00"}, ["s5", "s4", "s3", "s2", "s1"]),
    ({"created_before": "2025-01-06"}, ["s6", "s5", "s4", "s3", "s2", "s1"]),
    ({"created_before": "2025-01-05T23:59:59.999999Z"}, ["s5", "s4", "s3", "s2", "s1"]),
    ({"created_after": "2025-01-02", "created_before": "2025-01-06"},
     ["s6", "s5", "s4", "s3", "s2"]),
    # closed: s8 01-10, s4 and s6 01-15 12:00, s2 02-01; open sessions never match
    ({"closed_after": "2025-01-15T12:00:00Z"}, ["s2"]),
    ({"closed_after": "2025-01-15T13:00:00+01:00"}, ["s2"]),
    ({"closed_after": "2025-01-15T11:59:59.999999Z"}, ["s6", "s4", "s2"]),
    ({"closed_after": "2025-01-15"}, ["s6", "s4", "s2"]),
    ({"closed_before": "2025-01-15T12:00:00Z"}, ["s8"]),
    ({"closed_before": "2025-01-15T12:00:00.000001Z"}, ["s8", "s6", "s4"]),
    ({"closed_before": "2025-01-10"}, []),
    ({"closed_before": "2025-01-10T00:00:00.000001Z"}, ["s8"]),
    ({"closed_after": "2025-01-01", "closed_before": "2025-12-31"}, CLOSED),
    ({"closed_after": "2025-01-01", "tags": "smoke"}, ["s8", "s2"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"), DATE_CASES, ids=[_case_id(p) for p, _ in DATE_CASES]
)
def test_date_filters(api: Api, world: World, params: dict[str, str], expected: list[str]) -> None:
    body = ok(alpha_list(api, world, **params))
    assert keys(world, body) == expected
    assert body["total"] == len(expected)


# --- expands -------------------------------------------------------------------------

EXPAND_PAGES: list[dict[str, str]] = [
    {},
    {"assignee_id": "{alice}"},
    {"template_id": "{t2}"},
    {"created_by": "{alice}", "milestone_id": "{m2}"},  # s3: references almost nothing
    {"per_page": "15", "page": "1", "order": "asc", "is_closed": "1"},
]


@pytest.mark.parametrize("name", [n for n in EXPAND_NAMES if n != "statuses"])
@pytest.mark.parametrize("params", EXPAND_PAGES, ids=[_case_id(p) or "all" for p in EXPAND_PAGES])
def test_expand_holds_exactly_what_the_page_refers_to(
    api: Api, world: World, name: str, params: dict[str, str]
) -> None:
    body = ok(alpha_list(api, world, expands=name, **params))
    specs = [world.specs[k] for k in keys(world, body)]
    assert specs
    assert set(body["expands"]) == {name}
    assert body["expands"][name] == expected_expand(world, specs, name)


@pytest.mark.parametrize("name", [n for n in EXPAND_NAMES if n != "statuses"])
@pytest.mark.parametrize("key", ["s2", "s3", "s6"])
def test_expand_of_a_single_session(api: Api, world: World, name: str, key: str) -> None:
    body = ok(get_session(api, world, key, expands=name))
    assert body["expands"] == {name: expected_expand(world, [world.specs[key]], name)}


def test_expand_examples(api: Api, world: World) -> None:
    """A few expected expands spelled out, independent of expected_expand()."""
    w = world
    body = ok(alpha_list(api, w, config_id="{c1}", expands="configs,users,issues,field_values"))
    assert keys(w, body) == ["s6", "s4", "s1"]
    ex = body["expands"]
    assert ex["configs"] == [{"id": w.ids["c1"], "name": "Safari / macOS"}]
    # s6: alice creates, bob assigned and last editor, admin closes (admin appears
    # only as closed_by here); s4: bob creates, alice assigned and closes; s1: alice.
    assert ex["users"] == [
        {"id": w.ids["admin"], "name": "Zoe Admin"},
        {"id": w.ids["alice"], "name": "Alice Archer"},
        {"id": w.ids["bob"], "name": "Bob Baker"},
    ]
    assert ex["issues"] == [
        {"id": w.ids["jira1"], "type": 4, "display_id": "WEB-101",
         "external_project_id": 10001, "external_project_key": "WEB"},
        {"id": w.ids["gh1"], "type": 2, "display_id": "#7",
         "external_project_id": 5001, "external_project_key": "acme/shop"},
        {"id": w.ids["jira2"], "type": 4, "display_id": "WEB-102",
         "external_project_id": 10001, "external_project_key": "WEB"},
    ]  # fmt: skip
    assert ex["field_values"] == [
        {"id": w.ids["checkout"], "name": "Checkout", "icon": "cart", "color": "#2563eb"},
        {"id": w.ids["search"], "name": "Search", "icon": None, "color": "#0891b2"},
    ]
    single = ok(get_session(api, w, "s2", expands="templates,states,milestones,field_values"))
    assert single["expands"] == {
        "templates": [{"id": w.ids["t2"], "name": "Bug bash", "is_default": False}],
        "states": [{"id": DONE, "name": "Done", "is_default": False}],
        "milestones": [],
        "field_values": [
            {"id": w.ids["web"], "name": "Web", "icon": "globe", "color": "#16a34a"},
            {"id": w.ids["ios"], "name": "iOS", "icon": "apple", "color": "#64748b"},
        ],
    }


def test_statuses_expand_is_all_active_statuses(api: Api, world: World) -> None:
    expected = active_statuses(api)
    assert [s["id"] for s in expected] == [1, 2, 3, 4, 5, 6]  # the seeded active ones
    for body in (
        ok(alpha_list(api, world, expands="statuses")),
        ok(alpha_list(api, world, expands="statuses", created_by="{alice}", milestone_id="{m2}")),
        ok(get_session(api, world, "s3", expands="statuses")),
    ):
        statuses = body["expands"]["statuses"]
        assert statuses == expected
        for s in statuses:
            assert set(s) == {
                "id",
                "name",
                "system_name",
                "color",
                "is_final",
                "is_untested",
                "is_passed",
                "is_failed",
                "aliases",
            }
            assert re.fullmatch(r"#[0-9a-fA-F]{6}", s["color"])
            assert all(isinstance(a, str) for a in s["aliases"])
    passed = next(s for s in expected if s["id"] == 2)
    assert passed["is_passed"] is True
    assert passed["is_final"] is True
    assert next(s for s in expected if s["id"] == 1)["is_untested"] is True


def test_all_expands_at_once(api: Api, world: World) -> None:
    body = ok(alpha_list(api, world, expands=",".join(EXPAND_NAMES)))
    assert set(body["expands"]) == set(EXPAND_NAMES)
    specs = [world.specs[k] for k in keys(world, body)]
    for name in EXPAND_NAMES:
        if name != "statuses":
            assert body["expands"][name] == expected_expand(world, specs, name), name
    single = ok(get_session(api, world, "s1", expands=",".join(EXPAND_NAMES)))
    assert set(single["expands"]) == set(EXPAND_NAMES)


def test_requested_expands_are_present_when_empty(api: Api, world: World) -> None:
    # s3 has no config, assignee, issues or custom values.
    body = ok(
        alpha_list(
            api,
            world,
            created_by="{alice}",
            milestone_id="{m2}",
            expands="configs,issues,field_values",
        )
    )
    assert keys(world, body) == ["s3"]
    assert body["expands"] == {"configs": [], "issues": [], "field_values": []}
    empty = ok(alpha_list(api, world, tags="no-such-tag", expands=",".join(EXPAND_NAMES)))
    assert set(empty["expands"]) == set(EXPAND_NAMES)
    for name in EXPAND_NAMES:
        if name != "statuses":
            assert empty["expands"][name] == [], name
    assert empty["expands"]["statuses"] == active_statuses(api)  # all active, always


def test_no_expands_requested(api: Api, world: World) -> None:
    assert ok(alpha_list(api, world))["expands"] == {}
    assert ok(alpha_list(api, world, expands=""))["expands"] == {}
    assert ok(get_session(api, world, "s1"))["expands"] == {}


def test_expands_are_deduplicated(api: Api, world: World) -> None:
    # Every Alpha session but s3 and s8 uses a config; only two configs exist.
    body = ok(alpha_list(api, world, expands="configs,templates,states"))
    ex = body["expands"]
    for name in ("configs", "templates", "states"):
        ids = [o["id"] for o in ex[name]]
        assert ids == sorted(set(ids)), name
    assert [c["id"] for c in ex["configs"]] == [world.ids["c1"], world.ids["c2"]]
    assert [t["id"] for t in ex["templates"]] == [world.ids["t1"], world.ids["t2"]]
    assert [s["id"] for s in ex["states"]] == [NEW, IN_PROGRESS, IN_REVIEW, DONE]


# --- bad input -----------------------------------------------------------------------

BAD_PARAMS: list[tuple[dict[str, str], str]] = [
    ({"per_page": "20"}, "per_page"),
    ({"per_page": "abc"}, "per_page"),
    ({"per_page": "0"}, "per_page"),
    ({"page": "0"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "abc"}, "page"),
    ({"sort": "sessions:name"}, "sort"),
    ({"sort": "projects:created_at"}, "sort"),
    ({"order": "up"}, "order"),
    ({"is_closed": "maybe"}, "is_closed"),
    ({"is_closed": "2"}, "is_closed"),
    ({"created_after": "garbage"}, "created_after"),
    ({"created_before": "2025-13-01"}, "created_before"),
    ({"closed_after": "yesterday"}, "closed_after"),
    ({"closed_before": "2025-01-01T25:00:00Z"}, "closed_before"),
    ({"assignee_id": "1,x"}, "assignee_id"),
    ({"config_id": "abc"}, "config_id"),
    ({"created_by": "1.5"}, "created_by"),
    ({"milestone_id": "-3"}, "milestone_id"),
    ({"state_id": "1;2"}, "state_id"),
    ({"template_id": "one"}, "template_id"),
    ({"expands": "bogus"}, "expands"),
    ({"expands": "users,bogus"}, "expands"),
]


@pytest.mark.parametrize(("params", "field"), BAD_PARAMS, ids=[_case_id(p) for p, _ in BAD_PARAMS])
def test_bad_list_parameters(api: Api, world: World, params: dict[str, str], field: str) -> None:
    assert_error(alpha_list(api, world, **params), 422, field)


@pytest.mark.parametrize("expands", ["bogus", "users,bogus"])
def test_bad_expands_on_one_session(api: Api, world: World, expands: str) -> None:
    assert_error(get_session(api, world, "s1", expands=expands), 422, "expands")


# --- authentication and access -------------------------------------------------------

BAD_AUTH: list[tuple[str, dict[str, str]]] = [
    ("no token", {}),
    ("unknown token", {"Authorization": "Bearer charter_not-a-real-token"}),
    ("basic", {"Authorization": "Basic YWRtaW5AZXhhbXBsZS5jb206c2VjcmV0"}),
    ("bearer without secret", {"Authorization": "Bearer"}),
    ("bearer with blank secret", {"Authorization": "Bearer   "}),
    ("empty header", {"Authorization": ""}),
]


@pytest.mark.parametrize("headers", [h for _, h in BAD_AUTH], ids=[n for n, _ in BAD_AUTH])
@pytest.mark.parametrize("target", ["list", "single"])
def test_unauthenticated(api: Api, world: World, headers: dict[str, str], target: str) -> None:
    path = (
        f"/api/v1/projects/{world.ids['alpha']}/sessions"
        if target == "list"
        else f"/api/v1/sessions/{world.ids['s1']}"
    )
    assert_error(api.client.get(path, headers=headers), 401)


def test_revoked_token(api: Api, world: World) -> None:
    with api.db.write() as conn:
        secret = auth.create_token(conn, world.emails["alice"], "to revoke")
        token_id = conn.execute(
            sa.text("SELECT id FROM api_tokens WHERE token_hash = :h"),
            {"h": auth.hash_token(secret)},
        ).scalar_one()
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/projects/{world.ids['alpha']}/sessions"
    ok(api.client.get(path, headers=headers))
    with api.db.write() as conn:
        auth.revoke_token(conn, token_id)
    assert_error(api.client.get(path, headers=headers), 401)
    assert_error(api.client.get(f"/api/v1/sessions/{world.ids['s1']}", headers=headers), 401)


def test_members_and_admins_see_sessions(api: Api, world: World) -> None:
    w = world
    for email in (w.emails["alice"], w.emails["bob"], ADMIN):  # admin is no member
        assert keys(w, ok(alpha_list(api, w, as_user=email))) == ALL_DESC
        ok(get_session(api, w, "s1", as_user=email))
    ok(api.get(f"/api/v1/projects/{w.ids['beta']}/sessions", as_user=w.emails["alice"]))


@pytest.mark.parametrize("user", ["carol", "dave"])
def test_non_members_are_forbidden(api: Api, world: World, user: str) -> None:
    email = world.emails[user]
    assert_error(alpha_list(api, world, as_user=email), 403)
    assert_error(get_session(api, world, "s1", as_user=email), 403)
    assert_error(
        api.get(f"/api/v1/sessions/{world.ids['b0']}", as_user=email), 403
    )  # Beta: alice only


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/999999/sessions",
        "/api/v1/projects/abc/sessions",
        "/api/v1/projects/0/sessions",
        "/api/v1/projects/-1/sessions",
        "/api/v1/sessions/999999",
        "/api/v1/sessions/abc",
        "/api/v1/sessions/0",
        "/api/v1/sessions/1.5",
        "/api/v1/nope",
        "/api/v1/projects/1/nope",
    ],
)
def test_not_found(api: Api, path: str) -> None:
    assert_error(api.get(path), 404)


def test_unknown_ids_are_404_for_non_members(api: Api, world: World) -> None:
    """An unknown project is 404 (not 403) for a user who is a member of nothing."""
    assert_error(api.get("/api/v1/projects/999999/sessions", as_user=world.emails["dave"]), 404)
    assert_error(api.get("/api/v1/sessions/999999", as_user=world.emails["dave"]), 404)


def test_wrong_method(api: Api) -> None:
    resp = api.client.post(
        "/api/v1/user", headers={"Authorization": f"Bearer {api.tokens[ADMIN]}"}, json={}
    )
    assert_error(resp, 405)


# --- the demo dataset ------------------------------------------------------------------


def _demo_project_id(demo_api: Api, name: str) -> int:
    projects = ok(demo_api.get("/api/v1/projects"))["result"]
    return int(next(p["id"] for p in projects if p["name"] == name))


def test_demo_access(demo_api: Api) -> None:
    barbara = "barbara@example.com"
    internal = _demo_project_id(demo_api, "Internal Tools")
    webshop = _demo_project_id(demo_api, "Webshop")
    internal_sessions = ok(demo_api.get(f"/api/v1/projects/{internal}/sessions"))["result"]
    assert internal_sessions
    assert_error(demo_api.get(f"/api/v1/projects/{internal}/sessions", as_user=barbara), 403)
    assert_error(
        demo_api.get(f"/api/v1/sessions/{internal_sessions[0]['id']}", as_user=barbara), 403
    )
    mine = ok(demo_api.get(f"/api/v1/projects/{webshop}/sessions", as_user=barbara))
    assert mine["total"] > 0
    ok(demo_api.get(f"/api/v1/sessions/{mine['result'][0]['id']}", as_user=barbara))


def test_demo_paging_and_totals(demo_api: Api) -> None:
    webshop = _demo_project_id(demo_api, "Webshop")
    path = f"/api/v1/projects/{webshop}/sessions"
    everything = ok(demo_api.get(path))
    total = everything["total"]
    assert total == len(everything["result"]) > 30
    closed = ok(demo_api.get(path, is_closed="1"))["total"]
    open_ = ok(demo_api.get(path, is_closed="0"))["total"]
    assert closed + open_ == total
    assert closed == sum(r["is_closed"] for r in everything["result"])
    last = -(-total // 15)
    seen = []
    for page in range(1, last + 1):
        body = ok(demo_api.get(path, per_page="15", page=str(page)))
        assert body["prev_page"] == (page - 1 if page > 1 else None)
        assert body["next_page"] == (page + 1 if page < last else None)
        assert body["last_page"] == last
        seen += [r["id"] for r in body["result"]]
    assert seen == [r["id"] for r in everything["result"]]
    created = [r["created_at"] for r in everything["result"]]
    assert created == sorted(created, reverse=True)
