"""Session writes and lifecycle: create, update, start/pause/resume (the timer),
close/reopen, delete. Project session counters change in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import permissions
from charter.auth import service as auth
from charter.catalog import custom_fields
from charter.catalog import read as catalog_read
from charter.catalog import service as catalog_service
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.core.inputs import is_id
from charter.db import rows as db_rows
from charter.db.tables import COUNTER_COLUMNS, configs, milestones, states, templates
from charter.debriefs import gate as debrief_gate
from charter.projects import read as project_read
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sbtm import service as sbtm_service
from charter.sessions import queries as session_queries

# Lookups other packages use (they never import this package's queries).
from charter.sessions.queries import bump_counters as bump_counters
from charter.sessions.queries import session_for_update as session_for_update
from charter.sessions.timer import elapsed_at

MAX_TAGS = 100


MAX_CHARTER = 100_000


MAX_TAG_LENGTH = 100


MAX_NAME = 500


def _check_ref(conn: Connection, name: str, table: Any, value: Any, project_id: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field(name, "Must be an integer id.")
    row = db_rows.row_by_id(conn, table, value) if is_id(value) else None
    if row is None:
        raise Invalid.field(name, f"No such object: {value}.")
    if project_id is not None and row["project_id"] != project_id:
        raise Invalid.field(name, f"{value} belongs to another project.")


def _clean_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Invalid.field("tags", "Must be a list of tag names.")
    names = list(dict.fromkeys(t.strip() for t in value if t.strip()))
    if len(names) > MAX_TAGS:
        raise Invalid.field("tags", f"At most {MAX_TAGS} tags.")
    if any(len(t) > MAX_TAG_LENGTH or "," in t for t in names):
        raise Invalid.field(
            "tags", f"Tag names are at most {MAX_TAG_LENGTH} characters, no commas."
        )
    return names


def create_session(
    conn: Connection,
    project_id: int,
    created_by: int,
    name: str,
    template_id: int | None = None,
    state_id: int | None = None,
    config_id: int | None = None,
    milestone_id: int | None = None,
    assignee_id: int | None = None,
    estimate: int | None = None,
    tags: Sequence[str] = (),
    issue_ids: Sequence[int] = (),
    charter: str | None = None,
    custom: Mapping[str, Any] | None = None,
) -> int:
    """Create a session; defaults are the default template and workflow state."""
    if project_read.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    name = inputs.text("name", name, MAX_NAME)
    template_id = template_id if template_id is not None else db_rows.default_id(conn, templates)
    default_state = db_rows.default_id(conn, states)
    state_is_manual = state_id is not None and state_id != default_state
    state_id = state_id if state_id is not None else default_state
    _check_ref(conn, "template_id", templates, template_id, None)
    _check_ref(conn, "state_id", states, state_id, None)
    _check_ref(conn, "config_id", configs, config_id, project_id)
    _check_ref(conn, "milestone_id", milestones, milestone_id, project_id)
    _check_assignee(conn, assignee_id, project_id)
    tag_names = _clean_tags(list(tags) if isinstance(tags, list | tuple) else tags)
    issue_list = inputs.issue_ids(
        conn, list(issue_ids) if isinstance(issue_ids, list | tuple) else issue_ids
    )
    charter = inputs.optional_text("charter", charter, MAX_CHARTER)
    encoded = _encode_custom(conn, template_id, custom or {})  # type: ignore[arg-type]

    session_id = session_queries.insert_session(
        conn,
        project_id=project_id,
        template_id=template_id,
        name=name,
        config_id=config_id,
        milestone_id=milestone_id,
        state_id=state_id,
        assignee_id=assignee_id,
        estimate=inputs.duration("estimate", estimate),
        forecast=None,
        elapsed=None,
        is_started=False,
        is_closed=False,
        state_is_manual=state_is_manual,
        charter=charter,
        created_at=utcnow(),
        created_by=created_by,
        **dict.fromkeys(COUNTER_COLUMNS, 0),
    )
    session_queries.set_tags(
        conn, session_id, catalog_service.ensure_tags(conn, tag_names).values()
    )
    session_queries.set_issues(conn, session_id, issue_list)
    session_queries.set_field_values(conn, session_id, encoded)
    project_service.bump_counters(conn, project_id, {"session_count": 1, "session_active_count": 1})
    sbtm_service.session_created(conn, session_id, assignee_id)
    return session_id


# The fields of a session body (create and update alike), besides custom_* values.
UPDATABLE = (
    "name",
    "template_id",
    "config_id",
    "milestone_id",
    "state_id",
    "assignee_id",
    "estimate",
    "tags",
    "issues",
    "charter",
)


def update_session(
    conn: Connection,
    session_id: int,
    user_id: int,
    changes: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
) -> None:
    """Change any of UPDATABLE and custom_* values; a closed session refuses (409).

    Changing the template drops the values of fields the new template lacks.
    """
    row = _open_session(conn, session_id)
    project_id = row["project_id"]
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = inputs.text("name", changes["name"], MAX_NAME)
    for name, table, scoped in (
        ("template_id", templates, False),
        ("state_id", states, False),
        ("config_id", configs, True),
        ("milestone_id", milestones, True),
    ):
        if name in changes:
            if changes[name] is None and name in ("template_id", "state_id"):
                raise Invalid.field(name, "Must be an id; it cannot be removed.")
            _check_ref(conn, name, table, changes[name], project_id if scoped else None)
            values[name] = changes[name]
    if "state_id" in values and values["state_id"] != row["state_id"]:
        values["state_is_manual"] = True  # chosen by hand: the lifecycle leaves it be
    if "assignee_id" in changes:
        if changes["assignee_id"] != row["assignee_id"]:  # one who left may stay
            _check_assignee(conn, changes["assignee_id"], project_id)
        values["assignee_id"] = changes["assignee_id"]
    if "estimate" in changes:
        values["estimate"] = inputs.duration("estimate", changes["estimate"])
    if "charter" in changes:
        values["charter"] = inputs.optional_text("charter", changes["charter"], MAX_CHARTER)
    tag_names = _clean_tags(changes["tags"]) if "tags" in changes else None
    issue_list = inputs.issue_ids(conn, changes["issues"]) if "issues" in changes else None
    template_id = values.get("template_id", row["template_id"])
    if template_id != row["template_id"]:  # the new template's required fields apply
        kept_values = _stored_custom(conn, session_id, template_id)
        encoded = _encode_custom(conn, template_id, {**kept_values, **(custom or {})})
    else:
        encoded = _encode_custom(conn, template_id, custom or {}, complete=False)
    if template_id != row["template_id"]:
        kept = {f["id"] for f in catalog_read.fields_of_templates(conn, [template_id])}
        stale = set(session_queries.field_values_of(conn, [session_id]).get(session_id, {})) - kept
        encoded.update(dict.fromkeys(stale))

    now = utcnow()
    session_queries.update_session(conn, session_id, **values, updated_at=now, updated_by=user_id)
    if tag_names is not None:
        session_queries.set_tags(
            conn, session_id, catalog_service.ensure_tags(conn, tag_names).values()
        )
    if issue_list is not None:
        session_queries.set_issues(conn, session_id, issue_list)
    session_queries.set_field_values(conn, session_id, encoded)
    if "assignee_id" in values and values["assignee_id"] != row["assignee_id"]:
        sbtm_service.assignee_changed(conn, session_id, values["assignee_id"])


ASSIGNEE_ROLES = ("tester", "manager")


def _check_assignee(conn: Connection, value: Any, project_id: int) -> None:
    """Sessions are assigned to who may run them: a tester or manager of the project,
    or a site admin. Anyone else is refused with the same answer whether or not they
    exist, so the field tells nothing about other projects' users."""
    if value is None:
        return
    if is_id(value):
        user = auth.user_by_id(conn, value)
        if user is not None and (
            user["is_admin"] or permissions.member_role(conn, project_id, value) in ASSIGNEE_ROLES
        ):
            return
    raise Invalid.field("assignee_id", f"User {value} is not a tester or manager of this project.")


