"""The sessions JSON the database builds is the same bytes on SQLite and PostgreSQL:
compact separators, the same number and time formats (a client parses no more than it
must, and a cache or a diff sees no difference between the two)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa

from charter.demo import load_demo
from helpers_db import DEMO_SESSIONS, Api, backend, migrate, open_api

PAGES = (
    "/api/v1/projects/1/sessions?per_page=100",
    "/api/v1/projects/1/sessions?per_page=100&page=2&expands=users,issues,field_values",
    "/api/v1/sessions/3",
)


def test_session_json_is_compact_and_canonical(demo_api: Api) -> None:
    """Re-encoding what the database built changes nothing: no spaces after `:` or
    `,`, integers as integers, strings escaped as a JSON encoder escapes them."""
    for path in PAGES:
        resp = demo_api.get(path)
        assert resp.status_code == 200, resp.text
        assert msgspec.json.encode(msgspec.json.decode(resp.content)) == resp.content, path


def _demo_api(url: str) -> Iterator[Api]:
    db = migrate(url)
    load_demo(db, n_sessions=DEMO_SESSIONS, seed=7, progress=False)
    with db.write() as conn:  # no timer runs: elapsed would differ by the clock alone
        conn.execute(sa.text("UPDATE sessions SET running_since = NULL"))
    db.close()
    yield from open_api(url)


@pytest.mark.skipif(backend() != "postgresql", reason="compares with PostgreSQL")
def test_sqlite_and_postgresql_answer_the_same_bytes(
    fresh_database_url: str, tmp_path: Path
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    pg_apis = _demo_api(fresh_database_url)
    lite_apis = _demo_api(sqlite_url)
    pg, lite = next(pg_apis), next(lite_apis)
    try:
        for path in PAGES:
            a, b = pg.get(path), lite.get(path)
            assert a.status_code == b.status_code == 200
            assert a.content == b.content, path
    finally:
        for gen in (pg_apis, lite_apis):
            next(gen, None)  # closes the app and its database
