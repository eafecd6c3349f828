"""The dashboard's sessions per day (session_day_counts, kept by triggers on `sessions`,
migration 0008), on SQLite and PostgreSQL:

- every session write (create, start, pause, resume, close, reopen, a change of state
  or assignee, delete), in any order, leaves the rollup equal to a count of the
  sessions, and the dashboard's figures equal a brute-force count over the sessions;
- the migration backfills a database that holds sessions already;
- concurrent transactions moving sessions between the same two rows in opposite
  directions neither deadlock nor drift (the trigger locks rows in key order);
- `recount` rebuilds a rollup that was tampered with.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from charter.auth.service import user_by_id, user_of
from charter.core.errors import Conflict
from charter.dashboard import queries as dashboard_queries
from charter.dashboard import read as dashboard_read
from charter.db.engine import Database
from charter.db.migrate import alembic_config, upgrade
from charter.db.tables import projects, sessions, states, users
from charter.projects import service as project_service
from charter.sessions import counters
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import migrate
from test_migration_0012 import NEW_COLUMNS as LATER_COLUMNS


def _setup(db: Database) -> tuple[int, list[int], list[int]]:
    """A project, three users (members) and the state ids."""
    with db.write() as conn:
        uids = [
            user_service.new_user(conn, f"U{i}", f"u{i}@example.com", is_admin=i == 0)
            for i in range(3)
        ]
        pid = project_service.new_project(conn, "P", uids[0])
        for i in range(3):
            project_service.add_member(conn, pid, f"u{i}@example.com", "manager")
        state_ids = [int(s) for s in conn.execute(sa.select(states.c.id)).scalars()]
    return pid, uids, state_ids


def _brute_force(db: Database, pid: int, first: date, last: date) -> tuple[int, dict[int, int]]:
    """Sessions created in the window and their sessions per state, from `sessions`."""
    per_state: dict[int, int] = defaultdict(int)
    with db.read() as conn:
        for created_at, state_id in conn.execute(
            sa.select(sessions.c.created_at, sessions.c.state_id).where(
                sessions.c.project_id == pid
            )
        ):
            if first <= created_at.date() <= last:
                per_state[int(state_id)] += 1
    return sum(per_state.values()), dict(per_state)


def test_every_session_write_keeps_the_rollup(fresh_database_url: str) -> None:
    db = migrate(fresh_database_url)
    pid, uids, state_ids = _setup(db)
    rng = random.Random(8)
    alive: list[int] = []
    for step in range(160):
        op = rng.choice(
            ["create", "create", "start", "pause", "resume", "close", "reopen", "edit", "delete"]
        )
        user = rng.choice(uids)
        with db.write() as conn:
            try:
                if op == "create" or not alive:
                    alive.append(
                        session_service.create_session(
                            conn, pid, user, f"S{step}", assignee_id=rng.choice([None, *uids])
                        )
                    )
                elif op == "edit":
                    change = rng.choice(
                        [{"state_id": rng.choice(state_ids)}, {"assignee_id": rng.choice(uids)}]
                    )
                    session_service.update_session(conn, rng.choice(alive), user, change)
                elif op == "delete":
                    sid = rng.choice(alive)
                    session_service.delete(conn, sid)
                    alive.remove(sid)
                else:
                    session_service.TRANSITIONS[op](conn, rng.choice(alive), user)
            except Conflict:
                pass  # an impossible move (pause a paused session...): nothing written
            if step % 20 == 0:  # the elapsed of closed sessions: time passes
                conn.execute(
                    sa.update(sessions)
                    .where(sessions.c.is_closed.is_(True), sessions.c.project_id == pid)
                    .values(elapsed=sessions.c.elapsed + 1_000_000)
                )
        with db.read() as conn:
            assert counters.rollups_drifted(conn) == [], f"after step {step} ({op})"

    today = datetime.utcnow().date()
    with db.read() as conn:
        row = user_by_id(conn, uids[0])
        assert row is not None
        admin = user_of(row)
        board = dashboard_read.project_dashboard(conn, admin, pid, days=7, until=today)
    total, per_state = _brute_force(db, pid, today - timedelta(days=6), today)
    assert board.sessions == total > 0
    assert {s.state_id: s.sessions for s in board.states if s.sessions} == per_state
    db.close()


def test_recount_rebuilds_a_tampered_rollup(fresh_database_url: str) -> None:
    db = migrate(fresh_database_url)
    pid, uids, _ = _setup(db)
    with db.write() as conn:
        session_service.create_session(conn, pid, uids[0], "S")
        conn.execute(sa.text("UPDATE session_day_counts SET sessions = sessions + 5"))
    with db.read() as conn:
        assert counters.rollups_drifted(conn) == ["session_day_counts"]
    with db.write() as conn:
        counters.recount(conn)
    with db.read() as conn:
        assert counters.rollups_drifted(conn) == []
    db.close()


def _at_0007(table: sa.Table) -> sa.Table:
    """The table with the columns it had at revision 0007 (later ones add SBTM's)."""
    columns = [c._copy() for c in table.columns if c.name not in LATER_COLUMNS]
    for c in columns:
        c.foreign_keys.clear()
        c.constraints.clear()
    return sa.Table(table.name, sa.MetaData(), *columns)


def test_0008_backfills_a_database_with_sessions(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
    day0 = datetime(2026, 3, 1, 23, 30)
    with db.write() as conn:
        uid = conn.execute(
            sa.insert(_at_0007(users)).values(
                name="Ada", email="a@x", email_key="a@x", created_at=day0
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        pid = conn.execute(
            sa.insert(_at_0007(projects)).values(name="P", created_at=day0)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            sa.insert(_at_0007(sessions)),
            [
                {
                    "project_id": pid,
                    "template_id": 1,
                    "name": f"S{i}",
                    "state_id": 1 + i % 2,
                    "created_at": day0 + timedelta(hours=i),  # across midnight
                    "created_by": uid,
                    "assignee_id": uid if i % 3 else None,
                    "elapsed": 1000 * i,
                }
                for i in range(6)
            ],
        )
    assert upgrade(db)
    with db.read() as conn:
        assert counters.rollups_drifted(conn) == []
        n = conn.execute(sa.text("SELECT sum(sessions) FROM session_day_counts")).scalar_one()
    assert n == 6
    with db.write() as conn:  # the triggers are in place
        conn.execute(sa.update(sessions).values(state_id=3))
    with db.read() as conn:
        assert counters.rollups_drifted(conn) == []
    db.close()


@pytest.mark.parametrize("threads", [6])
def test_opposite_moves_neither_deadlock_nor_drift(fresh_database_url: str, threads: int) -> None:
    """Half the threads move their sessions from state 1 to 2 and back, the other half
    from 2 to 1 and back, all on the same day and runner: the same two rollup rows."""
    db = migrate(fresh_database_url)
    pid, uids, _ = _setup(db)
    with db.write() as conn:
        sids = [session_service.create_session(conn, pid, uids[0], f"S{i}") for i in range(threads)]
        for i, sid in enumerate(sids):
            conn.execute(sa.update(sessions).where(sessions.c.id == sid).values(state_id=1 + i % 2))
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def mover(i: int) -> None:
        try:
            start.wait(timeout=30)
            for k in range(40):
                with db.write() as conn:
                    state = 1 + (i + k + 1) % 2
                    conn.execute(
                        sa.update(sessions).where(sessions.c.id == sids[i]).values(state_id=state)
                    )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=mover, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors[0]
    with db.read() as conn:
        assert counters.rollups_drifted(conn) == []
    db.close()


def test_the_dashboard_reads_along_indexes(fresh_database_url: str) -> None:
    """The window walks the rollup's key and the running sessions' partial index, never
    a scan of the sessions (asserted on the plans of both databases)."""
    db = migrate(fresh_database_url)
    pid, _, _ = _setup(db)
    since, until = datetime(2026, 1, 1), datetime(2026, 4, 1)
    with db.read() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plans = []
        for statement in dashboard_queries.statements(pid, since, until):
            compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = conn.execute(sa.text(explain + str(compiled)))
            plans.append(" ".join(str(r[-1]) for r in rows))
    # A range of the primary key (project_id, day, ...), the table itself on SQLite.
    key = "USING PRIMARY KEY (project_id=? AND day>" if sqlite else "pk_session_day_counts"
    assert key in plans[0], plans[0]
    assert "ix_sessions_running" in plans[1], plans[1]
    db.close()
