"""Announcing changes for live updates (charter/live), in the writer's transaction:
a session or its notes changed. PostgreSQL: NOTIFY on one channel, which the server
delivers to every listening worker, on any host, once the transaction commits (and
never if it rolls back). SQLite: a row in live_events, which the workers poll."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.tables import live_events, sessions

CHANNEL = "charter_live"

# SQLite keeps this many recent events: a poller further behind than that resyncs.
KEEP_EVENTS = 10_000


def notify_column(project_id: int, session_id: int, kind: str) -> sa.ColumnElement[str]:
    """PostgreSQL: the NOTIFY of `announce` as a column, for a write that is already one
    statement (a result insert) so the announcement costs no round trip of its own."""
    payload = json.dumps({"p": project_id, "s": session_id, "k": kind}, separators=(",", ":"))
    return sa.func.pg_notify(CHANNEL, payload)


def announce(conn: Connection, session_id: int, kind: str) -> None:
    """Session `session_id` changed (`kind`: "session" or "notes")."""
    if conn.dialect.name == "postgresql":
        payload = sa.func.json_build_object(
            "p", sessions.c.project_id, "s", sessions.c.id, "k", kind
        ).cast(sa.Text)
        stmt = sa.select(sa.func.pg_notify(CHANNEL, payload)).where(sessions.c.id == session_id)
        conn.execute(stmt)
        return
    project = sa.select(sessions.c.project_id).where(sessions.c.id == session_id)
    insert = (
        sa.insert(live_events)
        .from_select(
            ["project_id", "session_id", "kind"],
            sa.select(project.scalar_subquery(), sa.literal(session_id), sa.literal(kind)),
        )
        .returning(live_events.c.id)
    )
    new_id = conn.execute(insert).scalar()
    if new_id is not None and new_id % 100 == 0:  # purge in batches, by the primary key
        conn.execute(sa.delete(live_events).where(live_events.c.id <= new_id - KEEP_EVENTS))
