"""All SQL of automation runs, threads, tests and sources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db import bulk
from charter.db import listing as db_listing
from charter.db.tables import (
    COUNTER_COLUMNS,
    automation_run_tags,
    automation_runs,
    automation_sources,
    automation_tests,
    automation_threads,
)

THREAD_COUNTERS = ("thread_count", "thread_active_count", "thread_completed_count")


# --- sources ------------------------------------------------------------------------


def source_by_name(conn: Connection, project_id: int, name: str) -> RowMapping | None:
    stmt = sa.select(automation_sources).where(
        automation_sources.c.project_id == project_id, automation_sources.c.name == name
    )
    return conn.execute(stmt).mappings().first()


def insert_source(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(automation_sources).values(**values).returning(automation_sources.c.id)
    return int(conn.execute(stmt).scalar_one())


def source_row(conn: Connection, source_id: int) -> RowMapping | None:
    stmt = sa.select(automation_sources).where(automation_sources.c.id == source_id)
    return conn.execute(stmt).mappings().first()


def sources_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    if not ids:
        return []
    stmt = sa.select(automation_sources).where(automation_sources.c.id.in_(ids))
    found = {r["id"]: r for r in conn.execute(stmt).mappings()}
    return [found[i] for i in ids if i in found]


def source_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = (
        sa.select(automation_sources.c.id, automation_sources.c.name)
        .where(automation_sources.c.id.in_(wanted))
        .order_by(automation_sources.c.id)
    )
    return [{"id": r.id, "name": r.name} for r in conn.execute(stmt)]


def source_stats(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per source: how many runs, when the last one started, and the averages (test
    count, elapsed) over its completed runs."""
    if not ids:
        return {}
    runs = automation_runs.c
    done = runs.is_completed.is_(True)
    stmt = (
        sa.select(
            runs.source_id,
            sa.func.count().label("run_count"),
            sa.func.max(runs.created_at).label("ran_at"),
            sa.func.avg(sa.case((done, runs.total_count))).label("test_count_average"),
            sa.func.avg(sa.case((done, runs.elapsed))).label("elapsed_average"),
        )
        .where(runs.source_id.in_(ids))
        .group_by(runs.source_id)
    )
    out = {r.source_id: dict(r._mapping) for r in conn.execute(stmt)}
    last = (
        sa.select(runs.source_id, runs.status, runs.completed_at, runs.id)
        .where(runs.source_id.in_(ids), done)
        .order_by(runs.source_id, runs.completed_at, runs.id)
    )
    for r in conn.execute(last):  # the last completed run's status wins
        out[r.source_id]["status"] = r.status
    return out


# --- runs ---------------------------------------------------------------------------


def insert_run(conn: Connection, tags: Sequence[str], **values: Any) -> int:
    stmt = sa.insert(automation_runs).values(**values).returning(automation_runs.c.id)
    run_id = int(conn.execute(stmt).scalar_one())
    if tags:
        conn.execute(sa.insert(automation_run_tags), [{"run_id": run_id, "name": t} for t in tags])
    return run_id


