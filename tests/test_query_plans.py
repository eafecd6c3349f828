"""Every documented filter and sort of `GET /projects/{id}/sessions` uses an index.

The statements are the exact ones the server runs: the list is served by the domain
function the endpoint calls, on a connection that records every statement and its
parameters, and each recorded SELECT is then explained on the same connection.

- SQLite: `EXPLAIN QUERY PLAN`; no line may `SCAN sessions` (or `session_tags`)
  except through an index (`SEARCH ... USING ... INDEX` is what we want).
- PostgreSQL: `EXPLAIN` with `SET LOCAL enable_seqscan = off` (so an available index
  is always preferred); no `Seq Scan on sessions` / `session_tags` may remain.

A few thousand demo sessions are loaded and ANALYZE'd first, so the planner has
statistics, as it would after `charter migrate`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.auth.service import User
from charter.db.engine import Database
from charter.db.migrate import optimize
from charter.demo import DEMO_ADMIN_EMAIL, load_demo
from charter.http.conventions import Params, parse_list
from charter.sessions import read as session_read
from charter.sessions import totals
from charter.sessions.schemas import SESSIONS
from helpers_db import migrate

N_SESSIONS = 3000
UNKNOWN_ID = 999_999
CHECKED_TABLES = ("sessions", "session_tags")
SORT_CASES = [
    {"sort": sort, "order": order}
    for sort in ("sessions:created_at", "sessions:closed_at")
    for order in ("asc", "desc")
]
FILTER_NAMES = (
    "assignee_id",
    "config_id",
    "created_by",
    "milestone_id",
    "state_id",
    "template_id",
    "tags",
    "is_closed",
    "created_after",
    "created_before",
    "closed_after",
    "closed_before",
    "search",
    "is_running",
)

# The column each filter bounds (tags are checked through session_tags instead).
FILTER_COLUMNS = {
    "assignee_id": "assignee_id",
    "config_id": "config_id",
    "created_by": "created_by",
    "milestone_id": "milestone_id",
    "state_id": "state_id",
    "template_id": "template_id",
    "is_closed": "is_closed",
    "created_after": "created_at",
    "created_before": "created_at",
    "closed_after": "closed_at",
    "closed_before": "closed_at",
    "is_running": "running_since",
    # search: no column to bound (a trigram index on PostgreSQL, see below)
}


@dataclass
class PlanDb:
    db: Database
    user: User
    project_id: int
    values: dict[str, tuple[str, str]]  # filter -> (one value, two values)


@pytest.fixture(scope="module")
def plan_db(module_database_url: str) -> Iterator[PlanDb]:
    db = migrate(module_database_url)
    load_demo(db, n_sessions=N_SESSIONS, seed=1, progress=False)
    with db.write() as conn:  # a few running sessions (the demo leaves all paused)
        conn.execute(
            sa.text(
                "UPDATE sessions SET running_since = created_at "
                "WHERE id % 97 = 0 AND is_closed = :f"
            ),
            {"f": False},
        )
    optimize(db)
    with db.read() as conn:
        admin = conn.execute(
            sa.text("SELECT id, name, email FROM users WHERE email = :e"), {"e": DEMO_ADMIN_EMAIL}
        ).one()
        # The project with the most sessions, and real values of each filter in it.
        project_id = conn.execute(
            sa.text("SELECT id FROM projects ORDER BY session_count DESC, id LIMIT 1")
        ).scalar_one()

        def rarest(sql: str) -> tuple[str, str]:
            """The rarest value, and the two rarest (or it and an unknown id when a
            second real value would match every row), so that both are selective."""
            found = [str(v) for v in conn.execute(sa.text(sql), {"p": project_id}).scalars()]
            assert found, sql
            second = found[1] if len(found) > 2 else str(UNKNOWN_ID)
            return found[0], f"{found[0]},{second}"

        values = {
            name: rarest(
                f"SELECT {name} FROM sessions WHERE project_id = :p AND {name} IS NOT NULL "
                f"GROUP BY {name} ORDER BY count(*), {name}"
            )
            for name in (
                "assignee_id",
                "config_id",
                "created_by",
                "milestone_id",
                "state_id",
                "template_id",
            )
        }
        values["tags"] = rarest(
            "SELECT tags.name FROM tags JOIN session_tags ON session_tags.tag_id = tags.id "
            "JOIN sessions ON sessions.id = session_tags.session_id "
            "WHERE sessions.project_id = :p GROUP BY tags.name ORDER BY count(*), tags.name"
        )
        word = conn.execute(
            sa.text("SELECT name FROM sessions WHERE project_id = :p ORDER BY id LIMIT 1"),
            {"p": project_id},
        ).scalar_one()
    values["is_closed"] = ("1", "0")
    # is_running=0 is nearly every row: served like the unfiltered list, not checked.
    values["is_running"] = ("1", "true")
    # A word of a real name, and a rarer text (a whole name).
    values["search"] = (max(word.split(), key=len), word)
    for name in ("created_after", "created_before", "closed_after", "closed_before"):
        values[name] = ("2026-01-01T00:00:00Z", "2025-06-01")
    user = User(admin.id, admin.name, admin.email, True, None, None, None)
    yield PlanDb(db, user, project_id, values)
    db.close()


@pytest.fixture(autouse=True)
def count_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Filtered totals are cached per project version; count on every request here,
    so that the COUNT statement is served (and planned) in every case."""

    def uncached(_conn: Any, _project: int, _version: int, _filters: Any, count: Any) -> int:
        return int(count())

    monkeypatch.setattr(totals, "cached_total", uncached)


