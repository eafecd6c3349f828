"""Who may follow what: a live stream shows a project's changes to its readers."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from charter.auth.permissions import require_access
from charter.auth.service import User
from charter.core.errors import Forbidden, NotFound
from charter.live import queries


def project_readable(conn: Connection, user: User, project_id: int) -> int:
    """`project_id`, when `user` may read the project (NotFound / Forbidden if not)."""
    require_access(conn, user, project_id, "read")
    return project_id


def session_project(conn: Connection, user: User, session_id: int) -> int:
    """The project of a session `user` may read (NotFound / Forbidden if not)."""
    project_id = queries.project_of_session(conn, session_id)
    if project_id is None:
        raise NotFound(f"Session {session_id} not found.")
    try:
        require_access(conn, user, project_id, "read")
    except Forbidden:
        raise Forbidden("You are not a member of this session's project.") from None
    return project_id
