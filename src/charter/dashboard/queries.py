"""Aggregates for a project's dashboard.

Everything about a window of days comes from ONE pass over the sessions created in
it, read through the index on (project_id, created_at, ...): the stored per-status
counters of those sessions are summed, so the results table is never scanned. The
cost is about the number of sessions in the window, which the domain bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.expressions import live_elapsed, utc_date
from charter.db.tables import sessions, states


@dataclass(frozen=True)
class WindowRow:
    """Sessions created on one day, run by one user (who started them, else their
    assignee) and in one state, and their sums."""

    day: date
    assignee_id: int | None  # the runner: started_by, else assignee_id
    state_id: int
    sessions: int
    elapsed: int
    slots: tuple[int, ...]  # the sums of the asked counter columns, in their order
    results: int  # total_count: every result, with or without a status


def window(
    conn: Connection,
    project_id: int,
    since: datetime,
    until: datetime,
    slot_columns: Sequence[str],
) -> list[WindowRow]:
    """Sessions with since <= created_at < until, grouped by day, assignee and state."""
    day = utc_date(sessions.c.created_at)
    # Time is credited to whoever started the session (the assignee for sessions
    # started before Charter recorded that).
    runner = sa.func.coalesce(sessions.c.started_by, sessions.c.assignee_id)
    stmt = (
        sa.select(
            day,
            runner,
            sessions.c.state_id,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(live_elapsed()), 0),  # running sessions count
            *(sa.func.coalesce(sa.func.sum(sessions.c[c]), 0) for c in slot_columns),
            sa.func.coalesce(sa.func.sum(sessions.c.total_count), 0),
        )
        .where(
            sessions.c.project_id == project_id,
            sessions.c.created_at >= since,
            sessions.c.created_at < until,
        )
        .group_by(day, runner, sessions.c.state_id)
    )
    n = len(slot_columns)
    return [
        WindowRow(
            r[0],
            r[1],
            int(r[2]),
            int(r[3]),
            int(r[4]),
            tuple(int(v) for v in r[5 : 5 + n]),
            int(r[5 + n]),
        )
        for r in conn.execute(stmt).all()
    ]


def latest_created_at(conn: Connection, project_id: int) -> datetime | None:
    """When the project's newest session was created (one index probe)."""
    stmt = sa.select(sa.func.max(sessions.c.created_at)).where(sessions.c.project_id == project_id)
    value = conn.execute(stmt).scalar()
    return value if isinstance(value, datetime) or value is None else None


def all_states(conn: Connection) -> list[dict[str, Any]]:
    """Every workflow state (a short, site-wide list) in display order."""
    stmt = sa.select(states.c.id, states.c.name).order_by(states.c.display_order, states.c.id)
    return [{"id": int(r[0]), "name": r[1]} for r in conn.execute(stmt).all()]
