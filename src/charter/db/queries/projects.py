"""Projects and their stored counters."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import project_members, projects


def insert_project(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(projects).values(**values).returning(projects.c.id)
    return int(conn.execute(stmt).scalar_one())


_PROJECT_BY_ID = sa.select(projects).where(projects.c.id == sa.bindparam("id"))


def project_by_id(conn: Connection, project_id: int) -> RowMapping | None:
    return conn.execute(_PROJECT_BY_ID, {"id": project_id}).mappings().first()


def projects_by_ids(conn: Connection, ids: list[int]) -> list[RowMapping]:
    if not ids:
        return []
    return list(conn.execute(sa.select(projects).where(projects.c.id.in_(ids))).mappings())


def visible_condition(user_id: int, is_admin: bool) -> sa.ColumnElement[bool]:
    """Projects a user may see: all for a site admin, else those they are a member of."""
    if is_admin:
        return sa.true()
    return projects.c.id.in_(
        sa.select(project_members.c.project_id).where(project_members.c.user_id == user_id)
    )


def bump_counters(conn: Connection, project_id: int, deltas: dict[str, int]) -> None:
    values = {name: projects.c[name] + delta for name, delta in deltas.items() if delta}
    if values:
        conn.execute(sa.update(projects).where(projects.c.id == project_id).values(**values))


def set_counters(conn: Connection, project_id: int, values: dict[str, int]) -> None:
    """Overwrite counters (recount, loaders); also invalidates cached list totals."""
    stmt = (
        sa.update(projects)
        .where(projects.c.id == project_id)
        .values(**values, session_version=projects.c.session_version + 1)
    )
    conn.execute(stmt)


def all_project_ids(conn: Connection) -> list[int]:
    return [r[0] for r in conn.execute(sa.select(projects.c.id).order_by(projects.c.id))]
