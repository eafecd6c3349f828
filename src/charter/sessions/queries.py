"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row, RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from charter.core.listing import ListQuery
from charter.db import listing as db_listing
from charter.db import live as db_live
from charter.db import rows as db_rows
from charter.db.expressions import LIVE_ELAPSED_SQL, NOW_US, iso_utc, utc_date
from charter.db.tables import (
    COUNTER_COLUMNS,
    SESSION_SEARCH,
    note_history,
    projects,
    result_field_values,
    result_issues,
    session_day_counts,
    session_field_values,
    session_issues,
    session_results,
    session_tags,
    sessions,
    template_fields,
)


def sessions_with_status(conn: Connection, status_id: int) -> list[int]:
    stmt = (
        sa.select(session_results.c.session_id)
        .where(session_results.c.status_id == status_id)
        .distinct()
        .order_by(session_results.c.session_id)
    )
    return [r[0] for r in conn.execute(stmt)]


def session_count_using(conn: Connection, column: sa.Column[Any], value: Any) -> int:
    stmt = sa.select(sa.func.count()).select_from(sessions).where(column == value)
    return int(conn.execute(stmt).scalar_one())


def insert_session(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(sessions).values(**values).returning(sessions.c.id)
    session_id = int(conn.execute(stmt).scalar_one())
    _bump_version(conn, session_id)
    return session_id


def _bump_version(conn: Connection, session_id: int) -> None:
    """Every change to which sessions a list filter matches bumps the project's
    session_version in the same transaction (cached totals are keyed by it), and is
    announced to open pages (db/live.py)."""
    db_live.announce(conn, session_id, "session")
    project = sa.select(sessions.c.project_id).where(sessions.c.id == session_id)
    stmt = (
        sa.update(projects)
        .where(projects.c.id == project.scalar_subquery())
        .values(session_version=projects.c.session_version + 1)
    )
    conn.execute(stmt)


def session_by_id(conn: Connection, session_id: int) -> RowMapping | None:
    stmt = sa.select(sessions).where(sessions.c.id == session_id)
    return conn.execute(stmt).mappings().first()


def session_for_update(conn: Connection, session_id: int) -> RowMapping | None:
    """The row, locked until the transaction ends (PostgreSQL; SQLite holds the
    database write lock already)."""
    stmt = sa.select(sessions).where(sessions.c.id == session_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


# Page reads run on every list request: statements are built once, with an expanding
# parameter for the ids, and rows are fetched all at once.
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)


_FIELD_VALUES_OF = sa.select(
    session_field_values.c.session_id,
    session_field_values.c.field_id,
    session_field_values.c.value,
).where(session_field_values.c.session_id.in_(_IDS))


# The keys of a session object, in the API's order; custom field values follow.
HEAD_KEYS = (
    "id",
    "project_id",
    "template_id",
    "name",
    "config_id",
    "milestone_id",
    "state_id",
    "assignee_id",
    "estimate",
    "forecast",
    # Time run so far, live while the session runs (so a running session's ETag
    # changes with time, as its representation does).
    "elapsed",
    "is_started",
    "is_closed",
)


TAIL_KEYS = (
    *COUNTER_COLUMNS,
    "started_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "closed_at",
    "closed_by",  # last, and never an object: see _sqlite_json
)


class session_json(FunctionElement[str]):
    """One session as the API's JSON object (text), with its issue ids, tag names and
    custom field values, built by the database from the outer query's `sessions` row.
    A page is then a list of ready JSON texts: no per-row, per-key work in Python,
    which was most of a list request's time on SQLite (bench/RESULTS.md)."""

    type = sa.String()
    inherit_cache = True
    name = "session_json"


_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}  # type: ignore[no-untyped-call]


def _value(dialect: str, column: str) -> str:
    ref = f"sessions.{column}"
    if column == "elapsed":
        return LIVE_ELAPSED_SQL[dialect]
    if isinstance(sessions.c[column].type, sa.DateTime):
        return str(iso_utc(sessions.c[column]).compile(dialect=_DIALECTS[dialect]))
    if isinstance(sessions.c[column].type, sa.Boolean) and dialect == "sqlite":
        return f"json(CASE WHEN {ref} THEN 'true' ELSE 'false' END)"  # stored as 0/1
    return ref