def _encode_custom(
    conn: Connection, template_id: int, custom: Mapping[str, Any], complete: bool = True
) -> dict[int, str | None]:
    fields = {
        custom_fields.key_of(f): f for f in catalog_read.fields_of_templates(conn, [template_id])
    }
    unknown = set(custom) - set(fields)
    if unknown:
        key = sorted(unknown)[0]
        raise Invalid.field(key, "Not a field of the session's template.")
    encoded = {
        fields[k]["id"]: custom_fields.validate(conn, fields[k], v) for k, v in custom.items()
    }
    # Required fields: every one on create or a template change (`complete`), else
    # those this write sets (an edit that leaves an old empty value alone passes).
    custom_fields.check_required(fields.values(), custom, only_given=not complete)
    return encoded


def _stored_custom(conn: Connection, session_id: int, template_id: int) -> dict[str, Any]:
    """The session's stored values of `template_id`'s fields, by custom_* key."""
    stored = session_queries.field_values_of(conn, [session_id]).get(session_id, {})
    return {
        custom_fields.key_of(f): custom_fields.decode(f, stored[f["id"]])
        for f in catalog_read.fields_of_templates(conn, [template_id])
        if f["id"] in stored
    }


def _lifecycle_state(conn: Connection, row: RowMapping, meaning: str) -> dict[str, Any]:
    """{state_id: the state meaning `meaning`} when the lifecycle moves this session
    there: not when someone chose its state by hand, nor without such a state."""
    if row["state_is_manual"]:
        return {}
    state_id = catalog_read.state_with_meaning(conn, meaning)
    return {} if state_id is None or state_id == row["state_id"] else {"state_id": state_id}


