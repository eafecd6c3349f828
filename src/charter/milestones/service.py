"""Milestone writes: create, edit (including moving in the tree), complete, reopen,
delete; the project's milestone counters change in the same transaction.

Writes answer with read.milestone_dict, the same shape as GET /milestones/{id} (so
that If-Match compares equal bodies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.db import locks
from charter.db import rows as db_rows
from charter.db.tables import (
    milestone_types,
    milestones,
    sessions,
)
from charter.milestones import queries as milestone_queries
from charter.milestones import read as milestone_read
from charter.projects import service as project_service
from charter.sessions import read as session_read

MILESTONE_FIELDS = ("name", "parent_id", "type_id", "start_date", "due_date", "note")


def milestone_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    issues = milestone_queries.issues_of(conn, [r["id"] for r in rows])
    return [milestone_read.milestone_dict(r, issues.get(r["id"], [])) for r in rows]


def milestone_row(conn: Connection, milestone_id: int) -> RowMapping:
    row = db_rows.row_by_id(conn, milestones, milestone_id)
    if row is None:
        raise NotFound(f"Milestone {milestone_id} not found.")
    return row


def milestone_view(conn: Connection, milestone_id: int) -> dict[str, Any]:
    return milestone_dicts(conn, [milestone_row(conn, milestone_id)])[0]


def _type_id(conn: Connection, value: Any) -> int | None:
    """A milestone always has a type: null (or no value) means the default type."""
    type_id = inputs.optional_id("type_id", value)
    if type_id is None:
        return db_rows.default_id(conn, milestone_types)
    if db_rows.row_by_id(conn, milestone_types, type_id) is None:
        raise Invalid.field("type_id", f"No such milestone type: {type_id}.")
    return type_id


def _lock_tree(conn: Connection, project_id: int) -> None:
    """Serialise the changes to a project's milestone tree (moves, nesting, deletes):
    a move checks for a cycle by reading the tree, and two concurrent moves that each
    pass that check could otherwise make two milestones each other's parent."""
    locks.serialize(conn, "milestone-tree", project_id)


def lock_milestone(conn: Connection, milestone_id: int) -> None:
    """What an update or delete holds before reading the milestone: its project's tree,
    then its row. The tree first, as every tree change takes it, so that a move (which
    rewrites the root_id of a whole subtree) never waits on a row whose holder waits
    on the tree."""
    _lock_tree(conn, milestone_row(conn, milestone_id)["project_id"])
    locks.row_lock(milestones)(conn, milestone_id)


