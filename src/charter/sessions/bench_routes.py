"""The benchmark's HTTP floor, served only with CHARTER_BENCH_ROUTES=1: the same
middleware, authentication and database hop as a list request, answering a page of
the same size that was encoded once. bench/run.py compares the real list with it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.listing import ListQuery
from charter.http.conventions import encode, list_envelope
from charter.http.deps import path_id, read_as_user
from charter.sessions import read as session_read

_encoded: dict[tuple[str, int], bytes] = {}


@get("/api/v1/bench/floor/{project_id:str}", include_in_schema=False)
async def floor(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[bytes]:
    def work(conn: Any, user: User) -> bytes:
        pid = path_id(project_id, "Project")
        require_project(conn, user, pid, "read")  # the same check as the real list
        key = (conn.engine.url.render_as_string(), pid)
        if key not in _encoded:
            query = ListQuery()
            page = session_read.list_sessions(conn, user, pid, query)
            _encoded[key] = encode(list_envelope(page, query))
        return _encoded[key]

    # Without a transaction, as page 1 of the real list (sessions/routes.py).
    body = await read_as_user(request, work, snapshot=False)
    return Response(content=body, media_type="application/json")


ROUTES = [floor]
