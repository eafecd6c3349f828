"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.rows import _by_ids, grouped_ids, rows_by_ids
from charter.db.tables import (
    COUNTER_COLUMNS,
    milestone_issues,
    milestone_types,
    milestones,
    sessions,
)


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


def milestone_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [milestones.c.id, milestones.c.name], ids)


def in_project(project_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a project's milestone list."""
    return milestones.c.project_id == project_id


def milestones_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    """Full rows in the order of `ids`."""
    return rows_by_ids(conn, milestones, ids)


def issues_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    """{milestone_id: [issue ids, ascending]}."""
    return grouped_ids(conn, milestone_issues.c.milestone_id, milestone_issues.c.issue_id, ids)


def set_issues(conn: Connection, milestone_id: int, issue_ids: Iterable[int]) -> None:
    conn.execute(sa.delete(milestone_issues).where(milestone_issues.c.milestone_id == milestone_id))
    rows = [{"milestone_id": milestone_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(milestone_issues), rows)


def type_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = set(ids)
    if not ids:
        return []
    stmt = (
        sa.select(milestone_types.c.id, milestone_types.c.name, milestone_types.c.is_default)
        .where(milestone_types.c.id.in_(ids))
        .order_by(milestone_types.c.id)
    )
    return [{"id": r[0], "name": r[1], "is_default": bool(r[2])} for r in conn.execute(stmt)]


def session_counter_sums(
    conn: Connection, project_id: int, milestone_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """{milestone_id: {counter: SUM over the milestone's sessions}} in one GROUP BY
    query (answered by the sessions (project_id, milestone_id, ...) index). Milestones
    without sessions are absent."""
    if not milestone_ids:
        return {}
    stmt = (
        sa.select(
            sessions.c.milestone_id,
            *(sa.func.coalesce(sa.func.sum(sessions.c[c]), 0) for c in COUNTER_COLUMNS),
        )
        .where(sessions.c.project_id == project_id, sessions.c.milestone_id.in_(milestone_ids))
        .group_by(sessions.c.milestone_id)
    )
    return {
        int(r[0]): {c: int(v) for c, v in zip(COUNTER_COLUMNS, r[1:], strict=True)}
        for r in conn.execute(stmt)
    }


def milestone_id_by_name(conn: Connection, project_id: int, name: str) -> int | None:
    """The project's milestone named `name` (the lowest id if several are)."""
    stmt = sa.select(sa.func.min(milestones.c.id)).where(
        milestones.c.project_id == project_id, milestones.c.name == name
    )
    value = conn.execute(stmt).scalar()
    return None if value is None else int(value)
