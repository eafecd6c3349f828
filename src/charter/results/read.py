"""Reading session results, in the same list shape as every other namespace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy.engine import Connection, RowMapping

from charter.attachments import read as attachment_read
from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.catalog import custom_fields
from charter.catalog import read as catalog_read
from charter.core.clock import iso
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import session_results
from charter.results import queries as result_queries

# Lookups other packages use (they never import this package's queries).
from charter.results.queries import results_per_day as results_per_day
from charter.sessions import read as session_read
from charter.users import read as user_read

RESULT_EXPANDS = ("attachments", "issues", "kinds", "statuses", "users")


def session_of_result(conn: Connection, user: User, result_id: int, action: Action) -> RowMapping:
    """The result's row, once `user` may do `action` in its project."""
    result = result_queries.result_by_id(conn, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} not found.")
    require_project(conn, user, result["project_id"], action)
    return result


def list_results(conn: Connection, user: User, session_id: int, query: ListQuery) -> Page:
    session = session_read.session_by_id(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, session["project_id"], "read")
    base = result_queries.of_session(session_id)
    rows, total = db_listing.rows_page(
        conn, session_results, base, query.request(), result_queries.results_by_ids
    )
    return shape(conn, rows, session["template_id"], query.expands, total)


def get_results(conn: Connection, ids: Sequence[int]) -> Page:
    """Results by id (all of one session), e.g. to answer a write."""
    rows = result_queries.results_by_ids(conn, ids)
    if not rows:
        return Page([], 0)
    session = session_read.session_by_id(conn, rows[0]["session_id"])
    assert session is not None
    return shape(conn, rows, session["template_id"], frozenset(), len(rows))


def shape(
    conn: Connection,
    rows: Sequence[RowMapping],
    template_id: int,
    expands: frozenset[str],
    total: int,
) -> Page:
    ids = [r["id"] for r in rows]
    issues, values = result_queries.links_of(conn, ids)
    attachment_counts = attachment_read.counts_by_result(conn, ids)
    fields = catalog_read.fields_of_templates(conn, [template_id], scope="result")
    out = [
        _item(r, issues.get(r["id"], []), attachment_counts.get(r["id"], 0), values, fields)
        for r in rows
    ]
    extra: dict[str, list[dict[str, Any]]] = {}
    if "attachments" in expands:
        extra["attachments"] = attachment_read.attachment_expands(conn, ids)
    if "users" in expands:
        extra["users"] = user_read.user_names(
            conn, {v for r in rows for c in ("created_by", "updated_by") if (v := r[c]) is not None}
        )
    if "statuses" in expands:
        extra["statuses"] = catalog_read.active_statuses(conn)
    if "kinds" in expands and rows:
        extra["kinds"] = catalog_read.kind_expands(conn, rows[0]["project_id"])
    if "issues" in expands:
        extra["issues"] = catalog_read.issue_expands(
            conn, {i for ids_ in issues.values() for i in ids_}
        )
    return Page(out, total, extra)


def _item(
    r: Mapping[Any, Any],
    issues: list[int],
    attachments: int,
    values: Mapping[int, Mapping[int, str | None]],
    fields: Sequence[Mapping[Any, Any]],
) -> dict[str, Any]:
    """One result as the API shows it; `r["created_at"]` and `r["updated_at"]` as API
    text, `values` the JSON-encoded custom values by result id and field id."""
    item: dict[str, Any] = {
        "id": r["id"],
        "session_id": r["session_id"],
        "project_id": r["project_id"],
        "status_id": r["status_id"],
        "kind_id": r["kind_id"],
        "note": r["note"],
        "elapsed": r["elapsed"],
        "issues": issues,
        "attachments": attachments,
        "created_at": r["created_at"],
        "created_by": r["created_by"],
        "updated_at": r["updated_at"],
        "updated_by": r["updated_by"],
    }
    stored = values.get(r["id"], {})
    for f in fields:
        encoded = stored.get(f["id"])
        item[custom_fields.key_of(f)] = None if encoded is None else msgspec.Raw(encoded)
    return item


def added(
    rows: Sequence[Mapping[str, Any]],
    issues: Sequence[Sequence[int]],
    values: Sequence[Mapping[int, str | None]],
    fields: Sequence[Mapping[Any, Any]],
) -> list[dict[str, Any]]:
    """Results just inserted (their rows with ids, as results/service wrote them), as
    get_results would read them back: issue ids once each in ascending order (the
    order links_of reads them in), no attachments, not updated."""
    return [
        _item(
            {**r, "created_at": iso(r["created_at"]), "updated_at": None, "updated_by": None},
            sorted(set(ids)),
            0,
            {r["id"]: v},
            fields,
        )
        for r, ids, v in zip(rows, issues, values, strict=True)
    ]


def history_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[RowMapping]]:
    """The earlier versions of results (text, status, edited_at/by), newest first."""
    return result_queries.history_of(conn, ids)


def timeline(
    conn: Connection,
    user: User,
    session_id: int,
    before_id: int | None,
    limit: int,
    expands: frozenset[str] = frozenset(),
) -> tuple[Page, bool]:
    """One page of a session's results, newest first, older than `before_id`; and
    whether older ones remain. `total` is the session's result count."""
    session = session_read.session_by_id(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, session["project_id"], "read")
    ids = result_queries.timeline_ids(conn, session_id, before_id, limit + 1)
    more = len(ids) > limit
    rows = result_queries.results_by_ids(conn, ids[:limit])
    page = shape(conn, rows, session["template_id"], expands, int(session["total_count"]))
    return page, more
