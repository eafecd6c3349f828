"""Answers strict Testmo clients rely on (issue 13, item 4): Testmo's projects sort,
a type on every milestone, a role on every user, a creator on seeded rows, and the
issue-tracker connections path."""

from __future__ import annotations

import httpx

from helpers_db import Api

CONNECTION_KEYS = {
    "integration_id",
    "integration_type",
    "integration_name",
    "connection_id",
    "connection_name",
    "connection_project_id",
    "connection_project_name",
    "is_active",
    "created_at",
    "updated_at",
}


def ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def test_projects_sort_by_completed_at(demo_api: Api) -> None:
    for order in ("asc", "desc"):
        body = ok(demo_api.get("/api/v1/projects", sort="projects:completed_at", order=order))
        done = [p["completed_at"] for p in body["result"]]
        # Nulls sort as lowest: first ascending, last descending.
        nulls = [d is None for d in done]
        assert nulls == sorted(nulls, reverse=order == "asc")
        dated = [d for d in done if d is not None]
        assert dated == sorted(dated, reverse=order == "desc")
    # The extension stays.
    ok(demo_api.get("/api/v1/projects", sort="projects:name"))
    assert demo_api.get("/api/v1/projects", sort="projects:bogus").status_code == 422


def test_every_demo_milestone_has_a_type(demo_api: Api) -> None:
    body = ok(demo_api.get("/api/v1/projects/1/milestones", expands="milestone_types"))
    assert body["result"]
    assert all(m["type_id"] is not None for m in body["result"])
    assert body["expands"]["milestone_types"]
    default = next(t for t in body["expands"]["milestone_types"] if t["is_default"])
    by_type = ok(demo_api.get("/api/v1/projects/1/milestones", type_id=str(default["id"])))
    assert by_type["total"] == body["total"]


def test_every_user_has_a_role_and_seeded_rows_a_creator(demo_api: Api) -> None:
    users = ok(demo_api.get("/api/v1/users"))["result"]
    assert users and all(isinstance(u["role_id"], int) for u in users)
    assert all(isinstance(u["created_by"], int) for u in users)
    roles = ok(demo_api.get("/api/v1/roles"))["result"]
    assert roles and all(isinstance(r["created_by"], int) for r in roles)


def test_issue_connections(demo_api: Api) -> None:
    body = ok(demo_api.get("/api/v1/issues/connections"))
    assert body["total"] == len(body["result"]) > 0
    for row in body["result"]:
        assert set(row) == CONNECTION_KEYS
        assert row["integration_type"] in (1, 2, 3, 4)
        if row["integration_type"] == 1:
            assert row["connection_id"] is None and row["connection_project_id"] is None
    issues = ok(demo_api.get("/api/v1/issues", per_page="100"))["result"]
    kinds = {i["type"] for i in issues}
    assert {r["integration_type"] for r in body["result"]} == kinds
    first = body["result"][0]
    only = ok(
        demo_api.get("/api/v1/issues/connections", integration_type=str(first["integration_type"]))
    )
    assert {r["integration_type"] for r in only["result"]} == {first["integration_type"]}
    named = ok(
        demo_api.get(
            "/api/v1/issues/connections", integration_name=first["integration_name"][:3].lower()
        )
    )
    assert first in named["result"]
    assert demo_api.get("/api/v1/issues/connections", integration_id="x").status_code == 422
    # The single-issue route still answers for ids.
    assert demo_api.get("/api/v1/issues/999999").status_code == 404


def test_zz_a_null_type_on_create_means_the_default_type(demo_api: Api) -> None:
    headers = {"Authorization": f"Bearer {demo_api.tokens['admin@example.com']}"}
    created = demo_api.client.post(
        "/api/v1/projects/1/milestones", json={"name": "M", "type_id": None}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["result"]["type_id"] is not None
