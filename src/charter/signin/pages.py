"""Signing in with email and password, and signing out."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import FromQuery

from charter.auth import logins
from charter.core.errors import Unauthenticated
from charter.http.deps import database
from charter.http.throttle import SharedThrottle, client_address
from charter.web import cookies
from charter.web.errors import error_page
from charter.web.forms import form_of
from charter.web.guard import optional_user
from charter.web.render import local_path, redirect, render

log = logging.getLogger("charter.web")


# Failed sign-ins allowed per email and per client address in a window; then 429.
EMAIL_FAILURES = 5


ADDRESS_FAILURES = 30


FAILURE_WINDOW_SECONDS = 300


def _throttles(request: Request[Any, Any, Any]) -> tuple[SharedThrottle, SharedThrottle]:
    """(per email, per address): counts in the database, shared by every worker."""
    state = request.app.state
    pair: tuple[SharedThrottle, SharedThrottle] | None = getattr(
        state, "web_sign_in_throttles", None
    )
    if pair is None:
        pair = (
            SharedThrottle("sign-in-email", EMAIL_FAILURES, FAILURE_WINDOW_SECONDS),
            SharedThrottle("sign-in-address", ADDRESS_FAILURES, FAILURE_WINDOW_SECONDS),
        )
        state.web_sign_in_throttles = pair
    return pair


@get("/login", name="login")
async def login_page(
    request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Response[Any]:
    target = local_path(next)
    if await optional_user(request) is not None:
        return redirect(request, target)
    return render(request, "login.html", title="Sign in", next=target, email="")


@post("/login", status_code=303)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await form_of(request)
    email = form.get("email", "").strip()
    password = form.get("password", "")
    target = local_path(form.get("next"))
    by_email, by_address = _throttles(request)
    email_key, address_key = email.lower(), client_address(request)
    wait = by_email.retry_after(email_key) or by_address.retry_after(address_key)
    if wait is not None:
        return _throttled(request, wait, email_key, address_key)
    # Reserve the attempt before checking the password, then give it back if it was
    # right: counting only after the (slow) check let a concurrent burst of wrong
    # passwords through before the first failure was counted.
    db = database(request)

    def reserve_and_lookup() -> tuple[int | None, logins.Candidate | None]:
        with db.write() as conn:
            wait = by_email.hit(conn, email_key)
            if wait is None:
                wait = by_address.hit(conn, address_key)
                if wait is not None:
                    by_email.release(conn, email_key)
            if wait is not None:
                return wait, None
            return None, logins.lookup(conn, email)

    wait, candidate = await db.run(reserve_and_lookup)
    if wait is not None or candidate is None:
        return _throttled(request, wait or 1, email_key, address_key)
    try:
        # argon2 takes tens of milliseconds on purpose: not on the DB thread.
        user_id, new_hash = await anyio.to_thread.run_sync(
            logins.check_password, candidate, password
        )
    except Unauthenticated as exc:
        return render(
            request,
            "login.html",
            status=401,
            title="Sign in",
            next=target,
            email=email,
            error=exc.message,
        )
    hours = cookies.settings_of(request).web_session_hours
    lifetime = timedelta(hours=hours)

    def start() -> str:
        with db.write() as conn:
            by_email.release(conn, email_key)  # a right password uses up nothing
            by_address.release(conn, address_key)
            return logins.start(conn, user_id, lifetime, new_hash)

    secret = await db.run(start)
    response = redirect(request, target)
    response.set_cookie(cookies.make(request, cookies.SESSION, secret, max_age=hours * 3600))
    response.set_cookie(cookies.expired(request, cookies.CSRF))
    return response


def _throttled(
    request: Request[Any, Any, Any], wait: int, email_key: str, address_key: str
) -> Response[Any]:
    log.warning("sign-in throttled for %s from %s", email_key[:320], address_key)
    response = error_page(request, 429, f"Too many failed sign-ins. Try again in {wait} seconds.")
    response.headers["Retry-After"] = str(wait)
    return response


@post("/logout", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    secret = request.cookies.get(cookies.SESSION)
    if secret:
        db = database(request)

        def end() -> None:
            with db.write() as conn:
                logins.sign_out(conn, secret)

        await db.run(end)
    response = redirect(request, "/login", "You are signed out.")
    response.set_cookie(cookies.expired(request, cookies.SESSION))
    return response


ROUTES: list[Any] = [login_page, login, logout]
