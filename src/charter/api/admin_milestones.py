"""Charter extension: milestone writes (create, edit, complete, reopen, delete).
The read routes live in api/milestones.py; both answer domain/admin_milestones'
Milestone object."""

from __future__ import annotations

from typing import Any

from charter.api import schemas
from charter.api.admin import as_one, managed_project
from charter.api.deps import path_id
from charter.api.write_endpoints import (
    action_endpoint,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from charter.domain import admin_milestones as am
from charter.domain.auth import User
from charter.domain.permissions import require_project

create_milestone = create_endpoint(
    "/api/v1/projects/{project_id:str}/milestones",
    target=managed_project,
    allowed=am.MILESTONE_FIELDS,
    required=("name",),
    create=lambda conn, user, pid, body: am.create_milestone(conn, pid, user.id, body),
    view=as_one(am.milestone_view),
    codes=(403, 404, 422),
    name="create_milestone",
    summary="Create a milestone (managers; Charter extension)",
    tag="milestones",
    schema=schemas.MilestoneSingle,
)


def _milestone(conn: Any, user: User, raw_id: str) -> int:
    """The milestone id, once `user` may manage its project."""
    milestone_id = path_id(raw_id, "Milestone")
    require_project(conn, user, am.milestone_row(conn, milestone_id)["project_id"], "manage")
    return milestone_id


update_milestone = update_endpoint(
    "/api/v1/milestones/{milestone_id:str}",
    target=_milestone,
    lock=am.lock_milestone,
    allowed=am.MILESTONE_FIELDS,
    change=lambda conn, user, mid, body: am.update_milestone(conn, mid, user.id, body),
    view=as_one(am.milestone_view),
    codes=(403, 404, 412, 422),
    name="update_milestone",
    summary="Edit or move a milestone (managers; If-Match; Charter extension)",
    tag="milestones",
    schema=schemas.MilestoneSingle,
)

delete_milestone = delete_endpoint(
    "/api/v1/milestones/{milestone_id:str}",
    target=_milestone,
    lock=am.lock_milestone,
    current=as_one(am.milestone_view),
    remove=lambda conn, _user, mid: am.delete_milestone(conn, mid),
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
        change=lambda conn, user, mid: am.set_milestone_completed(conn, mid, user.id, done),
        view=as_one(am.milestone_view),
        codes=(403, 404, 409),
        name=f"{action}_milestone",
        summary=f"{action.title()} a milestone (managers; Charter extension)",
        tag="milestones",
        schema=schemas.MilestoneSingle,
    )


ROUTES = [
    create_milestone,
    update_milestone,
    delete_milestone,
    _transition("complete", True),
    _transition("reopen", False),
]
