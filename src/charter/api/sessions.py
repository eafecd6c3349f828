"""Testmo namespace: sessions."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from charter.api import docs, schemas
from charter.api.conventions import (
    FilterSpec,
    ListSpec,
    expand_parameters,
    json_response,
    list_envelope,
    list_parameters,
    operation_with,
    parse_expands,
    parse_list,
    single_envelope,
)
from charter.api.deps import path_id, query_params, read_as_user
from charter.domain import session_views
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


@get(
    "/api/v1/projects/{project_id:str}/sessions",
    operation_class=operation_with(list_parameters(SESSIONS)),
    responses=docs.responses(schemas.SessionPage, 403, 404, 422),
    summary="List the sessions of a project",
    tags=["sessions"],
)
async def list_sessions(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        query = parse_list(params, SESSIONS)
        return list_envelope(session_views.list_sessions(conn, user, pid, query), query)

    return json_response(await read_as_user(request, work))


@get(
    "/api/v1/sessions/{session_id:str}",
    operation_class=operation_with(expand_parameters(SESSION_EXPANDS)),
    responses=docs.responses(schemas.SessionSingle, 403, 404, 422),
    summary="Get one session",
    tags=["sessions"],
)
async def get_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        sid = path_id(session_id, "Session")
        expands = parse_expands(params.get("expands"), SESSION_EXPANDS)
        return single_envelope(session_views.get_session(conn, user, sid, expands))

    return json_response(await read_as_user(request, work))


ROUTES = [list_sessions, get_session]
