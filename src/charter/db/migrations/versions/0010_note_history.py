"""note_history: the earlier versions of a note (result) kept by every edit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00

Each edit of a result's text or status inserts the replaced text and status, in the
same transaction as the edit; the run page shows a note as "edited" with its history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("edited_at", sa.DateTime(), nullable=False),
        sa.Column("edited_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edited_by"], ["users.id"], name=op.f("fk_note_history_edited_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["session_results.id"],
            name=op.f("fk_note_history_result_id_session_results"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_id"], ["statuses.id"], name=op.f("fk_note_history_status_id_statuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_history")),
    )
    with op.batch_alter_table("note_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_note_history_result_id_id"), ["result_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("note_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_history_result_id_id"))
    op.drop_table("note_history")
