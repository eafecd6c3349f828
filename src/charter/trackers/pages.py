"""The project's issue tracker settings page (managers change it, members read it)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.core.errors import Forbidden, Invalid
from charter.http.deps import path_id
from charter.trackers import read as tracker_read
from charter.trackers import service as tracker_service
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render


def _page_data(conn: Connection, user: User, pid: int) -> dict[str, Any]:
    project = dict(require_project(conn, user, pid, "read"))
    try:
        require_access(conn, user, pid, "manage")
        may_manage = True
    except Forbidden:
        may_manage = False
    tracker = tracker_read.tracker_of(conn, pid)
    values = {"new_issue_url": tracker.new_issue_url, "issue_url": tracker.issue_url}
    return {"project": project, "may_manage": may_manage, "values": values}


@get("/projects/{project_id:str}/tracker", name="web_tracker")
async def tracker_page(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[str]:
    pid = path_id(project_id, "Project")
    data = await web_read(request, lambda conn, user: _page_data(conn, user, pid))
    return render(request, "trackers/edit.html", title="Issue tracker", errors={}, **data)


@post("/projects/{project_id:str}/tracker", status_code=200, name="web_tracker_save")
async def save_tracker(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    pid = path_id(project_id, "Project")
    form = await request.form()
    new_issue_url = str(form.get("new_issue_url") or "")[:10_000]
    issue_url = str(form.get("issue_url") or "")[:10_000]

    def work(conn: Connection, user: User) -> None:
        tracker_service.save_tracker(conn, user, pid, new_issue_url, issue_url)

    try:
        await web_write(request, work)
    except Invalid as exc:
        data = await web_read(request, lambda conn, user: _page_data(conn, user, pid))
        data["values"] = {"new_issue_url": new_issue_url, "issue_url": issue_url}
        return render(
            request,
            "trackers/edit.html",
            status=422,
            title="Issue tracker",
            errors=exc.errors or {},
            **data,
        )
    return redirect(request, f"/projects/{pid}/tracker", "Issue tracker saved.")


ROUTES = [tracker_page, save_tracker]
