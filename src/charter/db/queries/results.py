"""Session results (the notes written while testing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import result_field_values, result_issues, session_results


def insert_results(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows in order and return their ids in the same order."""
    ids = []
    for row in rows:
        stmt = sa.insert(session_results).values(**row).returning(session_results.c.id)
        ids.append(int(conn.execute(stmt).scalar_one()))
    return ids


def insert_results_bulk(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Fast path for loaders that do not need the new ids."""
    if rows:
        conn.execute(sa.insert(session_results), list(rows))


def result_by_id(conn: Connection, result_id: int) -> RowMapping | None:
    stmt = sa.select(session_results).where(session_results.c.id == result_id)
    return conn.execute(stmt).mappings().first()


def update_result(conn: Connection, result_id: int, **values: Any) -> None:
    stmt = sa.update(session_results).where(session_results.c.id == result_id).values(**values)
    conn.execute(stmt)


def delete_result(conn: Connection, result_id: int) -> None:
    conn.execute(sa.delete(result_issues).where(result_issues.c.result_id == result_id))
    stmt = sa.delete(result_field_values).where(result_field_values.c.result_id == result_id)
    conn.execute(stmt)
    conn.execute(sa.delete(session_results).where(session_results.c.id == result_id))


def set_result_issues(conn: Connection, result_id: int, issue_ids: Sequence[int]) -> None:
    conn.execute(sa.delete(result_issues).where(result_issues.c.result_id == result_id))
    rows = [{"result_id": result_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(result_issues), rows)


def results_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    """Rows in the order of `ids`."""
    if not ids:
        return []
    stmt = sa.select(session_results).where(session_results.c.id.in_(ids))
    rows = {r["id"]: r for r in conn.execute(stmt).mappings()}
    return [rows[i] for i in ids if i in rows]


def issues_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if ids:
        stmt = (
            sa.select(result_issues.c.result_id, result_issues.c.issue_id)
            .where(result_issues.c.result_id.in_(ids))
            .order_by(result_issues.c.result_id, result_issues.c.issue_id)
        )
        for rid, iid in conn.execute(stmt):
            out.setdefault(rid, []).append(iid)
    return out


def field_values_of(conn: Connection, ids: Sequence[int]) -> dict[int, dict[int, str]]:
    out: dict[int, dict[int, str]] = {}
    if ids:
        stmt = sa.select(
            result_field_values.c.result_id,
            result_field_values.c.field_id,
            result_field_values.c.value,
        ).where(result_field_values.c.result_id.in_(ids))
        for rid, fid, value in conn.execute(stmt):
            out.setdefault(rid, {})[fid] = value
    return out


def set_field_values(conn: Connection, result_id: int, values: dict[int, str | None]) -> None:
    """Store JSON-encoded values by field id; None removes the value."""
    for field_id, encoded in values.items():
        key = (result_field_values.c.result_id == result_id) & (
            result_field_values.c.field_id == field_id
        )
        conn.execute(sa.delete(result_field_values).where(key))
        if encoded is not None:
            conn.execute(
                sa.insert(result_field_values).values(
                    result_id=result_id, field_id=field_id, value=encoded
                )
            )
