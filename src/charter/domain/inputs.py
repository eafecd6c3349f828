"""Rules every value from outside obeys, whatever its field: text never holds a NUL
character, and an id fits the id columns.

PostgreSQL cannot store NUL in text and SQLite can; rejecting it everywhere keeps the
two databases alike. An id outside the 32-bit id columns names no object, but the
drivers fail on it (SQLite above 2**63, PostgreSQL above 2**31) before a lookup
could say so.
"""

from __future__ import annotations

from typing import Any

from charter.domain.errors import Invalid

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
NUL_PROBLEM = "Must not contain NUL characters (\\u0000)."


def is_id(value: Any) -> bool:
    """Whether `value` is an integer that an id column can hold (bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def nul_path(value: Any, path: str) -> str | None:
    """The path (a.0.b) of the first string in a decoded JSON value that holds NUL;
    a key that holds one is blamed on its object."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return path
            found = nul_path(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def reject_nul(value: Any, path: str = "") -> None:
    """422 naming the field when any string in `value` holds NUL (the body itself: "body")."""
    found = nul_path(value, path)
    if found is not None:
        raise Invalid.field(found or "body", NUL_PROBLEM)
