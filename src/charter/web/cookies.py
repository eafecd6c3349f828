"""The web UI's cookies: the sign-in session, the CSRF secret of a signed-out browser,
and one-shot flash messages. All HttpOnly and SameSite=Lax; Secure over HTTPS."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie

from charter.settings import Settings

SESSION = "charter_session"
CSRF = "charter_csrf"  # only for signed-out browsers (the sign-in form)
FLASH = "charter_flash"
MAX_FLASHES = 5


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or Settings()


def is_secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https" or settings_of(request).secure_cookies


def make(
    request: Request[Any, Any, Any], name: str, value: str, max_age: int | None = None
) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def expired(request: Request[Any, Any, Any], name: str) -> Cookie:
    return Cookie(
        key=name,
        value="",
        path="/",
        max_age=0,
        expires=0,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


# --- flash messages: shown once on the next page -----------------------------------


def encode_flashes(flashes: list[tuple[str, str]]) -> str:
    raw = json.dumps(flashes[-MAX_FLASHES:]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_flashes(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """The pending flash messages; a malformed cookie counts as none."""
    raw = request.cookies.get(FLASH)
    if not raw:
        return []
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return [
            (str(level), str(text))
            for level, text in decoded[:MAX_FLASHES]
            if level in ("success", "info", "error")
        ]
    except (ValueError, TypeError, RecursionError):  # a forged cookie nesting deeply
        return []


def add_flash(
    request: Request[Any, Any, Any], response: Response[Any], text: str, level: str = "success"
) -> None:
    """Show `text` on the next page rendered (after a redirect)."""
    response.set_cookie(make(request, FLASH, encode_flashes([(level, text)]), max_age=300))