def _pairs(dialect: str, keys: Iterable[str]) -> str:
    return ", ".join(f"'{key}', {_value(dialect, key)}" for key in keys)


_SQLITE_ISSUES = (
    "json((SELECT json_group_array(issue_id) FROM (SELECT issue_id FROM session_issues"
    " WHERE session_id = sessions.id ORDER BY issue_id)))"
)


_SQLITE_TAGS = (
    "json((SELECT json_group_array(name) FROM (SELECT tags.name FROM session_tags"
    " JOIN tags ON tags.id = session_tags.tag_id"
    " WHERE session_tags.session_id = sessions.id ORDER BY tags.name)))"
)


# "custom_<name>":<stored JSON> for each session field of the template, in display
# order (an ordered subquery under an aggregate is not flattened, so its order holds).
_SQLITE_CUSTOM = (
    "(SELECT group_concat(json_quote('custom_' || f.system_name) || ':'"
    " || coalesce(v.value, 'null'), ',')"
    " FROM (SELECT id, system_name FROM template_fields"
    " WHERE template_id = sessions.template_id AND scope = 'session'"
    " ORDER BY display_order, id) AS f"
    " LEFT JOIN session_field_values AS v ON v.session_id = sessions.id AND v.field_id = f.id)"
)


def _sqlite_json() -> str:
    obj = (
        f"json_object({_pairs('sqlite', HEAD_KEYS)}, 'issues', {_SQLITE_ISSUES},"
        f" 'tags', {_SQLITE_TAGS}, {_pairs('sqlite', TAIL_KEYS)})"
    )
    # The object ends with closed_by (a number or null), so rtrim drops exactly its
    # closing brace; the custom members go in before a new one.
    return f"(rtrim({obj}, '}}') || coalesce(',' || {_SQLITE_CUSTOM}, '') || '}}')"


# PostgreSQL's json_build_object and json_agg write `"key" : value, ...`: the page
# would be other bytes than SQLite's (about 15% more of them). The object is spliced
# from compact pieces instead, so both databases answer the same bytes.
_PG_ISSUES = (
    "(SELECT '[' || coalesce(string_agg(issue_id::text, ',' ORDER BY issue_id), '') || ']'"
    " FROM session_issues WHERE session_id = sessions.id)"
)


_PG_TAGS = (
    "(SELECT '[' || coalesce(string_agg(to_json(tags.name)::text, ',' ORDER BY tags.name), '')"
    " || ']' FROM session_tags JOIN tags ON tags.id = session_tags.tag_id"
    " WHERE session_tags.session_id = sessions.id)"
)


_PG_CUSTOM = (
    "(SELECT string_agg(to_json('custom_' || f.system_name)::text || ':'"
    " || coalesce(v.value, 'null'), ',' ORDER BY f.display_order, f.id)"
    " FROM template_fields AS f"
    " LEFT JOIN session_field_values AS v ON v.session_id = sessions.id AND v.field_id = f.id"
    " WHERE f.template_id = sessions.template_id AND f.scope = 'session')"
)


def _pg_member(key: str, value_sql: str) -> str:
    return f"'\"{key}\":' || coalesce(to_json({value_sql})::text, 'null')"


def _postgresql_json() -> str:
    members = [_pg_member(k, _value("postgresql", k)) for k in HEAD_KEYS]
    members += [f"'\"issues\":' || {_PG_ISSUES}", f"'\"tags\":' || {_PG_TAGS}"]
    members += [_pg_member(k, _value("postgresql", k)) for k in TAIL_KEYS]
    body = " || ',' || ".join(members)
    return f"('{{' || {body} || coalesce(',' || {_PG_CUSTOM}, '') || '}}')"


_SESSION_JSON_SQL = {"sqlite": _sqlite_json(), "postgresql": _postgresql_json()}


@compiles(session_json, "sqlite")
@compiles(session_json, "postgresql")
def _compile_session_json(element: session_json, compiler: Any, **kw: Any) -> str:
    now = compiler.process(element.clauses, **kw)
    return _SESSION_JSON_SQL[compiler.dialect.name].replace("{now}", f"({now})")


