"""lifecycle meanings of workflow states, who started a session, per-day result counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00

- states.meaning (planned / active / review / done, nullable): the seeded states get
  theirs by name (New, In progress, In review, Done), in existing databases too.
- sessions.state_is_manual: set when someone chooses a session's state by hand, so
  start / close / reopen stop moving it. Existing sessions start as not manual.
- sessions.started_by: who started the session (the dashboard credits its time).
  Unknown for sessions started before this revision (null: the dashboard falls back
  to the assignee for those).
- result_day_counts: results per project, UTC day and status (0 = none), backfilled
  from session_results.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MEANINGS = {"New": "planned", "In progress": "active", "In review": "review", "Done": "done"}


def upgrade() -> None:
    # Plain ADD COLUMNs, never a batch "move and copy": on SQLite, copying `sessions`
    # or `states` means dropping a table other rows refer to, which foreign keys
    # refuse once the database holds data. SQLite adds each of these columns in place.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("states", sa.Column("meaning", sa.String(length=20), nullable=True))
    states = sa.table("states", sa.column("name", sa.String), sa.column("meaning", sa.String))
    for name, meaning in MEANINGS.items():
        op.execute(states.update().where(states.c.name == name).values(meaning=meaning))

    op.add_column(
        "sessions",
        sa.Column("state_is_manual", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    if sqlite:  # a named column constraint, added in place
        op.execute(
            "ALTER TABLE sessions ADD COLUMN started_by INTEGER"
            " CONSTRAINT fk_sessions_started_by_users REFERENCES users (id)"
        )
    else:
        op.add_column("sessions", sa.Column("started_by", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_sessions_started_by_users"), "sessions", "users", ["started_by"], ["id"]
        )

    op.create_table(
        "result_day_counts",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_result_day_counts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "day", "status_id", name=op.f("pk_result_day_counts")
        ),
    )
    day = (
        "date(created_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(created_at AS date)"
    )
    op.execute(
        "INSERT INTO result_day_counts (project_id, day, status_id, count)"
        f" SELECT project_id, {day}, coalesce(status_id, 0), COUNT(*) FROM session_results"
        f" GROUP BY project_id, {day}, coalesce(status_id, 0)"
    )


def downgrade() -> None:
    op.drop_table("result_day_counts")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place unless a constraint uses it; started_by has
        # a foreign key, and copying `sessions` fails once rows refer to it: it stays
        # (nullable, unused before 0005).
        op.execute("ALTER TABLE sessions DROP COLUMN state_is_manual")
        op.execute("ALTER TABLE states DROP COLUMN meaning")
        return
    op.drop_constraint(op.f("fk_sessions_started_by_users"), "sessions", type_="foreignkey")
    op.drop_column("sessions", "started_by")
    op.drop_column("sessions", "state_is_manual")
    op.drop_column("states", "meaning")
