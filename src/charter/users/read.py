"""Reading users, roles and groups (site admins only) and the members of a project,
in the Testmo shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


PageOf = Callable[[Connection, Sequence[RowMapping], int, frozenset[str]], Page]
ByIds = Callable[[Connection, Sequence[int]], list[RowMapping]]


def _admin_reads(
    table: Any, by_ids: ByIds, page_of: PageOf, what: str
) -> tuple[Callable[[Connection, User, ListQuery], Page], Callable[..., Page]]:
    """The list and the single read of users, roles or groups: site admins only."""

    def listing(conn: Connection, user: User, query: ListQuery) -> Page:
        require_admin(user)
        rows, total = db_listing.rows_page(conn, table, None, query.request(), by_ids)
        return page_of(conn, rows, total, query.expands)

    def single(conn: Connection, user: User, item_id: int, expands: frozenset[str]) -> Page:
        require_admin(user)
        rows = by_ids(conn, [item_id])
        if not rows:
            raise NotFound(f"{what} {item_id} not found.")
        return page_of(conn, rows, 1, expands)

    return listing, single


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


list_users, get_user = _admin_reads(users, user_queries.users_by_ids, _users_page, "User")


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


list_roles, get_role = _admin_reads(roles, user_queries.roles_by_ids, _roles_page, "Role")


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


list_groups, get_group = _admin_reads(groups, user_queries.groups_by_ids, _groups_page, "Group")
