"""session search, "running now", and live_events for live updates on SQLite

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:40:00

The sessions list filters by `search` (text in the name or the charter) and
`is_running` (the timer runs now). "Running now" gets a plain index on
(project_id, running_since). Search gets, on PostgreSQL only, a pg_trgm GIN index on
the exact expression db.listing.search_text renders, so `LIKE '%text%'` is answered
from the index at any size. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it; where it cannot be created the index is skipped with a
notice and search falls back to a scan (docs/operations.md). SQLite has no such
index: search walks the project's sort index there.

live_events carries change announcements between workers on SQLite (db/live.py);
PostgreSQL uses NOTIFY and leaves it empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_sessions_search_trgm"

# Must stay the SQL of db.listing.search_text(sessions, ["name", "charter"]).
SEARCH_EXPRESSION = "lower((coalesce(name, '') || ' ') || coalesce(charter, ''))"


def upgrade() -> None:
    op.create_table(
        "live_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_project_id_running_since"),
            ["project_id", "running_since"],
            unique=False,
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        DO $$
        BEGIN
            BEGIN
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
                RAISE NOTICE 'pg_trgm unavailable: session search will scan';
            END;
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON sessions
                    USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops);
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_project_id_running_since"))
    op.drop_table("live_events")
