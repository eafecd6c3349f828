"""All SQL of debriefs: the debrief row, the facts a sheet check needs, the charter
backlog, the "waiting for debrief" list and follow-up links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import (
    areas,
    debriefs,
    result_kinds,
    session_areas,
    session_results,
    session_testers,
    sessions,
    users,
)


def debrief_of(conn: Connection, session_id: int) -> RowMapping | None:
    return (
        conn.execute(sa.select(debriefs).where(debriefs.c.session_id == session_id))
        .mappings()
        .first()
    )


def status_of(conn: Connection, session_id: int) -> str | None:
    """The debrief status of a session (None: no debrief, or a draft)."""
    return conn.execute(
        sa.select(debriefs.c.status).where(debriefs.c.session_id == session_id)
    ).scalar_one_or_none()


def save(conn: Connection, session_id: int, project_id: int, **values: Any) -> None:
    """Write the session's debrief, creating it at version 1 or bumping its version.
    The caller holds the session's row lock, so the read and the write are one step."""
    if debrief_of(conn, session_id) is None:
        conn.execute(
            sa.insert(debriefs).values(
                session_id=session_id, project_id=project_id, version=1, **values
            )
        )
    else:
        conn.execute(
            sa.update(debriefs)
            .where(debriefs.c.session_id == session_id)
            .values(version=debriefs.c.version + 1, **values)
        )


def withdraw(conn: Connection, session_id: int) -> None:
    """A submitted sheet back to draft (its tester reopened the session)."""
    conn.execute(
        sa.update(debriefs)
        .where(debriefs.c.session_id == session_id)
        .values(status=None, version=debriefs.c.version + 1)
    )


# --- the facts a sheet check reads -----------------------------------------------------


def sheet_facts(conn: Connection, session_id: int) -> dict[str, Any]:
    """How many areas and testers the session has, and its notes as (category, text)."""
    area_count = conn.execute(
        sa.select(sa.func.count()).where(session_areas.c.session_id == session_id)
    ).scalar_one()
    tester_count = conn.execute(
        sa.select(sa.func.count()).where(session_testers.c.session_id == session_id)
    ).scalar_one()
    notes = conn.execute(
        sa.select(
            session_results.c.id,
            sa.func.coalesce(result_kinds.c.category, "note"),
            session_results.c.note,
        )
        .select_from(
            session_results.outerjoin(result_kinds, result_kinds.c.id == session_results.c.kind_id)
        )
        .where(session_results.c.session_id == session_id)
        .order_by(session_results.c.id)
    ).all()
    return {
        "areas": area_count,
        "testers": tester_count,
        "notes": [(r[0], r[1], r[2]) for r in notes],
    }


def area_names_of(conn: Connection, session_ids: Sequence[int]) -> dict[int, list[str]]:
    """Area names per session, for the backlog and lists."""
    if not session_ids:
        return {}
    rows = conn.execute(
        sa.select(session_areas.c.session_id, areas.c.name)
        .join(areas, areas.c.id == session_areas.c.area_id)
        .where(session_areas.c.session_id.in_(list(session_ids)))
        .order_by(areas.c.name)
    ).all()
    out: dict[int, list[str]] = {}
    for session_id, name in rows:
        out.setdefault(session_id, []).append(name)
    return out


def link_follow_up(conn: Connection, session_id: int, origin_id: int) -> None:
    """Mark `session_id` as a follow-up charter of `origin_id` (not a list filter:
    the sessions' list version need not move)."""
    conn.execute(
        sa.update(sessions).where(sessions.c.id == session_id).values(follow_up_of=origin_id)
    )


def follow_ups_of(conn: Connection, session_id: int) -> list[RowMapping]:
    return list(
        conn.execute(
            sa.select(sessions.c.id, sessions.c.name, sessions.c.is_started, sessions.c.is_closed)
            .where(sessions.c.follow_up_of == session_id)
            .order_by(sessions.c.id)
        ).mappings()
    )


# --- the lists the web pages show ------------------------------------------------------


def waiting(conn: Connection, project_id: int, limit: int) -> list[RowMapping]:
    """The project's submitted sheets, oldest submission first."""
    submitter = users.alias("submitter")
    stmt = (
        sa.select(
            sessions.c.id,
            sessions.c.name,
            sessions.c.pct_opportunity,
            debriefs.c.submitted_at,
            submitter.c.name.label("submitted_by_name"),
        )
        .select_from(
            debriefs.join(sessions, sessions.c.id == debriefs.c.session_id).outerjoin(
                submitter, submitter.c.id == debriefs.c.submitted_by
            )
        )
        .where(debriefs.c.project_id == project_id, debriefs.c.status == "submitted")
        .order_by(debriefs.c.submitted_at, debriefs.c.session_id)
        .limit(limit)
    )
    return list(conn.execute(stmt).mappings())


def backlog(conn: Connection, project_id: int, limit: int) -> list[RowMapping]:
    """The project's planned charters: sessions neither started nor closed, oldest
    first (the order they were planned in)."""
    origin = sessions.alias("origin")
    stmt = (
        sa.select(
            sessions.c.id,
            sessions.c.name,
            sessions.c.charter,
            sessions.c.assignee_id,
            sessions.c.follow_up_of,
            origin.c.name.label("follow_up_of_name"),
            sessions.c.created_at,
            users.c.name.label("assignee_name"),
        )
        .select_from(
            sessions.outerjoin(users, users.c.id == sessions.c.assignee_id).outerjoin(
                origin, origin.c.id == sessions.c.follow_up_of
            )
        )
        .where(
            sessions.c.project_id == project_id,
            sessions.c.is_closed == sa.false(),
            sessions.c.is_started == sa.false(),
        )
        .order_by(sessions.c.created_at, sessions.c.id)
        .limit(limit)
    )
    return list(conn.execute(stmt).mappings())
