"""issue_trackers: a project's "new issue" URL template and issue URL pattern

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:35:00

"File a bug" on a note opens the tracker's new-issue page prefilled; linked issues
show as links to the tracker, and a pasted issue URL is parsed back into its key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_trackers",
        sa.Column("project_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("new_issue_url", sa.Text(), nullable=True),
        sa.Column("issue_url", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_issue_trackers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_issue_trackers_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_issue_trackers")),
    )


def downgrade() -> None:
    op.drop_table("issue_trackers")
