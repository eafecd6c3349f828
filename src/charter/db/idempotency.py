"""Stored responses for POSTs retried with the same Idempotency-Key.

Only the sha256 of an API token secret may be stored anywhere, so a response holding
anything shaped like a secret (`POST /api/v1/tokens`) is stored WITHHELD: its status
without its body. A retry of such a key is told so (409) instead of getting the secret
again; a key older than the time to live is never served."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.tables import idempotency_keys

# A token secret is `charter_` + 43 characters of token_urlsafe(32); shorter strings of
# that shape (a name, a redacted echo) are no secret.
_SECRET_SHAPE = re.compile(rb"charter_[A-Za-z0-9_\-]{32,}")
WITHHELD = b""  # the body stored for a response that held a secret


def holds_secret(body: bytes) -> bool:
    return b"charter_" in body and _SECRET_SHAPE.search(body) is not None


def find(
    conn: Connection, user_id: int, key: str, not_before: datetime
) -> tuple[str, int, bytes] | None:
    """(request hash, status code, body) stored for this user's key since `not_before`
    (an older one has expired: None, as if never used). The body is WITHHELD for a
    response that held a secret."""
    stmt = sa.select(
        idempotency_keys.c.request_hash,
        idempotency_keys.c.status_code,
        idempotency_keys.c.response_body,
    ).where(
        idempotency_keys.c.user_id == user_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.created_at >= not_before,
    )
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
            response_body=WITHHELD if holds_secret(body) else body,
            created_at=now,
        )
    )


def purge_older_than(conn: Connection, cutoff: datetime) -> None:
    conn.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))


def take(conn: Connection, user_id: int, key: str, not_before: datetime) -> bytes | None:
    """The stored body of this user's key stored since `not_before`, deleted as it is
    read (one-time use)."""
    found = find(conn, user_id, key, not_before)
    conn.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
        )
    )
    return None if found is None else found[2]


def purge_prefix_older_than(conn: Connection, prefix: str, cutoff: datetime) -> None:
    """Delete the keys starting with `prefix` stored before `cutoff`."""
    conn.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.key.startswith(prefix, autoescape=True),
            idempotency_keys.c.created_at < cutoff,
        )
    )
