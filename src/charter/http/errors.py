"""The one place where errors become HTTP responses: {"message", "errors"?}."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from sqlalchemy.exc import DBAPIError

from charter.auth.service import redact_secrets
from charter.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unauthenticated,
    conflict_of,
)
from charter.db.conflicts import WriteRace
from charter.http.conventions import json_response
from charter.http.request_id import new_request_id, request_id_of

log = logging.getLogger("charter.api")


class RequestError(Exception):
    """An HTTP-level problem with the request itself (not its meaning): 400 malformed
    body or content type, 412 failed precondition."""

    def __init__(
        self, status_code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers


class TooManyRequests(RequestError):
    """429 from a throttle (http/throttle.py); Retry-After says when to try again."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(429, message, {"Retry-After": str(retry_after)})


STATUS_OF: dict[type[DomainError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    TooLarge: 413,
}


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    # Messages may echo input: a token pasted into a path, query or body never comes back.
    body: dict[str, Any] = {"message": redact_secrets(message)}
    if errors:
        body["errors"] = {
            redact_secrets(k): [redact_secrets(p) for p in v] for k, v in errors.items()
        }
    return body


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = next(code for cls, code in STATUS_OF.items() if isinstance(exc, cls))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return json_response(error_body(exc.message, exc.errors), status, headers)


def write_race(request: Request[Any, Any, Any], exc: WriteRace) -> Response[bytes]:
    """A unique or foreign key refused a write that the retry did not resolve: 409."""
    return domain_error(request, conflict_of(exc))


def request_error(_: Request[Any, Any, Any], exc: RequestError) -> Response[bytes]:
    return json_response(error_body(exc.message), exc.status_code, exc.headers)


_HTTP_MESSAGES = {
    400: "Malformed request.",
    404: "Not found.",
    405: "Method not allowed for this resource.",
    413: "Request body too large.",
}


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    message = _HTTP_MESSAGES.get(status) or str(exc.detail)
    headers = dict(exc.headers or {})
    return json_response(error_body(message), status, headers or None)


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # The id http/request_id.py gave the request (it also sends the X-Request-Id header),
    # so the body, this log line and the access line all name the same request.
    request_id = request_id_of(request.scope)
    headers = None
    if request_id is None:  # an app served without the middleware
        request_id = new_request_id()
        headers = {"X-Request-Id": request_id}
    log.error(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        exc_info=exc,
        extra={"request_id": request_id},
    )
    body = error_body(f"Internal server error (request id {request_id}).")
    return json_response(body, 500, headers)


# Seconds a client should wait before retrying when the database is unreachable.
DATABASE_RETRY_AFTER = 1


def database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[bytes]:
    """A lost database connection (PostgreSQL restarted, a backend killed, the network
    gone) is a 503 the client may retry: SQLAlchemy has already invalidated the pool,
    so the next request opens fresh connections. Any other driver error is a bug: 500."""
    if not exc.connection_invalidated:
        return unexpected_error(request, exc)
    request_id = request_id_of(request.scope) or new_request_id()
    log.warning(
        "database connection lost on %s %s: %s",
        request.method,
        request.url.path,
        type(exc.orig).__name__,
        extra={"request_id": request_id},
    )
    body = error_body(f"The database is unavailable; try again shortly (request id {request_id}).")
    return json_response(body, 503, {"Retry-After": str(DATABASE_RETRY_AFTER)})


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DBAPIError: database_error,
    WriteRace: write_race,
    DomainError: domain_error,
    RequestError: request_error,
    HTTPException: http_error,
    # Routing errors (unknown path) are looked up by status code.
    404: http_error,
    405: http_error,
    Exception: unexpected_error,
}
