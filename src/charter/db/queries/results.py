"""Session results (the notes written while testing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import result_issues, session_results


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
    conn.execute(sa.delete(session_results).where(session_results.c.id == result_id))


def set_result_issues(conn: Connection, result_id: int, issue_ids: Sequence[int]) -> None:
    conn.execute(sa.delete(result_issues).where(result_issues.c.result_id == result_id))
    rows = [{"result_id": result_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(result_issues), rows)
