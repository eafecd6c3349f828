"""Route factories for the writes every namespace repeats: create (POST, 201), update
(PATCH with If-Match), delete (204, If-Match) and an action without a body (complete,
reopen, start...). The read routes have theirs in http/read_routes.py.

A namespace supplies `target`, which finds the object and checks access, its views and
the domain call; authentication, the order of checks, the JSON body, If-Match, status
codes and OpenAPI are the same everywhere. `target(conn, user, *raw_ids)` gets the
path's ids as text, in the order of the path, and returns the object's key (for a
create: the parent's, or None) once the user may write it: 404 / 403 otherwise. The
OpenAPI document declares those ids as the integers they are.

Updates and deletes also name `lock`, which locks the object's row (db/locks.py) right
after the target and before the object is read for If-Match: the version check and the
write are one atomic step on every database, so of concurrent writers with the same
If-Match exactly one wins.

Order of checks: 401, the target's 403 / 404, then 400 / 422 for the body, 412 for
If-Match, then the domain's own 409 / 422.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict, Unpack

from litestar import Request, Response, delete, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation, Parameter, Schema

from charter.auth.permissions import Action, require_admin, require_project
from charter.auth.service import User
from charter.db.locks import Locker
from charter.http import docs
from charter.http.conventions import operation_with
from charter.http.deps import path_id
from charter.http.writes import Outcome, check_if_match, fields, parse_json, write_as_user

Conn = Any


Target = Callable[..., Any]  # (conn, user, *raw path ids) -> the object's key


View = Callable[[Conn, User, Any], Any]  # (conn, user, key) -> the JSON body answered


Work = Callable[[Request[Any, Any, Any], bytes, Conn, User, list[str]], Outcome]


_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


class RouteDoc(TypedDict):
    """What every factory takes for the route and its OpenAPI entry."""

    name: str  # the route's name, unique in the app
    summary: str
    tag: str
    codes: Sequence[int]  # the error statuses it may answer (docs.write_responses)
    handler_name: NotRequired[str]  # the function's name (operationId), `name` by default


def admin_only(_conn: Conn, user: User) -> None:
    """The target of a site-wide create: site admins only."""
    require_admin(user)


def admin_item(what: str) -> Target:
    """A target for site admins only (403 before any id), then the path's id of `what`."""

    def target(_conn: Conn, user: User, raw_id: str) -> int:
        require_admin(user)
        return path_id(raw_id, what)

    return target


def project_target(action: Action) -> Target:
    """A target: the project id in the path, once the user may do `action` in it."""

    def target(conn: Conn, user: User, raw_id: str) -> int:
        project_id = path_id(raw_id, "Project")
        require_project(conn, user, project_id, action)
        return project_id

    return target


