"""Running a session through the API (Charter extension: README.md, docs/routes.md):
create, update, the timer, close/reopen, delete, results, Idempotency-Key, ETags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.catalog import service as catalog_service
from charter.projects import service as project_service
from charter.sessions import counters
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
TESTER = "tess@example.com"
VIEWER = "vic@example.com"
OUTSIDER = "otto@example.com"


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[Api]:
    db = migrate(fresh_database_url)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
        for name, email in (("Tess", TESTER), ("Vic", VIEWER), ("Otto", OUTSIDER)):
            user_service.new_user(conn, name, email)
        project = project_service.new_project(conn, "Shop", created_by=admin)
        other = project_service.new_project(conn, "Other", created_by=admin)
        project_service.add_member(conn, project, TESTER, "tester")
        project_service.add_member(conn, project, VIEWER, "viewer")
        project_service.add_member(conn, other, OUTSIDER, "manager")
        catalog_service.new_config(conn, other, "Config of another project")
        catalog_service.new_issue(conn, 4, "WEB-1", 1, "WEB")
        area = catalog_service.new_field(conn, 1, "Area", "area", "dropdown")
        catalog_service.new_field_values(
            conn, area, [("Checkout", None, "#2563eb"), ("Search", None, None)]
        )
        severity = catalog_service.new_field(conn, 1, "Severity", "severity", "integer")
        conn.execute(
            sa.text("UPDATE template_fields SET scope = 'result' WHERE id = :id"), {"id": severity}
        )
    db.close()
    yield from open_api(fresh_database_url)


def call(
    api: Api, method: str, path: str, body: Any = None, as_user: str = ADMIN, **headers: str
) -> httpx.Response:
    hdrs = {"Authorization": f"Bearer {api.tokens[as_user]}", **headers}
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["json"] = body
    return api.client.request(method, f"/api/v1{path}", **kwargs)


def db_counts(api: Api) -> tuple[int, ...]:
    with api.db.read() as conn:
        return tuple(
            int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
            for t in (
                "sessions",
                "session_results",
                "session_tags",
                "tags",
                "session_field_values",
                "result_issues",
            )
        )


def assert_error(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body["errors"], body


def new_session(api: Api, **extra: Any) -> dict[str, Any]:
    resp = call(
        api, "POST", "/projects/1/sessions", {"name": "Explore checkout", **extra}, as_user=TESTER
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["result"]  # type: ignore[no-any-return]


def test_create_answers_the_session_with_defaults(api: Api) -> None:
    resp = call(
        api,
        "POST",
        "/projects/1/sessions",
        {
            "name": "Explore checkout",
            "tags": ["smoke", "checkout"],
            "issues": [1],
            "estimate": 3_600_000_000,
            "custom_area": 2,
        },
        as_user=TESTER,
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["expands"] == {}
    s = body["result"]
    assert (s["template_id"], s["state_id"], s["created_by"], s["project_id"]) == (1, 1, 2, 1)
    assert (s["tags"], s["issues"], s["estimate"], s["custom_area"]) == (
        ["checkout", "smoke"],
        [1],
        3_600_000_000,
        2,
    )
    assert (s["is_started"], s["is_closed"], s["elapsed"], s["updated_at"], s["total_count"]) == (
        False,
        False,
        None,
        None,
        0,
    )
    assert call(api, "GET", f"/sessions/{s['id']}").json()["result"] == s
    project = call(api, "GET", "/projects/1").json()["result"]
    assert (project["session_count"], project["session_active_count"]) == (1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x", "bogus": 1}, "bogus"),
        ({"name": "x", "template_id": "1"}, "template_id"),
        ({"name": "x", "config_id": 1}, "config_id"),  # a config of another project
        ({"name": "x", "milestone_id": 99}, "milestone_id"),
        ({"name": "x", "state_id": 99}, "state_id"),
        ({"name": "x", "assignee_id": 99}, "assignee_id"),
        ({"name": "x", "estimate": -5}, "estimate"),
        ({"name": "x", "estimate": 1.5}, "estimate"),
        ({"name": "x", "tags": "smoke"}, "tags"),
        ({"name": "x", "issues": [99]}, "issues"),
        ({"name": "x", "charter": 7}, "charter"),
        ({"name": "x", "custom_area": 99}, "custom_area"),
        ({"name": "x", "custom_area": "Checkout"}, "custom_area"),
        (
            {"name": "x", "custom_severity": 1},
            "custom_severity",
        ),  # a result field, not a session field
        ({"name": "x", "custom_nope": 1}, "custom_nope"),
        ([], "body"),
    ],
)
def test_bad_create_bodies_name_the_field_and_change_nothing(
    api: Api, body: Any, field: str
) -> None:
    before = db_counts(api)
    assert_error(call(api, "POST", "/projects/1/sessions", body, as_user=TESTER), 422, field)
    assert db_counts(api) == before


def test_malformed_and_oversized_requests(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.tokens[TESTER]}"}
    before = db_counts(api)
    resp = api.client.post(
        "/api/v1/projects/1/sessions",
        content=b'{"name": ',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_error(resp, 400)
    resp = api.client.post(
        "/api/v1/projects/1/sessions",
        content=b'{"name": "x"}',
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert_error(resp, 400)
    resp = api.client.post("/api/v1/projects/1/sessions", content=b"", headers=headers)
    assert_error(resp, 400)
    big = b'{"name": "' + b"x" * 10_000_001 + b'"}'
    resp = api.client.post(
        "/api/v1/projects/1/sessions",
        content=big,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_error(resp, 413)
    assert db_counts(api) == before


def test_who_may_write(api: Api) -> None:
    sid = new_session(api)["id"]
    assert_error(call(api, "POST", "/projects/1/sessions", {"name": "x"}, as_user=VIEWER), 403)
    assert_error(call(api, "POST", "/projects/1/sessions", {"name": "x"}, as_user=OUTSIDER), 403)
    assert_error(call(api, "POST", "/projects/999/sessions", {"name": "x"}), 404)
    assert_error(call(api, "PATCH", f"/sessions/{sid}", {"name": "y"}, as_user=VIEWER), 403)
    assert_error(call(api, "POST", f"/sessions/{sid}/start", as_user=VIEWER), 403)
    assert_error(
        call(api, "POST", f"/sessions/{sid}/results", {"note": "n"}, as_user=OUTSIDER), 403
    )
    assert_error(call(api, "DELETE", f"/sessions/{sid}", as_user=TESTER), 403)  # managers delete
    assert_error(call(api, "POST", "/sessions/999/start"), 404)
    assert_error(api.client.post(f"/api/v1/sessions/{sid}/start"), 401)
    # A bad token is 401 even with a malformed body.
    resp = api.client.post(
        "/api/v1/projects/1/sessions",
        content=b"{",
        headers={"Authorization": "Bearer nope", "Content-Type": "application/json"},
    )
    assert_error(resp, 401)


def test_update_and_template_change(api: Api) -> None:
    s = new_session(api, custom_area=1, tags=["a"])
    resp = call(
        api,
        "PATCH",
        f"/sessions/{s['id']}",
        {"name": "Renamed", "tags": ["b", "c"], "assignee_id": 2, "charter": "Mission"},
        as_user=TESTER,
    )
    assert resp.status_code == 200, resp.text
    u = resp.json()["result"]
    assert (u["name"], u["tags"], u["assignee_id"], u["updated_by"], u["custom_area"]) == (
        "Renamed",
        ["b", "c"],
        2,
        2,
        1,
    )
    assert u["updated_at"] is not None
    assert_error(
        call(api, "PATCH", f"/sessions/{s['id']}", {"template_id": None}), 422, "template_id"
    )
    assert_error(call(api, "PATCH", f"/sessions/{s['id']}", {"nope": 1}), 422, "nope")
    assert call(api, "GET", f"/sessions/{s['id']}").json()["result"]["name"] == "Renamed"


def test_timer_and_lifecycle(api: Api) -> None:
    sid = new_session(api)["id"]
    assert_error(call(api, "POST", f"/sessions/{sid}/pause", as_user=TESTER), 409)
    assert_error(call(api, "POST", f"/sessions/{sid}/resume", as_user=TESTER), 409)
    started = call(api, "POST", f"/sessions/{sid}/start", as_user=TESTER).json()["result"]
    assert started["is_started"] and started["started_at"] is not None
    assert_error(call(api, "POST", f"/sessions/{sid}/start", as_user=TESTER), 409)
    paused = call(api, "POST", f"/sessions/{sid}/pause", as_user=TESTER).json()["result"]
    assert paused["elapsed"] >= 0
    assert call(api, "POST", f"/sessions/{sid}/resume", as_user=TESTER).status_code == 200
    closed = call(api, "POST", f"/sessions/{sid}/close", as_user=TESTER).json()["result"]
    assert (
        closed["is_closed"] and closed["closed_by"] == 2 and closed["elapsed"] >= paused["elapsed"]
    )
    for method, path, body in (
        ("POST", f"/sessions/{sid}/close", None),
        ("POST", f"/sessions/{sid}/start", None),
        ("PATCH", f"/sessions/{sid}", {"name": "no"}),
        ("POST", f"/sessions/{sid}/results", {"note": "no"}),
    ):
        assert_error(call(api, method, path, body, as_user=TESTER), 409)
    project = call(api, "GET", "/projects/1").json()["result"]
    assert (project["session_active_count"], project["session_closed_count"]) == (0, 1)
    reopened = call(api, "POST", f"/sessions/{sid}/reopen", as_user=TESTER).json()["result"]
    assert (reopened["is_closed"], reopened["closed_at"], reopened["closed_by"]) == (
        False,
        None,
        None,
    )
    assert_error(call(api, "POST", f"/sessions/{sid}/reopen", as_user=TESTER), 409)
    assert call(api, "DELETE", f"/sessions/{sid}").status_code == 204
    assert_error(call(api, "GET", f"/sessions/{sid}"), 404)
    project = call(api, "GET", "/projects/1").json()["result"]
    assert (
        project["session_count"],
        project["session_active_count"],
        project["session_closed_count"],
    ) == (0, 0, 0)


def test_results_change_counters_atomically(api: Api) -> None:
    sid = new_session(api)["id"]
    one = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"status_id": 2, "note": "ok", "issues": [1], "custom_severity": 3},
        as_user=TESTER,
    )
    assert one.status_code == 201, one.text
    r = one.json()["result"]
    assert (
        r["session_id"],
        r["status_id"],
        r["note"],
        r["issues"],
        r["custom_severity"],
        r["created_by"],
    ) == (sid, 2, "ok", [1], 3, 2)
    bulk = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"results": [{"status_id": 3}, {"note": "plain"}, {"status_id": 1}]},
        as_user=TESTER,
    )
    assert bulk.status_code == 201
    assert [x["status_id"] for x in bulk.json()["result"]] == [3, None, 1]

    before = db_counts(api)
    bad = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"results": [{"status_id": 2}, {"status_id": 99}]},
        as_user=TESTER,
    )
    assert_error(bad, 422, "results.1.status_id")
    assert_error(
        call(api, "POST", f"/sessions/{sid}/results", {"results": [{"status_id": 2}, {"x": 1}]}),
        422,
        "results.1.x",
    )
    assert_error(
        call(api, "POST", f"/sessions/{sid}/results", {"results": [{"note": "n"}] * 1001}),
        422,
        "results",
    )
    assert_error(call(api, "POST", f"/sessions/{sid}/results", {"results": []}), 422, "results")
    assert_error(
        call(api, "POST", f"/sessions/{sid}/results", {"status_id": 7}), 422, "status_id"
    )  # disabled
    assert_error(
        call(api, "POST", f"/sessions/{sid}/results", {"status_id": True}), 422, "status_id"
    )
    assert_error(call(api, "POST", f"/sessions/{sid}/results", {"elapsed": -1}), 422, "elapsed")
    assert db_counts(api) == before

    s = call(api, "GET", f"/sessions/{sid}").json()["result"]
    assert (s["total_count"], s["status1_count"], s["status2_count"], s["untested_count"]) == (
        4,
        1,
        1,
        1,
    )
    assert (s["success_count"], s["failure_count"], s["completed_count"]) == (1, 1, 2)

    edited = call(
        api,
        "PATCH",
        f"/sessions/results/{r['id']}",
        {"status_id": 3, "note": "broke"},
        as_user=TESTER,
    )
    assert edited.status_code == 200
    assert (edited.json()["result"]["status_id"], edited.json()["result"]["updated_by"]) == (3, 2)
    assert (
        call(
            api, "DELETE", f"/sessions/results/{bulk.json()['result'][0]['id']}", as_user=TESTER
        ).status_code
        == 204
    )
    s = call(api, "GET", f"/sessions/{sid}").json()["result"]
    assert (s["total_count"], s["success_count"], s["failure_count"], s["status2_count"]) == (
        3,
        0,
        1,
        1,
    )
    with api.db.read() as conn:
        assert counters.verify(conn) == []

    listed = call(api, "GET", f"/sessions/{sid}/results?expands=users,statuses,issues&status_id=3")
    assert listed.status_code == 200
    page = listed.json()
    assert [x["id"] for x in page["result"]] == [r["id"]]
    assert page["expands"]["users"] == [{"id": 2, "name": "Tess"}]
    assert [i["id"] for i in page["expands"]["issues"]] == [1]
    assert len(page["expands"]["statuses"]) == 6
    assert_error(
        call(api, "GET", f"/sessions/{sid}/results?sort=session_results:name"), 422, "sort"
    )
    assert_error(call(api, "GET", f"/sessions/{sid}/results", as_user=OUTSIDER), 403)


def test_idempotency_key_makes_retries_safe(api: Api) -> None:
    sid = new_session(api)["id"]
    first = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"status_id": 2},
        as_user=TESTER,
        **{"Idempotency-Key": "run-42"},
    )
    again = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"status_id": 2},
        as_user=TESTER,
        **{"Idempotency-Key": "run-42"},
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert call(api, "GET", f"/sessions/{sid}").json()["result"]["total_count"] == 1
    other = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"status_id": 3},
        as_user=TESTER,
        **{"Idempotency-Key": "run-42"},
    )
    assert_error(other, 422, "Idempotency-Key")
    # Keys are per user: another user's identical key is a new request.
    mine = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {"status_id": 2},
        as_user=ADMIN,
        **{"Idempotency-Key": "run-42"},
    )
    assert mine.status_code == 201 and mine.json()["result"]["id"] != first.json()["result"]["id"]
    created = [
        call(
            api,
            "POST",
            "/projects/1/sessions",
            {"name": "Once"},
            as_user=TESTER,
            **{"Idempotency-Key": "create-1"},
        )
        for _ in range(3)
    ]
    assert len({c.json()["result"]["id"] for c in created}) == 1


def test_etags_and_preconditions(api: Api) -> None:
    sid = new_session(api)["id"]
    first = call(api, "GET", f"/sessions/{sid}")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    cached = call(api, "GET", f"/sessions/{sid}", **{"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert call(api, "GET", f"/sessions/{sid}", **{"If-None-Match": '"other"'}).status_code == 200
    listing = call(api, "GET", "/projects/1/sessions")
    assert (
        call(
            api, "GET", "/projects/1/sessions", **{"If-None-Match": listing.headers["etag"]}
        ).status_code
        == 304
    )

    stale = call(
        api, "PATCH", f"/sessions/{sid}", {"name": "B"}, as_user=TESTER, **{"If-Match": '"stale"'}
    )
    assert_error(stale, 412)
    assert call(api, "GET", f"/sessions/{sid}").headers["etag"] == etag  # unchanged
    ok = call(api, "PATCH", f"/sessions/{sid}", {"name": "B"}, as_user=TESTER, **{"If-Match": etag})
    assert ok.status_code == 200
    assert call(api, "GET", f"/sessions/{sid}").headers["etag"] != etag
    assert call(api, "GET", f"/sessions/{sid}", **{"If-None-Match": etag}).status_code == 200
    assert_error(call(api, "DELETE", f"/sessions/{sid}", **{"If-Match": etag}), 412)


def test_filtered_totals_follow_every_change(api: Api) -> None:
    """Filtered totals are cached per project version: every write that changes which
    sessions match must show at once."""

    def total(**params: str) -> int:
        resp = api.client.get(
            "/api/v1/projects/1/sessions",
            params=params,
            headers={"Authorization": f"Bearer {api.tokens[ADMIN]}"},
        )
        assert resp.status_code == 200
        return int(resp.json()["total"])

    assert total(tags="hot") == 0 and total(state_id="2") == 0 and total(assignee_id="2") == 0
    sid = new_session(api, tags=["hot"])["id"]
    assert total(tags="hot") == 1
    call(api, "PATCH", f"/sessions/{sid}", {"state_id": 2, "assignee_id": 2, "tags": []})
    assert (total(tags="hot"), total(state_id="2"), total(assignee_id="2")) == (0, 1, 1)
    call(api, "POST", f"/sessions/{sid}/close")
    assert (total(state_id="2", is_closed="1"), total(state_id="2", is_closed="0")) == (1, 0)
    call(api, "POST", f"/sessions/{sid}/reopen")
    assert total(state_id="2", is_closed="0") == 1
    call(api, "DELETE", f"/sessions/{sid}")
    assert (total(state_id="2"), total(assignee_id="2")) == (0, 0)
