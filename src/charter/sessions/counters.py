"""Session status counters: deltas applied on every result write, and the recount
that rebuilds them from the results (the two must always agree)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from charter.catalog import read as catalog_read
from charter.db.tables import COUNTER_COLUMNS, STATUS_SLOT_COLUMNS
from charter.projects import read as project_read
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import queries as session_queries

StatusFlags = Mapping[int, Mapping[str, Any]]


def slot_column(status_id: int) -> str:
    """Status 1 (Untested) counts into untested_count; status N+1 into status{N}_count."""
    return STATUS_SLOT_COLUMNS[status_id - 1]


def deltas_for(status_id: int | None, flags: StatusFlags, sign: int = 1) -> dict[str, int]:
    """Counter changes for adding (sign=1) or removing (sign=-1) one result."""
    out = {"total_count": sign}
    if status_id is not None:
        out[slot_column(status_id)] = sign
        status = flags[status_id]
        if status["is_passed"]:
            out["success_count"] = sign
        if status["is_failed"]:
            out["failure_count"] = sign
        if status["is_final"]:
            out["completed_count"] = sign
    return out


def merge(into: dict[str, int], more: Mapping[str, int]) -> dict[str, int]:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value
    return into


def counters_from_histogram(
    histogram: Mapping[int | None, int], flags: StatusFlags
) -> dict[str, int]:
    totals = dict.fromkeys(COUNTER_COLUMNS, 0)
    for status_id, n in histogram.items():
        for key, value in deltas_for(status_id, flags).items():
            totals[key] += value * n
    return totals


def recount(conn: Connection, session_ids: list[int] | None = None) -> int:
    """Rebuild session counters from their results (and project session counters).
    Returns how many sessions had drifted."""
    flags = catalog_read.status_flags(conn)
    histograms = session_queries.result_status_histogram(conn, session_ids)
    stored = session_queries.stored_counters(conn, session_ids)
    drifted = 0
    for session_id, current in stored.items():
        wanted = counters_from_histogram(histograms.get(session_id, {}), flags)
        if wanted != current:
            drifted += 1
            session_queries.update_session(conn, session_id, **wanted)
    if session_ids is None:
        for project_id in project_read.all_project_ids(conn):
            project_service.set_counters(
                conn, project_id, session_queries.project_session_counts(conn, project_id)
            )
        result_service.rebuild_day_counts(conn)  # the dashboard's results per day
        session_queries.rebuild_session_days(conn)  # and its sessions per day
    return drifted


def verify(conn: Connection) -> list[int]:
    """Ids of sessions whose stored counters differ from a recount (for tests and ops)."""
    flags = catalog_read.status_flags(conn)
    histograms = session_queries.result_status_histogram(conn)
    return [
        sid
        for sid, current in session_queries.stored_counters(conn).items()
        if counters_from_histogram(histograms.get(sid, {}), flags) != current
    ]


def rollups_drifted(conn: Connection) -> list[str]:
    """The per-day rollups the dashboard reads that differ from a recount (for tests
    and ops): `result_day_counts` (kept by the result writes), `session_day_counts`
    (kept by triggers)."""
    drifted = []
    if result_service.day_counts_drifted(conn):
        drifted.append("result_day_counts")
    if session_queries.session_days_drifted(conn):
        drifted.append("session_day_counts")
    return drifted
