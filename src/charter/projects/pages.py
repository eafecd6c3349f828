"""The projects page: every project the user may see, with its session counts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery
from sqlalchemy.engine import Connection

from charter.auth import permissions
from charter.auth.service import User
from charter.core.listing import ListQuery, Page
from charter.projects import read as project_read
from charter.web.guard import web_read
from charter.web.render import render

PER_PAGE = 50


MAX_PAGE = 100_000


def _page_number(raw: str | None) -> int:
    """A bad or absent ?page= shows the first page rather than an error."""
    if raw is None or not raw.isascii() or not raw.isdigit():
        return 1
    return min(max(int(raw), 1), MAX_PAGE)


@get("/", name="projects")
async def projects_page(
    request: Request[Any, Any, Any], page: FromQuery[str | None] = None
) -> Response[str]:
    number = _page_number(page)
    query = ListQuery(page=number, per_page=PER_PAGE, sort="name", descending=False)

    def work(conn: Connection, user: User) -> tuple[Page, set[int]]:
        found = project_read.list_projects(conn, user, query)
        # The projects whose Settings this user may open (a page holds at most 50).
        managed = {
            p["id"]
            for p in found.rows
            if user.is_admin or permissions.member_role(conn, p["id"], user.id) == "manager"
        }
        return found, managed

    result, managed = await web_read(request, work)
    pages = max(1, -(-result.total // PER_PAGE))
    return render(
        request,
        "projects.html",
        title="Projects",
        projects=result.rows,
        total=result.total,
        page=number,
        pages=pages,
        managed=managed,
    )


@get("/projects", name="projects_alias")
async def projects_alias(request: Request[Any, Any, Any]) -> Response[Any]:
    return Response(content=b"", status_code=308, headers={"Location": "/"})


ROUTES: list[Any] = [projects_page, projects_alias]
