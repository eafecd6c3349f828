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


def _resolve_tags(
    conn: Connection, filters: Iterable[db_listing.Filter]
) -> tuple[db_listing.Filter, ...]:
    """Turn a `tags` filter (names) into a link filter on tag ids."""
    out = []
    for f in filters:
        if f.op == "tags":
            ids = list(catalog_read.tag_ids_by_names(conn, f.value).values())  # type: ignore[arg-type]
            f = session_queries.tag_filter(ids)
        out.append(f)
    return tuple(out)


def _memo(conn: Connection, project: Any, query: ListQuery) -> session_queries.Memo:
    """The caches the list planner may use, keyed by the project's session_version."""
    project_id, version = project["id"], project["session_version"]

    def seek_from(offset: int, next_mark: Any) -> tuple[Any, int]:
        key = (conn.engine.url.render_as_string(), project_id, version)
        return seek.start((*key, query.filters, query.descending), offset, next_mark)

    return session_queries.Memo(
        total=lambda count: totals.cached_total(conn, project_id, version, query.filters, count),
        value=lambda key, compute: totals.cached(conn, project_id, version, key, compute),
        seek=seek_from,
    )


def list_sessions(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    project = require_project(conn, user, project_id, "read")
    filters = _resolve_tags(conn, query.filters)
    memo = _memo(conn, project, query)
    total, rows = session_queries.page_of_sessions(conn, project, query, filters, memo)
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
