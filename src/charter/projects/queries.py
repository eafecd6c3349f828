"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.rows import _by_ids
from charter.db.tables import (
    configs,
    project_members,
    projects,
    roles,
    users,
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


def config_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [configs.c.id, configs.c.name], ids)


def upsert_member(conn: Connection, project_id: int, user_id: int, role_id: int) -> None:
    key = (project_members.c.project_id == project_id) & (project_members.c.user_id == user_id)
    updated = conn.execute(sa.update(project_members).where(key).values(role_id=role_id)).rowcount
    if not updated:
        conn.execute(
            sa.insert(project_members).values(
                project_id=project_id, user_id=user_id, role_id=role_id
            )
        )


def delete_member(conn: Connection, project_id: int, user_id: int) -> int:
    """Remove a membership; the number of rows removed (0 or 1)."""
    key = (project_members.c.project_id == project_id) & (project_members.c.user_id == user_id)
    return conn.execute(sa.delete(project_members).where(key)).rowcount


def configs_of(project_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a project's configuration list."""
    return configs.c.project_id == project_id


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


def _projects_of(user_id: int) -> sa.Select[tuple[int]]:
    """The ids of the projects `user_id` is a member of (any role)."""
    return sa.select(project_members.c.project_id).where(project_members.c.user_id == user_id)


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


def config_id_by_name(conn: Connection, project_id: int, name: str) -> int | None:
    """The project's configuration named `name` (the lowest id if several are)."""
    stmt = sa.select(sa.func.min(configs.c.id)).where(
        configs.c.project_id == project_id, configs.c.name == name
    )
    value = conn.execute(stmt).scalar()
    return None if value is None else int(value)


def config_in_project(conn: Connection, project_id: int, config_id: int) -> bool:
    stmt = sa.select(configs.c.id).where(
        configs.c.id == config_id, configs.c.project_id == project_id
    )
    return conn.execute(stmt).first() is not None


def automation_counters(conn: Connection, project_id: int, names: Sequence[str]) -> dict[str, int]:
    row = conn.execute(
        sa.select(*(projects.c[n] for n in names)).where(projects.c.id == project_id)
    ).one()
    return {n: int(v) for n, v in zip(names, row, strict=True)}


def set_plain_counters(conn: Connection, project_id: int, values: dict[str, int]) -> None:
    """Overwrite counters that no cached list total depends on."""
    conn.execute(sa.update(projects).where(projects.c.id == project_id).values(**values))
