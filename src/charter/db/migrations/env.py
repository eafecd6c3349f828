"""Alembic environment: run programmatically by charter.db.migrate (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from charter.db.tables import metadata

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # ALTER on SQLite needs batch mode
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
