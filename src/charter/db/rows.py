"""SQL for the administration API: members, milestone trees, usage checks of
configs, templates, fields, values, states, statuses, issues and tags."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping


def rows_by_ids(conn: Connection, table: sa.Table, ids: Sequence[int]) -> list[RowMapping]:
    """Full rows in the order of `ids`."""
    if not ids:
        return []
    found = {
        r["id"]: r for r in conn.execute(sa.select(table).where(table.c.id.in_(ids))).mappings()
    }
    return [found[i] for i in ids if i in found]


def delete_row(conn: Connection, table: sa.Table, row_id: int) -> None:
    conn.execute(sa.delete(table).where(table.c.id == row_id))


def is_used(conn: Connection, column: sa.Column[Any], value: Any) -> bool:
    """Whether any row has `column` = `value`."""
    stmt = sa.select(sa.literal(1)).where(column == value).limit(1)
    return conn.execute(stmt).first() is not None


def exists_other(
    conn: Connection, column: sa.Column[Any], value: Any, exclude_id: int | None, *where: Any
) -> bool:
    """Whether a row other than `exclude_id` has `column` = `value` (and `where`)."""
    table = column.table
    stmt = sa.select(table.c.id).where(column == value, *where)
    if exclude_id is not None:
        stmt = stmt.where(table.c.id != exclude_id)
    return conn.execute(stmt.limit(1)).first() is not None


def exists_where(
    conn: Connection, table: sa.Table, row_id: int, condition: sa.ColumnElement[bool]
) -> bool:
    """Whether the row `row_id` of `table` exists and matches `condition`."""
    stmt = sa.select(table.c.id).where(table.c.id == row_id, condition)
    return conn.execute(stmt).first() is not None


def clear_default(conn: Connection, table: sa.Table) -> None:
    conn.execute(sa.update(table).where(table.c.is_default.is_(True)).values(is_default=False))


def max_order(conn: Connection, column: sa.Column[Any], *where: Any) -> int:
    stmt = sa.select(sa.func.max(column)).where(*where)
    value = conn.execute(stmt).scalar()
    return -1 if value is None else int(value)


def insert(conn: Connection, table: sa.Table, **values: Any) -> int:
    return int(conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one())


def update(conn: Connection, table: sa.Table, row_id: int, **values: Any) -> None:
    conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))


def grouped_ids(
    conn: Connection, key: sa.Column[Any], value: sa.Column[Any], keys: Sequence[int]
) -> dict[int, list[int]]:
    """{key: [values, ascending]} of a link table (`key` IN `keys`), e.g. the issue
    ids of milestones or the group ids of users."""
    out: dict[int, list[int]] = defaultdict(list)
    if keys:
        stmt = sa.select(key, value).where(key.in_(keys)).order_by(key, value)
        for k, v in conn.execute(stmt):
            out[k].append(v)
    return out


def row_by_id(conn: Connection, table: sa.Table, row_id: int) -> RowMapping | None:
    return conn.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()


@functools.cache
def _by_ids_statement(columns: tuple[sa.Column[Any], ...]) -> sa.Select[Any]:
    """Built once per column list: expands run on every list request."""
    table = columns[0].table
    ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
    return sa.select(*columns).where(table.c.id.in_(ids)).order_by(table.c.id)


def _by_ids(
    conn: Connection, columns: list[sa.Column[Any]], ids: Iterable[int]
) -> list[dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = _by_ids_statement(tuple(columns))
    keys = [c.name for c in columns]
    rows = conn.execute(stmt, {"ids": wanted}).all()
    return [dict(zip(keys, row, strict=True)) for row in rows]


def default_id(conn: Connection, table: sa.Table) -> int | None:
    stmt = sa.select(table.c.id).where(table.c.is_default.is_(True)).order_by(table.c.id).limit(1)
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def existing_ids(conn: Connection, table: sa.Table, ids: Iterable[int]) -> set[int]:
    ids = set(ids)
    if not ids:
        return set()
    return {r[0] for r in conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids)))}


def project_of(conn: Connection, table: sa.Table, row_id: int) -> int | None:
    value = conn.execute(sa.select(table.c.project_id).where(table.c.id == row_id)).scalar()
    return None if value is None else int(value)


def replace_values(
    owner: sa.Column[Any], conn: Connection, owner_id: int, values: dict[int, str | None]
) -> None:
    """Custom field values of one session or result (`owner` is the owner's column of
    its value table): the given fields' old values go, the non-None new ones are
    stored, in two statements however many fields change."""
    if not values:
        return
    table = owner.table
    conn.execute(sa.delete(table).where(owner == owner_id, table.c.field_id.in_(list(values))))
    rows = [
        {owner.key: owner_id, "field_id": f, "value": v} for f, v in values.items() if v is not None
    ]
    if rows:
        conn.execute(sa.insert(table), rows)


def all_ids(conn: Connection, table: sa.Table) -> list[int]:
    return [int(i) for i in conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars()]


def next_id(conn: Connection, table: sa.Table) -> int:
    """One more than the highest id (for loaders that number rows themselves)."""
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return int(top) + 1
