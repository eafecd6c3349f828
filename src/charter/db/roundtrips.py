"""Counting what a request asks of the database: every statement, and the round trips
they cost (BEGIN and COMMIT included), read from the driver's own state.

For the benchmark's per-scenario report and the test that keeps the counts within
budget (tests/test_round_trips.py); nothing in the serving path uses it.

    with counting(db.engine) as count:
        client.get(...)
    count.round_trips, count.statements

On PostgreSQL psycopg sends BEGIN by itself before the first statement of a
transaction (unless the connection is in autocommit) and COMMIT when one is open: both
are round trips of their own, so they are counted from the connection's transaction
status at that moment. On SQLite (in-process, no round trips) every statement the
library runs counts, BEGIN and COMMIT included.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


@dataclass
class Count:
    """What the database was asked, in order: SQL text, plus "BEGIN" / "COMMIT" /
    "ROLLBACK" where the driver sent them."""

    sent: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def round_trips(self) -> int:
        return len(self.sent)

    @property
    def statements(self) -> int:
        """Round trips other than BEGIN, COMMIT and ROLLBACK."""
        return sum(1 for s in self.sent if s.split(" ", 1)[0] not in _CONTROL)

    def add(self, what: str) -> None:
        with self._lock:
            self.sent.append(what)

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()


_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})


def _in_transaction(dbapi_conn: Any, postgresql: bool) -> bool:
    if postgresql:
        from psycopg import pq

        return bool(dbapi_conn.info.transaction_status != pq.TransactionStatus.IDLE)
    return bool(dbapi_conn.in_transaction)


@contextlib.contextmanager
def counting(engine: Engine) -> Iterator[Count]:
    """Count what `engine`'s connections send while the block runs."""
    count = Count()
    postgresql = engine.dialect.name == "postgresql"

    def before_execute(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        dbapi_conn: Any = conn.connection.dbapi_connection
        # psycopg opens a transaction with a BEGIN of its own before the statement.
        if postgresql and not dbapi_conn.autocommit and not _in_transaction(dbapi_conn, True):
            count.add("BEGIN")
        count.add(statement.strip())

    def ending(word: str) -> Any:
        def listener(conn: Connection) -> None:
            dbapi_conn: Any = conn.connection.dbapi_connection
            if _in_transaction(dbapi_conn, postgresql):  # else the driver sends nothing
                count.add(word)

        return listener

    on_commit, on_rollback = ending("COMMIT"), ending("ROLLBACK")
    listeners = [
        ("before_cursor_execute", before_execute),
        ("commit", on_commit),
        ("rollback", on_rollback),
    ]
    for name, fn in listeners:
        sa.event.listen(engine, name, fn)
    try:
        yield count
    finally:
        for name, fn in listeners:
            sa.event.remove(engine, name, fn)
