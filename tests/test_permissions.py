"""Permissions on EVERY route of the application, enumerated from the app itself.

Each (method, path) the app serves must be classified in RULES below:
- `project(action)`: the route names an object of a project and needs `action` there
  (read / run / manage, charter/auth/permissions.py); non-members get 403;
- `admin()`: site admins only; everyone else gets 403;
- `anyone(reason)`: the explicit allow-list of routes any authenticated user may use;
- `own(reason)`: any user may call it, on their own objects only (another's is 404).
A route the app serves that is not in RULES fails `test_every_route_is_classified`, so a
new route cannot ship without a decision about who may call it.

The dataset: a site admin; project P with a manager, a tester and a viewer; an outsider
who manages another project Q only; in P one object of every kind a path can name, and
one site-wide object of every kind. Every refused call (401, 403, 404) must leave every
table exactly as it was. Writes carry a body that would succeed for an admin
(`test_write_bodies_are_valid` proves it), and refused writes are sent a second time
with an unknown field, so the permission check, not body validation, must decide.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from PIL import Image

from charter.app import create_app
from charter.attachments import service as attachment_service
from charter.attachments import storage
from charter.auth import service as auth
from charter.auth.service import User
from charter.automation import service as automation_service
from charter.catalog import read as catalog_read
from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.db.tables import automation_runs, metadata, tags
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sbtm import service as sbtm_service
from charter.sessions import service as session_service
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
MANAGER = "manager@example.com"  # manager of P
TESTER = "tester@example.com"  # tester of P
VIEWER = "viewer@example.com"  # viewer of P
OUTSIDER = "outsider@example.com"  # manager of Q, not a member of P
NON_ADMINS = (OUTSIDER, VIEWER, TESTER, MANAGER)
ROLE_IN_P: dict[str, str | None] = {
    MANAGER: "manager",
    TESTER: "tester",
    VIEWER: "viewer",
    OUTSIDER: None,
}
MAY = {
    "viewer": {"read"},
    "tester": {"read", "run"},
    "manager": {"read", "run", "manage"},
}
UNKNOWN_IDS = ("999999", "abc")
READS = {"GET"}
JUNK_BODY = {"no_such_field": 1}  # a refused write must be 403 whatever the body holds
BAD_TOKEN = "Bearer charter_this-token-does-not-exist-0000000000000000000000"


# --- the classification of every route ------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str  # "project" | "admin" | "anyone" | "own"
    action: str | None = None  # for "project": read / run / manage
    body: Any = None  # a body the write would accept (None: the route reads no body)
    reason: str = ""  # for "anyone" / "own": why any user may call it


def project(action: str, body: Any = None) -> Rule:
    return Rule("project", action, body)


def admin(body: Any = None) -> Rule:
    return Rule("admin", None, body)


def anyone(reason: str, body: Any = None) -> Rule:
    return Rule("anyone", None, body, reason)


def own(reason: str) -> Rule:
    return Rule("own", None, None, reason)


def of_projects(reason: str) -> Rule:
    """A read of an object that projects use (the dataset's are P's): its members read
    it, anyone else gets 404."""
    return Rule("of_projects", None, None, reason)


@dataclass(frozen=True)
class Upload:
    """A multipart body (the attachment uploads): form field -> (file name, bytes)."""

    files: tuple[tuple[str, tuple[str, bytes, str]], ...]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


UPLOAD = Upload((("files[]", ("shot.png", _png(), "image/png")),))
UPLOAD_ONE = Upload((("file", ("log.txt", b"log", "text/plain")),))
NAME = {"name": "x"}
SHEET = (Path(__file__).parent / "data" / "sbtm" / "et-mk-261103-b.ses").read_bytes()
SHEETS = Upload((("files[]", ("et-mk-261103-b.ses", SHEET, "text/plain")),))
CATALOG = "site-wide reference data: every authenticated user reads it"
SCOPED = "lists only what the caller's projects use"
USED_BY_P = "used by P: P's members read it, anyone else 404"
P_ = "/api/v1/projects/{project_id:str}"
S_ = "/api/v1/sessions/{session_id:str}"
A_ = "/api/v1/automation"

RULES: dict[tuple[str, str], Rule] = {
    # sessions and their timers (charter/sessions/routes.py)
    ("GET", f"{P_}/sessions"): project("read"),
    ("POST", f"{P_}/sessions"): project("run", NAME),
    ("GET", S_): project("read"),
    ("PATCH", S_): project("run", NAME),
    ("DELETE", S_): project("manage"),
    ("POST", f"{S_}/start"): project("run"),
    ("POST", f"{S_}/pause"): project("run"),
    ("POST", f"{S_}/resume"): project("run"),
    ("POST", f"{S_}/close"): project("run"),
    ("POST", f"{S_}/reopen"): project("run"),
    # SBTM debriefs (charter/debriefs/routes.py): testers submit, managers debrief
    ("GET", f"{S_}/sheet/problems"): project("read"),
    ("POST", f"{S_}/submit"): project("run", {"force": True}),
    ("GET", f"{S_}/debrief"): project("read"),
    ("PUT", f"{S_}/debrief"): project("manage", {"past": "x", "outlook": ["Explore x"]}),
    ("POST", f"{S_}/debrief/follow-ups"): project("manage", {"items": [0]}),
    ("POST", f"{S_}/debrief/return"): project("manage", {"comment": "x"}),
    ("POST", f"{S_}/debrief/approve"): project("manage"),
    # results (charter/results/routes.py)
    ("GET", f"{S_}/results"): project("read"),
    ("POST", f"{S_}/results"): project("run", {"note": "x"}),
    ("PATCH", "/api/v1/sessions/results/{result_id:str}"): project("run", {"note": "x"}),
    ("DELETE", "/api/v1/sessions/results/{result_id:str}"): project("run"),
    # attachments (charter/attachments/routes.py); the dataset's attachment is id 1
    ("GET", f"{S_}/attachments"): project("read"),
    ("POST", f"{S_}/attachments"): project("run", UPLOAD),
    ("POST", f"{S_}/attachments/single"): project("run", UPLOAD_ONE),
    ("DELETE", f"{S_}/attachments"): project("run", {"ids": [1]}),
    ("GET", "/api/v1/attachments/{attachment_id:str}"): project("read"),
    ("GET", "/api/v1/attachments/{attachment_id:str}/download"): project("read"),
    ("GET", "/api/v1/attachments/{attachment_id:str}/thumbnail"): project("read"),
    ("GET", "/api/v1/attachments/{attachment_id:str}/preview"): project("read"),
    # session sheets (charter/sbtm/sheet_routes.py)
    ("POST", f"{P_}/sbtm/sheets"): project("run", SHEETS),
    ("GET", f"{S_}/sheet"): project("read"),
    # projects and the current user (charter/projects/routes.py)
    ("GET", "/api/v1/projects"): anyone("lists only the projects the caller may see"),
    ("POST", "/api/v1/projects"): admin(NAME),
    ("GET", P_): project("read"),
    ("PATCH", P_): project("manage", NAME),
    ("POST", f"{P_}/complete"): project("manage"),
    ("POST", f"{P_}/reopen"): project("manage"),
    ("GET", "/api/v1/user"): anyone("the caller's own profile"),
    # members and configurations (charter/projects/routes.py)
    ("GET", f"{P_}/members"): project("read"),
    ("GET", f"{P_}/members/{{user_id:str}}"): project("read"),
    ("PUT", f"{P_}/members/{{user_id:str}}"): project("manage", {"role": "tester"}),
    ("DELETE", f"{P_}/members/{{user_id:str}}"): project("manage"),
    ("GET", f"{P_}/configs"): project("read"),
    ("POST", f"{P_}/configs"): project("manage", NAME),
    ("GET", "/api/v1/configs/{config_id:str}"): project("read"),
    ("PATCH", "/api/v1/configs/{config_id:str}"): project("manage", NAME),
    ("DELETE", "/api/v1/configs/{config_id:str}"): project("manage"),
    # milestones (charter/milestones/routes.py)
    ("GET", f"{P_}/milestones"): project("read"),
    ("POST", f"{P_}/milestones"): project("manage", NAME),
    ("GET", "/api/v1/milestones/{milestone_id:str}"): project("read"),
    ("PATCH", "/api/v1/milestones/{milestone_id:str}"): project("manage", NAME),
    ("DELETE", "/api/v1/milestones/{milestone_id:str}"): project("manage"),
    ("POST", "/api/v1/milestones/{milestone_id:str}/complete"): project("manage"),
    ("POST", "/api/v1/milestones/{milestone_id:str}/reopen"): project("manage"),
    # site-wide reference data (charter/catalog/routes.py)
    ("GET", "/api/v1/templates"): anyone(CATALOG),
    ("POST", "/api/v1/templates"): admin(NAME),
    ("GET", "/api/v1/templates/{template_id:str}"): anyone(CATALOG),
    ("PATCH", "/api/v1/templates/{template_id:str}"): admin(NAME),
    ("GET", "/api/v1/templates/{template_id:str}/fields"): anyone(CATALOG),
    ("POST", "/api/v1/templates/{template_id:str}/fields"): admin(
        {"name": "x", "system_name": "x_field", "type": "string"}
    ),
    ("GET", "/api/v1/fields/{field_id:str}"): anyone(CATALOG),
    ("PATCH", "/api/v1/fields/{field_id:str}"): admin(NAME),
    ("DELETE", "/api/v1/fields/{field_id:str}"): admin(),
    ("GET", "/api/v1/fields/{field_id:str}/values"): anyone(CATALOG),
    ("POST", "/api/v1/fields/{field_id:str}/values"): admin(NAME),
    ("GET", "/api/v1/fields/values/{value_id:str}"): anyone(CATALOG),
    ("PATCH", "/api/v1/fields/values/{value_id:str}"): admin(NAME),
    ("DELETE", "/api/v1/fields/values/{value_id:str}"): admin(),
    ("GET", "/api/v1/states"): anyone(CATALOG),
    ("POST", "/api/v1/states"): admin(NAME),
    ("GET", "/api/v1/states/{state_id:str}"): anyone(CATALOG),
    ("PATCH", "/api/v1/states/{state_id:str}"): admin(NAME),
    ("DELETE", "/api/v1/states/{state_id:str}"): admin(),
    ("GET", "/api/v1/statuses"): anyone(CATALOG),
    ("GET", "/api/v1/statuses/{status_id:str}"): anyone(CATALOG),
    ("PATCH", "/api/v1/statuses/{status_id:str}"): admin(NAME),
    ("GET", "/api/v1/issues"): anyone(SCOPED),
    ("GET", "/api/v1/issues/connections"): anyone(SCOPED),
    ("POST", "/api/v1/issues"): admin({"type": 1, "display_id": "X-1"}),
    ("GET", "/api/v1/issues/{issue_id:str}"): of_projects(USED_BY_P),
    ("DELETE", "/api/v1/issues/{issue_id:str}"): admin(),
    ("GET", "/api/v1/tags"): anyone(SCOPED),
    ("GET", "/api/v1/tags/{tag_id:str}"): of_projects(USED_BY_P),
    ("PATCH", "/api/v1/tags/{tag_id:str}"): admin(NAME),
    ("DELETE", "/api/v1/tags/{tag_id:str}"): admin(),
    # users, roles, groups (charter/users/routes.py)
    ("GET", f"{P_}/users"): project("read"),
    ("GET", "/api/v1/users"): admin(),
    ("POST", "/api/v1/users"): admin({"name": "x", "email": "x@example.com"}),
    ("GET", "/api/v1/users/{user_id:str}"): admin(),
    ("PATCH", "/api/v1/users/{user_id:str}"): admin(NAME),
    ("GET", "/api/v1/roles"): admin(),
    ("GET", "/api/v1/roles/{role_id:str}"): admin(),
    ("GET", "/api/v1/groups"): admin(),
    ("GET", "/api/v1/groups/{group_id:str}"): admin(),
    # the caller's own API tokens (charter/users/routes.py)
    ("GET", "/api/v1/tokens"): anyone("lists only the caller's own tokens"),
    ("POST", "/api/v1/tokens"): anyone("creates a token for the caller only", NAME),
    ("DELETE", "/api/v1/tokens/{token_id:str}"): own(
        "revokes one of the caller's own tokens; another user's token is 404"
    ),
    # automation: runs, threads, tests and sources (automation/routes.py); testers
    # submit, managers delete. Writes in this order: the thread is completed after its
    # append, the run last.
    ("GET", f"{P_}/automation/runs"): project("read"),
    ("POST", f"{P_}/automation/runs"): project("run", {"name": "x", "source": "ci"}),
    ("GET", f"{A_}/runs/{{automation_run_id:str}}"): project("read"),
    ("GET", f"{A_}/runs/{{automation_run_id:str}}/tests"): project("read"),
    ("POST", f"{A_}/runs/{{automation_run_id:str}}/threads"): project("run", {}),
    ("POST", f"{A_}/runs/threads/{{automation_run_thread_id:str}}/append"): project(
        "run", {"tests": [{"name": "t", "status": "passed"}]}
    ),
    ("POST", f"{A_}/runs/{{automation_run_id:str}}/append"): project(
        "run", {"links": [{"name": "CI", "url": "https://ci.example.com/1"}]}
    ),
    ("POST", f"{A_}/runs/threads/{{automation_run_thread_id:str}}/complete"): project("run", {}),
    ("POST", f"{A_}/runs/{{automation_run_id:str}}/complete"): project("run", {}),
    ("DELETE", f"{A_}/runs/{{automation_run_id:str}}"): project("manage"),
    ("GET", f"{P_}/automation/sources"): project("read"),
    ("GET", f"{A_}/sources/{{automation_source_id:str}}"): project("read"),
    # SBTM (charter/sbtm/routes.py, kinds in charter/catalog/routes.py): managers
    # manage areas, kinds and timeboxes; testers write a session's SBTM data
    ("GET", f"{P_}/areas"): project("read"),
    ("POST", f"{P_}/areas"): project("manage", NAME),
    ("POST", f"{P_}/areas/import"): project("manage", {"areas": ["y | z"]}),
    ("GET", "/api/v1/areas/{area_id:str}"): project("read"),
    ("PATCH", "/api/v1/areas/{area_id:str}"): project("manage", {"name": "P | area"}),
    ("DELETE", "/api/v1/areas/{area_id:str}"): project("manage"),
    ("GET", f"{P_}/kinds"): project("read"),
    ("POST", f"{P_}/kinds"): project("manage", {"name": "x", "category": "bug"}),
    ("GET", "/api/v1/kinds/{kind_id:str}"): project("read"),
    ("PATCH", "/api/v1/kinds/{kind_id:str}"): project("manage", NAME),
    ("DELETE", "/api/v1/kinds/{kind_id:str}"): project("manage"),
    ("GET", f"{P_}/timeboxes"): project("read"),
    ("PATCH", f"{P_}/timeboxes"): project("manage", {"long": 150}),
    ("GET", f"{S_}/sbtm"): project("read"),
    ("PATCH", f"{S_}/sbtm"): project(
        "run", {"pct_test": 70, "pct_bug": 20, "pct_setup": 10, "areas": ["P area"]}
    ),
    ("GET", f"{P_}/sbtm/sessions"): project("read"),
    ("GET", f"{P_}/sbtm/areas"): project("read"),
    ("GET", f"{P_}/sbtm/testers"): project("read"),
    ("GET", f"{P_}/sbtm/days"): project("read"),
    # the benchmark floor, served only with CHARTER_BENCH_ROUTES=1
    # (charter/sessions/bench_routes.py)
    ("GET", "/api/v1/bench/floor/{project_id:str}"): project("read"),
}

# Which dataset object each path parameter names.
PARAM_OBJECTS = {
    "project_id": "project",
    "session_id": "session",
    "result_id": "result",
    "milestone_id": "milestone",
    "config_id": "config",
    "template_id": "template",
    "field_id": "field",
    "value_id": "value",
    "state_id": "state",
    "status_id": "status",
    "issue_id": "issue",
    "tag_id": "tag",
    "user_id": "tester",  # a member of P, for members/{user_id}; any user for users/{id}
    "role_id": "role",
    "group_id": "group",
    "token_id": "token",  # one of the admin's tokens
    "automation_run_id": "automation_run",
    "automation_run_thread_id": "automation_thread",
    "automation_source_id": "automation_source",
    "attachment_id": "attachment",
    "area_id": "area",
    "kind_id": "kind",
}
PARAM = re.compile(r"\{(\w+):\w+\}")


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every bearer-token API route `app` serves (under /api/v1),
    without the automatic HEAD / OPTIONS. The web UI (cookie sign-in) and the
    unauthenticated probes /health and /ready have their own tests."""
    found = set()
    for route in app.routes:
        if not route.path.startswith("/api/v1/"):
            continue
        assert isinstance(route, HTTPRoute), f"not an HTTP route: {route.path}"
        for method in route.route_handler_map:
            if method not in ("HEAD", "OPTIONS"):
                found.add((str(method), route.path))
    return found


