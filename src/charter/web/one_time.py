"""Something to show once on the next page (a new token's secret), kept between a POST
and the GET it redirects to: the browser holds only a random handle, in an HttpOnly
cookie, never the value and never in a URL.

The server keeps the value in the API's idempotency store (one row per value, deleted
when read, or after LIFETIME when never read), but never in clear: no token secret is
stored anywhere (docs/security.md). The row holds the value XORed with a keystream
derived from the handle (SHAKE-256), under the sha256 of the handle, so the database
(or a backup of it) alone reveals neither the value nor the handle, and the handle
alone is worthless once the row is gone."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.engine import Connection

from charter.core.clock import utcnow
from charter.db import idempotency

_PREFIX = "web-once:"
MAX_HANDLE = 64
LIFETIME = timedelta(minutes=10)  # the handle's cookie lasts 5


def _key(handle: str) -> str:
    return _PREFIX + hashlib.sha256(handle.encode()).hexdigest()


def _masked(handle: str, value: bytes) -> bytes:
    """`value` XOR a keystream of the handle (applied twice, it gives `value` back)."""
    stream = hashlib.shake_256(b"charter one-time value\n" + handle.encode()).digest(len(value))
    return bytes(a ^ b for a, b in zip(value, stream, strict=True))


def put(conn: Connection, user_id: int, value: bytes) -> str:
    """Keep `value` for `user_id`; returns the handle to read it once."""
    handle = secrets.token_urlsafe(24)
    now = utcnow()
    # Values nobody came to see (the browser's handle expires with them) go now.
    idempotency.purge_prefix_older_than(conn, _PREFIX, now - LIFETIME)
    idempotency.store(conn, user_id, _key(handle), "", 200, _masked(handle, value), now)
    return handle


def take(conn: Connection, user_id: int, handle: str | None) -> bytes | None:
    """The value kept under `handle` for this user, once (None afterwards)."""
    if not handle or len(handle) > MAX_HANDLE:
        return None
    kept = idempotency.take(conn, user_id, _key(handle), utcnow() - LIFETIME)
    return None if kept is None else _masked(handle, kept)
