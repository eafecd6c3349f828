"""The migrations build exactly the schema that charter/db/tables.py declares, on both databases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from charter.db.engine import Database
from charter.db.migrate import current_revision, head_revision, upgrade
from charter.db.tables import metadata

# On PostgreSQL these indexes are built with their timestamp NULLS FIRST (which SQLite's
# CREATE INDEX cannot say, so tables.py declares the plain form); checked on their own
# below: lists sort nulls lowest, and only this order lets a scan serve the sort.
PG_NULLS_FIRST = {
    "ix_sessions_project_id_closed_at_id_created_at": "closed_at NULLS FIRST, id, created_at",
    "ix_sessions_project_id_started_at_id": "started_at NULLS FIRST, id",
}

# PostgreSQL only (pg_trgm GIN on an expression, which tables.py cannot declare for
# both databases): built by migration 0014, checked on its own below.
PG_SEARCH_INDEX = "ix_sessions_search_trgm"


def test_upgrade_matches_tables_and_is_idempotent(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    assert current_revision(db) is None
    assert upgrade(db) is True
    assert current_revision(db) == head_revision()
    assert upgrade(db) is False
    postgres = db.engine.dialect.name == "postgresql"

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and (name or "").startswith("session_search"):
            return False  # SQLite's FTS5 table and its shadow tables (migration 0012)
        return not (postgres and type_ == "index" and name in (*PG_NULLS_FIRST, PG_SEARCH_INDEX))

    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
        assert diff == [], "tables.py and the migrations disagree; add a migration"
        if postgres:
            for name, columns in PG_NULLS_FIRST.items():
                definition = conn.execute(
                    sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                    {"n": name},
                ).scalar_one()
                assert columns in definition, definition
            search = conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                {"n": PG_SEARCH_INDEX},
            ).scalar_one()
            assert "gin_trgm_ops" in search and "charter" in search
    db.close()
