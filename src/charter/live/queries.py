"""SQL of live updates: where a session belongs, SQLite's event log (see db/live.py
for the writing side), and PostgreSQL's LISTEN connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from charter.db.live import CHANNEL
from charter.db.tables import live_events, sessions


def project_of_session(conn: Connection, session_id: int) -> int | None:
    stmt = sa.select(sessions.c.project_id).where(sessions.c.id == session_id)
    value = conn.execute(stmt).scalar()
    return None if value is None else int(value)


def latest_event_id(conn: Connection) -> int:
    return int(
        conn.execute(sa.select(sa.func.coalesce(sa.func.max(live_events.c.id), 0))).scalar_one()
    )


def events_after(conn: Connection, last: int, limit: int) -> list[tuple[int, int, int, str]]:
    """(id, project_id, session_id, kind) of the events after `last`, oldest first."""
    stmt = (
        sa.select(
            live_events.c.id, live_events.c.project_id, live_events.c.session_id, live_events.c.kind
        )
        .where(live_events.c.id > last)
        .order_by(live_events.c.id)
        .limit(limit)
    )
    return [(int(a), int(b), int(c), str(d)) for a, b, c, d in conn.execute(stmt).all()]


def oldest_event_id(conn: Connection) -> int | None:
    value = conn.execute(sa.select(sa.func.min(live_events.c.id))).scalar()
    return None if value is None else int(value)


async def notifications(database_url: str) -> AsyncIterator[str]:
    """The payloads NOTIFYed on the live channel, from a connection of its own (not
    the pool's: it stays open as long as the worker listens)."""
    import psycopg

    url = make_url(database_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield ""  # listening: nothing NOTIFYed from here on is missed
        async for note in conn.notifies():
            yield note.payload
