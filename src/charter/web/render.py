"""Rendering pages: one Jinja2 environment (autoescaped) and `render(...)`, which adds
what every page needs: the signed-in user, the CSRF token and the flash messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.datastructures import Cookie
from markupsafe import Markup, escape

from charter.web import cookies
from charter.web.csrf import FIELD, token_for
from charter.web.guard import current_user

TEMPLATES = Path(__file__).parent / "templates"
HTML = "text/html"  # Litestar adds "; charset=utf-8"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@pass_context
def csrf_field(context: Context) -> Markup:
    """`{{ csrf_field() }}` inside every <form method="post">."""
    token = escape(context["csrf_token"])
    return Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')


env.globals["csrf_field"] = csrf_field


def render(
    request: Request[Any, Any, Any], template: str, status: int = 200, **context: Any
) -> Response[str]:
    """The page `template` rendered with `context` plus `user`, `csrf_token`,
    `flashes` and `path`; a text/html Response with status `status`."""
    flashes = cookies.read_flashes(request)
    context.setdefault("user", current_user(request))
    context.setdefault("csrf_token", token_for(request))
    context.setdefault("flashes", flashes)
    context.setdefault("path", request.url.path)
    html = env.get_template(template).render(**context)
    set_cookies: list[Cookie] = []
    new_secret = getattr(request.state, "new_csrf_secret", None)
    if new_secret is not None:
        set_cookies.append(cookies.make(request, cookies.CSRF, new_secret))
    if flashes:
        set_cookies.append(cookies.expired(request, cookies.FLASH))
    return Response(
        content=html,
        status_code=status,
        media_type=HTML,
        cookies=set_cookies,
        headers={"Cache-Control": "no-store"},
    )


def redirect(
    request: Request[Any, Any, Any], to: str, message: str | None = None, level: str = "success"
) -> Response[Any]:
    """After a form POST: 303 to `to` (an htmx request gets HX-Redirect instead, so the
    whole page changes), with an optional flash message for the next page. `to` always
    passes `local_path`: no redirect of the web UI can leave the site."""
    to = local_path(to)
    if request.headers.get("hx-request") == "true":
        response: Response[Any] = Response(content=b"", status_code=204)
        response.headers["HX-Redirect"] = to
    else:
        response = Response(content=b"", status_code=303, headers={"Location": to})
    if message:
        cookies.add_flash(request, response, message, level)
    return response


# Refused outright in a redirect target: controls (browsers drop tabs and newlines, so
# "/\t/evil.example" becomes "//evil.example") and backslashes (read as slashes).
_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


def _encoded(text: str, safe: str) -> str:
    """`text` percent-encoded, existing %XX escapes kept (a lone % is encoded)."""
    return quote(_LONE_PERCENT.sub("%25", text), safe=safe)


def local_path(target: str | None, default: str = "/") -> str:
    """The same-origin path `target` names, rebuilt from its parsed form, else `default`:
    no control characters or backslashes, no scheme or host, a path starting with one
    "/", everything outside the URL's safe characters percent-encoded (so the Location
    header is plain ASCII). THE check of every redirect target (`redirect`, `next=`)."""
    if not target or _REFUSED.search(target):
        return default
    parts = urlsplit(target)
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return default
    rebuilt = _encoded(path, _PATH_SAFE)
    if parts.query:
        rebuilt += "?" + _encoded(parts.query, _QUERY_SAFE)
    if parts.fragment:
        rebuilt += "#" + _encoded(parts.fragment, _QUERY_SAFE)
    return rebuilt


def sign_in_url(request: Request[Any, Any, Any]) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if here == "/" else f"/login?next={quote(here, safe='')}"
