"""result_day_counts kept by triggers on SQLite

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 08:00:00

On SQLite, triggers on session_results keep result_day_counts (results per project,
UTC day and status) in the same transaction as every insert, delete and status change,
as 0008's triggers keep session_day_counts: a result write then sends no statement of
its own for them (issue 16 counts statements per write), and no write path can forget
them. SQLite has one writer, so no lock order is at stake. PostgreSQL keeps them as
before, in the write's own statement (results/queries.py), where the rows a bulk touches
are upserted in key order against deadlocks. A migration that rebuilds session_results
drops these triggers: it must create them again.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_KEY = "project_id = {r}.project_id AND day = date({r}.created_at) AND status_id = {s}"
_REMOVE = "UPDATE result_day_counts SET count = count - 1 WHERE " + _KEY + ";"
_ADD = (
    "INSERT INTO result_day_counts (project_id, day, status_id, count)"
    " VALUES ({r}.project_id, date({r}.created_at), {s}, 1)"
    " ON CONFLICT (project_id, day, status_id) DO UPDATE SET count = count + 1;"
)
_NEW, _OLD = "coalesce(NEW.status_id, 0)", "coalesce(OLD.status_id, 0)"

SQLITE_TRIGGERS = (
    "CREATE TRIGGER result_days_insert AFTER INSERT ON session_results BEGIN "
    + _ADD.format(r="NEW", s=_NEW)
    + " END",
    "CREATE TRIGGER result_days_delete AFTER DELETE ON session_results BEGIN "
    + _REMOVE.format(r="OLD", s=_OLD)
    + " END",
    "CREATE TRIGGER result_days_update AFTER UPDATE OF status_id ON session_results"
    " WHEN OLD.status_id IS NOT NEW.status_id BEGIN "
    + _REMOVE.format(r="OLD", s=_OLD)
    + " "
    + _ADD.format(r="NEW", s=_NEW)
    + " END",
)
NAMES = ("result_days_insert", "result_days_delete", "result_days_update")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
