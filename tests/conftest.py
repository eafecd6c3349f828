"""Shared test fixtures: throw-away databases (SQLite, or PostgreSQL with
``CHARTER_TEST_DATABASE_URL``), the demo dataset and an in-process API over it.
The plain helpers they use (`migrate`, `open_api`, `Api`, ...) live in helpers_db.py:
import them from there, never from `conftest` (tests/web/conftest.py is a `conftest`
too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.db.engine import Database
from charter.demo import load_demo
from helpers_db import DEMO_SESSIONS, Api, make_fresh_database, migrate, open_api

# The slow suites, each with its own marker (registered in pyproject.toml). A test with
# any of them is also marked `slow`, so `make test-fast` (-m "not slow") leaves it out
# and `make test` runs it in the serial pass.
SLOW_KINDS = ("load", "crash", "shutdown", "browser", "conformance", "fuzz", "properties")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # A test that drives a real browser is a browser test, marked or not.
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "browser"
        ):
            item.add_marker(pytest.mark.browser)
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="module")
def demo_url(module_database_url: str) -> str:
    """A migrated database holding the demo dataset (DEMO_SESSIONS sessions)."""
    db = migrate(module_database_url)
    load_demo(db, n_sessions=DEMO_SESSIONS, seed=7, progress=False)
    db.close()
    return module_database_url


@pytest.fixture(scope="module")
def demo_api(demo_url: str) -> Iterator[Api]:
    """In-process API over the demo dataset. Treat it as read-only."""
    yield from open_api(demo_url)


@pytest.fixture
def empty_db(fresh_database_url: str) -> Iterator[Database]:
    """A migrated, empty database for one test."""
    db = migrate(fresh_database_url)
    yield db
    db.close()