def create_endpoint(
    path: str,
    *,
    target: Target,
    allowed: Sequence[str],
    create: Callable[[Conn, User, Any, dict[str, Any]], Any],
    view: View,
    schema: Any,
    required: Sequence[str] = (),
    custom: bool = False,
    types: Mapping[str, Schema] | None = None,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """POST `path`: `create(conn, user, parent, body)` makes the object and returns its
    key; the answer is 201 with `view` of it. `required` only documents the body: the
    domain names a missing field."""

    def work(
        request: Request[Any, Any, Any], raw: bytes, conn: Conn, user: User, ids: list[str]
    ) -> Outcome:
        parent = target(conn, user, *ids)
        body = fields(parse_json(request, raw), allowed, custom)
        return 201, view(conn, user, create(conn, user, parent, body))

    return _route(
        post,
        path,
        work,
        status=201,
        body=docs.body(allowed, required, custom=custom, types=types),
        ok=schema,
        **doc,
    )


def update_endpoint(
    path: str,
    *,
    target: Target,
    lock: Locker,
    allowed: Sequence[str],
    change: Callable[[Conn, User, Any, dict[str, Any]], None],
    view: View,
    schema: Any,
    current: View | None = None,
    custom: bool = False,
    types: Mapping[str, Schema] | None = None,
    live: bool = False,
    method: Any = patch,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """PATCH `path`: `change(conn, user, key, body)`, answered with `view`. If-Match is
    checked against `current` (the object's plain GET body; `view` by default), read
    once `lock(conn, key)` holds the object; with `live`, as for a session whose
    elapsed grows (see http/etag.py). `method=put` for an object whose write replaces
    the fields it is given (a debrief)."""
    before_of = current or view

    def work(
        request: Request[Any, Any, Any], raw: bytes, conn: Conn, user: User, ids: list[str]
    ) -> Outcome:
        key = target(conn, user, *ids)
        lock(conn, key)  # before reading the version If-Match compares with
        before = before_of(conn, user, key)  # read before the body: an unknown id is 404
        body = fields(parse_json(request, raw), allowed, custom)
        check_if_match(request, before, live)
        change(conn, user, key, body)
        return 200, view(conn, user, key)

    return _route(
        method,
        path,
        work,
        status=200,
        body=docs.body(allowed, custom=custom, types=types),
        ok=schema,
        **doc,
    )


def delete_endpoint(
    path: str,
    *,
    target: Target,
    lock: Locker,
    remove: Callable[[Conn, User, Any], None],
    current: View | None = None,
    live: bool = False,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """DELETE `path`: `remove(conn, user, key)`, answered with 204. If-Match is checked
    against `current` when the object has one (a token has no GET), read once
    `lock(conn, key)` holds the object."""

    def work(
        request: Request[Any, Any, Any], _raw: bytes, conn: Conn, user: User, ids: list[str]
    ) -> Outcome:
        key = target(conn, user, *ids)
        lock(conn, key)
        if current is not None:
            check_if_match(request, current(conn, user, key), live)
        remove(conn, user, key)
        return 204, None

    return _route(delete, path, work, status=204, body=None, ok=None, **doc)


def action_endpoint(
    path: str,
    *,
    target: Target,
    change: Callable[[Conn, User, Any], None],
    view: View,
    schema: Any,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """POST `path` without a body (a transition): `change(conn, user, key)`, answered
    with 200 and `view`."""

    def work(
        _request: Request[Any, Any, Any], _raw: bytes, conn: Conn, user: User, ids: list[str]
    ) -> Outcome:
        key = target(conn, user, *ids)
        change(conn, user, key)
        return 200, view(conn, user, key)

    return _route(post, path, work, status=200, body=None, ok=schema, **doc)


def post_endpoint(
    path: str,
    *,
    target: Target,
    allowed: Sequence[str],
    apply: Callable[[Conn, User, Any, dict[str, Any]], Any],
    status: int,
    schema: Any,
    types: Mapping[str, Schema] | None = None,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """POST `path` whose JSON body is optional (an empty body is `{}`): `apply(conn,
    user, key, body)` returns the answer, sent with `status` (204: no body). For
    clients that post to create or change and read back a bare answer (the Testmo
    automation API)."""

    def work(
        request: Request[Any, Any, Any], raw: bytes, conn: Conn, user: User, ids: list[str]
    ) -> Outcome:
        key = target(conn, user, *ids)
        body = fields(parse_json(request, raw, required=False), allowed)
        return status, apply(conn, user, key, body)

    return _route(
        post,
        path,
        work,
        status=status,
        body=docs.body(allowed, types=types),
        ok=schema,
        **doc,
    )


def _route(
    method: Any,
    path: str,
    work: Work,
    *,
    status: int,
    body: Schema | None,
    ok: Any,
    **doc: Unpack[RouteDoc],
) -> HTTPRouteHandler:
    """The handler running `work` in one write transaction, and its route. A route that
    takes a body reads it before write_as_user, as its handlers always did."""
    params = _PATH_PARAM.findall(path)

    async def run(request: Request[Any, Any, Any]) -> Response[Any]:
        raw = await request.body() if body is not None else b""
        ids = [str(request.path_params[param]) for param in params]

        def job(conn: Conn, user: User) -> Outcome:
            return work(request, raw, conn, user, ids)

        return await write_as_user(request, job)

    handler: Callable[[Request[Any, Any, Any]], Any]
    if status == 204:  # Litestar wants a 204 handler to say it returns no body

        async def empty(request: Request[Any, Any, Any]) -> Response[None]:
            return await run(request)

        handler = empty
    else:

        async def answer(request: Request[Any, Any, Any]) -> Response[bytes]:
            return await run(request)

        handler = answer
    # Litestar builds the operationId from the function's name.
    handler.__name__ = doc.get("handler_name", doc["name"])
    return method(  # type: ignore[no-any-return]
        path,
        status_code=status,
        operation_class=in_path_order(
            operation_with([]) if body is None else docs.with_body(body), path
        ),
        responses=docs.write_responses(ok, status, *doc["codes"]),
        summary=doc["summary"],
        tags=[doc["tag"]],
        name=doc["name"],
    )(handler)


def in_path_order(base: type[Operation], path: str) -> type[Operation]:
    """The OpenAPI operation `base` with the path ids in the path's order (handlers do
    not declare them, and Litestar lists those in set order)."""
    params = _PATH_PARAM.findall(path)

    def place(param: Any) -> int:
        path_param = isinstance(param, Parameter) and param.param_in == "path"
        return params.index(param.name) if path_param else len(params)

    class _Operation(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            operation: Operation = self
            operation.parameters = sorted(operation.parameters or [], key=place)

    return _Operation
