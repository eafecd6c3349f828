"""Session results: every add, edit and delete changes the session's counters in the
same transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.catalog import custom_fields
from charter.catalog import read as catalog_read
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.results import queries as result_queries
from charter.results import read as result_read

# Writes other packages make in their own transactions (they never import queries).
from charter.results.queries import bump_session_day_counts as bump_session_day_counts
from charter.results.queries import day_counts_drifted as day_counts_drifted

# The lock result writes take (the result's session), for the routes' If-Match.
from charter.results.queries import lock_session_of as lock_session_of
from charter.results.queries import rebuild_day_counts as rebuild_day_counts
from charter.sbtm import service as sbtm_service
from charter.sessions import counters
from charter.sessions import service as session_service
from charter.sessions.timer import elapsed_at

MAX_BULK = 1000


MAX_NOTE = 100_000


RESULT_FIELDS = ("status_id", "note", "elapsed", "issues", "kind_id")

# Kind categories the session counts (bug_count, issue_count) and SBTM metrics read.
COUNTED = frozenset({"bug", "issue"})


def _check_kind(conn: Connection, project_id: int, kind_id: Any) -> tuple[int | None, str]:
    """(kind id, its category) of a result body's kind_id; null: the default (note)."""
    if kind_id is None:
        return None, "note"
    if not inputs.is_id(kind_id):
        raise Invalid.field("kind_id", "Must be a kind id or null.")
    found = catalog_read.kind_categories(conn, [kind_id]).get(kind_id)
    if found is None or found[0] != project_id:
        raise Invalid.field("kind_id", f"Kind {kind_id} is not a kind of this project.")
    return kind_id, found[1]


def _category(conn: Connection, kind_id: int | None) -> str:
    if kind_id is None:
        return "note"
    return catalog_read.kind_categories(conn, [kind_id])[kind_id][1]


def _check_status(flags: counters.StatusFlags, status_id: Any) -> int | None:
    if status_id is None:
        return None
    if isinstance(status_id, bool) or not isinstance(status_id, int) or status_id not in flags:
        raise Invalid.field("status_id", "Must be a status id from 1 to 25.")
    if not flags[status_id]["is_active"]:
        raise Invalid.field("status_id", f"Status {status_id} is disabled.")
    return status_id


def _result_fields(conn: Connection, template_id: int) -> dict[str, RowMapping]:
    fields = catalog_read.fields_of_templates(conn, [template_id], scope="result")
    return {custom_fields.key_of(f): f for f in fields}


def _encode_custom(
    conn: Connection, fields: Mapping[str, RowMapping], item: Mapping[str, Any]
) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for key, value in item.items():
        if not key.startswith("custom_"):
            continue
        if key not in fields:
            raise Invalid.field(key, "Not a result field of the session's template.")
        out[fields[key]["id"]] = custom_fields.validate(conn, fields[key], value)
    return out


