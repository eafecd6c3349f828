"""Session results (the notes written while testing), and the results per day the
dashboard charts."""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from charter.db import live as db_live
from charter.db import locks
from charter.db import rows as db_rows
from charter.db.expressions import iso_utc, utc_date
from charter.db.tables import (
    note_history,
    result_day_counts,
    result_field_values,
    result_issues,
    session_results,
    sessions,
    statuses,
    template_fields,
)

_INSERT_RESULTS = sa.insert(session_results).returning(
    session_results.c.id, sort_by_parameter_order=True
)


def insert_results(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) and return their ids in the same order,
    as multi-row INSERT ... RETURNING statements."""
    if not rows:
        return []
    return [int(r[0]) for r in conn.execute(_INSERT_RESULTS, list(rows)).all()]


# --- adding results in the fewest statements (issue 16) --------------------------------
# Adding one result used to take 14 statements. Now: the session (locked), with what
# validating the results needs, in one statement (session_to_add_to); the results, the
# session's counters, the dashboard's day counts and the live-update NOTIFY in one
# more on PostgreSQL (add_and_count; three on SQLite, which has no writable CTEs and
# keeps the day counts by trigger, and for a bulk); the answer is built
# from what was written, without reading it back (results/read.added).

# Every status's flags as "<id>:<is_active><is_passed><is_failed><is_final>,...": the
# statuses are few, and reading them all beside the session spares a statement.
_FLAG_NAMES = ("is_active", "is_passed", "is_failed", "is_final")
_STATUS_FLAGS = (
    sa.select(
        sa.func.aggregate_strings(
            functools.reduce(
                operator.add,
                [sa.cast(sa.cast(statuses.c[f], sa.Integer), sa.Text) for f in _FLAG_NAMES],
                sa.cast(statuses.c.id, sa.Text) + ":",
            ),
            ",",
        )
    )
    .scalar_subquery()
    .label("status_flags")
)

# How many result fields the session's template has: none (the usual case) spares
# reading them.
_RESULT_FIELD_COUNT = (
    sa.select(sa.func.count())
    .where(
        template_fields.c.template_id == sessions.c.template_id,
        template_fields.c.scope == "result",
    )
    .scalar_subquery()
    .label("result_field_count")
)

_SESSION_TO_ADD_TO = sa.select(sessions, _RESULT_FIELD_COUNT, _STATUS_FLAGS).where(
    sessions.c.id == sa.bindparam("id")
)


def session_to_add_to(
    conn: Connection, session_id: int
) -> tuple[RowMapping, dict[int, dict[str, bool]]] | None:
    """(the session's row plus `result_field_count`, {status id: flags}) or None; the
    row is locked until the transaction ends (PostgreSQL; SQLite holds the database
    write lock already), as sessions.queries.session_for_update does."""
    stmt = _SESSION_TO_ADD_TO
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=sessions)
    row = conn.execute(stmt, {"id": session_id}).mappings().first()
    if row is None:
        return None
    flags: dict[int, dict[str, bool]] = {}
    for item in (row["status_flags"] or "").split(","):
        if item:
            status_id, bits = item.split(":", 1)
            flags[int(status_id)] = {f: b == "1" for f, b in zip(_FLAG_NAMES, bits, strict=True)}
    return row, flags


def add_and_count(
    conn: Connection,
    session_id: int,
    rows: Sequence[dict[str, Any]],
    counter_deltas: Mapping[str, int],
    project_id: int,
    day_deltas: Mapping[DayKey, int],
) -> list[int]:
    """Insert result rows (all with the same keys), add `counter_deltas` to the
    session's counters and `day_deltas` to the project's day counts; the new ids in
    the order of `rows`, announced to open pages (db/live.py). One result on
    PostgreSQL: one statement (data-modifying CTEs, the NOTIFY as a column).
    Otherwise three (SQLite: the results, the counters and the live event; its
    triggers keep the day counts): SQLite has no writable CTEs (in-process: no round
    trips), and a
    bulk's rows go as one executemany of a cached statement (a multi-row VALUES of
    them would be built and compiled anew each time: measured twice as slow for 100)."""
    if not rows:
        return []
    if len(rows) > 1 or conn.dialect.name != "postgresql":
        ids = insert_results(conn, rows)
        bump_day_counts(conn, project_id, day_deltas)  # SQLite: its triggers did
        bump_session_counters(conn, session_id, counter_deltas)
        db_live.announce(conn, session_id, "notes")
        return ids
    added = sa.insert(session_results).values(rows[0]).returning(session_results.c.id)
    stmt = sa.select(
        added.cte("added").c.id, db_live.notify_column(project_id, session_id, "notes")
    )
    counted = _counters_update(session_id, counter_deltas)
    if counted is not None:
        stmt = stmt.add_cte(counted.cte("counted"))
    days = _day_counts_upsert(conn, project_id, day_deltas)
    if days is not None:
        stmt = stmt.add_cte(days[0].values(days[1]).cte("days"))
    return [int(i) for i in conn.execute(stmt).scalars()]


def _counters_update(session_id: int, deltas: Mapping[str, int]) -> sa.Update | None:
    values = {name: sessions.c[name] + delta for name, delta in deltas.items() if delta}
    if not values:
        return None
    return sa.update(sessions).where(sessions.c.id == session_id).values(**values)


def bump_session_counters(conn: Connection, session_id: int, deltas: Mapping[str, int]) -> None:
    """Add `deltas` to a session's counter columns (no statement when all are 0)."""
    stmt = _counters_update(session_id, deltas)
    if stmt is not None:
        conn.execute(stmt)


