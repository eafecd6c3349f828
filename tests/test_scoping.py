"""Nothing of a project reaches users who cannot see it: tags and issues (and their
session counts) are listed only as far as the caller's projects use them, sessions
are assigned only to who may run them, and a manager learns only of the users they
may know of (site admins: everyone, as GET /users shows them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import service as auth
from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.db.migrate import upgrade
from charter.projects import service as project_service
from charter.sessions import service as session_service
from charter.settings import Settings
from charter.users import service as user_service

ADMIN, MANAGER, TESTER, VIEWER = "admin@x.org", "manager@x.org", "tester@x.org", "viewer@x.org"
STRANGER, LONER = "stranger@x.org", "loner@x.org"  # manager of Q; member of nothing


@dataclass
class World:
    client: TestClient[Any]
    tokens: dict[str, str]
    ids: dict[str, int]

    def call(self, method: str, path: str, who: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, path, json=body, headers=headers)


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[World]:
    db = Database(module_database_url)
    upgrade(db)
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with db.write() as conn:
        for email in (ADMIN, MANAGER, TESTER, VIEWER, STRANGER, LONER):
            name = email.split("@")[0].title()
            ids[email] = user_service.new_user(conn, name, email, is_admin=email == ADMIN)
            tokens[email] = auth.create_token(conn, email, "tests")
        p = ids["p"] = project_service.new_project(conn, "P", created_by=None)
        q = ids["q"] = project_service.new_project(conn, "Q", created_by=None)
        for email, role in ((MANAGER, "manager"), (TESTER, "tester"), (VIEWER, "viewer")):
            project_service.add_member(conn, p, email, role)
        project_service.add_member(conn, q, STRANGER, "manager")
        issue_p = ids["issue_p"] = catalog_service.new_issue(conn, 4, "P-1", None, None)
        issue_q = ids["issue_q"] = catalog_service.new_issue(conn, 4, "Q-1", None, None)
        ids["issue_none"] = catalog_service.new_issue(conn, 4, "NONE-1", None, None)
        admin = ids[ADMIN]
        session_service.create_session(
            conn, p, admin, "p1", tags=["shared", "p-only"], issue_ids=[issue_p]
        )
        session_service.create_session(
            conn, q, admin, "q1", tags=["shared", "q-secret"], issue_ids=[issue_q]
        )
        session_service.create_session(conn, q, admin, "q2", tags=["shared"])
        ids["session_p"] = session_service.create_session(conn, p, admin, "p2")
    app = create_app(Settings(database_url=module_database_url, auth_fail_limit=0))
    with TestClient(app) as client:
        yield World(client, tokens, ids)
    db.close()


def _tags(world: World, who: str) -> dict[str, int]:
    body = world.call("GET", "/api/v1/tags", who).json()
    assert body["total"] == len(body["result"])
    return {t["name"]: t["session_count"] for t in body["result"]}


def test_tags_and_their_counts_only_of_the_callers_projects(world: World) -> None:
    assert _tags(world, ADMIN) == {"p-only": 1, "q-secret": 1, "shared": 3}
    for who in (MANAGER, TESTER, VIEWER):
        assert _tags(world, who) == {"p-only": 1, "shared": 1}, who
    assert _tags(world, STRANGER) == {"q-secret": 1, "shared": 2}
    assert _tags(world, LONER) == {}
    q_secret = next(
        t["id"]
        for t in world.call("GET", "/api/v1/tags", ADMIN).json()["result"]
        if t["name"] == "q-secret"
    )
    assert world.call("GET", f"/api/v1/tags/{q_secret}", TESTER).status_code == 404
    assert world.call("GET", f"/api/v1/tags/{q_secret}", STRANGER).json()["result"] == {
        "id": q_secret,
        "name": "q-secret",
        "session_count": 1,
    }


def test_issues_only_of_the_callers_projects(world: World) -> None:
    def listed(who: str) -> set[str]:
        return {i["display_id"] for i in world.call("GET", "/api/v1/issues", who).json()["result"]}

    assert listed(ADMIN) == {"P-1", "Q-1", "NONE-1"}
    assert listed(VIEWER) == {"P-1"}
    assert listed(STRANGER) == {"Q-1"}
    assert listed(LONER) == set()
    assert world.call("GET", f"/api/v1/issues/{world.ids['issue_q']}", TESTER).status_code == 404
    assert world.call("GET", f"/api/v1/issues/{world.ids['issue_p']}", TESTER).status_code == 200


def test_issue_connections_only_of_the_callers_projects(world: World) -> None:
    """GET /issues/connections is derived from the issues, so it is scoped like them: a
    user with no project learns of no tracker or external project."""
    path = "/api/v1/issues/connections"
    loner = world.call("GET", path, LONER)
    assert loner.status_code == 200, loner.text
    assert loner.json()["total"] == 0 and loner.json()["result"] == [], loner.text
    assert world.call("GET", path, TESTER).json()["total"] == 1  # P's Jira issue
    assert world.call("GET", path, ADMIN).json()["total"] >= 1


@pytest.mark.parametrize(
    ("assignee", "status"),
    [(STRANGER, 422), (LONER, 422), (VIEWER, 422), (TESTER, 200), (MANAGER, 200), (ADMIN, 200)],
)
def test_only_who_may_run_sessions_is_an_assignee(world: World, assignee: str, status: int) -> None:
    path = f"/api/v1/sessions/{world.ids['session_p']}"
    body = {"assignee_id": world.ids[assignee]}
    resp = world.call("PATCH", path + "?expands=users", TESTER, body)
    assert resp.status_code == status, resp.text
    if status == 422:
        assert "assignee_id" in resp.json()["errors"]
        assert assignee.split("@")[0].title() not in resp.text
    created = world.call(
        "POST", f"/api/v1/projects/{world.ids['p']}/sessions", TESTER, {"name": "a", **body}
    )
    assert created.status_code == (201 if status == 200 else 422), created.text


def test_an_unknown_assignee_gets_the_same_answer(world: World) -> None:
    path = f"/api/v1/sessions/{world.ids['session_p']}"
    unknown = world.call("PATCH", path, TESTER, {"assignee_id": 999999}).json()
    stranger = world.call("PATCH", path, TESTER, {"assignee_id": world.ids[STRANGER]}).json()
    assert unknown["errors"]["assignee_id"][0].replace("999999", "N") == stranger["errors"][
        "assignee_id"
    ][0].replace(str(world.ids[STRANGER]), "N")


def test_a_manager_adds_only_users_they_may_know_of(world: World) -> None:
    p = world.ids["p"]
    resp = world.call(
        "PUT", f"/api/v1/projects/{p}/members/{world.ids[LONER]}", MANAGER, {"role": "viewer"}
    )
    assert resp.status_code == 404, resp.text
    assert LONER not in resp.text
    assert (
        world.call("GET", f"/api/v1/projects/{p}/members/{world.ids[LONER]}", ADMIN).status_code
        == 404
    )
    # A manager of Q, where the stranger manages too, may add the stranger's co-member.
    q = world.ids["q"]
    assert (
        world.call(
            "PUT", f"/api/v1/projects/{q}/members/{world.ids[MANAGER]}", ADMIN, {"role": "viewer"}
        ).status_code
        == 201
    )
    added = world.call(
        "PUT", f"/api/v1/projects/{p}/members/{world.ids[STRANGER]}", MANAGER, {"role": "viewer"}
    )
    assert added.status_code == 201, added.text
    # A site admin adds anyone.
    loner = world.call(
        "PUT", f"/api/v1/projects/{p}/members/{world.ids[LONER]}", ADMIN, {"role": "viewer"}
    )
    assert loner.status_code == 201, loner.text
