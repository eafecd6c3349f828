"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.rows import _by_ids, insert, is_used
from charter.db.tables import (
    field_values,
    issues,
    milestone_issues,
    result_field_values,
    result_issues,
    session_field_values,
    session_issues,
    session_tags,
    states,
    statuses,
    tags,
    template_fields,
    templates,
)


def fields_by_templates(conn: Connection, template_ids: Iterable[int]) -> list[RowMapping]:
    """Fields of both scopes, in display order."""
    ids = set(template_ids)
    if not ids:
        return []
    stmt = (
        sa.select(template_fields)
        .where(template_fields.c.template_id.in_(ids))
        .order_by(template_fields.c.display_order, template_fields.c.id)
    )
    return list(conn.execute(stmt).mappings())


def values_by_fields(conn: Connection, field_ids: Iterable[int]) -> list[RowMapping]:
    ids = set(field_ids)
    if not ids:
        return []
    stmt = (
        sa.select(field_values)
        .where(field_values.c.field_id.in_(ids))
        .order_by(field_values.c.display_order, field_values.c.id)
    )
    return list(conn.execute(stmt).mappings())


def field_has_stored_values(conn: Connection, field_id: int) -> bool:
    return is_used(conn, session_field_values.c.field_id, field_id) or is_used(
        conn, result_field_values.c.field_id, field_id
    )


def stored_values_of_field(conn: Connection, field_id: int) -> list[str]:
    """Every JSON-encoded value stored for the field, on sessions and results."""
    out: list[str] = []
    for table in (session_field_values, result_field_values):
        out += [
            r[0] for r in conn.execute(sa.select(table.c.value).where(table.c.field_id == field_id))
        ]
    return out


def delete_field(conn: Connection, field_id: int) -> None:
    conn.execute(sa.delete(field_values).where(field_values.c.field_id == field_id))
    conn.execute(sa.delete(template_fields).where(template_fields.c.id == field_id))


def issue_is_linked(conn: Connection, issue_id: int) -> bool:
    return any(
        is_used(conn, column, issue_id)
        for column in (
            session_issues.c.issue_id,
            result_issues.c.issue_id,
            milestone_issues.c.issue_id,
        )
    )


def tag_usage(conn: Connection, tag_ids: Sequence[int]) -> dict[int, int]:
    """Number of sessions carrying each tag."""
    if not tag_ids:
        return {}
    stmt = (
        sa.select(session_tags.c.tag_id, sa.func.count())
        .where(session_tags.c.tag_id.in_(tag_ids))
        .group_by(session_tags.c.tag_id)
    )
    return {int(t): int(n) for t, n in conn.execute(stmt)}


def delete_tag(conn: Connection, tag_id: int) -> None:
    conn.execute(sa.delete(session_tags).where(session_tags.c.tag_id == tag_id))
    conn.execute(sa.delete(tags).where(tags.c.id == tag_id))


def template_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [templates.c.id, templates.c.name, templates.c.is_default], ids)


def state_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [states.c.id, states.c.name, states.c.is_default], ids)


def issue_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    cols = [
        issues.c.id,
        issues.c.type,
        issues.c.display_id,
        issues.c.external_project_id,
        issues.c.external_project_key,
    ]
    return _by_ids(conn, cols, ids)


def field_value_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    cols = [field_values.c.id, field_values.c.name, field_values.c.icon, field_values.c.color]
    return _by_ids(conn, cols, ids)


def active_statuses(conn: Connection) -> list[dict[str, Any]]:
    out = []
    for row in conn.execute(_ACTIVE_STATUSES).mappings().all():
        item = dict(row)
        item["aliases"] = json.loads(item["aliases"])
        out.append(item)
    return out


_ACTIVE_STATUSES = (
    sa.select(
        statuses.c.id,
        statuses.c.name,
        statuses.c.system_name,
        statuses.c.color,
        statuses.c.is_final,
        statuses.c.is_untested,
        statuses.c.is_passed,
        statuses.c.is_failed,
        statuses.c.aliases,
    )
    .where(statuses.c.is_active.is_(True))
    .order_by(statuses.c.id)
)


def status_flags(conn: Connection) -> dict[int, dict[str, Any]]:
    """Every status (active or not) by id, for counting."""
    return {int(r["id"]): dict(r) for r in conn.execute(sa.select(statuses)).mappings()}


_FIELDS_OF = (
    sa.select(template_fields)
    .where(
        template_fields.c.template_id.in_(sa.bindparam("ids", expanding=True)),
        template_fields.c.scope == sa.bindparam("scope"),
    )
    .order_by(template_fields.c.template_id, template_fields.c.display_order, template_fields.c.id)
)


def fields_of_templates(
    conn: Connection, template_ids: Iterable[int], scope: str = "session"
) -> list[RowMapping]:
    """Custom fields of the templates, of sessions or of results (`scope`)."""
    ids = list(set(template_ids))
    if not ids:
        return []
    return list(conn.execute(_FIELDS_OF, {"ids": ids, "scope": scope}).mappings().all())


def value_ids_of_field(conn: Connection, field_id: int) -> set[int]:
    stmt = sa.select(field_values.c.id).where(field_values.c.field_id == field_id)
    return {r[0] for r in conn.execute(stmt)}


def tag_ids_by_names(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    stmt = sa.select(tags.c.name, tags.c.id).where(tags.c.name.in_(names))
    return {r[0]: int(r[1]) for r in conn.execute(stmt)}


def ensure_tags(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Tag ids by name, creating the missing tags."""
    wanted = list(dict.fromkeys(names))
    found = tag_ids_by_names(conn, wanted)
    for name in wanted:
        if name not in found:
            found[name] = insert(conn, tags, name=name)
    return found


def issue_connections(conn: Connection) -> list[RowMapping]:
    """One row per tracker and external project the linked issues come from, with the
    first and last time an issue of it was added."""
    stmt = sa.select(
        issues.c.type,
        issues.c.external_project_id,
        issues.c.external_project_key,
        sa.func.min(issues.c.created_at).label("created_at"),
        sa.func.max(issues.c.created_at).label("updated_at"),
    ).group_by(issues.c.type, issues.c.external_project_id, issues.c.external_project_key)
    return list(conn.execute(stmt).mappings())