def served_statements(
    conn: Connection, plan_db: PlanDb, params: dict[str, str]
) -> list[tuple[str, Any]]:
    """Serve the list on `conn` and return every SELECT it ran, with parameters."""
    recorded: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        recorded.append((statement, parameters))

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        query = parse_list(Params(params), SESSIONS)
        page = session_read.list_sessions(conn, plan_db.user, plan_db.project_id, query)
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    assert page.rows, f"the case {params} should list some sessions"
    selects = [(s, p) for s, p in recorded if s.lstrip().upper().startswith("SELECT")]
    # The page query itself must be among them (it carries the ORDER BY).
    assert any("ORDER BY" in s and re.search(r"FROM sessions\b", s) for s, _ in selects)
    return selects


def explain(conn: Connection, statement: str, parameters: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return [str(r[-1]) for r in rows]
    rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
    return [str(r[0]) for r in rows]


def names_of(statement: str, table: str) -> str:
    """A regex alternation of the table's name and its aliases in `statement`
    (SQLite plans name a table by its alias, e.g. `SEARCH page USING ...`)."""
    return "|".join([table, *re.findall(rf"\b{table} AS (\w+)", statement)])


def full_scans(dialect: str, statement: str, plan: list[str]) -> list[str]:
    """Plan lines that read a checked table without an index."""
    if dialect == "sqlite":
        names = "|".join(names_of(statement, t) for t in CHECKED_TABLES)
        return [
            line
            for line in plan
            if re.match(rf"\s*SCAN ({names})\b", line)
            and not re.search(r"USING (COVERING )?INDEX", line)
        ]
    tables = "|".join(CHECKED_TABLES)  # PostgreSQL names the table, then the alias
    return [line for line in plan if re.search(rf"Seq Scan on ({tables})\b", line)]


def uses_tag_index(dialect: str, statement: str, plan: list[str]) -> bool:
    if dialect == "sqlite":
        names = names_of(statement, "session_tags")
        pattern = rf"\b({names}) USING (COVERING INDEX|INDEX|PRIMARY KEY)"
    else:
        pattern = r"Index.*session_tags"
    return any(re.search(pattern, line) for line in plan)


def constrains(dialect: str, statement: str, plan: list[str], column: str) -> bool:
    """Whether an index search on sessions is bounded by `column`."""
    if column == "running_since":  # a partial index: its predicate is the bound
        names = names_of(statement, "sessions")
        pattern = rf"(SEARCH ({names}) USING (COVERING )?INDEX|using) ix_sessions_running\b"
    elif dialect == "sqlite":
        names = names_of(statement, "sessions")
        pattern = rf"SEARCH ({names}) USING (COVERING )?INDEX \w+ \(.*\b{column}[=<>]"
    else:
        pattern = rf"Index Cond: .*\b{column}\b"
    return any(re.search(pattern, line) for line in plan)


def check_plans(plan_db: PlanDb, params: dict[str, str]) -> None:
    with plan_db.db.read() as conn:
        statements = served_statements(conn, plan_db, params)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [(s, explain(conn, s, p)) for s, p in statements]
        dialect = conn.dialect.name
    failures = [
        f"{statement}\n  -> {line}"
        for statement, plan in plans
        for line in full_scans(dialect, statement, plan)
    ]
    assert not failures, "full scan in:\n" + "\n".join(failures)
    if "tags" in params:
        on_tags = [(s, plan) for s, plan in plans if "session_tags" in s]
        assert on_tags, "the tags filter must query session_tags"
        for statement, plan in on_tags:
            assert uses_tag_index(dialect, statement, plan), f"{statement}\n" + "\n".join(plan)
    counted_by_project = set(params) <= {"sort", "order", "is_closed"}
    if counted_by_project:
        return
    # A filtered total is a COUNT, with no order to favour another index: it must
    # be answered by an index that constrains the filtered column itself.
    counts = [(s, plan) for s, plan in plans if "count(" in s.lower()]
    assert counts, "a filtered list must count its matches"
    column = FILTER_COLUMNS.get(next(iter(set(params) - {"sort", "order"})))
    for statement, plan in counts:
        if column is not None:
            assert constrains(dialect, statement, plan, column), f"{statement}\n" + "\n".join(plan)


def filter_cases() -> list[Any]:
    cases = []
    for name in FILTER_NAMES:
        for variant in (0, 1):
            for sort in ("sessions:created_at", "sessions:closed_at"):
                cases.append(
                    pytest.param(name, variant, sort, id=f"{name}-{'ab'[variant]}-{sort[9:]}")
                )
    return cases


def _skip_unless(plan_db: PlanDb, dialect: str) -> None:
    if plan_db.db.engine.dialect.name != dialect:
        pytest.skip(f"runs on {dialect} only")


@pytest.mark.parametrize("case", SORT_CASES, ids=lambda c: f"{c['sort'][9:]}-{c['order']}")
def test_sqlite_sort_uses_an_index(plan_db: PlanDb, case: dict[str, str]) -> None:
    _skip_unless(plan_db, "sqlite")
    check_plans(plan_db, case)


@pytest.mark.parametrize(("name", "variant", "sort"), filter_cases())
def test_sqlite_filter_uses_an_index(plan_db: PlanDb, name: str, variant: int, sort: str) -> None:
    _skip_unless(plan_db, "sqlite")
    check_plans(plan_db, {name: plan_db.values[name][variant], "sort": sort})


@pytest.mark.parametrize("case", SORT_CASES, ids=lambda c: f"{c['sort'][9:]}-{c['order']}")
def test_postgresql_sort_uses_an_index(plan_db: PlanDb, case: dict[str, str]) -> None:
    _skip_unless(plan_db, "postgresql")
    check_plans(plan_db, case)


@pytest.mark.parametrize(("name", "variant", "sort"), filter_cases())
def test_postgresql_filter_uses_an_index(
    plan_db: PlanDb, name: str, variant: int, sort: str
) -> None:
    _skip_unless(plan_db, "postgresql")
    check_plans(plan_db, {name: plan_db.values[name][variant], "sort": sort})


def test_postgresql_search_can_use_the_trigram_index(plan_db: PlanDb) -> None:
    """Search on PostgreSQL can be answered by migration 0014's pg_trgm index (the page
    and the count): the filter's SQL is the index's expression. At 3,000 rows the
    planner rightly prefers the project's index, so the others are dropped inside a
    transaction that is rolled back, leaving the trigram index or a scan."""
    _skip_unless(plan_db, "postgresql")
    with plan_db.db.read() as conn:
        statements = served_statements(conn, plan_db, {"search": plan_db.values["search"][1]})
    searching = [(s, p) for s, p in statements if "lower(" in s]
    assert searching
    with plan_db.db.engine.connect() as conn, conn.begin() as transaction:
        others = conn.execute(
            sa.text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'sessions' "
                "AND indexname LIKE 'ix_%' AND indexname <> 'ix_sessions_search_trgm'"
            )
        ).scalars()
        for name in list(others):
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [(s, explain(conn, s, p)) for s, p in searching]
        transaction.rollback()
    for statement, plan in plans:
        assert any("ix_sessions_search_trgm" in line for line in plan), (
            statement + "\n" + "\n".join(plan)
        )


