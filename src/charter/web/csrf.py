"""CSRF protection for every unsafe request to a web route.

The token is an HMAC, keyed by a server secret, of the browser's HttpOnly cookie
secret's hash (the sign-in session, or before sign-in a `charter_csrf` cookie;
`logins.csrf_token`): another site can make the browser send the cookie but can
neither read it nor compute the token, even after planting a cookie of its own. Forms
send the token in the
hidden field `csrf_token` (`{{ csrf_field() }}`), htmx in the `X-CSRF-Token` header
(static/app.js copies it from `<meta name="csrf-token">`).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Request

from charter.auth import logins
from charter.web import cookies

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(Exception):
    """An unsafe request without the right CSRF token (a 403 page)."""


def _cookie_secret(request: Request[Any, Any, Any]) -> tuple[str, bool] | None:
    """(the cookie secret the token derives from, whether it is a sign-in session)."""
    session = request.cookies.get(cookies.SESSION)
    if session:
        return session, True
    browser = request.cookies.get(cookies.CSRF)
    return (browser, False) if browser else None


def csrf_token(request: Request[Any, Any, Any], secret: str, signed_in: bool) -> str:
    key: bytes | None = getattr(request.app.state, "csrf_key", None)
    if key is None:  # an app without create_app's startup (error pages in tests)
        key = request.app.state.csrf_key = secrets.token_bytes(32)
    return logins.csrf_token(key, secret, signed_in)


def token_for(request: Request[Any, Any, Any]) -> str:
    """The token pages embed. A browser with neither cookie gets a fresh CSRF secret,
    which `render` sets as a cookie (request.state.new_csrf_secret)."""
    found = _cookie_secret(request)
    if found is not None:
        return csrf_token(request, *found)
    secret = getattr(request.state, "new_csrf_secret", None)
    if secret is None:
        secret = secrets.token_urlsafe(32)
        request.state.new_csrf_secret = secret
    return csrf_token(request, secret, False)


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """before_request hook of the web router: refuse an unsafe method without the token.
    A request without a session or CSRF cookie cannot pass, so it is refused before its
    body is read or parsed (an unauthenticated client must not make the server work);
    other bodies are bounded by CHARTER_MAX_FORM_BYTES (413) before they are parsed."""
    if request.method in SAFE_METHODS:
        return
    found = _cookie_secret(request)
    if found is None:
        raise CsrfFailed()
    sent = request.headers.get(HEADER)
    # A streamed upload (opt={"csrf_header": True}) must send the header: parsing its
    # body for the field would read every file into memory first.
    header_only = request.route_handler.opt.get("csrf_header", False)
    if sent is None and not header_only and request.content_type[0] in _FORM_TYPES:
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(request, *found)):
        raise CsrfFailed()
