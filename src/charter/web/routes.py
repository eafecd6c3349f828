"""Every web route, gathered into ROUTES, which create_app mounts at `/` next to the
API. Add a page module's ROUTES to PAGES."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.exceptions import NotFoundException
from litestar.static_files import create_static_files_router

from charter.settings import Settings
from charter.web import (
    account,
    dashboard,
    members,
    projects,
    sessions,
    sessions_form,
    signin,
    styles,
)
from charter.web import run as session_run
from charter.web.csrf import check_csrf
from charter.web.errors import EXCEPTION_HANDLERS

STATIC_DIR = Path(__file__).parent / "static"


async def _no_nul_in_path(request: Request[Any, Any, Any]) -> None:
    """A static path holding NUL names no file (os.stat would raise on it): 404."""
    if "\x00" in request.scope["path"]:
        raise NotFoundException()


PAGES: list[Any] = [
    *signin.ROUTES,
    *projects.ROUTES,
    *styles.ROUTES,
    *account.ROUTES,
    *members.ROUTES,
    *dashboard.ROUTES,
    *sessions.ROUTES,
    *sessions_form.ROUTES,
    *session_run.ROUTES,
]


def web_routes(max_form_bytes: int) -> list[Any]:
    """The web UI's routers; a body over `max_form_bytes` (CHARTER_MAX_FORM_BYTES) is
    413 on every page route, before it is parsed."""
    return [
        Router(
            path="/",
            route_handlers=PAGES,
            before_request=check_csrf,  # every unsafe method needs the CSRF token
            exception_handlers=EXCEPTION_HANDLERS,
            include_in_schema=False,
            request_max_body_size=max_form_bytes,
        ),
        create_static_files_router(
            path="/static",
            directories=[STATIC_DIR],
            name="static",
            include_in_schema=False,
            before_request=_no_nul_in_path,
            exception_handlers=EXCEPTION_HANDLERS,
        ),
    ]


ROUTES: list[Any] = web_routes(Settings().max_form_bytes)
