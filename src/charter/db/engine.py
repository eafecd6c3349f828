"""Engines for SQLite and PostgreSQL, and the executor that runs a request's DB work.

Each request does all of its database work in ONE hop to a small dedicated thread
pool (one thread on SQLite, a few on PostgreSQL): a large pool convoys on the GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import URL, Connection, Engine, make_url

from charter.db import conflicts

T = TypeVar("T")


def _sqlite_from_hint(self: SQLiteCompiler, table: Any, text: str | None) -> str | None:
    return text


# SQLAlchemy drops FROM hints on SQLite; render them, so that
# `select.with_hint(table, "INDEXED BY ix", dialect_name="sqlite")` reaches SQLite.
# Only statements that ask for a SQLite hint are affected (db/listing.py).
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign, assignment]


def normalize_url(url: str) -> URL:
    """Accept plain `postgresql://` URLs and pick the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level; we emit BEGIN / BEGIN IMMEDIATE ourselves.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    # 32 MiB of page cache per connection: a scan (a rare tag's count) fills it, and the
    # whole of it counts in the worker's RSS (budget: 150 MB); the OS page cache holds
    # the rest of the file.
    cur.execute("PRAGMA cache_size=-32768")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("charter_autocommit", False):  # Database.read(snapshot=False)
        return
    # A bulk writer's temporary b-trees (a GROUP BY or UPDATE over millions of rows)
    # go to a file; a request's small ones stay in memory. Set outside the transaction
    # (SQLite refuses it inside), and only when it changes: no statement otherwise.
    bulk = bool(options.get("charter_bulk", False))
    if conn.info.get("charter_bulk", False) != bulk:
        conn.exec_driver_sql(f"PRAGMA temp_store={'FILE' if bulk else 'MEMORY'}")
        conn.info["charter_bulk"] = bulk
    # Writers take the write lock up front: a deferred transaction that upgrades
    # later can fail with SQLITE_BUSY instead of waiting on busy_timeout.
    write = options.get("charter_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_db_engine(url: str, pool_size: int = 5) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        sa.event.listen(engine, "handle_error", conflicts.on_error)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it costs a round trip on every request. A connection that
            # died (PostgreSQL restarted) fails its request with a disconnect error,
            # which invalidates the whole pool at once (the client gets a 503 to retry,
            # http/errors.py) and the next requests connect afresh.
            # Requests are many and short: a parallel plan's worker processes cost more
            # to start than they save, and take the CPU concurrent requests need (a
            # rare tag's page went from 95 to 54 ms p50 under the benchmark's load).
            connect_args={"options": "-c max_parallel_workers_per_gather=0"},
        )
        sa.event.listen(engine, "handle_error", conflicts.on_error)
        return engine
    raise ValueError(f"unsupported database URL: {url!r} (use sqlite:/// or postgresql://)")


WRITER_WAIT = 10.0  # seconds a writer queues in-process, as long as busy_timeout


class _SQLiteWriterQueue:
    """Writers wait here for SQLite's single write lock: the threads of a process on
    an RLock, processes on an flock of `<database>-lock`, where the kernel wakes a
    waiter as soon as the lock is free.

    Without it every writer polls in SQLite's busy handler, whose sleeps grow to
    100 ms: newcomers keep overtaking a long waiter until busy_timeout fails it with
    "database is locked", a 500 (tests/test_load.py met it with 4 workers x 4 DB
    threads). One queue per file and process, shared by its Database objects, so a
    nested write re-enters and fails in SQLite as before instead of deadlocking on
    its own flock. The kernel drops the flock of a killed process."""

    _by_path: dict[str, _SQLiteWriterQueue] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def of(cls, path: str | None) -> _SQLiteWriterQueue | None:
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        key = os.path.realpath(path)
        with cls._registry_lock:
            return cls._by_path.setdefault(key, cls(key))

    def __init__(self, path: str) -> None:
        self._lock = threading.RLock()
        self._path: str | None = f"{path}-lock"
        self._depth = 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=WRITER_WAIT):
            yield  # queued as long as busy_timeout would wait: let SQLite decide
            return
        fd = None
        try:
            self._depth += 1
            if self._depth == 1:
                fd = self._flock()
            yield
        finally:
            if fd is not None:
                os.close(fd)  # releases the flock
            self._depth -= 1
            self._lock.release()

    def _flock(self) -> int | None:
        """An fd holding the flock (opened per turn: nothing to leak or fork)."""
        if self._path is None:
            return None
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT)
        except OSError:
            self._path = None  # e.g. a read-only directory: busy_timeout alone
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd


class Database:
    """Owns the engine and the DB thread pool; hands out read and write transactions."""

    def __init__(self, url: str, threads: int = 1) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=max(threads, 2))
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        # PostgreSQL locks rows; only SQLite's writers queue (see _SQLiteWriterQueue).
        self._writers = _SQLiteWriterQueue.of(self.engine.url.database) if self.is_sqlite else None

    @contextlib.contextmanager
    def read(self, snapshot: bool = True) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot on both databases, so a page
        and its total always agree.

        `snapshot=False`: no transaction at all, each statement sees what is committed
        when it runs (a statement is always consistent in itself). For reads whose
        answer is one statement: BEGIN and COMMIT are two of its round trips on
        PostgreSQL (psycopg sends each on its own), as many as the statement."""
        with self.engine.connect() as conn:
            if not snapshot:
                if self.is_sqlite:
                    conn.execution_options(charter_autocommit=True)  # see _sqlite_begin
                else:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
            elif not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def write(self, bulk: bool = False) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception.
        `bulk`: one that rebuilds or updates millions of rows (loaders, recount): on
        SQLite its temporary b-trees go to a file instead of the worker's memory."""
        turn = self._writers.turn() if self._writers else contextlib.nullcontext()
        with turn, self.engine.connect() as conn:
            conn.execution_options(charter_write=True, charter_bulk=bulk)
            with conn.begin():
                yield conn

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` (all of one request's DB work) on the DB thread pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="charter-db")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.engine.dispose()
