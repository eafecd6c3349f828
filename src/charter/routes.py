"""Every route handler of the API, gathered from the resource packages. The order is
the order of the OpenAPI document's paths."""

from __future__ import annotations

from typing import Any

from charter.attachments import routes as attachments
from charter.automation import routes as automation
from charter.catalog import routes as catalog
from charter.debriefs import routes as debriefs
from charter.milestones import routes as milestones
from charter.projects import routes as projects
from charter.results import routes as results
from charter.sbtm import routes as sbtm
from charter.sbtm import sheet_routes
from charter.sessions import routes as sessions
from charter.users import routes as users

ROUTES: list[Any] = [
    *sessions.ROUTES,
    *results.ROUTES,
    *attachments.ROUTES,
    *debriefs.ROUTES,
    *projects.READ_ROUTES,
    *projects.ADMIN_ROUTES,
    *milestones.ADMIN_ROUTES,
    *catalog.ROUTES,
    *milestones.READ_ROUTES,
    *users.READ_ROUTES,
    *users.ACCOUNT_ROUTES,
    *automation.ROUTES,
    *sbtm.ROUTES,
    *sheet_routes.ROUTES,
]
