"""Conformance: the official Testmo JS binding's MilestonesApi, UsersApi, RolesApi and
GroupsApi against a live Charter server (the same driver and checks as
test_testmo_binding.py).

The demo dataset has milestones (one nested) but no groups, custom roles, milestone
issues or types: the ``extra`` fixture adds them to the server's database first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from charter.auth import service as auth
from charter.catalog import service as catalog_service
from charter.db import rows as db_rows
from charter.db.engine import Database
from charter.db.tables import COUNTER_COLUMNS, milestones, project_members, users
from charter.milestones import queries as milestone_queries
from charter.users import service as user_service

from .conftest import Driver, LiveServer
from .test_testmo_binding import (
    UNKNOWN_ID,
    Checker,
    call,
    check_date,
    check_envelope,
    check_statuses,
    is_int,
    js_date,
    js_iso,
    ms_floor,
    parse_ts,
    query_of,
    report,
)

pytestmark = pytest.mark.conformance

MILESTONE_EXPANDS = (
    "issues",
    "milestone_stats",
    "milestone_types",
    "milestones",
    "statuses",
    "users",
)
# Models whose every declared field must be in the server's JSON.
COMPLETE = {
    "Milestone",
    "MilestonePage",
    "MilestoneRow",
    "MilestoneStatsExpand",
    "MilestoneTypeExpand",
    "MilestoneExpand",
    "IssueExpand",
    "StatusExpand",
    "UserExpand",
    "User",
    "UserPage",
    "UserRow",
    "ProjectUser",
    "ProjectUserPage",
    "Role",
    "RolePage",
    "RoleRow",
    "Group",
    "GroupPage",
    "GroupRow",
    "GroupExpand",
    "RoleExpand",
}


@dataclass(frozen=True)
class Extra:
    member_token: str  # a non-admin member of `project_id`
    outsider_token: str  # a non-admin who is not a member of `project_id`
    project_id: int  # the project with the most milestones
    member_id: int
    group_ids: list[int]
    role_id: int


@pytest.fixture(scope="module")
def checker(driver: Driver, live_server: LiveServer) -> Checker:
    return Checker(driver, live_server)


@pytest.fixture(scope="module")
def extra(live_server: LiveServer, module_database_url: str) -> Iterator[Extra]:
    """Groups, a role, default roles, milestone issues/types/dates and two non-admin
    tokens, written straight into the live server's database."""
    db = Database(module_database_url)
    try:
        with db.write() as conn:
            counts = conn.execute(
                sa.select(milestones.c.project_id, sa.func.count())
                .group_by(milestones.c.project_id)
                .order_by(sa.func.count().desc(), milestones.c.project_id)
            ).all()
            project_id = int(counts[0][0])
            admin_id = conn.execute(
                sa.select(users.c.id).where(users.c.is_admin.is_(True)).order_by(users.c.id)
            ).scalar_one()
            members = [
                r[0]
                for r in conn.execute(
                    sa.select(project_members.c.user_id)
                    .join(users, users.c.id == project_members.c.user_id)
                    .where(
                        project_members.c.project_id == project_id,
                        users.c.is_admin.is_(False),
                    )
                    .order_by(project_members.c.user_id)
                )
            ]
            # A user who belongs to no project (created by the admin).
            outsider = user_service.new_user(
                conn, "Conformance Outsider", "conf-outsider@example.com", created_by=admin_id
            )
            assert members, "the demo project has non-admin members"
            all_users = [r[0] for r in conn.execute(sa.select(users.c.id).order_by(users.c.id))]
            role_id = user_service.create_role(
                conn, "Conformance auditor", "conf_auditor", 1, created_by=admin_id
            )
            user_service.set_default_role(conn, members[0], role_id)
            user_service.set_default_role(conn, all_users[-1], 2)
            group_ids = [
                user_service.create_group(
                    conn, "Conformance QA", all_users[:3], created_by=admin_id
                ),
                user_service.create_group(conn, "Conformance empty", [], created_by=members[0]),
            ]
            # Milestones: issues, a type and dates on the project's milestones.
            ms = [
                r[0]
                for r in conn.execute(
                    sa.select(milestones.c.id)
                    .where(milestones.c.project_id == project_id)
                    .order_by(milestones.c.id)
                )
            ]
            issue_a = catalog_service.new_issue(conn, 4, "CONF-1", 77, "CONF")
            issue_b = catalog_service.new_issue(conn, 2, "#12", 88, "acme/conf")
            milestone_queries.set_issues(conn, ms[0], [issue_a, issue_b])
            milestone_queries.set_issues(conn, ms[-1], [issue_b])
            db_rows.update(
                conn,
                milestones,
                ms[0],
                type_id=2,
                start_date=date(2025, 1, 1),
                is_started=True,
                started_at=datetime(2025, 1, 1, 9),
                updated_at=datetime(2025, 1, 2, 9, 30, 0, 123456),
                updated_by=members[0],
            )
            db_rows.update(conn, milestones, ms[-1], type_id=3, note="Nested sprint")
            member_token = auth.create_token(
                conn,
                conn.execute(sa.select(users.c.email).where(users.c.id == members[0])).scalar_one(),
                "conf",
            )
            outsider_token = auth.create_token(
                conn,
                conn.execute(sa.select(users.c.email).where(users.c.id == outsider)).scalar_one(),
                "conf",
            )
        yield Extra(member_token, outsider_token, project_id, members[0], group_ids, role_id)
    finally:
        db.close()


