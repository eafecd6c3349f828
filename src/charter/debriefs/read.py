"""Reading debriefs: the debrief object the API and the debrief page show, a sheet's
problems, the charter backlog and the "waiting for debrief" list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.clock import iso
from charter.core.errors import NotFound
from charter.debriefs import queries as debrief_queries
from charter.debriefs import sheet_checks
from charter.debriefs.service import outlook_items
from charter.sessions.read import session_by_id

# The page lists show at most this many rows (a backlog is read, not paged through).
LIST_LIMIT = 500


def readable_session(conn: Connection, user: User, session_id: int) -> RowMapping:
    row = session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, row["project_id"], "read")
    return row


def debrief_object(conn: Connection, session: RowMapping) -> dict[str, Any]:
    """The debrief of `session` in the API's shape; a session never submitted nor
    debriefed has every field null and version 0."""
    d = debrief_queries.debrief_of(conn, session["id"])

    def get(name: str) -> Any:
        return None if d is None else d[name]

    return {
        "session_id": session["id"],
        "project_id": session["project_id"],
        "status": get("status"),
        "past": get("past"),
        "results": get("results"),
        "obstacles": get("obstacles"),
        "outlook": outlook_items(get("outlook")),
        "feelings": get("feelings"),
        "submitted_at": iso(get("submitted_at")),
        "submitted_by": get("submitted_by"),
        "debriefed_at": iso(get("debriefed_at")),
        "debriefed_by": get("debriefed_by"),
        "returned_at": iso(get("returned_at")),
        "returned_by": get("returned_by"),
        "return_comment": get("return_comment"),
        "approved_at": iso(get("approved_at")),
        "approved_by": get("approved_by"),
        "version": 0 if d is None else d["version"],
        "warnings": sheet_checks.warnings(session["pct_opportunity"]),
        "follow_ups": [r["id"] for r in debrief_queries.follow_ups_of(conn, session["id"])],
    }


def get_debrief(conn: Connection, user: User, session_id: int) -> dict[str, Any]:
    return debrief_object(conn, readable_session(conn, user, session_id))


def problems_object(conn: Connection, session: RowMapping) -> dict[str, Any]:
    found = sheet_checks.problems(session, debrief_queries.sheet_facts(conn, session["id"]))
    return {
        "session_id": session["id"],
        "problems": [
            {"field": p.field, "message": p.message, "result_id": p.result_id} for p in found
        ],
    }


def get_problems(conn: Connection, user: User, session_id: int) -> dict[str, Any]:
    return problems_object(conn, readable_session(conn, user, session_id))


def status_of(conn: Connection, session_id: int) -> dict[str, Any]:
    """What the session page says of its sheet: the debrief status and the comment of
    a return (no permission check: the page checked already)."""
    d = debrief_queries.debrief_of(conn, session_id)
    if d is None:
        return {"status": None, "return_comment": None}
    return {"status": d["status"], "return_comment": d["return_comment"]}


def follow_ups(conn: Connection, session_id: int) -> list[RowMapping]:
    return debrief_queries.follow_ups_of(conn, session_id)


def waiting(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """The project's submitted sheets waiting for a debrief, oldest first."""
    return [dict(r) for r in debrief_queries.waiting(conn, project_id, LIST_LIMIT)]


def backlog(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """The project's planned charters (not started, not closed), with their areas."""
    rows = [dict(r) for r in debrief_queries.backlog(conn, project_id, LIST_LIMIT)]
    names = debrief_queries.area_names_of(conn, [r["id"] for r in rows])
    for r in rows:
        r["areas"] = names.get(r["id"], [])
    return rows
