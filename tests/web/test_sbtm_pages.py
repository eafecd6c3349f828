"""The SBTM dashboard page and the page of the sessions behind its marks: the figures
come from the reports, every bar links to its sessions, bad parameters are 422 and
outsiders are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from litestar.testing import TestClient

from charter.db.engine import Database
from charter.sbtm import service as sbtm_service
from charter.sbtm.schemas import SheetData
from charter.sessions import service as session_service


def _prepare(url: str) -> int:
    """Give a session of project 1 an SBTM sheet; the id of that session."""
    db = Database(url)
    with db.write() as conn:
        sid, assignee = conn.execute(
            sa.text(
                "SELECT id, assignee_id FROM sessions WHERE project_id = 1 AND NOT is_closed"
                " AND NOT is_started AND assignee_id IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).one()
        session_service.start(conn, sid, assignee)
        data = SheetData(
            areas=["Zeta | <Payment>", "Search"],
            tester_ids=[assignee],
            duration_class="long",
            pct_test=70,
            pct_bug=20,
            pct_setup=10,
            pct_charter=75,
            pct_opportunity=25,
        )
        sbtm_service.set_session_sheet(conn, sid, data, assignee)
        sbtm_service.area_ids_for(conn, 1, ["Unexplored corner"])
    db.close()
    return int(sid)


def test_dashboard_and_its_links(
    web_demo_url: str, web_client: Callable[[str], TestClient[Any]]
) -> None:
    sid = _prepare(web_demo_url)
    viewer = web_client("viewer")
    page = viewer.get("/projects/1/sbtm")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert 'href="/projects/1/sbtm/sessions?area=Zeta+%7C+%3CPayment%3E"' in html
    assert "&lt;Payment&gt;" in html and "<Payment>" not in html  # escaped
    assert "not yet explored" in html
    assert "/projects/1/sbtm/sessions?tester_id=" in html
    assert "/projects/1/sbtm/sessions?day=" in html
    listed = viewer.get("/projects/1/sbtm/sessions", params={"area": "zeta"})
    assert listed.status_code == 200
    assert f'href="/sessions/{sid}"' in listed.text
    assert "1 session(s)" in listed.text
    assert viewer.get("/projects/1/sbtm/sessions", params={"day": "soon"}).status_code == 422
    outsider = web_client("outsider")
    assert outsider.get("/projects/1/sbtm").status_code == 403
    assert outsider.get("/projects/1/sbtm/sessions").status_code == 403