def _check_parent(conn: Connection, project_id: int, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = db_rows.row_by_id(conn, milestones, parent_id)
    if parent is None or parent["project_id"] != project_id:
        raise Invalid.field("parent_id", "The parent must be a milestone of the same project.")


def create_milestone(
    conn: Connection, project_id: int, user_id: int, body: Mapping[str, Any]
) -> int:
    name = inputs.text("name", inputs.required(body, "name"))
    parent_id = inputs.optional_id("parent_id", body.get("parent_id"))
    if parent_id is not None:
        _lock_tree(conn, project_id)  # the parent's root_id must not move meanwhile
    _check_parent(conn, project_id, parent_id)
    type_id = _type_id(conn, body.get("type_id"))
    return new_milestone(
        conn,
        project_id,
        name,
        user_id,
        parent_id=parent_id,
        type_id=type_id,
        start_date=inputs.day("start_date", body.get("start_date")),
        due_date=inputs.day("due_date", body.get("due_date")),
        note=inputs.optional_text("note", body.get("note")),
    )


def update_milestone(
    conn: Connection, milestone_id: int, user_id: int, body: Mapping[str, Any]
) -> None:
    row = milestone_row(conn, milestone_id)
    project_id = row["project_id"]
    if "parent_id" in body:
        _lock_tree(conn, project_id)
        row = milestone_row(conn, milestone_id)  # as the last move left it
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = inputs.text("name", body["name"])
    if "note" in body:
        values["note"] = inputs.optional_text("note", body["note"])
    if "type_id" in body:
        values["type_id"] = _type_id(conn, body["type_id"])
    for name in ("start_date", "due_date"):
        if name in body:
            values[name] = inputs.day(name, body[name])
    start = values.get("start_date", row["start_date"])
    due = values.get("due_date", row["due_date"])
    if start and due and due < start:
        raise Invalid.field("due_date", "The due date must not be before the start date.")
    subtree: list[int] = []
    if "parent_id" in body:
        parent_id = inputs.optional_id("parent_id", body["parent_id"])
        _check_parent(conn, project_id, parent_id)
        if parent_id != row["parent_id"]:
            subtree = milestone_queries.milestone_subtree(conn, project_id, milestone_id)
            if parent_id in subtree:
                raise Invalid.field(
                    "parent_id", "A milestone cannot move under itself or its descendants."
                )
            values["parent_id"] = parent_id
    db_rows.update(
        conn, milestones, milestone_id, **values, updated_at=utcnow(), updated_by=user_id
    )
    if subtree:
        parent_id = values["parent_id"]
        root_id = milestone_id
        if parent_id is not None:
            parent = milestone_row(conn, parent_id)
            root_id = parent["root_id"] or parent["id"]
        milestone_queries.set_milestone_roots(conn, subtree, root_id)


def set_milestone_completed(conn: Connection, milestone_id: int, user_id: int, done: bool) -> None:
    """Complete (done) or reopen; the project's active/completed counters follow."""
    row = milestone_row(conn, milestone_id)
    project_service.mark_completed(conn, milestones, "Milestone", row, done, user_id)
    step = 1 if done else -1
    project_service.bump_counters(
        conn,
        row["project_id"],
        {"milestone_completed_count": step, "milestone_active_count": -step},
    )


def delete_milestone(conn: Connection, milestone_id: int) -> None:
    """Delete a milestone nothing refers to (409 while sessions or children do)."""
    row = milestone_row(conn, milestone_id)
    _lock_tree(conn, row["project_id"])  # no child moves under it meanwhile
    used = session_read.session_count_using(conn, sessions.c.milestone_id, milestone_id)
    if used:
        raise Conflict(f"Milestone {milestone_id} is used by {used} session(s).")
    if db_rows.is_used(conn, milestones.c.parent_id, milestone_id):
        raise Conflict(f"Milestone {milestone_id} has child milestones.")
    milestone_queries.delete_milestone(conn, milestone_id)
    done = bool(row["is_completed"])
    project_service.bump_counters(
        conn,
        row["project_id"],
        {
            "milestone_count": -1,
            "milestone_completed_count": -int(done),
            "milestone_active_count": -int(not done),
        },
    )


def new_milestone(
    conn: Connection,
    project_id: int,
    name: str,
    created_by: int | None,
    parent_id: int | None = None,
    is_completed: bool = False,
    type_id: int | None = None,
    start_date: date | None = None,
    due_date: date | None = None,
    note: str | None = None,
) -> int:
    """Create a milestone; nested under `parent_id` (same project), root_id is the
    top of its tree (itself for a top-level milestone)."""
    root_id = None
    if parent_id is not None:
        parent = db_rows.row_by_id(conn, milestones, parent_id)
        if parent is None or parent["project_id"] != project_id:
            raise Invalid.field("parent_id", "The parent must be a milestone of the same project.")
        root_id = parent["root_id"] or parent["id"]
    if start_date and due_date and due_date < start_date:
        raise Invalid.field("due_date", "The due date must not be before the start date.")
    if type_id is None:  # the demo and the CLI name no type: the default one
        type_id = db_rows.default_id(conn, milestone_types)
    now = utcnow()
    milestone_id = db_rows.insert(
        conn,
        milestones,
        project_id=project_id,
        parent_id=parent_id,
        root_id=root_id,
        type_id=type_id,
        name=inputs.text("name", name),
        note=note,
        is_started=False,
        is_completed=is_completed,
        start_date=start_date,
        due_date=due_date,
        completed_at=now if is_completed else None,
        created_at=now,
        created_by=created_by,
    )
    if root_id is None:
        db_rows.update(conn, milestones, milestone_id, root_id=milestone_id)
    project_service.bump_counters(
        conn,
        project_id,
        {
            "milestone_count": 1,
            "milestone_completed_count": int(is_completed),
            "milestone_active_count": int(not is_completed),
        },
    )
    return milestone_id
