"""A project's dashboard page: headline counters and three charts (sessions by state,
results by status per day, time spent per tester) for a window of days, each chart
with its numbers in a table beside it. The figures come from dashboard/read.py."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from markupsafe import Markup
from sqlalchemy.engine import Connection

from charter.auth.service import User
from charter.dashboard import read as dashboard_read
from charter.http.deps import path_id
from charter.web.charts import Bar, Series, bar_chart, stacked_bar_chart
from charter.web.guard import web_read
from charter.web.render import render

DAY_CHOICES = (7, 14, 30, 60, 90)


# Workflow states carry no colour of their own: a calm, colour-blind-safe palette.
STATE_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d")


TESTER_COLOUR = "#1f5fa8"


MICROS_PER_MINUTE = 60_000_000


def duration(micros: int) -> str:
    """Microseconds as '3 h 05 min' (or '12 min')."""
    minutes = round(micros / MICROS_PER_MINUTE)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:,} h {minutes:02d} min" if hours else f"{minutes} min"


def _hours(micros: float) -> str:
    return duration(int(micros))


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def charts(board: dashboard_read.Dashboard) -> dict[str, Markup]:
    """The page's SVG charts (every label escaped by web/charts.py)."""
    window = f"{board.window.first.isoformat()} to {board.window.last.isoformat()}"
    states = [
        Bar(s.name, s.sessions, STATE_COLOURS[i % len(STATE_COLOURS)])
        for i, s in enumerate(board.states)
    ]
    shown = [s for s in board.statuses if s.total or s.status_id is not None]
    series = [Series(s.name, s.per_day, s.colour) for s in shown]
    testers = [Bar(t.name, t.elapsed, TESTER_COLOUR) for t in board.testers]
    return {
        "states": Markup(bar_chart(states, f"Sessions created {window}, by state")),
        "results": Markup(
            stacked_bar_chart(
                [day_label(d) for d in board.window.days],
                series,
                f"Results per day by status, {window}",
                width=760,
                height=280,
                counts=True,  # whole results: integer ticks only
            )
        ),
        "testers": Markup(
            bar_chart(testers, f"Time spent per tester, {window}", value_text=_hours)
        ),
    }


@get("/projects/{project_id:str}/dashboard", name="project_dashboard")
async def dashboard_page(
    request: Request[Any, Any, Any],
    project_id: FromPath[str],
    days: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> dashboard_read.Dashboard:
        # Parsed after signing in (a signed-out browser goes to the sign-in page
        # first); a bad value is a 422 page naming the parameter.
        length = dashboard_read.parse_days(days)
        last = dashboard_read.parse_until(until)
        return dashboard_read.project_dashboard(conn, user, pid, length, last)

    board = await web_read(request, work)
    base = f"/projects/{pid}/dashboard"
    day_links = [
        (n, base + "?" + urlencode({"days": n, **({"until": until} if until else {})}))
        for n in DAY_CHOICES
    ]
    return render(
        request,
        "dashboard/project.html",
        title=f"{board.project['name']}: dashboard",
        board=board,
        charts=charts(board),
        day_links=day_links,
        day_choices=DAY_CHOICES,
        max_days=dashboard_read.MAX_DAYS,
        duration=duration,
        day_label=day_label,
        until=until or "",
    )


ROUTES: list[Any] = [dashboard_page]
