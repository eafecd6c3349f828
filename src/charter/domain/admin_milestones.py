"""Milestone writes: create, edit (including moving in the tree), complete, reopen,
delete; the project's milestone counters change in the same transaction.

`milestone_dict` is the Milestone object (the fields of Testmo's Milestone model);
read routes may share it so that writes and reads answer the same shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.db import locks
from charter.db.queries import admin as aq
from charter.db.queries import projects as pq
from charter.db.queries import reference as rq
from charter.db.tables import milestone_types, milestones, sessions
from charter.domain import admin_common as check
from charter.domain import setup
from charter.domain.clock import iso, utcnow
from charter.domain.errors import Conflict, Invalid, NotFound

MILESTONE_FIELDS = ("name", "parent_id", "type_id", "start_date", "due_date", "note")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def milestone_dict(r: RowMapping, issue_ids: Sequence[int]) -> dict[str, Any]:
    """The Milestone object, key for key as GET /milestones/{id} answers it (so that
    If-Match compares equal bodies)."""
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "root_id": r["root_id"] if r["root_id"] is not None else r["id"],
        "parent_id": r["parent_id"],
        "type_id": r["type_id"],
        "name": r["name"],
        "note": r["note"],
        "is_started": bool(r["is_started"]),
        "is_completed": bool(r["is_completed"]),
        "start_date": _day(r["start_date"]),
        "due_date": _day(r["due_date"]),
        "automation_tags": [],
        "issues": list(issue_ids),
        "links": [],
        "started_at": iso(r["started_at"]),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
        "completed_at": iso(r["completed_at"]),
    }


def milestone_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    issues = aq.milestone_issue_ids(conn, [r["id"] for r in rows])
    return [milestone_dict(r, issues.get(r["id"], [])) for r in rows]


def milestone_row(conn: Connection, milestone_id: int) -> RowMapping:
    row = rq.row_by_id(conn, milestones, milestone_id)
    if row is None:
        raise NotFound(f"Milestone {milestone_id} not found.")
    return row


def milestone_view(conn: Connection, milestone_id: int) -> dict[str, Any]:
    return milestone_dicts(conn, [milestone_row(conn, milestone_id)])[0]


def _type_id(conn: Connection, value: Any) -> int | None:
    type_id = check.optional_id("type_id", value)
    if type_id is not None and rq.row_by_id(conn, milestone_types, type_id) is None:
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
    parent = rq.row_by_id(conn, milestones, parent_id)
    if parent is None or parent["project_id"] != project_id:
        raise Invalid.field("parent_id", "The parent must be a milestone of the same project.")


def create_milestone(
    conn: Connection, project_id: int, user_id: int, body: Mapping[str, Any]
) -> int:
    name = check.text("name", check.required(body, "name"))
    parent_id = check.optional_id("parent_id", body.get("parent_id"))
    if parent_id is not None:
        _lock_tree(conn, project_id)  # the parent's root_id must not move meanwhile
    _check_parent(conn, project_id, parent_id)
    type_id = _type_id(conn, body["type_id"]) if "type_id" in body else None
    if "type_id" not in body:
        type_id = rq.default_id(conn, milestone_types)
    return setup.create_milestone(
        conn,
        project_id,
        name,
        user_id,
        parent_id=parent_id,
        type_id=type_id,
        start_date=check.day("start_date", body.get("start_date")),
        due_date=check.day("due_date", body.get("due_date")),
        note=check.optional_text("note", body.get("note")),
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
        values["name"] = check.text("name", body["name"])
    if "note" in body:
        values["note"] = check.optional_text("note", body["note"])
    if "type_id" in body:
        values["type_id"] = _type_id(conn, body["type_id"])
    for name in ("start_date", "due_date"):
        if name in body:
            values[name] = check.day(name, body[name])
    start = values.get("start_date", row["start_date"])
    due = values.get("due_date", row["due_date"])
    if start and due and due < start:
        raise Invalid.field("due_date", "The due date must not be before the start date.")
    subtree: list[int] = []
    if "parent_id" in body:
        parent_id = check.optional_id("parent_id", body["parent_id"])
        _check_parent(conn, project_id, parent_id)
        if parent_id != row["parent_id"]:
            subtree = aq.milestone_subtree(conn, project_id, milestone_id)
            if parent_id in subtree:
                raise Invalid.field(
                    "parent_id", "A milestone cannot move under itself or its descendants."
                )
            values["parent_id"] = parent_id
    rq.update(conn, milestones, milestone_id, **values, updated_at=utcnow(), updated_by=user_id)
    if subtree:
        parent_id = values["parent_id"]
        root_id = milestone_id
        if parent_id is not None:
            parent = milestone_row(conn, parent_id)
            root_id = parent["root_id"] or parent["id"]
        aq.set_milestone_roots(conn, subtree, root_id)


def set_milestone_completed(conn: Connection, milestone_id: int, user_id: int, done: bool) -> None:
    """Complete (done) or reopen; the project's active/completed counters follow."""
    row = milestone_row(conn, milestone_id)
    if bool(row["is_completed"]) == done:
        state = "completed" if done else "active"
        raise Conflict(f"Milestone {milestone_id} is {state} already.")
    now = utcnow()
    rq.update(
        conn,
        milestones,
        milestone_id,
        is_completed=done,
        completed_at=now if done else None,
        updated_at=now,
        updated_by=user_id,
    )
    step = 1 if done else -1
    pq.bump_counters(
        conn,
        row["project_id"],
        {"milestone_completed_count": step, "milestone_active_count": -step},
    )


def delete_milestone(conn: Connection, milestone_id: int) -> None:
    """Delete a milestone nothing refers to (409 while sessions or children do)."""
    row = milestone_row(conn, milestone_id)
    _lock_tree(conn, row["project_id"])  # no child moves under it meanwhile
    used = aq.session_count_using(conn, sessions.c.milestone_id, milestone_id)
    if used:
        raise Conflict(f"Milestone {milestone_id} is used by {used} session(s).")
    if aq.is_used(conn, milestones.c.parent_id, milestone_id):
        raise Conflict(f"Milestone {milestone_id} has child milestones.")
    aq.delete_milestone(conn, milestone_id)
    done = bool(row["is_completed"])
    pq.bump_counters(
        conn,
        row["project_id"],
        {
            "milestone_count": -1,
            "milestone_completed_count": -int(done),
            "milestone_active_count": -int(not done),
        },
    )
