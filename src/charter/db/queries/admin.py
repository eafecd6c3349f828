"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import (
    field_values,
    issues,
    milestone_issues,
    milestones,
    project_members,
    result_field_values,
    result_issues,
    roles,
    session_field_values,
    session_issues,
    session_results,
    session_tags,
    sessions,
    tags,
    template_fields,
    users,
)


def rows_by_ids(conn: Connection, table: sa.Table, ids: Sequence[int]) -> list[RowMapping]:
    """Full rows in the order of `ids`."""
    if not ids:
        return []
    found = {
        r["id"]: r for r in conn.execute(sa.select(table).where(table.c.id.in_(ids))).mappings()
    }
    return [found[i] for i in ids if i in found]


def delete_row(conn: Connection, table: sa.Table, row_id: int) -> None:
    conn.execute(sa.delete(table).where(table.c.id == row_id))


def is_used(conn: Connection, column: sa.Column[Any], value: Any) -> bool:
    """Whether any row has `column` = `value`."""
    stmt = sa.select(sa.literal(1)).where(column == value).limit(1)
    return conn.execute(stmt).first() is not None


def exists_other(
    conn: Connection, column: sa.Column[Any], value: Any, exclude_id: int | None, *where: Any
) -> bool:
    """Whether a row other than `exclude_id` has `column` = `value` (and `where`)."""
    table = column.table
    stmt = sa.select(table.c.id).where(column == value, *where)
    if exclude_id is not None:
        stmt = stmt.where(table.c.id != exclude_id)
    return conn.execute(stmt.limit(1)).first() is not None


def clear_default(conn: Connection, table: sa.Table) -> None:
    conn.execute(sa.update(table).where(table.c.is_default.is_(True)).values(is_default=False))


def max_order(conn: Connection, column: sa.Column[Any], *where: Any) -> int:
    stmt = sa.select(sa.func.max(column)).where(*where)
    value = conn.execute(stmt).scalar()
    return -1 if value is None else int(value)


# --- members -----------------------------------------------------------------------


def member_condition(project_id: int) -> sa.ColumnElement[bool]:
    """Users who are members of the project (a condition on `users`)."""
    return users.c.id.in_(
        sa.select(project_members.c.user_id).where(project_members.c.project_id == project_id)
    )


def members_by_ids(conn: Connection, project_id: int, user_ids: Sequence[int]) -> list[RowMapping]:
    """(id, name, email, role) of members, in the order of `user_ids`."""
    if not user_ids:
        return []
    stmt = (
        sa.select(users.c.id, users.c.name, users.c.email, roles.c.system_name.label("role"))
        .join(project_members, project_members.c.user_id == users.c.id)
        .join(roles, roles.c.id == project_members.c.role_id)
        .where(project_members.c.project_id == project_id, users.c.id.in_(user_ids))
    )
    found = {r["id"]: r for r in conn.execute(stmt).mappings()}
    return [found[i] for i in user_ids if i in found]


def count_members_with_role(conn: Connection, project_id: int, role: str) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(project_members)
        .join(roles, roles.c.id == project_members.c.role_id)
        .where(project_members.c.project_id == project_id, roles.c.system_name == role)
    )
    return int(conn.execute(stmt).scalar_one())


def delete_member(conn: Connection, project_id: int, user_id: int) -> None:
    conn.execute(
        sa.delete(project_members).where(
            project_members.c.project_id == project_id, project_members.c.user_id == user_id
        )
    )


# --- milestones --------------------------------------------------------------------


def milestone_issue_ids(conn: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if ids:
        stmt = (
            sa.select(milestone_issues.c.milestone_id, milestone_issues.c.issue_id)
            .where(milestone_issues.c.milestone_id.in_(ids))
            .order_by(milestone_issues.c.milestone_id, milestone_issues.c.issue_id)
        )
        for mid, iid in conn.execute(stmt):
            out[mid].append(iid)
    return out


def milestone_subtree(conn: Connection, project_id: int, milestone_id: int) -> list[int]:
    """The milestone and all its descendants (walked level by level)."""
    found = [milestone_id]
    level = [milestone_id]
    while level:
        stmt = sa.select(milestones.c.id).where(
            milestones.c.project_id == project_id, milestones.c.parent_id.in_(level)
        )
        level = [r[0] for r in conn.execute(stmt) if r[0] not in found]
        found += level
    return found


def set_milestone_roots(conn: Connection, ids: Sequence[int], root_id: int) -> None:
    if ids:
        conn.execute(sa.update(milestones).where(milestones.c.id.in_(ids)).values(root_id=root_id))


def delete_milestone(conn: Connection, milestone_id: int) -> None:
    conn.execute(sa.delete(milestone_issues).where(milestone_issues.c.milestone_id == milestone_id))
    conn.execute(sa.delete(milestones).where(milestones.c.id == milestone_id))


# --- templates, fields and values --------------------------------------------------


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


# --- statuses, issues, tags --------------------------------------------------------


def sessions_with_status(conn: Connection, status_id: int) -> list[int]:
    stmt = (
        sa.select(session_results.c.session_id)
        .where(session_results.c.status_id == status_id)
        .distinct()
        .order_by(session_results.c.session_id)
    )
    return [r[0] for r in conn.execute(stmt)]


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


def exists_where(
    conn: Connection, table: sa.Table, row_id: int, condition: sa.ColumnElement[bool]
) -> bool:
    stmt = sa.select(table.c.id).where(table.c.id == row_id, condition)
    return conn.execute(stmt).first() is not None


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


def shares_a_project(user_id: int, other_id: int | sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """True when `other_id` is a member of one of the projects of `user_id`."""
    return sa.exists(
        sa.select(project_members.c.project_id).where(
            project_members.c.user_id == other_id,
            project_members.c.project_id.in_(_projects_of(user_id)),
        )
    )


def member_candidates(
    conn: Connection, project_id: int, co_member_of: int | None
) -> list[RowMapping]:
    """Active users who are not members of the project, by name; with `co_member_of`,
    only those who share a project with that user."""
    members = sa.select(project_members.c.user_id).where(project_members.c.project_id == project_id)
    stmt = sa.select(users.c.id, users.c.name, users.c.email).where(
        users.c.is_active.is_(True), users.c.id.not_in(members)
    )
    if co_member_of is not None:
        stmt = stmt.where(shares_a_project(co_member_of, users.c.id))
    return list(conn.execute(stmt.order_by(users.c.name, users.c.id)).mappings())


def user_shares_a_project(conn: Connection, user_id: int, other_id: int) -> bool:
    return bool(conn.execute(sa.select(shares_a_project(user_id, other_id))).scalar())


def delete_tag(conn: Connection, tag_id: int) -> None:
    conn.execute(sa.delete(session_tags).where(session_tags.c.tag_id == tag_id))
    conn.execute(sa.delete(tags).where(tags.c.id == tag_id))


def session_count_using(conn: Connection, column: sa.Column[Any], value: Any) -> int:
    stmt = sa.select(sa.func.count()).select_from(sessions).where(column == value)
    return int(conn.execute(stmt).scalar_one())
