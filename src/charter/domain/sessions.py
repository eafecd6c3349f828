"""Session writes and lifecycle: create, update, start/pause/resume (the timer),
close/reopen, delete. Project session counters change in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.db.queries import day_counts
from charter.db.queries import projects as pq
from charter.db.queries import reference as rq
from charter.db.queries import sessions as sq
from charter.db.queries import users as uq
from charter.db.tables import COUNTER_COLUMNS, configs, issues, milestones, states, templates
from charter.domain import custom_fields
from charter.domain.clock import utcnow
from charter.domain.errors import Conflict, Invalid, NotFound
from charter.domain.inputs import is_id
from charter.domain.timer import elapsed_at

MAX_TAGS = 100
MAX_CHARTER = 100_000
MAX_TAG_LENGTH = 100


def _check_ref(conn: Connection, name: str, table: Any, value: Any, project_id: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field(name, "Must be an integer id.")
    row = rq.row_by_id(conn, table, value) if is_id(value) else None
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


def _clean_issue_ids(conn: Connection, value: Any) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise Invalid.field("issues", "Must be a list of issue ids.")
    missing = set(value) - rq.existing_ids(conn, issues, filter(is_id, value))
    if missing:
        raise Invalid.field("issues", f"Unknown issue ids: {sorted(missing)}.")
    return list(dict.fromkeys(value))


def _duration(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise Invalid.field(name, "Must be a non-negative integer (microseconds).")
    return value


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
    if pq.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    name = _clean_name(name)
    template_id = template_id if template_id is not None else rq.default_id(conn, templates)
    default_state = rq.default_id(conn, states)
    state_is_manual = state_id is not None and state_id != default_state
    state_id = state_id if state_id is not None else default_state
    _check_ref(conn, "template_id", templates, template_id, None)
    _check_ref(conn, "state_id", states, state_id, None)
    _check_ref(conn, "config_id", configs, config_id, project_id)
    _check_ref(conn, "milestone_id", milestones, milestone_id, project_id)
    _check_assignee(conn, assignee_id)
    tag_names = _clean_tags(list(tags) if isinstance(tags, list | tuple) else tags)
    issue_list = _clean_issue_ids(
        conn, list(issue_ids) if isinstance(issue_ids, list | tuple) else issue_ids
    )
    charter = _clean_charter(charter)
    encoded = _encode_custom(conn, template_id, custom or {})  # type: ignore[arg-type]

    session_id = sq.insert_session(
        conn,
        project_id=project_id,
        template_id=template_id,
        name=name,
        config_id=config_id,
        milestone_id=milestone_id,
        state_id=state_id,
        assignee_id=assignee_id,
        estimate=_duration("estimate", estimate),
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
    sq.set_tags(conn, session_id, rq.ensure_tags(conn, tag_names).values())
    sq.set_issues(conn, session_id, issue_list)
    sq.set_field_values(conn, session_id, encoded)
    pq.bump_counters(conn, project_id, {"session_count": 1, "session_active_count": 1})
    return session_id


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
        values["name"] = _clean_name(changes["name"])
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
        _check_assignee(conn, changes["assignee_id"])
        values["assignee_id"] = changes["assignee_id"]
    if "estimate" in changes:
        values["estimate"] = _duration("estimate", changes["estimate"])
    if "charter" in changes:
        values["charter"] = _clean_charter(changes["charter"])
    tag_names = _clean_tags(changes["tags"]) if "tags" in changes else None
    issue_list = _clean_issue_ids(conn, changes["issues"]) if "issues" in changes else None
    template_id = values.get("template_id", row["template_id"])
    if template_id != row["template_id"]:  # the new template's required fields apply
        kept_values = _stored_custom(conn, session_id, template_id)
        encoded = _encode_custom(conn, template_id, {**kept_values, **(custom or {})})
    else:
        encoded = _encode_custom(conn, template_id, custom or {}, complete=False)
    if template_id != row["template_id"]:
        kept = {f["id"] for f in rq.fields_of_templates(conn, [template_id])}
        stale = set(sq.field_values_of(conn, [session_id]).get(session_id, {})) - kept
        encoded.update(dict.fromkeys(stale))

    now = utcnow()
    sq.update_session(conn, session_id, **values, updated_at=now, updated_by=user_id)
    if tag_names is not None:
        sq.set_tags(conn, session_id, rq.ensure_tags(conn, tag_names).values())
    if issue_list is not None:
        sq.set_issues(conn, session_id, issue_list)
    sq.set_field_values(conn, session_id, encoded)


def _clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid.field("name", "The name must not be empty.")
    if len(value) > 500:
        raise Invalid.field("name", "The name must be at most 500 characters.")
    return value.strip()


def _clean_charter(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_CHARTER):
        raise Invalid.field("charter", f"Must be text of at most {MAX_CHARTER} characters.")
    return value


def _check_assignee(conn: Connection, value: Any) -> None:
    if value is None:
        return
    if not is_id(value) or uq.user_by_id(conn, value) is None:
        raise Invalid.field("assignee_id", f"No such user: {value}.")


def _encode_custom(
    conn: Connection, template_id: int, custom: Mapping[str, Any], complete: bool = True
) -> dict[int, str | None]:
    fields = {custom_fields.key_of(f): f for f in rq.fields_of_templates(conn, [template_id])}
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
    stored = sq.field_values_of(conn, [session_id]).get(session_id, {})
    return {
        custom_fields.key_of(f): custom_fields.decode(f, stored[f["id"]])
        for f in rq.fields_of_templates(conn, [template_id])
        if f["id"] in stored
    }


def _lifecycle_state(conn: Connection, row: RowMapping, meaning: str) -> dict[str, Any]:
    """{state_id: the state meaning `meaning`} when the lifecycle moves this session
    there: not when someone chose its state by hand, nor without such a state."""
    if row["state_is_manual"]:
        return {}
    state_id = rq.state_with_meaning(conn, meaning)
    return {} if state_id is None or state_id == row["state_id"] else {"state_id": state_id}


def _named(row: RowMapping) -> str:
    """A session as messages name it: people read names, not ids."""
    return f"\u201c{row['name']}\u201d"


def _open_session(conn: Connection, session_id: int) -> RowMapping:
    row = sq.session_for_update(conn, session_id)
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
    sq.update_session(
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


def pause(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    if row["running_since"] is None:
        raise Conflict(f"The session {_named(row)} is not running.")
    now = utcnow()
    sq.update_session(
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
    sq.update_session(conn, session_id, running_since=now, updated_at=now, updated_by=user_id)


def close(conn: Connection, session_id: int, user_id: int) -> None:
    row = _open_session(conn, session_id)
    now = utcnow()
    sq.update_session(
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
    pq.bump_counters(
        conn, row["project_id"], {"session_active_count": -1, "session_closed_count": 1}
    )


def reopen(conn: Connection, session_id: int, user_id: int) -> None:
    row = sq.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    if not row["is_closed"]:
        raise Conflict(f"The session {_named(row)} is not closed.")
    now = utcnow()
    sq.update_session(
        conn,
        session_id,
        is_closed=False,
        closed_at=None,
        closed_by=None,
        updated_at=now,
        updated_by=user_id,
        **_lifecycle_state(conn, row, "active"),
    )
    pq.bump_counters(
        conn, row["project_id"], {"session_active_count": 1, "session_closed_count": -1}
    )


def delete(conn: Connection, session_id: int) -> None:
    row = sq.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    day_counts.bump_session(conn, session_id, row["project_id"], -1)
    sq.delete_session(conn, session_id)
    state = "session_closed_count" if row["is_closed"] else "session_active_count"
    pq.bump_counters(conn, row["project_id"], {"session_count": -1, state: -1})
