"""Administering the site-wide reference data: templates with their custom fields and
dropdown values, workflow states, statuses, external issues and tags.
Callers check permissions (auth/permissions.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.service import User
from charter.catalog import queries as catalog_queries
from charter.catalog import read as catalog_read

# Lookups other packages use (they never import this package's queries).
from charter.catalog.queries import ensure_tags as ensure_tags
from charter.core import inputs
from charter.core.clock import iso, utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db import rows as db_rows
from charter.db.tables import (
    FIELD_TYPES,
    KIND_CATEGORIES,
    Table,
    configs,
    field_values,
    issues,
    result_kinds,
    sessions,
    states,
    statuses,
    tags,
    template_fields,
    templates,
)
from charter.sessions import counters
from charter.sessions import read as session_read

TEMPLATE_FIELDS = ("name", "is_default")


FIELD_FIELDS = ("name", "system_name", "type", "scope", "is_required", "display_order")


VALUE_FIELDS = ("name", "icon", "color", "display_order")


STATE_FIELDS = ("name", "is_default", "display_order", "meaning")
# What a workflow state can mean in a session's lifecycle (sessions/service.py).
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


def _row(conn: Connection, table: Table, row_id: int, what: str) -> RowMapping:
    row = db_rows.row_by_id(conn, table, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found.")
    return row


def _set_default(conn: Connection, table: Table, row_id: int, value: Any, was: bool) -> None:
    """is_default true moves the default here; false on the default is refused
    (there is always one default: make another one the default instead)."""
    if inputs.boolean("is_default", value):
        db_rows.clear_default(conn, table)
        db_rows.update(conn, table, row_id, is_default=True)
    elif was:
        raise Invalid.field("is_default", "Make another one the default instead.")


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
    for v in catalog_queries.values_by_fields(conn, [r["id"] for r in rows]):
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
    found = catalog_queries.fields_by_templates(conn, [r["id"] for r in rows])
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
    rows, total = db_listing.rows_page(conn, templates, None, query.request())
    return Page(template_dicts(conn, rows), total)


def template_view(conn: Connection, template_id: int) -> dict[str, Any]:
    return template_dicts(conn, [_row(conn, templates, template_id, "Template")])[0]


def create_template(conn: Connection, body: Mapping[str, Any]) -> int:
    name = inputs.text("name", inputs.required(body, "name"))
    is_default = inputs.boolean("is_default", body.get("is_default", False))
    template_id = new_template(conn, name)
    if is_default:
        _set_default(conn, templates, template_id, True, False)
    return template_id


def update_template(conn: Connection, template_id: int, body: Mapping[str, Any]) -> None:
    row = _row(conn, templates, template_id, "Template")
    if "name" in body:
        db_rows.update(conn, templates, template_id, name=inputs.text("name", body["name"]))
    if "is_default" in body:
        _set_default(conn, templates, template_id, body["is_default"], bool(row["is_default"]))


def list_fields(conn: Connection, template_id: int, query: ListQuery) -> Page:
    _row(conn, templates, template_id, "Template")
    base = catalog_queries.fields_of(template_id)
    rows, total = db_listing.rows_page(conn, template_fields, base, query.request())
    return Page(field_dicts(conn, rows), total)


def field_row(conn: Connection, field_id: int) -> RowMapping:
    return _row(conn, template_fields, field_id, "Field")


def field_view(conn: Connection, field_id: int) -> dict[str, Any]:
    return field_dicts(conn, [field_row(conn, field_id)])[0]


def _system_name(conn: Connection, template_id: int, value: Any, field_id: int | None) -> str:
    name = inputs.system_name("system_name", value)
    if catalog_queries.field_name_taken(conn, template_id, name, field_id):
        raise Conflict(
            f"The template has a field {name!r} already.", {"system_name": ["Already taken."]}
        )
    return name


def create_field(conn: Connection, template_id: int, body: Mapping[str, Any]) -> int:
    _row(conn, templates, template_id, "Template")
    name = inputs.text("name", inputs.required(body, "name"))
    kind = inputs.required(body, "type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        raise Invalid.field("type", f"Must be one of: {', '.join(FIELD_TYPES)}.")
    scope = body.get("scope", "session")
    if not isinstance(scope, str) or scope not in SCOPES:
        raise Invalid.field("scope", "Must be session or result.")
    is_required = inputs.boolean("is_required", body.get("is_required", False))
    if "display_order" in body:
        order = inputs.integer("display_order", body["display_order"])
    else:
        order = catalog_queries.last_field_order(conn, template_id) + 1
    system_name = _system_name(conn, template_id, inputs.required(body, "system_name"), None)
    field_id = new_field(conn, template_id, name, system_name, kind, is_required, order)
    db_rows.update(conn, template_fields, field_id, scope=scope)
    return field_id


def update_field(conn: Connection, field_id: int, body: Mapping[str, Any]) -> None:
    row = field_row(conn, field_id)
    values: dict[str, Any] = {}
    for fixed in ("type", "scope"):
        if fixed in body and body[fixed] != row[fixed]:
            raise Invalid.field(fixed, f"The {fixed} of a field cannot be changed.")
    if "name" in body:
        values["name"] = inputs.text("name", body["name"])
    if "system_name" in body:
        values["system_name"] = _system_name(
            conn, row["template_id"], body["system_name"], field_id
        )
    if "is_required" in body:
        values["is_required"] = inputs.boolean("is_required", body["is_required"])
    if "display_order" in body:
        values["display_order"] = inputs.integer("display_order", body["display_order"])
    if values:
        db_rows.update(conn, template_fields, field_id, **values)


def delete_field(conn: Connection, field_id: int) -> None:
    field_row(conn, field_id)
    if catalog_queries.field_has_stored_values(conn, field_id):
        raise Conflict(f"Field {field_id} holds values on sessions or results.")
    catalog_queries.delete_field(conn, field_id)


def list_values(conn: Connection, field_id: int, query: ListQuery) -> Page:
    field_row(conn, field_id)
    base = catalog_queries.values_of(field_id)
    rows, total = db_listing.rows_page(conn, field_values, base, query.request())
    return Page([value_dict(r) for r in rows], total)


def value_row(conn: Connection, value_id: int) -> RowMapping:
    return _row(conn, field_values, value_id, "Field value")


def value_view(conn: Connection, value_id: int) -> dict[str, Any]:
    return value_dict(value_row(conn, value_id))


def create_value(conn: Connection, field_id: int, body: Mapping[str, Any]) -> int:
    field_row(conn, field_id)
    name = inputs.text("name", inputs.required(body, "name"))
    icon = inputs.optional_text("icon", body.get("icon"), MAX_ICON)
    color = inputs.color("color", body.get("color"))
    if "display_order" in body:
        order = inputs.integer("display_order", body["display_order"])
    else:
        order = catalog_queries.last_value_order(conn, field_id) + 1
    (value_id,) = new_field_values(conn, field_id, [(name, icon, color)])
    db_rows.update(conn, field_values, value_id, display_order=order)
    return value_id


def update_value(conn: Connection, value_id: int, body: Mapping[str, Any]) -> None:
    value_row(conn, value_id)
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = inputs.text("name", body["name"])
    if "icon" in body:
        values["icon"] = inputs.optional_text("icon", body["icon"], MAX_ICON)
    if "color" in body:
        values["color"] = inputs.color("color", body["color"])
    if "display_order" in body:
        values["display_order"] = inputs.integer("display_order", body["display_order"])
    if values:
        db_rows.update(conn, field_values, value_id, **values)


def _value_used(conn: Connection, field_id: int, value_id: int) -> bool:
    for encoded in catalog_queries.stored_values_of_field(conn, field_id):
        decoded = json.loads(encoded)
        if decoded == value_id or (isinstance(decoded, list) and value_id in decoded):
            return True
    return False


def delete_value(conn: Connection, value_id: int) -> None:
    row = value_row(conn, value_id)
    if _value_used(conn, row["field_id"], value_id):
        raise Conflict(f"Field value {value_id} is used by sessions or results.")
    db_rows.delete_row(conn, field_values, value_id)


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
    rows, total = db_listing.rows_page(conn, states, None, query.request())
    return Page([state_dict(r) for r in rows], total)


def state_view(conn: Connection, state_id: int) -> dict[str, Any]:
    return state_dict(_row(conn, states, state_id, "State"))


def create_state(conn: Connection, body: Mapping[str, Any]) -> int:
    name = inputs.text("name", inputs.required(body, "name"))
    is_default = inputs.boolean("is_default", body.get("is_default", False))
    if "display_order" in body:
        order = inputs.integer("display_order", body["display_order"])
    else:
        order = db_rows.max_order(conn, states.c.display_order) + 1
    meaning = _meaning(body.get("meaning"))
    state_id = new_state(conn, name, display_order=order)
    if meaning is not None:
        db_rows.update(conn, states, state_id, meaning=meaning)
    if is_default:
        _set_default(conn, states, state_id, True, False)
    return state_id


def update_state(conn: Connection, state_id: int, body: Mapping[str, Any]) -> None:
    row = _row(conn, states, state_id, "State")
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = inputs.text("name", body["name"])
    if "display_order" in body:
        values["display_order"] = inputs.integer("display_order", body["display_order"])
    if "meaning" in body:
        values["meaning"] = _meaning(body["meaning"])
    if "is_default" in body:
        inputs.boolean("is_default", body["is_default"])
    if values:
        db_rows.update(conn, states, state_id, **values)
    if "is_default" in body:
        _set_default(conn, states, state_id, body["is_default"], bool(row["is_default"]))


def delete_state(conn: Connection, state_id: int) -> None:
    row = _row(conn, states, state_id, "State")
    if row["is_default"]:
        raise Conflict(f"State {state_id} is the default; make another state the default first.")
    used = session_read.session_count_using(conn, sessions.c.state_id, state_id)
    if used:
        raise Conflict(f"State {state_id} is used by {used} session(s).")
    db_rows.delete_row(conn, states, state_id)


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
    rows, total = db_listing.rows_page(conn, statuses, None, query.request())
    return Page([status_dict(r) for r in rows], total)


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
        values["name"] = inputs.text("name", body["name"], 100)
    if "system_name" in body:
        system_name = inputs.system_name("system_name", body["system_name"])
        if db_rows.exists_other(conn, statuses.c.system_name, system_name, status_id):
            raise Conflict(
                f"Another status is named {system_name!r}.", {"system_name": ["Already taken."]}
            )
        values["system_name"] = system_name
    if "color" in body:
        values["color"] = inputs.color("color", body["color"], nullable=False)
    for flag in (*STATUS_FLAGS, "is_active"):
        if flag in body:
            values[flag] = inputs.boolean(flag, body[flag])
    if "aliases" in body:
        values["aliases"] = _aliases(body["aliases"])
    if status_id == 1 and values.get("is_active") is False:
        raise Invalid.field("is_active", "Status 1 (Untested) cannot be disabled.")
    merged = {**dict(row), **values}
    if merged["is_passed"] and merged["is_failed"]:
        raise Invalid.field("is_passed", "A status cannot be both passed and failed.")
    if values:
        db_rows.update(conn, statuses, status_id, **values)
    if any(flag in values and values[flag] != bool(row[flag]) for flag in STATUS_FLAGS):
        affected = session_read.sessions_with_status(conn, status_id)
        if affected:
            counters.recount(conn, affected)


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
    rows, total = db_listing.rows_page(conn, issues, None, query.request())
    return Page([issue_dict(r) for r in rows], total)


TRACKER_NAMES = {1: "Custom", 2: "GitHub", 3: "GitLab", 4: "Jira"}


def connection_dicts(conn: Connection, user: User) -> list[dict[str, Any]]:
    """The issue-tracker connections in Testmo's shape, derived from the issues:
    one integration per tracker type (its id is the type), one connection per
    tracker, one row per external project its issues come from. Custom issues
    have no connection or external project (one row). Like GET /issues, a user who is
    not a site admin sees only what the issues of their projects come from."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in catalog_queries.issue_connections(conn, None if user.is_admin else user.id):
        kind = int(r["type"])
        custom = kind == 1
        key = (kind,) if custom else (kind, r["external_project_id"], r["external_project_key"])
        row = out.setdefault(
            key,
            {
                "integration_id": kind,
                "integration_type": kind,
                "integration_name": TRACKER_NAMES[kind],
                "connection_id": None if custom else kind,
                "connection_name": None if custom else TRACKER_NAMES[kind],
                "connection_project_id": None if custom else r["external_project_id"],
                "connection_project_name": None if custom else r["external_project_key"],
                "is_active": True,
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
            },
        )
        row["created_at"] = min(row["created_at"], r["created_at"])
        row["updated_at"] = max(row["updated_at"], r["updated_at"])
    return list(out.values())