# What the domain needs beside the JSON: ids for expands and permission checks.
_JSON_VIEW = sa.select(
    session_json(NOW_US).label("json"),
    sessions.c.id,
    sessions.c.project_id,
    sessions.c.template_id,
    sessions.c.config_id,
    sessions.c.milestone_id,
    sessions.c.state_id,
    sessions.c.assignee_id,
    sessions.c.created_by,
    sessions.c.updated_by,
    sessions.c.closed_by,
)


JSON_VIEW_POSITION = {c.name: i for i, c in enumerate(_JSON_VIEW.selected_columns)}


USER_COLUMNS = ("assignee_id", "created_by", "updated_by", "closed_by")


_JSON_BY_ID = _JSON_VIEW.where(sessions.c.id == sa.bindparam("id"))


def session_json_by_id(conn: Connection, session_id: int) -> Row[Any] | None:
    """One session's JSON row (see `_JSON_VIEW`), or None."""
    return conn.execute(_JSON_BY_ID, {"id": session_id}).first()


@dataclass
class Refs:
    """What a page's sessions refer to, for the issues and field_values expands."""

    issue_ids: set[int] = field(default_factory=set)
    # (field type, stored JSON) of the dropdown and multi-select values.
    choices: list[tuple[str, str]] = field(default_factory=list)


_REFS_OF = sa.union_all(
    sa.select(sa.literal("issue"), sa.cast(session_issues.c.issue_id, sa.Text)).where(
        session_issues.c.session_id.in_(_IDS)
    ),
    sa.select(template_fields.c.type, session_field_values.c.value)
    .join(template_fields, template_fields.c.id == session_field_values.c.field_id)
    .where(
        session_field_values.c.session_id.in_(_IDS),
        template_fields.c.type.in_(("dropdown", "multiselect")),
    ),
)


def refs_of(conn: Connection, ids: Sequence[int]) -> Refs:
    """The issue ids and choice values of sessions `ids`, in one statement."""
    out = Refs()
    if ids:
        for kind, value in conn.execute(_REFS_OF, {"ids": list(ids)}).all():
            if kind == "issue":
                out.issue_ids.add(int(value))
            else:
                out.choices.append((kind, value))
    return out


@dataclass(frozen=True)
class Memo:
    """The per-project-version caches a list may use (kept by the caller: the
    sessions package's totals and seek modules). The planner below decides what to
    cache; these decide where."""

    total: Callable[[Callable[[], int]], int]  # a filtered total, counted once
    value: Callable[[Hashable, Callable[[], Any]], Any]  # any other fact, by key
    # (row to start after, offset left) for a deep page: see sessions/seek.py.
    seek: Callable[[int, Callable[[Any, int], Any]], tuple[Any, int]]


def tag_filter(tag_ids: Sequence[int]) -> db_listing.Filter:
    """The list filter of sessions carrying any of `tag_ids` (none: matches nothing)."""
    return db_listing.Filter("link", "tag_id", list(tag_ids) or [-1], session_tags, "session_id")


# Filters answered by the project's stored counters instead of COUNT(*).
_COUNTER_FOR_IS_CLOSED = {True: "session_closed_count", False: "session_active_count"}


def _total(
    conn: Connection,
    project: RowMapping,
    base: sa.ColumnElement[bool],
    filters: Sequence[db_listing.Filter],
    memo: Memo,
) -> int:
    """Unfiltered and open/closed totals come from the project's stored counters;
    others are counted once per project version (sessions/totals.py)."""
    if not filters:
        return int(project["session_count"])
    if len(filters) == 1 and filters[0].column == "is_closed" and filters[0].op == "eq":
        return int(project[_COUNTER_FOR_IS_CLOSED[bool(filters[0].value)]])
    return memo.total(lambda: db_listing.count(conn, sessions, base, filters))


# Reading the matches through their own index and sorting them costs about their
# number. Walking the sort index costs about (page end / share of rows that match)
# when matches spread evenly (tags), but up to the whole project when they cluster
# at the far end (a range on the other timestamp, which correlates with the sort).
FEW_MATCHES = 100_000


