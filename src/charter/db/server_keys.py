"""Server-side secrets (db/tables.server_keys): made once, shared by every worker."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from charter.db.tables import server_keys


def get_or_create(conn: Connection, name: str, candidate: str, now: datetime) -> str:
    """The value stored under `name`; `candidate` becomes it when there is none yet
    (workers starting together agree: the first insert wins, the others read it)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(server_keys)
        .values(name=name, value=candidate, created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    stmt = sa.select(server_keys.c.value).where(server_keys.c.name == name)
    return str(conn.execute(stmt).scalar_one())
