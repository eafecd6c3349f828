"""Charter extension: milestone writes (create, edit, complete, reopen, delete).
The read routes live in api/milestones.py; both answer domain/admin_milestones'
Milestone object."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, patch, post
from litestar.params import FromPath

from charter.api import docs, schemas
from charter.api.admin import body_of, one
from charter.api.deps import path_id
from charter.api.writes import Outcome, check_if_match, write_as_user
from charter.domain import admin_milestones as am
from charter.domain.auth import User
from charter.domain.permissions import require_project


@post(
    "/api/v1/projects/{project_id:str}/milestones",
    operation_class=docs.with_body(docs.body(am.MILESTONE_FIELDS, ("name",))),
    status_code=201,
    responses=docs.write_responses(schemas.MilestoneSingle, 201, 403, 404, 422),
    summary="Create a milestone (managers; Charter extension)",
    tags=["milestones"],
)
async def create_milestone(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "manage")
        body = body_of(request, raw, am.MILESTONE_FIELDS)
        milestone_id = am.create_milestone(conn, pid, user.id, body)
        return 201, one(am.milestone_view(conn, milestone_id))

    return await write_as_user(request, work)


def _milestone(conn: Any, user: User, raw_id: str) -> int:
    """The milestone id, once `user` may manage its project."""
    milestone_id = path_id(raw_id, "Milestone")
    require_project(conn, user, am.milestone_row(conn, milestone_id)["project_id"], "manage")
    return milestone_id


@patch(
    "/api/v1/milestones/{milestone_id:str}",
    operation_class=docs.with_body(docs.body(am.MILESTONE_FIELDS)),
    responses=docs.write_responses(schemas.MilestoneSingle, 200, 403, 404, 412, 422),
    summary="Edit or move a milestone (managers; If-Match; Charter extension)",
    tags=["milestones"],
)
async def update_milestone(
    request: Request[Any, Any, Any], milestone_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        mid = _milestone(conn, user, milestone_id)
        body = body_of(request, raw, am.MILESTONE_FIELDS)
        check_if_match(request, one(am.milestone_view(conn, mid)))
        am.update_milestone(conn, mid, user.id, body)
        return 200, one(am.milestone_view(conn, mid))

    return await write_as_user(request, work)


@delete(
    "/api/v1/milestones/{milestone_id:str}",
    status_code=204,
    responses=docs.write_responses(None, 204, 403, 404, 409, 412),
    summary="Delete a milestone no session or child uses (managers; Charter extension)",
    tags=["milestones"],
)
async def delete_milestone(
    request: Request[Any, Any, Any], milestone_id: FromPath[str]
) -> Response[None]:
    def work(conn: Any, user: User) -> Outcome:
        mid = _milestone(conn, user, milestone_id)
        check_if_match(request, one(am.milestone_view(conn, mid)))
        am.delete_milestone(conn, mid)
        return 204, None

    return await write_as_user(request, work)


def _transition(action: str, done: bool) -> Any:
    """POST /api/v1/milestones/{id}/complete or /reopen."""

    async def handler(
        request: Request[Any, Any, Any], milestone_id: FromPath[str]
    ) -> Response[bytes]:
        def work(conn: Any, user: User) -> Outcome:
            mid = _milestone(conn, user, milestone_id)
            am.set_milestone_completed(conn, mid, user.id, done)
            return 200, one(am.milestone_view(conn, mid))

        return await write_as_user(request, work)

    handler.__name__ = f"{action}_milestone"
    return post(
        f"/api/v1/milestones/{{milestone_id:str}}/{action}",
        status_code=200,
        responses=docs.write_responses(schemas.MilestoneSingle, 200, 403, 404, 409),
        summary=f"{action.title()} a milestone (managers; Charter extension)",
        tags=["milestones"],
        name=f"{action}_milestone",
    )(handler)


ROUTES = [
    create_milestone,
    update_milestone,
    delete_milestone,
    _transition("complete", True),
    _transition("reopen", False),
]
