"""A project's Settings in the browser (web/crud.py's pattern, the same service calls,
locks and permissions as the API): the project itself (name, note, archive), its
configurations and its milestones, for its managers and site admins; and the list of
all projects, where site admins create them. Members have their own page
(member_pages.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth.permissions import require_admin, require_project
from charter.auth.service import User
from charter.core.listing import ListQuery
from charter.db import tables
from charter.db.locks import row_lock
from charter.milestones import read as milestone_read
from charter.milestones import service as milestone_service
from charter.projects import read as project_read
from charter.projects import service as project_service
from charter.web.crud import Action, Input, Link, Options, Things, routes_of

BY_NAME = ListQuery(per_page=1000, sort="name", descending=False)


def _settings(pid: int) -> str:
    return f"/projects/{pid}/settings"


def _project_crumbs(conn: Connection, user: User, pid: int) -> list[Link]:
    """Managers (and site admins) only: the API's `manage`."""
    project = require_project(conn, user, pid, "manage")
    return [("Projects", "/"), (project["name"], f"/projects/{pid}/sessions")]


def _in_settings(conn: Connection, user: User, pid: int) -> list[Link]:
    return [*_project_crumbs(conn, user, pid), ("Settings", _settings(pid))]


def _admin(_conn: Connection, user: User, _parent: Any) -> list[Link]:
    require_admin(user)
    return [("Administration", "/admin")]


def _project_guard(conn: Connection, user: User, pid: int) -> tuple[int, list[Link]]:
    return pid, _project_crumbs(conn, user, pid)


Transition = Callable[[Connection, int, int, bool], None]  # (conn, id, user id, done)


def _done_and_reopen(what: str, done_verb: str, change: Transition, hint: str) -> Any:
    """The two actions of a project or milestone: complete it (`done_verb`) or reopen
    it, each shown when it applies (the service refuses the same transition twice)."""

    def to(done: bool) -> Any:
        def run(conn: Connection, user: User, key: int, _body: Any) -> None:
            change(conn, key, user.id, done)

        return run

    return (
        Action(
            done_verb.lower(),
            f"{done_verb} {what.lower()}",
            to(True),
            f"{what} {done_verb.lower()}d.",
            shown=lambda item: not item["is_completed"],
            hint=hint,
        ),
        Action(
            "reopen",
            f"Reopen {what.lower()}",
            to(False),
            f"{what} reopened.",
            shown=lambda item: bool(item["is_completed"]),
        ),
    )


PROJECTS = Things(
    name="setup_projects",
    what="Project",
    title="Projects",
    list_path="/admin/projects",
    item_path="/projects/{project_id:str}/settings",
    intro="Site admins create projects; whoever creates one manages it. Its managers "
    "then set it up on its Settings page.",
    inputs=(
        Input("name", "Name", required=True),
        Input("note", "Note", "textarea", hint="what the project is about; optional"),
    ),
    columns=(("name", "Name"), ("is_completed", "Archived"), ("session_count", "Sessions")),
    guard=_admin,
    item_guard=_project_guard,
    rows=lambda conn, user, _p: project_read.list_projects(conn, user, BY_NAME).rows,
    view=project_service.project_written,
    lock=row_lock(tables.projects),
    create=lambda conn, user, _p, body: project_service.create_project(conn, user, body),
    update=lambda conn, user, pid, body: project_service.update_project(conn, pid, user.id, body),
    actions=_done_and_reopen(
        "Project",
        "Archive",
        project_service.set_project_completed,
        "Marks the project completed; its sessions stay readable. Reopen it any time.",
    ),
    links=lambda p: [
        ("Members", f"/projects/{p['id']}/members"),
        ("Configurations", f"/projects/{p['id']}/configs"),
        ("Milestones", f"/projects/{p['id']}/milestones"),
        ("Sessions", f"/projects/{p['id']}/sessions"),
    ],
)


def _config_guard(conn: Connection, user: User, cid: int) -> tuple[int, list[Link]]:
    pid = project_service.config_row(conn, cid)["project_id"]
    return pid, [*_in_settings(conn, user, pid), ("Configurations", f"/projects/{pid}/configs")]


CONFIGS = Things(
    name="setup_configs",
    what="Configuration",
    title="Configurations",
    list_path="/projects/{project_id:str}/configs",
    item_path="/settings/configs/{config_id:str}",
    intro="The environments sessions run in (browser, device, build): a session names one.",
    inputs=(Input("name", "Name", required=True),),
    columns=(("name", "Name"),),
    guard=_in_settings,
    item_guard=_config_guard,
    rows=lambda conn, _u, pid: project_service.list_configs(conn, pid, BY_NAME).rows,
    view=project_service.config_view,
    lock=row_lock(tables.configs),
    create=lambda conn, _u, pid, body: project_service.create_config(conn, pid, body),
    update=lambda conn, _u, cid, body: project_service.update_config(conn, cid, body),
    remove=lambda conn, _u, cid: project_service.delete_config(conn, cid),
)


def _milestone_guard(conn: Connection, user: User, mid: int) -> tuple[int, list[Link]]:
    pid = milestone_service.milestone_row(conn, mid)["project_id"]
    return pid, [*_in_settings(conn, user, pid), ("Milestones", f"/projects/{pid}/milestones")]


def _parents(conn: Connection, user: User, pid: int, item: Mapping[str, Any] | None) -> Options:
    """Every milestone of the project but the one edited (the service refuses cycles)."""
    rows = milestone_read.list_milestones(conn, user, pid, BY_NAME).rows
    return [(str(m["id"]), m["name"]) for m in rows if item is None or m["id"] != item["id"]]


MILESTONES = Things(
    name="setup_milestones",
    what="Milestone",
    title="Milestones",
    list_path="/projects/{project_id:str}/milestones",
    item_path="/settings/milestones/{milestone_id:str}",
    intro="Releases, sprints or test cycles; milestones nest, and sessions name one.",
    inputs=(
        Input("name", "Name", required=True),
        Input("parent_id", "Parent", "ref", blank="None (top level)", options=_parents),
        Input("start_date", "Start date", "date"),
        Input("due_date", "Due date", "date"),
        Input("note", "Note", "textarea"),
    ),
    columns=(
        ("name", "Name"),
        ("start_date", "Start"),
        ("due_date", "Due"),
        ("is_completed", "Completed"),
    ),
    guard=_in_settings,
    item_guard=_milestone_guard,
    rows=lambda conn, user, pid: milestone_read.list_milestones(conn, user, pid, BY_NAME).rows,
    view=milestone_service.milestone_view,
    lock=milestone_service.lock_milestone,
    create=lambda conn, user, pid, body: milestone_service.create_milestone(
        conn, pid, user.id, body
    ),
    update=lambda conn, user, mid, body: milestone_service.update_milestone(
        conn, mid, user.id, body
    ),
    remove=lambda conn, _u, mid: milestone_service.delete_milestone(conn, mid),
    actions=_done_and_reopen(
        "Milestone",
        "Complete",
        milestone_service.set_milestone_completed,
        "Its sessions stay; reopen it any time.",
    ),
)


ROUTES: list[Any] = [
    route for things in (PROJECTS, CONFIGS, MILESTONES) for route in routes_of(things)
]