def _named(row: RowMapping) -> str:
    """A session as messages name it: people read names, not ids."""
    return f"\u201c{row['name']}\u201d"


def _open_session(conn: Connection, session_id: int) -> RowMapping:
    row = session_queries.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    if row["is_closed"]:
        raise Conflict(f"The session {_named(row)} is closed; reopen it to change it.")
    return row


def start(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    if row["is_started"]:
        raise Conflict(f"The session {_named(row)} was started already; use resume.")
    now = utcnow()
    session_queries.update_session(
        conn,
        session_id,
        is_started=True,
        started_at=now,
        started_by=user_id,
        running_since=now,
        elapsed=row["elapsed"] or 0,
        updated_at=now,
        updated_by=user_id,
        **_lifecycle_state(conn, row, "active"),
    )
    sbtm_service.session_changed(conn, session_id)  # its start day


def pause(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    if row["running_since"] is None:
        raise Conflict(f"The session {_named(row)} is not running.")
    now = utcnow()
    session_queries.update_session(
        conn,
        session_id,
        elapsed=elapsed_at(row["elapsed"], row["running_since"], now),
        running_since=None,
        updated_at=now,
        updated_by=user_id,
    )


def resume(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    if not row["is_started"]:
        raise Conflict(f"The session {_named(row)} has not been started.")
    if row["running_since"] is not None:
        raise Conflict(f"The session {_named(row)} is running already.")
    now = utcnow()
    session_queries.update_session(
        conn, session_id, running_since=now, updated_at=now, updated_by=user_id
    )


def close(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    now = utcnow()
    session_queries.update_session(
        conn,
        session_id,
        is_closed=True,
        closed_at=now,
        closed_by=user_id,
        elapsed=elapsed_at(row["elapsed"], row["running_since"], now),
        running_since=None,
        updated_at=now,
        updated_by=user_id,
        **_lifecycle_state(conn, row, "done"),
    )
    project_service.bump_counters(
        conn, row["project_id"], {"session_active_count": -1, "session_closed_count": 1}
    )


def reopen(conn: Connection, session_id: int, user_id: int) -> None:
    row = session_queries.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    if not row["is_closed"]:
        raise Conflict(f"The session {_named(row)} is not closed.")
    debrief_gate.on_reopen(conn, session_id)  # an approved sheet stays locked
    now = utcnow()
    session_queries.update_session(
        conn,
        session_id,
        is_closed=False,
        closed_at=None,
        closed_by=None,
        updated_at=now,
        updated_by=user_id,
        **_lifecycle_state(conn, row, "active"),
    )
    project_service.bump_counters(
        conn, row["project_id"], {"session_active_count": 1, "session_closed_count": -1}
    )


def set_times(
    conn: Connection, session_id: int, started_at: datetime, closed_at: datetime, elapsed: int
) -> None:
    """The real start, end and elapsed time of a closed session made from a sheet
    (sbtm/sheet_import.py): the timer never ran here, the sheet says when it did."""
    session_queries.update_session(
        conn, session_id, started_at=started_at, closed_at=closed_at, elapsed=elapsed
    )
    sbtm_service.session_changed(conn, session_id)  # its start day


# The timer and lifecycle moves, by the name of their route (the API's and the page's).
TRANSITIONS: dict[str, Callable[[Connection, int, int], None]] = {
    "start": start,
    "pause": pause,
    "resume": resume,
    "close": close,
    "reopen": reopen,
}


def follow_lifecycle(conn: Connection, session_id: int, user_id: int, meaning: str) -> None:
    """Move the session to the state meaning `meaning` (the debrief workflow: review,
    done), unless its state was chosen by hand or no state has that meaning."""
    row = session_queries.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    values = _lifecycle_state(conn, row, meaning)
    if values:
        session_queries.update_session(
            conn, session_id, **values, updated_at=utcnow(), updated_by=user_id
        )


def delete(conn: Connection, session_id: int) -> None:
    row = session_queries.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    result_service.bump_session_day_counts(conn, session_id, row["project_id"], -1)
    sbtm_service.session_deleting(conn, session_id)
    session_queries.delete_session(conn, session_id)
    state = "session_closed_count" if row["is_closed"] else "session_active_count"
    project_service.bump_counters(conn, row["project_id"], {"session_count": -1, state: -1})
