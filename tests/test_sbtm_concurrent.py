"""The SBTM rollups stay exact under concurrent writers (meaningful on PostgreSQL, where
write transactions run side by side; SQLite runs them one at a time): threads rewrite
sheets that share areas and testers, add and re-kind bug notes and start sessions at
once, and afterwards the stored rollups equal a rebuild from the data, with no
deadlock along the way."""

from __future__ import annotations

import contextlib
import random
import threading

import sqlalchemy as sa

from charter.catalog import read as catalog_read
from charter.core.errors import Conflict
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sbtm import queries as sbtm_queries
from charter.sbtm import service as sbtm_service
from charter.sbtm.schemas import SheetData
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import migrate

THREADS = 6
ROUNDS = 12
AREAS = ("A", "B | C", "B | D", "E")


def test_rollups_stay_exact_with_concurrent_writers(fresh_database_url: str) -> None:
    db = migrate(fresh_database_url)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Ada", "admin@example.com", is_admin=True)
        testers = [user_service.new_user(conn, f"T{i}", f"t{i}@example.com") for i in range(4)]
        project = project_service.new_project(conn, "P", created_by=admin)
        for i in range(4):
            project_service.add_member(conn, project, f"t{i}@example.com", "tester")
        kinds = [k["id"] for k in catalog_read.kind_rows(conn, project)]
        sessions = [
            session_service.create_session(conn, project, admin, f"S{i}", assignee_id=testers[0])
            for i in range(THREADS)
        ]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(ROUNDS):
                sid = rng.choice(sessions)
                with contextlib.suppress(Conflict), db.write() as conn:
                    what = rng.randrange(4)
                    if what == 0:
                        t = rng.randrange(101)
                        data = SheetData(
                            areas=rng.sample(AREAS, rng.randrange(1, 4)),
                            tester_ids=rng.sample(testers, rng.randrange(1, 4)),
                            duration_class=rng.choice(["short", "normal", "long"]),
                            duration_multiplier=rng.choice([None, 1.5, 2]),
                            pct_test=t,
                            pct_bug=100 - t,
                            pct_setup=0,
                            pct_charter=80,
                            pct_opportunity=20,
                        )
                        sbtm_service.set_session_sheet(conn, sid, data, admin)
                    elif what == 1:
                        result_service.add_results(
                            conn, sid, admin, [{"note": "b", "kind_id": rng.choice(kinds)}]
                        )
                    elif what == 2:
                        ids = list(
                            conn.execute(
                                sa.text("SELECT id FROM session_results WHERE session_id = :s"),
                                {"s": sid},
                            ).scalars()
                        )
                        if ids:
                            result_service.edit_result(
                                conn, rng.choice(ids), admin, {"kind_id": rng.choice(kinds)}
                            )
                    else:
                        # another writer may start it first: 409, rolled back
                        session_service.start(conn, sid, admin)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.read() as conn:
        stored = sbtm_queries.stored_rollups(conn, project)
    assert stored["areas"], "the writers wrote nothing"
    with db.write() as conn:
        assert sbtm_service.rebuild(conn, project) == 0
        assert sbtm_queries.stored_rollups(conn, project) == stored
    db.close()
