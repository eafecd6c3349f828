"""Plain helpers for tests that need a database or an in-process API (the fixtures
built on them live in tests/conftest.py). Import them as `from helpers_db import ...`:
a module name of its own, unlike `conftest`, which tests/web/conftest.py also is.

The suite runs against SQLite by default. Set ``CHARTER_TEST_DATABASE_URL`` to a
PostgreSQL server URL (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) to run
the same tests on PostgreSQL: each database is then a throw-away database on that
server, dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import service as auth
from charter.db.engine import Database
from charter.db.migrate import upgrade
from charter.settings import Settings

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
        # template0 accepts no connections, so parallel test runs never collide on it
        # the way they do on template1 ("source database is being accessed").
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    new_url = make_url(url).set(database=name).render_as_string(hide_password=False)

    def cleanup() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return new_url, cleanup


# --- migrated databases, demo data, in-process API clients ---------------------------

DEMO_SESSIONS = 60


@dataclass
class Api:
    """An in-process HTTP client (a real Litestar app on a real database) plus tokens."""

    client: TestClient[Any]
    db: Database
    tokens: dict[str, str]  # email -> bearer secret

    def get(self, path: str, as_user: str = "admin@example.com", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[as_user]}"} if as_user else {}
        return self.client.get(path, params=params, headers=headers)


def migrate(url: str) -> Database:
    db = Database(url)
    upgrade(db)
    return db


def open_api(url: str) -> Iterator[Api]:
    """Serve `url` in-process and create one token per user."""
    db = Database(url)
    tokens: dict[str, str] = {}
    with db.write() as conn:
        emails = [row[0] for row in conn.execute(sa.text("SELECT email FROM users"))]
        for email in emails:
            tokens[email] = auth.create_token(conn, email, "tests")
    # Off: suites send hundreds of unauthenticated requests from one address on purpose;
    # tests/test_security.py covers the failed-authentication throttle.
    with tempfile.TemporaryDirectory(prefix="charter-attachments-") as folder:
        app = create_app(Settings(database_url=url, auth_fail_limit=0, attachments_dir=folder))
        with TestClient(app) as client:
            yield Api(client, db, tokens)
    db.close()
