"""The automation pages: a project's runs with filters, one run (threads, tests by
status, failure messages and console output, links), and a milestone's sessions and
runs side by side; members only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.auth.service import User
from charter.automation import service as automation_service
from charter.db.engine import Database
from charter.milestones import service as milestone_service

Client = Callable[[str], TestClient[Any]]


@pytest.fixture(scope="module")
def runs(web_demo_url: str) -> dict[str, int]:
    db = Database(web_demo_url)
    with db.write() as conn:
        row = conn.execute(
            sa.text("SELECT id, name, email FROM users WHERE email = 'alan@example.com'")
        ).one()
        admin_id = conn.execute(sa.text("SELECT MIN(id) FROM users WHERE is_admin")).scalar_one()
        milestone = milestone_service.new_milestone(conn, 1, "Release 9", admin_id)
        tester = User(row.id, row.name, row.email, False, None, None, None)
        failing = automation_service.create_run(
            conn,
            tester,
            1,
            {
                "name": "Nightly <b>UI</b>",
                "source": "ui-suite",
                "milestone_id": milestone,
                "tags": ["nightly"],
                "links": [{"name": "Build 7", "url": "https://ci.example.com/7"}],
            },
        )
        thread = automation_service.create_thread(conn, tester, failing, {})
        tests = [
            {"name": "test_login", "status": "passed", "folder": "ui.auth"},
            {
                "name": "test_checkout",
                "status": "failure",
                "folder": "ui.cart",
                "fields": [
                    {"type": 4, "name": "Failure", "value": "AssertionError: <total> 3 != 4"},
                    {"type": 4, "name": "Output", "value": "clicked pay\nwaited 2s"},
                ],
            },
        ]
        automation_service.append_to_thread(conn, tester, thread, {"tests": tests})
        automation_service.complete_run(conn, tester, failing, {})
        passing = automation_service.create_run(conn, tester, 1, {"name": "Smoke", "source": "api"})
    db.close()
    return {"failing": failing, "passing": passing, "milestone": milestone}


def test_runs_list_filters(web_client: Client, runs: dict[str, int]) -> None:
    page = web_client("viewer").get("/projects/1/automation", params={"per_page": "100"})
    assert page.status_code == 200
    assert "Nightly &lt;b&gt;UI&lt;/b&gt;" in page.text and "Smoke" in page.text
    failed = web_client("viewer").get("/projects/1/automation", params={"status": "3"})
    assert "Nightly" in failed.text and "Smoke" not in failed.text
    tagged = web_client("viewer").get("/projects/1/automation", params={"tags": "nightly"})
    assert "Smoke" not in tagged.text
    bad = web_client("viewer").get("/projects/1/automation", params={"per_page": "7"})
    assert bad.status_code == 422 and "per_page" in bad.text


def test_run_page_shows_failures_and_console(web_client: Client, runs: dict[str, int]) -> None:
    page = web_client("viewer").get(f"/automation/runs/{runs['failing']}")
    assert page.status_code == 200
    assert "AssertionError: &lt;total&gt; 3 != 4" in page.text
    assert "clicked pay\nwaited 2s" in page.text
    assert "Build 7" in page.text and "Thread 1" in page.text
    only_failed = web_client("viewer").get(
        f"/automation/runs/{runs['failing']}", params={"status_id": "3"}
    )
    assert "test_checkout" in only_failed.text and "test_login" not in only_failed.text


def test_milestone_shows_sessions_and_runs(web_client: Client, runs: dict[str, int]) -> None:
    page = web_client("viewer").get(f"/milestones/{runs['milestone']}")
    assert page.status_code == 200
    assert "Automation runs (1)" in page.text and "Sessions (" in page.text


def test_outsiders_see_nothing(web_client: Client, runs: dict[str, int]) -> None:
    for path in (
        "/projects/1/automation",
        f"/automation/runs/{runs['failing']}",
        f"/milestones/{runs['milestone']}",
    ):
        assert web_client("outsider").get(path).status_code == 403, path
    assert web_client("viewer").get("/automation/runs/999999").status_code == 404
