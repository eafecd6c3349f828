"""Browser sign-in sessions (web UI): looked up by the sha256 of the cookie secret."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.queries.users import email_key
from charter.db.tables import users, web_sessions


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


_USER_FOR_SESSION = (
    sa.select(users, web_sessions.c.last_seen_at.label("session_last_seen_at"))
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
