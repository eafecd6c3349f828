"""Charter extension: project administration (projects, members and roles,
configurations). Permissions are checked once per route with domain/permissions.py."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from litestar import Request, Response, get, put
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.api import docs, schemas
from charter.api.conventions import (
    ListSpec,
    json_response,
    list_envelope,
    list_parameters,
    operation_with,
    parse_list,
)
from charter.api.deps import path_id, query_params, read_as_user
from charter.api.write_endpoints import (
    View,
    action_endpoint,
    admin_only,
    create_endpoint,
    delete_endpoint,
    project_target,
    update_endpoint,
)
from charter.api.writes import Outcome, check_if_match, fields, parse_json, write_as_user
from charter.db.locks import row_lock
from charter.db.tables import ROLE_NAMES, configs, projects
from charter.domain import admin_projects as ap
from charter.domain.auth import User
from charter.domain.errors import NotFound
from charter.domain.listing import Page
from charter.domain.permissions import Action, require_project


def one(item: dict[str, Any]) -> dict[str, Any]:
    """A single object's envelope (no expands on administration objects)."""
    return {"result": item, "expands": {}}


def as_one(view: Callable[[Any, int], dict[str, Any]]) -> View:
    """`view(conn, id)` as a write endpoint's view: the object in its envelope."""
    return lambda conn, _user, key: one(view(conn, key))


def body_of(
    request: Request[Any, Any, Any], raw: bytes, allowed: Collection[str]
) -> dict[str, Any]:
    """The JSON body: 400 if malformed, 422 naming an unknown field."""
    return fields(parse_json(request, raw), allowed)


async def read_one(
    request: Request[Any, Any, Any], work: Callable[[Any, User], dict[str, Any]]
) -> Response[bytes]:
    return json_response(await read_as_user(request, lambda conn, user: one(work(conn, user))))


async def read_page(
    request: Request[Any, Any, Any], spec: ListSpec, work: Callable[[Any, User, Any], Page]
) -> Response[bytes]:
    params = query_params(request)

    def job(conn: Any, user: User) -> dict[str, Any]:
        query = parse_list(params, spec)
        return list_envelope(work(conn, user, query), query)

    return json_response(await read_as_user(request, job))


# --- projects ----------------------------------------------------------------------


managed_project = project_target("manage")

create_project = create_endpoint(
    "/api/v1/projects",
    target=admin_only,
    allowed=ap.PROJECT_FIELDS,
    required=("name",),
    create=lambda conn, user, _parent, body: ap.create_project(conn, user, body),
    view=as_one(ap.project_written),
    codes=(403, 422),
    name="create_project",
    summary="Create a project; its creator becomes a manager (site admins; Charter extension)",
    tag="administration",
    schema=schemas.ProjectWritten,
)

update_project = update_endpoint(
    "/api/v1/projects/{project_id:str}",
    target=managed_project,
    lock=row_lock(projects),
    allowed=ap.PROJECT_FIELDS,
    current=as_one(ap.project_view),
    change=lambda conn, user, pid, body: ap.update_project(conn, pid, user.id, body),
    view=as_one(ap.project_written),
    codes=(403, 404, 412, 422),
    name="update_project",
    summary="Rename a project or edit its note (managers; If-Match; Charter extension)",
    tag="administration",
    schema=schemas.ProjectWritten,
)


def _project_transition(action: str, done: bool) -> Any:
    """POST /api/v1/projects/{id}/complete or /reopen."""
    return action_endpoint(
        f"/api/v1/projects/{{project_id:str}}/{action}",
        target=managed_project,
        change=lambda conn, user, pid: ap.set_project_completed(conn, pid, user.id, done),
        view=as_one(ap.project_written),
        codes=(403, 404, 409),
        name=f"{action}_project",
        summary=f"{action.title()} a project (managers; Charter extension)",
        tag="administration",
        schema=schemas.ProjectWritten,
    )


# --- members -----------------------------------------------------------------------

MEMBERS = ListSpec(
    noun="members",
    sorts={"members:name": "name", "members:user_id": "id"},
    default_sort="members:name",
)


@get(
    "/api/v1/projects/{project_id:str}/members",
    operation_class=operation_with(list_parameters(MEMBERS)),
    responses=docs.responses(schemas.MemberPage, 403, 404, 422),
    summary="List the members of a project and their roles (Charter extension)",
    tags=["administration"],
)
async def list_members(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    def work(conn: Any, user: User, query: Any) -> Page:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "read")
        return ap.list_members(conn, pid, query)

    return await read_page(request, MEMBERS, work)


@get(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    operation_class=operation_with([]),
    responses=docs.responses(schemas.MemberSingle, 403, 404),
    summary="One member of a project (Charter extension)",
    tags=["administration"],
)
async def get_member(
    request: Request[Any, Any, Any], project_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    def work(conn: Any, user: User) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "read")
        return ap.member_view(conn, pid, path_id(user_id, "User"))

    return await read_one(request, work)


MEMBER_BODY = docs.body(
    ap.MEMBER_FIELDS,
    ("role",),
    types={"role": Schema(type=OpenAPIType.STRING, enum=list(ROLE_NAMES))},
)


