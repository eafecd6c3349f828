"""session_day_counts: the dashboard's sessions per day, runner and state, by trigger

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:40:00

The dashboard's window summed the sessions created in it, so 90 days cost thirteen
times what 7 did. session_day_counts holds, per project, UTC day of creation, runner
(started_by, else assignee_id, else 0) and state, the number of sessions and their
stored elapsed. Triggers on `sessions` keep it in the same transaction as every insert,
delete and change of those columns, whatever path writes (the API, the pages, the CLI,
importers, the demo loader), so no write path can forget it. On PostgreSQL a change
that moves a session between two rows touches them in key order, so two transactions
moving sessions in opposite directions cannot deadlock. A partial index finds the
running sessions of a window, whose live time the dashboard adds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The columns that place a session in the table, or change its elapsed.
WATCHED = "state_id, elapsed, started_by, assignee_id"

SQLITE_KEY = (
    "project_id = {r}.project_id AND day = date({r}.created_at)"
    " AND runner_id = coalesce({r}.started_by, {r}.assignee_id, 0) AND state_id = {r}.state_id"
)
SQLITE_ADD = (
    "INSERT INTO session_day_counts (project_id, day, runner_id, state_id, sessions, elapsed)"
    " VALUES (NEW.project_id, date(NEW.created_at), coalesce(NEW.started_by, NEW.assignee_id, 0),"
    " NEW.state_id, 1, coalesce(NEW.elapsed, 0))"
    " ON CONFLICT (project_id, day, runner_id, state_id) DO UPDATE SET"
    " sessions = sessions + 1, elapsed = elapsed + excluded.elapsed;"
)
SQLITE_REMOVE = (
    "UPDATE session_day_counts SET sessions = sessions - 1,"
    " elapsed = elapsed - coalesce(OLD.elapsed, 0) WHERE " + SQLITE_KEY.format(r="OLD") + ";"
)

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER session_days_insert AFTER INSERT ON sessions BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER session_days_delete AFTER DELETE ON sessions BEGIN {SQLITE_REMOVE} END",
    f"CREATE TRIGGER session_days_update AFTER UPDATE OF {WATCHED} ON sessions"
    f" BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]

POSTGRESQL_FUNCTION = """
CREATE FUNCTION session_days() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_day date;
    o_runner integer;
    n_day date;
    n_runner integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o_day := CAST(OLD.created_at AS date);
        o_runner := coalesce(OLD.started_by, OLD.assignee_id, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n_day := CAST(NEW.created_at AS date);
        n_runner := coalesce(NEW.started_by, NEW.assignee_id, 0);
    END IF;
    IF TG_OP = 'UPDATE' AND (o_day, o_runner, OLD.state_id) = (n_day, n_runner, NEW.state_id)
    THEN
        UPDATE session_day_counts
        SET elapsed = elapsed + coalesce(NEW.elapsed, 0) - coalesce(OLD.elapsed, 0)
        WHERE project_id = NEW.project_id AND day = n_day AND runner_id = n_runner
            AND state_id = NEW.state_id;
        RETURN NULL;
    END IF;
    -- Two rows: the lower key first, so concurrent opposite moves lock in one order.
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
        AND (o_day, o_runner, OLD.state_id) < (n_day, n_runner, NEW.state_id)) THEN
        UPDATE session_day_counts
        SET sessions = sessions - 1, elapsed = elapsed - coalesce(OLD.elapsed, 0)
        WHERE project_id = OLD.project_id AND day = o_day AND runner_id = o_runner
            AND state_id = OLD.state_id;
        IF TG_OP = 'DELETE' THEN
            RETURN NULL;
        END IF;
        o_day := NULL;  -- done
    END IF;
    INSERT INTO session_day_counts AS c
        (project_id, day, runner_id, state_id, sessions, elapsed)
    VALUES (NEW.project_id, n_day, n_runner, NEW.state_id, 1, coalesce(NEW.elapsed, 0))
    ON CONFLICT (project_id, day, runner_id, state_id) DO UPDATE
    SET sessions = c.sessions + 1, elapsed = c.elapsed + EXCLUDED.elapsed;
    IF TG_OP = 'UPDATE' AND o_day IS NOT NULL THEN
        UPDATE session_day_counts
        SET sessions = sessions - 1, elapsed = elapsed - coalesce(OLD.elapsed, 0)
        WHERE project_id = OLD.project_id AND day = o_day AND runner_id = o_runner
            AND state_id = OLD.state_id;
    END IF;
    RETURN NULL;
END
$$
"""

POSTGRESQL_TRIGGERS = [
    POSTGRESQL_FUNCTION,
    "CREATE TRIGGER session_days_insert_delete AFTER INSERT OR DELETE ON sessions"
    " FOR EACH ROW EXECUTE FUNCTION session_days()",
    f"CREATE TRIGGER session_days_update AFTER UPDATE OF {WATCHED} ON sessions FOR EACH ROW"
    " WHEN (OLD.state_id IS DISTINCT FROM NEW.state_id OR OLD.elapsed IS DISTINCT FROM NEW.elapsed"
    " OR OLD.started_by IS DISTINCT FROM NEW.started_by"
    " OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)"
    " EXECUTE FUNCTION session_days()",
]

BACKFILL = {
    "sqlite": "date(created_at)",
    "postgresql": "CAST(created_at AS date)",
}


def upgrade() -> None:
    op.create_table(
        "session_day_counts",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("runner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("elapsed", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_session_day_counts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "day", "runner_id", "state_id", name=op.f("pk_session_day_counts")
        ),
        sqlite_with_rowid=False,  # a window is one range read of the key's b-tree
    )
    op.create_index(
        "ix_sessions_running",
        "sessions",
        ["project_id", "created_at"],
        sqlite_where=sa.text("running_since IS NOT NULL"),
        postgresql_where=sa.text("running_since IS NOT NULL"),
    )
    dialect = op.get_bind().dialect.name
    day = BACKFILL[dialect]
    op.execute(
        "INSERT INTO session_day_counts (project_id, day, runner_id, state_id, sessions, elapsed)"
        f" SELECT project_id, {day}, coalesce(started_by, assignee_id, 0), state_id, count(*),"
        " coalesce(sum(elapsed), 0) FROM sessions"
        f" GROUP BY project_id, {day}, coalesce(started_by, assignee_id, 0), state_id"
    )
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("session_days_insert", "session_days_delete", "session_days_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS session_days_insert_delete ON sessions")
        op.execute("DROP TRIGGER IF EXISTS session_days_update ON sessions")
        op.execute("DROP FUNCTION IF EXISTS session_days()")
    op.drop_index("ix_sessions_running", table_name="sessions")
    op.drop_table("session_day_counts")
