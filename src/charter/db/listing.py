"""One paginated-list query builder for every namespace: filters, sort, page, count."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.rows import rows_by_ids

FilterOp = Literal["in", "eq", "gt", "lt", "ge", "le", "link", "tags", "contains"]


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
class Plan:
    """How SQLite should run a page query, when its planner cannot know (it has no
    histograms): walk the index on `index_column`, or (`from_links`) use no index on
    the table and drive from the ids a link filter selects. PostgreSQL plans by its
    own statistics and ignores this."""

    index_column: str | None = None
    from_links: bool = False


@dataclass(frozen=True)
class PageRequest:
    filters: Sequence[Filter]
    sort: str
    descending: bool
    limit: int
    offset: int
    plan: Plan = Plan()
    # Keyset start: only rows after this (sort value, id) in the page order count,
    # and `offset` is relative to it (for a NOT NULL sort column).
    after: tuple[Any, int] | None = None


def _condition(table: sa.FromClause, f: Filter, from_links: bool = False) -> sa.ColumnElement[bool]:
    assert f.op != "tags", "tag names are resolved to a link filter by the caller"
    if f.op == "link":
        assert f.link_table is not None
        link = f.link_table
        values = list(f.value)  # type: ignore[call-overload]
        if from_links:  # the link rows drive: id IN (their ids)
            chosen = sa.select(link.c[f.link_key]).where(link.c[f.column].in_(values))
            return table.c.id.in_(chosen)
        # Rows come from another index: probe the link table's key per row.
        return sa.exists().where(link.c[f.link_key] == table.c.id, link.c[f.column].in_(values))
    col = table.c[f.column]
    if f.op == "in":
        values = list(f.value)  # type: ignore[call-overload]
        return col == values[0] if len(values) == 1 else col.in_(values)
    if f.op == "eq":
        return col == f.value
    if f.op == "contains":  # lower() on both sides: LIKE's case rules differ per database
        return sa.func.lower(col).contains(str(f.value).lower(), autoescape=True)
    assert isinstance(f.value, datetime)
    if f.op == "ge":
        return col >= f.value
    if f.op == "le":
        return col <= f.value
    return col > f.value if f.op == "gt" else col < f.value


def where_clause(
    table: sa.FromClause,
    base: sa.ColumnElement[bool],
    filters: Sequence[Filter],
    from_links: bool = False,
) -> sa.ColumnElement[bool]:
    return sa.and_(base, *(_condition(table, f, from_links) for f in filters))


def _order(table: Any, req: PageRequest, dialect: str) -> list[Any]:
    sort_col = table.c[req.sort]
    if req.descending:
        order = [sort_col.desc(), table.c.id.desc()]
    else:
        order = [sort_col.asc(), table.c.id.asc()]
    if dialect == "postgresql" and sort_col.nullable:
        # Nulls sort as lowest on both databases (SQLite's native behaviour). Only for
        # nullable columns: an explicit NULLS clause that differs from the index's own
        # order makes PostgreSQL sort instead of walking the index.
        order[0] = order[0].nulls_last() if req.descending else order[0].nulls_first()
    return order


def _ids_select(
    table: sa.Table, source: Any, base: sa.ColumnElement[bool], req: PageRequest, dialect: str
) -> sa.Select[Any]:
    """The ids of one page, in order: the index answers filter, sort and offset alone."""
    stmt = (
        sa.select(source.c.id)
        .where(where_clause(source, base, req.filters, req.plan.from_links))
        .order_by(*_order(source, req, dialect))
        .limit(req.limit)
        .offset(req.offset)
    )
    if req.after is not None:
        stmt = stmt.where(_after(source, req))
    if req.plan.from_links:
        stmt = stmt.with_hint(source, "NOT INDEXED", dialect_name="sqlite")
    elif req.plan.index_column is not None:
        name = index_leading_with(table, req.plan.index_column)
        stmt = stmt.with_hint(source, f"INDEXED BY {name}", dialect_name="sqlite")
    return stmt


def _after(source: Any, req: PageRequest) -> sa.ColumnElement[bool]:
    assert req.after is not None
    value, row_id = req.after
    # A row-value comparison, which both databases answer as an index range (an
    # equivalent OR of two conditions makes SQLite walk the index from the start).
    here = sa.tuple_(source.c[req.sort], source.c.id)
    mark = sa.tuple_(sa.literal(value, source.c[req.sort].type), sa.literal(row_id))
    return here < mark if req.descending else here > mark


def mark_after(
    conn: Connection,
    table: sa.Table,
    base: sa.ColumnElement[bool],
    req: PageRequest,
) -> tuple[Any, int] | None:
    """The (sort value, id) of the row at `req.offset` (after `req.after`), or None
    past the end: a mark to start later pages from."""
    probe = PageRequest(req.filters, req.sort, req.descending, 1, req.offset, req.plan, req.after)
    stmt = _ids_select(table, table, base, probe, conn.dialect.name)
    stmt = stmt.with_only_columns(table.c[req.sort], table.c.id)
    row = conn.execute(stmt).first()
    return None if row is None else (row[0], int(row[1]))


def page_ids(
    conn: Connection, table: sa.Table, base: sa.ColumnElement[bool], req: PageRequest
) -> list[int]:
    """Ids of one page, in order."""
    stmt = _ids_select(table, table, base, req, conn.dialect.name)
    return [row[0] for row in conn.execute(stmt).all()]


@functools.cache
def _page_alias(table: sa.Table) -> Any:
    """Built once: an alias proxies every column, which is slow to repeat per request."""
    return table.alias("page")


def page_rows(
    conn: Connection,
    table: sa.Table,
    select: sa.Select[Any],
    base_of: Any,
    req: PageRequest,
) -> list[Any]:
    """One page's rows of `select` (a prebuilt SELECT of `table`'s columns), in order,
    in ONE statement: the ids come from an inner query on the index (a deferred join,
    so deep offsets skip index entries, not rows), the columns from the table by id.
    `base_of(source)` builds the base condition for the inner query's alias."""
    inner = _page_alias(table)
    ids = _ids_select(table, inner, base_of(inner), req, conn.dialect.name)
    stmt = select.where(table.c.id.in_(ids.scalar_subquery())).order_by(
        *_order(table, req, conn.dialect.name)
    )
    return list(conn.execute(stmt).all())


