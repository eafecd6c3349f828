"""Request ids and access logs, for every request (unknown routes and errors too).

A sane incoming `X-Request-Id` (1 to 64 printable ASCII characters, no spaces) is
kept, so ids from a proxy or client follow the request through; anything else is
replaced by 16 random hex digits. The id goes into the ASGI scope (`request_id_of`),
back as the `X-Request-Id` response header, into the 500 body (`http/errors.py`), and
into one `charter.access` log line per request. That line holds no query string,
header or body, so tokens and data never reach the log.

It wraps the whole application (`app.asgi_handler`), outside Litestar's router: app
middleware only runs for matched routes. This runs on every request, so it does
the least it can: one header scan, one send wrapper, one log call."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "charter.request_id"


HEADER = b"x-request-id"


_sane = re.compile(rb"[!-~]{1,64}").fullmatch


access_log = logging.getLogger("charter.access")


def request_id_of(scope: Any) -> str | None:
    """The id `request_id_middleware` gave this request (None outside it)."""
    return cast(dict[str, Any], scope).get(SCOPE_KEY)


def new_request_id() -> str:
    return os.urandom(8).hex()


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == HEADER), None)
        request_id = raw.decode() if raw is not None and _sane(raw) else new_request_id()
        cast(dict[str, Any], scope)[SCOPE_KEY] = request_id
        header = (HEADER, request_id.encode())
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                # A handler that set its own id keeps it, and the access line follows.
                own = next((v for k, v in headers if k.lower() == HEADER), None)
                if own is None:
                    message["headers"] = [*headers, header]
                else:
                    request_id = own.decode("latin-1")
            await send(message)

        started = time.perf_counter()
        try:
            await app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, request_id, status, time.perf_counter() - started)

    return middleware


def _log_access(scope: Scope, request_id: str, status: int | None, seconds: float) -> None:
    # status None: the application raised or the client left before a response began.
    client = scope.get("client")
    method = cast(str, scope.get("method"))
    path = scope["path"]
    duration_ms = round(seconds * 1000, 2)
    fields = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "client": client[0] if client else None,
    }
    access_log.info("%s %s %s %.2fms", method, path, status, duration_ms, extra={"access": fields})
