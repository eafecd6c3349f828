"""Administering a project: create, edit, complete and reopen it; its members and
their roles; its configurations. Callers check permissions (auth/permissions.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import permissions
from charter.auth import service as auth
from charter.auth.service import User
from charter.catalog import service as catalog_service
from charter.core import inputs
from charter.core.clock import iso, utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db import locks
from charter.db import rows as db_rows
from charter.db.tables import (
    ROLE_NAMES,
    configs,
    projects,
    sessions,
    users,
)
from charter.projects import queries as project_queries

# Lookups other packages use (they never import this package's queries).
from charter.projects.queries import bump_counters as bump_counters
from charter.projects.queries import delete_member as delete_member
from charter.projects.queries import set_counters as set_counters
from charter.projects.queries import set_plain_counters as set_plain_counters

# Lookups other packages use (they never import this package's queries).
from charter.projects.read import project_dict
from charter.sessions import read as session_read
from charter.users import read as user_read

PROJECT_FIELDS = ("name", "note")


MEMBER_FIELDS = ("role",)


CONFIG_FIELDS = ("name",)


def project_view(conn: Connection, project_id: int) -> dict[str, Any]:
    """The project as GET /projects/{id} shows it (the If-Match reference)."""
    row = project_queries.project_by_id(conn, project_id)
    if row is None:
        raise NotFound(f"Project {project_id} not found.")
    return project_dict(row)


def project_written(conn: Connection, project_id: int) -> dict[str, Any]:
    """What a project write answers: the GET shape plus the note (an additive key)."""
    item = project_view(conn, project_id)
    row = project_queries.project_by_id(conn, project_id)
    assert row is not None
    item["note"] = row["note"]
    return item


def create_project(conn: Connection, user: User, body: Mapping[str, Any]) -> int:
    """A new project; its creator becomes a manager member."""
    name = inputs.text("name", inputs.required(body, "name"))
    note = inputs.optional_text("note", body.get("note"))
    return new_managed_project(conn, name, user.email, note)


def new_managed_project(
    conn: Connection, name: str, manager_email: str | None, note: str | None = None
) -> int:
    """Create a project (the API and the CLI alike); with `manager_email`, that user
    manages it and is its creator."""
    manager = None
    if manager_email is not None:
        manager = auth.user_by_email(conn, manager_email)
        if manager is None:
            raise NotFound(f"No user with email {manager_email!r}.")
    project_id = new_project(conn, name, manager["id"] if manager else None, note)
    if manager is not None:
        add_member(conn, project_id, manager["email"], "manager")
    return project_id


def update_project(
    conn: Connection, project_id: int, user_id: int, body: Mapping[str, Any]
) -> None:
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = inputs.text("name", body["name"])
    if "note" in body:
        values["note"] = inputs.optional_text("note", body["note"])
    db_rows.update(conn, projects, project_id, **values, updated_at=utcnow(), updated_by=user_id)


def set_project_completed(conn: Connection, project_id: int, user_id: int, done: bool) -> None:
    """Complete (done) or reopen a project; the same transition twice is a conflict."""
    row = project_queries.project_by_id(conn, project_id)
    if row is None:
        raise NotFound(f"Project {project_id} not found.")
    mark_completed(conn, projects, "Project", row, done, user_id)


def mark_completed(
    conn: Connection, table: Any, what: str, row: RowMapping, done: bool, user_id: int
) -> None:
    """Complete (done) or reopen the project or milestone `row` of `table`; the same
    transition twice is a conflict."""
    if bool(row["is_completed"]) == done:
        state = "completed" if done else "active"
        raise Conflict(f"{what} {row['id']} is {state} already.")
    now = utcnow()
    db_rows.update(
        conn,
        table,
        row["id"],
        is_completed=done,
        completed_at=now if done else None,
        updated_at=now,
        updated_by=user_id,
    )


def _member_dicts(rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {"user_id": r["id"], "name": r["name"], "email": r["email"], "role": r["role"]}
        for r in rows
    ]


def list_members(conn: Connection, project_id: int, query: ListQuery) -> Page:
    base = user_read.members_of(project_id)
    rows, total = db_listing.rows_page(conn, users, base, query.request())
    members = project_queries.members_by_ids(conn, project_id, [r["id"] for r in rows])
    return Page(_member_dicts(members), total)


def member_view(conn: Connection, project_id: int, user_id: int) -> dict[str, Any]:
    rows = project_queries.members_by_ids(conn, project_id, [user_id])
    if not rows:
        raise NotFound(f"User {user_id} is not a member of project {project_id}.")
    return _member_dicts(rows)[0]


def lock_members(conn: Connection, project_id: int) -> None:
    """Hold the project's row until the transaction ends: every change of its members
    takes it before counting managers, so concurrent removals and demotions run one
    after the other and the last manager always stays."""
    locks.row_lock(projects)(conn, project_id)


def _user_name(conn: Connection, user_id: int) -> str:
    """A user's name for messages (people read names, not ids)."""
    names = user_read.user_names(conn, {user_id})
    return str(names[0]["name"]) if names else f"User {user_id}"


def _project_name(conn: Connection, project_id: int) -> str:
    project = project_queries.project_by_id(conn, project_id)
    return f"project {project['name']}" if project else f"project {project_id}"


