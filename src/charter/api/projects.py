"""Testmo namespaces: projects and the current user."""

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
from charter.domain import project_views
from charter.domain.project_views import PROJECT_EXPANDS

PROJECTS = ListSpec(
    noun="projects",
    sorts={"projects:created_at": "created_at", "projects:name": "name"},
    default_sort="projects:created_at",
    filters=(
        FilterSpec("is_completed", "bool", "is_completed", "Active (0) or completed (1) only."),
    ),
    expands=PROJECT_EXPANDS,
)


@get(
    "/api/v1/projects",
    operation_class=operation_with(list_parameters(PROJECTS)),
    responses=docs.responses(schemas.ProjectPage, 422),
    summary="List the projects the user can see",
    tags=["projects"],
)
async def list_projects(request: Request[Any, Any, Any]) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        query = parse_list(params, PROJECTS)
        return list_envelope(project_views.list_projects(conn, user, query), query)

    return json_response(await read_as_user(request, work))


@get(
    "/api/v1/projects/{project_id:str}",
    operation_class=operation_with(expand_parameters(PROJECT_EXPANDS)),
    responses=docs.responses(schemas.ProjectSingle, 403, 404, 422),
    summary="Get one project",
    tags=["projects"],
)
async def get_project(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        expands = parse_expands(params.get("expands"), PROJECT_EXPANDS)
        return single_envelope(project_views.get_project(conn, user, pid, expands))

    return json_response(await read_as_user(request, work))


@get(
    "/api/v1/user",
    responses=docs.responses(schemas.CurrentUser),
    summary="The user the API token belongs to (a bare object)",
    tags=["user"],
)
async def current_user(request: Request[Any, Any, Any]) -> Response[bytes]:
    return json_response(
        await read_as_user(request, lambda _conn, user: project_views.current_user(user))
    )


ROUTES = [list_projects, get_project, current_user]
