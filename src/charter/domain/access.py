"""Who may see what: project visibility in one place."""

from __future__ import annotations

from sqlalchemy.engine import Connection, RowMapping

from charter.db.queries import projects as pq
from charter.db.queries import users as uq
from charter.domain.auth import User
from charter.domain.errors import Forbidden, NotFound


def visible_project(conn: Connection, user: User, project_id: int) -> RowMapping:
    """The project row if the user may see it; NotFound / Forbidden otherwise."""
    project = pq.project_by_id(conn, project_id)
    if project is None:
        raise NotFound(f"Project {project_id} not found.")
    if not user.is_admin and uq.member_role(conn, project_id, user.id) is None:
        raise Forbidden(f"You are not a member of project {project_id}.")
    return project
