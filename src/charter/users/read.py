"""Reading users, roles and groups (site admins only) and the members of a project,
in the Testmo shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_admin, require_project
from charter.auth.service import User
from charter.core.clock import iso
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import groups, roles, users
from charter.users import queries as user_queries

# Lookups other packages use (they never import this package's queries).
from charter.users.queries import members_of as members_of
from charter.users.queries import role_id_by_name as role_id_by_name
from charter.users.queries import user_names as user_names

USER_EXPANDS = ("groups", "roles", "users")


ROLE_EXPANDS = ("users",)


GROUP_EXPANDS = ("users",)


def _by(items: Sequence[dict[str, Any]], *keys: str) -> set[int]:
    return {v for item in items for k in keys if (v := item[k]) is not None}


def list_project_users(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    """Members of the project (any role), as {id, name}."""
    require_project(conn, user, project_id, "read")
    base = user_queries.members_of(project_id)
    rows, total = db_listing.rows_page(
        conn, users, base, query.request(), user_queries.users_by_ids
    )
    return Page([{"id": r["id"], "name": r["name"]} for r in rows], total, {})


def user_dict(r: RowMapping, group_ids: list[int]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "email": r["email"],
        "type": 1,  # a regular user: Charter has no API-only or system accounts
        "timezone": r["timezone"],
        "date_format": r["date_format"],
        "time_format": r["time_format"],
        "notifications": 0,
        "tfa_enabled": False,
        "is_active": bool(r["is_active"]),
        "is_forgotten": False,
        "is_api": False,
        "role_id": r["role_id"],
        "groups": group_ids,
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
    }


def _users_page(
    conn: Connection, rows: Sequence[RowMapping], total: int, wanted: frozenset[str]
) -> Page:
    group_ids = user_queries.group_ids_of_users(conn, [r["id"] for r in rows])
    items = [user_dict(r, group_ids.get(r["id"], [])) for r in rows]
    expands: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(wanted):
        if name == "groups":
            expands[name] = user_queries.group_names(
                conn, {g for item in items for g in item["groups"]}
            )
        elif name == "roles":
            expands[name] = user_queries.role_names(conn, _by(items, "role_id"))
        elif name == "users":
            expands[name] = user_queries.user_names(conn, _by(items, "created_by", "updated_by"))
    return Page(items, total, expands)


def list_users(conn: Connection, user: User, query: ListQuery) -> Page:
    require_admin(user)
    rows, total = db_listing.rows_page(
        conn, users, None, query.request(), user_queries.users_by_ids
    )
    return _users_page(conn, rows, total, query.expands)


def get_user(conn: Connection, user: User, user_id: int, expands: frozenset[str]) -> Page:
    require_admin(user)
    rows = user_queries.users_by_ids(conn, [user_id])
    if not rows:
        raise NotFound(f"User {user_id} not found.")
    return _users_page(conn, rows, 1, expands)


def role_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "permissions": r["permissions"],
        "is_default": bool(r["is_default"]),
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
    }


def _roles_page(
    conn: Connection, rows: Sequence[RowMapping], total: int, wanted: frozenset[str]
) -> Page:
    items = [role_dict(r) for r in rows]
    expands: dict[str, list[dict[str, Any]]] = {}
    if "users" in wanted:
        expands["users"] = user_queries.user_names(conn, _by(items, "created_by", "updated_by"))
    return Page(items, total, expands)


def list_roles(conn: Connection, user: User, query: ListQuery) -> Page:
    require_admin(user)
    rows, total = db_listing.rows_page(
        conn, roles, None, query.request(), user_queries.roles_by_ids
    )
    return _roles_page(conn, rows, total, query.expands)


def get_role(conn: Connection, user: User, role_id: int, expands: frozenset[str]) -> Page:
    require_admin(user)
    rows = user_queries.roles_by_ids(conn, [role_id])
    if not rows:
        raise NotFound(f"Role {role_id} not found.")
    return _roles_page(conn, rows, 1, expands)


def group_dict(r: RowMapping, members: list[int]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "members": members,
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
        "updated_at": iso(r["updated_at"]),
        "updated_by": r["updated_by"],
    }


def _groups_page(
    conn: Connection, rows: Sequence[RowMapping], total: int, wanted: frozenset[str]
) -> Page:
    members = user_queries.member_ids_of_groups(conn, [r["id"] for r in rows])
    items = [group_dict(r, members.get(r["id"], [])) for r in rows]
    expands: dict[str, list[dict[str, Any]]] = {}
    if "users" in wanted:
        # The members and the creators/updaters: every user the groups refer to.
        ids = _by(items, "created_by", "updated_by") | {u for i in items for u in i["members"]}
        expands["users"] = user_queries.user_names(conn, ids)
    return Page(items, total, expands)


def list_groups(conn: Connection, user: User, query: ListQuery) -> Page:
    require_admin(user)
    rows, total = db_listing.rows_page(
        conn, groups, None, query.request(), user_queries.groups_by_ids
    )
    return _groups_page(conn, rows, total, query.expands)


def get_group(conn: Connection, user: User, group_id: int, expands: frozenset[str]) -> Page:
    require_admin(user)
    rows = user_queries.groups_by_ids(conn, [group_id])
    if not rows:
        raise NotFound(f"Group {group_id} not found.")
    return _groups_page(conn, rows, 1, expands)
