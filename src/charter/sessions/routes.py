"""Testmo namespace: sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.core import inputs
from charter.core.errors import NotFound
from charter.db import tables
from charter.db.locks import row_lock
from charter.http.conventions import single_envelope
from charter.http.deps import path_id
from charter.http.read_routes import (
    list_endpoint,
    single_endpoint,
    unless_expanded,
    unless_filtered,
)
from charter.http.write_routes import (
    action_endpoint,
    create_endpoint,
    delete_endpoint,
    project_target,
    update_endpoint,
)
from charter.http.writes import split_custom
from charter.sessions import read as session_read
from charter.sessions import schemas as session_schemas
from charter.sessions import service as session_service
from charter.sessions.read import SESSION_EXPANDS, session_by_id
from charter.sessions.schemas import SESSIONS

ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/sessions",
        SESSIONS,
        session_read.list_sessions,
        ids=(("project_id", "Project"),),
        name="list_sessions",
        summary="List the sessions of a project",
        tag="sessions",
        schema=session_schemas.SessionPage,
        # Page 1 unfiltered: the project row, then the page with its total (one
        # statement each, sessions/queries.page_of_session_json): no transaction.
        snapshot=unless_filtered(SESSIONS),
    ),
    single_endpoint(
        "/api/v1/sessions/{session_id:str}",
        SESSION_EXPANDS,
        session_read.get_session,
        ids=(("session_id", "Session"),),
        name="get_session",
        summary="Get one session",
        tag="sessions",
        schema=session_schemas.SessionSingle,
        snapshot=unless_expanded,  # one statement: the session's JSON
    ),
]


# The body fields a create or update may carry: the service's one list.
SESSION_BODY = session_service.UPDATABLE


def _session_envelope(conn: Any, user: User, session_id: int) -> dict[str, Any]:
    return single_envelope(session_read.get_session(conn, user, session_id, frozenset()))


def _create_session(conn: Any, user: User, project_id: int, body: dict[str, Any]) -> int:
    plain, custom = split_custom(body)
    return session_service.create_session(
        conn,
        project_id,
        user.id,
        name=inputs.required(plain, "name"),
        template_id=plain.get("template_id"),
        state_id=plain.get("state_id"),
        config_id=plain.get("config_id"),
        milestone_id=plain.get("milestone_id"),
        assignee_id=plain.get("assignee_id"),
        estimate=plain.get("estimate"),
        tags=plain.get("tags", []),
        issue_ids=plain.get("issues", []),
        charter=plain.get("charter"),
        custom=custom,
    )


create_session = create_endpoint(
    "/api/v1/projects/{project_id:str}/sessions",
    target=project_target("run"),
    allowed=SESSION_BODY,
    required=("name",),
    custom=True,
    create=_create_session,
    view=_session_envelope,
    codes=(403, 404, 409, 422),
    name="create_session",
    summary="Create a session (Charter extension)",
    tag="sessions",
    schema=session_schemas.SessionSingle,
)


def _writable(conn: Any, user: User, raw_id: str, action: Action = "run") -> int:
    """The session id, once `user` may do `action` in its project."""
    session_id = path_id(raw_id, "Session")
    row = session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, row["project_id"], action)
    return session_id


def _update(conn: Any, user: User, session_id: int, body: dict[str, Any]) -> None:
    session_service.update_session(conn, session_id, user.id, *split_custom(body))


update_session = update_endpoint(
    "/api/v1/sessions/{session_id:str}",
    target=_writable,
    lock=row_lock(tables.sessions),
    allowed=SESSION_BODY,
    custom=True,
    change=_update,
    view=_session_envelope,
    live=True,  # a running session's elapsed grows: time passing is not a change
    codes=(403, 404, 409, 412, 422),
    name="update_session",
    summary="Update a session (Charter extension; If-Match supported)",
    tag="sessions",
    schema=session_schemas.SessionSingle,
)


delete_session = delete_endpoint(
    "/api/v1/sessions/{session_id:str}",
    target=lambda conn, user, raw_id: _writable(conn, user, raw_id, "manage"),
    lock=row_lock(tables.sessions),
    current=_session_envelope,
    live=True,
    remove=lambda conn, _user, sid: session_service.delete(conn, sid),
    codes=(403, 404, 412),
    name="delete_session",
    summary="Delete a session and its results (Charter extension; managers)",
    tag="sessions",
)


def _transition(action: str, change: Callable[[Any, int, int], None]) -> Any:
    """POST /api/v1/sessions/{id}/<action>: one timer or state transition."""
    return action_endpoint(
        f"/api/v1/sessions/{{session_id:str}}/{action}",
        target=_writable,
        change=lambda conn, user, sid: change(conn, sid, user.id),
        view=_session_envelope,
        codes=(403, 404, 409),
        name=f"{action}_session",
        summary=f"{action.title()} a session (Charter extension)",
        tag="sessions",
        schema=session_schemas.SessionSingle,
    )


TRANSITIONS = [_transition(action, move) for action, move in session_service.TRANSITIONS.items()]


ROUTES += [create_session, update_session, delete_session, *TRANSITIONS]