def fill(path: str, ids: dict[str, int], **override: str) -> str:
    """The path with each parameter set to its dataset object (or to `override`)."""
    return PARAM.sub(lambda m: override.get(m[1], str(ids[PARAM_OBJECTS[m[1]]])), path)


def params_of(path: str) -> list[str]:
    return PARAM.findall(path)


# --- the dataset ------------------------------------------------------------------------


def build_dataset(db: Database) -> dict[str, int]:
    """Users, P and Q, and one object of every kind a path can name; returns their ids."""
    ids: dict[str, int] = {}
    with db.write() as conn:
        admin_id = user_service.new_user(conn, "Site Admin", ADMIN, is_admin=True)
        ids["admin"] = admin_id
        for email in NON_ADMINS:
            ids[email.split("@")[0]] = user_service.new_user(conn, email.split("@")[0], email)
        p = ids["project"] = project_service.new_project(conn, "P", created_by=admin_id)
        q = ids["other_project"] = project_service.new_project(conn, "Q", created_by=admin_id)
        for email, role in ROLE_IN_P.items():
            if role is not None:
                project_service.add_member(conn, p, email, role)
        project_service.add_member(conn, q, OUTSIDER, "manager")

        ids["config"] = catalog_service.new_config(conn, p, "P config")
        ids["milestone"] = milestone_service.new_milestone(
            conn, p, "P milestone", created_by=admin_id
        )
        ids["template"] = catalog_service.new_template(conn, "P template")
        ids["field"] = catalog_service.new_field(conn, ids["template"], "Area", "area", "dropdown")
        (ids["value"],) = catalog_service.new_field_values(
            conn, ids["field"], [("Checkout", None, None)]
        )
        ids["state"] = catalog_service.new_state(conn, "Blocked", display_order=9)
        ids["status"] = 2  # seeded by the first migration
        ids["issue"] = catalog_service.new_issue(conn, 1, "P-1")
        ids["session"] = session_service.create_session(
            conn,
            p,
            ids["manager"],
            "P session",
            template_id=ids["template"],
            config_id=ids["config"],
            milestone_id=ids["milestone"],
            tags=["p-tag"],
            issue_ids=[ids["issue"]],
        )
        (ids["result"],) = result_service.add_results(
            conn, ids["session"], ids["tester"], [{"note": "n"}]
        )
        ids["tag"] = conn.execute(sa.select(tags.c.id).where(tags.c.name == "p-tag")).scalar_one()
        ids["role"] = user_service.create_role(conn, "Lead", "lead", permissions=7)
        ids["group"] = user_service.create_group(conn, "QA", [ids["tester"]], created_by=admin_id)
        ids["token"], _secret = auth.create_token_for_user(conn, admin_id, "admin's own")
        ids["q_session"] = session_service.create_session(conn, q, ids["outsider"], "Q session")
        tester = auth.user_by_id(conn, ids["tester"])
        assert tester is not None
        as_tester = User(tester["id"], tester["name"], tester["email"], False, None, None, None)
        run = ids["automation_run"] = automation_service.create_run(
            conn, as_tester, p, {"name": "P run", "source": "p-suite"}
        )
        ids["automation_thread"] = automation_service.create_thread(conn, as_tester, run, {})
        ids["automation_source"] = conn.execute(
            sa.select(automation_runs.c.source_id).where(automation_runs.c.id == run)
        ).scalar_one()
        ids["attachment"] = _attach(conn, ids["session"], ids["tester"])
        (ids["area"],) = sbtm_service.area_ids_for(conn, p, ["P area"], admin_id)
        ids["kind"] = catalog_read.kind_rows(conn, p)[-1]["id"]
    return ids


