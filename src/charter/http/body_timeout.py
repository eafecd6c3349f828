"""A deadline for reading a request's body, for every route (API and web).

A client that announces a body and then sends it a byte a minute would hold a
connection, and the request's task, for as long as it likes. Here the whole body must
arrive within CHARTER_BODY_TIMEOUT_SECONDS of the first read: after that the read
raises HTTPException(408), which the routes' error handlers answer like any other
error (JSON on the API, a page on the web UI). A route that never reads its body is
not affected, and once the body is complete, reads pass straight through (so waiting
for a disconnect is never cut short).
"""

from __future__ import annotations

import time

import anyio
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

REQUEST_TIMEOUT = 408


def body_timeout_middleware(app: ASGIApp, seconds: float) -> ASGIApp:
    if seconds <= 0:
        return app

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        deadline: float | None = None
        complete = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal deadline, complete
            if complete:
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + seconds
            try:
                with anyio.fail_after(max(deadline - time.monotonic(), 0.001)):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    status_code=REQUEST_TIMEOUT,
                    detail="The request body did not arrive in time.",
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await app(scope, timed_receive, send)

    return middleware
