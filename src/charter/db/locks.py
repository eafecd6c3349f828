"""Locks that make a check and the write after it one atomic step.

SQLite: every write transaction starts with BEGIN IMMEDIATE (db/engine.py), so one
writer runs at a time and these are no-ops. PostgreSQL runs write transactions
concurrently at READ COMMITTED: a rule checked by reading ("is this If-Match still
current?", "is another manager left?", "would this parent make a cycle?") holds only
if every transaction that could break it takes the same lock BEFORE reading. A
statement after the lock sees what the transaction that held it committed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Locker = Callable[[Connection, Any], None]  # (conn, the object's key) -> None


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lock_rows(conn: Connection, table: sa.Table, condition: sa.ColumnElement[bool]) -> None:
    """Lock the rows of `table` matching `condition` until the transaction ends (in
    id order, so two lockers never deadlock on each other). FOR NO KEY UPDATE: it
    excludes every other writer of the rows, but not the inserts elsewhere whose
    foreign keys point at them (a result of a locked session, a session of a locked
    user's)."""
    if _postgres(conn):
        stmt = sa.select(table.c.id).where(condition).order_by(table.c.id)
        stmt = stmt.with_for_update(key_share=True)
        conn.execute(stmt).all()


def row_lock(table: sa.Table) -> Locker:
    """A Locker for objects keyed by `table.id`."""

    def lock(conn: Connection, key: Any) -> None:
        lock_rows(conn, table, table.c.id == key)

    return lock


def serialize(conn: Connection, name: str, key: int = 0) -> None:
    """Until the transaction ends, hold the lock named (`name`, `key`): transactions
    asking for the same one run one after the other (a PostgreSQL advisory lock)."""
    if _postgres(conn):
        space = zlib.crc32(name.encode()) - 2**31  # a stable signed 32-bit number
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(space, key))).all()
