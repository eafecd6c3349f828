"""The demo dataset serves through the in-process API."""

from __future__ import annotations

from helpers_db import DEMO_SESSIONS, Api


def test_demo_sessions_are_listed(demo_api: Api) -> None:
    projects = demo_api.get("/api/v1/projects").json()
    total = sum(p["session_count"] for p in projects["result"])
    assert total == DEMO_SESSIONS
    first = projects["result"][-1]["id"]
    page = demo_api.get(f"/api/v1/projects/{first}/sessions", per_page=15).json()
    assert page["per_page"] == 15
    assert len(page["result"]) == min(15, page["total"])
