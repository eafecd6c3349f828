"""Probes for load balancers and orchestrators, outside /api/v1: no token, no data.

`GET /health` says the process answers; it never touches the database, so a slow or
lost database does not get a live process restarted. `GET /ready` says the database
answers, within READY_TIMEOUT_S, with the schema this Charter expects (and, on
SQLite, that its file is still there): a load balancer sends traffic only to
instances that can serve it."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

from litestar import Request, Response, get

from charter.db.backup import BackupError, sqlite_path
from charter.db.migrate import current_revision, head_revision
from charter.http.conventions import json_response
from charter.http.deps import database
from charter.http.errors import error_body
from charter.http.request_id import request_id_of

READY_TIMEOUT_S = 5.0


_NO_STORE = {"Cache-Control": "no-store"}


log = logging.getLogger("charter.ops")


@functools.cache
def _head() -> str | None:
    return head_revision()  # reads the migration scripts: once per process


@get(
    "/health",
    summary="Liveness: the process answers (no auth, no database)",
    include_in_schema=False,
    sync_to_thread=False,
)
def health() -> Response[bytes]:
    return json_response({"status": "ok"}, 200, _NO_STORE)


@get(
    "/ready",
    summary="Readiness: the database answers with the expected schema (no auth)",
    include_in_schema=False,
)
async def ready(request: Request[Any, Any, Any]) -> Response[bytes]:
    db = database(request)
    file = _sqlite_file(db.url)
    if file is not None and not file.exists():
        # Open connections would keep using the deleted file, and lose every write.
        return _not_ready(request, "The database file is missing.")
    try:
        revision = await asyncio.wait_for(
            db.run(lambda: current_revision(db)), timeout=READY_TIMEOUT_S
        )
    except TimeoutError:
        return _not_ready(request, f"The database did not answer within {READY_TIMEOUT_S:g} s.")
    except Exception as exc:  # whatever the driver raises, the answer is "not ready"
        return _not_ready(request, "The database is not reachable.", exc)
    if revision != _head():
        return _not_ready(
            request, "The database schema is not the one this Charter needs (charter migrate)."
        )
    return json_response({"status": "ok"}, 200, _NO_STORE)


@functools.cache
def _sqlite_file(url: str) -> Path | None:
    try:
        return sqlite_path(url)
    except BackupError:  # in memory: no file to lose
        return None


def _not_ready(
    request: Request[Any, Any, Any], message: str, exc: Exception | None = None
) -> Response[bytes]:
    # The cause goes to the log only: probes answer anyone, so no details in the body.
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    log.warning(
        "not ready: %s%s", message, detail, extra={"request_id": request_id_of(request.scope)}
    )
    return json_response(error_body(message), 503, _NO_STORE)


ROUTES = [health, ready]
