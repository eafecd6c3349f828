"""All SQL of SBTM: areas, the SBTM columns and links of a session, its stored metrics
row and the rollups per area, tester and day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from charter.db.locks import lock_rows
from charter.db.tables import (
    SBTM_N_COLUMNS,
    areas,
    projects,
    result_kinds,
    sbtm_area_totals,
    sbtm_day_totals,
    sbtm_session_metrics,
    sbtm_tester_totals,
    session_areas,
    session_results,
    session_testers,
    sessions,
    users,
)

# --- areas --------------------------------------------------------------------------


def areas_of(project_id: int) -> sa.ColumnElement[bool]:
    return areas.c.project_id == project_id


def areas_by_keys(conn: Connection, project_id: int, keys: Iterable[str]) -> dict[str, RowMapping]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    stmt = sa.select(areas).where(areas.c.project_id == project_id, areas.c.name_key.in_(wanted))
    return {r["name_key"]: r for r in conn.execute(stmt).mappings()}


def insert_area(conn: Connection, **values: Any) -> int:
    """A new area and its (zero) totals row."""
    stmt = sa.insert(areas).values(**values).returning(areas.c.id)
    area_id = int(conn.execute(stmt).scalar_one())
    conn.execute(
        sa.insert(sbtm_area_totals).values(area_id=area_id, project_id=values["project_id"])
    )
    return area_id


def area_by_id(conn: Connection, area_id: int) -> RowMapping | None:
    return conn.execute(sa.select(areas).where(areas.c.id == area_id)).mappings().first()


def rename_area(conn: Connection, area_id: int, name: str, key: str) -> None:
    conn.execute(sa.update(areas).where(areas.c.id == area_id).values(name=name, name_key=key))


def area_use_count(conn: Connection, area_id: int) -> int:
    stmt = sa.select(sa.func.count()).where(session_areas.c.area_id == area_id)
    return int(conn.execute(stmt).scalar_one())


def delete_area(conn: Connection, area_id: int) -> None:
    conn.execute(sa.delete(sbtm_area_totals).where(sbtm_area_totals.c.area_id == area_id))
    conn.execute(sa.delete(areas).where(areas.c.id == area_id))


def area_names(conn: Connection, area_ids: Sequence[int]) -> dict[int, str]:
    if not area_ids:
        return {}
    stmt = sa.select(areas.c.id, areas.c.name).where(areas.c.id.in_(list(area_ids)))
    return {int(i): str(n) for i, n in conn.execute(stmt)}


# --- a session's SBTM data ----------------------------------------------------------

SBTM_SESSION_COLUMNS = (
    "duration_class",
    "duration_multiplier",
    "pct_test",
    "pct_bug",
    "pct_setup",
    "pct_charter",
    "pct_opportunity",
    "data_files",
    "sheet_name",
)


def session_for_update(conn: Connection, session_id: int) -> RowMapping | None:
    """The session row, locked on PostgreSQL until the transaction ends."""
    lock_rows(conn, sessions, sessions.c.id == session_id)
    stmt = sa.select(sessions).where(sessions.c.id == session_id)
    return conn.execute(stmt).mappings().first()


def session_row(conn: Connection, session_id: int) -> RowMapping | None:
    return conn.execute(sa.select(sessions).where(sessions.c.id == session_id)).mappings().first()


def update_session(conn: Connection, session_id: int, **values: Any) -> None:
    """SBTM columns only: they change no list filter, so session_version stays."""
    if values:
        conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))


def set_assignee(conn: Connection, session_id: int, assignee_id: int | None) -> None:
    """The assignee is a list filter: the project's session_version moves with it (as
    sessions/queries.py does for every such change), so cached totals stay true."""
    conn.execute(
        sa.update(sessions).where(sessions.c.id == session_id).values(assignee_id=assignee_id)
    )
    project = sa.select(sessions.c.project_id).where(sessions.c.id == session_id)
    conn.execute(
        sa.update(projects)
        .where(projects.c.id == project.scalar_subquery())
        .values(session_version=projects.c.session_version + 1)
    )


def delete_session_rows(conn: Connection, session_id: int) -> None:
    """A session's SBTM rows, before the session itself is deleted (SQLite cascades
    only with foreign keys on)."""
    for table in (session_areas, session_testers, sbtm_session_metrics):
        conn.execute(sa.delete(table).where(table.c.session_id == session_id))


def session_ids_with_sheet(
    conn: Connection, project_id: int, sheet_name: str, other_than: int
) -> list[int]:
    stmt = sa.select(sessions.c.id).where(
        sessions.c.project_id == project_id,
        sessions.c.sheet_name == sheet_name,
        sessions.c.id != other_than,
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def tester_ids(conn: Connection, session_id: int) -> list[int]:
    stmt = (
        sa.select(session_testers.c.user_id)
        .where(session_testers.c.session_id == session_id)
        .order_by(session_testers.c.position)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def set_testers(conn: Connection, session_id: int, user_ids: Sequence[int]) -> None:
    conn.execute(sa.delete(session_testers).where(session_testers.c.session_id == session_id))
    if user_ids:
        conn.execute(
            sa.insert(session_testers),
            [
                {"session_id": session_id, "user_id": u, "position": i}
                for i, u in enumerate(user_ids)
            ],
        )


def area_ids_of_session(conn: Connection, session_id: int) -> list[int]:
    stmt = (
        sa.select(session_areas.c.area_id)
        .where(session_areas.c.session_id == session_id)
        .order_by(session_areas.c.area_id)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def set_session_areas(conn: Connection, session_id: int, area_ids: Sequence[int]) -> None:
    conn.execute(sa.delete(session_areas).where(session_areas.c.session_id == session_id))
    if area_ids:
        conn.execute(
            sa.insert(session_areas), [{"session_id": session_id, "area_id": a} for a in area_ids]
        )


def timeboxes(conn: Connection, project_id: int) -> dict[str, int]:
    c = projects.c
    stmt = sa.select(c.timebox_short, c.timebox_normal, c.timebox_long).where(c.id == project_id)
    row = conn.execute(stmt).one()
    return {"short": int(row[0]), "normal": int(row[1]), "long": int(row[2])}


def set_timeboxes(conn: Connection, project_id: int, values: Mapping[str, int]) -> None:
    conn.execute(
        sa.update(projects)
        .where(projects.c.id == project_id)
        .values(**{f"timebox_{k}": v for k, v in values.items()})
    )


def session_ids_of_project(conn: Connection, project_id: int) -> list[int]:
    stmt = (
        sa.select(sessions.c.id).where(sessions.c.project_id == project_id).order_by(sessions.c.id)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def all_session_ids(conn: Connection) -> list[int]:
    return [
        int(i) for i in conn.execute(sa.select(sessions.c.id).order_by(sessions.c.id)).scalars()
    ]


def category_counts(conn: Connection, session_id: int) -> dict[str, int]:
    """The session's results per kind category (no kind: 'note')."""
    category = sa.func.coalesce(result_kinds.c.category, "note")
    stmt = (
        sa.select(category, sa.func.count())
        .select_from(
            session_results.outerjoin(result_kinds, result_kinds.c.id == session_results.c.kind_id)
        )
        .where(session_results.c.session_id == session_id)
        .group_by(category)
    )
    return {str(c): int(n) for c, n in conn.execute(stmt)}