def _writable_session(conn: Connection, session_id: int) -> RowMapping:
    session = session_service.session_for_update(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    _check_open(session)
    return session


def _check_open(session: RowMapping) -> None:
    if session["is_closed"]:
        raise Conflict(
            f"The session \u201c{session['name']}\u201d is closed; reopen it to change its results."
        )


@dataclass(frozen=True)
class Target:
    """The session results are added to, locked, and every status's flags: read in
    one statement (results/queries.session_to_add_to), before anything is checked."""

    session: RowMapping
    flags: counters.StatusFlags


def target_of(conn: Connection, session_id: int) -> Target:
    """The Target of adding results to session `session_id`; NotFound if there is none."""
    found = result_queries.session_to_add_to(conn, session_id)
    if found is None:
        raise NotFound(f"Session {session_id} not found.")
    return Target(*found)


def add_results(
    conn: Connection,
    session_id: int,
    user_id: int,
    items: Sequence[Mapping[str, Any]],
    created_at: datetime | None = None,
    label_items: bool = False,
    target: Target | None = None,
) -> list[int]:
    """Add results, all or nothing; returns their ids in order.

    Each item: status_id (None = a plain note), note, elapsed (default: the time
    into the session), issues, custom_<field> for the template's result fields.
    With `label_items`, errors name the item: results.<index>.<field>.
    `target`: target_of(conn, session_id), when the caller read it already.
    """
    added = _add(conn, session_id, user_id, items, created_at, label_items, target)
    return [row["id"] for row in added.rows]


def add_and_show(
    conn: Connection,
    target: Target,
    user_id: int,
    items: Sequence[Mapping[str, Any]],
    label_items: bool = False,
) -> list[dict[str, Any]]:
    """add_results, answered with the new results as the API shows them, built from
    what was written (no statement reads them back)."""
    added = _add(conn, target.session["id"], user_id, items, None, label_items, target)
    return result_read.added(added.rows, added.issues, added.values, added.fields)


@dataclass(frozen=True)
class _Added:
    rows: list[dict[str, Any]]  # the inserted rows, with their ids
    issues: list[list[int]]  # per row: its issue ids as given
    values: list[dict[int, str | None]]  # per row: its encoded custom values
    fields: list[RowMapping]  # the template's result fields, in display order


def _add(
    conn: Connection,
    session_id: int,
    user_id: int,
    items: Sequence[Mapping[str, Any]],
    created_at: datetime | None,
    label_items: bool,
    target: Target | None,
) -> _Added:
    if len(items) > MAX_BULK:
        raise Invalid.field("results", f"At most {MAX_BULK} results per request.")
    if target is None:
        target = target_of(conn, session_id)
    session, flags = target.session, target.flags
    _check_open(session)
    # Most templates have no result fields: then there is nothing to read.
    fields = _result_fields(conn, session["template_id"]) if session["result_field_count"] else {}
    now = created_at or utcnow()
    # The default elapsed marker of a new result: the time into the session.
    default_elapsed = elapsed_at(session["elapsed"], session["running_since"], now)
    rows: list[dict[str, Any]] = []
    extras: list[tuple[list[int], dict[int, str | None]]] = []
    total: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            row, extra = _new_row(conn, session, fields, flags, item, default_elapsed)
        except Invalid as exc:
            raise (exc.within(f"results.{index}") if label_items else exc) from None
        row.update(created_at=now, created_by=user_id)
        rows.append(row)
        extras.append(extra)
        counters.merge(total, counters.deltas_for(row["status_id"], flags))
    counted = any(row.pop("_category") in COUNTED for row in rows)
    per_day: Counter[result_queries.DayKey] = Counter(
        result_queries.day_key(now, row["status_id"]) for row in rows
    )
    # The results, the session's counters and the day counts: one statement on
    # PostgreSQL (the session row is locked already, so the lock order is unchanged).
    ids = result_queries.add_and_count(
        conn, session_id, rows, total, session["project_id"], per_day
    )
    for result_id, row, (issue_ids, encoded) in zip(ids, rows, extras, strict=True):
        row["id"] = result_id
        if issue_ids:
            result_queries.set_result_issues(conn, result_id, issue_ids)
        if encoded:
            result_queries.set_field_values(conn, result_id, encoded)
    if counted:  # bug or issue notes: the session's counts and SBTM metrics follow
        sbtm_service.session_changed(conn, session_id)
    return _Added(rows, [e[0] for e in extras], [e[1] for e in extras], list(fields.values()))


def _new_row(
    conn: Connection,
    session: RowMapping,
    fields: Mapping[str, RowMapping],
    flags: counters.StatusFlags,
    item: Mapping[str, Any],
    default_elapsed: int | None,
) -> tuple[dict[str, Any], tuple[list[int], dict[int, str | None]]]:
    """A validated result row, plus its issue ids and encoded custom values."""
    kind_id, category = _check_kind(conn, session["project_id"], item.get("kind_id"))
    row = {
        "session_id": session["id"],
        "project_id": session["project_id"],
        "kind_id": kind_id,
        "_category": category,
        "status_id": _check_status(flags, item.get("status_id")),
        "note": inputs.optional_text("note", item.get("note"), MAX_NOTE),
        "elapsed": inputs.duration("elapsed", item["elapsed"])
        if "elapsed" in item
        else default_elapsed,
    }
    extra = (
        inputs.issue_ids(conn, item.get("issues", [])),
        _encode_custom(conn, fields, item),
    )
    custom_fields.check_required(fields.values(), item)
    return row, extra


def edit_result(conn: Connection, result_id: int, user_id: int, changes: Mapping[str, Any]) -> None:
    """Change status_id, note, elapsed, issues or custom_* values of one result. A
    change of the text or the status keeps the replaced version (the note's history)."""
    result = result_queries.result_by_id(conn, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} not found.")
    session = _writable_session(conn, result["session_id"])
    flags = catalog_read.status_flags(conn)
    values: dict[str, Any] = {"updated_at": utcnow(), "updated_by": user_id}
    delta: dict[str, int] = {}
    if "status_id" in changes:
        values["status_id"] = _check_status(flags, changes["status_id"])
        counters.merge(delta, counters.deltas_for(result["status_id"], flags, -1))
        counters.merge(delta, counters.deltas_for(values["status_id"], flags, 1))
    if "note" in changes:
        values["note"] = inputs.optional_text("note", changes["note"], MAX_NOTE)
    if "elapsed" in changes:
        values["elapsed"] = inputs.duration("elapsed", changes["elapsed"])
    recount = False
    if "kind_id" in changes:
        values["kind_id"], category = _check_kind(conn, session["project_id"], changes["kind_id"])
        recount = category != _category(conn, result["kind_id"])
    issue_ids = inputs.issue_ids(conn, changes["issues"]) if "issues" in changes else None
    fields = _result_fields(conn, session["template_id"])
    encoded = _encode_custom(conn, fields, changes)
    custom_fields.check_required(fields.values(), changes, only_given=True)

    changed = any(k in values and values[k] != result[k] for k in ("status_id", "note"))
    if changed:  # the replaced version is kept, in this same transaction
        result_queries.keep_history(conn, result, values["updated_at"], user_id)
    result_queries.update_result(conn, result_id, **values)
    if issue_ids is not None:
        result_queries.set_result_issues(conn, result_id, issue_ids)
    if encoded:
        result_queries.set_field_values(conn, result_id, encoded)
    session_service.bump_counters(conn, session["id"], delta)
    if recount:  # a bug became a note, a note an issue...
        sbtm_service.session_changed(conn, session["id"])
    if "status_id" in values and values["status_id"] != result["status_id"]:
        result_queries.bump_day_counts(
            conn,
            session["project_id"],
            {
                result_queries.day_key(result["created_at"], result["status_id"]): -1,
                result_queries.day_key(result["created_at"], values["status_id"]): 1,
            },
        )


def delete_result(conn: Connection, result_id: int) -> None:
    result = result_queries.result_by_id(conn, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} not found.")
    session = _writable_session(conn, result["session_id"])
    flags = catalog_read.status_flags(conn)
    result_queries.delete_result(conn, result_id)
    key = result_queries.day_key(result["created_at"], result["status_id"])
    result_queries.bump_day_counts(conn, session["project_id"], {key: -1})
    session_service.bump_counters(
        conn, session["id"], counters.deltas_for(result["status_id"], flags, -1)
    )
    if _category(conn, result["kind_id"]) in COUNTED:
        sbtm_service.session_changed(conn, session["id"])
