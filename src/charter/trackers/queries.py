"""A project's issue tracker settings (table issue_trackers)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import issue_trackers


def tracker_row(conn: Connection, project_id: int) -> RowMapping | None:
    stmt = sa.select(issue_trackers).where(issue_trackers.c.project_id == project_id)
    return conn.execute(stmt).mappings().first()


def save_tracker(
    conn: Connection,
    project_id: int,
    new_issue_url: str | None,
    issue_url: str | None,
    updated_at: datetime,
    updated_by: int,
) -> None:
    """Insert or replace the project's tracker settings."""
    values = {
        "project_id": project_id,
        "new_issue_url": new_issue_url,
        "issue_url": issue_url,
        "updated_at": updated_at,
        "updated_by": updated_by,
    }
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        issue_trackers
    )
    stmt = insert.values(values).on_conflict_do_update(
        index_elements=["project_id"],
        set_={k: v for k, v in values.items() if k != "project_id"},
    )
    conn.execute(stmt)
