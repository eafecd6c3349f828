"""Stored counters always equal a recount.

Session counters (untested_count, status1..24_count, success/failure/completed/total)
change with every result add / edit / delete, in the same transaction; project session
counters (session_count / active / closed) change with every session create / close /
reopen / delete. Random sequences of those writes (hypothesis state machines) must
leave every stored counter equal to a recount, and a write that fails validation
must change nothing at all.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Connection

from charter.core.errors import Conflict, Invalid
from charter.db.engine import Database
from charter.db.tables import COUNTER_COLUMNS, STATUS_SLOT_COLUMNS, projects, session_results
from charter.db.tables import sessions as sessions_table
from charter.db.tables import statuses as statuses_table
from charter.projects import service as project_service
from charter.results.service import MAX_BULK, add_results, delete_result, edit_result
from charter.sessions import counters
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ACTIVE_STATUSES = (1, 2, 3, 4, 5, 6)  # seeded active statuses; 7..25 are disabled
status_or_note = st.none() | st.sampled_from(ACTIVE_STATUSES)
# Values that must be refused: unknown, out of range, disabled, wrong type.
bad_statuses = st.sampled_from([99, 0, -1, 26, 7, 25, "2", 2.0, True])

MACHINE_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROJECT_COUNTERS = ("session_count", "session_active_count", "session_closed_count")


# --- helpers ----------------------------------------------------------------------------


def status_flags(conn: Connection) -> dict[int, dict[str, bool]]:
    rows = conn.execute(
        sa.select(
            statuses_table.c.id,
            statuses_table.c.is_passed,
            statuses_table.c.is_failed,
            statuses_table.c.is_final,
        )
    )
    return {
        int(r.id): {
            "passed": bool(r.is_passed),
            "failed": bool(r.is_failed),
            "final": bool(r.is_final),
        }
        for r in rows
    }


def expected_counters(
    statuses: list[int | None], flags: Mapping[int, Mapping[str, bool]]
) -> dict[str, int]:
    """The contract's meaning of the counters, computed independently of the server:
    status 1 -> untested_count, status N+1 -> status{N}_count, flags -> success /
    failure / completed, every result -> total_count."""
    out = dict.fromkeys(COUNTER_COLUMNS, 0)
    for status in statuses:
        out["total_count"] += 1
        if status is None:
            continue
        out["untested_count" if status == 1 else f"status{status - 1}_count"] += 1
        out["success_count"] += flags[status]["passed"]
        out["failure_count"] += flags[status]["failed"]
        out["completed_count"] += flags[status]["final"]
    return out


def stored_counters(conn: Connection, session_id: int) -> dict[str, int]:
    row = conn.execute(
        sa.select(*(sessions_table.c[c] for c in COUNTER_COLUMNS)).where(
            sessions_table.c.id == session_id
        )
    ).one()
    return dict(zip(COUNTER_COLUMNS, map(int, row), strict=True))


def result_statuses(conn: Connection, session_id: int) -> dict[int, int | None]:
    rows = conn.execute(
        sa.select(session_results.c.id, session_results.c.status_id).where(
            session_results.c.session_id == session_id
        )
    )
    return {int(r.id): r.status_id for r in rows}


@contextlib.contextmanager
def rolled_back(db: Database) -> Iterator[Connection]:
    """A transaction that is always rolled back (for recount, which writes)."""
    with db.engine.connect() as conn:
        tx = conn.begin()
        try:
            yield conn
        finally:
            tx.rollback()


def assert_recount_clean(db: Database, session_ids: list[int] | None = None) -> None:
    with db.read() as conn:
        assert counters.verify(conn) == []
        assert counters.rollups_drifted(conn) == []
    with rolled_back(db) as conn:
        assert counters.recount(conn, session_ids) == 0


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counter_db(module_database_url: str) -> Iterator[Database]:
    db = migrate(module_database_url)
    with db.write() as conn:
        user_service.new_user(conn, "Ada Admin", "admin@example.com", is_admin=True)
        user_service.new_user(conn, "Tess Tester", "tess@example.com")
    yield db
    db.close()


@pytest.fixture(scope="module")
def counter_api(counter_db: Database, module_database_url: str) -> Iterator[Api]:
    yield from open_api(module_database_url)


def user_ids(db: Database) -> list[int]:
    with db.read() as conn:
        return [int(r[0]) for r in conn.execute(sa.text("SELECT id FROM users ORDER BY id"))]


_names = itertools.count()


def new_project(conn: Connection, admin_id: int) -> int:
    return project_service.new_project(conn, f"Counters {next(_names)}", created_by=admin_id)


# --- the counter mapping ------------------------------------------------------------------


def test_seeded_status_flags(empty_db: Database) -> None:
    """The seeded statuses the counters rely on (1 Untested ... 6 Skipped)."""
    with empty_db.read() as conn:
        flags = status_flags(conn)
        active = {
            int(r[0])
            for r in conn.execute(
                sa.select(statuses_table.c.id).where(statuses_table.c.is_active.is_(True))
            )
        }
    assert sorted(flags) == list(range(1, 26))
    assert active == set(ACTIVE_STATUSES)
    assert {s for s, f in flags.items() if f["passed"]} == {2}
    assert {s for s, f in flags.items() if f["failed"]} == {3, 5}
    assert {s for s, f in flags.items() if f["final"]} == {2, 3, 5, 6}


def test_each_status_counts_into_its_slot(empty_db: Database) -> None:
    """status 1 -> untested_count, status N+1 -> status{N}_count (N = 1..24), the flags
    -> success/failure/completed, and every result -> total_count. Every status is
    enabled here, some with flags, so that all 25 slots are exercised."""
    with empty_db.write() as conn:
        conn.execute(sa.update(statuses_table).values(is_active=True))
        conn.execute(
            sa.update(statuses_table).where(statuses_table.c.id == 7).values(is_passed=True)
        )
        conn.execute(
            sa.update(statuses_table)
            .where(statuses_table.c.id == 25)
            .values(is_failed=True, is_final=True)
        )
        admin = user_service.new_user(conn, "Ada Admin", "admin@example.com", is_admin=True)
        project_id = new_project(conn, admin)
        flags = status_flags(conn)
    assert STATUS_SLOT_COLUMNS[0] == "untested_count"
    for status in [None, *range(1, 26)]:
        with empty_db.write() as conn:
            session_id = session_service.create_session(conn, project_id, admin, f"S {status}")
            add_results(conn, session_id, admin, [{"status_id": status}])
            got = stored_counters(conn, session_id)
        wanted = dict.fromkeys(COUNTER_COLUMNS, 0)
        wanted["total_count"] = 1
        if status is not None:
            wanted["untested_count" if status == 1 else f"status{status - 1}_count"] = 1
            wanted["success_count"] = int(flags[status]["passed"])
            wanted["failure_count"] = int(flags[status]["failed"])
            wanted["completed_count"] = int(flags[status]["final"])
        assert got == wanted, status
        assert got == expected_counters([status], flags)
    assert_recount_clean(empty_db)


# --- all or nothing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_item",
    [
        {"status_id": 99},
        {"status_id": 7},  # a disabled status
        {"status_id": "2"},
        {"status_id": 2, "note": 12345},
    ],
    ids=["unknown-status", "disabled-status", "string-status", "bad-note"],
)
def test_bulk_add_failing_midway_changes_nothing(
    counter_db: Database, bad_item: dict[str, Any]
) -> None:
    admin = user_ids(counter_db)[0]
    with counter_db.write() as conn:
        project_id = new_project(conn, admin)
        session_id = session_service.create_session(conn, project_id, admin, "All or nothing")
        add_results(conn, session_id, admin, [{"status_id": s} for s in (1, 2, 3, None)])
    with counter_db.read() as conn:
        before = (stored_counters(conn, session_id), result_statuses(conn, session_id))
    items: list[dict[str, Any]] = [
        {"status_id": 2},
        {"status_id": None},
        bad_item,
        {"status_id": 3},
    ]
    with pytest.raises(Invalid), counter_db.write() as conn:
        add_results(conn, session_id, admin, items)
    with counter_db.read() as conn:
        after = (stored_counters(conn, session_id), result_statuses(conn, session_id))
    assert after == before
    assert_recount_clean(counter_db, [session_id])


def test_bulk_add_cap_is_all_or_nothing(counter_db: Database) -> None:
    admin = user_ids(counter_db)[0]
    with counter_db.write() as conn:
        project_id = new_project(conn, admin)
        session_id = session_service.create_session(conn, project_id, admin, "Cap")
    too_many = [{"status_id": 2}] * (MAX_BULK + 1)
    with pytest.raises(Invalid), counter_db.write() as conn:
        add_results(conn, session_id, admin, too_many)
    with counter_db.read() as conn:
        assert result_statuses(conn, session_id) == {}
        assert stored_counters(conn, session_id) == dict.fromkeys(COUNTER_COLUMNS, 0)
    statuses = [[None, 1, 2, 3, 4, 5, 6][i % 7] for i in range(MAX_BULK)]
    with counter_db.write() as conn:
        ids = add_results(conn, session_id, admin, [{"status_id": s} for s in statuses])
        flags = status_flags(conn)
    assert len(ids) == MAX_BULK
    with counter_db.read() as conn:
        assert stored_counters(conn, session_id) == expected_counters(statuses, flags)
    assert_recount_clean(counter_db, [session_id])


# --- random result writes -------------------------------------------------------------------


class ResultWrites(RuleBasedStateMachine):
    """Adds (single, bulk, failing bulk), status edits (to and from null), note edits,
    deletes and close/reopen on a few sessions; the model is the list of results."""

    db: ClassVar[Database]

    def __init__(self) -> None:
        super().__init__()
        self.admin, self.tester = user_ids(self.db)[:2]
        with self.db.write() as conn:
            project_id = new_project(conn, self.admin)
            self.sessions = [
                session_service.create_session(conn, project_id, self.admin, f"S{i}")
                for i in range(3)
            ]
            self.flags = status_flags(conn)
        self.results: dict[int, tuple[int, int | None]] = {}  # id -> (session, status)
        self.closed: set[int] = set()

    @initialize(statuses=st.lists(status_or_note, max_size=5))
    def seed(self, statuses: list[int | None]) -> None:
        self._add(self.sessions[0], statuses)

    def _add(self, session_id: int, statuses: list[int | None]) -> None:
        items = [{"status_id": s, "note": f"note {s}"} for s in statuses]
        if session_id in self.closed:
            with pytest.raises(Conflict), self.db.write() as conn:
                add_results(conn, session_id, self.tester, items)
            return
        with self.db.write() as conn:
            ids = add_results(conn, session_id, self.tester, items)
        assert len(ids) == len(statuses) == len(set(ids))
        for result_id, status in zip(ids, statuses, strict=True):
            self.results[result_id] = (session_id, status)

    @rule(session=st.integers(0, 2), status=status_or_note)
    def add_one(self, session: int, status: int | None) -> None:
        self._add(self.sessions[session], [status])

    @rule(session=st.integers(0, 2), statuses=st.lists(status_or_note, min_size=2, max_size=25))
    def add_bulk(self, session: int, statuses: list[int | None]) -> None:
        self._add(self.sessions[session], statuses)

    @rule(
        session=st.integers(0, 2),
        statuses=st.lists(status_or_note, max_size=10),
        bad=bad_statuses,
        data=st.data(),
    )
    def add_bulk_failing_midway(
        self, session: int, statuses: list[int | None], bad: object, data: st.DataObject
    ) -> None:
        position = data.draw(st.integers(0, len(statuses)), label="bad position")
        items: list[dict[str, Any]] = [{"status_id": s} for s in statuses]
        items.insert(position, {"status_id": bad})
        session_id = self.sessions[session]
        expected = Conflict if session_id in self.closed else Invalid
        with pytest.raises(expected), self.db.write() as conn:
            add_results(conn, session_id, self.tester, items)
        # Nothing changed: the invariants compare the tables with the model.

    def _open_results(self) -> list[int]:
        return sorted(r for r, (s, _) in self.results.items() if s not in self.closed)

    @precondition(lambda self: self._open_results())
    @rule(data=st.data(), status=status_or_note)
    def edit_status(self, data: st.DataObject, status: int | None) -> None:
        result_id = data.draw(st.sampled_from(self._open_results()), label="result")
        with self.db.write() as conn:
            edit_result(conn, result_id, self.admin, {"status_id": status})
        self.results[result_id] = (self.results[result_id][0], status)

    @precondition(lambda self: self._open_results())
    @rule(data=st.data())
    def edit_note_only(self, data: st.DataObject) -> None:
        result_id = data.draw(st.sampled_from(self._open_results()), label="result")
        with self.db.write() as conn:
            edit_result(conn, result_id, self.admin, {"note": "edited"})

    @precondition(lambda self: self._open_results())
    @rule(data=st.data(), bad=bad_statuses)
    def edit_to_invalid_status(self, data: st.DataObject, bad: object) -> None:
        result_id = data.draw(st.sampled_from(self._open_results()), label="result")
        with pytest.raises(Invalid), self.db.write() as conn:
            edit_result(conn, result_id, self.admin, {"status_id": bad})

    @precondition(lambda self: self._open_results())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        result_id = data.draw(st.sampled_from(self._open_results()), label="result")
        with self.db.write() as conn:
            delete_result(conn, result_id)
        del self.results[result_id]

    @precondition(lambda self: any(s in self.closed for s, _ in self.results.values()))
    @rule(data=st.data(), status=status_or_note)
    def write_to_closed_session_is_refused(self, data: st.DataObject, status: int | None) -> None:
        closed = sorted(r for r, (s, _) in self.results.items() if s in self.closed)
        result_id = data.draw(st.sampled_from(closed), label="result")
        with pytest.raises(Conflict), self.db.write() as conn:
            edit_result(conn, result_id, self.admin, {"status_id": status})
        with pytest.raises(Conflict), self.db.write() as conn:
            delete_result(conn, result_id)

    @rule(session=st.integers(0, 2))
    def close_or_reopen(self, session: int) -> None:
        session_id = self.sessions[session]
        with self.db.write() as conn:
            if session_id in self.closed:
                session_service.reopen(conn, session_id, self.admin)
                self.closed.discard(session_id)
            else:
                session_service.close(conn, session_id, self.admin)
                self.closed.add(session_id)

    @invariant()
    def counters_match_the_model_and_a_recount(self) -> None:
        with self.db.read() as conn:
            for session_id in self.sessions:
                stored = result_statuses(conn, session_id)
                modelled = {r: st for r, (s, st) in self.results.items() if s == session_id}
                assert stored == modelled
                wanted = expected_counters(list(modelled.values()), self.flags)
                assert stored_counters(conn, session_id) == wanted
        with rolled_back(self.db) as conn:
            assert counters.recount(conn, self.sessions) == 0

    def teardown(self) -> None:
        if hasattr(self, "sessions"):
            assert_recount_clean(self.db)


def test_result_writes_keep_session_counters_exact(counter_db: Database) -> None:
    ResultWrites.db = counter_db
    run_state_machine_as_test(ResultWrites, settings=MACHINE_SETTINGS)


# --- random session lifecycles --------------------------------------------------------------


class SessionLifecycles(RuleBasedStateMachine):
    """Create / start / close / reopen / delete sessions of one project (some with
    results); the project's stored session counters must stay exact."""

    db: ClassVar[Database]
    api: ClassVar[Api]

    def __init__(self) -> None:
        super().__init__()
        self.admin = user_ids(self.db)[0]
        with self.db.write() as conn:
            self.project_id = new_project(conn, self.admin)
        self.open: set[int] = set()
        self.closed: set[int] = set()
        self.started: set[int] = set()

    @rule(statuses=st.lists(status_or_note, max_size=4), closed=st.booleans())
    def create(self, statuses: list[int | None], closed: bool) -> None:
        with self.db.write() as conn:
            session_id = session_service.create_session(conn, self.project_id, self.admin, "S")
            if statuses:
                add_results(conn, session_id, self.admin, [{"status_id": s} for s in statuses])
            if closed:
                session_service.close(conn, session_id, self.admin)
        (self.closed if closed else self.open).add(session_id)

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.open)), label="open session")
        with self.db.write() as conn:
            if session_id not in self.started and data.draw(st.booleans(), label="start first"):
                session_service.start(conn, session_id, self.admin)
                self.started.add(session_id)
            session_service.close(conn, session_id, self.admin)
        self.open.remove(session_id)
        self.closed.add(session_id)

    @precondition(lambda self: self.closed)
    @rule(data=st.data())
    def reopen(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.closed)), label="closed session")
        with self.db.write() as conn:
            session_service.reopen(conn, session_id, self.admin)
        self.closed.remove(session_id)
        self.open.add(session_id)

    @precondition(lambda self: self.open or self.closed)
    @rule(data=st.data())
    def impossible_transition_changes_nothing(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.open | self.closed)), label="session")
        with pytest.raises(Conflict), self.db.write() as conn:
            if session_id in self.closed:
                session_service.close(conn, session_id, self.admin)  # close twice
            else:
                session_service.reopen(conn, session_id, self.admin)  # reopen an open one

    @precondition(lambda self: self.open or self.closed)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.open | self.closed)), label="session")
        with self.db.write() as conn:
            session_service.delete(conn, session_id)
        self.open.discard(session_id)
        self.closed.discard(session_id)

    @invariant()
    def project_counters_are_exact(self) -> None:
        wanted = {
            "session_count": len(self.open) + len(self.closed),
            "session_active_count": len(self.open),
            "session_closed_count": len(self.closed),
        }
        with self.db.read() as conn:
            stored = conn.execute(
                sa.select(*(projects.c[c] for c in PROJECT_COUNTERS)).where(
                    projects.c.id == self.project_id
                )
            ).one()
            assert dict(zip(PROJECT_COUNTERS, stored, strict=True)) == wanted
            rows = conn.execute(
                sa.select(sessions_table.c.id, sessions_table.c.is_closed).where(
                    sessions_table.c.project_id == self.project_id
                )
            )
            recounted = Counter(bool(closed) for _id, closed in rows)
        assert recounted[True] == len(self.closed)
        assert recounted[False] == len(self.open)

    def teardown(self) -> None:
        if not hasattr(self, "project_id"):
            return
        project = self.api.get(f"/api/v1/projects/{self.project_id}").json()["result"]
        assert project["session_count"] == len(self.open) + len(self.closed)
        assert project["session_active_count"] == len(self.open)
        assert project["session_closed_count"] == len(self.closed)
        listed = self.api.get(f"/api/v1/projects/{self.project_id}/sessions", per_page=15).json()
        assert listed["total"] == len(self.open) + len(self.closed)
        for flag, wanted in (("1", self.closed), ("0", self.open)):
            body = self.api.get(
                f"/api/v1/projects/{self.project_id}/sessions", is_closed=flag
            ).json()
            assert body["total"] == len(wanted)
        assert_recount_clean(self.db)
        with rolled_back(self.db) as conn:
            counters.recount(conn)  # rebuilds project counters too: none may move
            row = conn.execute(
                sa.select(*(projects.c[c] for c in PROJECT_COUNTERS)).where(
                    projects.c.id == self.project_id
                )
            ).one()
            assert list(row) == [
                len(self.open) + len(self.closed),
                len(self.open),
                len(self.closed),
            ]


def test_session_lifecycles_keep_project_counters_exact(
    counter_db: Database, counter_api: Api
) -> None:
    SessionLifecycles.db = counter_db
    SessionLifecycles.api = counter_api
    run_state_machine_as_test(SessionLifecycles, settings=MACHINE_SETTINGS)
