"""A project's members page: everyone who can see the project sees who is in it;
project managers and site admins add and remove members and change their roles."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.core.errors import Conflict, Forbidden, Invalid, NotFound
from charter.core.inputs import parse_id
from charter.core.listing import ListQuery
from charter.db.conflicts import WriteRace
from charter.db.tables import ROLE_NAMES
from charter.http.deps import path_id
from charter.projects import service as project_service
from charter.web.forms import form_of
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render

MAX_MEMBERS_SHOWN = 1000


_MEMBERS = ListQuery(per_page=MAX_MEMBERS_SHOWN, sort="name", descending=False)


def _may_manage(conn: Connection, user: User, project_id: int) -> bool:
    try:
        require_access(conn, user, project_id, "manage")
    except Forbidden:
        return False
    return True


@get("/projects/{project_id:str}/members", name="members")
async def members_page(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[str]:
    def work(conn: Connection, user: User) -> dict[str, Any]:
        pid = path_id(project_id, "Project")
        project = require_project(conn, user, pid, "read")
        members = project_service.list_members(conn, pid, _MEMBERS)
        manage = _may_manage(conn, user, pid)
        # Only the users the manager may know of (a site admin: everyone).
        candidates = project_service.member_candidates(conn, user, pid) if manage else []
        return {
            "project": {"id": project["id"], "name": project["name"]},
            "members": members.rows,
            "total": members.total,
            "may_manage": manage,
            "candidates": candidates,
        }

    context = await web_read(request, work)
    title = f"Members of {context['project']['name']}"
    return render(request, "members.html", title=title, roles=ROLE_NAMES, **context)


async def _change(
    request: Request[Any, Any, Any], project_id: str, change: Any, done: str
) -> Response[Any]:
    """Run `change(conn, user, pid)` as a manager; a refused change (the last manager, a bad
    role) comes back as an error message on the members page."""
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> None:
        require_project(conn, user, pid, "manage")
        change(conn, user, pid)

    to = f"/projects/{pid}/members"
    try:
        await web_write(request, work)
    except (Conflict, Invalid, WriteRace) as exc:  # a concurrent add won: 409
        detail = "; ".join(" ".join(v) for v in (exc.errors or {}).values())
        return redirect(request, to, f"{exc.message} {detail}".strip(), "error")
    return redirect(request, to, done)


@post("/projects/{project_id:str}/members", status_code=303)
async def add_member(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    form = await form_of(request)

    def change(conn: Connection, user: User, pid: int) -> None:
        user_id = parse_id(form.get("user_id", ""))
        if user_id is None:
            raise Invalid.field("user_id", "Choose a user.")
        try:
            project_service.set_member_role(
                conn, pid, user_id, {"role": form.get("role")}, actor=user
            )
        except NotFound:
            raise Invalid.field("user_id", "No such user.") from None

    return await _change(request, project_id, change, "Member added.")


@post("/projects/{project_id:str}/members/{user_id:str}/role", status_code=303)
async def change_role(
    request: Request[Any, Any, Any], project_id: FromPath[str], user_id: FromPath[str]
) -> Response[Any]:
    form = await form_of(request)
    uid = path_id(user_id, "User")

    def change(conn: Connection, user: User, pid: int) -> None:
        project_service.member_view(conn, pid, uid)  # NotFound unless a member
        project_service.set_member_role(conn, pid, uid, {"role": form.get("role")}, actor=user)

    return await _change(request, project_id, change, "Role changed.")


@post("/projects/{project_id:str}/members/{user_id:str}/remove", status_code=303)
async def remove_member(
    request: Request[Any, Any, Any], project_id: FromPath[str], user_id: FromPath[str]
) -> Response[Any]:
    uid = path_id(user_id, "User")

    def change(conn: Connection, _user: User, pid: int) -> None:
        project_service.remove_member(conn, pid, uid)

    return await _change(request, project_id, change, "Member removed.")


ROUTES: list[Any] = [members_page, add_member, change_role, remove_member]
