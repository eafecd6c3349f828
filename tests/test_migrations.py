"""The migrations build exactly the schema that tables.py declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from charter.db.engine import Database
from charter.db.migrate import current_revision, head_revision, upgrade
from charter.db.tables import metadata


def test_upgrade_matches_tables_and_is_idempotent(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    assert current_revision(db) is None
    assert upgrade(db) is True
    assert current_revision(db) == head_revision()
    assert upgrade(db) is False
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == [], "tables.py and the migrations disagree; add a migration"
    db.close()