def _attach(conn: Any, session_id: int, user_id: int) -> int:
    """One image attachment (id 1), stored in the database backend (no folder needed)."""
    row = conn.execute(sa.text("SELECT * FROM users WHERE id = :id"), {"id": user_id})
    tester = auth.user_of(row.mappings().one())
    with tempfile.TemporaryDirectory() as folder:
        stager = storage.Stager(Path(folder), 10**6, "file")
        stager.write(_png())
        received = attachment_service.Received("shot.png", stager.finish())
        attachment_service.make_thumbnails([received], Path(folder))
        (attachment_id,) = attachment_service.add_attachments(
            conn, tester, session_id, [received], {}, Path(folder), "database"
        )
    assert attachment_id == 1
    return attachment_id


# --- calling and checking ---------------------------------------------------------------


@dataclass
class Caller:
    client: TestClient[Any]
    tokens: dict[str, str]

    def __call__(
        self, method: str, path: str, who: str | None, body: Any = None, header: str = ""
    ) -> httpx.Response:
        headers = {}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        elif header:
            headers["Authorization"] = header
        if body is None:
            return self.client.request(method, path, headers=headers)
        if isinstance(body, Upload):
            return self.client.request(method, path, files=list(body.files), headers=headers)
        return self.client.request(method, path, json=body, headers=headers)


