"""Every web route, gathered by `web_routes(max_form_bytes)`, which create_app mounts at
`/` next to the API (ROUTES: the same with the default form limit). Add a page
module's ROUTES to PAGES."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.exceptions import NotFoundException
from litestar.static_files import create_static_files_router

from charter.attachments import pages as attachment_files
from charter.automation import pages as automation
from charter.catalog import pages as styles
from charter.dashboard import pages as dashboard
from charter.debriefs import pages as debriefs
from charter.projects import member_pages as members
from charter.projects import pages as projects
from charter.projects import settings_pages as project_settings
from charter.sbtm import pages as sbtm
from charter.sbtm import sheet_pages
from charter.sessions import edit_pages as sessions_form
from charter.sessions import pages as sessions
from charter.sessions import run_pages as session_run
from charter.settings import Settings
from charter.signin import pages as signin
from charter.trackers import pages as trackers
from charter.users import pages as account
from charter.web.csrf import check_csrf
from charter.web.errors import EXCEPTION_HANDLERS

STATIC_DIR = Path(__file__).parent / "web" / "static"


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
    *project_settings.ROUTES,
    *dashboard.ROUTES,
    *sessions.ROUTES,
    *sessions_form.ROUTES,
    *session_run.ROUTES,
    *debriefs.ROUTES,
    *automation.ROUTES,
    *attachment_files.ROUTES,
    *trackers.ROUTES,
    *sbtm.ROUTES,
    *sheet_pages.ROUTES,
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
