"""Testmo namespace: milestones."""

from __future__ import annotations

from typing import Any

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.http.conventions import FilterSpec, ListSpec
from charter.http.deps import path_id
from charter.http.read_routes import as_one, list_endpoint, single_endpoint
from charter.http.write_routes import (
    action_endpoint,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from charter.milestones import read as milestone_read
from charter.milestones import schemas as milestone_schemas
from charter.milestones import service as milestone_service
from charter.milestones.read import MILESTONE_EXPANDS
from charter.projects.routes import managed_project

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


READ_ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/milestones",
        MILESTONES,
        milestone_read.list_milestones,
        ids=(("project_id", "Project"),),
        name="list_milestones",
        summary="List the milestones of a project",
        tag="milestones",
        schema=milestone_schemas.MilestonePage,
    ),
    single_endpoint(
        "/api/v1/milestones/{milestone_id:str}",
        MILESTONE_EXPANDS,
        milestone_read.get_milestone,
        ids=(("milestone_id", "Milestone"),),
        name="get_milestone",
        summary="Get one milestone",
        tag="milestones",
        schema=milestone_schemas.MilestoneSingle,
    ),
]


create_milestone = create_endpoint(
    "/api/v1/projects/{project_id:str}/milestones",
    target=managed_project,
    allowed=milestone_service.MILESTONE_FIELDS,
    required=("name",),
    create=lambda conn, user, pid, body: milestone_service.create_milestone(
        conn, pid, user.id, body
    ),
    view=as_one(milestone_service.milestone_view),
    codes=(403, 404, 422),
    name="create_milestone",
    summary="Create a milestone (managers; Charter extension)",
    tag="milestones",
    schema=milestone_schemas.MilestoneSingle,
)


def _milestone(conn: Any, user: User, raw_id: str) -> int:
    """The milestone id, once `user` may manage its project."""
    milestone_id = path_id(raw_id, "Milestone")
    require_project(
        conn, user, milestone_service.milestone_row(conn, milestone_id)["project_id"], "manage"
    )
    return milestone_id


update_milestone = update_endpoint(
    "/api/v1/milestones/{milestone_id:str}",
    target=_milestone,
    lock=milestone_service.lock_milestone,
    allowed=milestone_service.MILESTONE_FIELDS,
    change=lambda conn, user, mid, body: milestone_service.update_milestone(
        conn, mid, user.id, body
    ),
    view=as_one(milestone_service.milestone_view),
    codes=(403, 404, 412, 422),
    name="update_milestone",
    summary="Edit or move a milestone (managers; If-Match; Charter extension)",
    tag="milestones",
    schema=milestone_schemas.MilestoneSingle,
)


delete_milestone = delete_endpoint(
    "/api/v1/milestones/{milestone_id:str}",
    target=_milestone,
    lock=milestone_service.lock_milestone,
    current=as_one(milestone_service.milestone_view),
    remove=lambda conn, _user, mid: milestone_service.delete_milestone(conn, mid),
    codes=(403, 404, 409, 412),
    name="delete_milestone",
    summary="Delete a milestone no session or child uses (managers; Charter extension)",
    tag="milestones",
)


def _transition(action: str, done: bool) -> Any:
    """POST /api/v1/milestones/{id}/complete or /reopen."""
    return action_endpoint(
        f"/api/v1/milestones/{{milestone_id:str}}/{action}",
        target=_milestone,
        change=lambda conn, user, mid: milestone_service.set_milestone_completed(
            conn, mid, user.id, done
        ),
        view=as_one(milestone_service.milestone_view),
        codes=(403, 404, 409),
        name=f"{action}_milestone",
        summary=f"{action.title()} a milestone (managers; Charter extension)",
        tag="milestones",
        schema=milestone_schemas.MilestoneSingle,
    )


ADMIN_ROUTES = [
    create_milestone,
    update_milestone,
    delete_milestone,
    _transition("complete", True),
    _transition("reopen", False),
]