def list_connections(conn: Connection, user: User, query: ListQuery) -> Page:
    """A page of connection_dicts: the query's id, boolean and text filters (text
    found in the field, case-insensitive), sorted with ties broken by the integration
    and project ids."""
    rows = connection_dicts(conn, user)
    for f in query.filters:
        if f.op == "contains":
            text = str(f.value).lower()
            rows = [r for r in rows if r[f.column] is not None and text in r[f.column].lower()]
            continue
        allowed = set(f.value) if isinstance(f.value, tuple) else {f.value}
        rows = [r for r in rows if r[f.column] in allowed]

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        value = r[query.sort]
        # Null sorts as lowest.
        return (value is not None, value or 0, r["integration_id"], r["connection_project_id"] or 0)

    rows.sort(key=key, reverse=query.descending)
    page = rows[query.offset : query.offset + query.per_page]
    for r in page:
        r["created_at"], r["updated_at"] = iso(r["created_at"]), iso(r["updated_at"])
    return Page(page, len(rows), {})


def issue_view(conn: Connection, issue_id: int) -> dict[str, Any]:
    return issue_dict(_row(conn, issues, issue_id, "Issue"))


# What the users who read them see: site admins everything; everyone else only what
# the projects they are a member of use (a tag on one of their sessions, an issue
# linked from one of their sessions, results or milestones), counted over those
# projects only. Nothing of a project they cannot see, not even that it exists.


