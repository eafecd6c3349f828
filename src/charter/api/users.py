"""Testmo namespaces: users (and the members of a project), roles and groups.

/users, /roles and /groups are for site admins only (403 for everyone else, checked
before any parameter); a project's members are visible to its members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from charter.api import docs, schemas
from charter.api.conventions import (
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
from charter.domain import user_views
from charter.domain.auth import User
from charter.domain.listing import ListQuery, Page
from charter.domain.permissions import require_admin
from charter.domain.user_views import GROUP_EXPANDS, ROLE_EXPANDS, USER_EXPANDS

_USER_SORTS = {"users:created_at": "created_at", "users:name": "name"}

PROJECT_USERS = ListSpec(noun="users", sorts=_USER_SORTS, default_sort="users:created_at")
USERS = ListSpec(
    noun="users", sorts=_USER_SORTS, default_sort="users:created_at", expands=USER_EXPANDS
)
ROLES = ListSpec(
    noun="roles",
    sorts={"roles:created_at": "created_at", "roles:name": "name"},
    default_sort="roles:created_at",
    expands=ROLE_EXPANDS,
)
GROUPS = ListSpec(
    noun="groups",
    sorts={"groups:created_at": "created_at", "groups:name": "name"},
    default_sort="groups:created_at",
    expands=GROUP_EXPANDS,
)


@get(
    "/api/v1/projects/{project_id:str}/users",
    operation_class=operation_with(list_parameters(PROJECT_USERS)),
    responses=docs.responses(schemas.ProjectUserPage, 403, 404, 422),
    summary="List the members of a project",
    tags=["users"],
)
async def list_project_users(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: User) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        query = parse_list(params, PROJECT_USERS)
        return list_envelope(user_views.list_project_users(conn, user, pid, query), query)

    return json_response(await read_as_user(request, work))


def _admin_list(
    spec: ListSpec, view: Callable[[Any, User, ListQuery], Page]
) -> Callable[[Request[Any, Any, Any]], Awaitable[Response[bytes]]]:
    """The handler body of an admin-only list: 403 first, then the parameters."""

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        params = query_params(request)

        def work(conn: Any, user: User) -> dict[str, Any]:
            require_admin(user)
            query = parse_list(params, spec)
            return list_envelope(view(conn, user, query), query)

        return json_response(await read_as_user(request, work))

    return handler


def _admin_single(
    what: str, expands: tuple[str, ...], view: Callable[[Any, User, int, frozenset[str]], Page]
) -> Callable[[Request[Any, Any, Any], str], Awaitable[Response[bytes]]]:
    """The handler body of an admin-only single object: 403 first, then 404 / 422."""

    async def handler(request: Request[Any, Any, Any], raw_id: str) -> Response[bytes]:
        params = query_params(request)

        def work(conn: Any, user: User) -> dict[str, Any]:
            require_admin(user)
            object_id = path_id(raw_id, what)
            wanted = parse_expands(params.get("expands"), expands)
            return single_envelope(view(conn, user, object_id, wanted))

        return json_response(await read_as_user(request, work))

    return handler


_list_users = _admin_list(USERS, user_views.list_users)
_get_user = _admin_single("User", USER_EXPANDS, user_views.get_user)
_list_roles = _admin_list(ROLES, user_views.list_roles)
_get_role = _admin_single("Role", ROLE_EXPANDS, user_views.get_role)
_list_groups = _admin_list(GROUPS, user_views.list_groups)
_get_group = _admin_single("Group", GROUP_EXPANDS, user_views.get_group)


@get(
    "/api/v1/users",
    operation_class=operation_with(list_parameters(USERS)),
    responses=docs.responses(schemas.UserPage, 403, 422),
    summary="List all users (site admins only)",
    tags=["users"],
)
async def list_users(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _list_users(request)


@get(
    "/api/v1/users/{user_id:str}",
    operation_class=operation_with(expand_parameters(USER_EXPANDS)),
    responses=docs.responses(schemas.UserSingle, 403, 404, 422),
    summary="Get one user (site admins only)",
    tags=["users"],
)
async def get_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[bytes]:
    return await _get_user(request, user_id)


@get(
    "/api/v1/roles",
    operation_class=operation_with(list_parameters(ROLES)),
    responses=docs.responses(schemas.RolePage, 403, 422),
    summary="List all roles (site admins only)",
    tags=["roles"],
)
async def list_roles(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _list_roles(request)


@get(
    "/api/v1/roles/{role_id:str}",
    operation_class=operation_with(expand_parameters(ROLE_EXPANDS)),
    responses=docs.responses(schemas.RoleSingle, 403, 404, 422),
    summary="Get one role (site admins only)",
    tags=["roles"],
)
async def get_role(request: Request[Any, Any, Any], role_id: FromPath[str]) -> Response[bytes]:
    return await _get_role(request, role_id)


@get(
    "/api/v1/groups",
    operation_class=operation_with(list_parameters(GROUPS)),
    responses=docs.responses(schemas.GroupPage, 403, 422),
    summary="List all groups (site admins only)",
    tags=["groups"],
)
async def list_groups(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _list_groups(request)


@get(
    "/api/v1/groups/{group_id:str}",
    operation_class=operation_with(expand_parameters(GROUP_EXPANDS)),
    responses=docs.responses(schemas.GroupSingle, 403, 404, 422),
    summary="Get one group (site admins only)",
    tags=["groups"],
)
async def get_group(request: Request[Any, Any, Any], group_id: FromPath[str]) -> Response[bytes]:
    return await _get_group(request, group_id)


ROUTES = [list_project_users, list_users, get_user, list_roles, get_role, list_groups, get_group]
