"""Reading sessions: the list and single-object views in the contract's shape, with
expands. All of a request's reads happen here, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy.engine import Connection, Row

from charter.db.queries import listing as lq
from charter.db.queries import reference as rq
from charter.db.queries import sessions as sq
from charter.db.queries import users as uq
from charter.db.tables import COUNTER_COLUMNS, session_tags, sessions
from charter.domain import custom_fields, seek, totals
from charter.domain.auth import User
from charter.domain.errors import Forbidden, NotFound
from charter.domain.listing import ListQuery, Page
from charter.domain.permissions import require_access, require_project

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


def _resolve_tags(conn: Connection, filters: Iterable[lq.Filter]) -> tuple[lq.Filter, ...]:
    """Turn a `tags` filter (names) into a link filter on tag ids."""
    out = []
    for f in filters:
        if f.op == "tags":
            ids = list(rq.tag_ids_by_names(conn, f.value).values())  # type: ignore[arg-type]
            f = lq.Filter("link", "tag_id", ids or [-1], session_tags, "session_id")
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
        lambda: lq.count(conn, sessions, base, filters),
    )


# Reading the matches through their own index and sorting them costs about their
# number. Walking the sort index costs about (page end / share of rows that match)
# when matches spread evenly (tags), but up to the whole project when they cluster
# at the far end (a range on the other timestamp, which correlates with the sort).
FEW_MATCHES = 100_000


def _plan(filters: Sequence[lq.Filter], query: ListQuery, total: int, rows: int) -> lq.Plan:
    """The plan for one range filter on the other timestamp or one tags filter (plus
    is_closed), where SQLite cannot tell how many rows match (it keeps no histograms)
    but the total does. Anything else is left to the planner."""
    sort = query.sort
    hard = [f for f in filters if f.op == "link" or (f.op in ("gt", "lt") and f.column != sort)]
    rest = [f for f in filters if f not in hard and f.column != "is_closed"]
    if len(hard) != 1 or rest or total == 0:
        return lq.Plan()
    if hard[0].op == "link":
        walk = (query.offset + query.per_page) * rows / total
        return lq.Plan(index_column=sort) if walk <= total else lq.Plan(from_links=True)
    if total > FEW_MATCHES:
        return lq.Plan(index_column=sort)
    return lq.Plan(index_column=hard[0].column)


def _start_at_first_match(
    conn: Connection, project: Any, base: Any, filters: tuple[lq.Filter, ...], query: ListQuery
) -> tuple[lq.Filter, ...]:
    """When many rows match a range on the other timestamp, they still cluster (closed
    before a date means created before it, mostly): walking the sort index from the
    top would first skip every newer row. A redundant bound at the first match's sort
    value (exact, from the data; cached per version) makes the walk start there."""
    probe = lq.PageRequest(filters, query.sort, query.descending, 1, 0)
    first = totals.cached(
        conn,
        project["id"],
        project["session_version"],
        ("first", query.filters, query.sort, query.descending),
        lambda: lq.first_sort_value(conn, sessions, base, probe),
    )
    if first is None:
        return filters
    return (*filters, lq.Filter("le" if query.descending else "ge", query.sort, first))


def list_sessions(conn: Connection, user: User, project_id: int, query: ListQuery) -> Page:
    project = require_project(conn, user, project_id, "read")
    filters = _resolve_tags(conn, query.filters)
    base = sessions.c.project_id == project_id
    total = _total(conn, project, base, query, filters)
    plan = _plan(filters, query, total, int(project["session_count"]))
    if (
        plan.index_column == query.sort
        and query.sort == "created_at"
        and not any(f.op == "link" for f in filters)
    ):
        filters = _start_at_first_match(conn, project, base, filters, query)
    offset, after = query.offset, None
    if query.sort == "created_at" and total > offset >= seek.STRIDE:  # NOT NULL sort key

        def next_mark(start: seek.Mark | None, n: int) -> seek.Mark | None:
            probe = lq.PageRequest(filters, query.sort, query.descending, 1, n, plan, start)
            return lq.mark_after(conn, sessions, base, probe)

        key = (
            conn.engine.url.render_as_string(),
            project_id,
            project["session_version"],
            query.filters,
            query.descending,
        )
        after, offset = seek.start(key, query.offset, next_mark)
    request = lq.PageRequest(
        filters, query.sort, query.descending, query.per_page, offset, plan, after
    )
    # Known empty (no match, or past the end): finding that out by walking an index
    # can cost a scan of every candidate, so skip the page query.
    empty = total == 0 or query.offset >= total
    rows = [] if empty else sq.page_of_sessions(conn, project_id, request)
    return _shape(conn, rows, query.expands, total)


def get_session(conn: Connection, user: User, session_id: int, expands: frozenset[str]) -> Page:
    rows = sq.sessions_by_ids(conn, [session_id])
    if not rows:
        raise NotFound(f"Session {session_id} not found.")
    try:
        # The session's foreign key guarantees its project exists.
        require_access(conn, user, rows[0].project_id, "read")
    except Forbidden:
        raise Forbidden("You are not a member of this session's project.") from None
    return _shape(conn, rows, expands, 1)


def _shape(conn: Connection, rows: Sequence[Row[Any]], expands: frozenset[str], total: int) -> Page:
    ids = [r.id for r in rows]
    links = sq.links_of(conn, ids, {r.template_id for r in rows})
    tags, issues, values = links.tags, links.issues, links.values
    fields_by_template = {
        template_id: [(custom_fields.key_of(f), f) for f in found]
        for template_id, found in links.fields.items()
    }
    want_values = "field_values" in expands
    out = []
    value_ids: set[int] = set()
    for r in rows:
        item = _session_dict(r, tags.get(r.id, []), issues.get(r.id, []))
        stored = values.get(r.id, {})
        for key, f in fields_by_template.get(r.template_id, ()):
            encoded = stored.get(f["id"])
            # Stored values are JSON already: passed through to the encoder as is.
            item[key] = None if encoded is None else msgspec.Raw(encoded)
            if want_values and encoded is not None:
                value_ids.update(custom_fields.value_ids(f, custom_fields.decode(f, encoded)))
        out.append(item)
    return Page(out, total, _expands(conn, rows, issues, value_ids, expands))


# Rows are read by position: attribute access per key was a third of the shaping time.
_POSITION = {c.name: i for i, c in enumerate(sessions.columns)}
_HEAD = (
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
    # Time run up to the last pause or close: a running timer does not change the
    # representation every microsecond (that would defeat ETags and If-Match).
    "elapsed",
    "is_started",
    "is_closed",
)
_head = itemgetter(*(_POSITION[k] for k in _HEAD))
_counters = itemgetter(*(_POSITION[k] for k in COUNTER_COLUMNS))
_DATES = ("started_at", "created_at", "updated_at", "closed_at")
_BY = ("created_by", "updated_by", "closed_by")
_dates = itemgetter(*(_POSITION[k] for k in _DATES))
_by = itemgetter(*(_POSITION[k] for k in _BY))


def _session_dict(r: Row[Any], tags: list[str], issues: list[int]) -> dict[str, Any]:
    item = dict(zip(_HEAD, _head(r), strict=True))
    item["issues"] = issues
    item["tags"] = tags
    item.update(zip(COUNTER_COLUMNS, _counters(r), strict=True))
    # Timestamps arrive as API text (db.queries.sessions.VIEW_COLUMNS).
    started, created, updated, closed = _dates(r)
    created_by, updated_by, closed_by = _by(r)
    item["started_at"] = started
    item["created_at"] = created
    item["created_by"] = created_by
    item["updated_at"] = updated
    item["updated_by"] = updated_by
    item["closed_at"] = closed
    item["closed_by"] = closed_by
    return item


def _ids(rows: Sequence[Row[Any]], *columns: str) -> set[int]:
    return {v for r in rows for c in columns if (v := getattr(r, c)) is not None}


def _expands(
    conn: Connection,
    rows: Sequence[Row[Any]],
    issues: dict[int, list[int]],
    value_ids: set[int],
    wanted: frozenset[str],
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(wanted):
        if name == "users":
            ids = _ids(rows, "created_by", "updated_by", "closed_by", "assignee_id")
            out[name] = uq.user_names(conn, ids)
        elif name == "configs":
            out[name] = rq.config_names(conn, _ids(rows, "config_id"))
        elif name == "milestones":
            out[name] = rq.milestone_names(conn, _ids(rows, "milestone_id"))
        elif name == "templates":
            out[name] = rq.template_expands(conn, _ids(rows, "template_id"))
        elif name == "states":
            out[name] = rq.state_expands(conn, _ids(rows, "state_id"))
        elif name == "statuses":
            out[name] = rq.active_statuses(conn)
        elif name == "issues":
            out[name] = rq.issue_expands(conn, {i for ids in issues.values() for i in ids})
        elif name == "field_values":
            out[name] = rq.field_value_expands(conn, value_ids)
    return out
