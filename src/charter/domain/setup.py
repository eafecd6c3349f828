"""Creating what sessions refer to: users, projects, members, milestones, configs,
templates with custom fields, workflow states and external issues."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy.engine import Connection

from charter.db.queries import projects as pq
from charter.db.queries import reference as rq
from charter.db.queries import users as uq
from charter.db.tables import (
    FIELD_TYPES,
    ROLE_NAMES,
    configs,
    field_values,
    issues,
    milestones,
    states,
    template_fields,
    templates,
)
from charter.domain.clock import utcnow
from charter.domain.errors import Conflict, Invalid, NotFound

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _required_text(name: str, value: str, max_len: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid.field(name, f"The {name} must not be empty.")
    if len(value) > max_len:
        raise Invalid.field(name, f"The {name} must be at most {max_len} characters.")
    return value


def create_user(
    conn: Connection,
    name: str,
    email: str,
    is_admin: bool = False,
    password_hash: str | None = None,
    created_by: int | None = None,
) -> int:
    name = _required_text("name", name)
    email = _required_text("email", email, 320)
    if not _EMAIL.match(email):
        raise Invalid.field("email", "Not a valid email address.")
    if uq.user_by_email(conn, email) is not None:
        raise Conflict(f"A user with email {email} exists already.", {"email": ["Already taken."]})
    return uq.insert_user(
        conn,
        name=name,
        email=email,
        is_admin=is_admin,
        is_active=True,
        password_hash=password_hash,
        timezone="UTC",
        date_format="Y-m-d",
        time_format="H:i",
        created_at=utcnow(),
        created_by=created_by,
    )


def create_project(
    conn: Connection, name: str, created_by: int | None, note: str | None = None
) -> int:
    return pq.insert_project(
        conn,
        name=_required_text("name", name),
        note=note,
        is_completed=False,
        session_count=0,
        session_active_count=0,
        session_closed_count=0,
        milestone_count=0,
        milestone_active_count=0,
        milestone_completed_count=0,
        created_at=utcnow(),
        created_by=created_by,
    )


def add_member(conn: Connection, project_id: int, email: str, role: str) -> None:
    if role not in ROLE_NAMES:
        raise Invalid.field("role", f"Must be one of: {', '.join(ROLE_NAMES)}.")
    if pq.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    user = uq.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    role_id = uq.role_id_by_name(conn, role)
    assert role_id is not None, "roles are seeded by the first migration"
    uq.upsert_member(conn, project_id, user["id"], role_id)


def create_milestone(
    conn: Connection,
    project_id: int,
    name: str,
    created_by: int | None,
    parent_id: int | None = None,
    is_completed: bool = False,
    type_id: int | None = None,
    start_date: date | None = None,
    due_date: date | None = None,
    note: str | None = None,
) -> int:
    """Create a milestone; nested under `parent_id` (same project), root_id is the
    top of its tree (itself for a top-level milestone)."""
    root_id = None
    if parent_id is not None:
        parent = rq.row_by_id(conn, milestones, parent_id)
        if parent is None or parent["project_id"] != project_id:
            raise Invalid.field("parent_id", "The parent must be a milestone of the same project.")
        root_id = parent["root_id"] or parent["id"]
    if start_date and due_date and due_date < start_date:
        raise Invalid.field("due_date", "The due date must not be before the start date.")
    now = utcnow()
    milestone_id = rq.insert(
        conn,
        milestones,
        project_id=project_id,
        parent_id=parent_id,
        root_id=root_id,
        type_id=type_id,
        name=_required_text("name", name),
        note=note,
        is_started=False,
        is_completed=is_completed,
        start_date=start_date,
        due_date=due_date,
        completed_at=now if is_completed else None,
        created_at=now,
        created_by=created_by,
    )
    if root_id is None:
        rq.update(conn, milestones, milestone_id, root_id=milestone_id)
    pq.bump_counters(
        conn,
        project_id,
        {
            "milestone_count": 1,
            "milestone_completed_count": int(is_completed),
            "milestone_active_count": int(not is_completed),
        },
    )
    return milestone_id


def create_config(conn: Connection, project_id: int, name: str) -> int:
    return rq.insert(
        conn, configs, project_id=project_id, name=_required_text("name", name), created_at=utcnow()
    )


def create_template(conn: Connection, name: str, is_default: bool = False) -> int:
    return rq.insert(
        conn,
        templates,
        name=_required_text("name", name),
        is_default=is_default,
        created_at=utcnow(),
    )


def create_field(
    conn: Connection,
    template_id: int,
    name: str,
    system_name: str,
    type: str,
    is_required: bool = False,
    display_order: int = 0,
) -> int:
    if type not in FIELD_TYPES:
        raise Invalid.field("type", f"Must be one of: {', '.join(FIELD_TYPES)}.")
    if not _SYSTEM_NAME.match(system_name):
        raise Invalid.field(
            "system_name", "Lowercase letters, digits and _, starting with a letter."
        )
    if rq.row_by_id(conn, templates, template_id) is None:
        raise NotFound(f"Template {template_id} not found.")
    return rq.insert(
        conn,
        template_fields,
        template_id=template_id,
        name=_required_text("name", name),
        system_name=system_name,
        type=type,
        is_required=is_required,
        display_order=display_order,
    )


def create_field_values(
    conn: Connection, field_id: int, values: Sequence[tuple[str, str | None, str | None]]
) -> list[int]:
    """Add dropdown / multi-select values: (name, icon, color) each."""
    field = rq.row_by_id(conn, template_fields, field_id)
    if field is None:
        raise NotFound(f"Field {field_id} not found.")
    if field["type"] not in ("dropdown", "multiselect"):
        raise Invalid.field("field_id", "Only dropdown and multi-select fields have values.")
    ids = []
    for order, (name, icon, color) in enumerate(values):
        if color is not None and not _COLOR.match(color):
            raise Invalid.field("color", "Must be #rrggbb.")
        ids.append(
            rq.insert(
                conn,
                field_values,
                field_id=field_id,
                name=_required_text("name", name),
                icon=icon,
                color=color,
                display_order=order,
            )
        )
    return ids


def create_state(
    conn: Connection, name: str, is_default: bool = False, display_order: int = 0
) -> int:
    return rq.insert(
        conn,
        states,
        name=_required_text("name", name),
        is_default=is_default,
        display_order=display_order,
    )


def create_issue(
    conn: Connection,
    type: int,
    display_id: str,
    external_project_id: int | None = None,
    external_project_key: str | None = None,
) -> int:
    if type not in (1, 2, 3, 4):
        raise Invalid.field("type", "Must be 1 (custom), 2 (GitHub), 3 (GitLab) or 4 (Jira).")
    return rq.insert(
        conn,
        issues,
        type=type,
        display_id=_required_text("display_id", display_id),
        external_project_id=external_project_id,
        external_project_key=external_project_key,
        created_at=utcnow(),
    )
