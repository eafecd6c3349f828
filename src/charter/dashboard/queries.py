"""Aggregates for a project's dashboard.

Everything about a window of days comes from ONE pass over the sessions created in
it, read through the index on (project_id, created_at, ...): the stored per-status
counters of those sessions are summed, so the results table is never scanned. The
cost is about the number of sessions in the window, which the domain bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.expressions import live_elapsed
from charter.db.tables import session_day_counts, sessions, states


@dataclass(frozen=True)
class WindowRow:
    """Sessions created in the window, run by one user (who started them, else their
    assignee) and in one state, and their stored elapsed."""

    assignee_id: int | None  # the runner: started_by, else assignee_id
    state_id: int
    sessions: int
    elapsed: int


# Time is credited to whoever started the session (the assignee for sessions started
# before Charter recorded that); 0 in session_day_counts for nobody.
_RUNNER = sa.func.coalesce(sessions.c.started_by, sessions.c.assignee_id, 0)


def _window(project_id: int, first: date, last: date) -> sa.Select[Any]:
    c = session_day_counts.c
    return (
        sa.select(c.runner_id, c.state_id, sa.func.sum(c.sessions), sa.func.sum(c.elapsed))
        .where(c.project_id == project_id, c.day >= first, c.day <= last)
        .group_by(c.runner_id, c.state_id)
    )


def _running(project_id: int, since: datetime, until: datetime) -> Any:
    stmt = (
        sa.select(
            _RUNNER,
            sa.func.sum(
                live_elapsed() - sa.func.coalesce(sessions.c.elapsed, 0), type_=sa.BigInteger
            ),
        )
        .where(
            sessions.c.project_id == project_id,
            sessions.c.running_since.is_not(None),
            sessions.c.created_at >= since,
            sessions.c.created_at < until,
        )
        .group_by(_RUNNER)
    )
    return stmt


def statements(project_id: int, since: datetime, until: datetime) -> list[sa.Select[Any]]:
    """The window's two statements, for the tests that read their plans."""
    last = (until - timedelta(days=1)).date()
    return [_window(project_id, since.date(), last), _running(project_id, since, until)]


def window(conn: Connection, project_id: int, first: date, last: date) -> list[WindowRow]:
    """The sessions created from `first` to `last` (UTC days, both included), grouped by
    runner and state, summed by the database from the rollup kept by triggers
    (migration 0008): the cost is the number of (day, runner, state) rows, not of
    sessions, and what comes back is one row per runner and state."""
    return [
        WindowRow(int(r[0]) or None, int(r[1]), int(r[2]), int(r[3]))
        for r in conn.execute(_window(project_id, first, last)).all()
        if int(r[2])
    ]


def running_time(
    conn: Connection, project_id: int, since: datetime, until: datetime
) -> dict[int | None, int]:
    """Per runner, the time the running sessions created in the window have run since
    they were last started or resumed (the rollup holds their stored elapsed only):
    along the partial index of running sessions."""
    rows = conn.execute(_running(project_id, since, until)).all()
    return {int(r[0]) or None: int(r[1] or 0) for r in rows}


def latest_created_at(conn: Connection, project_id: int) -> datetime | None:
    """When the project's newest session was created (one index probe)."""
    stmt = sa.select(sa.func.max(sessions.c.created_at)).where(sessions.c.project_id == project_id)
    value = conn.execute(stmt).scalar()
    return value if isinstance(value, datetime) or value is None else None


def all_states(conn: Connection) -> list[dict[str, Any]]:
    """Every workflow state (a short, site-wide list) in display order."""
    stmt = sa.select(states.c.id, states.c.name).order_by(states.c.display_order, states.c.id)
    return [{"id": int(r[0]), "name": r[1]} for r in conn.execute(stmt).all()]
