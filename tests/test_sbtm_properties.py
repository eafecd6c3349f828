"""Property test of the SBTM metrics (issue 11): after any random sequence of writes
(sessions created, sheets set, testers and assignees changed, notes of every kind
added, re-kinded and deleted, sessions started and deleted, timeboxes changed), every
report equals a brute-force recomputation from the tables with exact fractions, and
`rebuild` (what `charter recount` runs) finds nothing drifted. Each example builds a
new project in one module-wide database (SQLite, or PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.catalog import read as catalog_read
from charter.core.listing import ListQuery
from charter.db.engine import Database
from charter.db.listing import Filter
from charter.db.tables import sessions as sessions_table
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sbtm import queries as sbtm_queries
from charter.sbtm import read as sbtm_read
from charter.sbtm import service as sbtm_service
from charter.sbtm.schemas import SheetData
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import migrate

pytestmark = pytest.mark.properties

AREA_NAMES = ("OS | Linux", "os|linux ", "Build | 4.2", "Checkout | Payment", "Strategy")
ALL = ListQuery(page=1, per_page=100, descending=False)


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Database]:
    database = migrate(module_database_url)
    with database.write() as conn:
        admin = user_service.new_user(conn, "Ada", "admin@example.com", is_admin=True)
        for i in range(4):
            user_service.new_user(conn, f"T{i}", f"t{i}@example.com")
        assert admin == 1
    yield database
    database.close()


pcts = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 100), st.integers(0, 100)).map(
        lambda ab: (min(ab), max(ab) - min(ab), 100 - max(ab))
    ),
)
co = st.one_of(st.none(), st.integers(0, 100).map(lambda c: (c, 100 - c)))
sheet = st.fixed_dictionaries(
    {
        "areas": st.lists(st.sampled_from(AREA_NAMES), max_size=3),
        "testers": st.lists(st.integers(2, 5), max_size=3, unique=True),
        "cls": st.sampled_from([None, "short", "normal", "long"]),
        "mult": st.sampled_from([None, 1, 1.5, 2, 0.25, 1.333]),
        "tbs": pcts,
        "co": co,
    }
)
op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from([None, 2, 3])),
    st.tuples(st.just("sheet"), st.integers(0, 5), sheet),
    st.tuples(st.just("note"), st.integers(0, 5), st.integers(0, 6)),
    st.tuples(st.just("rekind"), st.integers(0, 20), st.integers(0, 6)),
    st.tuples(st.just("unnote"), st.integers(0, 20)),
    st.tuples(st.just("start"), st.integers(0, 5), st.integers(0, 3)),
    st.tuples(st.just("assign"), st.integers(0, 5), st.sampled_from([None, 2, 4])),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("timebox"), st.integers(10, 200)),
)


def _apply(conn: Any, project: int, kinds: list[int | None], o: tuple[Any, ...]) -> None:
    sids = sbtm_queries.session_ids_of_project(conn, project)
    results = [
        int(r)
        for r in conn.execute(
            sa.text("SELECT id FROM session_results WHERE project_id = :p ORDER BY id"),
            {"p": project},
        ).scalars()
    ]
    name = o[0]
    if name == "create":
        session_service.create_session(conn, project, 1, "S", assignee_id=o[1])
    elif name == "timebox":
        sbtm_service.set_timeboxes(conn, project, {"normal": o[1]})
    elif name in ("rekind", "unnote"):
        if not results:
            return
        rid = results[o[1] % len(results)]
        if name == "rekind":
            result_service.edit_result(conn, rid, 1, {"kind_id": kinds[o[2]]})
        else:
            result_service.delete_result(conn, rid)
    else:
        if not sids:
            return
        sid = sids[o[1] % len(sids)]
        if name == "sheet":
            s = o[2]
            tbs = s["tbs"] or (None, None, None)
            c_o = s["co"] or (None, None)
            data = SheetData(
                areas=s["areas"],
                tester_ids=s["testers"],
                duration_class=s["cls"],
                duration_multiplier=s["mult"],
                pct_test=tbs[0],
                pct_bug=tbs[1],
                pct_setup=tbs[2],
                pct_charter=c_o[0],
                pct_opportunity=c_o[1],
            )
            sbtm_service.set_session_sheet(conn, sid, data, 1)
        elif name == "note":
            result_service.add_results(conn, sid, 1, [{"note": "n", "kind_id": kinds[o[2]]}])
        elif name == "start":
            row = sbtm_queries.session_row(conn, sid)
            if row is not None and not row["is_started"]:
                session_service.start(conn, sid, 1)
                # spread start days across midnight
                day = datetime(2026, 3, 1, 23, 0) + timedelta(hours=o[2])
                conn.execute(
                    sa.text("UPDATE sessions SET started_at = :d WHERE id = :i"),
                    {"d": day, "i": sid},
                )
                sbtm_service.session_changed(conn, sid)
        elif name == "assign":
            session_service.update_session(conn, sid, 1, {"assignee_id": o[2]})
        elif name == "delete":
            session_service.delete(conn, sid)


def _brute(conn: Any, project: int) -> dict[str, Any]:
    """The reports straight from the issue's formulas, over every session's raw data."""
    boxes = dict(
        zip(
            ("short", "normal", "long"),
            conn.execute(
                sa.text(
                    "SELECT timebox_short, timebox_normal, timebox_long FROM projects WHERE id = :p"
                ),
                {"p": project},
            ).one(),
            strict=True,
        )
    )
    sessions = (
        conn.execute(
            sa.select(sessions_table)
            .where(sessions_table.c.project_id == project)
            .order_by(sessions_table.c.id)
        )
        .mappings()
        .all()
    )
    per_session: dict[int, dict[str, Any]] = {}
    areas: dict[str, dict[str, Fraction]] = {}
    for name in conn.execute(
        sa.text("SELECT name FROM areas WHERE project_id = :p"), {"p": project}
    ).scalars():
        areas[name] = defaultdict(Fraction)
    testers: dict[int, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    days: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for s in sessions:
        sid = s["id"]
        tester_ids = list(
            conn.execute(
                sa.text("SELECT user_id FROM session_testers WHERE session_id = :s"), {"s": sid}
            ).scalars()
        )
        names = list(
            conn.execute(
                sa.text(
                    "SELECT a.name FROM session_areas sa JOIN areas a ON a.id = sa.area_id"
                    " WHERE sa.session_id = :s"
                ),
                {"s": sid},
            ).scalars()
        )
        cats = list(
            conn.execute(
                sa.text(
                    "SELECT k.category FROM session_results r LEFT JOIN result_kinds k"
                    " ON k.id = r.kind_id WHERE r.session_id = :s"
                ),
                {"s": sid},
            ).scalars()
        )
        bugs, issues = cats.count("bug"), cats.count("issue")
        if s["duration_class"] is None:
            units = Fraction(0)
        else:
            mult = s["duration_multiplier"]
            m = Fraction(1) if mult is None else Fraction(round(mult * 1000), 1000)
            units = Fraction(boxes[s["duration_class"]], boxes["normal"]) * m
        n_total = units * len(tester_ids)
        c = Fraction(100 if s["pct_charter"] is None else s["pct_charter"], 100)
        o = Fraction(0 if s["pct_opportunity"] is None else s["pct_opportunity"], 100)
        values = {
            "n_total": n_total,
            "n_charter": n_total * c,
            "n_opportunity": n_total * o,
            "n_test": n_total * Fraction(s["pct_test"] or 0, 100) * c,
            "n_bug": n_total * Fraction(s["pct_bug"] or 0, 100) * c,
            "n_setup": n_total * Fraction(s["pct_setup"] or 0, 100) * c,
            "bugs": Fraction(bugs),
            "issues": Fraction(issues),
            "sessions": Fraction(1),
        }
        per_session[sid] = {**values, "duration": units, "testers": len(tester_ids)}
        for name in names:
            for k, v in values.items():
                areas[name][k] += v
        for t in tester_ids:
            for k, v in values.items():
                testers[t][k] += v if k == "sessions" else v / len(tester_ids)
        if s["started_at"] is not None:
            for k, v in values.items():
                days[s["started_at"].date().isoformat()][k] += v
    return {"sessions": per_session, "areas": areas, "testers": testers, "days": days}


def _same(report_row: dict[str, Any], wanted: dict[str, Fraction], keys: list[str]) -> None:
    for k in keys:
        assert report_row[k] == float(wanted.get(k, Fraction(0))), (k, report_row, wanted)


KEYS = ["n_total", "n_charter", "n_opportunity", "n_test", "n_bug", "n_setup", "bugs", "issues"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_reports_equal_a_brute_force_recomputation(db: Database, ops: list[Any]) -> None:
    with db.write() as conn:
        project = project_service.new_project(conn, "P", created_by=1)
        for email in ("t0@example.com", "t1@example.com", "t2@example.com", "t3@example.com"):
            project_service.add_member(conn, project, email, "tester")
        kinds: list[int | None] = [None, *(k["id"] for k in catalog_read.kind_rows(conn, project))]
        for o in [("create", 2), ("create", None), *ops]:
            _apply(conn, project, kinds, o)
    with db.read() as conn:
        brute = _brute(conn, project)
        rows = sbtm_read.session_report(conn, project, ALL).rows
        assert {r["session_id"] for r in rows} == set(brute["sessions"])
        for r in rows:
            wanted = brute["sessions"][r["session_id"]]
            _same(r, wanted, [*KEYS, "duration"])
            assert r["testers"] == wanted["testers"]
        assert sbtm_read.session_report(conn, project, ALL).total == len(brute["sessions"])
        for user_id, values in brute["testers"].items():
            only = ListQuery(per_page=15, filters=(Filter("in", "tester_id", (user_id,)),))
            assert sbtm_read.session_report(conn, project, only).total == values["sessions"]
        for name, values in brute["areas"].items():
            only = ListQuery(per_page=15, filters=(Filter("contains", "area", name),))
            assert sbtm_read.session_report(conn, project, only).total == values["sessions"]
        areas = sbtm_read.area_report(conn, project, ALL).rows
        assert {a["area"] for a in areas} == set(brute["areas"])
        for a in areas:
            _same(a, brute["areas"][a["area"]], [*KEYS, "sessions"])
        testers = sbtm_read.tester_report(conn, project, ALL).rows
        assert {t["user_id"] for t in testers} == set(brute["testers"])
        for t in testers:
            _same(t, brute["testers"][t["user_id"]], [*KEYS, "sessions"])
        days = sbtm_read.day_report(conn, project, ALL).rows
        assert {d["date"] for d in days} == set(brute["days"])
        for d in days:
            _same(d, brute["days"][d["date"]], [*KEYS, "sessions"])
        stored = sbtm_queries.stored_rollups(conn, project)
    with db.write() as conn:
        assert sbtm_service.rebuild(conn, project) == 0
        assert sbtm_queries.stored_rollups(conn, project) == stored
