"""Users, API tokens and project membership."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.core.inputs import email_key
from charter.db.rows import _by_ids, grouped_ids, rows_by_ids
from charter.db.tables import api_tokens, group_members, groups, project_members, roles, users


def _with_key(values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the email_key of their email, when they set one."""
    if "email" in values:
        return {**values, "email_key": email_key(values["email"])}
    return values


def insert_user(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(users).values(**_with_key(values)).returning(users.c.id)
    return int(conn.execute(stmt).scalar_one())


def first_admin_id(conn: Connection) -> int | None:
    """The first site admin (the creator named on seeded rows), or None."""
    stmt = sa.select(sa.func.min(users.c.id)).where(users.c.is_admin.is_(True))
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def claim_seeded_roles(conn: Connection, user_id: int) -> None:
    """Name `user_id` as the creator of the roles that name none (seeded ones)."""
    conn.execute(sa.update(roles).where(roles.c.created_by.is_(None)).values(created_by=user_id))


def role_id_by_name(conn: Connection, system_name: str) -> int | None:
    stmt = sa.select(roles.c.id).where(roles.c.system_name == system_name)
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


_USER_NAMES = (
    sa.select(users.c.id, users.c.name)
    .where(users.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(users.c.id)
)


def user_names(conn: Connection, ids: set[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = conn.execute(_USER_NAMES, {"ids": sorted(ids)}).all()
    return [{"id": r[0], "name": r[1]} for r in rows]


def all_users(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(sa.select(users).order_by(users.c.id)).mappings())


def other_active_admins(conn: Connection, user_id: int) -> int:
    """How many active site admins there are besides `user_id`."""
    stmt = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.is_admin.is_(True), users.c.is_active.is_(True), users.c.id != user_id)
    )
    return int(conn.execute(stmt).scalar_one())


def update_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**_with_key(values)))


def role_exists(conn: Connection, role_id: int) -> bool:
    stmt = sa.select(roles.c.id).where(roles.c.id == role_id)
    return conn.execute(stmt).first() is not None


def tokens_of_user(conn: Connection, user_id: int) -> list[RowMapping]:
    stmt = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return list(conn.execute(stmt).mappings())


def tokens_condition(user_id: int) -> sa.ColumnElement[bool]:
    """The tokens a user owns (the base condition of their token list)."""
    return api_tokens.c.user_id == user_id


def members_of(project_id: int) -> sa.ColumnElement[bool]:
    """The base condition listing the members of a project (on the users table)."""
    return users.c.id.in_(
        sa.select(project_members.c.user_id).where(project_members.c.project_id == project_id)
    )


def users_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    return rows_by_ids(conn, users, ids)


def roles_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    return rows_by_ids(conn, roles, ids)


def groups_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    return rows_by_ids(conn, groups, ids)


def group_ids_of_users(conn: Connection, user_ids: Sequence[int]) -> dict[int, list[int]]:
    """{user_id: [group ids, ascending]}."""
    return grouped_ids(conn, group_members.c.user_id, group_members.c.group_id, user_ids)


def member_ids_of_groups(conn: Connection, group_ids: Sequence[int]) -> dict[int, list[int]]:
    """{group_id: [user ids, ascending]}."""
    return grouped_ids(conn, group_members.c.group_id, group_members.c.user_id, group_ids)


def group_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [groups.c.id, groups.c.name], ids)


def role_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [roles.c.id, roles.c.name], ids)


def insert_group(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(groups).values(**values).returning(groups.c.id)
    return int(conn.execute(stmt).scalar_one())


def group_by_name(conn: Connection, name: str) -> RowMapping | None:
    return conn.execute(sa.select(groups).where(groups.c.name == name)).mappings().first()


def add_group_members(conn: Connection, group_id: int, user_ids: Iterable[int]) -> None:
    """Add users to a group (already present ones are left alone)."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return
    stmt = sa.select(group_members.c.user_id).where(
        group_members.c.group_id == group_id, group_members.c.user_id.in_(wanted)
    )
    present = {r[0] for r in conn.execute(stmt)}
    rows = [{"group_id": group_id, "user_id": u} for u in wanted if u not in present]
    if rows:
        conn.execute(sa.insert(group_members), rows)


def insert_role(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(roles).values(**values).returning(roles.c.id)
    return int(conn.execute(stmt).scalar_one())


def set_user_role(conn: Connection, user_id: int, role_id: int | None) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(role_id=role_id))
