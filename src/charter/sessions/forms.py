"""What the web UI's session pages need beyond the API's views: the choices a session
form and the list filters offer, whether the user may run sessions, and a session's
live timer. Reads only; the writes go through sessions/service.py and results/service.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth import permissions
from charter.auth.permissions import Action, require_access, require_project
from charter.auth.service import User
from charter.catalog import read as catalog_read
from charter.catalog import service as catalog_service
from charter.core.clock import utcnow
from charter.core.errors import Forbidden, NotFound
from charter.core.listing import ListQuery
from charter.milestones import read as milestone_read
from charter.projects import service as project_service
from charter.sessions import queries as session_queries
from charter.sessions import service as session_service
from charter.sessions.timer import elapsed_at
from charter.users import read as user_read

# Reference lists are small (site-wide templates, states and issues; a project's
# configs, milestones and members); a form offers at most this many of each.
MAX_CHOICES = 1000


@dataclass(frozen=True)
class Choices:
    """Options of the session form and filters, each a list of dicts with id and name.
    `templates` carry their session-scope `fields`, each with its dropdown `values`."""

    templates: list[dict[str, Any]]
    states: list[dict[str, Any]]
    configs: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    members: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    # The members a session may be assigned to (testers and managers; not viewers).
    assignees: list[dict[str, Any]] = field(default_factory=list)

    def template(self, template_id: int | None) -> dict[str, Any] | None:
        """The template with this id, or the default one for None."""
        for t in self.templates:
            if t["id"] == template_id or (template_id is None and t["is_default"]):
                return t
        return None


def _all(sort: str = "id") -> ListQuery:
    return ListQuery(per_page=MAX_CHOICES, sort=sort, descending=False)


def form_choices(
    conn: Connection, user: User, project_id: int, *, with_issues: bool = True
) -> Choices:
    """Everything a session form of `project_id` offers (Forbidden unless `user` may
    read the project)."""
    require_project(conn, user, project_id, "read")
    templates = catalog_service.list_templates(conn, _all()).rows
    for t in templates:
        t["fields"] = [f for f in t["fields"] if f["scope"] == "session"]
    issues = issue_choices(conn) if with_issues else []
    return Choices(
        templates=templates,
        states=catalog_service.list_states(conn, _all("display_order")).rows,
        configs=project_service.list_configs(conn, project_id, _all()).rows,
        milestones=milestone_read.list_milestones(conn, user, project_id, _all()).rows,
        # Who a session may be assigned to (sessions/service.py checks the same).
        members=[
            m
            for m in user_read.list_project_users(conn, user, project_id, _all()).rows
            if permissions.member_role(conn, project_id, m["id"]) in session_service.ASSIGNEE_ROLES
        ],
        issues=issues,
        statuses=catalog_read.active_statuses(conn),
        assignees=assignee_choices(conn, project_id),
    )


ASSIGNABLE_ROLES = frozenset({"tester", "manager"})  # viewers cannot run sessions


def assignee_choices(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """Members who may run sessions ({id, name}): a viewer is never offered."""
    members = project_service.list_members(conn, project_id, _all()).rows
    return [
        {"id": m["user_id"], "name": m["name"]} for m in members if m["role"] in ASSIGNABLE_ROLES
    ]


def result_fields(conn: Connection, session_id: int) -> list[dict[str, Any]]:
    """The result-scope custom fields of the session's template (the note box shows
    them), each with its dropdown `values`."""
    row = session_queries.session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    for t in catalog_service.list_templates(conn, _all()).rows:
        if t["id"] == row["template_id"]:
            return [f for f in t["fields"] if f["scope"] == "result"]
    return []


def issue_choices(conn: Connection) -> list[dict[str, Any]]:
    """The external issues a session or a note can link (site-wide)."""
    return catalog_service.list_issues(conn, _all()).rows


def user_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    """Names of users by id (note authors), whatever their membership."""
    return {u["id"]: u["name"] for u in user_read.user_names(conn, ids)}


def may(conn: Connection, user: User, project_id: int, action: Action) -> bool:
    """Whether `user` may do `action` in the project (which is known to exist)."""
    try:
        require_access(conn, user, project_id, action)
    except Forbidden:
        return False
    return True


def project_of_session(conn: Connection, user: User, session_id: int, action: Action) -> int:
    """The session's project id, once `user` may do `action` there."""
    row = session_queries.session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    project_id = int(row["project_id"])
    require_project(conn, user, project_id, action)
    return project_id


@dataclass(frozen=True)
class Extras:
    """What a session page shows that the API's session object does not carry: the
    charter text and the timer now (microseconds run so far, and whether it runs)."""

    charter: str | None
    elapsed: int
    running: bool


def extras_of(conn: Connection, session_id: int) -> Extras:
    row = session_queries.session_by_id(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    elapsed = elapsed_at(row["elapsed"], row["running_since"], utcnow()) or 0
    return Extras(row["charter"], elapsed, row["running_since"] is not None)
