"""Route factories for the two read endpoints every namespace has: a paginated list and
a single object; every API read route is declared with them (the write routes have
theirs in http/write_routes.py). A namespace supplies its ListSpec (or expand names)
and a domain view; authentication, the order of checks, parameter parsing, envelopes,
OpenAPI and errors are the same everywhere.

The path's ids are read from `request.path_params` in the order of `ids`, each turned
into an int (a non-number is 404) and passed to the view before the query. An id whose
noun is None passes as its text, for a view that checks access before parsing it.
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
    Params,
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
from charter.http.write_routes import View, in_path_order
from charter.http.writes import fields, parse_json

# (path parameter, the noun its 404 names), e.g. ("project_id", "Project"); a noun of
# None passes the text on unparsed.
PathIds = Sequence[tuple[str, str | None]]


# Whether a request with these parameters needs a snapshot (None: every request does).
# It reads `params.values` as sent (checking them is the view's work, after the 401).
Snapshot = Callable[[Params], bool] | None


def unless_expanded(params: Params) -> bool:
    """A Snapshot for views that answer in one statement unless expands are asked for."""
    return bool(params.values.get("expands"))


def unless_filtered(spec: ListSpec) -> Callable[[Params], bool]:
    """A Snapshot for list views that answer an unfiltered first page without expands
    in one statement (its total included)."""
    names = ("expands", *(f.param for f in spec.filters))

    def needs(params: Params) -> bool:
        values = params.values
        return values.get("page", "1") not in ("", "1") or any(values.get(n) for n in names)

    return needs


def _ids(request: Request[Any, Any, Any], ids: PathIds) -> list[str]:
    return [str(request.path_params[name]) for name, _noun in ids]


def _values(raw: list[str], ids: PathIds) -> list[Any]:
    """The path ids as the view gets them: ints (404 for a non-id), or text."""
    return [
        r if noun is None else path_id(r, noun) for r, (_name, noun) in zip(raw, ids, strict=True)
    ]


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
    params_first: bool = False,
    codes: Sequence[int] | None = None,
    handler_name: str | None = None,
    snapshot: Snapshot = None,
) -> HTTPRouteHandler:
    """GET `path`: `view(conn, user, *ids, query)` in the list envelope.
    Order of checks: 401, then 403 for `admin_only`, then 404 for the path ids,
    then 422 for the parameters (`params_first`: 422 before the path's 404, the order
    the administration lists answer in); the view checks project permissions.
    `codes`: the documented error statuses when they differ from the usual ones;
    `handler_name`: the function's name (operationId), `name` by default.
    `snapshot(params)`: whether the request needs a snapshot (Database.read); False
    where the view answers those parameters in one statement. None: always."""

    def answer(params: Params, raw: list[str], conn: Any, user: User) -> dict[str, Any]:
        if params_first:
            query = parse_list(params, spec)
            values = _values(raw, ids)
        else:
            values = _values(raw, ids)
            query = parse_list(params, spec)
        return list_envelope(view(conn, user, *values, query), query)

    if codes is None:
        codes = (403, 404, 422) if ids or admin_only else (422,)
    return _get_route(
        path,
        answer,
        ids=ids,
        admin_only=admin_only,
        parameters=list_parameters(spec),
        schema=schema,
        codes=codes,
        name=name,
        handler_name=handler_name,
        summary=summary,
        tag=tag,
        snapshot=snapshot,
    )


def single_endpoint(
    path: str,
    expands: Sequence[str] | None,
    view: Callable[..., Any],
    *,
    name: str,
    summary: str,
    tag: str,
    schema: Any,
    ids: PathIds,
    admin_only: bool = False,
    codes: Sequence[int] = (403, 404, 422),
    handler_name: str | None = None,
    snapshot: Snapshot = None,
) -> HTTPRouteHandler:
    """GET `path`: `view(conn, user, *ids, expands)` (a Page) as {"result", "expands"}.
    `expands=None` is an administration object without expands: no parameter is read,
    and `view(conn, user, *ids)` answers the bare object. `codes`, `handler_name` and
    `snapshot` as for list_endpoint."""

    def answer(params: Params, raw: list[str], conn: Any, user: User) -> dict[str, Any]:
        values = _values(raw, ids)
        if expands is None:
            return one(view(conn, user, *values))
        wanted = parse_expands(params.get("expands"), expands)
        return single_envelope(view(conn, user, *values, wanted))

    return _get_route(
        path,
        answer,
        ids=ids,
        admin_only=admin_only,
        parameters=expand_parameters(expands or ()),
        schema=schema,
        codes=codes,
        name=name,
        handler_name=handler_name,
        summary=summary,
        tag=tag,
        snapshot=snapshot,
    )


def _get_route(
    path: str,
    answer: Callable[[Params, list[str], Any, User], dict[str, Any]],
    *,
    ids: PathIds,
    admin_only: bool,
    parameters: Any,
    schema: Any,
    codes: Sequence[int],
    name: str,
    handler_name: str | None,
    summary: str,
    tag: str,
    snapshot: Snapshot,
) -> HTTPRouteHandler:
    """The GET both factories build: the query and path read on the event loop, then
    (401, 403 for `admin_only`) `answer` in a read transaction as the caller."""

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        params = query_params(request)
        raw = _ids(request, ids)

        def work(conn: Any, user: User) -> dict[str, Any]:
            if admin_only:
                require_admin(user)
            return answer(params, raw, conn, user)

        needs_snapshot = True if snapshot is None else snapshot(params)
        return json_response(await read_as_user(request, work, needs_snapshot))

    handler.__name__ = handler_name or name
    return get(
        path,
        operation_class=in_path_order(operation_with(parameters), path),
        responses=docs.responses(schema, *codes),
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
