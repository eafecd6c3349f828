"""SQL expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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


# The live elapsed of a running session: stored elapsed + (now - running_since), in
# microseconds, with `now` a bound parameter ({now} below) taken at execution time.
# SQLite stores datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (six digits, always).
LIVE_ELAPSED_SQL = {
    "sqlite": (
        "(CASE WHEN sessions.running_since IS NULL THEN sessions.elapsed"
        " ELSE coalesce(sessions.elapsed, 0) + max(0, {now}"
        " - (CAST(strftime('%s', sessions.running_since) AS INTEGER) * 1000000"
        " + CAST(substr(sessions.running_since, 21, 6) AS INTEGER))) END)"
    ),
    "postgresql": (
        "(CASE WHEN sessions.running_since IS NULL THEN sessions.elapsed"
        " ELSE coalesce(sessions.elapsed, 0) + greatest(0, {now}"
        " - (extract(epoch FROM sessions.running_since) * 1000000)::bigint) END)"
    ),
}


def now_us() -> int:
    """Now as integer microseconds since the epoch (UTC): the `now` of live elapsed."""
    return (datetime.now(UTC) - EPOCH) // timedelta(microseconds=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bound at each execution (callable_), so a cached statement never reuses a stale now.
NOW_US: sa.BindParameter[int] = sa.bindparam("now_us", type_=sa.BigInteger, callable_=now_us)


class live_elapsed(FunctionElement[int]):
    """A session's elapsed microseconds as of now (live while it runs): for sums and
    sorts over the `sessions` table (e.g. the dashboard)."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "live_elapsed"


@compiles(live_elapsed, "sqlite")
@compiles(live_elapsed, "postgresql")
def _live_elapsed(element: live_elapsed, compiler: Any, **kw: Any) -> str:
    now = compiler.process(NOW_US, **kw)
    return LIVE_ELAPSED_SQL[compiler.dialect.name].replace("{now}", f"({now})")


class utc_date(FunctionElement[date]):
    """A naive-UTC timestamp column's day, as a date."""

    type = sa.Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS date)"
