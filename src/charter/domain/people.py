"""Creating groups and roles, and giving users a default role (the admin namespaces
are read-only over HTTP for now; tests and tools use these)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from charter.db.queries import people as pq
from charter.db.queries import reference as rq
from charter.db.tables import roles, users
from charter.domain.clock import utcnow
from charter.domain.errors import Conflict, Invalid, NotFound

_SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Bit set of roles.permissions: 1 read, 2 run sessions, 4 manage the project.
ALL_PERMISSIONS = 7


def _name(value: str, max_len: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid.field("name", "The name must not be empty.")
    if len(value) > max_len:
        raise Invalid.field("name", f"The name must be at most {max_len} characters.")
    return value


def _existing_users(conn: Connection, user_ids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(user_ids))
    missing = set(wanted) - rq.existing_ids(conn, users, wanted)
    if missing:
        raise Invalid.field("members", f"Unknown user ids: {sorted(missing)}.")
    return wanted


def create_group(
    conn: Connection, name: str, member_ids: Iterable[int] = (), created_by: int | None = None
) -> int:
    name = _name(name, 200)
    if pq.group_by_name(conn, name) is not None:
        raise Conflict(f"A group named {name!r} exists already.", {"name": ["Already taken."]})
    members = _existing_users(conn, member_ids)
    group_id = pq.insert_group(conn, name=name, created_at=utcnow(), created_by=created_by)
    pq.add_group_members(conn, group_id, members)
    return group_id


def add_group_members(conn: Connection, group_id: int, user_ids: Iterable[int]) -> None:
    if not pq.groups_by_ids(conn, [group_id]):
        raise NotFound(f"Group {group_id} not found.")
    pq.add_group_members(conn, group_id, _existing_users(conn, user_ids))


def create_role(
    conn: Connection,
    name: str,
    system_name: str,
    permissions: int = 1,
    is_default: bool = False,
    created_by: int | None = None,
) -> int:
    if not _SYSTEM_NAME.match(system_name):
        raise Invalid.field(
            "system_name", "Lowercase letters, digits and _, starting with a letter."
        )
    if not 0 <= permissions <= ALL_PERMISSIONS:
        raise Invalid.field("permissions", f"Must be a bit set from 0 to {ALL_PERMISSIONS}.")
    return pq.insert_role(
        conn,
        name=_name(name, 100),
        system_name=system_name,
        permissions=permissions,
        is_default=is_default,
        created_at=utcnow(),
        created_by=created_by,
    )


def set_default_role(conn: Connection, user_id: int, role_id: int | None) -> None:
    """The role a user gets when added to a project without naming one."""
    if not pq.users_by_ids(conn, [user_id]):
        raise NotFound(f"User {user_id} not found.")
    if role_id is not None and rq.row_by_id(conn, roles, role_id) is None:
        raise Invalid.field("role_id", f"Unknown role {role_id}.")
    pq.set_user_role(conn, user_id, role_id)
