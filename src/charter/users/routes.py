"""Testmo namespaces: users (and the members of a project), roles and groups.

/users, /roles and /groups are for site admins only (403 for everyone else, checked
before any parameter); a project's members are visible to its members."""

from __future__ import annotations

from typing import Any

from charter.auth import service as auth
from charter.auth.service import User
from charter.core import inputs
from charter.db.locks import row_lock
from charter.db.tables import api_tokens, users
from charter.http.conventions import (
    ListSpec,
    single_envelope,
)
from charter.http.deps import path_id
from charter.http.read_routes import list_endpoint, single_endpoint
from charter.http.write_routes import (
    admin_item,
    admin_only,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from charter.users import read as user_read
from charter.users import schemas as user_schemas
from charter.users import service as user_service
from charter.users.read import GROUP_EXPANDS, ROLE_EXPANDS, USER_EXPANDS

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


READ_ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/users",
        PROJECT_USERS,
        user_read.list_project_users,
        ids=PROJECT,
        name="list_project_users",
        summary="List the members of a project",
        tag="users",
        schema=user_schemas.ProjectUserPage,
    ),
    *(
        route
        for plural, singular, spec, expands, listing, single, page_schema, one_schema in (
            (
                "users",
                "user",
                USERS,
                USER_EXPANDS,
                user_read.list_users,
                user_read.get_user,
                user_schemas.UserPage,
                user_schemas.UserSingle,
            ),
            (
                "roles",
                "role",
                ROLES,
                ROLE_EXPANDS,
                user_read.list_roles,
                user_read.get_role,
                user_schemas.RolePage,
                user_schemas.RoleSingle,
            ),
            (
                "groups",
                "group",
                GROUPS,
                GROUP_EXPANDS,
                user_read.list_groups,
                user_read.get_group,
                user_schemas.GroupPage,
                user_schemas.GroupSingle,
            ),
        )
        for route in (
            list_endpoint(
                f"/api/v1/{plural}",
                spec,
                listing,
                admin_only=True,
                name=f"list_{plural}",
                summary=f"List all {plural} (site admins only)",
                tag=plural,
                schema=page_schema,
            ),
            single_endpoint(
                f"/api/v1/{plural}/{{{singular}_id:str}}",
                expands,
                single,
                ids=((f"{singular}_id", singular.title()),),
                admin_only=True,
                name=f"get_{singular}",
                summary=f"Get one {singular} (site admins only)",
                tag=plural,
                schema=one_schema,
            ),
        )
    ),
]


TOKENS = ListSpec(
    noun="tokens",
    sorts={"tokens:created_at": "created_at", "tokens:last_used_at": "last_used_at"},
    default_sort="tokens:created_at",
)


def _managed_user(conn: Any, user: User, user_id: int) -> dict[str, Any]:
    """The user as the user writes answer (the GET shape plus `is_admin`)."""
    return single_envelope(user_service.user_result(conn, user, user_id))


create_user = create_endpoint(
    "/api/v1/users",
    target=admin_only,
    allowed=user_service.USER_CREATE_FIELDS,
    required=("name", "email"),
    create=lambda conn, user, _parent, body: user_service.create_user(conn, user, body),
    view=_managed_user,
    codes=(403, 409, 422),
    name="create_user",
    summary="Create a user (Charter extension; site admins)",
    tag="users",
    schema=user_schemas.ManagedUserSingle,
)


update_user = update_endpoint(
    "/api/v1/users/{user_id:str}",
    target=admin_item("User"),
    lock=row_lock(users),
    allowed=user_service.USER_UPDATE_FIELDS,
    current=user_service.user_representation,
    change=user_service.update_user,
    view=_managed_user,
    codes=(403, 404, 409, 412, 422),
    name="update_user",
    summary="Update a user: name, email, admin, active, default role (Charter extension; "
    "site admins; If-Match supported)",
    tag="users",
    schema=user_schemas.ManagedUserSingle,
)


list_tokens = list_endpoint(
    "/api/v1/tokens",
    TOKENS,
    user_service.list_tokens,
    name="list_tokens",
    summary="List your own API tokens, revoked ones included (never the secrets)",
    tag="tokens",
    schema=user_schemas.ApiTokenPage,
)


def _create_token(conn: Any, user: User, _parent: None, body: dict[str, Any]) -> tuple[int, str]:
    return auth.create_token_for_user(conn, user.id, inputs.required(body, "name"))


create_token = create_endpoint(
    "/api/v1/tokens",
    target=lambda _conn, _user: None,  # anyone, for themselves
    allowed=user_service.TOKEN_CREATE_FIELDS,
    required=("name",),
    create=_create_token,
    view=lambda conn, _user, key: single_envelope(user_service.new_token(conn, *key)),
    codes=(422,),
    name="create_token",
    summary="Create an API token for yourself; the secret (`token`) is shown only here",
    tag="tokens",
    schema=user_schemas.NewApiTokenSingle,
)


revoke_token = delete_endpoint(
    "/api/v1/tokens/{token_id:str}",
    target=lambda _conn, _user, raw_id: path_id(raw_id, "Token"),
    lock=row_lock(api_tokens),
    remove=lambda conn, user, token_id: auth.revoke_own_token(conn, user.id, token_id),
    codes=(404,),
    name="revoke_token",
    summary="Revoke one of your own API tokens (it fails at once)",
    tag="tokens",
)


ACCOUNT_ROUTES = [create_user, update_user, list_tokens, create_token, revoke_token]
