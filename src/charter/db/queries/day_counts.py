"""Results per project, UTC day and status (table result_day_counts): bumped in the
same transaction as every result write, rebuilt from session_results by recount."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from charter.db.tables import result_day_counts, session_results

NO_STATUS = 0  # the status_id of results without a status
Key = tuple[date, int]  # (day, status_id or NO_STATUS)


class utc_date(FunctionElement[date]):
    """A naive-UTC timestamp column's day, as a date."""

    type = sa.Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS date)"


def key_of(created_at: datetime, status_id: int | None) -> Key:
    return created_at.date(), NO_STATUS if status_id is None else status_id


def bump(conn: Connection, project_id: int, deltas: Mapping[Key, int]) -> None:
    """Add `deltas` ((day, status) -> n, n may be negative) to the project's counts."""
    rows = [
        {"project_id": project_id, "day": day, "status_id": status, "count": n}
        for (day, status), n in deltas.items()
        if n
    ]
    if not rows:
        return
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        result_day_counts
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["project_id", "day", "status_id"],
        set_={"count": result_day_counts.c["count"] + insert.excluded["count"]},
    )
    conn.execute(stmt, rows)


def bump_session(conn: Connection, session_id: int, project_id: int, sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) every result of a session (e.g. on delete)."""
    day = utc_date(session_results.c.created_at)
    status = sa.func.coalesce(session_results.c.status_id, NO_STATUS)
    stmt = (
        sa.select(day, status, sa.func.count())
        .where(session_results.c.session_id == session_id)
        .group_by(day, status)
    )
    deltas = {(_as_date(d), int(s)): sign * int(n) for d, s, n in conn.execute(stmt)}
    bump(conn, project_id, deltas)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _from_results() -> sa.Select[Any]:
    day = utc_date(session_results.c.created_at)
    status = sa.func.coalesce(session_results.c.status_id, NO_STATUS)
    return sa.select(session_results.c.project_id, day, status, sa.func.count()).group_by(
        session_results.c.project_id, day, status
    )


def recounted(conn: Connection) -> Counter[tuple[int, date, int]]:
    """What the table should hold, counted from session_results."""
    return Counter(
        {(int(p), _as_date(d), int(s)): int(n) for p, d, s, n in conn.execute(_from_results())}
    )


def stored(conn: Connection) -> Counter[tuple[int, date, int]]:
    """What the table holds (zero rows left out)."""
    c = result_day_counts.c
    stmt = sa.select(c.project_id, c.day, c.status_id, c["count"]).where(c["count"] != 0)
    return Counter({(int(p), _as_date(d), int(s)): int(n) for p, d, s, n in conn.execute(stmt)})


def rebuild(conn: Connection) -> bool:
    """Rebuild the table from session_results; True when it had drifted."""
    drifted = stored(conn) != recounted(conn)
    conn.execute(sa.delete(result_day_counts))
    c = result_day_counts.c
    conn.execute(
        sa.insert(result_day_counts).from_select(
            [c.project_id, c.day, c.status_id, c["count"]], _from_results()
        )
    )
    return drifted


def per_day(
    conn: Connection, project_id: int, first: date, last: date
) -> list[tuple[date, int, int]]:
    """(day, status_id or NO_STATUS, count) of the project from `first` to `last`."""
    c = result_day_counts.c
    stmt = sa.select(c.day, c.status_id, c["count"]).where(
        c.project_id == project_id, c.day >= first, c.day <= last, c["count"] != 0
    )
    return [(_as_date(d), int(s), int(n)) for d, s, n in conn.execute(stmt)]