def expected_for(rule: Rule, method: str, who: str) -> int | None:
    """The status a non-admin must get, or None for an allowed write (not sent here)."""
    if rule.kind == "admin":
        return 403
    if rule.kind == "own":
        return 404  # always aimed at the admin's token
    if rule.kind == "anyone":
        return 200 if method in READS else None
    if rule.kind == "of_projects":
        return 200 if ROLE_IN_P[who] is not None else 404
    role = ROLE_IN_P[who]
    if role is not None and rule.action in MAY[role]:
        return 200 if method in READS else None
    return 403


class Failures(list[str]):
    def check(self, resp: httpx.Response, method: str, path: str, who: str, want: int) -> None:
        if resp.status_code != want:
            self.append(
                f"{method} {path} as {who}: expected {want}, got {resp.status_code} "
                f"{resp.text[:160]}"
            )


def snapshot(db: Database) -> tuple[dict[str, int], dict[str, list[tuple[Any, ...]]]]:
    """(row count of every table in the database, every row of every schema table);
    api_tokens.last_used_at is left out: authenticating may refresh it, and so are the
    throttle counts, which a failed authentication adds to by design."""
    with db.read() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n != "throttle_counters"]
        counts = {
            n: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one() for n in names
        }
        rows = {}
        for table in metadata.sorted_tables:
            if table.name == "throttle_counters":
                continue
            columns = [
                c for c in table.c if not (table.name == "api_tokens" and c.name == "last_used_at")
            ]
            found = conn.execute(sa.select(*columns)).all()
            rows[table.name] = sorted((tuple(r) for r in found), key=repr)
    return counts, rows


