"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.rows import _by_ids, exists_other, insert, is_used, max_order
from charter.db.tables import (
    field_values,
    issues,
    milestone_issues,
    milestones,
    project_members,
    result_field_values,
    result_issues,
    result_kinds,
    session_field_values,
    session_issues,
    session_results,
    session_tags,
    sessions,
    states,
    statuses,
    tags,
    template_fields,
    templates,
)


def fields_of(template_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a template's field list."""
    return template_fields.c.template_id == template_id


def values_of(field_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a field's value list."""
    return field_values.c.field_id == field_id


def field_name_taken(conn: Connection, template_id: int, name: str, field_id: int | None) -> bool:
    """Whether another field of the template (not `field_id`) has system name `name`."""
    return exists_other(conn, template_fields.c.system_name, name, field_id, fields_of(template_id))


def last_field_order(conn: Connection, template_id: int) -> int:
    """The highest display_order among the template's fields (-1 when none)."""
    return max_order(conn, template_fields.c.display_order, fields_of(template_id))


def last_value_order(conn: Connection, field_id: int) -> int:
    """The highest display_order among the field's values (-1 when none)."""
    return max_order(conn, field_values.c.display_order, values_of(field_id))


def _in_display_order(table: sa.Table, parent: str, parent_ids: Iterable[int]) -> Any:
    ids = set(parent_ids)
    if not ids:
        return None
    column = table.c[parent]
    return sa.select(table).where(column.in_(ids)).order_by(table.c.display_order, table.c.id)


def fields_by_templates(conn: Connection, template_ids: Iterable[int]) -> list[RowMapping]:
    """Fields of both scopes, in display order."""
    stmt = _in_display_order(template_fields, "template_id", template_ids)
    return [] if stmt is None else list(conn.execute(stmt).mappings())


def values_by_fields(conn: Connection, field_ids: Iterable[int]) -> list[RowMapping]:
    """Values of dropdown and multi-select fields, in display order."""
    stmt = _in_display_order(field_values, "field_id", field_ids)
    return [] if stmt is None else list(conn.execute(stmt).mappings())


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


def tag_usage(
    conn: Connection, tag_ids: Sequence[int], user_id: int | None = None
) -> dict[int, int]:
    """Number of sessions carrying each tag; with `user_id`, only the sessions of the
    projects that user is a member of."""
    if not tag_ids:
        return {}
    stmt = sa.select(session_tags.c.tag_id, sa.func.count()).where(
        session_tags.c.tag_id.in_(tag_ids)
    )
    if user_id is not None:
        stmt = stmt.join(sessions, sessions.c.id == session_tags.c.session_id).where(
            sessions.c.project_id.in_(_projects_of(user_id))
        )
    stmt = stmt.group_by(session_tags.c.tag_id)
    return {int(t): int(n) for t, n in conn.execute(stmt)}


def _projects_of(user_id: int) -> sa.Select[tuple[int]]:
    """The ids of the projects `user_id` is a member of (any role)."""
    return sa.select(project_members.c.project_id).where(project_members.c.user_id == user_id)


def visible_tags(user_id: int) -> sa.ColumnElement[bool]:
    """The tags some session of the user's projects carries."""
    used = (
        sa.select(session_tags.c.tag_id)
        .join(sessions, sessions.c.id == session_tags.c.session_id)
        .where(sessions.c.project_id.in_(_projects_of(user_id)))
    )
    return tags.c.id.in_(used)


def visible_issues(user_id: int) -> sa.ColumnElement[bool]:
    """The issues linked to a session, a result or a milestone of the user's projects."""
    mine = _projects_of(user_id)
    linked = sa.union(
        sa.select(session_issues.c.issue_id)
        .join(sessions, sessions.c.id == session_issues.c.session_id)
        .where(sessions.c.project_id.in_(mine)),
        sa.select(result_issues.c.issue_id)
        .join(session_results, session_results.c.id == result_issues.c.result_id)
        .join(sessions, sessions.c.id == session_results.c.session_id)
        .where(sessions.c.project_id.in_(mine)),
        sa.select(milestone_issues.c.issue_id)
        .join(milestones, milestones.c.id == milestone_issues.c.milestone_id)
        .where(milestones.c.project_id.in_(mine)),
    )
    return issues.c.id.in_(sa.select(linked.subquery().c[0]))


def delete_tag(conn: Connection, tag_id: int) -> None:
    conn.execute(sa.delete(session_tags).where(session_tags.c.tag_id == tag_id))
    conn.execute(sa.delete(tags).where(tags.c.id == tag_id))


def template_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [templates.c.id, templates.c.name, templates.c.is_default], ids)


def state_with_meaning(conn: Connection, meaning: str) -> int | None:
    """The first state (by display order) with this lifecycle meaning, if any."""
    stmt = (
        sa.select(states.c.id)
        .where(states.c.meaning == meaning)
        .order_by(states.c.display_order, states.c.id)
        .limit(1)
    )
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


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


def issue_connections(conn: Connection, visible_to: int | None = None) -> list[RowMapping]:
    """One row per tracker and external project the linked issues come from, with the
    first and last time an issue of it was added; with `visible_to` (a user id), only
    the issues that user's projects use (visible_issues)."""
    stmt = sa.select(
        issues.c.type,
        issues.c.external_project_id,
        issues.c.external_project_key,
        sa.func.min(issues.c.created_at).label("created_at"),
        sa.func.max(issues.c.created_at).label("updated_at"),
    ).group_by(issues.c.type, issues.c.external_project_id, issues.c.external_project_key)
    if visible_to is not None:
        stmt = stmt.where(visible_issues(visible_to))
    return list(conn.execute(stmt).mappings())


# --- note kinds (result_kinds, per project) -----------------------------------------


def kinds_of(project_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a project's kind list."""
    return result_kinds.c.project_id == project_id


def kind_rows(conn: Connection, project_id: int) -> list[RowMapping]:
    """A project's kinds in their order."""
    stmt = (
        sa.select(result_kinds)
        .where(result_kinds.c.project_id == project_id)
        .order_by(result_kinds.c.position, result_kinds.c.id)
    )
    return list(conn.execute(stmt).mappings())


def kind_categories(conn: Connection, kind_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """{kind id: (project id, category)} of these kinds (unknown ids left out)."""
    ids = list(set(kind_ids))
    if not ids:
        return {}
    c = result_kinds.c
    stmt = sa.select(c.id, c.project_id, c.category).where(c.id.in_(ids))
    return {int(i): (int(p), str(cat)) for i, p, cat in conn.execute(stmt)}


def kind_use_count(conn: Connection, kind_id: int) -> int:
    stmt = sa.select(sa.func.count()).where(session_results.c.kind_id == kind_id)
    return int(conn.execute(stmt).scalar_one())


def insert_kinds(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(result_kinds), list(rows))
