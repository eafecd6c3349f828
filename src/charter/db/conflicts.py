"""A unique constraint that refuses a write is a conflict (409) naming the field, on
every path that writes (API, web pages, CLI), never a 500.

The domain checks "is this name taken?" before it writes, but two concurrent
transactions can both pass that check; the database's unique constraint then stops
the second one. The engine's `handle_error` hook (db/engine.py) turns that
IntegrityError into `UniqueViolation`: still an `IntegrityError` (so code that rolls
back on integrity errors keeps working), with the `message` and `errors` of a conflict.
db is the lowest tier and imports no higher one, so it is not a `core.errors.Conflict`
itself: `core.errors.conflict_of` makes it one, and http/errors.py, web/errors.py and
the CLI answer it as they answer every Conflict (409 with `errors: {field: [...]}`).
`http/writes.write_as_user` retries a request once on it: the retry sees the row the
other transaction committed and gives the domain's own answer (the existing row, or
the domain's 409).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import ExceptionContext

from charter.db.tables import metadata

# A key column that users know by another name.
_FIELD_OF_COLUMN = {"email_key": "email"}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_INDEX = re.compile(r"index '([^']+)'")


class UniqueViolation(sa.exc.IntegrityError):
    """A unique constraint refused a row: a conflict (409) naming `field`."""

    def __init__(
        self, statement: str | None, params: Any, orig: BaseException, table: str, field: str
    ) -> None:
        sa.exc.IntegrityError.__init__(self, statement, params, orig)
        message = f"A {table.rstrip('s').replace('_', ' ')} with this {field} exists already."
        self.message = message
        self.errors: dict[str, list[str]] | None = {field: ["Already taken."]}
        self.table = table
        self.field = field


def _unique_keys() -> dict[str, tuple[str, list[str]]]:
    """Every unique constraint, unique index and primary key of the schema by name:
    (table, columns)."""
    keys: dict[str, tuple[str, list[str]]] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint):
                name = constraint.name
                if isinstance(name, str):
                    keys[name] = (table.name, [c.name for c in constraint.columns])
        for index in table.indexes:
            if index.unique and isinstance(index.name, str):
                keys[index.name] = (table.name, [c.name for c in index.columns])
    return keys


_KEYS: dict[str, tuple[str, list[str]]] | None = None


def _field(columns: list[str]) -> str:
    """The field a conflict names: the key's last column (a tag's `name` within its
    project, a field's `system_name` within its template)."""
    column = columns[-1] if columns else "id"
    return _FIELD_OF_COLUMN.get(column, column)


def unique_key_of(orig: BaseException) -> tuple[str, str] | None:
    """(table, field) of the unique key a driver error reports, or None when the error
    is not a unique violation (a foreign key, a NOT NULL, a CHECK...)."""
    global _KEYS
    if _KEYS is None:
        _KEYS = _unique_keys()
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        if getattr(orig, "sqlstate", None) != "23505":
            return None
        name = diag.constraint_name or ""
        if name in _KEYS:
            table, columns = _KEYS[name]
            return table, _field(columns)
        return (diag.table_name or "row"), "id"
    match = _SQLITE_UNIQUE.search(str(orig))
    if match is None:
        return None
    detail = match.group(1)
    index = _SQLITE_INDEX.search(detail)
    if index is not None:
        table, columns = _KEYS.get(index.group(1), ("row", ["id"]))
        return table, _field(columns)
    qualified = [part.strip() for part in detail.split(",")]
    table = qualified[0].split(".")[0]
    return table, _field([part.split(".")[-1] for part in qualified])


def on_error(context: ExceptionContext) -> BaseException | None:
    """The engine's handle_error hook: a unique violation becomes UniqueViolation."""
    error = context.sqlalchemy_exception
    orig = context.original_exception
    if not isinstance(error, sa.exc.IntegrityError) or isinstance(error, UniqueViolation):
        return None
    key = unique_key_of(orig)
    if key is None:
        return None
    return UniqueViolation(error.statement, error.params, orig, *key)
