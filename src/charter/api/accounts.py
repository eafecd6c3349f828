"""Charter extensions: users administration (site admins) and personal API tokens.

The Testmo-compatible reads of users (GET /api/v1/users, /users/{id}) live in
api/users.py; this module only writes users, and manages the caller's own tokens.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath

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
from charter.api.writes import Outcome, check_if_match, fields, parse_json, write_as_user
from charter.domain import accounts, auth
from charter.domain.auth import User
from charter.domain.errors import Invalid
from charter.domain.permissions import require_admin

TOKENS = ListSpec(
    noun="tokens",
    sorts={"tokens:created_at": "created_at", "tokens:last_used_at": "last_used_at"},
    default_sort="tokens:created_at",
)


# --- users (site admins only) ---------------------------------------------------------


@post(
    "/api/v1/users",
    operation_class=docs.with_body(docs.body(accounts.USER_CREATE_FIELDS, ("name", "email"))),
    status_code=201,
    responses=docs.write_responses(schemas.ManagedUserSingle, 201, 403, 409, 422),
    summary="Create a user (Charter extension; site admins)",
    tags=["users"],
)
async def create_user(request: Request[Any, Any, Any]) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        require_admin(user)
        body = fields(parse_json(request, raw), accounts.USER_CREATE_FIELDS)
        user_id = accounts.create_user(conn, user, body)
        return 201, single_envelope(accounts.user_result(conn, user, user_id))

    return await write_as_user(request, work)


@patch(
    "/api/v1/users/{user_id:str}",
    operation_class=docs.with_body(docs.body(accounts.USER_UPDATE_FIELDS)),
    responses=docs.write_responses(schemas.ManagedUserSingle, 200, 403, 404, 409, 412, 422),
    summary="Update a user: name, email, admin, active, default role (Charter extension; "
    "site admins; If-Match supported)",
    tags=["users"],
)
async def update_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        require_admin(user)
        uid = path_id(user_id, "User")
        current = accounts.user_representation(conn, user, uid)
        body = fields(parse_json(request, raw), accounts.USER_UPDATE_FIELDS)
        check_if_match(request, current)
        accounts.update_user(conn, user, uid, body)
        return 200, single_envelope(accounts.user_result(conn, user, uid))

    return await write_as_user(request, work)


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


@post(
    "/api/v1/tokens",
    operation_class=docs.with_body(docs.body(accounts.TOKEN_CREATE_FIELDS, ("name",))),
    status_code=201,
    responses=docs.write_responses(schemas.NewApiTokenSingle, 201, 422),
    summary="Create an API token for yourself; the secret (`token`) is shown only here",
    tags=["tokens"],
)
async def create_token(request: Request[Any, Any, Any]) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        body = fields(parse_json(request, raw), accounts.TOKEN_CREATE_FIELDS)
        if "name" not in body:
            raise Invalid.field("name", "The name is required.")
        token_id, secret = auth.create_token_for_user(conn, user.id, body["name"])
        return 201, single_envelope(accounts.new_token(conn, token_id, secret))

    return await write_as_user(request, work)


@delete(
    "/api/v1/tokens/{token_id:str}",
    status_code=204,
    responses=docs.write_responses(None, 204, 404),
    summary="Revoke one of your own API tokens (it fails at once)",
    tags=["tokens"],
)
async def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[str]) -> Response[None]:
    def work(conn: Any, user: User) -> Outcome:
        auth.revoke_own_token(conn, user.id, path_id(token_id, "Token"))
        return 204, None

    return await write_as_user(request, work)


ROUTES = [create_user, update_user, list_tokens, create_token, revoke_token]
