"""the started_at index in list order on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00

Lists sort nulls as lowest on both databases (db/listing.py): newest start first puts
the sessions never started last. 0012 built (project_id, started_at, id) in PostgreSQL's
default order (nulls last ascending), which no scan of it matches, so the SBTM sessions
report sorted a project's sessions on every page: 0.6-2 s at 800,000 sessions. With
started_at NULLS FIRST a backward scan is the report's order, as 0001 did for closed_at.
SQLite's index already sorts nulls lowest.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEX = "ix_sessions_project_id_started_at_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="sessions")
    op.execute(f"CREATE INDEX {INDEX} ON sessions (project_id, started_at NULLS FIRST, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="sessions")
    op.create_index(INDEX, "sessions", ["project_id", "started_at", "id"])
