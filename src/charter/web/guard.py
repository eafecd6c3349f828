"""Who is signed in: the guard of every page, and running a page's database work in
one hop authenticated by the session cookie (the web twin of api/deps.read_as_user)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy.engine import Connection

from charter.auth import logins
from charter.auth.service import User
from charter.core.errors import Unauthenticated
from charter.http.deps import database
from charter.web import cookies

T = TypeVar("T")


class SignInRequired(Exception):
    """No live session: the error handler redirects to the sign-in page."""


def _secret(request: Request[Any, Any, Any]) -> str:
    secret = request.cookies.get(cookies.SESSION)
    if not secret:
        raise SignInRequired()
    return secret


async def _run(
    request: Request[Any, Any, Any], work: Callable[[Connection, User], T], write: bool
) -> T:
    secret = _secret(request)
    db = database(request)
    state = request.state

    def job() -> T:
        with db.write() if write else db.read() as conn:
            try:
                user, touch_due = logins.session_user(conn, secret)
            except Unauthenticated:
                raise SignInRequired() from None
            state.web_user = user  # for the page chrome, even if `work` fails
            if touch_due and write:
                logins.touch(conn, secret)
                touch_due = False
            result = work(conn, user)
        if touch_due:
            with db.write() as conn:
                logins.touch(conn, secret)
        return result

    return await db.run(job)


async def web_read(request: Request[Any, Any, Any], work: Callable[[Connection, User], T]) -> T:
    """Authenticate the session cookie and run `work(conn, user)` in one read
    transaction; SignInRequired (a redirect to /login) without a live session."""
    return await _run(request, work, write=False)


async def web_write(request: Request[Any, Any, Any], work: Callable[[Connection, User], T]) -> T:
    """The same in one write transaction (all or nothing). CSRF was checked already:
    the web router's before_request hook refuses unsafe methods without the token."""
    return await _run(request, work, write=True)


async def page_user(request: Request[Any, Any, Any]) -> User:
    """The signed-in user (a page that needs no other database work)."""
    return await web_read(request, lambda _conn, user: user)


async def optional_user(request: Request[Any, Any, Any]) -> User | None:
    """The signed-in user, or None for a signed-out browser."""
    try:
        return await page_user(request)
    except SignInRequired:
        return None


def current_user(request: Request[Any, Any, Any]) -> User | None:
    """The user the guard found for this request, if it ran (no database work)."""
    user: User | None = getattr(request.state, "web_user", None)
    return user