def index_leading_with(table: sa.Table, column: str) -> str:
    """The index whose key starts with (project_id, column) or (column); never a
    partial index (it holds some rows only)."""
    for index in table.indexes:
        if index.dialect_options["sqlite"]["where"] is not None:
            continue
        names = [c.name for c in index.columns]
        if names[:2] == ["project_id", column] or names[:1] == [column]:
            assert index.name is not None
            return str(index.name)
    raise LookupError(f"no index on {table.name}.{column}")


def first_sort_value(
    conn: Connection, table: sa.Table, base: sa.ColumnElement[bool], req: PageRequest
) -> Any:
    """The sort value of the first matching row in page order (None when none match)."""
    column = table.c[req.sort]
    edge = sa.func.max(column) if req.descending else sa.func.min(column)
    stmt = sa.select(edge).where(where_clause(table, base, req.filters))
    return conn.execute(stmt).scalar()


def rows_page(
    conn: Connection,
    table: sa.Table,
    base: sa.ColumnElement[bool] | None,
    req: PageRequest,
    fetch: Callable[[Connection, Sequence[int]], list[RowMapping]] | None = None,
) -> tuple[list[RowMapping], int]:
    """The one list helper of every plain namespace: one page of `table` rows matching
    `base` (None: every row) and the request's filters, in page order (full rows, or
    what `fetch(conn, ids)` reads), and how many rows match in all."""
    where = sa.true() if base is None else base
    ids = page_ids(conn, table, where, req)
    total = count(conn, table, where, req.filters)
    return (rows_by_ids(conn, table, ids) if fetch is None else fetch(conn, ids)), total


def count(
    conn: Connection, table: sa.Table, base: sa.ColumnElement[bool], filters: Sequence[Filter]
) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(where_clause(table, base, filters))
    return int(conn.execute(stmt).scalar_one())
