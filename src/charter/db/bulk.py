"""Bulk writes for loaders: COPY on PostgreSQL, executemany elsewhere.

PostgreSQL parses, plans and executes an INSERT per row even in a pipelined
executemany; COPY streams the rows in one statement, several times faster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, as `sa.insert` would.

    A column missing from the rows gets its server-side default (e.g. an id from its
    sequence) on both paths, and its scalar Python-side default (which COPY would not
    apply) from here.
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
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in [*columns, *defaults])
    sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    extra = tuple(defaults.values())
    values = itemgetter(*columns)
    dbapi_conn: Any = conn.connection.driver_connection
    with dbapi_conn.cursor() as cursor, cursor.copy(sql) as copy:
        if len(columns) == 1:
            for row in rows:
                copy.write_row((values(row), *extra))
        elif extra:
            for row in rows:
                copy.write_row(values(row) + extra)
        else:
            for row in rows:
                copy.write_row(values(row))


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