def test_sqlite_search_reads_the_fts_index(plan_db: PlanDb) -> None:
    """Search on SQLite takes its matches from migration 0014's FTS5 trigram table
    (the page and the count), not from reading the project's rows."""
    _skip_unless(plan_db, "sqlite")
    with plan_db.db.read() as conn:
        statements = served_statements(conn, plan_db, {"search": plan_db.values["search"][1]})
        plans = [(s, explain(conn, s, p)) for s, p in statements if "MATCH" in s]
    assert len(plans) >= 2  # the count and the page
    for statement, plan in plans:
        assert any("session_search VIRTUAL TABLE" in line for line in plan), (
            statement + "\n" + "\n".join(plan)
        )


def test_postgresql_sbtm_session_report_walks_the_started_at_index(plan_db: PlanDb) -> None:
    """The SBTM sessions report (newest start first, never started last) reads its page
    in index order: with sorting priced out, its page query has no Sort step. Before
    migration 0016 the index's null order matched no scan, and at 800,000 sessions
    each page sorted the whole project (0.6-2 s)."""
    _skip_unless(plan_db, "postgresql")
    from charter.sbtm import read as sbtm_read
    from charter.sbtm.routes import SESSION_REPORT

    recorded: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        recorded.append((statement, parameters))

    with plan_db.db.engine.connect() as conn, conn.begin() as transaction:
        sa.event.listen(conn, "before_cursor_execute", record)
        page = sbtm_read.session_report(
            conn, plan_db.project_id, parse_list(Params({}), SESSION_REPORT)
        )
        sa.event.remove(conn, "before_cursor_execute", record)
        assert page.rows
        pages = [(s, p) for s, p in recorded if "ORDER BY sessions.started_at" in s]
        assert pages, [s for s, _ in recorded]
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        for statement, parameters in pages:
            plan = explain(conn, statement, parameters)
            assert not any("Sort" in line for line in plan), "\n".join([statement, *plan])
        transaction.rollback()
