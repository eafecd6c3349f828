"""CSRF protection for every unsafe request to a web route.

The token is derived from the browser's HttpOnly cookie secret (the sign-in session,
or before sign-in a `charter_csrf` cookie): another site can make the browser send the
cookie but can neither read it nor compute the token. Forms send the token in the
hidden field `csrf_token` (`{{ csrf_field() }}`), htmx in the `X-CSRF-Token` header
(static/app.js copies it from `<meta name="csrf-token">`).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Request

from charter.domain.web_sessions import csrf_token
from charter.web import cookies

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(Exception):
    """An unsafe request without the right CSRF token (a 403 page)."""


def _cookie_secret(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(cookies.SESSION) or request.cookies.get(cookies.CSRF)


def token_for(request: Request[Any, Any, Any]) -> str:
    """The token pages embed. A browser with neither cookie gets a fresh CSRF secret,
    which `render` sets as a cookie (request.state.new_csrf_secret)."""
    secret = _cookie_secret(request) or getattr(request.state, "new_csrf_secret", None)
    if secret is None:
        secret = secrets.token_urlsafe(32)
        request.state.new_csrf_secret = secret
    return csrf_token(secret)


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """before_request hook of the web router: refuse an unsafe method without the token.
    A request without a session or CSRF cookie cannot pass, so it is refused before its
    body is read or parsed (an unauthenticated client must not make the server work);
    other bodies are bounded by CHARTER_MAX_FORM_BYTES (413) before they are parsed."""
    if request.method in SAFE_METHODS:
        return
    secret = _cookie_secret(request)
    if not secret:
        raise CsrfFailed()
    sent = request.headers.get(HEADER)
    if sent is None and request.content_type[0] in _FORM_TYPES:
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    if not secret or not sent or not hmac.compare_digest(sent, csrf_token(secret)):
        raise CsrfFailed()
