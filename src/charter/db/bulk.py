"""Bulk writes for loaders: COPY on PostgreSQL, executemany elsewhere.

PostgreSQL parses, plans and executes an INSERT per row even in a pipelined
executemany; COPY streams the rows in one statement. What is left is then mostly the
per-row foreign key checks (a trigger and a lookup per reference: sessions have nine,
results four), several times the cost of the row itself. `BulkLoader` drops the
foreign keys of the tables it loads for the load, and re-adds them with their stored
definitions at the end, which checks every row in one pass per key (measured on 30,000
sessions: 6.8-10 s of writes with the keys, 2.1 s without them including the re-adding;
dropping the secondary indexes too gained nothing, so they stay).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from operator import itemgetter
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from charter.db.engine import Database

Rows = Sequence[Mapping[str, Any]]
# The rows of one batch, table by table, in an order that satisfies the foreign keys.
Batch = Sequence[tuple[sa.Table, Rows]]


def insert_rows(
    conn: Connection, table: sa.Table, rows: Rows, types: Mapping[str, int] | None = None
) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, as `sa.insert` would.

    A column missing from the rows gets its server-side default (e.g. an id from its
    sequence) on both paths, and its constant Python-side default (which COPY would
    not apply) from here. On PostgreSQL the values must have their columns' Python
    types (binary COPY does not convert '1' to 1); `types` (from `column_types`)
    saves looking the columns up on every call.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(table), rows)
        return
    columns = list(rows[0])
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    defaults = _python_defaults(table, columns)
    types = types or column_types(conn, table)
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in [*columns, *defaults])
    # Binary: the server parses no text, the driver formats none (half its time).
    sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN (FORMAT BINARY)"
    extra = tuple(defaults.values())
    values = itemgetter(*columns)
    dbapi_conn: Any = conn.connection.driver_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with dbapi_conn.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types([types[c] for c in [*columns, *defaults]])
            if len(columns) == 1:
                for row in rows:
                    copy.write_row((values(row), *extra))
            elif extra:
                for row in rows:
                    copy.write_row(values(row) + extra)
            else:
                for row in rows:
                    copy.write_row(values(row))
    except dbapi_error as error:
        # As SQLAlchemy raises it for an INSERT: sa.exc.IntegrityError for a key, etc.
        raise sa.exc.DBAPIError.instance(
            sql, None, error, dbapi_error, dialect=conn.dialect
        ) from error


def column_types(conn: Connection, table: sa.Table) -> dict[str, int]:
    """The PostgreSQL type oid of each column of `table`, by name."""
    rows = conn.execute(
        sa.text(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"table": conn.dialect.identifier_preparer.format_table(table)},
    )
    return {str(name): int(oid) for name, oid in rows}


def _python_defaults(table: sa.Table, given: list[str]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for column in table.c:
        default = column.default
        if column.name in given or default is None:
            continue
        if not (isinstance(default, sa.ColumnDefault) and default.is_scalar):
            raise ValueError(f"{table.name}.{column.name}: give it, its default is not a constant")
        defaults[column.name] = default.arg
    return defaults


class BulkLoader:
    """Stores batches of rows for a loader; use it in a `with` block.

    PostgreSQL: a writer thread stores each batch while the caller makes the next one
    (it waits on the server without the GIL, so the server's work overlaps the
    caller's; at most `ahead` batches wait, so memory stays bounded). The whole load
    is one transaction, with the foreign keys of `tables` dropped at the start and
    re-added (which checks every row) at the end: it stores all of it with its keys,
    or nothing. It locks those tables and the ones they reference until then (a
    loader's database is not in use yet).
    SQLite: each batch is stored when it is put, in a transaction of its own, keys
    checked row by row (a writer thread measured no faster: SQLite works under the GIL).
    """

    def __init__(self, db: Database, tables: Sequence[sa.Table], ahead: int = 2) -> None:
        self._db = db
        self._tables = tables
        self._ahead = ahead
        self._stack = ExitStack()
        self._conn: Connection | None = None
        self._foreign_keys: list[str] = []
        self._types: dict[str, dict[str, int]] = {}
        self._pending: deque[Future[int]] = deque()
        self._writer: ThreadPoolExecutor | None = None

    def __enter__(self) -> BulkLoader:
        with ExitStack() as stack:
            if not self._db.is_sqlite:
                self._conn = stack.enter_context(self._db.write())
                self._foreign_keys = _drop_foreign_keys(self._conn, self._tables)
                # Entered last, so shut down (waiting for its batch) before the commit.
                self._writer = stack.enter_context(
                    ThreadPoolExecutor(1, thread_name_prefix="charter-bulk")
                )
            self._stack = stack.pop_all()
        return self

    def put(self, batch: Batch) -> int:
        """Queue `batch`. Returns how many rows of their first table the batches
        stored since the last call hold (for a progress bar)."""
        if self._writer is None:
            return self._write(batch)
        stored = 0
        while len(self._pending) >= self._ahead:
            stored += self._pending.popleft().result()
        self._pending.append(self._writer.submit(self._write, batch))
        return stored

    def flush(self) -> int:
        """Wait until every queued batch is stored; returns as `put` does."""
        stored = 0
        while self._pending:
            stored += self._pending.popleft().result()
        return stored

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        error = exc
        if error is None:
            try:
                self.flush()
                if self._conn is not None:
                    for statement in self._foreign_keys:
                        self._conn.exec_driver_sql(statement)
            except BaseException as failure:
                error = failure
        if error is not None:
            for pending in self._pending:
                pending.cancel()
        # Stops the writer (after its current batch), then commits, or rolls back.
        if error is None:
            self._stack.__exit__(None, None, None)
        else:
            self._stack.__exit__(type(error), error, error.__traceback__)
        if error is not None and error is not exc:
            raise error

    def _write(self, batch: Batch) -> int:
        if self._conn is not None:
            for table, rows in batch:
                if table.name not in self._types:
                    self._types[table.name] = column_types(self._conn, table)
                insert_rows(self._conn, table, rows, self._types[table.name])
        else:
            with self._db.write() as conn:
                for table, rows in batch:
                    insert_rows(conn, table, rows)
        return len(batch[0][1]) if batch else 0


def _drop_foreign_keys(conn: Connection, tables: Sequence[sa.Table]) -> list[str]:
    """Drop the foreign keys of `tables`; returns the statements that re-add them as
    they were (same names, same stored definitions)."""
    preparer = conn.dialect.identifier_preparer
    statements: list[str] = []
    for table in tables:
        name = preparer.format_table(table)
        keys = conn.execute(
            sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = CAST(:table AS regclass) ORDER BY oid"
            ),
            {"table": name},
        ).all()
        for key, definition in keys:
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {preparer.quote(key)}")
            statements.append(
                f"ALTER TABLE {name} ADD CONSTRAINT {preparer.quote(key)} {definition}"
            )
    return statements
