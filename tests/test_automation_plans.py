"""Every documented filter and sort of the automation lists uses an index (SQLite:
`EXPLAIN QUERY PLAN` of the exact statements the read functions run; no line may scan
automation_runs, automation_run_tags or automation_tests except through an index)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from charter.auth.service import User
from charter.automation import read as automation_read
from charter.automation import service as automation_service
from charter.automation.schemas import RUNS, TESTS
from charter.catalog import service as catalog_service
from charter.db.migrate import optimize
from charter.http.conventions import Params, parse_list
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.users import service as user_service
from helpers_db import backend, migrate

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="SQLite's planner")
TABLES = ("automation_runs", "automation_run_tags", "automation_tests")
BAD = re.compile(r"SCAN (automation_runs|automation_run_tags|automation_tests)\b(?!.*INDEX)")


@pytest.fixture(scope="module")
def planned(module_database_url: str) -> Any:
    db = migrate(module_database_url)
    with db.write() as conn:
        uid = user_service.new_user(conn, "A", "a@example.com", is_admin=True)
        user = User(uid, "A", "a@example.com", True, None, None, None)
        pid = project_service.new_project(conn, "P", created_by=uid)
        mid = milestone_service.new_milestone(conn, pid, "M", uid)
        cid = catalog_service.new_config(conn, pid, "C")
        for i in range(300):
            body: dict[str, Any] = {"name": f"r{i}", "source": f"s{i % 5}", "tags": [f"t{i % 7}"]}
            if i % 10 == 0:
                body |= {"milestone_id": mid, "config_id": cid}
            run = automation_service.create_run(conn, user, pid, body)
            if i < 3:
                thread = automation_service.create_thread(conn, user, run, {})
                tests = [{"name": f"x{j}", "status": "passed"} for j in range(200)]
                automation_service.append_to_thread(conn, user, thread, {"tests": tests})
            if i % 2:
                automation_service.complete_run(conn, user, run, {})
    optimize(db)
    yield db, user, pid, mid, cid
    db.close()


def _explained(db: Any, call: Any) -> list[str]:
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.read() as conn:
            call(conn)
            raw = conn.connection.dbapi_connection
            lines = []
            for sql, params in statements:
                rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                lines += [str(r[-1]) for r in rows]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return lines


RUN_CASES = [
    {},
    {"sort": "automation_runs:completed_at"},
    {"order": "asc"},
    {"status": "2"},
    {"source_id": "1"},
    {"created_by": "1"},
    {"milestone_id": "{mid}"},
    {"config_id": "{cid}"},
    {"tags": "t3"},
    {"created_after": "2020-01-01"},
    {"created_before": "2999-01-01"},
]


@pytest.mark.parametrize("params", RUN_CASES, ids=[str(c) for c in RUN_CASES])
def test_run_lists_use_indexes(planned: Any, params: dict[str, str]) -> None:
    db, user, pid, mid, cid = planned
    # A page of 15 of 300 runs: fetching the page by id must look ids up (with 100
    # of 300, a scan of the table would be the cheaper plan, and SQLite takes it).
    values = {"per_page": "15", **{k: v.format(mid=mid, cid=cid) for k, v in params.items()}}
    query = parse_list(Params(values), RUNS)
    lines = _explained(db, lambda conn: automation_read.list_runs(conn, user, pid, query))
    assert lines and not [line for line in lines if BAD.search(line)], lines


@pytest.mark.parametrize("params", [{}, {"status_id": "2"}, {"thread_id": "1"}])
def test_test_lists_use_indexes(planned: Any, params: dict[str, str]) -> None:
    db, user, _pid, _mid, _cid = planned
    query = parse_list(Params(params), TESTS)
    lines = _explained(db, lambda conn: automation_read.list_tests(conn, user, 1, query))
    assert lines and not [line for line in lines if BAD.search(line)], lines
