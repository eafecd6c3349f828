"""Rendering pages: one Jinja2 environment (autoescaped) and `render(...)`, which adds
what every page needs: the signed-in user, the CSRF token and the flash messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    whole page changes), with an optional flash message for the next page."""
    if request.headers.get("hx-request") == "true":
        response: Response[Any] = Response(content=b"", status_code=204)
        response.headers["HX-Redirect"] = to
    else:
        response = Response(content=b"", status_code=303, headers={"Location": to})
    if message:
        cookies.add_flash(request, response, message, level)
    return response


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site (no open redirects), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def sign_in_url(request: Request[Any, Any, Any]) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if here == "/" else f"/login?next={quote(here, safe='')}"
