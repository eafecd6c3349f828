"""Who may do what, decided in one place.

Roles per project: viewer (read), tester (also create and run sessions, add results),
manager (everything in the project). A site admin may do everything everywhere.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import queries as auth_queries
from charter.auth.service import User
from charter.core.errors import Forbidden, NotFound

# The role lookup other packages use (auth.queries stays private to auth).
member_role = auth_queries.member_role

Action = Literal["read", "run", "manage"]


_ALLOWED: dict[str, frozenset[Action]] = {
    "viewer": frozenset({"read"}),
    "tester": frozenset({"read", "run"}),
    "manager": frozenset({"read", "run", "manage"}),
}


_VERB = {"read": "see", "run": "run sessions in", "manage": "manage"}


def require_project(conn: Connection, user: User, project_id: int, action: Action) -> RowMapping:
    """The project row if `user` may do `action` in it; NotFound / Forbidden otherwise."""
    project = auth_queries.project_row(conn, project_id)
    if project is None:
        raise NotFound(f"Project {project_id} not found.")
    require_access(conn, user, project_id, action)
    return project


def require_access(conn: Connection, user: User, project_id: int, action: Action) -> None:
    """Forbidden unless `user` may do `action` in a project known to exist (e.g.
    through a session's foreign key): the project row itself is not read."""
    if user.is_admin:
        return
    # Authentication read the user's roles already (auth/queries._ROLES): no query.
    if user.roles is not None:
        role = user.roles.get(project_id)
    else:
        role = auth_queries.member_role(conn, project_id, user.id)
    if role is None:
        raise Forbidden(f"You are not a member of project {project_id}.")
    if action not in _ALLOWED[role]:
        raise Forbidden(f"Your role ({role}) may not {_VERB[action]} project {project_id}.")


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only site admins may do this.")
