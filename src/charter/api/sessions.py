"""Testmo namespace: sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, delete, patch, post
from litestar.params import FromPath

from charter.api import docs, schemas
from charter.api.conventions import (
    FilterSpec,
    ListSpec,
    single_envelope,
)
from charter.api.deps import path_id
from charter.api.endpoints import list_endpoint, single_endpoint
from charter.api.writes import (
    Outcome,
    check_if_match,
    fields,
    parse_json,
    split_custom,
    write_as_user,
)
from charter.db.queries.sessions import session_by_id
from charter.domain import session_views, sessions
from charter.domain.auth import User
from charter.domain.errors import Invalid, NotFound
from charter.domain.permissions import Action, require_project
from charter.domain.session_views import SESSION_EXPANDS

SESSIONS = ListSpec(
    noun="sessions",
    sorts={"sessions:created_at": "created_at", "sessions:closed_at": "closed_at"},
    default_sort="sessions:created_at",
    filters=(
        FilterSpec("assignee_id", "ids", "assignee_id"),
        FilterSpec("config_id", "ids", "config_id"),
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("milestone_id", "ids", "milestone_id"),
        FilterSpec("state_id", "ids", "state_id"),
        FilterSpec("template_id", "ids", "template_id"),
        FilterSpec("tags", "tags", "tags"),
        FilterSpec("is_closed", "bool", "is_closed", "Active (0) or closed (1) sessions only."),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("created_before", "before", "created_at"),
        FilterSpec("closed_after", "after", "closed_at"),
        FilterSpec("closed_before", "before", "closed_at"),
    ),
    expands=SESSION_EXPANDS,
)


ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/sessions",
        SESSIONS,
        session_views.list_sessions,
        ids=(("project_id", "Project"),),
        name="list_sessions",
        summary="List the sessions of a project",
        tag="sessions",
        schema=schemas.SessionPage,
    ),
    single_endpoint(
        "/api/v1/sessions/{session_id:str}",
        SESSION_EXPANDS,
        session_views.get_session,
        ids=(("session_id", "Session"),),
        name="get_session",
        summary="Get one session",
        tag="sessions",
        schema=schemas.SessionSingle,
    ),
]


# --- Charter extensions: writing and running sessions --------------------------------

SESSION_BODY = (
    "name",
    "template_id",
    "config_id",
    "milestone_id",
    "state_id",
    "assignee_id",
    "estimate",
    "tags",
    "issues",
    "charter",
)


def _session_body(
    request: Request[Any, Any, Any], raw: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    return split_custom(fields(parse_json(request, raw), SESSION_BODY, custom=True))


def _session_envelope(conn: Any, user: User, session_id: int) -> dict[str, Any]:
    return single_envelope(session_views.get_session(conn, user, session_id, frozenset()))


@post(
    "/api/v1/projects/{project_id:str}/sessions",
    operation_class=docs.with_body(docs.body(SESSION_BODY, ("name",), custom=True)),
    status_code=201,
    responses=docs.write_responses(schemas.SessionSingle, 201, 403, 404, 409, 422),
    summary="Create a session (Charter extension)",
    tags=["sessions"],
)
async def create_session(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "run")
        plain, custom = _session_body(request, raw)
        if "name" not in plain:
            raise Invalid.field("name", "The name is required.")
        session_id = sessions.create_session(
            conn,
            pid,
            user.id,
            name=plain["name"],
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
        return 201, _session_envelope(conn, user, session_id)

    return await write_as_user(request, work)


def _writable(conn: Any, user: User, raw_id: str, action: Action = "run") -> int:
    """The session id, once `user` may do `action` in its project."""
    session_id = path_id(raw_id, "Session")
    row = session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, row["project_id"], action)
    return session_id


@patch(
    "/api/v1/sessions/{session_id:str}",
    operation_class=docs.with_body(docs.body(SESSION_BODY, custom=True)),
    responses=docs.write_responses(schemas.SessionSingle, 200, 403, 404, 409, 412, 422),
    summary="Update a session (Charter extension; If-Match supported)",
    tags=["sessions"],
)
async def update_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        sid = _writable(conn, user, session_id)
        plain, custom = _session_body(request, raw)
        check_if_match(request, _session_envelope(conn, user, sid))
        sessions.update_session(conn, sid, user.id, plain, custom)
        return 200, _session_envelope(conn, user, sid)

    return await write_as_user(request, work)


@delete(
    "/api/v1/sessions/{session_id:str}",
    status_code=204,
    responses=docs.write_responses(None, 204, 403, 404, 412),
    summary="Delete a session and its results (Charter extension; managers)",
    tags=["sessions"],
)
async def delete_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[None]:
    def work(conn: Any, user: User) -> Outcome:
        sid = _writable(conn, user, session_id, "manage")
        check_if_match(request, _session_envelope(conn, user, sid))
        sessions.delete(conn, sid)
        return 204, None

    return await write_as_user(request, work)


def _transition(action: str, change: Callable[[Any, int, int], None]) -> Any:
    """POST /api/v1/sessions/{id}/<action>: one timer or state transition."""

    async def handler(
        request: Request[Any, Any, Any], session_id: FromPath[str]
    ) -> Response[bytes]:
        def work(conn: Any, user: User) -> Outcome:
            sid = _writable(conn, user, session_id)
            change(conn, sid, user.id)
            return 200, _session_envelope(conn, user, sid)

        return await write_as_user(request, work)

    handler.__name__ = f"{action}_session"
    return post(
        f"/api/v1/sessions/{{session_id:str}}/{action}",
        status_code=200,
        responses=docs.write_responses(schemas.SessionSingle, 200, 403, 404, 409),
        summary=f"{action.title()} a session (Charter extension)",
        tags=["sessions"],
        name=f"{action}_session",
    )(handler)


TRANSITIONS = [
    _transition("start", sessions.start),
    _transition("pause", sessions.pause),
    _transition("resume", sessions.resume),
    _transition("close", sessions.close),
    _transition("reopen", sessions.reopen),
]

ROUTES += [create_session, update_session, delete_session, *TRANSITIONS]