# --------------------------------------------------------------------------- helpers


def check_complete(parsed: Any, raw: Any, where: str, problems: list[str]) -> None:
    """Every field a COMPLETE model declares is present in the server's JSON."""
    if isinstance(parsed, list) and isinstance(raw, list):
        for index, (p, r) in enumerate(zip(parsed, raw, strict=False)):
            check_complete(p, r, f"{where}[{index}]", problems)
        return
    if not (isinstance(parsed, dict) and "$class" in parsed and isinstance(raw, dict)):
        return
    cls = parsed["$class"]
    if cls in COMPLETE:
        missing = [f for f in parsed.get("$fields") or [] if f not in raw]
        if missing:
            problems.append(f"{where} ({cls}): server omitted {missing}")
    for key, value in parsed.items():
        if not key.startswith("$") and key in raw:
            check_complete(value, raw[key], f"{where}.{key}", problems)


def run_ok(checker: Checker, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = checker.ok(calls)
    problems: list[str] = []
    for entry, result in zip(calls, results, strict=True):
        check_complete(result["data"], result["raw"], f"{entry['method']}{entry['args']}", problems)
    report(problems, "the server omitted fields the binding declares")
    return results


def raw_get(server: LiveServer, path: str, **params: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def all_milestones(server: LiveServer, project_id: int) -> list[dict[str, Any]]:
    body = raw_get(server, f"/api/v1/projects/{project_id}/milestones", per_page=100)
    assert body["next_page"] is None
    rows: list[dict[str, Any]] = body["result"]
    return rows


def milestone_page(project_id: int, **opts: Any) -> dict[str, Any]:
    return call("MilestonesApi", "getMilestonePage", project_id, opts)


def sort_rows(rows: list[dict[str, Any]], column: str, order: str) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[bool, Any, int]:
        value = row[column]
        return (value is not None, value if value is not None else "", row["id"])

    return sorted(rows, key=key, reverse=order == "desc")


def check_milestone(row: dict[str, Any], where: str, problems: list[str]) -> None:
    for key in ("id", "project_id", "root_id"):
        if not is_int(row.get(key)):
            problems.append(f"{where}.{key}: {row.get(key)!r}")
    for key in ("parent_id", "type_id", "created_by", "updated_by"):
        if not (row.get(key) is None or is_int(row.get(key))):
            problems.append(f"{where}.{key}: {row.get(key)!r}")
    for key in ("is_started", "is_completed"):
        if not isinstance(row.get(key), bool):
            problems.append(f"{where}.{key}: {row.get(key)!r}")
    for key in ("start_date", "due_date"):
        value = row.get(key)
        if value is not None:
            try:
                assert date.fromisoformat(value).isoformat() == value
            except (AssertionError, TypeError, ValueError):
                problems.append(f"{where}.{key}: {value!r} is not YYYY-MM-DD")
    check_date(row.get("created_at"), f"{where}.created_at", problems)
    for key in ("started_at", "updated_at", "completed_at"):
        check_date(row.get(key), f"{where}.{key}", problems, nullable=True)
    if row.get("automation_tags") != [] or row.get("links") != []:
        problems.append(f"{where}: automation_tags/links not []")
    if not isinstance(row.get("issues"), list) or not all(is_int(i) for i in row["issues"]):
        problems.append(f"{where}.issues: {row.get('issues')!r}")
    if row.get("is_completed") is True and row.get("completed_at") is None:
        problems.append(f"{where}: completed without completed_at")


def check_milestone_expands(
    server: LiveServer,
    raw: dict[str, Any],
    rows: list[dict[str, Any]],
    requested: tuple[str, ...],
    where: str,
    problems: list[str],
) -> None:
    expands = raw["expands"]
    if set(expands) != set(requested):
        problems.append(f"{where}: expands keys {sorted(expands)} != {sorted(requested)}")
        return
    for name, items in expands.items():
        ids = [item["id"] for item in items]
        if ids != sorted(set(ids)):
            problems.append(f"{where}.{name}: ids {ids} not distinct and ordered")
    want = {
        "issues": {i for r in rows for i in r["issues"]},
        "milestone_types": {r["type_id"] for r in rows if r["type_id"] is not None},
        "milestones": {r[k] for r in rows for k in ("root_id", "parent_id") if r[k] is not None},
        "users": {r[k] for r in rows for k in ("created_by", "updated_by") if r[k] is not None},
        "milestone_stats": {r["id"] for r in rows},
    }
    for name, expected in want.items():
        if name in expands and {item["id"] for item in expands[name]} != expected:
            got = sorted(item["id"] for item in expands[name])
            problems.append(f"{where}.{name}: {got} != referenced {sorted(expected)}")
    if "statuses" in expands:
        check_statuses(expands["statuses"], f"{where}.statuses", problems)
    for stats in expands.get("milestone_stats", []):
        project_id = next(r["project_id"] for r in rows if r["id"] == stats["id"])
        sessions = raw_get(
            server,
            f"/api/v1/projects/{project_id}/sessions",
            milestone_id=stats["id"],
            per_page=100,
        )
        assert sessions["next_page"] is None
        sums = {c: sum(s[c] for s in sessions["result"]) for c in COUNTER_COLUMNS}
        if {c: stats[c] for c in COUNTER_COLUMNS} != sums:
            problems.append(f"{where}.milestone_stats {stats['id']}: {stats} != sums {sums}")


# ------------------------------------------------------------------------ milestones


def test_milestones_every_project(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    with live_server.client() as client:
        project_ids = [p["id"] for p in client.get("/api/v1/projects").json()["result"]]
    calls: list[dict[str, Any]] = []
    for pid in project_ids:
        calls.append(milestone_page(pid))
        calls.append(milestone_page(pid, expands=",".join(MILESTONE_EXPANDS), perPage=15))
    results = run_ok(checker, calls)
    problems: list[str] = []
    seen_nested = seen_stats = False
    for pid, plain, expanded in zip(project_ids, results[::2], results[1::2], strict=True):
        label = f"project {pid} milestones"
        assert plain["data"]["$class"] == "MilestonePage"
        rows = all_milestones(live_server, pid)
        want = sort_rows(rows, "created_at", "desc")
        check_envelope(
            plain["raw"],
            label,
            problems,
            page=1,
            per_page=100,
            total=len(rows),
            ids=[r["id"] for r in want],
        )
        if plain["raw"]["expands"] != {}:
            problems.append(f"{label}: expands {plain['raw']['expands']!r}")
        for row in rows:
            check_milestone(row, f"{label} #{row['id']}", problems)
            if row["project_id"] != pid:
                problems.append(f"{label}: milestone {row['id']} of project {row['project_id']}")
            seen_nested |= row["parent_id"] is not None
        shown = expanded["raw"]["result"]
        check_milestone_expands(
            live_server, expanded["raw"], shown, MILESTONE_EXPANDS, label, problems
        )
        seen_stats |= any(s["total_count"] for s in expanded["raw"]["expands"]["milestone_stats"])
    report(problems, "milestone lists break the contract")
    assert seen_nested, "the demo has a nested milestone"
    assert seen_stats, "some milestone has sessions with results"


def test_milestone_single(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    rows = all_milestones(live_server, extra.project_id)
    calls = []
    for row in rows:
        calls.append(call("MilestonesApi", "getMilestone", row["id"], {}))
        calls.append(
            call(
                "MilestonesApi",
                "getMilestone",
                row["id"],
                {"expands": ",".join(MILESTONE_EXPANDS)},
            )
        )
    results = run_ok(checker, calls)
    problems: list[str] = []
    for row, plain, expanded in zip(rows, results[::2], results[1::2], strict=True):
        label = f"milestone {row['id']}"
        assert plain["path"] == f"/api/v1/milestones/{row['id']}"
        assert plain["data"]["$class"] == "MilestoneRow"
        assert plain["data"]["result"]["$class"] == "Milestone"
        if plain["raw"] != {"result": row, "expands": {}}:
            problems.append(f"{label}: single {plain['raw']} != listed row")
        check_milestone_expands(
            live_server, expanded["raw"], [row], MILESTONE_EXPANDS, label, problems
        )
    report(problems, "single milestones break the contract")
    # The fixture's additions come through the binding unchanged.
    by_id = {r["data"]["result"]["id"]: r["data"]["result"] for r in results[::2]}
    first = by_id[min(by_id)]
    assert first["type_id"] == 2 and first["start_date"] == "2025-01-01"
    assert len(first["issues"]) == 2
    assert first["updated_at"] == {"$date": "2025-01-02T09:30:00.123Z"}


def test_milestone_sorts(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    rows = all_milestones(live_server, extra.project_id)
    cases = [
        (sort, order)
        for sort in ("created_at", "name", "completed_at", "start_date", "due_date")
        for order in ("asc", "desc")
    ]
    calls = [milestone_page(extra.project_id, sort=f"milestones:{s}", order=o) for s, o in cases]
    results = run_ok(checker, calls)
    problems: list[str] = []
    for (sort, order), result in zip(cases, results, strict=True):
        assert query_of(result) == {"sort": f"milestones:{sort}", "order": order}
        want = [r["id"] for r in sort_rows(rows, sort, order)]
        check_envelope(
            result["raw"],
            f"sort {sort} {order}",
            problems,
            page=1,
            per_page=100,
            total=len(rows),
            ids=want,
        )
    report(problems, "milestone sorting breaks the contract")


def test_milestone_filters(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    pid = extra.project_id
    rows = all_milestones(live_server, pid)
    child = next(r for r in rows if r["parent_id"] is not None)
    completed = [r for r in rows if r["completed_at"] is not None]
    assert completed, "the demo has a completed milestone"
    done_at = parse_ts(completed[0]["completed_at"])
    created = parse_ts(child["created_at"])
    second = timedelta(seconds=1)

    def stamp(row: dict[str, Any], key: str) -> datetime | None:
        return None if row[key] is None else parse_ts(row[key])

    cases: list[tuple[dict[str, Any], dict[str, str], Any]] = [
        ({"isCompleted": True}, {"is_completed": "true"}, lambda r: r["is_completed"]),
        ({"isCompleted": False}, {"is_completed": "false"}, lambda r: not r["is_completed"]),
        (
            {"parentId": str(child["parent_id"])},
            {"parent_id": str(child["parent_id"])},
            lambda r: r["parent_id"] == child["parent_id"],
        ),
        (
            {"rootId": str(child["root_id"])},
            {"root_id": str(child["root_id"])},
            lambda r: r["root_id"] == child["root_id"],
        ),
        ({"typeId": "2,3"}, {"type_id": "2,3"}, lambda r: r["type_id"] in (2, 3)),
        (
            {"createdBy": str(child["created_by"])},
            {"created_by": str(child["created_by"])},
            lambda r: r["created_by"] == child["created_by"],
        ),
        (
            {"createdAfter": js_date(created - second)},
            {"created_after": js_iso(created - second)},
            lambda r: parse_ts(r["created_at"]) > ms_floor(created - second),
        ),
        (
            {"createdBefore": js_date(created + second)},
            {"created_before": js_iso(created + second)},
            lambda r: parse_ts(r["created_at"]) < ms_floor(created + second),
        ),
        (
            {"completedAfter": js_date(done_at - second)},
            {"completed_after": js_iso(done_at - second)},
            lambda r: (
                (s := stamp(r, "completed_at")) is not None and s > ms_floor(done_at - second)
            ),
        ),
        (
            {"completedBefore": js_date(done_at + second)},
            {"completed_before": js_iso(done_at + second)},
            lambda r: (
                (s := stamp(r, "completed_at")) is not None and s < ms_floor(done_at + second)
            ),
        ),
        ({"automationTags": "nightly"}, {"automation_tags": "nightly"}, lambda r: False),
    ]
    calls = [milestone_page(pid, **opts) for opts, _, _ in cases]
    results = run_ok(checker, calls)
    problems: list[str] = []
    for (opts, sent, keep), result in zip(cases, results, strict=True):
        label = f"filter {opts}"
        if query_of(result) != sent:
            problems.append(f"{label}: sent {query_of(result)} != {sent}")
        want = [r["id"] for r in sort_rows([r for r in rows if keep(r)], "created_at", "desc")]
        check_envelope(
            result["raw"],
            label,
            problems,
            page=1 if want else None,
            per_page=100,
            total=len(want),
            ids=want,
        )
    report(problems, "milestone filters break the contract")


def test_milestone_every_option_at_once(
    checker: Checker, live_server: LiveServer, extra: Extra
) -> None:
    rows = all_milestones(live_server, extra.project_id)
    child = next(r for r in rows if r["parent_id"] is not None)
    created = parse_ts(child["created_at"])
    second = timedelta(seconds=1)
    opts = {
        "page": 1,
        "perPage": 25,
        "expands": ",".join(MILESTONE_EXPANDS),
        "sort": "milestones:name",
        "order": "asc",
        "createdAfter": js_date(created - second),
        "createdBefore": js_date(created + second),
        "createdBy": str(child["created_by"]),
        "isCompleted": child["is_completed"],
        "parentId": str(child["parent_id"]),
        "rootId": str(child["root_id"]),
        "typeId": str(child["type_id"] or 3),
    }
    (result,) = run_ok(checker, [milestone_page(extra.project_id, **opts)])
    assert set(query_of(result)) == {
        "page",
        "per_page",
        "expands",
        "sort",
        "order",
        "created_after",
        "created_before",
        "created_by",
        "is_completed",
        "parent_id",
        "root_id",
        "type_id",
    }
    assert [r["id"] for r in result["raw"]["result"]] == [child["id"]]
    problems: list[str] = []
    check_milestone_expands(
        live_server,
        result["raw"],
        result["raw"]["result"],
        MILESTONE_EXPANDS,
        "all options",
        problems,
    )
    report(problems, "getMilestonePage with every option breaks the contract")
    # The three remaining options together (completed window, automation tags) too.
    (none,) = run_ok(
        checker,
        [
            milestone_page(
                extra.project_id,
                completedAfter=js_date(created),
                completedBefore=js_date(created + timedelta(days=3650)),
                automationTags="ci,nightly",
            )
        ],
    )
    assert none["raw"]["total"] == 0 and none["raw"]["page"] is None


# ----------------------------------------------------------------- users, roles, groups


def test_users(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    everyone = raw_get(live_server, "/api/v1/users", per_page=100)["result"]
    calls = [
        call("UsersApi", "getUserPage", {}),
        call(
            "UsersApi", "getUserPage", {"page": 1, "perPage": 15, "expands": "groups,roles,users"}
        ),
        call("UsersApi", "getUserPage", {"page": 9, "perPage": 25}),
        call("UsersApi", "getUserPageForProject", extra.project_id, {}),
        call("UsersApi", "getUserPageForProject", extra.project_id, {"page": 1, "perPage": 15}),
    ]
    for user in everyone:
        calls.append(call("UsersApi", "getUser", user["id"], {"expands": "groups,roles,users"}))
    results = run_ok(checker, calls)
    default, expanded, past, members, members_15 = results[:5]
    problems: list[str] = []
    total = len(everyone)
    check_envelope(default["raw"], "users", problems, page=1, per_page=100, total=total)
    check_envelope(past["raw"], "users page 9", problems, page=9, per_page=25, total=total)
    assert default["data"]["$class"] == "UserPage"
    assert default["data"]["result"][0]["$class"] == "User"
    assert query_of(expanded) == {"page": "1", "per_page": "15", "expands": "groups,roles,users"}
    ex = expanded["raw"]["expands"]
    shown = expanded["raw"]["result"]
    if [g["id"] for g in ex["groups"]] != sorted({g for u in shown for g in u["groups"]}):
        problems.append(f"users expands groups {ex['groups']}")
    if [r["id"] for r in ex["roles"]] != sorted({u["role_id"] for u in shown if u["role_id"]}):
        problems.append(f"users expands roles {ex['roles']}")
    for user in everyone:
        where = f"user {user['id']}"
        if (user["type"], user["notifications"], user["tfa_enabled"], user["is_api"]) != (
            1,
            0,
            False,
            False,
        ):
            problems.append(f"{where}: fixed fields {user}")
        check_date(user["created_at"], f"{where}.created_at", problems)
    by_id = {u["id"]: u for u in everyone}
    assert by_id[extra.member_id]["role_id"] == extra.role_id
    assert extra.group_ids[0] in by_id[min(by_id)]["groups"]
    for single in results[5:]:
        user = single["raw"]["result"]
        assert single["data"]["$class"] == "UserRow"
        if user != by_id[user["id"]]:
            problems.append(f"user {user['id']}: single differs from the list")
    assert members["data"]["$class"] == "ProjectUserPage"
    assert members["path"] == f"/api/v1/projects/{extra.project_id}/users"
    member_rows = members["raw"]["result"]
    if not member_rows or any(set(m) != {"id", "name"} for m in member_rows):
        problems.append(f"project users {member_rows}")
    if extra.member_id not in [m["id"] for m in member_rows]:
        problems.append("project users lack a member")
    check_envelope(
        members_15["raw"], "project users", problems, page=1, per_page=15, total=len(member_rows)
    )
    report(problems, "users break the contract")


def test_roles_and_groups(checker: Checker, live_server: LiveServer, extra: Extra) -> None:
    roles = raw_get(live_server, "/api/v1/roles")["result"]
    groups = raw_get(live_server, "/api/v1/groups")["result"]
    calls = [
        call("RolesApi", "getRolePage", {}),
        call("RolesApi", "getRolePage", {"page": 1, "perPage": 15, "expands": "users"}),
        call("GroupsApi", "getGroupPage", {}),
        call("GroupsApi", "getGroupPage", {"page": 2, "perPage": 50, "expands": "users"}),
        call("GroupsApi", "getGroupPage", {"page": 1, "perPage": 15, "expands": "users"}),
    ]
    calls += [call("RolesApi", "getRole", r["id"], {"expands": "users"}) for r in roles]
    calls += [call("GroupsApi", "getGroup", g["id"], {"expands": "users"}) for g in groups]
    results = run_ok(checker, calls)
    role_page, role_expanded, group_page, group_past, group_expanded = results[:5]
    problems: list[str] = []
    check_envelope(role_page["raw"], "roles", problems, page=1, per_page=100, total=len(roles))
    check_envelope(group_page["raw"], "groups", problems, page=1, per_page=100, total=len(groups))
    check_envelope(
        group_past["raw"], "groups page 2", problems, page=2, per_page=50, total=len(groups)
    )
    assert role_page["data"]["$class"] == "RolePage"
    assert group_page["data"]["$class"] == "GroupPage"
    assert extra.role_id in [r["id"] for r in roles]
    assert set(extra.group_ids) <= {g["id"] for g in groups}
    users = {u["id"] for u in role_expanded["raw"]["expands"]["users"]}
    if users != {r[k] for r in roles for k in ("created_by", "updated_by") if r[k]}:
        problems.append(f"roles expands users {users}")
    users = {u["id"] for u in group_expanded["raw"]["expands"]["users"]}
    want = {g[k] for g in groups for k in ("created_by", "updated_by") if g[k]}
    want |= {m for g in groups for m in g["members"]}
    if users != want:
        problems.append(f"groups expands users {sorted(users)} != {sorted(want)}")
    for single, row in zip(results[5:], [*roles, *groups], strict=True):
        if single["raw"]["result"] != row:
            problems.append(f"{single['path']}: single differs from the list")
    for group in groups:
        if not all(is_int(m) for m in group["members"]):
            problems.append(f"group {group['id']}: members {group['members']}")
    report(problems, "roles and groups break the contract")


def test_errors_through_binding(checker: Checker, extra: Extra) -> None:
    pid = extra.project_id
    member, outsider = extra.member_token, extra.outsider_token
    cases = [
        (call("MilestonesApi", "getMilestone", UNKNOWN_ID, {}), 404, None),
        (milestone_page(UNKNOWN_ID), 404, None),
        (call("MilestonesApi", "getMilestonePage", pid, {}, token=outsider), 403, None),
        (call("UsersApi", "getUserPageForProject", pid, {}, token=outsider), 403, None),
        (call("UsersApi", "getUserPage", {}, token=member), 403, None),
        (call("UsersApi", "getUser", 1, {}, token=member), 403, None),
        (call("RolesApi", "getRolePage", {}, token=member), 403, None),
        (call("RolesApi", "getRole", 1, {}, token=member), 403, None),
        (call("GroupsApi", "getGroupPage", {}, token=member), 403, None),
        (call("GroupsApi", "getGroup", extra.group_ids[0], {}, token=member), 403, None),
        (call("UsersApi", "getUser", UNKNOWN_ID, {}), 404, None),
        (call("RolesApi", "getRole", UNKNOWN_ID, {}), 404, None),
        (call("GroupsApi", "getGroup", UNKNOWN_ID, {}), 404, None),
        (call("UsersApi", "getUserPage", {}, token="not-a-valid-token"), 401, None),
        (milestone_page(pid, expands="users,bogus"), 422, "expands"),
        (milestone_page(pid, perPage=10), 422, "per_page"),
        (milestone_page(pid, sort="milestones:id"), 422, "sort"),
        (milestone_page(pid, parentId="x"), 422, "parent_id"),
        (call("UsersApi", "getUserPage", {"expands": "projects"}), 422, "expands"),
        (call("GroupsApi", "getGroupPage", {"perPage": 7}), 422, "per_page"),
        (call("RolesApi", "getRole", 1, {"expands": "roles"}), 422, "expands"),
    ]
    results = checker.run([entry for entry, _, _ in cases])
    problems: list[str] = []
    for (entry, status, field), result in zip(cases, results, strict=True):
        label = f"{entry['method']}{entry['args']} -> {result['path']}"
        if result["ok"] or result["status"] != status:
            problems.append(f"{label}: got {result['status']}, expected {status}")
            continue
        body = json.loads(result["text"])
        if not isinstance(body.get("message"), str) or body != result["body"]:
            problems.append(f"{label}: error body {body!r}")
        if field is not None and field not in (body.get("errors") or {}):
            problems.append(f"{label}: errors {body.get('errors')!r} lacks {field!r}")
    report(problems, "error answers break the contract")


def test_member_reads_milestones(checker: Checker, extra: Extra) -> None:
    results = run_ok(
        checker,
        [
            call(
                "MilestonesApi", "getMilestonePage", extra.project_id, {}, token=extra.member_token
            ),
            call(
                "UsersApi", "getUserPageForProject", extra.project_id, {}, token=extra.member_token
            ),
        ],
    )
    assert results[0]["raw"]["total"] >= 1
    assert results[1]["raw"]["total"] >= 1


def test_projects_count_milestones(live_server: LiveServer, extra: Extra) -> None:
    """The project's stored milestone counters agree with the milestone list."""
    project = raw_get(live_server, f"/api/v1/projects/{extra.project_id}")["result"]
    rows = all_milestones(live_server, extra.project_id)
    assert project["milestone_count"] == len(rows)
    assert project["milestone_completed_count"] == sum(r["is_completed"] for r in rows)
