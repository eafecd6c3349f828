"""Every web route, gathered into ROUTES, which create_app mounts at `/` next to the
API. Add a page module's ROUTES to PAGES."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.static_files import create_static_files_router

from charter.automation import pages as automation
from charter.catalog import pages as styles
from charter.dashboard import pages as dashboard
from charter.projects import member_pages as members
from charter.projects import pages as projects
from charter.sessions import edit_pages as sessions_form
from charter.sessions import pages as sessions
from charter.sessions import run_pages as session_run
from charter.signin import pages as signin
from charter.users import pages as account
from charter.web.csrf import check_csrf
from charter.web.errors import EXCEPTION_HANDLERS

STATIC_DIR = Path(__file__).parent / "web" / "static"


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
    *automation.ROUTES,
]


ROUTES: list[Any] = [
    Router(
        path="/",
        route_handlers=PAGES,
        before_request=check_csrf,  # every unsafe method needs the CSRF token
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    ),
    create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        include_in_schema=False,
        exception_handlers=EXCEPTION_HANDLERS,
    ),
]
