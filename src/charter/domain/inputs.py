"""Rules every value from outside obeys, whatever its field: text never holds a NUL
character, an id fits the id columns (`parse_id` is THE parser of ids given as text:
paths, query strings, forms), a day lies in the range every date computation can
handle, and a JSON body nests at most MAX_JSON_DEPTH levels.

PostgreSQL cannot store NUL in text and SQLite can; rejecting it everywhere keeps the
two databases alike. An id outside the 32-bit id columns names no object, but the
drivers fail on it (SQLite above 2**63, PostgreSQL above 2**31) before a lookup
could say so.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from charter.domain.errors import Invalid

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
NUL_PROBLEM = "Must not contain NUL characters (\\u0000)."
# Days a date parameter may name: far enough from date.min / date.max that a window of
# days around them (and a conversion to any time zone) never overflows.
MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(9000, 12, 31)
# JSON bodies nest at most this deep (objects and arrays): deeper ones are refused
# before any recursive walk could exhaust the stack.
MAX_JSON_DEPTH = 64

_ASCII_ID = re.compile(r"[0-9]{1,10}").fullmatch


def is_id(value: Any) -> bool:
    """Whether `value` is an integer that an id column can hold (bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_id(text: str) -> int | None:
    """The id `text` names: ASCII digits only (str.isdigit() and int() also take "²"
    and other scripts' digits), no sign or spaces, 1..MAX_ID; else None."""
    if not _ASCII_ID(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def day_in_range(value: date) -> bool:
    """Whether a day given from outside lies in MIN_DAY..MAX_DAY."""
    return MIN_DAY <= value <= MAX_DAY


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a decoded JSON value nests deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


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


def reject_nul(value: Any, path: str = "", raw: bytes | None = None) -> None:
    """422 naming the field when any string in `value` holds NUL (the body itself: "body").
    With `raw`, the JSON text `value` was decoded from, the walk is skipped when that
    text holds no NUL escape (JSON text can hold NUL only as `\\u0000`): one C-speed
    scan instead of a Python walk of a 10 MB body."""
    if raw is not None and b"\\u0000" not in raw and b"\x00" not in raw:
        return
    found = nul_path(value, path)
    if found is not None:
        raise Invalid.field(found or "body", NUL_PROBLEM)
