"""The SQL of authentication: API tokens, browser sign-in sessions, project roles and
the identity lookups (user by id or email)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.core.inputs import email_key
from charter.db.tables import (
    api_tokens,
    project_members,
    projects,
    roles,
    users,
    web_sessions,
)


def insert(
    conn: Connection, id_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(web_sessions).values(
            id_hash=id_hash,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )


# Every project role of the user, as "<project id>:<role>,..." (NULL: none), read by
# the same statement that authenticates: a request then checks membership without a
# query of its own (auth/permissions.require_access). A user is in few projects, and
# (user_id, project_id) is indexed.
_ROLES = (
    sa.select(
        sa.func.aggregate_strings(
            sa.cast(project_members.c.project_id, sa.Text) + ":" + roles.c.system_name, ","
        )
    )
    .select_from(project_members.join(roles, roles.c.id == project_members.c.role_id))
    .where(project_members.c.user_id == users.c.id)
    .scalar_subquery()
    .label("project_roles")
)


def roles_of(row: RowMapping) -> dict[int, str]:
    """The {project id: role} of an authentication row (its `project_roles`)."""
    text = row["project_roles"]
    if not text:
        return {}
    pairs = (item.split(":", 1) for item in text.split(","))
    return {int(project): role for project, role in pairs}


_USER_FOR_SESSION = (
    sa.select(users, web_sessions.c.last_seen_at.label("session_last_seen_at"), _ROLES)
    .join(web_sessions, web_sessions.c.user_id == users.c.id)
    .where(
        web_sessions.c.id_hash == sa.bindparam("id_hash"),
        web_sessions.c.expires_at > sa.bindparam("now"),
        users.c.is_active.is_(True),
    )
)


def user_for_session(conn: Connection, id_hash: str, now: datetime) -> RowMapping | None:
    """The active user of an unexpired session (with `session_last_seen_at`), or None."""
    params = {"id_hash": id_hash, "now": now}
    return conn.execute(_USER_FOR_SESSION, params).mappings().first()


def touch(conn: Connection, id_hash: str, now: datetime) -> None:
    stmt = sa.update(web_sessions).where(web_sessions.c.id_hash == id_hash)
    conn.execute(stmt.values(last_seen_at=now))


def delete(conn: Connection, id_hash: str) -> int:
    stmt = sa.delete(web_sessions).where(web_sessions.c.id_hash == id_hash)
    return conn.execute(stmt).rowcount


def delete_of_user(conn: Connection, user_id: int) -> int:
    stmt = sa.delete(web_sessions).where(web_sessions.c.user_id == user_id)
    return conn.execute(stmt).rowcount


def purge_expired(conn: Connection, now: datetime) -> int:
    stmt = sa.delete(web_sessions).where(web_sessions.c.expires_at <= now)
    return conn.execute(stmt).rowcount


def password_hash_of(conn: Connection, email: str) -> RowMapping | None:
    """id, password_hash and is_active of the user with `email` (case-insensitive)."""
    stmt = sa.select(users.c.id, users.c.password_hash, users.c.is_active).where(
        users.c.email_key == email_key(email)
    )
    return conn.execute(stmt).mappings().first()


def set_password_hash(conn: Connection, user_id: int, password_hash: str | None) -> None:
    stmt = sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash)
    conn.execute(stmt)


_USER_FOR_TOKEN = (
    sa.select(
        users,
        api_tokens.c.id.label("token_id"),
        api_tokens.c.last_used_at,
        api_tokens.c.token_hash,
        _ROLES,
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


def token_by_id(conn: Connection, token_id: int) -> RowMapping | None:
    stmt = sa.select(api_tokens).where(api_tokens.c.id == token_id)
    return conn.execute(stmt).mappings().first()


def revoke_tokens_of_user(conn: Connection, user_id: int, when: datetime) -> int:
    """Revoke every unrevoked token of the user; the number revoked."""
    stmt = (
        sa.update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )
    return conn.execute(stmt).rowcount


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


def user_by_email(conn: Connection, email: str) -> RowMapping | None:
    stmt = sa.select(users).where(users.c.email_key == email_key(email))
    return conn.execute(stmt).mappings().first()


def user_by_id(conn: Connection, user_id: int) -> RowMapping | None:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()


def project_row(conn: Connection, project_id: int) -> RowMapping | None:
    """The project a permission check is about (None: no such project)."""
    return conn.execute(sa.select(projects).where(projects.c.id == project_id)).mappings().first()