def list_issues_for(conn: Connection, user: User, query: ListQuery) -> Page:
    base = None if user.is_admin else catalog_queries.visible_issues(user.id)
    rows, total = db_listing.rows_page(conn, issues, base, query.request())
    return Page([issue_dict(r) for r in rows], total)


def issue_view_for(conn: Connection, user: User, issue_id: int) -> dict[str, Any]:
    if not user.is_admin and not db_rows.exists_where(
        conn, issues, issue_id, catalog_queries.visible_issues(user.id)
    ):
        raise NotFound(f"Issue {issue_id} not found.")
    return issue_view(conn, issue_id)


def create_issue(conn: Connection, body: Mapping[str, Any]) -> int:
    kind = inputs.required(body, "type")
    if isinstance(kind, bool) or not isinstance(kind, int) or kind not in (1, 2, 3, 4):
        raise Invalid.field("type", "Must be 1 (custom), 2 (GitHub), 3 (GitLab) or 4 (Jira).")
    display_id = inputs.text("display_id", inputs.required(body, "display_id"))
    return new_issue(
        conn,
        kind,
        display_id,
        inputs.optional_id("external_project_id", body.get("external_project_id")),
        inputs.optional_text("external_project_key", body.get("external_project_key"), 200),
    )


def delete_issue(conn: Connection, issue_id: int) -> None:
    _row(conn, issues, issue_id, "Issue")
    if catalog_queries.issue_is_linked(conn, issue_id):
        raise Conflict(f"Issue {issue_id} is linked to sessions, results or milestones.")
    db_rows.delete_row(conn, issues, issue_id)