def _plan(
    filters: Sequence[db_listing.Filter], query: ListQuery, total: int, rows: int
) -> db_listing.Plan:
    """The plan for one range filter on the other timestamp or one tags filter (plus
    is_closed), where SQLite cannot tell how many rows match (it keeps no histograms)
    but the total does. Anything else is left to the planner."""
    sort = query.sort
    # An indexed search selects ids like a link filter does.
    hard = [
        f
        for f in filters
        if f.op == "link"
        or (f.op == "search" and f.link_table is not None)
        or (f.op in ("gt", "lt") and f.column != sort)
    ]
    rest = [f for f in filters if f not in hard and f.column != "is_closed"]
    if len(hard) != 1 or rest or total == 0:
        return db_listing.Plan()
    if hard[0].op in ("link", "search"):
        walk = (query.offset + query.per_page) * rows / total
        return (
            db_listing.Plan(index_column=sort)
            if walk <= total
            else db_listing.Plan(from_links=True)
        )
    if total > FEW_MATCHES:
        return db_listing.Plan(index_column=sort)
    return db_listing.Plan(index_column=hard[0].column)


def _start_at_first_match(
    conn: Connection,
    base: sa.ColumnElement[bool],
    filters: tuple[db_listing.Filter, ...],
    query: ListQuery,
    memo: Memo,
) -> tuple[db_listing.Filter, ...]:
    """When many rows match a range on the other timestamp, they still cluster (closed
    before a date means created before it, mostly): walking the sort index from the
    top would first skip every newer row. A redundant bound at the first match's sort
    value (exact, from the data; cached per version) makes the walk start there."""
    probe = db_listing.PageRequest(filters, query.sort, query.descending, 1, 0)
    first = memo.value(
        ("first", query.filters, query.sort, query.descending),
        lambda: db_listing.first_sort_value(conn, sessions, base, probe),
    )
    if first is None:
        return filters
    return (*filters, db_listing.Filter("le" if query.descending else "ge", query.sort, first))


# The FTS5 trigram index finds substrings of three characters or more.
_MIN_INDEXED_SEARCH = 3


def _with_search_index(f: db_listing.Filter) -> db_listing.Filter:
    """On SQLite, a search long enough for the trigram index reads its matches from
    the FTS5 table (migration 0014); shorter ones scan the project."""
    if f.op != "search" or len(str(f.value)) < _MIN_INDEXED_SEARCH:
        return f
    return db_listing.Filter("search", f.column, f.value, SESSION_SEARCH)


def page_of_sessions(
    conn: Connection,
    project: RowMapping,
    query: ListQuery,
    filters: tuple[db_listing.Filter, ...],
    memo: Memo,
) -> tuple[int, list[Row[Any]]]:
    """(total, JSON rows of the page) of a project's sessions: every choice of
    counter, plan and starting point for SQLite and PostgreSQL is made here."""
    project_id = project["id"]
    base = sessions.c.project_id == project_id
    if conn.dialect.name == "sqlite":
        filters = tuple(_with_search_index(f) for f in filters)
    total = _total(conn, project, base, filters, memo)
    plan = _plan(filters, query, total, int(project["session_count"]))
    # A range on the other timestamp: PostgreSQL, which cannot know the matches
    # cluster, walks the sort index from the top too (its plan, not ours).
    other_range = any(f.op in ("gt", "lt") and f.column != query.sort for f in filters)
    if (
        (plan.index_column == query.sort or other_range)
        and query.sort == "created_at"
        and not any(f.op in ("link", "search") for f in filters)
    ):
        filters = _start_at_first_match(conn, base, filters, query, memo)
    offset, after = query.offset, None
    if query.sort == "created_at" and total > offset:  # NOT NULL sort key

        def next_mark(start: Any, n: int) -> Any:
            probe = db_listing.PageRequest(filters, query.sort, query.descending, 1, n, plan, start)
            return db_listing.mark_after(conn, sessions, base, probe)

        after, offset = memo.seek(query.offset, next_mark)
    request = db_listing.PageRequest(
        filters, query.sort, query.descending, query.per_page, offset, plan, after
    )
    # Known empty (no match, or past the end): finding that out by walking an index
    # can cost a scan of every candidate, so skip the page query.
    empty = total == 0 or query.offset >= total
    if empty:
        return total, []
    rows = page_of_session_json(conn, project_id, request, with_total=not filters)
    # Unfiltered, the total read with the page: the two agree even without a snapshot
    # (Database.read(snapshot=False), sessions/routes.py).
    return (rows[0][-1] if rows and not filters else total), rows


