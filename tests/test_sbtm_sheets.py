"""Session sheets through the API (docs/sbtm-sheets.md): import all or nothing, 422 with
file and line, 409 on a file name imported before, replace, testers matched or created,
the sheet text of a session, export -> import with the same metrics, and permissions;
on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import service as auth
from charter.db.engine import Database
from charter.db.tables import sessions, users
from charter.projects import service as project_service
from charter.sbtm import read as sbtm_read
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import migrate

DATA = Path(__file__).parent / "data" / "sbtm"
ADMIN, MANAGER, TESTER, VIEWER, OUTSIDER = (
    "admin@example.com",
    "manager@example.com",
    "tester@example.com",
    "viewer@example.com",
    "outsider@example.com",
)
SHEET_A = (DATA / "et-mk-261103-a.ses").read_text()
SHEET_B = (DATA / "et-mk-261103-b.ses").read_text()


@dataclass
class World:
    client: TestClient[Any]
    db: Database
    tokens: dict[str, str]
    ids: dict[str, int]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def upload(
        self, files: list[tuple[str, str]], who: str = MANAGER, project: str = "p", **query: str
    ) -> httpx.Response:
        parts = [("files[]", (name, text.encode(), "text/plain")) for name, text in files]
        return self.client.post(
            f"/api/v1/projects/{self.ids[project]}/sbtm/sheets",
            files=parts,
            params=query,
            headers=self.auth(who),
        )

    def session_count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one())

    def user_count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[World]:
    db = migrate(fresh_database_url)
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with db.write() as conn:
        admin = user_service.new_user(conn, "Admin", ADMIN, is_admin=True)
        for email in (MANAGER, TESTER, VIEWER, OUTSIDER):
            ids[email] = user_service.new_user(conn, email.split("@")[0], email)
        ids["mira"] = user_service.new_user(conn, "Mira Kowalski", "mira@example.com")
        ids["p"] = project_service.new_project(conn, "P", created_by=admin)
        ids["q"] = project_service.new_project(conn, "Q", created_by=admin)
        for email, role in ((MANAGER, "manager"), (TESTER, "tester"), (VIEWER, "viewer")):
            project_service.add_member(conn, ids["p"], email, role)
        project_service.add_member(conn, ids["q"], OUTSIDER, "manager")
        for email in (ADMIN, MANAGER, TESTER, VIEWER, OUTSIDER):
            tokens[email] = auth.create_token(conn, email, "t")
    settings = Settings(database_url=fresh_database_url, auth_fail_limit=0)
    with TestClient(create_app(settings)) as client:
        yield World(client, db, tokens, ids)
    db.close()


def test_import_creates_closed_sessions_with_metrics(world: World) -> None:
    resp = world.upload(
        [("et-mk-261103-a.ses", SHEET_A), ("et-mk-261103-b.ses", SHEET_B)], who=MANAGER
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()["result"]
    assert [s["sheet_name"] for s in body["sessions"]] == [
        "et-mk-261103-a.ses",
        "et-mk-261103-b.ses",
    ]
    # Mira is matched by name; pat.lee@example.test is created, inactive
    assert body["users_created"] == [
        {
            "id": body["users_created"][0]["id"],
            "name": "pat.lee",
            "email": "pat.lee@example.test",
            "is_active": False,
        }
    ]
    a, b = (s["id"] for s in body["sessions"])
    assert body["sessions"][0]["tester_ids"] == [world.ids["mira"]]
    session = world.client.get(f"/api/v1/sessions/{a}", headers=world.auth(VIEWER)).json()
    assert session["result"]["is_closed"] is True
    assert session["result"]["started_at"].startswith("2026-11-03T09:15:00")
    assert session["result"]["elapsed"] == 90 * 60 * 1_000_000
    with world.db.read() as conn:
        m = sbtm_read.session_metrics(conn, a)
        assert (m.testers, m.duration, m.n_total) == (1, 1.0, 1.0)
        assert (m.bugs, m.issues) == (2, 1)
        assert m.n_charter == pytest.approx(0.85)
        mb = sbtm_read.session_metrics(conn, b)
        # short * 2 = 60/90 * 2 units, two testers
        assert mb.n_total == pytest.approx(2 * 2 * 60 / 90)
        sbtm = sbtm_read.session_sbtm(conn, a)
    assert sbtm["areas"] == ["Checkout | Discounts", "OS | Linux", "Strategy | Function Testing"]
    assert sbtm["data_files"][0] == "codes-expired.csv"


def test_text_plain_needs_a_name(world: World) -> None:
    url = f"/api/v1/projects/{world.ids['p']}/sbtm/sheets"
    headers = {**world.auth(MANAGER), "Content-Type": "text/plain"}
    resp = world.client.post(url, content=SHEET_A.encode(), headers=headers)
    assert resp.status_code == 422 and "name" in resp.json()["errors"]
    resp = world.client.post(
        url, content=SHEET_A.encode(), headers=headers, params={"name": "et-mk-261103-a.ses"}
    )
    assert resp.status_code == 201, resp.text


def test_one_bad_sheet_writes_nothing_and_names_every_line(world: World) -> None:
    bad = SHEET_A.replace("85/15", "85/25").replace("#DURATION\nnormal", "#DURATION\nmedium")
    before = (world.session_count(), world.user_count())
    resp = world.upload([("et-mk-261103-b.ses", SHEET_B), ("et-mk-261103-a.ses", bad)])
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    lines = bad.split("\n")
    assert errors == {
        f"et-mk-261103-a.ses:{lines.index('medium') + 1}": [
            "bad duration 'medium': expected short, normal or long, optionally * a number"
        ],
        f"et-mk-261103-a.ses:{lines.index('85/25') + 1}": ["C/O adds up to 110, not 100"],
    }
    assert (world.session_count(), world.user_count()) == before


def test_same_file_name_is_409_unless_replace(world: World) -> None:
    first = world.upload([("et-mk-261103-a.ses", SHEET_A)])
    assert first.status_code == 201
    again = world.upload([("et-mk-261103-a.ses", SHEET_A)])
    assert again.status_code == 409
    assert again.json()["errors"] == {"files": ["et-mk-261103-a.ses exists already."]}
    count = world.session_count()
    replaced = world.upload([("et-mk-261103-a.ses", SHEET_A)], replace="true")
    assert replaced.status_code == 201, replaced.text
    assert world.session_count() == count
    with world.db.read() as conn:
        named = conn.execute(
            sa.select(sa.func.count()).where(sessions.c.sheet_name == "et-mk-261103-a.ses")
        ).scalar_one()
    assert named == 1


def test_tester_may_import_but_not_create_users(world: World) -> None:
    resp = world.upload([("et-mk-261103-b.ses", SHEET_B)], who=TESTER)
    assert resp.status_code == 422
    line = SHEET_B.split("\n").index("pat.lee@example.test") + 1
    assert resp.json()["errors"] == {
        f"et-mk-261103-b.ses:{line}": ["unknown tester 'pat.lee@example.test'"]
    }
    assert world.upload([("et-mk-261103-a.ses", SHEET_A)], who=TESTER).status_code == 201
    # a manager who asks for no new users gets the same error
    resp = world.upload([("et-mk-261103-b.ses", SHEET_B)], create_users="false")
    assert resp.status_code == 422


def test_permissions(world: World) -> None:
    assert world.upload([("et-mk-261103-a.ses", SHEET_A)], who=VIEWER).status_code == 403
    assert world.upload([("et-mk-261103-a.ses", SHEET_A)], who=OUTSIDER).status_code == 403
    made = world.upload([("et-mk-261103-a.ses", SHEET_A)])
    sid = made.json()["result"]["sessions"][0]["id"]
    url = f"/api/v1/sessions/{sid}/sheet"
    assert world.client.get(url, headers=world.auth(VIEWER)).status_code == 200
    assert world.client.get(url, headers=world.auth(OUTSIDER)).status_code == 403
    assert world.client.get(url).status_code == 401
    missing = world.client.get("/api/v1/sessions/999999/sheet", headers=world.auth(ADMIN))
    assert missing.status_code == 404
    nothing = world.client.post(
        "/api/v1/projects/999999/sbtm/sheets",
        files=[("files[]", ("a.ses", b"x", "text/plain"))],
        headers=world.auth(ADMIN),
    )
    assert nothing.status_code == 404


def test_bad_requests(world: World) -> None:
    url = f"/api/v1/projects/{world.ids['p']}/sbtm/sheets"
    resp = world.client.post(url, json={"a": 1}, headers=world.auth(MANAGER))
    assert resp.status_code == 400
    resp = world.upload([("et-mk-261103-a.ses", SHEET_A)], bogus="1")
    assert resp.status_code == 422 and "bogus" in resp.json()["errors"]
    resp = world.client.post(
        url, files=[("other", ("a.ses", b"x", "text/plain"))], headers=world.auth(MANAGER)
    )
    assert resp.status_code == 422
    twice = world.upload([("et-mk-261103-a.ses", SHEET_A), ("et-mk-261103-a.ses", SHEET_A)])
    assert twice.status_code == 422


def test_sheet_text_and_export_import_round_trip(world: World) -> None:
    made = world.upload([("et-mk-261103-a.ses", SHEET_A), ("et-mk-261103-b.ses", SHEET_B)])
    assert made.status_code == 201, made.text
    ids = [s["id"] for s in made.json()["result"]["sessions"]]
    texts = {}
    for sid in ids:
        resp = world.client.get(f"/api/v1/sessions/{sid}/sheet", headers=world.auth(VIEWER))
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        name = resp.headers["content-disposition"].split('filename="')[1].rstrip('"')
        texts[name] = resp.text
    assert set(texts) == {"et-mk-261103-a.ses", "et-mk-261103-b.ses"}
    again = world.client.post(
        f"/api/v1/projects/{world.ids['q']}/sbtm/sheets",
        files=[("files[]", (n, t.encode(), "text/plain")) for n, t in texts.items()],
        headers=world.auth(ADMIN),
    )
    assert again.status_code == 201, again.text
    new_ids = {s["sheet_name"]: s["id"] for s in again.json()["result"]["sessions"]}
    with world.db.read() as conn:
        for sid, name in zip(ids, ("et-mk-261103-a.ses", "et-mk-261103-b.ses"), strict=True):
            old, new = (
                sbtm_read.session_metrics(conn, sid),
                sbtm_read.session_metrics(conn, new_ids[name]),
            )
            assert {f: getattr(old, f) for f in old.__struct_fields__ if f != "session_id"} == {
                f: getattr(new, f) for f in new.__struct_fields__ if f != "session_id"
            }
    # the text itself is stable: export of the re-imported session is the same
    for name, sid in new_ids.items():
        resp = world.client.get(f"/api/v1/sessions/{sid}/sheet", headers=world.auth(ADMIN))
        assert resp.text == texts[name]


def test_concurrent_replacing_imports_leave_one_session(world: World) -> None:
    """Four imports of the same sheet with replace, side by side (PostgreSQL runs them
    concurrently): each succeeds, one session with that name remains, and the project's
    counters equal a recount."""
    from concurrent.futures import ThreadPoolExecutor

    from charter.sbtm import sheet_import

    def one(_: int) -> int:
        with world.db.write() as conn:
            actor = sheet_import.command_actor(conn, ADMIN)
            done = sheet_import.import_sheets(
                conn, actor, world.ids["p"], [("et-mk-261103-a.ses", SHEET_A)], replace=True
            )
        return int(done.sessions[0]["id"])

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(one, range(4)))
    assert len(ids) == 4
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(sessions.c.id).where(sessions.c.sheet_name == "et-mk-261103-a.ses")
        ).all()
        assert len(rows) == 1
        count = conn.execute(
            sa.text("SELECT session_count FROM projects WHERE id = :p"), {"p": world.ids["p"]}
        ).scalar_one()
    assert count == 1
