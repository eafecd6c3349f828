"""The SBTM dashboard (coverage by area, T/B/S per tester, charter and opportunity over
time, bugs and issues per session unit) and the page of the sessions behind each of
its marks. Server-side SVG (web/charts.py); every bar links to its sessions."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from markupsafe import Markup
from sqlalchemy.engine import Connection

from charter.auth.service import User
from charter.core.errors import Invalid
from charter.core.inputs import parse_id
from charter.http.deps import path_id
from charter.sbtm import read as sbtm_read
from charter.web.charts import Bar, Series, bar_chart, stacked_bar_chart
from charter.web.guard import web_read
from charter.web.render import render

CHARTER_COLOUR = "#4c78a8"
OPPORTUNITY_COLOUR = "#f58518"
TEST_COLOUR = "#54a24b"
BUG_COLOUR = "#e45756"
SETUP_COLOUR = "#9d755d"
ISSUE_COLOUR = "#b279a2"


def sessions_link(project_id: int, **params: Any) -> str:
    return f"/projects/{project_id}/sbtm/sessions?" + urlencode(params)


def per_unit(count: float, units: float) -> float:
    return count / units if units else 0.0


def charts(board: sbtm_read.Board) -> dict[str, Markup]:
    pid = board.project["id"]
    areas = board.areas
    area_links = [sessions_link(pid, area=a["area"]) for a in areas]
    testers = board.testers
    tester_links = [sessions_link(pid, tester_id=t["user_id"]) for t in testers]
    days = board.days
    day_links = [sessions_link(pid, day=d["date"]) for d in days]
    return {
        "areas": Markup(
            stacked_bar_chart(
                [a["area"] for a in areas],
                [
                    Series("On charter", [a["n_charter"] for a in areas], CHARTER_COLOUR),
                    Series("Opportunity", [a["n_opportunity"] for a in areas], OPPORTUNITY_COLOUR),
                ],
                "Session units per area, on charter and opportunity",
                width=760,
                height=280,
                links=area_links,
            )
        ),
        "testers": Markup(
            stacked_bar_chart(
                [t["name"] for t in testers],
                [
                    Series("Test", [t["n_test"] for t in testers], TEST_COLOUR),
                    Series("Bug", [t["n_bug"] for t in testers], BUG_COLOUR),
                    Series("Setup", [t["n_setup"] for t in testers], SETUP_COLOUR),
                ],
                "Test, bug and setup session units per tester",
                width=760,
                height=280,
                links=tester_links,
            )
        ),
        "days": Markup(
            stacked_bar_chart(
                [d["date"] for d in days],
                [
                    Series("On charter", [d["n_charter"] for d in days], CHARTER_COLOUR),
                    Series("Opportunity", [d["n_opportunity"] for d in days], OPPORTUNITY_COLOUR),
                ],
                "Session units per day of start, on charter and opportunity",
                width=760,
                height=280,
                links=day_links,
            )
        ),
        "per_unit": Markup(
            bar_chart(
                [
                    Bar(
                        f"{a['area']}: bugs",
                        per_unit(a["bugs"], a["n_total"]),
                        BUG_COLOUR,
                        link,
                    )
                    for a, link in zip(areas, area_links, strict=True)
                    if a["n_total"]
                ]
                + [
                    Bar(
                        f"{a['area']}: issues",
                        per_unit(a["issues"], a["n_total"]),
                        ISSUE_COLOUR,
                        link,
                    )
                    for a, link in zip(areas, area_links, strict=True)
                    if a["n_total"]
                ],
                "Bugs and issues per session unit, per area",
                width=760,
                label_width=260,
                value_text=lambda v: f"{v:.2f}",
            )
        ),
    }


@get("/projects/{project_id:str}/sbtm", name="web_sbtm_dashboard")
async def dashboard_page(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> sbtm_read.Board:
        return sbtm_read.dashboard(conn, user, pid)

    board = await web_read(request, work)
    return render(
        request,
        "sbtm/dashboard.html",
        title=f"{board.project['name']}: SBTM",
        board=board,
        charts=charts(board),
        sessions_link=sessions_link,
        per_unit=per_unit,
    )


def _day(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid.field("day", "Must be a date (YYYY-MM-DD).") from None


def _id(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise Invalid.field(name, "Must be an id.")
    return parsed


@get("/projects/{project_id:str}/sbtm/sessions", name="web_sbtm_sessions")
async def sessions_page(
    request: Request[Any, Any, Any],
    project_id: FromPath[str],
    area: FromQuery[str | None] = None,
    tester_id: FromQuery[str | None] = None,
    day: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> tuple[dict[str, Any], Any]:
        number = _id("page", page) or 1
        return sbtm_read.sessions_page(
            conn, user, pid, area or None, _id("tester_id", tester_id), _day(day), number
        )

    project, rows = await web_read(request, work)
    return render(
        request,
        "sbtm/sessions.html",
        title=f"{project['name']}: SBTM sessions",
        project=project,
        rows=rows,
        area=area,
        tester_id=tester_id,
        day=day,
    )


ROUTES: list[Any] = [dashboard_page, sessions_page]
