"""Fixed-window throttle counters shared by every worker (db/tables.throttle_counters)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from charter.db.tables import throttle_counters as t


def hit(conn: Connection, key: str, now: datetime, window_cutoff: datetime) -> tuple[datetime, int]:
    """Count one event for `key` in ONE statement, atomic on both databases: a new row,
    a window restarted (its start is at or before `window_cutoff`), or count + 1.
    Returns (window start, count in this window)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(t).values(key=key, window_start=now, count=1)
    expired = t.c.window_start <= window_cutoff
    stmt = insert.on_conflict_do_update(
        index_elements=[t.c.key],
        set_={
            # Both expressions read the row as it was (SQL semantics), so they agree.
            "window_start": sa.case(
                (expired, insert.excluded.window_start), else_=t.c.window_start
            ),
            "count": sa.case((expired, 1), else_=t.c.count + 1),
        },
    ).returning(t.c.window_start, t.c.count)
    row = conn.execute(stmt).one()
    return row[0], int(row[1])


def release(conn: Connection, key: str) -> None:
    """Give one event back (an attempt counted before it turned out fine)."""
    conn.execute(sa.update(t).where(t.c.key == key, t.c.count > 0).values(count=t.c.count - 1))


def purge_older_than(conn: Connection, cutoff: datetime) -> int:
    return conn.execute(sa.delete(t).where(t.c.window_start < cutoff)).rowcount
