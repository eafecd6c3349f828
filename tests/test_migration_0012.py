"""Revision 0012 (SBTM) on a database that already holds data (SQLite and PostgreSQL):
every project gets the default note kinds and timeboxes, every assignee becomes the
first tester of their session, and every session gets its metrics row, counted by the
tester and day rollups."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command

from charter.db.engine import Database
from charter.db.migrate import alembic_config, upgrade
from charter.db.tables import projects, session_results, sessions, users

# Columns 0012 adds to existing tables: rows written before it have none of these.
NEW_COLUMNS = {
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


def _before(table: sa.Table) -> sa.Table:
    columns = [c._copy() for c in table.columns if c.name not in NEW_COLUMNS]
    for c in columns:
        c.foreign_keys.clear()
        c.constraints.clear()
    return sa.Table(table.name, sa.MetaData(), *columns)


def _id(conn: sa.Connection, stmt: sa.Insert) -> int:
    return int(conn.execute(stmt).inserted_primary_key[0])  # type: ignore[index]


def test_0012_upgrades_a_database_with_data(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0011")
    day0 = datetime(2026, 3, 1, 23, 30)
    with db.write() as conn:
        uid = _id(conn, sa.insert(_before(users)).values(name="Ada", email="a@x", created_at=day0))
        pids = [
            _id(conn, sa.insert(_before(projects)).values(name=f"P{i}", created_at=day0))
            for i in range(2)
        ]
        sids = [
            _id(
                conn,
                sa.insert(_before(sessions)).values(
                    project_id=pids[0],
                    template_id=1,
                    name=f"S{i}",
                    state_id=1,
                    created_at=day0,
                    assignee_id=uid if i else None,
                    started_at=day0 if i == 2 else None,
                ),
            )
            for i in range(3)
        ]
        conn.execute(
            sa.insert(_before(session_results)),
            [{"session_id": s, "project_id": pids[0], "created_at": day0} for s in sids],
        )

    assert upgrade(db)
    with db.read() as conn:
        kinds = conn.execute(
            sa.text("SELECT project_id, name, category FROM result_kinds ORDER BY id")
        ).all()
        assert [(k[1], k[2]) for k in kinds if k[0] == pids[1]] == [
            ("Note", "note"),
            ("Bug", "bug"),
            ("Issue", "issue"),
            ("Question", "issue"),
            ("Idea", "note"),
            ("Setup", "note"),
        ]
        assert len(kinds) == 12
        boxes = conn.execute(
            sa.text("SELECT timebox_short, timebox_normal, timebox_long FROM projects")
        ).all()
        assert set(map(tuple, boxes)) == {(60, 90, 120)}
        testers = conn.execute(sa.text("SELECT session_id, user_id, position FROM session_testers"))
        assert sorted(map(tuple, testers)) == [(sids[1], uid, 0), (sids[2], uid, 0)]
        metrics = conn.execute(
            sa.text("SELECT session_id, testers, n_total, bugs FROM sbtm_session_metrics")
        ).all()
        assert sorted(map(tuple, metrics)) == [
            (sids[0], 0, 0, 0),
            (sids[1], 1, 0, 0),
            (sids[2], 1, 0, 0),
        ]
        tester_totals = conn.execute(
            sa.text("SELECT project_id, user_id, sessions FROM sbtm_tester_totals")
        ).all()
        assert list(map(tuple, tester_totals)) == [(pids[0], uid, 2)]
        days = conn.execute(sa.text("SELECT project_id, day, sessions FROM sbtm_day_totals")).all()
        assert [(d[0], str(d[1]), d[2]) for d in days] == [(pids[0], "2026-03-01", 1)]
        counts = conn.execute(sa.text("SELECT bug_count, issue_count FROM sessions")).all()
        assert set(map(tuple, counts)) == {(0, 0)}
    db.close()