# --- stored metrics and rollups -----------------------------------------------------


def metrics_row(conn: Connection, session_id: int) -> RowMapping | None:
    stmt = sa.select(sbtm_session_metrics).where(sbtm_session_metrics.c.session_id == session_id)
    return conn.execute(stmt).mappings().first()


def put_metrics_row(conn: Connection, values: Mapping[str, Any]) -> None:
    m = sbtm_session_metrics
    conn.execute(sa.delete(m).where(m.c.session_id == values["session_id"]))
    conn.execute(sa.insert(m).values(**values))


def delete_metrics_row(conn: Connection, session_id: int) -> None:
    m = sbtm_session_metrics
    conn.execute(sa.delete(m).where(m.c.session_id == session_id))


def _upsert_add(
    conn: Connection, table: sa.Table, keys: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """Add each row's values to the row with its keys (created when missing). Rows are
    upserted in key order, so concurrent writers lock shared rows in the same order."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    values = [c for c in rows[0] if c not in keys]
    stmt = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + insert.excluded[c] for c in values},
    )
    conn.execute(stmt, rows)


def add_to_areas(
    conn: Connection, project_id: int, area_ids: Sequence[int], delta: dict[str, int]
) -> None:
    rows = [{"area_id": a, "project_id": project_id, **delta} for a in area_ids]
    # project_id is part of the row, not of the sum: set it on insert only
    if not rows:
        return
    rows.sort(key=lambda r: r["area_id"])
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        sbtm_area_totals
    )
    t = sbtm_area_totals
    stmt = insert.on_conflict_do_update(
        index_elements=["area_id"], set_={c: t.c[c] + insert.excluded[c] for c in delta}
    )
    conn.execute(stmt, rows)


def add_to_testers(
    conn: Connection, project_id: int, user_ids: Sequence[int], delta: dict[str, int]
) -> None:
    rows = [{"project_id": project_id, "user_id": u, **delta} for u in user_ids]
    _upsert_add(conn, sbtm_tester_totals, ("project_id", "user_id"), rows)


def add_to_day(conn: Connection, project_id: int, day: date, delta: dict[str, int]) -> None:
    _upsert_add(
        conn,
        sbtm_day_totals,
        ("project_id", "day"),
        [{"project_id": project_id, "day": day, **delta}],
    )


def clear_rollups(conn: Connection, project_id: int | None) -> None:
    for table in (sbtm_area_totals, sbtm_tester_totals, sbtm_day_totals):
        stmt = sa.delete(table)
        if project_id is not None:
            stmt = stmt.where(table.c.project_id == project_id)
        conn.execute(stmt)
    known = sa.select(areas.c.id, areas.c.project_id)
    if project_id is not None:
        known = known.where(areas.c.project_id == project_id)
    rows = [{"area_id": a, "project_id": p} for a, p in conn.execute(known)]
    if rows:
        conn.execute(sa.insert(sbtm_area_totals), rows)


def stored_rollups(conn: Connection, project_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row of a project with a non-zero value (for recount checks)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, table, keys in (
        ("areas", sbtm_area_totals, ("area_id",)),
        ("testers", sbtm_tester_totals, ("user_id",)),
        ("days", sbtm_day_totals, ("day",)),
    ):
        values = [c for c in table.c if c.name not in (*keys, "project_id")]
        stmt = (
            sa.select(*(table.c[k] for k in keys), *values)
            .where(table.c.project_id == project_id)
            .order_by(*(table.c[k] for k in keys))
        )
        out[name] = [tuple(r) for r in conn.execute(stmt) if any(v != 0 for v in r[len(keys) :])]
    return out


# --- reports ------------------------------------------------------------------------

_N = [sbtm_session_metrics.c[c] for c in SBTM_N_COLUMNS]


def session_report_rows(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    """The report rows of these sessions (their order is the caller's)."""
    if not ids:
        return []
    m = sbtm_session_metrics
    s = sessions
    stmt = (
        sa.select(
            s.c.id,
            s.c.project_id,
            s.c.name,
            s.c.sheet_name,
            s.c.started_at,
            s.c.pct_test,
            s.c.pct_bug,
            s.c.pct_setup,
            s.c.pct_charter,
            s.c.pct_opportunity,
            s.c.duration_class,
            s.c.duration_multiplier,
            sa.func.coalesce(m.c.testers, 0).label("testers"),
            *(sa.func.coalesce(c, 0).label(c.name) for c in _N),
            sa.func.coalesce(m.c.bugs, 0).label("bugs"),
            sa.func.coalesce(m.c.issues, 0).label("issues"),
        )
        .select_from(s.outerjoin(m, m.c.session_id == s.c.id))
        .where(s.c.id.in_(list(ids)))
    )
    return list(conn.execute(stmt).mappings())


def area_totals_page(
    conn: Connection, project_id: int, limit: int, offset: int
) -> tuple[list[RowMapping], int]:
    t = sbtm_area_totals
    stmt = (
        sa.select(
            areas.c.id.label("area_id"),
            areas.c.name.label("area"),
            *(c for c in t.c if c.name not in ("area_id", "project_id")),
        )
        .select_from(areas.join(t, t.c.area_id == areas.c.id))
        .where(areas.c.project_id == project_id)
        .order_by(areas.c.name_key, areas.c.id)
        .limit(limit)
        .offset(offset)
    )
    total = sa.select(sa.func.count()).where(areas.c.project_id == project_id)
    return list(conn.execute(stmt).mappings()), int(conn.execute(total).scalar_one())


def tester_totals_page(
    conn: Connection, project_id: int, limit: int, offset: int
) -> tuple[list[RowMapping], int]:
    t = sbtm_tester_totals
    where = (t.c.project_id == project_id) & (t.c.sessions > 0)
    stmt = (
        sa.select(users.c.name, *t.c)
        .select_from(t.join(users, users.c.id == t.c.user_id))
        .where(where)
        .order_by(t.c.user_id)
        .limit(limit)
        .offset(offset)
    )
    total = sa.select(sa.func.count()).select_from(t).where(where)
    return list(conn.execute(stmt).mappings()), int(conn.execute(total).scalar_one())


def day_totals_page(
    conn: Connection,
    project_id: int,
    limit: int,
    offset: int,
    after: datetime | None = None,
    before: datetime | None = None,
) -> tuple[list[RowMapping], int]:
    t = sbtm_day_totals
    where = (t.c.project_id == project_id) & (t.c.sessions > 0)
    if after is not None:
        where &= t.c.day >= after.date()
    if before is not None:
        where &= t.c.day <= before.date()
    stmt = sa.select(t).where(where).order_by(t.c.day).limit(limit).offset(offset)
    total = sa.select(sa.func.count()).select_from(t).where(where)
    return list(conn.execute(stmt).mappings()), int(conn.execute(total).scalar_one())


def area_ids_under(conn: Connection, project_id: int, key: str) -> list[int]:
    """The areas named `key` (casefolded display form) or below it (`key | ...`)."""
    stmt = sa.select(areas.c.id).where(
        areas.c.project_id == project_id,
        (areas.c.name_key == key) | areas.c.name_key.startswith(key + " | ", autoescape=True),
    )
    return [int(i) for i in conn.execute(stmt).scalars()]