def run_row(conn: Connection, run_id: int, lock: bool = False) -> RowMapping | None:
    stmt = sa.select(automation_runs).where(automation_runs.c.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def runs_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    if not ids:
        return []
    stmt = sa.select(automation_runs).where(automation_runs.c.id.in_(ids))
    found = {r["id"]: r for r in conn.execute(stmt).mappings()}
    return [found[i] for i in ids if i in found]


def tags_of(conn: Connection, run_ids: Sequence[int]) -> dict[int, list[str]]:
    if not run_ids:
        return {}
    stmt = (
        sa.select(automation_run_tags.c.run_id, automation_run_tags.c.name)
        .where(automation_run_tags.c.run_id.in_(run_ids))
        .order_by(automation_run_tags.c.run_id, automation_run_tags.c.name)
    )
    out: dict[int, list[str]] = {}
    for r in conn.execute(stmt):
        out.setdefault(r.run_id, []).append(r.name)
    return out


def update_run(conn: Connection, run_id: int, **values: Any) -> None:
    conn.execute(sa.update(automation_runs).where(automation_runs.c.id == run_id).values(**values))


def delete_run(conn: Connection, run_id: int) -> None:
    """The run with its threads, tests and tags (deleted explicitly: SQLite enforces
    ON DELETE CASCADE only with foreign keys on, and the order keeps it cheap)."""
    conn.execute(sa.delete(automation_tests).where(automation_tests.c.run_id == run_id))
    conn.execute(sa.delete(automation_threads).where(automation_threads.c.run_id == run_id))
    conn.execute(sa.delete(automation_run_tags).where(automation_run_tags.c.run_id == run_id))
    conn.execute(sa.delete(automation_runs).where(automation_runs.c.id == run_id))


def add_counters(
    conn: Connection, table: sa.Table, row_id: int, deltas: Mapping[str, int], **values: Any
) -> None:
    """col = col + delta for every non-zero delta (and plain `values`), in one UPDATE."""
    changes: dict[str, Any] = {k: table.c[k] + v for k, v in deltas.items() if v}
    changes.update(values)
    if changes:
        conn.execute(sa.update(table).where(table.c.id == row_id).values(**changes))


# --- threads ------------------------------------------------------------------------


def insert_thread(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(automation_threads).values(**values).returning(automation_threads.c.id)
    return int(conn.execute(stmt).scalar_one())


def next_position(conn: Connection, run_id: int) -> int:
    stmt = sa.select(sa.func.max(automation_threads.c.position)).where(
        automation_threads.c.run_id == run_id
    )
    value = conn.execute(stmt).scalar()
    return 1 if value is None else int(value) + 1


def thread_row(conn: Connection, thread_id: int) -> RowMapping | None:
    stmt = sa.select(automation_threads).where(automation_threads.c.id == thread_id)
    return conn.execute(stmt).mappings().first()


def threads_of(conn: Connection, run_id: int) -> list[RowMapping]:
    stmt = (
        sa.select(automation_threads)
        .where(automation_threads.c.run_id == run_id)
        .order_by(automation_threads.c.position)
    )
    return list(conn.execute(stmt).mappings())


def update_thread(conn: Connection, thread_id: int, **values: Any) -> None:
    conn.execute(
        sa.update(automation_threads).where(automation_threads.c.id == thread_id).values(**values)
    )


def complete_open_threads(
    conn: Connection, run_id: int, values_of: Any, now: datetime, user_id: int
) -> int:
    """Complete every open thread of the run (`values_of(row)` gives its status and
    elapsed); returns how many."""
    open_rows = [r for r in threads_of(conn, run_id) if not r["is_completed"]]
    for r in open_rows:
        update_thread(
            conn, r["id"], is_completed=True, completed_at=now, completed_by=user_id, **values_of(r)
        )
    return len(open_rows)


# --- tests --------------------------------------------------------------------------


TEST_COLUMNS = (
    "run_id",
    "thread_id",
    "key",
    "name",
    "folder",
    "status_id",
    "elapsed",
    "file",
    "line",
    "assertions",
    "artifacts",
    "fields",
    "created_at",
    "created_by",
)
_INSERT_TESTS = (
    f"INSERT INTO automation_tests ({', '.join(TEST_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(TEST_COLUMNS))})"
)


def insert_tests(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """A batch of tests (dicts of TEST_COLUMNS): COPY on PostgreSQL (db.bulk), one
    executemany of a plain statement on SQLite, where building the statement's
    parameters through SQLAlchemy cost more than the insert itself."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        bulk.insert_rows(conn, automation_tests, rows)
        return
    conn.exec_driver_sql(_INSERT_TESTS, [tuple(r[c] for c in TEST_COLUMNS) for r in rows])


def tests_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    if not ids:
        return []
    stmt = sa.select(automation_tests).where(automation_tests.c.id.in_(ids))
    found = {r["id"]: r for r in conn.execute(stmt).mappings()}
    return [found[i] for i in ids if i in found]


def status_histogram(
    conn: Connection, owner: str, owner_id: int | None = None
) -> dict[int, dict[int, int]]:
    """{run or thread id (`owner`, "run_id" or "thread_id" of the tests): {status id:
    tests}}, of every run or thread, or of `owner_id` alone."""
    column = automation_tests.c[owner]
    stmt = sa.select(column, automation_tests.c.status_id, sa.func.count().label("n")).group_by(
        column, automation_tests.c.status_id
    )
    if owner_id is not None:
        stmt = stmt.where(column == owner_id)
    out: dict[int, dict[int, int]] = {}
    for owner, status_id, n in conn.execute(stmt):
        out.setdefault(int(owner), {})[int(status_id)] = int(n)
    return out


def stored_counters(
    conn: Connection, table: sa.Table, where: Any = None
) -> dict[int, dict[str, int]]:
    extra = THREAD_COUNTERS if table is automation_runs else ()
    stmt = sa.select(table.c.id, *(table.c[c] for c in (*COUNTER_COLUMNS, *extra)))
    if where is not None:
        stmt = stmt.where(where)
    return {
        r[0]: dict(zip((*COUNTER_COLUMNS, *extra), r[1:], strict=True)) for r in conn.execute(stmt)
    }


def thread_histogram(conn: Connection, where: Any = None) -> dict[int, tuple[int, int]]:
    """{run id: (threads, completed threads)}."""
    t = automation_threads.c
    stmt = sa.select(
        t.run_id,
        sa.func.count(),
        sa.func.sum(sa.case((t.is_completed.is_(True), 1), else_=0)),
    ).group_by(t.run_id)
    if where is not None:
        stmt = stmt.where(where)
    return {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in conn.execute(stmt)}


def project_run_ids(conn: Connection, project_id: int) -> list[int]:
    stmt = sa.select(automation_runs.c.id).where(automation_runs.c.project_id == project_id)
    return [int(r[0]) for r in conn.execute(stmt)]


def milestone_runs(conn: Connection, milestone_id: int) -> list[RowMapping]:
    stmt = (
        sa.select(automation_runs)
        .where(automation_runs.c.milestone_id == milestone_id)
        .order_by(automation_runs.c.created_at.desc(), automation_runs.c.id.desc())
    )
    return list(conn.execute(stmt).mappings())


def project_counts(conn: Connection, project_id: int) -> dict[str, int]:
    """automation_* counters of a project, counted from its sources and runs."""
    s, r = automation_sources.c, automation_runs.c
    retired = sa.func.sum(sa.case((s.is_retired.is_(True), 1), else_=0))
    sources = conn.execute(
        sa.select(sa.func.count(), retired).where(s.project_id == project_id)
    ).one()
    done = sa.func.sum(sa.case((r.is_completed.is_(True), 1), else_=0))
    runs = conn.execute(sa.select(sa.func.count(), done).where(r.project_id == project_id)).one()
    n_sources, n_retired = int(sources[0]), int(sources[1] or 0)
    n_runs, n_done = int(runs[0]), int(runs[1] or 0)
    return {
        "automation_source_count": n_sources,
        "automation_source_active_count": n_sources - n_retired,
        "automation_source_retired_count": n_retired,
        "automation_run_count": n_runs,
        "automation_run_active_count": n_runs - n_done,
        "automation_run_completed_count": n_done,
    }


def sources_of_project(conn: Connection, project_id: int) -> list[RowMapping]:
    stmt = (
        sa.select(automation_sources)
        .where(automation_sources.c.project_id == project_id)
        .order_by(automation_sources.c.name, automation_sources.c.id)
    )
    return list(conn.execute(stmt).mappings())


def page_of(
    conn: Connection, table: sa.Table, owner: str, owner_id: int, req: db_listing.PageRequest
) -> tuple[list[int], int]:
    """One page of ids of `table`'s rows whose `owner` column is `owner_id` (a project's
    runs or sources, a run's tests), and how many match in all."""
    base = table.c[owner] == owner_id
    return db_listing.page_ids(conn, table, base, req), db_listing.count(
        conn, table, base, req.filters
    )
