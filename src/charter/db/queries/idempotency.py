"""Stored responses for POSTs retried with the same Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.tables import idempotency_keys


def find(conn: Connection, user_id: int, key: str) -> tuple[str, int, bytes] | None:
    """(request hash, status code, body) stored for this user's key."""
    stmt = sa.select(
        idempotency_keys.c.request_hash,
        idempotency_keys.c.status_code,
        idempotency_keys.c.response_body,
    ).where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
    row = conn.execute(stmt).first()
    return None if row is None else (row[0], int(row[1]), bytes(row[2]))


def store(
    conn: Connection,
    user_id: int,
    key: str,
    request_hash: str,
    status_code: int,
    body: bytes,
    now: datetime,
) -> None:
    conn.execute(
        sa.insert(idempotency_keys).values(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response_body=body,
            created_at=now,
        )
    )


def purge_older_than(conn: Connection, cutoff: datetime) -> None:
    conn.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))


def take(conn: Connection, user_id: int, key: str) -> bytes | None:
    """The stored body of this user's key, deleted as it is read (one-time use)."""
    found = find(conn, user_id, key)
    if found is None:
        return None
    conn.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
        )
    )
    return found[2]


def purge_prefix_older_than(conn: Connection, prefix: str, cutoff: datetime) -> None:
    """Delete the keys starting with `prefix` stored before `cutoff`."""
    conn.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.key.startswith(prefix, autoescape=True),
            idempotency_keys.c.created_at < cutoff,
        )
    )