# Not update_endpoint: PUT adds (201) or changes (200), and If-Match on a non-member is 412.
@put(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    operation_class=docs.with_body(MEMBER_BODY),
    responses=docs.write_responses(schemas.MemberSingle, 200, 403, 404, 409, 412, 422, also=[201]),
    summary=(
        "Add a member (201) or change their role (200) (managers; If-Match; Charter extension)"
    ),
    tags=["administration"],
)
async def set_member(
    request: Request[Any, Any, Any], project_id: FromPath[str], user_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "manage")
        uid = path_id(user_id, "User")
        body = body_of(request, raw, ap.MEMBER_FIELDS)
        lock_project(conn, pid)  # before If-Match reads the member (as remove_member)
        if request.headers.get("if-match") is not None:
            try:
                current: Any = one(ap.member_view(conn, pid, uid))
            except NotFound:
                current = None  # If-Match on someone who is not a member: 412
            check_if_match(request, current)
        added = ap.set_member_role(conn, pid, uid, body, actor=user)
        return (201 if added else 200), one(ap.member_view(conn, pid, uid))

    return await write_as_user(request, work)


lock_project = row_lock(projects)


def _member(conn: Any, user: User, raw_pid: str, raw_uid: str) -> tuple[int, int]:
    """(project id, user id), once `user` may manage the project."""
    return managed_project(conn, user, raw_pid), path_id(raw_uid, "User")


remove_member = delete_endpoint(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    target=_member,
    lock=lambda conn, key: lock_project(conn, key[0]),  # as the last-manager rule
    current=lambda conn, _user, key: one(ap.member_view(conn, *key)),
    remove=lambda conn, _user, key: ap.remove_member(conn, *key),
    codes=(403, 404, 409, 412),
    name="remove_member",
    summary="Remove a member; never the last manager (managers; Charter extension)",
    tag="administration",
)


# --- configurations ----------------------------------------------------------------

CONFIGS = ListSpec(
    noun="configs",
    sorts={"configs:created_at": "created_at", "configs:name": "name"},
    default_sort="configs:created_at",
)


@get(
    "/api/v1/projects/{project_id:str}/configs",
    operation_class=operation_with(list_parameters(CONFIGS)),
    responses=docs.responses(schemas.ConfigPage, 403, 404, 422),
    summary="List the configurations of a project (Charter extension)",
    tags=["administration"],
)
async def list_configs(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    def work(conn: Any, user: User, query: Any) -> Page:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "read")
        return ap.list_configs(conn, pid, query)

    return await read_page(request, CONFIGS, work)


create_config = create_endpoint(
    "/api/v1/projects/{project_id:str}/configs",
    target=managed_project,
    allowed=ap.CONFIG_FIELDS,
    required=("name",),
    create=lambda conn, _user, pid, body: ap.create_config(conn, pid, body),
    view=as_one(ap.config_view),
    codes=(403, 404, 422),
    name="create_config",
    summary="Create a configuration (managers; Charter extension)",
    tag="administration",
    schema=schemas.ConfigSingle,
)


def _config(conn: Any, user: User, raw_id: str, action: Action) -> int:
    """The configuration id, once `user` may do `action` in its project."""
    config_id = path_id(raw_id, "Configuration")
    require_project(conn, user, ap.config_row(conn, config_id)["project_id"], action)
    return config_id


@get(
    "/api/v1/configs/{config_id:str}",
    operation_class=operation_with([]),
    responses=docs.responses(schemas.ConfigSingle, 403, 404),
    summary="One configuration (Charter extension)",
    tags=["administration"],
)
async def get_config(request: Request[Any, Any, Any], config_id: FromPath[str]) -> Response[bytes]:
    return await read_one(
        request, lambda conn, user: ap.config_view(conn, _config(conn, user, config_id, "read"))
    )


def _managed_config(conn: Any, user: User, raw_id: str) -> int:
    """The target of the configuration writes."""
    return _config(conn, user, raw_id, "manage")


update_config = update_endpoint(
    "/api/v1/configs/{config_id:str}",
    target=_managed_config,
    lock=row_lock(configs),
    allowed=ap.CONFIG_FIELDS,
    change=lambda conn, _user, cid, body: ap.update_config(conn, cid, body),
    view=as_one(ap.config_view),
    codes=(403, 404, 412, 422),
    name="update_config",
    summary="Rename a configuration (managers; If-Match; Charter extension)",
    tag="administration",
    schema=schemas.ConfigSingle,
)

delete_config = delete_endpoint(
    "/api/v1/configs/{config_id:str}",
    target=_managed_config,
    lock=row_lock(configs),
    current=as_one(ap.config_view),
    remove=lambda conn, _user, cid: ap.delete_config(conn, cid),
    codes=(403, 404, 409, 412),
    name="delete_config",
    summary="Delete a configuration no session uses (managers; Charter extension)",
    tag="administration",
)


ROUTES = [
    create_project,
    update_project,
    _project_transition("complete", True),
    _project_transition("reopen", False),
    list_members,
    get_member,
    set_member,
    remove_member,
    list_configs,
    create_config,
    get_config,
    update_config,
    delete_config,
]
