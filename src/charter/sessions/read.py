"""Reading sessions: the list and single-object views in the contract's shape, with
expands. All of a request's reads happen here, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy.engine import Connection, Row

from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.catalog import custom_fields
from charter.catalog import read as catalog_read
from charter.core.errors import Forbidden, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import session_tags, sessions
from charter.milestones import read as milestone_read
from charter.projects import read as project_read
from charter.sessions import queries as session_queries
from charter.sessions import seek, totals

# Lookups other packages use (they never import this package's queries).
from charter.sessions.queries import session_by_id as session_by_id
from charter.sessions.queries import session_count_using as session_count_using
from charter.sessions.queries import sessions_with_status as sessions_with_status
from charter.users import read as user_read

SESSION_EXPANDS = (
    "configs",
    "field_values",
    "issues",
    "milestones",
    "states",
    "statuses",
    "templates",
    "users",
)


# Filters answered by the project's stored counters instead of COUNT(*).
_COUNTER_FOR_IS_CLOSED = {True: "session_closed_count", False: "session_active_count"}


def _resolve_tags(
    conn: Connection, filters: Iterable[db_listing.Filter]
) -> tuple[db_listing.Filter, ...]:
    """Turn a `tags` filter (names) into a link filter on tag ids."""
    out = []
    for f in filters:
        if f.op == "tags":
            ids = list(catalog_read.tag_ids_by_names(conn, f.value).values())  # type: ignore[arg-type]
            f = db_listing.Filter("link", "tag_id", ids or [-1], session_tags, "session_id")
        out.append(f)
    return tuple(out)


def _total(conn: Connection, project: Any, base: Any, query: ListQuery, filters: Any) -> int:
    """Unfiltered and open/closed totals come from the project's stored counters;
    others are counted once per project version (domain/totals.py)."""
    if not filters:
        return int(project["session_count"])
    if len(filters) == 1 and filters[0].column == "is_closed" and filters[0].op == "eq":
        return int(project[_COUNTER_FOR_IS_CLOSED[bool(filters[0].value)]])
    return totals.cached_total(
        conn,
        project["id"],
        project["session_version"],
        query.filters,
        lambda: db_listing.count(conn, sessions, base, filters),
    )


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
    hard = [f for f in filters if f.op == "link" or (f.op in ("gt", "lt") and f.column != sort)]
    rest = [f for f in filters if f not in hard and f.column != "is_closed"]
    if len(hard) != 1 or rest or total == 0:
        return db_listing.Plan()
    if hard[0].op == "link":
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
    project: Any,
    base: Any,
    filters: tuple[db_listing.Filter, ...],
    query: ListQuery,
) -> tuple[db_listing.Filter, ...]:
    """When many rows match a range on the other timestamp, they still cluster (closed
    before a date means created before it, mostly): walking the sort index from the
    top would first skip every newer row. A redundant bound at the first match's sort
    value (exact, from the data; cached per version) makes the walk start there."""
    probe = db_listing.PageRequest(filters, query.sort, query.descending, 1, 0)
    first = totals.cached(
        conn,
        project["id"],
        project["session_version"],
        ("first", query.filters, query.sort, query.descending),
        lambda: db_listing.first_sort_value(conn, sessions, base, probe),
    )
    if first is None:
        return filters
    return (*filters, db_listing.Filter("le" if query.descending else "ge", query.sort, first))


def list_sessions(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    project = require_project(conn, user, project_id, "read")
    filters = _resolve_tags(conn, query.filters)
    base = sessions.c.project_id == project_id
    total = _total(conn, project, base, query, filters)
    plan = _plan(filters, query, total, int(project["session_count"]))
    # A range on the other timestamp: PostgreSQL, which cannot know the matches
    # cluster, walks the sort index from the top too (its plan, not ours).
    other_range = any(f.op in ("gt", "lt") and f.column != query.sort for f in filters)
    if (
        (plan.index_column == query.sort or other_range)
        and query.sort == "created_at"
        and not any(f.op == "link" for f in filters)
    ):
        filters = _start_at_first_match(conn, project, base, filters, query)
    offset, after = query.offset, None
    if query.sort == "created_at" and total > offset >= seek.STRIDE:  # NOT NULL sort key

        def next_mark(start: seek.Mark | None, n: int) -> seek.Mark | None:
            probe = db_listing.PageRequest(filters, query.sort, query.descending, 1, n, plan, start)
            return db_listing.mark_after(conn, sessions, base, probe)

        key = (
            conn.engine.url.render_as_string(),
            project_id,
            project["session_version"],
            query.filters,
            query.descending,
        )
        after, offset = seek.start(key, query.offset, next_mark)
    request = db_listing.PageRequest(
        filters, query.sort, query.descending, query.per_page, offset, plan, after
    )
    # Known empty (no match, or past the end): finding that out by walking an index
    # can cost a scan of every candidate, so skip the page query.
    empty = total == 0 or query.offset >= total
    rows = [] if empty else session_queries.page_of_session_json(conn, project_id, request)
    return _shape(conn, rows, query.expands, total)


def get_session(conn: Connection, user: User, session_id: int, expands: frozenset[str]) -> Page:
    row = session_queries.session_json_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    try:
        # The session's foreign key guarantees its project exists.
        require_access(conn, user, row.project_id, "read")
    except Forbidden:
        raise Forbidden("You are not a member of this session's project.") from None
    return _shape(conn, [row], expands, 1)


def _shape(conn: Connection, rows: Sequence[Row[Any]], expands: frozenset[str], total: int) -> Page:
    """Rows of session_queries.page_of_session_json: the session objects come as JSON text from the
    database and pass to the encoder as they are (msgspec.Raw); the expands are read
    by the ids beside them."""
    out: list[Any] = [msgspec.Raw(r.json) for r in rows]
    return Page(out, total, _expands(conn, rows, expands))


def as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Session objects of a Page as dicts, for Python callers (the web UI)."""
    return [msgspec.json.decode(r) for r in rows]