def tag_dicts(conn: Connection, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    usage = catalog_queries.tag_usage(conn, [r["id"] for r in rows])
    return [
        {"id": r["id"], "name": r["name"], "session_count": usage.get(r["id"], 0)} for r in rows
    ]


def list_tags(conn: Connection, query: ListQuery) -> Page:
    rows, total = db_listing.rows_page(conn, tags, None, query.request())
    return Page(tag_dicts(conn, rows), total)


def tag_view(conn: Connection, tag_id: int) -> dict[str, Any]:
    return tag_dicts(conn, [_row(conn, tags, tag_id, "Tag")])[0]


def _tag_dicts_for(
    conn: Connection, user: User, rows: Sequence[RowMapping]
) -> list[dict[str, Any]]:
    if user.is_admin:
        return tag_dicts(conn, rows)
    usage = catalog_queries.tag_usage(conn, [r["id"] for r in rows], user.id)
    return [
        {"id": r["id"], "name": r["name"], "session_count": usage.get(r["id"], 0)} for r in rows
    ]


def list_tags_for(conn: Connection, user: User, query: ListQuery) -> Page:
    base = None if user.is_admin else catalog_queries.visible_tags(user.id)
    rows, total = db_listing.rows_page(conn, tags, base, query.request())
    return Page(_tag_dicts_for(conn, user, rows), total)


def tag_view_for(conn: Connection, user: User, tag_id: int) -> dict[str, Any]:
    row = _row(conn, tags, tag_id, "Tag")
    visible = catalog_queries.visible_tags(user.id)
    if not user.is_admin and not db_rows.exists_where(conn, tags, tag_id, visible):
        raise NotFound(f"Tag {tag_id} not found.")
    return _tag_dicts_for(conn, user, [row])[0]


def update_tag(conn: Connection, tag_id: int, body: Mapping[str, Any]) -> None:
    _row(conn, tags, tag_id, "Tag")
    if "name" not in body:
        return
    name = inputs.text("name", body["name"], MAX_TAG)
    if "," in name:
        raise Invalid.field("name", "Tag names have no commas.")
    if db_rows.exists_other(conn, tags.c.name, name, tag_id):
        raise Conflict(f"A tag named {name!r} exists already.", {"name": ["Already taken."]})
    db_rows.update(conn, tags, tag_id, name=name)


def delete_tag(conn: Connection, tag_id: int) -> None:
    """Delete the tag and take it off every session."""
    _row(conn, tags, tag_id, "Tag")
    catalog_queries.delete_tag(conn, tag_id)


def new_config(conn: Connection, project_id: int, name: str) -> int:
    return db_rows.insert(
        conn, configs, project_id=project_id, name=inputs.text("name", name), created_at=utcnow()
    )


def new_template(conn: Connection, name: str, is_default: bool = False) -> int:
    return db_rows.insert(
        conn,
        templates,
        name=inputs.text("name", name),
        is_default=is_default,
        created_at=utcnow(),
    )


def new_field(
    conn: Connection,
    template_id: int,
    name: str,
    system_name: str,
    type: str,
    is_required: bool = False,
    display_order: int = 0,
) -> int:
    if type not in FIELD_TYPES:
        raise Invalid.field("type", f"Must be one of: {', '.join(FIELD_TYPES)}.")
    inputs.system_name("system_name", system_name)
    if db_rows.row_by_id(conn, templates, template_id) is None:
        raise NotFound(f"Template {template_id} not found.")
    return db_rows.insert(
        conn,
        template_fields,
        template_id=template_id,
        name=inputs.text("name", name),
        system_name=system_name,
        type=type,
        is_required=is_required,
        display_order=display_order,
    )


def new_field_values(
    conn: Connection, field_id: int, values: Sequence[tuple[str, str | None, str | None]]
) -> list[int]:
    """Add dropdown / multi-select values: (name, icon, color) each."""
    field = db_rows.row_by_id(conn, template_fields, field_id)
    if field is None:
        raise NotFound(f"Field {field_id} not found.")
    if field["type"] not in ("dropdown", "multiselect"):
        raise Invalid.field("field_id", "Only dropdown and multi-select fields have values.")
    ids = []
    for order, (name, icon, color) in enumerate(values):
        if color is not None:
            inputs.color("color", color)  # checked; stored as given
        ids.append(
            db_rows.insert(
                conn,
                field_values,
                field_id=field_id,
                name=inputs.text("name", name),
                icon=icon,
                color=color,
                display_order=order,
            )
        )
    return ids


def new_state(conn: Connection, name: str, is_default: bool = False, display_order: int = 0) -> int:
    return db_rows.insert(
        conn,
        states,
        name=inputs.text("name", name),
        is_default=is_default,
        display_order=display_order,
    )


def new_issue(
    conn: Connection,
    type: int,
    display_id: str,
    external_project_id: int | None = None,
    external_project_key: str | None = None,
) -> int:
    if type not in (1, 2, 3, 4):
        raise Invalid.field("type", "Must be 1 (custom), 2 (GitHub), 3 (GitLab) or 4 (Jira).")
    return db_rows.insert(
        conn,
        issues,
        type=type,
        display_id=inputs.text("display_id", display_id),
        external_project_id=external_project_id,
        external_project_key=external_project_key,
        created_at=utcnow(),
    )


# --- note kinds (per project) -------------------------------------------------------

# What a new project starts with: (name, colour, category); migration 0008 gave
# existing projects the same list.
DEFAULT_KINDS = (
    ("Note", "#6b7280", "note"),
    ("Bug", "#dc2626", "bug"),
    ("Issue", "#d97706", "issue"),
    ("Question", "#2563eb", "issue"),
    ("Idea", "#16a34a", "note"),
    ("Setup", "#7c3aed", "note"),
)
KIND_FIELDS = ("name", "color", "position", "category")
MAX_KIND_NAME = 100


def add_default_kinds(conn: Connection, project_id: int) -> None:
    catalog_queries.insert_kinds(
        conn,
        [
            {"project_id": project_id, "name": n, "color": c, "position": i, "category": cat}
            for i, (n, c, cat) in enumerate(DEFAULT_KINDS)
        ],
    )


def list_kinds(conn: Connection, project_id: int, query: ListQuery) -> Page:
    base = catalog_queries.kinds_of(project_id)
    rows, total = db_listing.rows_page(conn, result_kinds, base, query.request())
    return Page([catalog_read.kind_dict(r) for r in rows], total)


def kind_row(conn: Connection, kind_id: int) -> RowMapping:
    return _row(conn, result_kinds, kind_id, "Kind")


def kind_view(conn: Connection, kind_id: int) -> dict[str, Any]:
    return catalog_read.kind_dict(kind_row(conn, kind_id))


def create_kind(conn: Connection, project_id: int, body: Mapping[str, Any]) -> int:
    """A new kind, last unless `position` says otherwise."""
    category = inputs.required(body, "category")
    if category not in KIND_CATEGORIES:
        raise Invalid.field("category", "Must be note, bug or issue.")
    last = max_order_of_kinds(conn, project_id)
    return db_rows.insert(
        conn,
        result_kinds,
        project_id=project_id,
        name=inputs.text("name", inputs.required(body, "name"), MAX_KIND_NAME),
        color=inputs.color("color", body.get("color", "#6b7280"), nullable=False),
        position=inputs.integer("position", body.get("position", last + 1)),
        category=category,
    )


def max_order_of_kinds(conn: Connection, project_id: int) -> int:
    return db_rows.max_order(conn, result_kinds.c.position, result_kinds.c.project_id == project_id)


def update_kind(conn: Connection, kind_id: int, body: Mapping[str, Any]) -> None:
    """Rename, recolour or move a kind. Its category stays: the bug and issue counts
    of every session were made by it (add a new kind instead)."""
    row = kind_row(conn, kind_id)
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = inputs.text("name", body["name"], MAX_KIND_NAME)
    if "color" in body:
        values["color"] = inputs.color("color", body["color"], nullable=False)
    if "position" in body:
        values["position"] = inputs.integer("position", body["position"])
    if "category" in body and body["category"] != row["category"]:
        raise Invalid.field("category", "A kind's category cannot change; add a new kind.")
    if values:
        db_rows.update(conn, result_kinds, kind_id, **values)


def delete_kind(conn: Connection, kind_id: int) -> None:
    kind_row(conn, kind_id)
    used = catalog_queries.kind_use_count(conn, kind_id)
    if used:
        raise Conflict(f"Kind {kind_id} is used by {used} result(s).")
    db_rows.delete_row(conn, result_kinds, kind_id)
