"""Testmo namespace: milestones."""

from __future__ import annotations

from charter.api import schemas
from charter.api.conventions import (
    FilterSpec,
    ListSpec,
)
from charter.api.endpoints import list_endpoint, single_endpoint
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


ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/milestones",
        MILESTONES,
        milestone_views.list_milestones,
        ids=(("project_id", "Project"),),
        name="list_milestones",
        summary="List the milestones of a project",
        tag="milestones",
        schema=schemas.MilestonePage,
    ),
    single_endpoint(
        "/api/v1/milestones/{milestone_id:str}",
        MILESTONE_EXPANDS,
        milestone_views.get_milestone,
        ids=(("milestone_id", "Milestone"),),
        name="get_milestone",
        summary="Get one milestone",
        tag="milestones",
        schema=schemas.MilestoneSingle,
    ),
]
