"""SQL expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class iso_utc(FunctionElement[str]):
    """A UTC timestamp column as the API's text, 2024-01-01T12:00:00.000000Z (or NULL),
    formatted by the database: cheaper than parsing and formatting in Python."""

    type = sa.String()
    inherit_cache = True
    name = "iso_utc"


@compiles(iso_utc, "sqlite")
def _iso_sqlite(element: iso_utc, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', always with
    # six fraction digits; NULL stays NULL through replace() and ||.
    column = compiler.process(element.clauses, **kw)
    return f"(replace({column}, ' ', 'T') || 'Z')"


@compiles(iso_utc, "postgresql")
def _iso_postgresql(element: iso_utc, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f'to_char({column}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')'
