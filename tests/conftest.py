"""Shared test fixtures.

The suite runs against SQLite by default. Set ``CHARTER_TEST_DATABASE_URL`` to a
PostgreSQL server URL (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) to run
the same tests on PostgreSQL: each fixture then creates its own throw-away database
on that server and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_DATABASE_ENV = "CHARTER_TEST_DATABASE_URL"


def backend() -> str:
    """Which database the suite runs on: 'sqlite' or 'postgresql'."""
    url = os.environ.get(TEST_DATABASE_ENV, "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def _pg_admin_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def make_fresh_database(tmp_dir: Path) -> tuple[str, object]:
    """Return (url, cleanup) for a new, empty database on the configured backend."""
    url = os.environ.get(TEST_DATABASE_ENV, "")
    if not url.startswith("postgresql"):
        path = tmp_dir / f"charter-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"charter_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    new_url = make_url(url).set(database=name).render_as_string(hide_password=False)

    def cleanup() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return new_url, cleanup


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (not migrated) for one test."""
    url, cleanup = make_fresh_database(tmp_path)
    try:
        yield url
    finally:
        cleanup()  # type: ignore[operator]


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an empty database (not migrated) shared by one test module."""
    url, cleanup = make_fresh_database(tmp_path_factory.mktemp("db"))
    try:
        yield url
    finally:
        cleanup()  # type: ignore[operator]
