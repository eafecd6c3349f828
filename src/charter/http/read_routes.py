"""Route factories for the two read endpoints every namespace has: a paginated list and
a single object. A namespace supplies its ListSpec (or expand names) and a domain view;
authentication, the order of checks, parameter parsing, envelopes, OpenAPI and errors
are the same everywhere.

The path's ids are read from `request.path_params` in the order of `ids`, each turned
into an int (a non-number is 404) and passed to the view before the query.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from charter.auth.permissions import require_admin
from charter.auth.service import User
from charter.core.listing import Page
from charter.http import docs
from charter.http.conventions import (
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
from charter.http.deps import path_id, query_params, read_as_user
from charter.http.write_routes import View
from charter.http.writes import fields, parse_json

# (path parameter, the noun its 404 names), e.g. ("project_id", "Project")
PathIds = Sequence[tuple[str, str]]


def _ids(request: Request[Any, Any, Any], ids: PathIds) -> list[str]:
    return [str(request.path_params[name]) for name, _noun in ids]


def list_endpoint(
    path: str,
    spec: ListSpec,
    view: Callable[..., Page],
    *,
    name: str,
    summary: str,
    tag: str,
    schema: Any,
    ids: PathIds = (),
    admin_only: bool = False,
) -> HTTPRouteHandler:
    """GET `path`: `view(conn, user, *ids, query)` in the list envelope.
    Order of checks: 401, then 403 for `admin_only`, then 404 for the path ids,
    then 422 for the parameters; the view checks project permissions."""

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        params = query_params(request)
        raw = _ids(request, ids)

        def work(conn: Any, user: User) -> dict[str, Any]:
            if admin_only:
                require_admin(user)
            values = [path_id(r, noun) for r, (_name, noun) in zip(raw, ids, strict=True)]
            query = parse_list(params, spec)
            return list_envelope(view(conn, user, *values, query), query)

        return json_response(await read_as_user(request, work))

    handler.__name__ = name
    codes = (403, 404, 422) if ids or admin_only else (422,)
    return get(
        path,
        operation_class=operation_with(list_parameters(spec)),
        responses=docs.responses(schema, *codes),
        summary=summary,
        tags=[tag],
        name=name,
    )(handler)


def single_endpoint(
    path: str,
    expands: Sequence[str],
    view: Callable[..., Page],
    *,
    name: str,
    summary: str,
    tag: str,
    schema: Any,
    ids: PathIds,
    admin_only: bool = False,
) -> HTTPRouteHandler:
    """GET `path`: `view(conn, user, *ids, expands)` as {"result", "expands"}."""

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        params = query_params(request)
        raw = _ids(request, ids)

        def work(conn: Any, user: User) -> dict[str, Any]:
            if admin_only:
                require_admin(user)
            values = [path_id(r, noun) for r, (_name, noun) in zip(raw, ids, strict=True)]
            wanted = parse_expands(params.get("expands"), expands)
            return single_envelope(view(conn, user, *values, wanted))

        return json_response(await read_as_user(request, work))

    handler.__name__ = name
    return get(
        path,
        operation_class=operation_with(expand_parameters(expands)),
        responses=docs.responses(schema, 403, 404, 422),
        summary=summary,
        tags=[tag],
        name=name,
    )(handler)


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
