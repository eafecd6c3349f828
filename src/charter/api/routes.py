"""Every route handler of the API, gathered from the namespace modules."""

from __future__ import annotations

from typing import Any

from charter.api import (
    accounts,
    admin,
    admin_catalog,
    admin_milestones,
    milestones,
    projects,
    results,
    sessions,
    users,
)

ROUTES: list[Any] = [
    *sessions.ROUTES,
    *results.ROUTES,
    *projects.ROUTES,
    *admin.ROUTES,
    *admin_milestones.ROUTES,
    *admin_catalog.ROUTES,
    *milestones.ROUTES,
    *users.ROUTES,
    *accounts.ROUTES,
]
