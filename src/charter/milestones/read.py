"""Reading milestones: the list and single-object views in the Testmo shape, with
expands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.catalog import read as catalog_read
from charter.core.clock import iso
from charter.core.errors import Forbidden, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import COUNTER_COLUMNS, milestones
from charter.milestones import queries as milestone_queries

# Lookups other packages use (they never import this package's queries).
from charter.milestones.queries import milestone_id_by_name as milestone_id_by_name
from charter.milestones.queries import milestone_names as milestone_names
from charter.milestones.queries import milestones_by_ids as milestones_by_ids
from charter.users import read as user_read

MILESTONE_EXPANDS = (
    "issues",
    "milestone_stats",
    "milestone_types",
    "milestones",
    "statuses",
    "users",
)


def list_milestones(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    filters = [f for f in query.filters if f.op != "tags"]
    if len(filters) != len(query.filters):
        # automation_tags: Charter has no automation yet, so no milestone carries an
        # automation tag and the filter (any of the names) matches nothing.
        return _shape(conn, project_id, [], query.expands, 0)
    base = milestone_queries.in_project(project_id)
    request = db_listing.PageRequest(
        filters, query.sort, query.descending, query.per_page, query.offset
    )
    rows, total = db_listing.rows_page(conn, milestones, base, request)
    return _shape(conn, project_id, rows, query.expands, total)


def get_milestone(conn: Connection, user: User, milestone_id: int, expands: frozenset[str]) -> Page:
    rows = milestone_queries.milestones_by_ids(conn, [milestone_id])
    if not rows:
        raise NotFound(f"Milestone {milestone_id} not found.")
    project_id = int(rows[0]["project_id"])
    try:
        require_project(conn, user, project_id, "read")
    except NotFound:  # project gone: the milestone is gone too
        raise NotFound(f"Milestone {milestone_id} not found.") from None
    except Forbidden:
        raise Forbidden("You are not a member of this milestone's project.") from None
    return _shape(conn, project_id, rows, expands, 1)


def milestone_dict(r: RowMapping, issues: Sequence[int]) -> dict[str, Any]:
    """The Milestone object, key for key the same for reads and for the answers of
    writes (so that If-Match compares equal bodies)."""
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        # A top-level milestone is its own root.
        "root_id": r["root_id"] if r["root_id"] is not None else r["id"],
        "parent_id": r["parent_id"],
        "type_id": r["type_id"],
        "name": r["name"],
        "note": r["note"],
        "is_started": bool(r["is_started"]),
        "is_completed": bool(r["is_completed"]),
        "start_date": None if r["start_date"] is None else r["start_date"].isoformat(),
        "due_date": None if r["due_date"] is None else r["due_date"].isoformat(),
        "automation_tags": [],
        "issues": list(issues),
        "links": [],
        "started_at": iso(r["started_at"]),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
        "completed_at": iso(r["completed_at"]),
    }


def _shape(
    conn: Connection,
    project_id: int,
    rows: Sequence[RowMapping],
    expands: frozenset[str],
    total: int,
) -> Page:
    ids = [r["id"] for r in rows]
    issues = milestone_queries.issues_of(conn, ids)
    out = [milestone_dict(r, issues.get(r["id"], [])) for r in rows]
    return Page(out, total, _expands(conn, project_id, out, expands))


def _ids(items: Sequence[dict[str, Any]], *keys: str) -> set[int]:
    return {v for item in items for k in keys if (v := item[k]) is not None}


def _expands(
    conn: Connection, project_id: int, items: list[dict[str, Any]], wanted: frozenset[str]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(wanted):
        if name == "issues":
            out[name] = catalog_read.issue_expands(
                conn, {i for item in items for i in item["issues"]}
            )
        elif name == "milestone_stats":
            out[name] = _stats(conn, project_id, [item["id"] for item in items])
        elif name == "milestone_types":
            out[name] = milestone_queries.type_expands(conn, _ids(items, "type_id"))
        elif name == "milestones":
            out[name] = milestone_queries.milestone_names(conn, _ids(items, "root_id", "parent_id"))
        elif name == "statuses":
            out[name] = catalog_read.active_statuses(conn)
        elif name == "users":
            out[name] = user_read.user_names(conn, _ids(items, "created_by", "updated_by"))
    return out


def _stats(conn: Connection, project_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """One entry per listed milestone, ordered by id: the sums of the status counters
    of the sessions directly in the milestone (zeros when it has none)."""
    sums = milestone_queries.session_counter_sums(conn, project_id, ids)
    zeros = dict.fromkeys(COUNTER_COLUMNS, 0)
    return [{"id": mid, **sums.get(mid, zeros)} for mid in sorted(set(ids))]
