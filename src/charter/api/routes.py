"""Every route handler of the API, gathered from the namespace modules."""

from __future__ import annotations

from typing import Any

from charter.api import projects, results, sessions

ROUTES: list[Any] = [
    *sessions.ROUTES,
    *results.ROUTES,
    *projects.ROUTES,
]
