"""Users, API tokens and project membership."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import api_tokens, project_members, roles, users


def email_key(email: str) -> str:
    """The key a user is found by their email with, the same on every database:
    NFKC-normalised and case-folded in Python (SQLite's lower() folds only ASCII, so
    `Ärger@x.org` would never find `ärger@x.org`). users.email_key holds it, unique."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def _with_key(values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the email_key of their email, when they set one."""
    if "email" in values:
        return {**values, "email_key": email_key(values["email"])}
    return values


def insert_user(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(users).values(**_with_key(values)).returning(users.c.id)
    return int(conn.execute(stmt).scalar_one())


def user_by_email(conn: Connection, email: str) -> RowMapping | None:
    stmt = sa.select(users).where(users.c.email_key == email_key(email))
    return conn.execute(stmt).mappings().first()


def user_by_id(conn: Connection, user_id: int) -> RowMapping | None:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()


_USER_FOR_TOKEN = (
    sa.select(
        users,
        api_tokens.c.id.label("token_id"),
        api_tokens.c.last_used_at,
        api_tokens.c.token_hash,
    )
    .join(api_tokens, api_tokens.c.user_id == users.c.id)
    .where(
        api_tokens.c.token_hash == sa.bindparam("token_hash"),
        api_tokens.c.revoked_at.is_(None),
        users.c.is_active.is_(True),
    )
)


def user_for_token_hash(
    conn: Connection, token_hash: str
) -> tuple[RowMapping, int, datetime | None] | None:
    """(user, token id, token last_used_at) for an unrevoked token of an active user;
    the user row also holds the token's stored `token_hash`."""
    row = conn.execute(_USER_FOR_TOKEN, {"token_hash": token_hash}).mappings().first()
    if row is None:
        return None
    return row, int(row["token_id"]), row["last_used_at"]


def insert_token(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(api_tokens).values(**values).returning(api_tokens.c.id)
    return int(conn.execute(stmt).scalar_one())


def touch_token(conn: Connection, token_id: int, when: datetime) -> None:
    conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=when))


def revoke_token(conn: Connection, token_id: int, when: datetime) -> int:
    stmt = (
        sa.update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )
    return conn.execute(stmt).rowcount


def role_id_by_name(conn: Connection, system_name: str) -> int | None:
    stmt = sa.select(roles.c.id).where(roles.c.system_name == system_name)
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def upsert_member(conn: Connection, project_id: int, user_id: int, role_id: int) -> None:
    key = (project_members.c.project_id == project_id) & (project_members.c.user_id == user_id)
    updated = conn.execute(sa.update(project_members).where(key).values(role_id=role_id)).rowcount
    if not updated:
        conn.execute(
            sa.insert(project_members).values(
                project_id=project_id, user_id=user_id, role_id=role_id
            )
        )


_MEMBER_ROLE = (
    sa.select(roles.c.system_name)
    .join(project_members, project_members.c.role_id == roles.c.id)
    .where(
        project_members.c.project_id == sa.bindparam("project_id"),
        project_members.c.user_id == sa.bindparam("user_id"),
    )
)


def member_role(conn: Connection, project_id: int, user_id: int) -> str | None:
    params = {"project_id": project_id, "user_id": user_id}
    value = conn.execute(_MEMBER_ROLE, params).scalar_one_or_none()
    return None if value is None else str(value)


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


# --- administration: users, tokens and members -----------------------------------------


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


def token_by_id(conn: Connection, token_id: int) -> RowMapping | None:
    stmt = sa.select(api_tokens).where(api_tokens.c.id == token_id)
    return conn.execute(stmt).mappings().first()


def tokens_by_ids(conn: Connection, ids: list[int]) -> list[RowMapping]:
    if not ids:
        return []
    stmt = sa.select(api_tokens).where(api_tokens.c.id.in_(ids))
    return list(conn.execute(stmt).mappings())


def tokens_of_user(conn: Connection, user_id: int) -> list[RowMapping]:
    stmt = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return list(conn.execute(stmt).mappings())


def tokens_condition(user_id: int) -> sa.ColumnElement[bool]:
    """The tokens a user owns (the base condition of their token list)."""
    return api_tokens.c.user_id == user_id


def delete_member(conn: Connection, project_id: int, user_id: int) -> int:
    key = (project_members.c.project_id == project_id) & (project_members.c.user_id == user_id)
    return conn.execute(sa.delete(project_members).where(key)).rowcount
