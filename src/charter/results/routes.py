"""Charter extension: the results (notes) of a session."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.auth.permissions import require_access
from charter.auth.service import User
from charter.core.errors import Invalid
from charter.http import docs
from charter.http.conventions import FilterSpec, ListSpec
from charter.http.deps import path_id
from charter.http.read_routes import list_endpoint
from charter.http.write_routes import delete_endpoint, update_endpoint
from charter.http.writes import Outcome, fields, parse_json, write_as_user
from charter.results import read as result_read
from charter.results import schemas as result_schemas
from charter.results import service as result_service
from charter.results.read import RESULT_EXPANDS

RESULTS = ListSpec(
    noun="results",
    sorts={"session_results:created_at": "created_at"},
    default_sort="session_results:created_at",
    filters=(
        FilterSpec("status_id", "ids", "status_id"),
        FilterSpec("kind_id", "ids", "kind_id", "Results of these note kinds (SBTM)."),
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("created_before", "before", "created_at"),
    ),
    expands=RESULT_EXPANDS,
)


# One result, or {"results": [...]} with up to MAX_BULK of them.
RESULT_BODY = docs.body(
    (*result_service.RESULT_FIELDS, "results"),
    custom=True,
    types={
        "results": Schema(
            type=OpenAPIType.ARRAY,
            items=docs.body(result_service.RESULT_FIELDS, custom=True),
            min_items=1,
            max_items=result_service.MAX_BULK,
        )
    },
)


def _one(conn: Any, _user: User, result_id: int) -> dict[str, Any]:
    """A result as its writes answer (no expands)."""
    return {"result": result_read.get_results(conn, [result_id]).rows[0]}


# Not create_endpoint: the body is one result or {"results": [...]}, checked item by item.
@post(
    "/api/v1/sessions/{session_id:str}/results",
    operation_class=docs.with_body(RESULT_BODY),
    status_code=201,
    responses=docs.write_responses(result_schemas.ResultCreated, 201, 403, 404, 409, 422),
    summary=(
        f'Add one result, or up to {result_service.MAX_BULK} as {{"results": [...]}} '
        "(all or nothing; Charter extension)"
    ),
    tags=["results"],
)
async def add_results(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        sid = path_id(session_id, "Session")
        # The session, locked, with what validation needs, in one statement; its
        # foreign key guarantees the project, so only the role is checked.
        target = result_service.target_of(conn, sid)
        require_access(conn, user, target.session["project_id"], "run")
        body = parse_json(request, raw)
        bulk = isinstance(body, dict) and "results" in body
        if bulk:
            fields(body, ("results",))
            items = body["results"]
            if not isinstance(items, list) or not items:
                raise Invalid.field("results", "Must be a non-empty list of results.")
        else:
            items = [body]
        for index, item in enumerate(items):
            try:
                fields(item, result_service.RESULT_FIELDS, custom=True)
            except Invalid as exc:
                raise (exc.within(f"results.{index}") if bulk else exc) from None
        rows = result_service.add_and_show(conn, target, user.id, items, label_items=bulk)
        return 201, {"result": rows if bulk else rows[0]}

    return await write_as_user(request, work)


def _result_id(conn: Any, user: User, raw_id: str) -> int:
    result_id = path_id(raw_id, "Result")
    result_read.session_of_result(conn, user, result_id, "run")
    return result_id


edit_result = update_endpoint(
    "/api/v1/sessions/results/{result_id:str}",
    target=_result_id,
    lock=result_service.lock_session_of,
    allowed=result_service.RESULT_FIELDS,
    custom=True,
    change=lambda conn, user, rid, changes: result_service.edit_result(conn, rid, user.id, changes),
    view=_one,
    codes=(403, 404, 409, 412, 422),
    name="edit_result",
    summary="Edit a result (Charter extension; If-Match supported)",
    tag="results",
    schema=result_schemas.ResultSingle,
)


delete_result = delete_endpoint(
    "/api/v1/sessions/results/{result_id:str}",
    target=_result_id,
    lock=result_service.lock_session_of,
    current=_one,
    remove=lambda conn, _user, rid: result_service.delete_result(conn, rid),
    codes=(403, 404, 409, 412),
    name="delete_result",
    summary="Delete a result (Charter extension)",
    tag="results",
)


ROUTES = [
    list_endpoint(
        "/api/v1/sessions/{session_id:str}/results",
        RESULTS,
        result_read.list_results,
        ids=(("session_id", "Session"),),
        name="list_results",
        summary="List the results of a session (Charter extension)",
        tag="results",
        schema=result_schemas.ResultPage,
    ),
    add_results,
    edit_result,
    delete_result,
]
