"""The database's invariants hold under concurrency: 16 clients at once, through a real
`charter serve` with two worker processes (several DB threads each on PostgreSQL), on
SQLite and on PostgreSQL; the database is checked afterwards.

- Of concurrent writes with the same If-Match, exactly one wins (the others get 412).
- Concurrent removals and demotions leave a project at least one manager.
- Admins demoting or deactivating each other leave at least one active site admin.
- Concurrent moves never make a milestone cycle (and root_id stays the tree's top).
- Emails are unique case-insensitively (Unicode too): one of concurrent creates wins.
- Concurrent creates of the same tag, field system_name or member: never a 500; a
  unique key refused is a 409 naming the field, or the existing row.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.auth import service as auth
from charter.db.engine import Database
from charter.db.tables import milestones, project_members, roles, tags, users
from charter.http.etag import etag_for
from charter.users import service as user_service
from helpers_live import prepare_instance
from live import serving

CLIENTS = 16
# A real two-worker `charter serve` and 16 clients: a serial suite in `make test`.
pytestmark = pytest.mark.load

Call = Callable[[int, httpx.Client], httpx.Response]


@dataclass
class Live:
    base: str
    db: Database
    admin: dict[str, str]  # headers of the first admin (ada@example.com)
    project_id: int
    counter: list[int]

    def unique(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    def user(self, email: str, admin: bool = False) -> tuple[int, dict[str, str]]:
        """A new user and the headers of their API token."""
        with self.db.write() as conn:
            user_id = user_service.new_user(conn, email.split("@")[0], email, is_admin=admin)
            _, secret = auth.create_token_for_user(conn, user_id, "race")
        return user_id, {"Authorization": f"Bearer {secret}"}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = httpx.post(self.base + path, json=body, headers=self.admin, timeout=30)
        assert resp.status_code == 201, resp.text
        result: dict[str, Any] = resp.json()["result"]
        return result

    def race(self, call: Call, headers: list[dict[str, str]] | None = None) -> list[int]:
        """Run call(i, client) in CLIENTS threads released together; their statuses.
        Each thread has its own connection, opened before the start line."""
        barrier = threading.Barrier(CLIENTS)

        def one(i: int) -> httpx.Response:
            with httpx.Client(
                base_url=self.base, headers=(headers or [self.admin] * CLIENTS)[i], timeout=60
            ) as client:
                client.get("/api/v1/user")  # connect first
                barrier.wait(timeout=30)
                return call(i, client)

        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(pool.map(one, range(CLIENTS)))
        for resp in responses:
            assert resp.status_code < 500, resp.text
        return [resp.status_code for resp in responses]


@pytest.fixture(scope="module")
def live(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    inst = prepare_instance(module_database_url, "Races")
    saved = os.environ.get("CHARTER_AUTH_FAIL_LIMIT")
    os.environ["CHARTER_AUTH_FAIL_LIMIT"] = "0"  # deactivated racers fail to authenticate
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    db = Database(inst.url)
    try:
        with serving(inst.url, inst.token, log, workers=2) as base:
            yield Live(base, db, inst.headers, inst.project_id, [0])
    finally:
        db.close()
        if saved is None:
            os.environ.pop("CHARTER_AUTH_FAIL_LIMIT", None)
        else:
            os.environ["CHARTER_AUTH_FAIL_LIMIT"] = saved
    assert "Internal server error" not in log.read_text()


# --- If-Match: exactly one winner ------------------------------------------------------


def _session(live: Live) -> str:
    session = live.post(f"/api/v1/projects/{live.project_id}/sessions", {"name": "S"})
    return f"/api/v1/sessions/{session['id']}"


def _milestone(live: Live) -> str:
    body = {"name": live.unique("M")}
    milestone = live.post(f"/api/v1/projects/{live.project_id}/milestones", body)
    return f"/api/v1/milestones/{milestone['id']}"


def _config(live: Live) -> str:
    body = {"name": live.unique("C")}
    return f"/api/v1/configs/{live.post(f'/api/v1/projects/{live.project_id}/configs', body)['id']}"


def _project(live: Live) -> str:
    return f"/api/v1/projects/{live.post('/api/v1/projects', {'name': live.unique('P')})['id']}"


def _state(live: Live) -> str:
    return f"/api/v1/states/{live.post('/api/v1/states', {'name': live.unique('State ')})['id']}"


def _tag(live: Live) -> str:
    name = live.unique("tag-")
    live.post(f"/api/v1/projects/{live.project_id}/sessions", {"name": "T", "tags": [name]})
    with live.db.read() as conn:
        tag_id = conn.execute(sa.select(tags.c.id).where(tags.c.name == name)).scalar_one()
    return f"/api/v1/tags/{tag_id}"


RESULT_ETAGS: dict[str, str] = {}


def _result(live: Live) -> str:
    """A result (no GET of its own: its ETag is that of the body its writes answer)."""
    session = _session(live)
    resp = httpx.post(f"{live.base}{session}/results", json={"note": "1"}, headers=live.admin)
    assert resp.status_code == 201, resp.text
    path = f"/api/v1/sessions/results/{resp.json()['result']['id']}"
    RESULT_ETAGS[path] = etag_for(resp.content)
    return path


def _etag(live: Live, path: str) -> str:
    return RESULT_ETAGS.get(path) or httpx.get(live.base + path, headers=live.admin).headers["etag"]


def _user(live: Live) -> str:
    user_id, _ = live.user(f"{live.unique('ifmatch')}@example.com")
    return f"/api/v1/users/{user_id}"


TARGETS: dict[str, tuple[Callable[[Live], str], str]] = {
    "session": (_session, "name"),
    "milestone": (_milestone, "name"),
    "config": (_config, "name"),
    "project": (_project, "name"),
    "state": (_state, "name"),
    "tag": (_tag, "name"),
    "result": (_result, "note"),
    "user": (_user, "name"),
}


@pytest.mark.parametrize("kind", TARGETS)
def test_if_match_has_exactly_one_winner(live: Live, kind: str) -> None:
    make, field = TARGETS[kind]
    path = make(live)
    etag = _etag(live, path)

    def patch(i: int, client: httpx.Client) -> httpx.Response:
        return client.patch(path, json={field: f"racer-{kind}-{i}"}, headers={"If-Match": etag})

    codes = live.race(patch)
    assert sorted(codes) == [200] + [412] * (CLIENTS - 1), codes
    if kind != "result":
        stored = httpx.get(live.base + path, headers=live.admin).json()["result"][field]
        assert stored.startswith(f"racer-{kind}-")


@pytest.mark.parametrize("kind", ["session", "milestone", "config"])
def test_delete_with_if_match_has_exactly_one_winner(live: Live, kind: str) -> None:
    path = TARGETS[kind][0](live)
    etag = httpx.get(live.base + path, headers=live.admin).headers["etag"]
    codes = live.race(lambda _i, c: c.delete(path, headers={"If-Match": etag}))
    assert codes.count(204) == 1, codes
    assert set(codes) <= {204, 404, 412}, codes


def test_deleting_a_milestone_while_sessions_are_created_with_it(live: Live) -> None:
    """One client deletes a milestone while 15 create sessions naming it: never a 500
    (a foreign key refused after the checks passed is retried, then answered as the
    domain answers: 422 for a milestone that is gone, 409 for one in use)."""
    for _ in range(4):
        milestone = live.post(f"/api/v1/projects/{live.project_id}/milestones", {"name": "M"})

        def call(i: int, client: httpx.Client, mid: int = milestone["id"]) -> httpx.Response:
            if i == 0:
                return client.delete(f"/api/v1/milestones/{mid}")
            body = {"name": "S", "milestone_id": mid}
            return client.post(f"/api/v1/projects/{live.project_id}/sessions", json=body)

        statuses = live.race(call)
        assert statuses[0] in (204, 409), statuses
        assert set(statuses[1:]) <= {201, 422}, statuses
        with live.db.read() as conn:
            used = conn.execute(
                sa.text("SELECT count(*) FROM sessions WHERE milestone_id = :m"),
                {"m": milestone["id"]},
            ).scalar_one()
            exists = conn.execute(
                sa.text("SELECT count(*) FROM milestones WHERE id = :m"), {"m": milestone["id"]}
            ).scalar_one()
        assert (statuses[0] == 204) == (exists == 0)
        assert used == statuses[1:].count(201)


# --- managers, admins, milestone trees -------------------------------------------------


def _managers(db: Database, project_id: int) -> int:
    with db.read() as conn:
        stmt = (
            sa.select(sa.func.count())
            .select_from(project_members.join(roles, roles.c.id == project_members.c.role_id))
            .where(project_members.c.project_id == project_id, roles.c.system_name == "manager")
        )
        return int(conn.execute(stmt).scalar_one())


def test_removals_and_demotions_leave_a_manager(live: Live) -> None:
    project_id = live.post("/api/v1/projects", {"name": live.unique("Managed ")})["id"]
    # The admin created it and manages it; hand it to CLIENTS managers, then drop the admin.
    ids = [live.user(f"{live.unique('mgr')}@example.com")[0] for _ in range(CLIENTS)]
    for user_id in ids:
        path = f"/api/v1/projects/{project_id}/members/{user_id}"
        assert httpx.put(live.base + path, json={"role": "manager"}, headers=live.admin).is_success
    ada = f"{live.base}/api/v1/projects/{project_id}/members/1"
    assert httpx.delete(ada, headers=live.admin).status_code == 204

    def drop(i: int, client: httpx.Client) -> httpx.Response:
        path = f"/api/v1/projects/{project_id}/members/{ids[i]}"
        if i % 2:
            return client.put(path, json={"role": "tester"})
        return client.delete(path)

    codes = live.race(drop)
    assert _managers(live.db, project_id) == 1
    assert codes.count(409) == 1, codes
    assert set(codes) <= {200, 204, 409}, codes


def test_admins_demoting_each_other_leave_an_active_admin(live: Live) -> None:
    # The only two admins there are, each with CLIENTS / 2 clients demoting or
    # deactivating the other.
    with live.db.read() as conn:
        others = conn.execute(
            sa.select(users.c.id).where(users.c.is_admin.is_(True), users.c.id != 1)
        ).all()
    assert others == []
    racers = [(1, live.admin), live.user(f"{live.unique('admin')}@example.com", admin=True)]

    def demote(i: int, client: httpx.Client) -> httpx.Response:
        target = racers[(i + 1) % 2][0]
        body = {"is_admin": False} if i % 4 < 2 else {"is_active": False}
        return client.patch(f"/api/v1/users/{target}", json=body)

    try:
        codes = live.race(demote, [racers[i % 2][1] for i in range(CLIENTS)])
        with live.db.read() as conn:
            admins = conn.execute(
                sa.select(sa.func.count())
                .select_from(users)
                .where(users.c.is_admin.is_(True), users.c.is_active.is_(True))
            ).scalar_one()
        assert admins == 1, codes
        assert set(codes) <= {200, 401, 403, 409}, codes
    finally:  # the other tests act as ada@example.com; the other admin steps down
        with live.db.write() as conn:
            conn.execute(
                sa.update(users).where(users.c.id == 1).values(is_admin=True, is_active=True)
            )
            conn.execute(sa.update(users).where(users.c.id == racers[1][0]).values(is_admin=False))
            # Deactivation revoked ada's tokens for good (docs/security.md): a new one.
            _, secret = auth.create_token_for_user(conn, 1, "race again")
        live.admin["Authorization"] = f"Bearer {secret}"


def _cycles(db: Database, project_id: int) -> list[int]:
    """Milestones whose parent chain loops; also checks root_id is the chain's top."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(milestones.c.id, milestones.c.parent_id, milestones.c.root_id).where(
                milestones.c.project_id == project_id
            )
        ).all()
    parent = {r.id: r.parent_id for r in rows}
    looping = []
    for row in rows:
        seen, node = {row.id}, row.id
        while parent[node] is not None:
            node = parent[node]
            if node in seen:
                looping.append(row.id)
                break
            seen.add(node)
        else:
            assert row.root_id in ((None, row.id) if row.parent_id is None else (node,)), row
    return looping