def assert_unchanged(db: Database, before: Any) -> None:
    counts, rows = snapshot(db)
    assert counts == before[0], "row counts changed: " + ", ".join(
        f"{n} {before[0].get(n)} -> {counts.get(n)}"
        for n in sorted(set(counts) | set(before[0]))
        if counts.get(n) != before[0].get(n)
    )
    changed = [name for name in rows if rows[name] != before[1][name]]
    assert not changed, f"rows changed in: {changed}"


def bodies(rule: Rule, method: str) -> list[Any]:
    """The bodies a refused call is sent: the valid one, then one with an unknown field."""
    return [rule.body] if method in READS else [rule.body, JUNK_BODY]


def check_unauthenticated(
    call: Caller, routes: set[tuple[str, str]], ids: dict[str, int]
) -> Failures:
    failures = Failures()
    for method, template in sorted(routes):
        path, rule = fill(template, ids), RULES[(method, template)]
        for header in ("", BAD_TOKEN, "Basic YWRtaW46YWRtaW4="):
            resp = call(method, path, None, rule.body, header=header)
            failures.check(resp, method, path, f"auth {header[:6] or 'missing'!r}", 401)
    return failures


def check_unknown_ids(call: Caller, routes: set[tuple[str, str]], ids: dict[str, int]) -> Failures:
    failures = Failures()
    for method, template in sorted(routes):
        rule = RULES[(method, template)]
        for name in params_of(template):
            for unknown in UNKNOWN_IDS:
                path = fill(template, ids, **{name: unknown})
                failures.check(call(method, path, ADMIN, rule.body), method, path, "admin", 404)
    return failures


