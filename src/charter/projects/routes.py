"""Charter extension: project administration (projects, members and roles,
configurations). Permissions are checked once per route with auth/permissions.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, put
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db.locks import row_lock
from charter.db.tables import ROLE_NAMES, configs, projects
from charter.http import docs
from charter.http.conventions import (
    FilterSpec,
    ListSpec,
    json_response,
)
from charter.http.deps import path_id, read_as_user
from charter.http.read_routes import (
    as_one,
    body_of,
    list_endpoint,
    one,
    single_endpoint,
)
from charter.http.write_routes import (
    action_endpoint,
    admin_only,
    create_endpoint,
    delete_endpoint,
    project_target,
    update_endpoint,
)
from charter.http.writes import Outcome, check_if_match, write_as_user
from charter.projects import read as project_read
from charter.projects import schemas as project_schemas
from charter.projects import service as project_service
from charter.projects.read import PROJECT_EXPANDS
from charter.users import schemas as user_schemas

managed_project = project_target("manage")


PROJECT = (("project_id", "Project"),)


create_project = create_endpoint(
    "/api/v1/projects",
    target=admin_only,
    allowed=project_service.PROJECT_FIELDS,
    required=("name",),
    create=lambda conn, user, _parent, body: project_service.create_project(conn, user, body),
    view=as_one(project_service.project_written),
    codes=(403, 422),
    name="create_project",
    summary="Create a project; its creator becomes a manager (site admins; Charter extension)",
    tag="administration",
    schema=project_schemas.ProjectWritten,
)


update_project = update_endpoint(
    "/api/v1/projects/{project_id:str}",
    target=managed_project,
    lock=row_lock(projects),
    allowed=project_service.PROJECT_FIELDS,
    current=as_one(project_service.project_view),
    change=lambda conn, user, pid, body: project_service.update_project(conn, pid, user.id, body),
    view=as_one(project_service.project_written),
    codes=(403, 404, 412, 422),
    name="update_project",
    summary="Rename a project or edit its note (managers; If-Match; Charter extension)",
    tag="administration",
    schema=project_schemas.ProjectWritten,
)


def _project_transition(action: str, done: bool) -> Any:
    """POST /api/v1/projects/{id}/complete or /reopen."""
    return action_endpoint(
        f"/api/v1/projects/{{project_id:str}}/{action}",
        target=managed_project,
        change=lambda conn, user, pid: project_service.set_project_completed(
            conn, pid, user.id, done
        ),
        view=as_one(project_service.project_written),
        codes=(403, 404, 409),
        name=f"{action}_project",
        summary=f"{action.title()} a project (managers; Charter extension)",
        tag="administration",
        schema=project_schemas.ProjectWritten,
    )


MEMBERS = ListSpec(
    noun="members",
    sorts={"members:name": "name", "members:user_id": "id"},
    default_sort="members:name",
)


def _members(conn: Any, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    return project_service.list_members(conn, project_id, query)


def _member_of(conn: Any, user: User, project_id: int, raw_user_id: str) -> dict[str, Any]:
    """The member, once `user` may read the project (then the user id is parsed)."""
    require_project(conn, user, project_id, "read")
    return project_service.member_view(conn, project_id, path_id(raw_user_id, "User"))


# params_first, codes: the order of checks and the documented statuses these
# routes had before they were declared with the factories.
list_members = list_endpoint(
    "/api/v1/projects/{project_id:str}/members",
    MEMBERS,
    _members,
    ids=PROJECT,
    params_first=True,
    name="list_members",
    summary="List the members of a project and their roles (Charter extension)",
    tag="administration",
    schema=project_schemas.MemberPage,
)


get_member = single_endpoint(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    None,
    _member_of,
    ids=(*PROJECT, ("user_id", None)),
    codes=(403, 404),
    name="get_member",
    summary="One member of a project (Charter extension)",
    tag="administration",
    schema=project_schemas.MemberSingle,
)


MEMBER_BODY = docs.body(
    project_service.MEMBER_FIELDS,
    ("role",),
    types={"role": Schema(type=OpenAPIType.STRING, enum=list(ROLE_NAMES))},
)


# Not update_endpoint: PUT adds (201) or changes (200), and If-Match on a non-member is 412.
@put(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    operation_class=docs.with_body(MEMBER_BODY),
    responses=docs.write_responses(
        project_schemas.MemberSingle, 200, 403, 404, 409, 412, 422, also=[201]
    ),
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
        body = body_of(request, raw, project_service.MEMBER_FIELDS)
        # Before If-Match reads the member, as remove_member and the last-manager rule.
        project_service.lock_members(conn, pid)
        if request.headers.get("if-match") is not None:
            try:
                current: Any = one(project_service.member_view(conn, pid, uid))
            except NotFound:
                current = None  # If-Match on someone who is not a member: 412
            check_if_match(request, current)
        added = project_service.set_member_role(conn, pid, uid, body, actor=user)
        return (201 if added else 200), one(project_service.member_view(conn, pid, uid))

    return await write_as_user(request, work)


def _member(conn: Any, user: User, raw_pid: str, raw_uid: str) -> tuple[int, int]:
    """(project id, user id), once `user` may manage the project."""
    return managed_project(conn, user, raw_pid), path_id(raw_uid, "User")


remove_member = delete_endpoint(
    "/api/v1/projects/{project_id:str}/members/{user_id:str}",
    target=_member,
    lock=lambda conn, key: project_service.lock_members(conn, key[0]),  # as the last-manager rule
    current=lambda conn, _user, key: one(project_service.member_view(conn, *key)),
    remove=lambda conn, _user, key: project_service.remove_member(conn, *key),
    codes=(403, 404, 409, 412),
    name="remove_member",
    summary="Remove a member; never the last manager (managers; Charter extension)",
    tag="administration",
)


CONFIGS = ListSpec(
    noun="configs",
    sorts={"configs:created_at": "created_at", "configs:name": "name"},
    default_sort="configs:created_at",
)


def _configs(conn: Any, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    return project_service.list_configs(conn, project_id, query)


list_configs = list_endpoint(
    "/api/v1/projects/{project_id:str}/configs",
    CONFIGS,
    _configs,
    ids=PROJECT,
    params_first=True,
    name="list_configs",
    summary="List the configurations of a project (Charter extension)",
    tag="administration",
    schema=project_schemas.ConfigPage,
)


create_config = create_endpoint(
    "/api/v1/projects/{project_id:str}/configs",
    target=managed_project,
    allowed=project_service.CONFIG_FIELDS,
    required=("name",),
    create=lambda conn, _user, pid, body: project_service.create_config(conn, pid, body),
    view=as_one(project_service.config_view),
    codes=(403, 404, 422),
    name="create_config",
    summary="Create a configuration (managers; Charter extension)",
    tag="administration",
    schema=project_schemas.ConfigSingle,
)


def _config(conn: Any, user: User, raw_id: str, action: Action) -> int:
    """The configuration id, once `user` may do `action` in its project."""
    config_id = path_id(raw_id, "Configuration")
    require_project(conn, user, project_service.config_row(conn, config_id)["project_id"], action)
    return config_id


get_config = single_endpoint(
    "/api/v1/configs/{config_id:str}",
    None,
    lambda conn, user, raw_id: project_service.config_view(
        conn, _config(conn, user, raw_id, "read")
    ),
    ids=(("config_id", None),),
    codes=(403, 404),
    name="get_config",
    summary="One configuration (Charter extension)",
    tag="administration",
    schema=project_schemas.ConfigSingle,
)


def _managed_config(conn: Any, user: User, raw_id: str) -> int:
    """The target of the configuration writes."""
    return _config(conn, user, raw_id, "manage")


update_config = update_endpoint(
    "/api/v1/configs/{config_id:str}",
    target=_managed_config,
    lock=row_lock(configs),
    allowed=project_service.CONFIG_FIELDS,
    change=lambda conn, _user, cid, body: project_service.update_config(conn, cid, body),
    view=as_one(project_service.config_view),
    codes=(403, 404, 412, 422),
    name="update_config",
    summary="Rename a configuration (managers; If-Match; Charter extension)",
    tag="administration",
    schema=project_schemas.ConfigSingle,
)


delete_config = delete_endpoint(
    "/api/v1/configs/{config_id:str}",
    target=_managed_config,
    lock=row_lock(configs),
    current=as_one(project_service.config_view),
    remove=lambda conn, _user, cid: project_service.delete_config(conn, cid),
    codes=(403, 404, 409, 412),
    name="delete_config",
    summary="Delete a configuration no session uses (managers; Charter extension)",
    tag="administration",
)


ADMIN_ROUTES = [
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


PROJECTS = ListSpec(
    noun="projects",
    # projects:completed_at is Testmo's; projects:name is a Charter extension.
    sorts={
        "projects:created_at": "created_at",
        "projects:completed_at": "completed_at",
        "projects:name": "name",
    },
    default_sort="projects:created_at",
    filters=(
        FilterSpec("is_completed", "bool", "is_completed", "Active (0) or completed (1) only."),
    ),
    expands=PROJECT_EXPANDS,
)


@get(
    "/api/v1/user",
    responses=docs.responses(user_schemas.CurrentUser),
    summary="The user the API token belongs to (a bare object)",
    tags=["user"],
)
async def current_user(request: Request[Any, Any, Any]) -> Response[bytes]:
    # Authentication is the only statement: no transaction around it.
    return json_response(
        await read_as_user(request, lambda _conn, user: project_read.current_user(user), False)
    )


READ_ROUTES = [
    list_endpoint(
        "/api/v1/projects",
        PROJECTS,
        project_read.list_projects,
        name="list_projects",
        summary="List the projects the user can see",
        tag="projects",
        schema=project_schemas.ProjectPage,
    ),
    single_endpoint(
        "/api/v1/projects/{project_id:str}",
        PROJECT_EXPANDS,
        project_read.get_project,
        ids=(("project_id", "Project"),),
        name="get_project",
        summary="Get one project",
        tag="projects",
        schema=project_schemas.ProjectSingle,
    ),
    current_user,
]
