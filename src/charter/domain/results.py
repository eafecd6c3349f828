"""Session results: every add, edit and delete changes the session's counters in the
same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from charter.db.queries import reference as rq
from charter.db.queries import results as resq
from charter.db.queries import sessions as sq
from charter.domain import counters
from charter.domain.clock import utcnow
from charter.domain.errors import Conflict, Invalid, NotFound

MAX_BULK = 1000
MAX_NOTE = 100_000


def _check_status(
    flags: counters.StatusFlags, status_id: Any, field: str = "status_id"
) -> int | None:
    if status_id is None:
        return None
    if isinstance(status_id, bool) or not isinstance(status_id, int) or status_id not in flags:
        raise Invalid.field(field, "Must be a status id from 1 to 25.")
    if not flags[status_id]["is_active"]:
        raise Invalid.field(field, f"Status {status_id} is disabled.")
    return status_id


def add_results(
    conn: Connection,
    session_id: int,
    user_id: int,
    items: Sequence[Mapping[str, Any]],
    created_at: datetime | None = None,
) -> list[int]:
    """Add results (all or nothing); returns their ids in order.

    Each item: status_id (or None), note, elapsed. `created_at` is for loaders.
    """
    if len(items) > MAX_BULK:
        raise Invalid.field("results", f"At most {MAX_BULK} results per request.")
    session = sq.session_for_update(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    if session["is_closed"]:
        raise Conflict(f"Session {session_id} is closed; reopen it to add results.")
    flags = rq.status_flags(conn)
    now = created_at or utcnow()
    rows: list[dict[str, Any]] = []
    total: dict[str, int] = {}
    for item in items:
        status_id = _check_status(flags, item.get("status_id"))
        note = item.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise Invalid.field("note", f"Must be text of at most {MAX_NOTE} characters.")
        rows.append(
            {
                "session_id": session_id,
                "project_id": session["project_id"],
                "status_id": status_id,
                "note": note,
                "elapsed": item.get("elapsed"),
                "created_at": now,
                "created_by": user_id,
            }
        )
        counters.merge(total, counters.deltas_for(status_id, flags))
    ids = resq.insert_results(conn, rows)
    sq.bump_counters(conn, session_id, total)
    return ids


def add_results_fast(
    conn: Connection,
    session: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    flags: counters.StatusFlags,
) -> None:
    """Loader path: rows are trusted (generated), no ids returned; counters still
    change in the same transaction."""
    total: dict[str, int] = {}
    full = []
    for row in rows:
        full.append({"session_id": session["id"], "project_id": session["project_id"], **row})
        counters.merge(total, counters.deltas_for(row["status_id"], flags))
    resq.insert_results_bulk(conn, full)
    sq.bump_counters(conn, session["id"], total)


def edit_result(conn: Connection, result_id: int, user_id: int, changes: Mapping[str, Any]) -> None:
    result = resq.result_by_id(conn, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} not found.")
    session = sq.session_for_update(conn, result["session_id"])
    assert session is not None
    if session["is_closed"]:
        raise Conflict("The session is closed; reopen it to change results.")
    values: dict[str, Any] = {"updated_at": utcnow(), "updated_by": user_id}
    if "status_id" in changes:
        flags = rq.status_flags(conn)
        new_status = _check_status(flags, changes["status_id"])
        delta = counters.deltas_for(result["status_id"], flags, -1)
        counters.merge(delta, counters.deltas_for(new_status, flags, 1))
        sq.bump_counters(conn, session["id"], delta)
        values["status_id"] = new_status
    if "note" in changes:
        note = changes["note"]
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise Invalid.field("note", f"Must be text of at most {MAX_NOTE} characters.")
        values["note"] = note
    resq.update_result(conn, result_id, **values)


def delete_result(conn: Connection, result_id: int) -> None:
    result = resq.result_by_id(conn, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} not found.")
    session = sq.session_for_update(conn, result["session_id"])
    assert session is not None
    if session["is_closed"]:
        raise Conflict("The session is closed; reopen it to change results.")
    flags = rq.status_flags(conn)
    resq.delete_result(conn, result_id)
    sq.bump_counters(conn, session["id"], counters.deltas_for(result["status_id"], flags, -1))
