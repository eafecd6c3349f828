"""Reading projects and the current user, in the Testmo shapes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.clock import iso
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import projects
from charter.projects import queries as project_queries

# Lookups other packages use (they never import this package's queries).
from charter.projects.queries import all_project_ids as all_project_ids
from charter.projects.queries import config_id_by_name as config_id_by_name
from charter.projects.queries import config_in_project as config_in_project
from charter.projects.queries import config_names as config_names
from charter.projects.queries import project_by_id as project_by_id
from charter.projects.queries import projects_by_ids as projects_by_ids

# Lookups other packages use (they never import this package's queries).
from charter.users import read as user_read

PROJECT_EXPANDS = ("users",)


# Stored counters of automation sources and runs (automation/service.py keeps them).
AUTOMATION_COUNTERS = (
    "automation_source_count",
    "automation_source_active_count",
    "automation_source_retired_count",
    "automation_run_count",
    "automation_run_active_count",
    "automation_run_completed_count",
)


def project_dict(p: RowMapping) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": p["id"],
        "name": p["name"],
        "is_completed": bool(p["is_completed"]),
        "milestone_count": p["milestone_count"],
        "milestone_active_count": p["milestone_active_count"],
        "milestone_completed_count": p["milestone_completed_count"],
        # Charter has no manual test runs: those counters are 0.
        "run_count": 0,
        "run_active_count": 0,
        "run_closed_count": 0,
        "session_count": p["session_count"],
        "session_active_count": p["session_active_count"],
        "session_closed_count": p["session_closed_count"],
    }
    item.update({name: int(p[name]) for name in AUTOMATION_COUNTERS})
    item.update(
        created_at=iso(p["created_at"]),
        created_by=p["created_by"],
        updated_at=iso(p["updated_at"]),
        updated_by=p["updated_by"],
        completed_at=iso(p["completed_at"]),
    )
    return item


def _expands(conn: Connection, rows: list[RowMapping], wanted: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "users" in wanted:
        ids = {r[c] for r in rows for c in ("created_by", "updated_by") if r[c] is not None}
        out["users"] = user_read.user_names(conn, ids)
    return out


def list_projects(conn: Connection, user: User, query: ListQuery) -> Page:
    base = project_queries.visible_condition(user.id, user.is_admin)
    rows, total = db_listing.rows_page(conn, projects, base, query.request())
    return Page([project_dict(r) for r in rows], total, _expands(conn, rows, query.expands))


def get_project(conn: Connection, user: User, project_id: int, expands: frozenset[str]) -> Page:
    row = require_project(conn, user, project_id, "read")
    return Page([project_dict(row)], 1, _expands(conn, [row], expands))


def current_user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "timezone": user.timezone,
        "date_format": user.date_format,
        "time_format": user.time_format,
    }


def stored_automation_counters(conn: Connection, project_id: int) -> dict[str, int]:
    return project_queries.automation_counters(conn, project_id, AUTOMATION_COUNTERS)