def page_of_session_json(
    conn: Connection, project_id: int, req: db_listing.PageRequest, with_total: bool = False
) -> list[Row[Any]]:
    """One page of a project's sessions as JSON rows (see `_JSON_VIEW`), in one
    statement; `with_total`: the project's session count last in each row."""
    view = _JSON_VIEW
    if with_total:
        count = sa.select(projects.c.session_count).where(projects.c.id == project_id)
        view = view.add_columns(count.scalar_subquery().label("project_total"))
    return db_listing.page_rows(conn, sessions, view, lambda s: s.c.project_id == project_id, req)


def update_session(conn: Connection, session_id: int, **values: Any) -> None:
    conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))
    _bump_version(conn, session_id)


def delete_session(conn: Connection, session_id: int) -> None:
    _bump_version(conn, session_id)
    # Children first: SQLite cascades only with foreign_keys=ON, PostgreSQL always.
    for table in (session_tags, session_issues, session_field_values):
        conn.execute(sa.delete(table).where(table.c.session_id == session_id))
    result_ids = sa.select(session_results.c.id).where(session_results.c.session_id == session_id)
    for table in (result_issues, result_field_values, note_history):
        conn.execute(sa.delete(table).where(table.c.result_id.in_(result_ids)))
    conn.execute(sa.delete(session_results).where(session_results.c.session_id == session_id))
    # Follow-up charters outlive the session they came from (debriefs).
    conn.execute(
        sa.update(sessions).where(sessions.c.follow_up_of == session_id).values(follow_up_of=None)
    )
    conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))


def set_tags(conn: Connection, session_id: int, tag_ids: Iterable[int]) -> None:
    _bump_version(conn, session_id)
    conn.execute(sa.delete(session_tags).where(session_tags.c.session_id == session_id))
    rows = [{"session_id": session_id, "tag_id": t} for t in dict.fromkeys(tag_ids)]
    if rows:
        conn.execute(sa.insert(session_tags), rows)


def set_issues(conn: Connection, session_id: int, issue_ids: Iterable[int]) -> None:
    conn.execute(sa.delete(session_issues).where(session_issues.c.session_id == session_id))
    rows = [{"session_id": session_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(session_issues), rows)


def set_field_values(conn: Connection, session_id: int, values: dict[int, str | None]) -> None:
    """Store JSON-encoded values by field id; None removes the value."""
    db_rows.replace_values(session_field_values.c.session_id, conn, session_id, values)


def field_values_of(conn: Connection, ids: Sequence[int]) -> dict[int, dict[int, str]]:
    """JSON-encoded custom field values: {session_id: {field_id: value}}."""
    out: dict[int, dict[int, str]] = defaultdict(dict)
    if ids:
        for sid, fid, value in conn.execute(_FIELD_VALUES_OF, {"ids": list(ids)}).all():
            out[sid][fid] = value
    return out


def bump_counters(conn: Connection, session_id: int, deltas: dict[str, int]) -> None:
    """Every note write comes here (even one that moves no counter: an edited text),
    so it is announced to open pages here too."""
    db_live.announce(conn, session_id, "notes")
    values = {name: sessions.c[name] + delta for name, delta in deltas.items() if delta}
    if values:
        conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))


def stored_counters(
    conn: Connection, session_ids: Sequence[int] | None = None
) -> dict[int, dict[str, int]]:
    stmt = sa.select(sessions.c.id, *(sessions.c[c] for c in COUNTER_COLUMNS))
    if session_ids is not None:
        stmt = stmt.where(sessions.c.id.in_(session_ids))
    return {r[0]: dict(zip(COUNTER_COLUMNS, r[1:], strict=True)) for r in conn.execute(stmt)}


