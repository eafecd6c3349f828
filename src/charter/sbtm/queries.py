"""All SQL of SBTM: areas, the SBTM columns and links of a session, its stored metrics
row and the rollups per area, tester and day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
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


# --- session sheets (sbtm/sheet_import.py, sbtm/sheet_read.py) ----------------------


def sheet_names(conn: Connection, project_id: int) -> dict[str, int]:
    """{sheet name: session id} of the project's sessions that have one."""
    stmt = sa.select(sessions.c.sheet_name, sessions.c.id).where(
        sessions.c.project_id == project_id, sessions.c.sheet_name.is_not(None)
    )
    return {str(name): int(i) for name, i in conn.execute(stmt)}


def sheet_results(conn: Connection, session_id: int) -> list[RowMapping]:
    """A session's notes in the order they were written, with their kind's category
    ('note' for the default kind)."""
    stmt = (
        sa.select(
            session_results.c.id,
            session_results.c.note,
            sa.func.coalesce(result_kinds.c.category, "note").label("category"),
        )
        .select_from(
            session_results.outerjoin(result_kinds, result_kinds.c.id == session_results.c.kind_id)
        )
        .where(session_results.c.session_id == session_id)
        .order_by(session_results.c.created_at, session_results.c.id)
    )
    return list(conn.execute(stmt).mappings())


def user_names(conn: Connection, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    stmt = sa.select(users.c.id, users.c.name).where(users.c.id.in_(list(user_ids)))
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
    values = [c for c in rows[0] if c not in keys and c != "project_id"]
    stmt = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + insert.excluded[c] for c in values},
    )
    conn.execute(stmt, rows)


def add_to_area_rows(conn: Connection, project_id: int, rows: Mapping[Any, dict[str, int]]) -> None:
    _upsert_add(
        conn,
        sbtm_area_totals,
        ("area_id",),
        [{"area_id": a, "project_id": project_id, **v} for a, v in rows.items()],
    )


def add_to_tester_rows(
    conn: Connection, project_id: int, rows: Mapping[Any, dict[str, int]]
) -> None:
    _upsert_add(
        conn,
        sbtm_tester_totals,
        ("project_id", "user_id"),
        [{"project_id": project_id, "user_id": u, **v} for u, v in rows.items()],
    )


def add_to_day_rows(conn: Connection, project_id: int, rows: Mapping[Any, dict[str, int]]) -> None:
    _upsert_add(
        conn,
        sbtm_day_totals,
        ("project_id", "day"),
        [{"project_id": project_id, "day": d, **v} for d, v in rows.items()],
    )