# Positions in the JSON rows (session_queries.JSON_VIEW): tuple indexing, not attribute access.
_USERS = itemgetter(*(session_queries.JSON_VIEW_POSITION[c] for c in session_queries.USER_COLUMNS))


def _ids(rows: Sequence[Row[Any]], column: str) -> set[int]:
    at = session_queries.JSON_VIEW_POSITION[column]
    return {v for r in rows if (v := r[at]) is not None}


def _user_ids(rows: Sequence[Row[Any]]) -> set[int]:
    return {v for r in rows for v in _USERS(r) if v is not None}


def _value_ids(refs: session_queries.Refs) -> set[int]:
    """The dropdown / multi-select value ids the page's custom values refer to."""
    found: set[int] = set()
    for type_, encoded in refs.choices:
        kind = {"type": type_}
        found.update(custom_fields.value_ids(kind, custom_fields.decode(kind, encoded)))
    return found


def _expands(
    conn: Connection, rows: Sequence[Row[Any]], wanted: frozenset[str]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    refs = session_queries.Refs()
    if wanted & {"issues", "field_values"}:  # what the JSON holds, as Python values
        refs = session_queries.refs_of(conn, [r.id for r in rows])
    for name in sorted(wanted):
        if name == "users":
            out[name] = user_read.user_names(conn, _user_ids(rows))
        elif name == "configs":
            out[name] = project_read.config_names(conn, _ids(rows, "config_id"))
        elif name == "milestones":
            out[name] = milestone_read.milestone_names(conn, _ids(rows, "milestone_id"))
        elif name == "templates":
            out[name] = catalog_read.template_expands(conn, _ids(rows, "template_id"))
        elif name == "states":
            out[name] = catalog_read.state_expands(conn, _ids(rows, "state_id"))
        elif name == "statuses":
            out[name] = catalog_read.active_statuses(conn)
        elif name == "issues":
            out[name] = catalog_read.issue_expands(conn, refs.issue_ids)
        elif name == "field_values":
            out[name] = catalog_read.field_value_expands(conn, _value_ids(refs))
    return out
