"""Testmo namespaces: projects and the current user."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from charter.api import docs, schemas
from charter.api.conventions import (
    FilterSpec,
    ListSpec,
    json_response,
)
from charter.api.deps import read_as_user
from charter.api.endpoints import list_endpoint, single_endpoint
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
    "/api/v1/user",
    responses=docs.responses(schemas.CurrentUser),
    summary="The user the API token belongs to (a bare object)",
    tags=["user"],
)
async def current_user(request: Request[Any, Any, Any]) -> Response[bytes]:
    return json_response(
        await read_as_user(request, lambda _conn, user: project_views.current_user(user))
    )


ROUTES = [
    list_endpoint(
        "/api/v1/projects",
        PROJECTS,
        project_views.list_projects,
        name="list_projects",
        summary="List the projects the user can see",
        tag="projects",
        schema=schemas.ProjectPage,
    ),
    single_endpoint(
        "/api/v1/projects/{project_id:str}",
        PROJECT_EXPANDS,
        project_views.get_project,
        ids=(("project_id", "Project"),),
        name="get_project",
        summary="Get one project",
        tag="projects",
        schema=schemas.ProjectSingle,
    ),
    current_user,
]