def _check_last_manager(conn: Connection, project_id: int, user_id: int) -> None:
    """Refuse (409) when `user_id` is the project's only manager."""
    if permissions.member_role(conn, project_id, user_id) != "manager":
        return
    if project_queries.count_members_with_role(conn, project_id, "manager") <= 1:
        raise Conflict(
            f"{_user_name(conn, user_id)} is the last manager of {_project_name(conn, project_id)}:"
            " make someone else a manager first."
        )


def may_know_user(conn: Connection, actor: User, user_id: int) -> bool:
    """Whether `actor` may learn that `user_id` exists and see their name and email:
    site admins (as GET /users shows them), and anyone about the members of the
    projects they are in themselves (as those members pages show them)."""
    return (
        actor.is_admin
        or actor.id == user_id
        or project_queries.user_shares_a_project(conn, actor.id, user_id)
    )


def member_candidates(conn: Connection, actor: User, project_id: int) -> list[dict[str, Any]]:
    """The active users `actor` may add to the project: everyone for a site admin, the
    members of their other projects for a manager (never every user's email)."""
    co_member_of = None if actor.is_admin else actor.id
    rows = project_queries.member_candidates(conn, project_id, co_member_of)
    return [{"id": r["id"], "name": r["name"], "email": r["email"]} for r in rows]


def set_member_role(
    conn: Connection,
    project_id: int,
    user_id: int,
    body: Mapping[str, Any],
    *,
    actor: User,
) -> bool:
    """Add the user as a member or change their role; True when newly added.
    Demoting the last manager is refused (409) like removing them. A user `actor` may
    not know of (may_know_user) is not found (404), as one who does not exist."""
    role = inputs.required(body, "role")
    if not isinstance(role, str) or role not in ROLE_NAMES:
        raise Invalid.field("role", f"Must be one of: {', '.join(ROLE_NAMES)}.")
    user = auth.user_by_id(conn, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    lock_members(conn, project_id)
    current = permissions.member_role(conn, project_id, user_id)
    if current is None and not may_know_user(conn, actor, user_id):
        raise NotFound(f"User {user_id} not found.")
    if current is not None and role != "manager":
        _check_last_manager(conn, project_id, user_id)
    role_id = user_read.role_id_by_name(conn, role)
    assert role_id is not None, "roles are seeded by the first migration"
    project_queries.upsert_member(conn, project_id, user_id, role_id)
    return current is None


def remove_member(conn: Connection, project_id: int, user_id: int) -> None:
    lock_members(conn, project_id)
    if permissions.member_role(conn, project_id, user_id) is None:
        raise NotFound(f"User {user_id} is not a member of project {project_id}.")
    _check_last_manager(conn, project_id, user_id)
    project_queries.delete_member(conn, project_id, user_id)


def config_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "name": r["name"],
        "created_at": iso(r["created_at"]),
    }


def list_configs(conn: Connection, project_id: int, query: ListQuery) -> Page:
    base = project_queries.configs_of(project_id)
    rows, total = db_listing.rows_page(conn, configs, base, query.request())
    return Page([config_dict(r) for r in rows], total)


def config_row(conn: Connection, config_id: int) -> RowMapping:
    row = db_rows.row_by_id(conn, configs, config_id)
    if row is None:
        raise NotFound(f"Configuration {config_id} not found.")
    return row


def config_view(conn: Connection, config_id: int) -> dict[str, Any]:
    return config_dict(config_row(conn, config_id))


def create_config(conn: Connection, project_id: int, body: Mapping[str, Any]) -> int:
    return catalog_service.new_config(
        conn, project_id, inputs.text("name", inputs.required(body, "name"))
    )


def update_config(conn: Connection, config_id: int, body: Mapping[str, Any]) -> None:
    if "name" in body:
        db_rows.update(conn, configs, config_id, name=inputs.text("name", body["name"]))


def delete_config(conn: Connection, config_id: int) -> None:
    used = session_read.session_count_using(conn, sessions.c.config_id, config_id)
    if used:
        raise Conflict(f"Configuration {config_id} is used by {used} session(s).")
    db_rows.delete_row(conn, configs, config_id)


def new_project(
    conn: Connection, name: str, created_by: int | None, note: str | None = None
) -> int:
    """A new project with the default note kinds (SBTM)."""
    project_id = project_queries.insert_project(
        conn,
        name=inputs.text("name", name),
        note=note,
        is_completed=False,
        session_count=0,
        session_active_count=0,
        session_closed_count=0,
        milestone_count=0,
        milestone_active_count=0,
        milestone_completed_count=0,
        created_at=utcnow(),
        created_by=created_by,
    )
    catalog_service.add_default_kinds(conn, project_id)
    return project_id


def add_member(conn: Connection, project_id: int, email: str, role: str) -> None:
    """The operator's `member add`: the API's rules, demoting the last manager included."""
    if role not in ROLE_NAMES:
        raise Invalid.field("role", f"Must be one of: {', '.join(ROLE_NAMES)}.")
    if project_queries.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    user = auth.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    lock_members(conn, project_id)
    if role != "manager":
        _check_last_manager(conn, project_id, user["id"])
    role_id = user_read.role_id_by_name(conn, role)
    assert role_id is not None, "roles are seeded by the first migration"
    project_queries.upsert_member(conn, project_id, user["id"], role_id)