def test_concurrent_moves_make_no_milestone_cycle(live: Live) -> None:
    path = f"/api/v1/projects/{live.project_id}/milestones"
    ids = [live.post(path, {"name": live.unique("Ring ")})["id"] for _ in range(CLIENTS)]

    def move(i: int, client: httpx.Client) -> httpx.Response:
        return client.patch(
            f"/api/v1/milestones/{ids[i]}", json={"parent_id": ids[(i + 1) % CLIENTS]}
        )

    codes = live.race(move)
    assert _cycles(live.db, live.project_id) == [], codes
    assert 422 in codes and set(codes) <= {200, 422}, codes


# --- unique keys -----------------------------------------------------------------------


@pytest.mark.parametrize("local", ["dupx", "Ärger"])
def test_one_of_concurrent_same_email_creates_wins(live: Live, local: str) -> None:
    local = live.unique(local)
    variants = [local, local.upper(), local.lower(), local.title()]

    def create(i: int, client: httpx.Client) -> httpx.Response:
        email = f"{variants[i % len(variants)]}@Example.com"
        return client.post("/api/v1/users", json={"name": f"Racer {i}", "email": email})

    responses: list[httpx.Response] = []

    def keep(i: int, client: httpx.Client) -> httpx.Response:
        resp = create(i, client)
        responses.append(resp)
        return resp

    codes = live.race(keep)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == CLIENTS - 1, codes
    assert all("email" in r.json()["errors"] for r in responses if r.status_code == 409)
    with live.db.read() as conn:
        keys = conn.execute(
            sa.select(users.c.email_key).where(users.c.email_key.like(f"%{local.casefold()}%"))
        ).all()
    assert len(keys) == 1