def check_non_admins(
    call: Caller, routes: set[tuple[str, str]], ids: dict[str, int], users: tuple[str, ...]
) -> tuple[Failures, int]:
    """Every non-admin on every route: 403 / 404 where refused, 200 on allowed reads."""
    failures, made = Failures(), 0
    for method, template in sorted(routes):
        path, rule = fill(template, ids), RULES[(method, template)]
        for who in users:
            want = expected_for(rule, method, who)
            if want is None:
                continue
            for body in bodies(rule, method):
                failures.check(call(method, path, who, body), method, path, who, want)
                made += 1
    return failures, made


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ids(module_database_url: str) -> dict[str, int]:
    db = migrate(module_database_url)
    try:
        return build_dataset(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def api(ids: dict[str, int], module_database_url: str) -> Iterator[Api]:
    yield from open_api(module_database_url)


@pytest.fixture(scope="module")
def call(api: Api) -> Caller:
    return Caller(api.client, api.tokens)


@pytest.fixture(scope="module")
def served(module_database_url: str) -> set[tuple[str, str]]:
    """The routes of the application as configured by default."""
    return app_routes(create_app(Settings(database_url=module_database_url)))


@pytest.fixture(scope="module")
def bench_only(module_database_url: str, served: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The routes served only with CHARTER_BENCH_ROUTES=1."""
    app = create_app(Settings(database_url=module_database_url, bench_routes=True))
    return app_routes(app) - served


@pytest.fixture(scope="module")
def bench_call(api: Api, module_database_url: str) -> Iterator[Caller]:
    app = create_app(Settings(database_url=module_database_url, bench_routes=True))
    with TestClient(app) as client:
        yield Caller(client, api.tokens)


# --- tests ------------------------------------------------------------------------------


def test_every_route_is_classified(
    served: set[tuple[str, str]], bench_only: set[tuple[str, str]]
) -> None:
    everything = served | bench_only
    assert len(served) > 60, sorted(served)
    unclassified = sorted(everything - set(RULES))
    assert not unclassified, (
        f"routes with no permission rule in tests/test_permissions.py: {unclassified}"
    )
    stale = sorted(set(RULES) - everything)
    assert not stale, f"rules for routes the app does not serve: {stale}"
    for (method, path), rule in RULES.items():
        assert rule.kind in ("project", "admin", "anyone", "own", "of_projects"), (method, path)
        if rule.kind in ("anyone", "own", "of_projects"):
            assert rule.reason, f"{method} {path}: an allow-listed route needs a reason"
        if rule.kind == "project":
            assert rule.action in ("read", "run", "manage"), (method, path)
            assert "{" in path, f"{method} {path}: a project route must name an object"
            if method in READS:
                assert rule.action == "read", (method, path)
        # DELETE with a body: the attachments' {"ids": [...]}
        assert (rule.body is None) or method in ("POST", "PATCH", "PUT", "DELETE"), (method, path)


def test_missing_or_bad_token_is_401_on_every_route(
    api: Api, call: Caller, ids: dict[str, int], served: set[tuple[str, str]]
) -> None:
    before = snapshot(api.db)
    failures = check_unauthenticated(call, served, ids)
    assert not failures, "\n".join(failures)
    assert_unchanged(api.db, before)


def test_unknown_ids_are_404_for_the_admin(
    api: Api, call: Caller, ids: dict[str, int], served: set[tuple[str, str]]
) -> None:
    before = snapshot(api.db)
    failures = check_unknown_ids(call, served, ids)
    assert not failures, "\n".join(failures)
    assert_unchanged(api.db, before)


def test_non_admins_are_refused_and_viewers_read(
    api: Api, call: Caller, ids: dict[str, int], served: set[tuple[str, str]]
) -> None:
    """The outsider gets 403 on every project and admin route (never 2xx); the viewer
    403 on every write and 200 on every read of P; the tester 403 on managing P; the
    manager of P 403 on site administration. Nothing changes."""
    before = snapshot(api.db)
    failures, made = check_non_admins(call, served, ids, NON_ADMINS)
    assert made > 300
    assert not failures, f"{len(failures)} of {made} calls:\n" + "\n".join(failures)
    assert_unchanged(api.db, before)


def test_outsider_never_gets_2xx_from_a_checked_route(
    call: Caller, ids: dict[str, int], served: set[tuple[str, str]]
) -> None:
    """The allow-list is the only place an outsider may succeed."""
    succeeded = []
    for method, template in sorted(served):
        rule = RULES[(method, template)]
        if rule.kind == "anyone" or method not in READS:
            continue  # writes are covered (and refused) above; no write is sent twice
        resp = call(method, fill(template, ids), OUTSIDER)
        if resp.is_success:
            succeeded.append(f"{method} {template}: {resp.status_code}")
    assert not succeeded, succeeded


def test_allow_listed_reads_show_only_the_callers_own(call: Caller, ids: dict[str, int]) -> None:
    me = call("GET", "/api/v1/user", OUTSIDER).json()
    assert me["id"] == ids["outsider"]

    projects = call("GET", "/api/v1/projects", OUTSIDER, None).json()["result"]
    assert {p["id"] for p in projects} == {ids["other_project"]}
    projects = call("GET", "/api/v1/projects", VIEWER, None).json()["result"]
    assert {p["id"] for p in projects} == {ids["project"]}

    for who in NON_ADMINS:
        tokens = call("GET", "/api/v1/tokens", who).json()["result"]
        assert tokens and ids["token"] not in {t["id"] for t in tokens}, who

    # P's tags and issues: not for the outsider, who is in no project using them.
    for path in ("/api/v1/tags", "/api/v1/issues"):
        assert call("GET", path, OUTSIDER, None).json()["result"] == [], path
        assert call("GET", path, VIEWER, None).json()["result"], path


def test_the_bench_floor_checks_membership(
    api: Api,
    bench_call: Caller,
    ids: dict[str, int],
    bench_only: set[tuple[str, str]],
) -> None:
    """With CHARTER_BENCH_ROUTES=1 the extra routes obey the same rules, also once a
    member has read them (the floor caches its answer)."""
    assert bench_only, "the bench app serves no extra route"
    before = snapshot(api.db)
    for method, template in bench_only:
        resp = bench_call(method, fill(template, ids), ADMIN)
        assert resp.status_code == 200, resp.text
    failures = check_unauthenticated(bench_call, bench_only, ids)
    failures += check_unknown_ids(bench_call, bench_only, ids)
    failures += check_non_admins(bench_call, bench_only, ids, NON_ADMINS)[0]
    assert not failures, "\n".join(failures)
    assert_unchanged(api.db, before)


# Deletes run last, the dependants first, so each can succeed.
DELETE_ORDER = (
    "automation_run_id",
    "attachments",
    "result_id",
    "session_id",
    "user_id",
    "config_id",
    "milestone_id",
    "value_id",
    "field_id",
    "state_id",
    "issue_id",
    "tag_id",
    "token_id",
    "area_id",
    "kind_id",
)


# The debrief writes need a closed session and run in this order, after the deletes
# of what a locked session keeps (its results, attachments) and before the session's
# delete; BEFORE holds the calls that bring the session to the state each one needs.
DEBRIEF_ORDER = (
    ("POST", f"{S_}/submit"),
    ("PUT", f"{S_}/debrief"),
    ("POST", f"{S_}/debrief/follow-ups"),
    ("POST", f"{S_}/debrief/return"),
    ("POST", f"{S_}/debrief/approve"),
)
BEFORE = {
    DEBRIEF_ORDER[0]: ("POST", f"{S_}/close", None),
    DEBRIEF_ORDER[-1]: ("POST", f"{S_}/submit", {"force": True}),
}


def _write_order(route: tuple[str, str]) -> tuple[int, int]:
    """Other writes in RULES order (start before close, close before reopen, ...), then
    the deletes, the dependants first, with the debrief writes before the session's."""
    method, template = route
    if route in DEBRIEF_ORDER:
        return (2, DEBRIEF_ORDER.index(route))
    if method != "DELETE":
        return (0, list(RULES).index(route))
    last = "attachments" if template.endswith("/attachments") else params_of(template)[-1]
    index = DELETE_ORDER.index(last)
    return (1 if index < DELETE_ORDER.index("session_id") else 3, index)


def test_write_bodies_are_valid(fresh_database_url: str) -> None:
    """The admin sends every write with the body the refusal tests use, on a copy of the
    dataset: none is 400 / 422 (nor 403 / 404 / 5xx), so it is the permission check that
    refuses them above."""
    db = migrate(fresh_database_url)
    ids = build_dataset(db)
    db.close()
    app = create_app(Settings(database_url=fresh_database_url))
    writes = sorted(
        (route for route in app_routes(app) if route[0] not in READS),
        key=_write_order,
    )
    for api in open_api(fresh_database_url):
        call = Caller(api.client, api.tokens)
        wrong = []
        for method, template in writes:
            rule = RULES[(method, template)]
            if (method, template) in BEFORE:
                step, path, body = BEFORE[(method, template)]
                assert call(step, fill(path, ids), ADMIN, body).is_success
            resp = call(method, fill(template, ids), ADMIN, rule.body)
            if not resp.is_success:
                wrong.append(f"{method} {template}: {resp.status_code} {resp.text[:200]}")
        assert not wrong, "\n".join(wrong)


def _reads_body(method: str, path: str) -> bool:
    transition = re.search(r"/(start|pause|resume|close|reopen|complete|approve)$", path)
    return method in ("PATCH", "PUT") or (method == "POST" and not transition)


def test_rules_cover_sent_bodies() -> None:
    """Every write that reads a body has one here (so 400 'body required' never decides)."""
    missing = [
        (method, path)
        for (method, path), rule in RULES.items()
        if _reads_body(method, path) and rule.body is None
    ]
    assert not missing, missing
