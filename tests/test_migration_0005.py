"""Revision 0005 on a database that already holds data (SQLite and PostgreSQL): rows
written by the schema before it, then the upgrade: the seeded states get their
lifecycle meanings by name, and the per-day result counts are backfilled and equal a
recount. (SQLite must not copy `sessions` to add a column: rows refer to it.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import command

from charter.db.engine import Database
from charter.db.migrate import alembic_config, upgrade
from charter.db.tables import projects, session_results, sessions, users
from charter.results import queries as result_queries

# What 0005 adds to existing tables: rows written before it have none of these.
NEW_COLUMNS = {"state_is_manual", "started_by"}
# ... and what later revisions add to the same tables (0012: SBTM).
NEW_COLUMNS |= {
    "timebox_short",
    "timebox_normal",
    "timebox_long",
    "duration_class",
    "duration_multiplier",
    "pct_test",
    "pct_bug",
    "pct_setup",
    "pct_charter",
    "pct_opportunity",
    "data_files",
    "sheet_name",
    "bug_count",
    "issue_count",
    "kind_id",
}


def _before_0005(table: sa.Table) -> sa.Table:
    """The table as it was at revision 0004, just before 0005 (for inserting rows of that
    time)."""
    columns = [c._copy() for c in table.columns if c.name not in NEW_COLUMNS]
    for c in columns:
        c.foreign_keys.clear()
        c.constraints.clear()
    return sa.Table(table.name, sa.MetaData(), *columns)


def test_0005_upgrades_a_database_with_data(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
    day0 = datetime(2026, 3, 1, 23, 30)
    with db.write() as conn:
        uid = conn.execute(
            sa.insert(_before_0005(users)).values(name="Ada", email="a@x", created_at=day0)
        ).inserted_primary_key[0]  # type: ignore[index]
        pid = conn.execute(
            sa.insert(_before_0005(projects)).values(name="P", created_at=day0)
        ).inserted_primary_key[0]  # type: ignore[index]
        sids = [
            conn.execute(
                sa.insert(_before_0005(sessions)).values(
                    project_id=pid,
                    template_id=1,
                    name=f"S{i}",
                    state_id=1,
                    created_at=day0,
                    created_by=uid,
                    assignee_id=uid,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for i in range(3)
        ]
        rows = [
            {
                "session_id": sids[i % 3],
                "project_id": pid,
                "status_id": (None, 2, 3, 2)[i % 4],
                "created_at": day0 + timedelta(hours=i),  # across midnight
            }
            for i in range(10)
        ]
        conn.execute(sa.insert(_before_0005(session_results)), rows)

    assert upgrade(db)
    with db.read() as conn:
        meanings: dict[str, str | None] = dict(
            (str(name), meaning)
            for name, meaning in conn.execute(sa.text("SELECT name, meaning FROM states"))
        )
        assert meanings == {
            "New": "planned",
            "In progress": "active",
            "In review": "review",
            "Done": "done",
        }
        stored = result_queries.stored_day_counts(conn)
        assert stored == result_queries.recounted_day_counts(conn)
        assert sum(stored.values()) == 10
        assert stored[(pid, day0.date(), 0)] == 1  # 23:30, no status
        assert len({day for _p, day, _s in stored}) == 2
        manual = conn.execute(
            sa.text("SELECT COUNT(*) FROM sessions WHERE state_is_manual OR started_by IS NOT NULL")
        ).scalar_one()
    assert manual == 0
    db.close()
