"""The demo loader's bulk path (COPY on PostgreSQL, executemany on SQLite, db/bulk.py).

A load stores counters equal to a recount, the same rows for the same seed whatever
the batch size, keeps the schema's foreign keys as they were and leaves the id
sequences past the loaded ids. A batch that breaks a key is refused as a whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from charter import demo
from charter.db.bulk import BulkLoader
from charter.db.engine import Database
from charter.db.tables import metadata, projects, session_results, sessions
from charter.sessions import counters
from charter.sessions import queries as session_queries
from helpers_db import make_fresh_database, migrate

N_SESSIONS = 500
SEED = 3


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[Any]:
    """A factory of migrated, empty databases (all dropped afterwards)."""
    made: list[tuple[Database, Any]] = []

    def make() -> Database:
        url, cleanup = make_fresh_database(tmp_path)
        db = migrate(url)
        made.append((db, cleanup))
        return db

    yield make
    for db, cleanup in made:
        db.close()
        cleanup()


def foreign_keys(db: Database) -> dict[str, list[Any]]:
    inspector = sa.inspect(db.engine)
    return {
        t.name: sorted(inspector.get_foreign_keys(t.name), key=lambda k: str(k["name"]))
        for t in demo.SESSION_TABLES
    }


def fingerprint(db: Database) -> dict[str, Any]:
    """Row counts of every table, and checksums of the sessions and results."""
    out: dict[str, Any] = {}
    with db.read() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        for name, stmt in (
            ("sessions (id, name)", sa.select(sessions.c.id, sessions.c.name).order_by("id")),
            (
                "results (id, session_id, status_id, created_at)",
                sa.select(
                    session_results.c.id,
                    session_results.c.session_id,
                    session_results.c.status_id,
                    session_results.c.created_at,
                ).order_by("id"),
            ),
        ):
            digest = hashlib.sha256()
            for row in conn.execute(stmt):
                digest.update(repr(tuple(row)).encode())
            out[name] = digest.hexdigest()
    return out


def test_load_counts_and_repeats(new_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_db()
    keys_before = foreign_keys(first)
    assert demo.load_demo(first, n_sessions=N_SESSIONS, seed=SEED, progress=False)
    assert demo.load_demo(first, n_sessions=N_SESSIONS, seed=SEED) is None  # loaded already

    with first.read() as conn:
        assert counters.verify(conn) == []
        assert counters.rollups_drifted(conn) == []
        n_sessions = conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar()
        assert n_sessions == N_SESSIONS
        stored = conn.execute(
            sa.select(
                projects.c.id,
                projects.c.session_count,
                projects.c.session_active_count,
                projects.c.session_closed_count,
            )
        ).all()
        assert len(stored) == 3
        for project_id, total, active, closed in stored:
            assert {
                "session_count": total,
                "session_active_count": active,
                "session_closed_count": closed,
            } == session_queries.project_session_counts(conn, project_id)
    assert foreign_keys(first) == keys_before

    # Same seed, batches of 40 (several per project, more than the loader keeps
    # queued): the same rows, ids and all.
    monkeypatch.setattr(demo, "BATCH", 40)
    second = new_db()
    assert demo.load_demo(second, n_sessions=N_SESSIONS, seed=SEED, progress=False)
    expected = fingerprint(first)
    assert expected["session_results"] > N_SESSIONS
    assert fingerprint(second) == expected

    # The id sequences continue after the loaded ids.
    with second.write() as conn:
        top = conn.execute(sa.select(sa.func.max(sessions.c.id))).scalar_one()
        row = dict(conn.execute(sa.select(sessions).where(sessions.c.id == top)).mappings().one())
        del row["id"]
        new_id = conn.execute(sa.insert(sessions).values(row)).inserted_primary_key[0]
        assert new_id == top + 1
        top_result = conn.execute(sa.select(sa.func.max(session_results.c.id))).scalar_one()
        result_id = conn.execute(
            sa.insert(session_results).values(
                session_id=new_id, project_id=row["project_id"], created_at=row["created_at"]
            )
        ).inserted_primary_key[0]
        assert result_id == top_result + 1


def _session_row(session_id: int, project_id: int) -> dict[str, Any]:
    return {
        "id": session_id,
        "project_id": project_id,
        "template_id": 1,
        "name": "bulk",
        "state_id": 1,
        "is_started": False,
        "is_closed": False,
        "created_at": demo.ANCHOR,
    }


@pytest.mark.parametrize("broken", ["unknown project", "duplicate id"])
def test_a_batch_breaking_a_key_stores_nothing(new_db: Any, broken: str) -> None:
    db = new_db()
    assert demo.load_demo(db, n_sessions=5, seed=SEED, progress=False)
    keys_before = foreign_keys(db)
    before = fingerprint(db)
    good = [_session_row(1000 + i, 1) for i in range(3)]
    bad = _session_row(5, 1) if broken == "duplicate id" else _session_row(2000, 999)
    with pytest.raises(sa.exc.IntegrityError), BulkLoader(db, demo.SESSION_TABLES) as loader:
        loader.put([(sessions, [*good, bad])])
        loader.put([(sessions, [_session_row(3000, 1)])])
    assert fingerprint(db) == before
    assert foreign_keys(db) == keys_before


def test_load_leaves_the_search_index_whole_and_kept(new_db: Any) -> None:
    """SQLite: the loader drops the search index's triggers for speed and rebuilds the
    index at the end; afterwards the index matches the sessions, and the triggers are
    back (a session named later is found)."""
    db = new_db()
    if not db.is_sqlite:
        pytest.skip("the FTS5 search index is SQLite's")
    with db.read() as conn:
        before = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).all()
    demo.load_demo(db, n_sessions=N_SESSIONS, seed=SEED, progress=False)
    with db.write() as conn:
        after = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).all()
        assert after == before
        # rank 1: compare the index with the sessions' text (an error if it differs)
        conn.exec_driver_sql(
            "INSERT INTO session_search(session_search, rank) VALUES ('integrity-check', 1)"
        )
        conn.execute(sa.update(sessions).where(sessions.c.id == 1).values(name="Zebracrossing"))
        found = conn.exec_driver_sql(
            "SELECT rowid FROM session_search WHERE name LIKE '%zebracross%'"
        ).all()
        assert [r[0] for r in found] == [1]


def test_bulk_writes_spill_temporary_btrees_to_a_file(new_db: Any) -> None:
    """SQLite: a bulk write (the loader's rebuilds) keeps its temporary b-trees in a
    file, every other transaction in memory, on the same pooled connections."""
    db = new_db()
    if not db.is_sqlite:
        pytest.skip("temp_store is SQLite's")
    file_, memory = 1, 2
    for _ in range(3):  # the pool hands the same connections back
        with db.write(bulk=True) as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == file_
        with db.write() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == memory
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == memory
