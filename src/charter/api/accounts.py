"""Charter extensions: users administration (site admins) and personal API tokens.

The Testmo-compatible reads of users (GET /api/v1/users, /users/{id}) live in
api/users.py; this module only writes users, and manages the caller's own tokens.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from charter.api import docs, schemas
from charter.api.conventions import (
    ListSpec,
    json_response,
    list_envelope,
    list_parameters,
    operation_with,
    parse_list,
    single_envelope,
)
from charter.api.deps import path_id, query_params, read_as_user
from charter.api.write_endpoints import (
    admin_item,
    admin_only,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from charter.db.locks import row_lock
from charter.db.tables import api_tokens, users
from charter.domain import accounts, auth
from charter.domain.auth import User
from charter.domain.errors import Invalid

TOKENS = ListSpec(
    noun="tokens",
    sorts={"tokens:created_at": "created_at", "tokens:last_used_at": "last_used_at"},
    default_sort="tokens:created_at",
)


# --- users (site admins only) ---------------------------------------------------------


def _managed_user(conn: Any, user: User, user_id: int) -> dict[str, Any]:
    """The user as the user writes answer (the GET shape plus `is_admin`)."""
    return single_envelope(accounts.user_result(conn, user, user_id))


create_user = create_endpoint(
    "/api/v1/users",
    target=admin_only,
    allowed=accounts.USER_CREATE_FIELDS,
    required=("name", "email"),
    create=lambda conn, user, _parent, body: accounts.create_user(conn, user, body),
    view=_managed_user,
    codes=(403, 409, 422),
    name="create_user",
    summary="Create a user (Charter extension; site admins)",
    tag="users",
    schema=schemas.ManagedUserSingle,
)

update_user = update_endpoint(
    "/api/v1/users/{user_id:str}",
    target=admin_item("User"),
    lock=row_lock(users),
    allowed=accounts.USER_UPDATE_FIELDS,
    current=accounts.user_representation,
    change=accounts.update_user,
    view=_managed_user,
    codes=(403, 404, 409, 412, 422),
    name="update_user",
    summary="Update a user: name, email, admin, active, default role (Charter extension; "
    "site admins; If-Match supported)",
    tag="users",
    schema=schemas.ManagedUserSingle,
)


# --- the caller's own API tokens ------------------------------------------------------


@get(
    "/api/v1/tokens",
    operation_class=operation_with(list_parameters(TOKENS)),
    responses=docs.responses(schemas.ApiTokenPage, 422),
    summary="List your own API tokens, revoked ones included (never the secrets)",
    tags=["tokens"],
)
async def list_tokens(request: Request[Any, Any, Any]) -> Response[bytes]:
    params = query_params(request)

    def work(conn: Any, user: User) -> dict[str, Any]:
        query = parse_list(params, TOKENS)
        return list_envelope(accounts.list_tokens(conn, user, query), query)

    return json_response(await read_as_user(request, work))


def _create_token(conn: Any, user: User, _parent: None, body: dict[str, Any]) -> tuple[int, str]:
    if "name" not in body:
        raise Invalid.field("name", "The name is required.")
    return auth.create_token_for_user(conn, user.id, body["name"])


create_token = create_endpoint(
    "/api/v1/tokens",
    target=lambda _conn, _user: None,  # anyone, for themselves
    allowed=accounts.TOKEN_CREATE_FIELDS,
    required=("name",),
    create=_create_token,
    view=lambda conn, _user, key: single_envelope(accounts.new_token(conn, *key)),
    codes=(422,),
    name="create_token",
    summary="Create an API token for yourself; the secret (`token`) is shown only here",
    tag="tokens",
    schema=schemas.NewApiTokenSingle,
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


ROUTES = [create_user, update_user, list_tokens, create_token, revoke_token]
