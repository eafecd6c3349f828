"""One paginated-list query builder for every namespace: filters, sort, page, count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

FilterOp = Literal["in", "eq", "gt", "lt", "link", "tags"]


@dataclass(frozen=True)
class Filter:
    """A condition on the listed table.

    `in`: column IN values; `eq`: column = value; `gt`/`lt`: strictly after/before;
    `link`: the row has a link-table entry (`link_table.link_key` = row id) whose
    `column` is one of the values; `tags`: tag names, which the domain resolves
    into a `link` filter before the query runs.
    """

    op: FilterOp
    column: str
    value: object
    link_table: sa.Table | None = None
    link_key: str = ""


@dataclass(frozen=True)
class PageRequest:
    filters: Sequence[Filter]
    sort: str
    descending: bool
    limit: int
    offset: int


def _condition(table: sa.Table, f: Filter) -> sa.ColumnElement[bool]:
    assert f.op != "tags", "tag names are resolved to a link filter by the caller"
    if f.op == "link":
        assert f.link_table is not None
        link = f.link_table
        return sa.exists().where(
            link.c[f.link_key] == table.c.id,
            link.c[f.column].in_(list(f.value)),  # type: ignore[call-overload]
        )
    col = table.c[f.column]
    if f.op == "in":
        values = list(f.value)  # type: ignore[call-overload]
        return col == values[0] if len(values) == 1 else col.in_(values)
    if f.op == "eq":
        return col == f.value
    assert isinstance(f.value, datetime)
    return col > f.value if f.op == "gt" else col < f.value


def where_clause(
    table: sa.Table, base: sa.ColumnElement[bool], filters: Sequence[Filter]
) -> sa.ColumnElement[bool]:
    return sa.and_(base, *(_condition(table, f) for f in filters))


def page_ids(
    conn: Connection, table: sa.Table, base: sa.ColumnElement[bool], req: PageRequest
) -> list[int]:
    """Ids of one page, in order. Selecting ids first lets the index answer the
    filter, sort and offset alone (a deferred join); full rows are fetched by id."""
    sort_col = table.c[req.sort]
    if req.descending:
        order = [sort_col.desc(), table.c.id.desc()]
    else:
        order = [sort_col.asc(), table.c.id.asc()]
    if conn.dialect.name == "postgresql" and req.sort != "id":
        # Nulls sort as lowest on both databases (SQLite's native behaviour).
        order[0] = order[0].nulls_last() if req.descending else order[0].nulls_first()
    stmt = (
        sa.select(table.c.id)
        .where(where_clause(table, base, req.filters))
        .order_by(*order)
        .limit(req.limit)
        .offset(req.offset)
    )
    return [row[0] for row in conn.execute(stmt)]


def count(
    conn: Connection, table: sa.Table, base: sa.ColumnElement[bool], filters: Sequence[Filter]
) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(where_clause(table, base, filters))
    return int(conn.execute(stmt).scalar_one())
