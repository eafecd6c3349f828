"""Error pages for web routes: HTML 403/404/... instead of JSON or tracebacks, a sign-in
redirect for signed-out browsers, and a 500 page that shows no traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from sqlalchemy.exc import DBAPIError

from charter.core.errors import DomainError, conflict_of
from charter.db.conflicts import WriteRace
from charter.http.errors import DATABASE_RETRY_AFTER, STATUS_OF
from charter.http.request_id import new_request_id, request_id_of
from charter.web.csrf import CsrfFailed
from charter.web.guard import SignInRequired
from charter.web.render import redirect, render, sign_in_url

log = logging.getLogger("charter.web")

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Not possible right now",
    413: "Too large",
    422: "Please check your input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
_HTTP_MESSAGES = {
    404: "There is no page at this address.",
    405: "This page does not accept that kind of request.",
    413: "What you sent is too large.",
}


def error_page(
    request: Request[Any, Any, Any], status: int, message: str, **context: Any
) -> Response[str]:
    title = TITLES.get(status, "Error")
    return render(
        request,
        "error.html",
        status=status,
        title=title,
        status_code=status,
        message=message,
        **context,
    )


def _sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    return redirect(request, sign_in_url(request))


def _csrf(request: Request[Any, Any, Any], _: CsrfFailed) -> Response[str]:
    message = (
        "This form expired or did not come from a Charter page. "
        "Go back, reload the page and try again."
    )
    return error_page(request, 403, message)


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[str]:
    status = next(code for cls, code in STATUS_OF.items() if isinstance(exc, cls))
    if status == 401:
        return error_page(request, 401, "Please sign in again.")
    return error_page(request, status, exc.message, errors=exc.errors or {})


def _write_race(request: Request[Any, Any, Any], exc: WriteRace) -> Response[str]:
    """A unique constraint refused the write (a concurrent one won): a 409 page."""
    return _domain(request, conflict_of(exc))


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    status = exc.status_code
    if status >= 500:
        return _unexpected(request, exc)
    message = _HTTP_MESSAGES.get(status) or str(exc.detail)
    response = error_page(request, status, message)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    # The id http/request_id.py gave the request: the page, the log and the access
    # line name the same request.
    request_id = request_id_of(request.scope) or new_request_id()
    log.error(
        "unhandled error on %s %s [request %s]",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    message = f"The error was logged (request id {request_id}). Please try again later."
    response = error_page(request, 500, message)
    response.headers["X-Request-Id"] = request_id
    return response


def _database(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[str]:
    """A lost database connection is a 503 page to retry (see http/errors.py)."""
    if not exc.connection_invalidated:
        return _unexpected(request, exc)
    response = error_page(request, 503, "The database is unavailable. Please try again shortly.")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


# The web router's handlers. Status-code keys are listed too: Litestar looks them up
# before exception classes, so the app's JSON 404/405 handlers would win otherwise.
EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignInRequired: _sign_in,
    CsrfFailed: _csrf,
    DomainError: _domain,
    WriteRace: _write_race,
    DBAPIError: _database,
    HTTPException: _http,
    400: _http,
    404: _http,
    405: _http,
    413: _http,
    Exception: _unexpected,
}


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def app_exception_handlers(api_handlers: Mapping[Any, Any]) -> dict[Any, Any]:
    """The app-level handlers: the API's, except that a request matching no route (404,
    405) outside /api gets an HTML page."""

    def by_path(api_handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
        def handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
            if is_api_path(request.url.path):
                return api_handler(request, exc)
            return _http(request, exc)

        return handler

    merged = dict(api_handlers)
    for status in (404, 405):
        if status in merged:
            merged[status] = by_path(merged[status])
    return merged
