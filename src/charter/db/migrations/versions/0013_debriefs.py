"""SBTM debriefs: a debrief per session, and follow-up charters

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:15:07

- debriefs: one row per session once submitted or debriefed (PROOF text, the
  submitted / returned / approved status, who did what when, a version for If-Match).
- sessions.follow_up_of: the session whose debrief outlook a planned charter came from
  (cleared by the session delete).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debriefs",
        sa.Column("session_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("past", sa.Text(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.Column("obstacles", sa.Text(), nullable=True),
        sa.Column("outlook", sa.Text(), nullable=True),
        sa.Column("feelings", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("debriefed_at", sa.DateTime(), nullable=True),
        sa.Column("debriefed_by", sa.Integer(), nullable=True),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.Column("returned_by", sa.Integer(), nullable=True),
        sa.Column("return_comment", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_debriefs_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["debriefed_by"], ["users.id"], name=op.f("fk_debriefs_debriefed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_debriefs_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["returned_by"], ["users.id"], name=op.f("fk_debriefs_returned_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_debriefs_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_debriefs_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_debriefs")),
    )
    op.create_index(
        op.f("ix_debriefs_project_id_status_submitted_at_session_id"),
        "debriefs",
        ["project_id", "status", "submitted_at", "session_id"],
        unique=False,
    )
    # A plain ADD COLUMN, never a batch copy of `sessions` (other rows refer to it):
    # SQLite adds a named column constraint in place (as 0005 does).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE sessions ADD COLUMN follow_up_of INTEGER"
            " CONSTRAINT fk_sessions_follow_up_of_sessions REFERENCES sessions (id)"
        )
    else:
        op.add_column("sessions", sa.Column("follow_up_of", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_sessions_follow_up_of_sessions"),
            "sessions",
            "sessions",
            ["follow_up_of"],
            ["id"],
        )
    op.create_index(op.f("ix_sessions_follow_up_of"), "sessions", ["follow_up_of"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_follow_up_of"), table_name="sessions")
    if op.get_bind().dialect.name == "sqlite":
        # follow_up_of has a foreign key, and copying `sessions` fails once rows refer
        # to it: it stays (nullable, unused before 0009).
        pass
    else:
        op.drop_constraint(
            op.f("fk_sessions_follow_up_of_sessions"), "sessions", type_="foreignkey"
        )
        op.drop_column("sessions", "follow_up_of")
    op.drop_index(
        op.f("ix_debriefs_project_id_status_submitted_at_session_id"), table_name="debriefs"
    )
    op.drop_table("debriefs")
