"""A unique constraint or a foreign key that refuses a write is a conflict (409)
naming the field, on every path that writes (API, web pages, CLI), never a 500.

The domain checks "is this name taken?" before it writes, but two concurrent
transactions can both pass that check; the database's unique constraint then stops
the second one. The engine's `handle_error` hook (db/engine.py) turns that
IntegrityError into `UniqueViolation` (a foreign key's into `MissingReference`: a
milestone deleted between the check and the insert of a session that names it);
both are a `WriteRace`: still an `IntegrityError` (so code that rolls
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


class WriteRace(sa.exc.IntegrityError):
    """A constraint refused a write that the domain's checks let through, because a
    concurrent transaction committed in between: a conflict (409) naming `field`."""

    def __init__(
        self,
        statement: str | None,
        params: Any,
        orig: BaseException,
        table: str,
        field: str,
        message: str,
        problem: str,
    ) -> None:
        sa.exc.IntegrityError.__init__(self, statement, params, orig)
        self.message = message
        self.errors: dict[str, list[str]] | None = {field: [problem]}
        self.table = table
        self.field = field


class UniqueViolation(WriteRace):
    """A unique constraint refused a row (a name taken meanwhile)."""

    def __init__(
        self, statement: str | None, params: Any, orig: BaseException, table: str, field: str
    ) -> None:
        message = f"A {table.rstrip('s').replace('_', ' ')} with this {field} exists already."
        super().__init__(statement, params, orig, table, field, message, "Already taken.")


class MissingReference(WriteRace):
    """A foreign key refused a row: what it refers to (a milestone, a config...) was
    deleted by a transaction that committed after the domain found it."""

    def __init__(
        self, statement: str | None, params: Any, orig: BaseException, table: str, field: str
    ) -> None:
        message = f"The object {field} refers to was deleted meanwhile."
        super().__init__(statement, params, orig, table, field, message, "Deleted meanwhile.")


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


_FOREIGN_KEYS: dict[str, tuple[str, str]] | None = None


def foreign_key_of(orig: BaseException) -> tuple[str, str] | None:
    """(table, column) of the foreign key a driver error reports, or None when the
    error is not a foreign key violation. SQLite does not name the key ("FOREIGN KEY
    constraint failed"), but its single writer never races: the domain's checks hold."""
    global _FOREIGN_KEYS
    if getattr(orig, "sqlstate", None) != "23503":  # psycopg: foreign_key_violation
        return None
    if _FOREIGN_KEYS is None:
        _FOREIGN_KEYS = {
            fk.name: (table.name, fk.column_keys[0])
            for table in metadata.tables.values()
            for fk in table.foreign_key_constraints
            if isinstance(fk.name, str)
        }
    diag = getattr(orig, "diag", None)
    name = str(getattr(diag, "constraint_name", None) or "")
    return _FOREIGN_KEYS.get(name, (str(getattr(diag, "table_name", None) or "row"), "id"))


def on_error(context: ExceptionContext) -> BaseException | None:
    """The engine's handle_error hook: a unique violation becomes UniqueViolation, a
    foreign key violation MissingReference."""
    error = context.sqlalchemy_exception
    orig = context.original_exception
    if not isinstance(error, sa.exc.IntegrityError) or isinstance(error, WriteRace):
        return None
    key = unique_key_of(orig)
    if key is not None:
        return UniqueViolation(error.statement, error.params, orig, *key)
    reference = foreign_key_of(orig)
    if reference is not None:
        return MissingReference(error.statement, error.params, orig, *reference)
    return None
