"""Live updates for the web pages, as server-sent events (text/event-stream):

- `GET /sessions/{id}/events`: changes of one session (its notes, counters, timer,
  state), for its run page;
- `GET /projects/{id}/events`: changes of any session of the project, for the
  sessions list (and any page that shows the project's sessions).

Authenticated by the web session cookie like every page; a visitor who may not read
the project gets 403 (404 for an unknown session), and a signed-out one 401 (never a
redirect, which EventSource would follow into an HTML page). Each event names what
changed, never its content: the page fetches the fresh parts through its ordinary,
permission-checked GET. Idle streams carry a comment every
CHARTER_LIVE_HEARTBEAT_SECONDS (proxies keep them open), and the viewer's access is
checked again then, so someone who loses it stops receiving."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.engine import Connection

from charter.auth.service import User
from charter.core.errors import DomainError
from charter.http.deps import path_id
from charter.live import read
from charter.live.service import RESYNC, TICK, Hub, Stream, TooManyStreams
from charter.web.guard import SignInRequired, web_read

# A change is shown this long after the last access check without checking again.
RECHECK_SECONDS = 5.0
RETRY_MS = 3000  # EventSource reconnects after this long when a stream breaks


def hub_of(request: Request[Any, Any, Any]) -> Hub:
    hub: Hub = request.app.state.live
    return hub


def _plain(status: int, text: str) -> Response[str]:
    return Response(text, status_code=status, media_type="text/plain")


async def _open(
    request: Request[Any, Any, Any], check: Any, session_id: int | None
) -> Response[Any]:
    """Check access, subscribe, and stream; `check(conn, user)` gives the project id."""
    try:
        project_id: int = await web_read(request, check)
    except SignInRequired:
        return _plain(401, "Sign in to follow live updates.")
    hub = hub_of(request)
    try:
        stream = await hub.subscribe(project_id)
    except TooManyStreams:
        return _plain(503, "Too many live streams on this worker.")
    return ServerSentEvent(
        _events(request, stream, check, session_id),
        retry_duration=RETRY_MS,
        headers={"Cache-Control": "no-cache, no-store"},
    )


async def _events(
    request: Request[Any, Any, Any], stream: Stream, check: Any, session_id: int | None
) -> AsyncIterator[ServerSentEventMessage]:
    """The stream's messages until the client leaves (Litestar cancels this on its
    disconnect), the server stops, or the viewer loses access."""
    heartbeat = float(request.app.state.settings.live_heartbeat_seconds)
    checked = time.monotonic()
    try:
        # The worker's pid: which process serves the stream (tests of several workers).
        yield ServerSentEventMessage(event="ready", data=json.dumps({"worker": os.getpid()}))
        while True:
            change = await stream.next(heartbeat)
            if change is None:  # shutting down
                return
            tick = change.kind == TICK
            other = session_id is not None and change.session_id != session_id
            if other and change.kind not in (TICK, RESYNC):
                continue
            if tick or time.monotonic() - checked > RECHECK_SECONDS:
                try:
                    await web_read(request, check)
                except (SignInRequired, DomainError):
                    yield ServerSentEventMessage(event="denied", data="{}")
                    return
                checked = time.monotonic()
            if tick:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            data = {"session_id": change.session_id, "kind": change.kind}
            yield ServerSentEventMessage(event="change", data=json.dumps(data))
    finally:
        stream.close()


@get("/sessions/{session_id:str}/events", name="web_session_events")
async def session_events(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[Any]:
    sid = path_id(session_id, "Session")

    def check(conn: Connection, user: User) -> int:
        return read.session_project(conn, user, sid)

    return await _open(request, check, sid)


@get("/projects/{project_id:str}/events", name="web_project_events")
async def project_events(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    pid = path_id(project_id, "Project")

    def check(conn: Connection, user: User) -> int:
        return read.project_readable(conn, user, pid)

    return await _open(request, check, None)


ROUTES: list[Any] = [session_events, project_events]