def result_status_histogram(
    conn: Connection, session_ids: Sequence[int] | None = None
) -> dict[int, dict[int | None, int]]:
    """{session_id: {status_id or None: number of results}} straight from the results."""
    stmt = sa.select(
        session_results.c.session_id, session_results.c.status_id, sa.func.count()
    ).group_by(session_results.c.session_id, session_results.c.status_id)
    if session_ids is not None:
        stmt = stmt.where(session_results.c.session_id.in_(session_ids))
    out: dict[int, dict[int | None, int]] = defaultdict(dict)
    for sid, status_id, n in conn.execute(stmt):
        out[sid][status_id] = int(n)
    return out


def project_session_counts(conn: Connection, project_id: int) -> dict[str, int]:
    stmt = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((sessions.c.is_closed.is_(True), 1), else_=0)), 0),
    ).where(sessions.c.project_id == project_id)
    total, closed = conn.execute(stmt).one()
    return {
        "session_count": int(total),
        "session_closed_count": int(closed),
        "session_active_count": int(total) - int(closed),
    }


# --- sessions per project, UTC day, runner and state (table session_day_counts) -------
# Kept by triggers on `sessions` (migration 0008); the dashboard reads it.

_RUNNER = sa.func.coalesce(sessions.c.started_by, sessions.c.assignee_id, 0)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _session_days() -> sa.Select[Any]:
    day = utc_date(sessions.c.created_at)
    return sa.select(
        sessions.c.project_id,
        day,
        _RUNNER,
        sessions.c.state_id,
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sessions.c.elapsed), 0),
    ).group_by(sessions.c.project_id, day, _RUNNER, sessions.c.state_id)


def _day_key(r: Any) -> tuple[int, date, int, int]:
    return int(r[0]), _day(r[1]), int(r[2]), int(r[3])


def session_days_drifted(conn: Connection) -> bool:
    """Whether session_day_counts differs from a count of the sessions."""
    c = session_day_counts.c
    stored = {
        _day_key(r): (int(r[4]), int(r[5]))
        for r in conn.execute(
            sa.select(c.project_id, c.day, c.runner_id, c.state_id, c.sessions, c.elapsed).where(
                c.sessions != 0
            )
        )
    }
    counted = {_day_key(r): (int(r[4]), int(r[5])) for r in conn.execute(_session_days())}
    return stored != counted


def rebuild_session_days(conn: Connection) -> bool:
    """Rebuild session_day_counts from the sessions; True when it had drifted."""
    drifted = session_days_drifted(conn)
    conn.execute(sa.delete(session_day_counts))
    c = session_day_counts.c
    conn.execute(
        sa.insert(session_day_counts).from_select(
            [c.project_id, c.day, c.runner_id, c.state_id, c.sessions, c.elapsed], _session_days()
        )
    )
    return drifted


# --- the SQLite search index during a bulk load -----------------------------------------
# Kept by triggers (migration 0014), the FTS5 index takes milliseconds per session once
# it holds a few hundred thousand, and loses its shape when built row by row: the demo
# loader measured 100 sessions/s at 100,000 with the triggers on. A bulk load drops the
# triggers and rebuilds the index in one pass at the end (seconds per million).

_SEARCH_TRIGGERS = sa.text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sessions'"
    " AND name LIKE 'session_search_%' ORDER BY name"
)


def suspend_search_index(conn: Connection) -> list[str]:
    """SQLite: drop the search index's triggers; returns the SQL that re-creates them."""
    if conn.dialect.name != "sqlite":
        return []
    triggers = [(str(name), str(sql)) for name, sql in conn.execute(_SEARCH_TRIGGERS)]
    for name, _sql in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    return [sql for _name, sql in triggers]


def resume_search_index(conn: Connection, triggers: Sequence[str]) -> None:
    """Re-create the triggers `suspend_search_index` dropped and rebuild the index."""
    if not triggers:
        return
    for sql in triggers:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("INSERT INTO session_search(session_search) VALUES ('rebuild')")
