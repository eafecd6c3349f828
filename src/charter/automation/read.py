"""Reading automation runs, their threads and tests, and sources, in Testmo's shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.automation import queries as automation_queries
from charter.automation.service import run_for
from charter.catalog import read as catalog_read
from charter.core.clock import iso
from charter.core.errors import Forbidden, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import (
    COUNTER_COLUMNS,
    Table,
    automation_run_tags,
    automation_runs,
    automation_sources,
    automation_tests,
)
from charter.milestones import read as milestone_read
from charter.projects import read as project_read
from charter.users import read as user_read

RUN_EXPANDS = ("automation_sources", "configs", "milestones", "statuses", "users")
SOURCE_EXPANDS = ("users",)
TEST_EXPANDS = ("statuses",)


def _counts(r: RowMapping) -> dict[str, int]:
    return {c: int(r[c]) for c in COUNTER_COLUMNS}


def thread_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "index": r["position"],
        "name": f"Thread {r['position']}",
        "status": r["status"],
        "elapsed": r["elapsed"],
        "is_completed": bool(r["is_completed"]),
        "artifacts": json.loads(r["artifacts"]),
        "fields": json.loads(r["fields"]),
        **_counts(r),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "completed_at": iso(r["completed_at"]),
        "completed_by": r["completed_by"],
    }


def run_dict(r: RowMapping, tags: list[str]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "source_id": r["source_id"],
        "name": r["name"],
        "status": r["status"],
        "config_id": r["config_id"],
        "milestone_id": r["milestone_id"],
        "elapsed": r["elapsed"],
        "is_completed": bool(r["is_completed"]),
        "artifacts": json.loads(r["artifacts"]),
        "fields": json.loads(r["fields"]),
        "links": json.loads(r["links"]),
        "tags": tags,
        **_counts(r),
        "thread_count": r["thread_count"],
        "thread_active_count": r["thread_active_count"],
        "thread_completed_count": r["thread_completed_count"],
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
        "completed_at": iso(r["completed_at"]),
        "completed_by": r["completed_by"],
    }


def test_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "run_id": r["run_id"],
        "thread_id": r["thread_id"],
        "key": r["key"],
        "name": r["name"],
        "folder": r["folder"],
        "status_id": r["status_id"],
        "elapsed": r["elapsed"],
        "file": r["file"],
        "line": r["line"],
        "assertions": r["assertions"],
        "artifacts": json.loads(r["artifacts"]),
        "fields": json.loads(r["fields"]),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
    }


def _average(value: Any) -> int | None:
    return None if value is None else round(float(value))


def source_dict(r: RowMapping, stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "name": r["name"],
        # decided: 1 no completed run yet, 2 the last completed run passed, 3 it failed
        "status": stats.get("status", 1),
        "is_retired": bool(r["is_retired"]),
        "run_count": int(stats.get("run_count", 0)),
        "test_count_average": _average(stats.get("test_count_average")),
        "elapsed_average": _average(stats.get("elapsed_average")),
        "ran_at": iso(stats.get("ran_at")),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
        "retired_at": iso(r["retired_at"]),
        "retired_by": r["retired_by"],
    }


def _ids(items: Iterable[dict[str, Any]], *keys: str) -> set[int]:
    return {v for item in items for k in keys if (v := item.get(k)) is not None}


def _run_expands(
    conn: Connection, items: list[dict[str, Any]], wanted: frozenset[str]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(wanted):
        if name == "automation_sources":
            out[name] = automation_queries.source_names(conn, _ids(items, "source_id"))
        elif name == "configs":
            out[name] = project_read.config_names(conn, _ids(items, "config_id"))
        elif name == "milestones":
            out[name] = milestone_read.milestone_names(conn, _ids(items, "milestone_id"))
        elif name == "statuses":
            out[name] = catalog_read.active_statuses(conn)
        elif name == "users":
            users = _ids(items, "created_by", "updated_by", "completed_by")
            users |= {
                u
                for item in items
                for t in item.get("threads", ())
                for u in _ids([t], "created_by", "completed_by")
            }
            out[name] = user_read.user_names(conn, users)
    return out


def _resolve_tags(filters: Sequence[db_listing.Filter]) -> tuple[db_listing.Filter, ...]:
    return tuple(
        db_listing.Filter("link", "name", f.value, automation_run_tags, "run_id")
        if f.op == "tags"
        else f
        for f in filters
    )


def _page(
    conn: Connection, table: Table, owner: str, owner_id: int, query: ListQuery
) -> tuple[list[int], int]:
    filters = _resolve_tags(query.filters)
    request = db_listing.PageRequest(
        filters, query.sort, query.descending, query.per_page, query.offset
    )
    return automation_queries.page_of(conn, table, owner, owner_id, request)


def runs_page(conn: Connection, project_id: int, query: ListQuery) -> Page:
    """Without permission checks (the caller made them): for the web UI too."""
    ids, total = _page(conn, automation_runs, "project_id", project_id, query)
    rows = automation_queries.runs_by_ids(conn, ids)
    tags = automation_queries.tags_of(conn, ids)
    items = [run_dict(r, tags.get(r["id"], [])) for r in rows]
    return Page(items, total, _run_expands(conn, items, query.expands))


def list_runs(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    return runs_page(conn, project_id, query)


def run_with_threads(conn: Connection, run: RowMapping) -> dict[str, Any]:
    item = run_dict(run, automation_queries.tags_of(conn, [run["id"]]).get(run["id"], []))
    item["threads"] = [thread_dict(t) for t in automation_queries.threads_of(conn, run["id"])]
    return item


def get_run(conn: Connection, user: User, run_id: int, expands: frozenset[str]) -> Page:
    try:
        run = run_for(conn, user, run_id, "read")
    except Forbidden:
        raise Forbidden("You are not a member of this automation run's project.") from None
    item = run_with_threads(conn, run)
    return Page([item], 1, _run_expands(conn, [item], expands))


def tests_page(conn: Connection, run_id: int, query: ListQuery) -> Page:
    ids, total = _page(conn, automation_tests, "run_id", run_id, query)
    items = [test_dict(r) for r in automation_queries.tests_by_ids(conn, ids)]
    expands = {"statuses": catalog_read.active_statuses(conn)} if query.expands else {}
    return Page(items, total, expands)


def list_tests(conn: Connection, user: User, run_id: int, query: ListQuery) -> Page:
    try:
        run_for(conn, user, run_id, "read")
    except Forbidden:
        raise Forbidden("You are not a member of this automation run's project.") from None
    return tests_page(conn, run_id, query)


def _sources(
    conn: Connection, rows: Sequence[RowMapping], wanted: frozenset[str], total: int
) -> Page:
    stats = automation_queries.source_stats(conn, [r["id"] for r in rows])
    items = [source_dict(r, stats.get(r["id"], {})) for r in rows]
    expands: dict[str, list[dict[str, Any]]] = {}
    if "users" in wanted:
        expands["users"] = user_read.user_names(
            conn, _ids(items, "created_by", "updated_by", "retired_by")
        )
    return Page(items, total, expands)


def list_sources(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    ids, total = _page(conn, automation_sources, "project_id", project_id, query)
    return _sources(conn, automation_queries.sources_by_ids(conn, ids), query.expands, total)


def get_source(conn: Connection, user: User, source_id: int, expands: frozenset[str]) -> Page:
    row = automation_queries.source_row(conn, source_id)
    if row is None:
        raise NotFound(f"Automation source {source_id} not found.")
    try:
        require_access(conn, user, int(row["project_id"]), "read")
    except Forbidden:
        raise Forbidden("You are not a member of this automation source's project.") from None
    return _sources(conn, [row], expands, 1)


def source_choices(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """The project's sources by name, for the web UI's filters."""
    return [
        {"id": r["id"], "name": r["name"]}
        for r in automation_queries.sources_of_project(conn, project_id)
    ]


def milestone_run_dicts(conn: Connection, milestone_id: int) -> list[dict[str, Any]]:
    """The runs of a milestone, newest first (the milestone page)."""
    rows = automation_queries.milestone_runs(conn, milestone_id)
    tags = automation_queries.tags_of(conn, [r["id"] for r in rows])
    return [run_dict(r, tags.get(r["id"], [])) for r in rows]
