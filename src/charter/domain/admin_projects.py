"""Administering a project: create, edit, complete and reopen it; its members and
their roles; its configurations. Callers check permissions (domain/permissions.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.db.queries import admin as aq
from charter.db.queries import projects as pq
from charter.db.queries import reference as rq
from charter.db.queries import users as uq
from charter.db.tables import ROLE_NAMES, configs, projects, sessions, users
from charter.domain import admin_common as check
from charter.domain import setup
from charter.domain.auth import User
from charter.domain.clock import iso, utcnow
from charter.domain.errors import Conflict, Invalid, NotFound
from charter.domain.listing import ListQuery, Page
from charter.domain.project_views import project_dict

PROJECT_FIELDS = ("name", "note")
MEMBER_FIELDS = ("role",)
CONFIG_FIELDS = ("name",)


# --- projects ----------------------------------------------------------------------


def project_view(conn: Connection, project_id: int) -> dict[str, Any]:
    """The project as GET /projects/{id} shows it (the If-Match reference)."""
    row = pq.project_by_id(conn, project_id)
    if row is None:
        raise NotFound(f"Project {project_id} not found.")
    return project_dict(row)


def project_written(conn: Connection, project_id: int) -> dict[str, Any]:
    """What a project write answers: the GET shape plus the note (an additive key)."""
    item = project_view(conn, project_id)
    row = pq.project_by_id(conn, project_id)
    assert row is not None
    item["note"] = row["note"]
    return item


def create_project(conn: Connection, user: User, body: Mapping[str, Any]) -> int:
    """A new project; its creator becomes a manager member."""
    name = check.text("name", check.required(body, "name"))
    note = check.optional_text("note", body.get("note"))
    project_id = setup.create_project(conn, name, user.id, note)
    setup.add_member(conn, project_id, user.email, "manager")
    return project_id


def update_project(
    conn: Connection, project_id: int, user_id: int, body: Mapping[str, Any]
) -> None:
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = check.text("name", body["name"])
    if "note" in body:
        values["note"] = check.optional_text("note", body["note"])
    rq.update(conn, projects, project_id, **values, updated_at=utcnow(), updated_by=user_id)


def set_project_completed(conn: Connection, project_id: int, user_id: int, done: bool) -> None:
    """Complete (done) or reopen a project; the same transition twice is a conflict."""
    row = pq.project_by_id(conn, project_id)
    if row is None:
        raise NotFound(f"Project {project_id} not found.")
    if bool(row["is_completed"]) == done:
        state = "completed" if done else "active"
        raise Conflict(f"Project {project_id} is {state} already.")
    now = utcnow()
    rq.update(
        conn,
        projects,
        project_id,
        is_completed=done,
        completed_at=now if done else None,
        updated_at=now,
        updated_by=user_id,
    )


# --- members -----------------------------------------------------------------------


def _member_dicts(rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [
        {"user_id": r["id"], "name": r["name"], "email": r["email"], "role": r["role"]}
        for r in rows
    ]


def list_members(conn: Connection, project_id: int, query: ListQuery) -> Page:
    def shape(rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
        return _member_dicts(aq.members_by_ids(conn, project_id, [r["id"] for r in rows]))

    return check.paged(conn, users, aq.member_condition(project_id), query, shape)


def member_view(conn: Connection, project_id: int, user_id: int) -> dict[str, Any]:
    rows = aq.members_by_ids(conn, project_id, [user_id])
    if not rows:
        raise NotFound(f"User {user_id} is not a member of project {project_id}.")
    return _member_dicts(rows)[0]


def _user_name(conn: Connection, user_id: int) -> str:
    """A user's name for messages (people read names, not ids)."""
    names = uq.user_names(conn, {user_id})
    return str(names[0]["name"]) if names else f"User {user_id}"


def _project_name(conn: Connection, project_id: int) -> str:
    project = pq.project_by_id(conn, project_id)
    return f"project {project['name']}" if project else f"project {project_id}"


def _check_last_manager(conn: Connection, project_id: int, user_id: int) -> None:
    """Refuse (409) when `user_id` is the project's only manager."""
    if uq.member_role(conn, project_id, user_id) != "manager":
        return
    if aq.count_members_with_role(conn, project_id, "manager") <= 1:
        raise Conflict(
            f"{_user_name(conn, user_id)} is the last manager of {_project_name(conn, project_id)}:"
            " make someone else a manager first."
        )


def set_member_role(
    conn: Connection, project_id: int, user_id: int, body: Mapping[str, Any]
) -> bool:
    """Add the user as a member or change their role; True when newly added.
    Demoting the last manager is refused (409) like removing them."""
    role = check.required(body, "role")
    if not isinstance(role, str) or role not in ROLE_NAMES:
        raise Invalid.field("role", f"Must be one of: {', '.join(ROLE_NAMES)}.")
    user = uq.user_by_id(conn, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    current = uq.member_role(conn, project_id, user_id)
    if current is not None and role != "manager":
        _check_last_manager(conn, project_id, user_id)
    setup.add_member(conn, project_id, user["email"], role)
    return current is None


def remove_member(conn: Connection, project_id: int, user_id: int) -> None:
    if uq.member_role(conn, project_id, user_id) is None:
        raise NotFound(f"User {user_id} is not a member of project {project_id}.")
    _check_last_manager(conn, project_id, user_id)
    aq.delete_member(conn, project_id, user_id)


# --- configurations ----------------------------------------------------------------


def config_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "name": r["name"],
        "created_at": iso(r["created_at"]),
    }


def list_configs(conn: Connection, project_id: int, query: ListQuery) -> Page:
    base = configs.c.project_id == project_id
    return check.paged(conn, configs, base, query, lambda rows: [config_dict(r) for r in rows])


def config_row(conn: Connection, config_id: int) -> RowMapping:
    row = rq.row_by_id(conn, configs, config_id)
    if row is None:
        raise NotFound(f"Configuration {config_id} not found.")
    return row


def config_view(conn: Connection, config_id: int) -> dict[str, Any]:
    return config_dict(config_row(conn, config_id))


def create_config(conn: Connection, project_id: int, body: Mapping[str, Any]) -> int:
    return setup.create_config(conn, project_id, check.text("name", check.required(body, "name")))


def update_config(conn: Connection, config_id: int, body: Mapping[str, Any]) -> None:
    if "name" in body:
        rq.update(conn, configs, config_id, name=check.text("name", body["name"]))


def delete_config(conn: Connection, config_id: int) -> None:
    used = aq.session_count_using(conn, sessions.c.config_id, config_id)
    if used:
        raise Conflict(f"Configuration {config_id} is used by {used} session(s).")
    aq.delete_row(conn, configs, config_id)
