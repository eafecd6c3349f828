"""compact custom values: multi-select values stored before 2026-12-04 lose their spaces

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00

Custom field values are stored as JSON and answered as stored. Values written before
the encoder became compact kept Python's `[1, 2]` spacing, so the same data read back
as different bytes depending on when it was written (and on the database). The only
stored JSON with separators is a multi-select's array of value ids (dropdowns hold one
id, other fields a string, number or boolean: a string's own ", " is inside quotes and
never starts the value), so removing ", " from values that start with "[" makes them
what the encoder writes today.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("session_field_values", "result_field_values"):
        op.execute(
            f"UPDATE {table} SET value = replace(value, ', ', ',')"
            " WHERE value LIKE '[%' AND value LIKE '%, %'"
        )


def downgrade() -> None:
    """Nothing to undo: compact JSON reads the same."""
