"""Debrief routes (Charter extension, SBTM): a sheet's problems, submit, the debrief
(GET / PUT with If-Match), approve, return, follow-up charters."""

from __future__ import annotations

from typing import Any

from litestar import put
from litestar.openapi.spec import OpenAPIType, Schema

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.core import inputs
from charter.core.errors import NotFound
from charter.db import tables
from charter.db.locks import row_lock
from charter.debriefs import read as debrief_read
from charter.debriefs import schemas
from charter.debriefs import service as debrief_service
from charter.http.deps import path_id
from charter.http.read_routes import single_endpoint
from charter.http.write_routes import action_endpoint, post_endpoint, update_endpoint
from charter.sessions.read import session_by_id

S_ = "/api/v1/sessions/{session_id:str}"
TAG = "debriefs"


def _session(action: Action) -> Any:
    """A target: the session id in the path, once the user may do `action` in its
    project (404 / 403 otherwise)."""

    def target(conn: Any, user: User, raw_id: str) -> int:
        session_id = path_id(raw_id, "Session")
        row = session_by_id(conn, session_id)
        if row is None:
            raise NotFound(f"Session {session_id} not found.")
        require_project(conn, user, row["project_id"], action)
        return session_id

    return target


def _envelope(conn: Any, user: User, session_id: int) -> dict[str, Any]:
    return {"result": debrief_read.get_debrief(conn, user, session_id), "expands": {}}


def _submit(conn: Any, user: User, session_id: int, body: dict[str, Any]) -> Any:
    force = inputs.boolean("force", body.get("force", False))
    debrief_service.submit(conn, user, session_id, force)
    return _envelope(conn, user, session_id)


def _return(conn: Any, user: User, session_id: int, body: dict[str, Any]) -> Any:
    debrief_service.return_sheet(conn, user, session_id, inputs.required(body, "comment"))
    return _envelope(conn, user, session_id)


def _follow_ups(conn: Any, user: User, session_id: int, body: dict[str, Any]) -> Any:
    items = inputs.required(body, "items")
    return {"result": debrief_service.create_follow_ups(conn, user, session_id, items)}


_ITEMS = {"items": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.INTEGER))}


_DEBRIEF_TYPES = {
    "outlook": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
    **{n: Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL]) for n in debrief_service.PROOF_TEXTS},
}


ROUTES = [
    single_endpoint(
        f"{S_}/debrief",
        None,
        debrief_read.get_debrief,
        ids=(("session_id", "Session"),),
        name="get_debrief",
        summary="Get a session's debrief and its checklist warnings (Charter extension)",
        tag=TAG,
        schema=schemas.DebriefSingle,
        codes=(403, 404),
    ),
    single_endpoint(
        f"{S_}/sheet/problems",
        None,
        debrief_read.get_problems,
        ids=(("session_id", "Session"),),
        name="get_sheet_problems",
        summary="List what a session's sheet lacks before it is submitted (Charter extension)",
        tag=TAG,
        schema=schemas.SheetProblemsSingle,
        codes=(403, 404),
    ),
    update_endpoint(
        f"{S_}/debrief",
        target=_session("manage"),
        lock=row_lock(tables.sessions),
        allowed=debrief_service.DEBRIEF_FIELDS,
        change=lambda conn, user, sid, body: debrief_service.save_debrief(conn, user, sid, body),
        view=_envelope,
        types=_DEBRIEF_TYPES,
        method=put,
        codes=(403, 404, 409, 412, 422),
        name="put_debrief",
        summary="Record a session's debrief (managers; If-Match supported; Charter extension)",
        tag=TAG,
        schema=schemas.DebriefSingle,
    ),
    post_endpoint(
        f"{S_}/submit",
        target=_session("run"),
        allowed=("force",),
        apply=_submit,
        status=200,
        codes=(403, 404, 409, 422),
        name="submit_session",
        summary="Submit a closed session's sheet for debrief (Charter extension)",
        tag=TAG,
        schema=schemas.DebriefSingle,
    ),
    action_endpoint(
        f"{S_}/debrief/approve",
        target=_session("manage"),
        change=lambda conn, user, sid: debrief_service.approve(conn, user, sid),
        view=_envelope,
        codes=(403, 404, 409),
        name="approve_debrief",
        summary="Approve a submitted sheet; it locks (managers; Charter extension)",
        tag=TAG,
        schema=schemas.DebriefSingle,
    ),
    post_endpoint(
        f"{S_}/debrief/return",
        target=_session("manage"),
        allowed=("comment",),
        apply=_return,
        status=200,
        codes=(403, 404, 409, 422),
        name="return_debrief",
        summary="Return a submitted sheet to its tester with a comment (Charter extension)",
        tag=TAG,
        schema=schemas.DebriefSingle,
    ),
    post_endpoint(
        f"{S_}/debrief/follow-ups",
        target=_session("manage"),
        allowed=("items",),
        apply=_follow_ups,
        status=201,
        types=_ITEMS,
        codes=(403, 404, 422),
        name="create_follow_ups",
        summary="Plan follow-up charters from outlook items (managers; Charter extension)",
        tag=TAG,
        schema=schemas.FollowUps,
    ),
]