def test_concurrent_sessions_with_a_new_tag_make_one_tag(live: Live) -> None:
    # Tags are site-wide: sessions of different projects (whose writes do not wait on
    # each other) bring the same new tag.
    name = live.unique("fresh-")
    projects = [
        live.post("/api/v1/projects", {"name": live.unique("Tags ")})["id"] for _ in range(4)
    ]

    def create(i: int, client: httpx.Client) -> httpx.Response:
        path = f"/api/v1/projects/{projects[i % 4]}/sessions"
        return client.post(path, json={"name": f"S{i}", "tags": [name]})

    codes = live.race(create)
    assert codes == [201] * CLIENTS
    with live.db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).where(tags.c.name == name)).scalar_one()
    assert count == 1


def test_concurrent_fields_with_one_system_name(live: Live) -> None:
    template = live.post("/api/v1/templates", {"name": live.unique("Template ")})["id"]
    system_name = live.unique("same_")
    bodies: list[httpx.Response] = []

    def create(i: int, client: httpx.Client) -> httpx.Response:
        body = {"name": f"F{i}", "system_name": system_name, "type": "string"}
        resp = client.post(f"/api/v1/templates/{template}/fields", json=body)
        bodies.append(resp)
        return resp

    codes = live.race(create)
    assert codes.count(201) == 1 and codes.count(409) == CLIENTS - 1, codes
    assert all("system_name" in r.json()["errors"] for r in bodies if r.status_code == 409)


def test_concurrent_adds_of_one_member(live: Live) -> None:
    user_id, _ = live.user(f"{live.unique('member')}@example.com")
    path = f"/api/v1/projects/{live.project_id}/members/{user_id}"
    codes = live.race(lambda _i, c: c.put(path, json={"role": "tester"}))
    assert sorted(codes) == [200] * (CLIENTS - 1) + [201], codes
