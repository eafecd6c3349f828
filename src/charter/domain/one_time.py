"""Something to show once on the next page (a new token's secret), kept on the server
between a POST and the GET it redirects to: the browser holds only a random handle,
in a cookie, never the value and never in a URL. Stored in the API's idempotency
store: one row per value, deleted when read, or after LIFETIME when never read."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.engine import Connection

from charter.db.queries import idempotency
from charter.domain.clock import utcnow

_PREFIX = "web-once:"
MAX_HANDLE = 64
LIFETIME = timedelta(minutes=10)  # the handle's cookie lasts 5


def put(conn: Connection, user_id: int, value: bytes) -> str:
    """Keep `value` for `user_id`; returns the handle to read it once."""
    handle = secrets.token_urlsafe(24)
    now = utcnow()
    # Values nobody came to see (the browser's handle expires with them) go now.
    idempotency.purge_prefix_older_than(conn, _PREFIX, now - LIFETIME)
    idempotency.store(conn, user_id, _PREFIX + handle, "", 200, value, now)
    return handle


def take(conn: Connection, user_id: int, handle: str | None) -> bytes | None:
    """The value kept under `handle` for this user, once (None afterwards)."""
    if not handle or len(handle) > MAX_HANDLE:
        return None
    return idempotency.take(conn, user_id, _PREFIX + handle)
