"""Testmo namespace: milestones."""

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
from charter.domain import milestone_views
from charter.domain.milestone_views import MILESTONE_EXPANDS

MILESTONES = ListSpec(
    noun="milestones",
    sorts={
        "milestones:created_at": "created_at",
        "milestones:name": "name",
        "milestones:completed_at": "completed_at",
        "milestones:start_date": "start_date",
        "milestones:due_date": "due_date",
    },
    default_sort="milestones:created_at",
    filters=(
        FilterSpec(
            "automation_tags",
            "tags",
            "automation_tags",
            "Comma-separated automation tags (any of). Charter has no automation yet: "
            "no milestone carries automation tags, so this filter matches nothing.",
        ),
        FilterSpec("completed_after", "after", "completed_at"),
        FilterSpec("completed_before", "before", "completed_at"),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("created_before", "before", "created_at"),
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("is_completed", "bool", "is_completed", "Active (0) or completed (1) only."),
        FilterSpec("parent_id", "ids", "parent_id", "Direct children of these milestones."),
        FilterSpec(
            "root_id", "ids", "root_id", "Milestones in these trees (a root is its own root)."
        ),
        FilterSpec("type_id", "ids", "type_id"),
    ),
    expands=MILESTONE_EXPANDS,
)


@get(
    "/api/v1/projects/{project_id:str}/milestones",
    operation_class=operation_with(list_parameters(MILESTONES)),
    responses=docs.responses(schemas.MilestonePage, 403, 404, 422),
    summary="List the milestones of a project",
    tags=["milestones"],
)
async def list_milestones(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        query = parse_list(params, MILESTONES)
        return list_envelope(milestone_views.list_milestones(conn, user, pid, query), query)

    return json_response(await read_as_user(request, work))


@get(
    "/api/v1/milestones/{milestone_id:str}",
    operation_class=operation_with(expand_parameters(MILESTONE_EXPANDS)),
    responses=docs.responses(schemas.MilestoneSingle, 403, 404, 422),
    summary="Get one milestone",
    tags=["milestones"],
)
async def get_milestone(
    request: Request[Any, Any, Any], milestone_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: Any) -> dict[str, Any]:
        mid = path_id(milestone_id, "Milestone")
        expands = parse_expands(params.get("expands"), MILESTONE_EXPANDS)
        return single_envelope(milestone_views.get_milestone(conn, user, mid, expands))

    return json_response(await read_as_user(request, work))


ROUTES = [list_milestones, get_milestone]
