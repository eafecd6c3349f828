"""Administering the site-wide reference data: templates with their custom fields and
dropdown values, workflow states, statuses, external issues and tags.
Callers check permissions (domain/permissions.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.queries import admin as aq
from charter.db.queries import reference as rq
from charter.db.tables import (
    FIELD_TYPES,
    field_values,
    issues,
    sessions,
    states,
    statuses,
    tags,
    template_fields,
    templates,
)
from charter.domain import admin_common as check
from charter.domain import counters, setup
from charter.domain.clock import iso
from charter.domain.errors import Conflict, Invalid, NotFound
from charter.domain.listing import ListQuery, Page

TEMPLATE_FIELDS = ("name", "is_default")
FIELD_FIELDS = ("name", "system_name", "type", "scope", "is_required", "display_order")
VALUE_FIELDS = ("name", "icon", "color", "display_order")
STATE_FIELDS = ("name", "is_default", "display_order", "meaning")
# What a workflow state can mean in a session's lifecycle (domain/sessions.py).
STATE_MEANINGS = ("planned", "active", "review", "done")
STATUS_FIELDS = (
    "name",
    "system_name",
    "color",
    "is_final",
    "is_untested",
    "is_passed",
    "is_failed",
    "aliases",
    "is_active",
)
STATUS_FLAGS = ("is_final", "is_untested", "is_passed", "is_failed")
ISSUE_FIELDS = ("type", "display_id", "external_project_id", "external_project_key")
TAG_FIELDS = ("name",)
SCOPES = ("session", "result")
MAX_ICON = 64
MAX_TAG = 100
MAX_ALIASES = 50


def _row(conn: Connection, table: sa.Table, row_id: int, what: str) -> RowMapping:
    row = rq.row_by_id(conn, table, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found.")
    return row


def _set_default(conn: Connection, table: sa.Table, row_id: int, value: Any, was: bool) -> None:
    """is_default true moves the default here; false on the default is refused
    (there is always one default: make another one the default instead)."""
    if check.boolean("is_default", value):
        aq.clear_default(conn, table)
        rq.update(conn, table, row_id, is_default=True)
    elif was:
        raise Invalid.field("is_default", "Make another one the default instead.")


# --- templates ---------------------------------------------------------------------


def value_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "field_id": r["field_id"],
        "name": r["name"],
        "icon": r["icon"],
        "color": r["color"],
        "display_order": r["display_order"],
    }


def field_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    values: dict[int, list[dict[str, Any]]] = {}
    for v in aq.values_by_fields(conn, [r["id"] for r in rows]):
        values.setdefault(v["field_id"], []).append(value_dict(v))
    return [
        {
            "id": r["id"],
            "template_id": r["template_id"],
            "name": r["name"],
            "system_name": r["system_name"],
            "type": r["type"],
            "scope": r["scope"],
            "is_required": bool(r["is_required"]),
            "display_order": r["display_order"],
            "values": values.get(r["id"], []),
        }
        for r in rows
    ]


def template_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    fields: dict[int, list[dict[str, Any]]] = {}
    found = aq.fields_by_templates(conn, [r["id"] for r in rows])
    for f in field_dicts(conn, found):
        fields.setdefault(f["template_id"], []).append(f)
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "is_default": bool(r["is_default"]),
            "created_at": iso(r["created_at"]),
            "fields": fields.get(r["id"], []),
        }
        for r in rows
    ]


def list_templates(conn: Connection, query: ListQuery) -> Page:
    return check.paged(conn, templates, sa.true(), query, lambda rows: template_dicts(conn, rows))


def template_view(conn: Connection, template_id: int) -> dict[str, Any]:
    return template_dicts(conn, [_row(conn, templates, template_id, "Template")])[0]


def create_template(conn: Connection, body: Mapping[str, Any]) -> int:
    name = check.text("name", check.required(body, "name"))
    is_default = check.boolean("is_default", body.get("is_default", False))
    template_id = setup.create_template(conn, name)
    if is_default:
        _set_default(conn, templates, template_id, True, False)
    return template_id


def update_template(conn: Connection, template_id: int, body: Mapping[str, Any]) -> None:
    row = _row(conn, templates, template_id, "Template")
    if "name" in body:
        rq.update(conn, templates, template_id, name=check.text("name", body["name"]))
    if "is_default" in body:
        _set_default(conn, templates, template_id, body["is_default"], bool(row["is_default"]))


# --- custom fields -----------------------------------------------------------------


def list_fields(conn: Connection, template_id: int, query: ListQuery) -> Page:
    _row(conn, templates, template_id, "Template")
    base = template_fields.c.template_id == template_id
    return check.paged(conn, template_fields, base, query, lambda rows: field_dicts(conn, rows))


def field_row(conn: Connection, field_id: int) -> RowMapping:
    return _row(conn, template_fields, field_id, "Field")


def field_view(conn: Connection, field_id: int) -> dict[str, Any]:
    return field_dicts(conn, [field_row(conn, field_id)])[0]


def _system_name(conn: Connection, template_id: int, value: Any, field_id: int | None) -> str:
    name = check.system_name("system_name", value)
    if aq.exists_other(
        conn,
        template_fields.c.system_name,
        name,
        field_id,
        template_fields.c.template_id == template_id,
    ):
        raise Conflict(
            f"The template has a field {name!r} already.", {"system_name": ["Already taken."]}
        )
    return name


def create_field(conn: Connection, template_id: int, body: Mapping[str, Any]) -> int:
    _row(conn, templates, template_id, "Template")
    name = check.text("name", check.required(body, "name"))
    kind = check.required(body, "type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        raise Invalid.field("type", f"Must be one of: {', '.join(FIELD_TYPES)}.")
    scope = body.get("scope", "session")
    if not isinstance(scope, str) or scope not in SCOPES:
        raise Invalid.field("scope", "Must be session or result.")
    is_required = check.boolean("is_required", body.get("is_required", False))
    if "display_order" in body:
        order = check.integer("display_order", body["display_order"])
    else:
        order = aq.max_order(
            conn, template_fields.c.display_order, template_fields.c.template_id == template_id
        )
        order += 1
    system_name = _system_name(conn, template_id, check.required(body, "system_name"), None)
    field_id = setup.create_field(conn, template_id, name, system_name, kind, is_required, order)
    rq.update(conn, template_fields, field_id, scope=scope)
    return field_id


def update_field(conn: Connection, field_id: int, body: Mapping[str, Any]) -> None:
    row = field_row(conn, field_id)
    values: dict[str, Any] = {}
    for fixed in ("type", "scope"):
        if fixed in body and body[fixed] != row[fixed]:
            raise Invalid.field(fixed, f"The {fixed} of a field cannot be changed.")
    if "name" in body:
        values["name"] = check.text("name", body["name"])
    if "system_name" in body:
        values["system_name"] = _system_name(
            conn, row["template_id"], body["system_name"], field_id
        )
    if "is_required" in body:
        values["is_required"] = check.boolean("is_required", body["is_required"])
    if "display_order" in body:
        values["display_order"] = check.integer("display_order", body["display_order"])
    if values:
        rq.update(conn, template_fields, field_id, **values)


def delete_field(conn: Connection, field_id: int) -> None:
    field_row(conn, field_id)
    if aq.field_has_stored_values(conn, field_id):
        raise Conflict(f"Field {field_id} holds values on sessions or results.")
    aq.delete_field(conn, field_id)


# --- dropdown / multi-select values ------------------------------------------------


def list_values(conn: Connection, field_id: int, query: ListQuery) -> Page:
    field_row(conn, field_id)
    base = field_values.c.field_id == field_id
    return check.paged(conn, field_values, base, query, lambda rows: [value_dict(r) for r in rows])


def value_row(conn: Connection, value_id: int) -> RowMapping:
    return _row(conn, field_values, value_id, "Field value")


def value_view(conn: Connection, value_id: int) -> dict[str, Any]:
    return value_dict(value_row(conn, value_id))


def create_value(conn: Connection, field_id: int, body: Mapping[str, Any]) -> int:
    field_row(conn, field_id)
    name = check.text("name", check.required(body, "name"))
    icon = check.optional_text("icon", body.get("icon"), MAX_ICON)
    color = check.color("color", body.get("color"))
    if "display_order" in body:
        order = check.integer("display_order", body["display_order"])
    else:
        order = aq.max_order(
            conn, field_values.c.display_order, field_values.c.field_id == field_id
        )
        order += 1
    (value_id,) = setup.create_field_values(conn, field_id, [(name, icon, color)])
    rq.update(conn, field_values, value_id, display_order=order)
    return value_id


def update_value(conn: Connection, value_id: int, body: Mapping[str, Any]) -> None:
    value_row(conn, value_id)
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = check.text("name", body["name"])
    if "icon" in body:
        values["icon"] = check.optional_text("icon", body["icon"], MAX_ICON)
    if "color" in body:
        values["color"] = check.color("color", body["color"])
    if "display_order" in body:
        values["display_order"] = check.integer("display_order", body["display_order"])
    if values:
        rq.update(conn, field_values, value_id, **values)


def _value_used(conn: Connection, field_id: int, value_id: int) -> bool:
    for encoded in aq.stored_values_of_field(conn, field_id):
        decoded = json.loads(encoded)
        if decoded == value_id or (isinstance(decoded, list) and value_id in decoded):
            return True
    return False


def delete_value(conn: Connection, value_id: int) -> None:
    row = value_row(conn, value_id)
    if _value_used(conn, row["field_id"], value_id):
        raise Conflict(f"Field value {value_id} is used by sessions or results.")
    aq.delete_row(conn, field_values, value_id)


# --- workflow states ---------------------------------------------------------------


def state_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "is_default": bool(r["is_default"]),
        "display_order": r["display_order"],
        "meaning": r["meaning"],
    }


def _meaning(value: Any) -> str | None:
    if value is not None and value not in STATE_MEANINGS:
        raise Invalid.field("meaning", f"Must be one of {', '.join(STATE_MEANINGS)}, or null.")
    return value  # type: ignore[no-any-return]


def list_states(conn: Connection, query: ListQuery) -> Page:
    return check.paged(conn, states, sa.true(), query, lambda rows: [state_dict(r) for r in rows])


def state_view(conn: Connection, state_id: int) -> dict[str, Any]:
    return state_dict(_row(conn, states, state_id, "State"))


def create_state(conn: Connection, body: Mapping[str, Any]) -> int:
    name = check.text("name", check.required(body, "name"))
    is_default = check.boolean("is_default", body.get("is_default", False))
    if "display_order" in body:
        order = check.integer("display_order", body["display_order"])
    else:
        order = aq.max_order(conn, states.c.display_order) + 1
    meaning = _meaning(body.get("meaning"))
    state_id = setup.create_state(conn, name, display_order=order)
    if meaning is not None:
        rq.update(conn, states, state_id, meaning=meaning)
    if is_default:
        _set_default(conn, states, state_id, True, False)
    return state_id


def update_state(conn: Connection, state_id: int, body: Mapping[str, Any]) -> None:
    row = _row(conn, states, state_id, "State")
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = check.text("name", body["name"])
    if "display_order" in body:
        values["display_order"] = check.integer("display_order", body["display_order"])
    if "meaning" in body:
        values["meaning"] = _meaning(body["meaning"])
    if "is_default" in body:
        check.boolean("is_default", body["is_default"])
    if values:
        rq.update(conn, states, state_id, **values)
    if "is_default" in body:
        _set_default(conn, states, state_id, body["is_default"], bool(row["is_default"]))


def delete_state(conn: Connection, state_id: int) -> None:
    row = _row(conn, states, state_id, "State")
    if row["is_default"]:
        raise Conflict(f"State {state_id} is the default; make another state the default first.")
    used = aq.session_count_using(conn, sessions.c.state_id, state_id)
    if used:
        raise Conflict(f"State {state_id} is used by {used} session(s).")
    aq.delete_row(conn, states, state_id)


# --- statuses ----------------------------------------------------------------------


def status_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "system_name": r["system_name"],
        "color": r["color"],
        "is_final": bool(r["is_final"]),
        "is_untested": bool(r["is_untested"]),
        "is_passed": bool(r["is_passed"]),
        "is_failed": bool(r["is_failed"]),
        "aliases": json.loads(r["aliases"]),
        "is_active": bool(r["is_active"]),
    }


def list_statuses(conn: Connection, query: ListQuery) -> Page:
    return check.paged(
        conn, statuses, sa.true(), query, lambda rows: [status_dict(r) for r in rows]
    )


def status_view(conn: Connection, status_id: int) -> dict[str, Any]:
    return status_dict(_row(conn, statuses, status_id, "Status"))


def _aliases(value: Any) -> str:
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise Invalid.field("aliases", "Must be a list of non-empty strings.")
    names = list(dict.fromkeys(a.strip() for a in value))
    if len(names) > MAX_ALIASES or any(len(a) > 100 for a in names):
        raise Invalid.field("aliases", f"At most {MAX_ALIASES} aliases of 100 characters.")
    return json.dumps(names)


def update_status(conn: Connection, status_id: int, body: Mapping[str, Any]) -> None:
    """Edit a status; a changed flag rebuilds the counters of the sessions that have
    results with this status, in the same transaction."""
    row = _row(conn, statuses, status_id, "Status")
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = check.text("name", body["name"], 100)
    if "system_name" in body:
        system_name = check.system_name("system_name", body["system_name"])
        if aq.exists_other(conn, statuses.c.system_name, system_name, status_id):
            raise Conflict(
                f"Another status is named {system_name!r}.", {"system_name": ["Already taken."]}
            )
        values["system_name"] = system_name
    if "color" in body:
        values["color"] = check.color("color", body["color"], nullable=False)
    for flag in (*STATUS_FLAGS, "is_active"):
        if flag in body:
            values[flag] = check.boolean(flag, body[flag])
    if "aliases" in body:
        values["aliases"] = _aliases(body["aliases"])
    if status_id == 1 and values.get("is_active") is False:
        raise Invalid.field("is_active", "Status 1 (Untested) cannot be disabled.")
    merged = {**dict(row), **values}
    if merged["is_passed"] and merged["is_failed"]:
        raise Invalid.field("is_passed", "A status cannot be both passed and failed.")
    if values:
        rq.update(conn, statuses, status_id, **values)
    if any(flag in values and values[flag] != bool(row[flag]) for flag in STATUS_FLAGS):
        affected = aq.sessions_with_status(conn, status_id)
        if affected:
            counters.recount(conn, affected)


# --- external issues ---------------------------------------------------------------


def issue_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "type": r["type"],
        "display_id": r["display_id"],
        "external_project_id": r["external_project_id"],
        "external_project_key": r["external_project_key"],
        "created_at": iso(r["created_at"]),
    }


def list_issues(conn: Connection, query: ListQuery) -> Page:
    return check.paged(conn, issues, sa.true(), query, lambda rows: [issue_dict(r) for r in rows])


def issue_view(conn: Connection, issue_id: int) -> dict[str, Any]:
    return issue_dict(_row(conn, issues, issue_id, "Issue"))


def create_issue(conn: Connection, body: Mapping[str, Any]) -> int:
    kind = check.required(body, "type")
    if isinstance(kind, bool) or not isinstance(kind, int) or kind not in (1, 2, 3, 4):
        raise Invalid.field("type", "Must be 1 (custom), 2 (GitHub), 3 (GitLab) or 4 (Jira).")
    display_id = check.text("display_id", check.required(body, "display_id"))
    return setup.create_issue(
        conn,
        kind,
        display_id,
        check.optional_id("external_project_id", body.get("external_project_id")),
        check.optional_text("external_project_key", body.get("external_project_key"), 200),
    )


def delete_issue(conn: Connection, issue_id: int) -> None:
    _row(conn, issues, issue_id, "Issue")
    if aq.issue_is_linked(conn, issue_id):
        raise Conflict(f"Issue {issue_id} is linked to sessions, results or milestones.")
    aq.delete_row(conn, issues, issue_id)


# --- tags --------------------------------------------------------------------------


def tag_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    usage = aq.tag_usage(conn, [r["id"] for r in rows])
    return [
        {"id": r["id"], "name": r["name"], "session_count": usage.get(r["id"], 0)} for r in rows
    ]


def list_tags(conn: Connection, query: ListQuery) -> Page:
    return check.paged(conn, tags, sa.true(), query, lambda rows: tag_dicts(conn, rows))


def tag_view(conn: Connection, tag_id: int) -> dict[str, Any]:
    return tag_dicts(conn, [_row(conn, tags, tag_id, "Tag")])[0]


def update_tag(conn: Connection, tag_id: int, body: Mapping[str, Any]) -> None:
    _row(conn, tags, tag_id, "Tag")
    if "name" not in body:
        return
    name = check.text("name", body["name"], MAX_TAG)
    if "," in name:
        raise Invalid.field("name", "Tag names have no commas.")
    if aq.exists_other(conn, tags.c.name, name, tag_id):
        raise Conflict(f"A tag named {name!r} exists already.", {"name": ["Already taken."]})
    rq.update(conn, tags, tag_id, name=name)


def delete_tag(conn: Connection, tag_id: int) -> None:
    """Delete the tag and take it off every session."""
    _row(conn, tags, tag_id, "Tag")
    aq.delete_tag(conn, tag_id)
