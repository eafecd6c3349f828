"""session search, and live_events for live updates on SQLite

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:40:00

The sessions list filters by `search` (text in the name or the charter) and
`is_running` (the timer runs now; served by 0008's partial index
ix_sessions_running). Search gets, on PostgreSQL, a pg_trgm GIN index on the exact expression
db.listing.search_text
renders, so `LIKE '%text%'` is answered from the index at any size. pg_trgm is a
trusted extension (PostgreSQL 13+): the
database owner may create it; where it cannot be created the index is skipped with a
notice and search falls back to a scan (docs/operations.md). SQLite gets an FTS5
table with the trigram tokenizer over the same two columns (external content: it
stores only the index), kept by triggers on sessions; a search of three or more
characters reads the matching ids from it.

live_events carries change announcements between workers on SQLite (db/live.py);
PostgreSQL uses NOTIFY and leaves it empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SEARCH_INDEX = "ix_sessions_search_trgm"

# SQLite: db.tables.SESSION_SEARCH. A migration that rebuilds the sessions table
# (batch "move and copy") drops these triggers: it must create them again.
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE session_search USING fts5(name, charter,"
    " content='sessions', content_rowid='id', tokenize='trigram')",
    "INSERT INTO session_search(session_search) VALUES ('rebuild')",
    "CREATE TRIGGER session_search_insert AFTER INSERT ON sessions BEGIN"
    " INSERT INTO session_search(rowid, name, charter) VALUES (new.id, new.name, new.charter);"
    " END",
    "CREATE TRIGGER session_search_delete AFTER DELETE ON sessions BEGIN"
    " INSERT INTO session_search(session_search, rowid, name, charter)"
    " VALUES ('delete', old.id, old.name, old.charter); END",
    "CREATE TRIGGER session_search_update AFTER UPDATE OF name, charter ON sessions BEGIN"
    " INSERT INTO session_search(session_search, rowid, name, charter)"
    " VALUES ('delete', old.id, old.name, old.charter);"
    " INSERT INTO session_search(rowid, name, charter) VALUES (new.id, new.name, new.charter);"
    " END",
)

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
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
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
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS session_search_{name}")
        op.execute("DROP TABLE IF EXISTS session_search")
    op.drop_table("live_events")