def of_session(session_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a session's result list."""
    return session_results.c.session_id == session_id


def result_by_id(conn: Connection, result_id: int) -> RowMapping | None:
    stmt = sa.select(session_results).where(session_results.c.id == result_id)
    return conn.execute(stmt).mappings().first()


def lock_session_of(conn: Connection, result_id: int) -> None:
    """Lock the session of a result (PostgreSQL): result writes lock the session row
    first, so the order is the same everywhere and If-Match checks hold."""
    session_id = sa.select(session_results.c.session_id).where(session_results.c.id == result_id)
    locks.lock_rows(conn, sessions, sessions.c.id == session_id.scalar_subquery())


def update_result(conn: Connection, result_id: int, **values: Any) -> None:
    stmt = sa.update(session_results).where(session_results.c.id == result_id).values(**values)
    conn.execute(stmt)


def delete_result(conn: Connection, result_id: int) -> None:
    conn.execute(sa.delete(note_history).where(note_history.c.result_id == result_id))
    conn.execute(sa.delete(result_issues).where(result_issues.c.result_id == result_id))
    stmt = sa.delete(result_field_values).where(result_field_values.c.result_id == result_id)
    conn.execute(stmt)
    conn.execute(sa.delete(session_results).where(session_results.c.id == result_id))


def keep_history(conn: Connection, result: RowMapping, edited_at: datetime, edited_by: int) -> None:
    """Keep the result's current text and status as a version of its history."""
    row = {
        "result_id": result["id"],
        "status_id": result["status_id"],
        "note": result["note"],
        "edited_at": edited_at,
        "edited_by": edited_by,
    }
    conn.execute(sa.insert(note_history), [row])


_HISTORY_OF = (
    sa.select(
        note_history.c.id,
        note_history.c.result_id,
        note_history.c.status_id,
        note_history.c.note,
        iso_utc(note_history.c.edited_at).label("edited_at"),
        note_history.c.edited_by,
    )
    .where(note_history.c.result_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(note_history.c.result_id, note_history.c.id.desc())
)


def history_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[RowMapping]]:
    """The earlier versions of results, newest first, by result id (one query)."""
    out: dict[int, list[RowMapping]] = {}
    if ids:
        for row in conn.execute(_HISTORY_OF, {"ids": list(ids)}).mappings():
            out.setdefault(int(row["result_id"]), []).append(row)
    return out


def set_result_issues(conn: Connection, result_id: int, issue_ids: Sequence[int]) -> None:
    conn.execute(sa.delete(result_issues).where(result_issues.c.result_id == result_id))
    rows = [{"result_id": result_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(result_issues), rows)


_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)


# What the API shows of a result: every column, timestamps already as API text.
VIEW_COLUMNS = [
    iso_utc(c).label(c.name) if isinstance(c.type, sa.DateTime) else c
    for c in session_results.columns
]


_RESULTS_BY_IDS = sa.select(*VIEW_COLUMNS).where(session_results.c.id.in_(_IDS))


_LINKS_OF = sa.union_all(
    sa.select(
        sa.literal(0).label("kind"),
        result_issues.c.result_id,
        result_issues.c.issue_id.label("key"),
        sa.null().label("text"),
    ).where(result_issues.c.result_id.in_(_IDS)),
    sa.select(
        sa.literal(1),
        result_field_values.c.result_id,
        result_field_values.c.field_id,
        result_field_values.c.value,
    ).where(result_field_values.c.result_id.in_(_IDS)),
).order_by("kind", "result_id", "key")


def results_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    """Rows of VIEW_COLUMNS in the order of `ids`."""
    if not ids:
        return []
    found = conn.execute(_RESULTS_BY_IDS, {"ids": list(ids)}).mappings().all()
    rows = {r["id"]: r for r in found}
    return [rows[i] for i in ids if i in rows]


def links_of(
    conn: Connection, ids: Sequence[int]
) -> tuple[dict[int, list[int]], dict[int, dict[int, str]]]:
    """Issue ids and JSON custom values of results, in one query."""
    issues_by: dict[int, list[int]] = {}
    values_by: dict[int, dict[int, str]] = {}
    if ids:
        for kind, rid, key, text in conn.execute(_LINKS_OF, {"ids": list(ids)}).all():
            if kind == 0:
                issues_by.setdefault(rid, []).append(key)
            else:
                values_by.setdefault(rid, {})[key] = text
    return issues_by, values_by


def set_field_values(conn: Connection, result_id: int, values: dict[int, str | None]) -> None:
    """Store JSON-encoded values by field id; None removes the value."""
    db_rows.replace_values(result_field_values.c.result_id, conn, result_id, values)


def timeline_ids(conn: Connection, session_id: int, before_id: int | None, limit: int) -> list[int]:
    """Ids of a session's results, newest first, older than the result `before_id`
    (keyset paging: ordered by (created_at, id) along the (session_id, created_at, id)
    index, so a page costs the same however deep it is)."""
    r = session_results.c
    stmt = sa.select(r.id).where(r.session_id == session_id)
    if before_id is not None:
        cursor = (
            sa.select(r.created_at)
            .where(r.id == before_id, r.session_id == session_id)
            .scalar_subquery()
        )
        stmt = stmt.where(
            sa.or_(r.created_at < cursor, sa.and_(r.created_at == cursor, r.id < before_id))
        )
    stmt = stmt.order_by(r.created_at.desc(), r.id.desc()).limit(limit)
    return [int(i) for i in conn.execute(stmt).scalars()]


# --- results per project, UTC day and status (table result_day_counts) ----------------
# Kept in the same transaction as every result write: on PostgreSQL by the write's own
# statements (below, in key order against deadlocks), on SQLite by triggers on
# session_results (migration 0015; one writer, and no statement per write). Rebuilt from
# session_results by recount and by the demo loader; the dashboard reads it.

NO_STATUS = 0  # the status_id of results without a status
DayKey = tuple[date, int]  # (day, status_id or NO_STATUS)


def day_key(created_at: datetime, status_id: int | None) -> DayKey:
    return created_at.date(), NO_STATUS if status_id is None else status_id


def bump_day_counts(conn: Connection, project_id: int, deltas: Mapping[DayKey, int]) -> None:
    """Add `deltas` ((day, status) -> n, n may be negative) to the project's counts.
    Rows are upserted in key order: concurrent writers of one project then lock the
    rows they share in the same order (in any order, PostgreSQL found deadlocks).
    Nothing to do on SQLite, where triggers keep the counts."""
    if _counted_by_triggers(conn):
        return
    upsert = _day_counts_upsert(conn, project_id, deltas)
    if upsert is not None:
        conn.execute(*upsert)


def _counted_by_triggers(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _day_counts_upsert(
    conn: Connection, project_id: int, deltas: Mapping[DayKey, int]
) -> tuple[sa.Insert, list[dict[str, Any]]] | None:
    """(the upsert statement, its rows), or None when there is nothing to add."""
    rows = [
        {"project_id": project_id, "day": day, "status_id": status, "count": n}
        for (day, status), n in sorted(deltas.items())
        if n
    ]
    if not rows:
        return None
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        result_day_counts
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["project_id", "day", "status_id"],
        set_={"count": result_day_counts.c["count"] + insert.excluded["count"]},
    )
    return stmt, rows


def bump_session_day_counts(conn: Connection, session_id: int, project_id: int, sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) every result of a session (e.g. on delete)."""
    if _counted_by_triggers(conn):
        return
    day = utc_date(session_results.c.created_at)
    status = sa.func.coalesce(session_results.c.status_id, NO_STATUS)
    stmt = (
        sa.select(day, status, sa.func.count())
        .where(session_results.c.session_id == session_id)
        .group_by(day, status)
    )
    deltas = {(_as_date(d), int(s)): sign * int(n) for d, s, n in conn.execute(stmt)}
    bump_day_counts(conn, project_id, deltas)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _from_results() -> sa.Select[Any]:
    day = utc_date(session_results.c.created_at)
    status = sa.func.coalesce(session_results.c.status_id, NO_STATUS)
    return sa.select(session_results.c.project_id, day, status, sa.func.count()).group_by(
        session_results.c.project_id, day, status
    )


def recounted_day_counts(conn: Connection) -> Counter[tuple[int, date, int]]:
    """What the table should hold, counted from session_results."""
    return Counter(
        {(int(p), _as_date(d), int(s)): int(n) for p, d, s, n in conn.execute(_from_results())}
    )


def stored_day_counts(conn: Connection) -> Counter[tuple[int, date, int]]:
    """What the table holds (zero rows left out)."""
    c = result_day_counts.c
    stmt = sa.select(c.project_id, c.day, c.status_id, c["count"]).where(c["count"] != 0)
    return Counter({(int(p), _as_date(d), int(s)): int(n) for p, d, s, n in conn.execute(stmt)})


def day_counts_drifted(conn: Connection) -> bool:
    """Whether the table differs from a count of session_results."""
    return stored_day_counts(conn) != recounted_day_counts(conn)


def rebuild_day_counts(conn: Connection) -> bool:
    """Rebuild the table from session_results; True when it had drifted."""
    drifted = day_counts_drifted(conn)
    conn.execute(sa.delete(result_day_counts))
    c = result_day_counts.c
    conn.execute(
        sa.insert(result_day_counts).from_select(
            [c.project_id, c.day, c.status_id, c["count"]], _from_results()
        )
    )
    return drifted


def results_per_day(
    conn: Connection, project_id: int, first: date, last: date
) -> list[tuple[date, int, int]]:
    """(day, status_id or NO_STATUS, count) of the project from `first` to `last`."""
    c = result_day_counts.c
    stmt = sa.select(c.day, c.status_id, c["count"]).where(
        c.project_id == project_id, c.day >= first, c.day <= last, c["count"] != 0
    )
    return [(_as_date(d), int(s), int(n)) for d, s, n in conn.execute(stmt)]
