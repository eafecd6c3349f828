"""Testmo namespaces: users (and the members of a project), roles and groups.

/users, /roles and /groups are for site admins only (403 for everyone else, checked
before any parameter); a project's members are visible to its members."""

from __future__ import annotations

from charter.api import schemas
from charter.api.conventions import ListSpec
from charter.api.endpoints import list_endpoint, single_endpoint
from charter.domain import user_views
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


PROJECT = (("project_id", "Project"),)

ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/users",
        PROJECT_USERS,
        user_views.list_project_users,
        ids=PROJECT,
        name="list_project_users",
        summary="List the members of a project",
        tag="users",
        schema=schemas.ProjectUserPage,
    ),
    list_endpoint(
        "/api/v1/users",
        USERS,
        user_views.list_users,
        admin_only=True,
        name="list_users",
        summary="List all users (site admins only)",
        tag="users",
        schema=schemas.UserPage,
    ),
    single_endpoint(
        "/api/v1/users/{user_id:str}",
        USER_EXPANDS,
        user_views.get_user,
        ids=(("user_id", "User"),),
        admin_only=True,
        name="get_user",
        summary="Get one user (site admins only)",
        tag="users",
        schema=schemas.UserSingle,
    ),
    list_endpoint(
        "/api/v1/roles",
        ROLES,
        user_views.list_roles,
        admin_only=True,
        name="list_roles",
        summary="List all roles (site admins only)",
        tag="roles",
        schema=schemas.RolePage,
    ),
    single_endpoint(
        "/api/v1/roles/{role_id:str}",
        ROLE_EXPANDS,
        user_views.get_role,
        ids=(("role_id", "Role"),),
        admin_only=True,
        name="get_role",
        summary="Get one role (site admins only)",
        tag="roles",
        schema=schemas.RoleSingle,
    ),
    list_endpoint(
        "/api/v1/groups",
        GROUPS,
        user_views.list_groups,
        admin_only=True,
        name="list_groups",
        summary="List all groups (site admins only)",
        tag="groups",
        schema=schemas.GroupPage,
    ),
    single_endpoint(
        "/api/v1/groups/{group_id:str}",
        GROUP_EXPANDS,
        user_views.get_group,
        ids=(("group_id", "Group"),),
        admin_only=True,
        name="get_group",
        summary="Get one group (site admins only)",
        tag="groups",
        schema=schemas.GroupSingle,
    ),
]