def lock_sessions(conn: Connection, project_id: int | None) -> None:
    lock_rows(
        conn, sessions, sa.true() if project_id is None else sessions.c.project_id == project_id
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


def day_totals_sum(conn: Connection, project_id: int) -> RowMapping:
    """The sums over the project's days (its started sessions)."""
    t = sbtm_day_totals
    columns = [c for c in t.c if c.name not in ("project_id", "day")]
    stmt = sa.select(*(sa.func.coalesce(sa.func.sum(c), 0).label(c.name) for c in columns)).where(
        t.c.project_id == project_id
    )
    return conn.execute(stmt).mappings().one()


# --- rebuilding everything at once (recount, bulk loaders) --------------------------
# The same numbers as sbtm/metrics.py, computed set-based in SQL: one statement per
# table, so a million sessions rebuild in seconds rather than a query per session.


def _weight(tester_count: Any) -> Any:
    """timebox(class) x multiplier in thousandths x testers (0 without a class)."""
    s, p = sessions.c, projects.c
    box = sa.case(
        (s.duration_class == "short", p.timebox_short),
        (s.duration_class == "normal", p.timebox_normal),
        (s.duration_class == "long", p.timebox_long),
        else_=0,
    )
    mult = sa.cast(sa.func.round(sa.func.coalesce(s.duration_multiplier, 1) * 1000), sa.BigInteger)
    return sa.cast(box, sa.BigInteger) * mult * tester_count


def rebuild_all(conn: Connection, project_id: int | None, share: int) -> None:
    """Recount bug/issue counts and rebuild every metrics row and rollup from the data
    (`share`: the scale of a tester's share of bugs and issues, metrics.SHARE_SCALE)."""
    s, r, k = sessions.c, session_results.c, result_kinds.c
    where = sa.true() if project_id is None else s.project_id == project_id

    def counted(category: str) -> Any:
        return (
            sa.select(sa.func.count())
            .select_from(session_results.join(result_kinds, result_kinds.c.id == r.kind_id))
            .where(r.session_id == s.id, k.category == category)
            .scalar_subquery()
        )

    conn.execute(
        sa.update(sessions)
        .where(where)
        .values(bug_count=counted("bug"), issue_count=counted("issue"))
    )
    m = sbtm_session_metrics
    conn.execute(
        sa.delete(m).where(sa.true() if project_id is None else m.c.project_id == project_id)
    )
    testers = (
        sa.select(sa.func.count()).where(session_testers.c.session_id == s.id).scalar_subquery()
    )
    base = sa.select(
        s.id.label("sid"),
        s.project_id,
        s.started_at,
        s.pct_test,
        s.pct_bug,
        s.pct_setup,
        s.pct_charter,
        s.pct_opportunity,
        s.bug_count,
        s.issue_count,
        testers.label("testers"),
        _weight(testers).label("weight"),
    )
    base = base.select_from(sessions.join(projects, projects.c.id == s.project_id)).where(where)
    b = base.subquery()
    c = sa.case((b.c.pct_charter.is_(None), 100), else_=b.c.pct_charter)
    o = sa.case((b.c.pct_charter.is_(None), 0), else_=sa.func.coalesce(b.c.pct_opportunity, 0))
    day = (
        sa.cast(b.c.started_at, sa.Date)
        if conn.dialect.name == "postgresql"
        else sa.func.date(b.c.started_at)
    )
    conn.execute(
        sa.insert(m).from_select(
            ["session_id", "project_id", "start_day", "testers", *SBTM_N_COLUMNS, "bugs", "issues"],
            sa.select(
                b.c.sid,
                b.c.project_id,
                day,
                b.c.testers,
                b.c.weight * 10000,
                b.c.weight * c * 100,
                b.c.weight * o * 100,
                b.c.weight * sa.func.coalesce(b.c.pct_test, 0) * c,
                b.c.weight * sa.func.coalesce(b.c.pct_bug, 0) * c,
                b.c.weight * sa.func.coalesce(b.c.pct_setup, 0) * c,
                b.c.bug_count,
                b.c.issue_count,
            ),
        )
    )
    clear_rollups(conn, project_id)  # area rows back, all zero
    mine = sa.true() if project_id is None else m.c.project_id == project_id
    sums = [sa.func.sum(m.c[c]) for c in SBTM_N_COLUMNS]
    t = sbtm_area_totals
    per_area = (
        sa.select(
            session_areas.c.area_id,
            sa.func.count().label("sessions"),
            *(sa.func.sum(m.c[c]).label(c) for c in SBTM_N_COLUMNS),
            sa.func.sum(m.c.bugs).label("bugs"),
            sa.func.sum(m.c.issues).label("issues"),
        )
        .select_from(m.join(session_areas, session_areas.c.session_id == m.c.session_id))
        .where(mine)
        .group_by(session_areas.c.area_id)
        .subquery()
    )
    values = ["sessions", *SBTM_N_COLUMNS, "bugs", "issues"]
    conn.execute(
        sa.update(t)
        .where(t.c.area_id == per_area.c.area_id)
        .values({c: per_area.c[c] for c in values})
    )
    per_tester = (
        sa.select(
            m.c.project_id,
            session_testers.c.user_id,
            sa.func.count(),
            *(sa.func.sum(m.c[c] // m.c.testers) for c in SBTM_N_COLUMNS),
            sa.func.sum(m.c.bugs * share // m.c.testers),
            sa.func.sum(m.c.issues * share // m.c.testers),
        )
        .select_from(m.join(session_testers, session_testers.c.session_id == m.c.session_id))
        .where(mine)
        .group_by(m.c.project_id, session_testers.c.user_id)
    )
    conn.execute(
        sa.insert(sbtm_tester_totals).from_select(
            ["project_id", "user_id", "sessions", *SBTM_N_COLUMNS, "bugs_share", "issues_share"],
            per_tester,
        )
    )
    per_day = (
        sa.select(
            m.c.project_id,
            m.c.start_day,
            sa.func.count(),
            *sums,
            sa.func.sum(m.c.bugs),
            sa.func.sum(m.c.issues),
        )
        .where(mine, m.c.start_day.is_not(None))
        .group_by(m.c.project_id, m.c.start_day)
    )
    conn.execute(
        sa.insert(sbtm_day_totals).from_select(
            ["project_id", "day", "sessions", *SBTM_N_COLUMNS, "bugs", "issues"], per_day
        )
    )


def metrics_rows(conn: Connection, project_id: int | None) -> dict[int, tuple[Any, ...]]:
    """Every stored metrics row (of a project), by session (for drift counts)."""
    m = sbtm_session_metrics
    stmt = sa.select(m)
    if project_id is not None:
        stmt = stmt.where(m.c.project_id == project_id)
    return {int(r[0]): tuple(r) for r in conn.execute(stmt)}


def fill_demo(
    conn: Connection,
    project_id: int,
    area_ids: Sequence[int],
    second_tester: int,
    kinds: Mapping[str, int],
) -> None:
    """Demo data for bulk-loaded sessions (charter demo): sheets, testers, areas and
    note kinds chosen from each id, set-based. The caller rebuilds the metrics."""
    s = sessions.c
    mine = s.project_id == project_id
    n = len(area_ids)
    test = 40 + s.id % 41
    setup = (100 - test) // 3
    charter = 100 - ((s.id // 3) % 5) * 10
    conn.execute(
        sa.update(sessions)
        .where(mine)
        .values(
            duration_class=sa.case(
                (s.id % 4 == 0, "short"), (s.id % 4 == 1, "normal"), (s.id % 4 == 2, "long")
            ),
            duration_multiplier=sa.case((s.id % 10 == 0, 2.0), else_=None),
            pct_test=test,
            pct_bug=100 - test - setup,
            pct_setup=setup,
            pct_charter=charter,
            pct_opportunity=100 - charter,
        )
    )
    assigned = sa.select(s.id, s.assignee_id, sa.literal(0)).where(mine, s.assignee_id.is_not(None))
    conn.execute(
        sa.insert(session_testers).from_select(["session_id", "user_id", "position"], assigned)
    )
    paired = sa.select(s.id, sa.literal(second_tester), sa.literal(1)).where(
        mine, s.assignee_id.is_not(None), s.assignee_id != second_tester, s.id % 5 == 0
    )
    conn.execute(
        sa.insert(session_testers).from_select(["session_id", "user_id", "position"], paired)
    )
    first = sa.case({i: a for i, a in enumerate(area_ids)}, value=s.id % n)
    other = sa.case(
        {i: a for i, a in enumerate(area_ids)}, value=(s.id % n + 1 + (s.id // 7) % (n - 1)) % n
    )
    for area, extra in ((first, sa.true()), (other, s.id % 3 == 0)):
        chosen = sa.select(s.id, area).where(mine, extra)
        conn.execute(sa.insert(session_areas).from_select(["session_id", "area_id"], chosen))
    r = session_results.c
    for category, condition in (
        ("bug", r.id % 9 == 0),
        ("issue", (r.id % 13 == 0) & (r.id % 9 != 0)),
    ):
        conn.execute(
            sa.update(session_results)
            .where(r.project_id == project_id, condition)
            .values(kind_id=kinds[category])
        )


def project_session_count(conn: Connection, project_id: int) -> int:
    stmt = sa.select(projects.c.session_count).where(projects.c.id == project_id)
    return int(conn.execute(stmt).scalar_one())


def tester_session_count(conn: Connection, project_id: int, user_id: int) -> int:
    t = sbtm_tester_totals
    stmt = sa.select(t.c.sessions).where(t.c.project_id == project_id, t.c.user_id == user_id)
    return int(conn.execute(stmt).scalar() or 0)


def area_session_count(conn: Connection, area_id: int) -> int:
    stmt = sa.select(sbtm_area_totals.c.sessions).where(sbtm_area_totals.c.area_id == area_id)
    return int(conn.execute(stmt).scalar() or 0)


def sessions_with_areas(conn: Connection, area_ids: Sequence[int]) -> int:
    """How many sessions have any of these areas (of one project), each counted once."""
    stmt = sa.select(sa.func.count(sa.distinct(session_areas.c.session_id))).where(
        session_areas.c.area_id.in_(list(area_ids))
    )
    return int(conn.execute(stmt).scalar_one())
