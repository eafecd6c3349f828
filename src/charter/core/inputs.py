"""Every input validator: the rules every value from outside obeys, whatever its field
(text never holds a NUL character, an id fits the id columns, a day lies in the range
every date computation can handle, a JSON body nests at most MAX_JSON_DEPTH levels),
and the checks of one field each (text, email, system name, boolean, integer, id,
date, color, duration, a list of ids, a web link). `parse_id` is THE parser of ids given as text
(paths, query strings, forms). Each answers `Invalid` naming the field, with the same
message for the same bad input wherever it comes from.

PostgreSQL cannot store NUL in text and SQLite can; rejecting it everywhere keeps the
two databases alike. An id outside the 32-bit id columns names no object, but the
drivers fail on it (SQLite above 2**63, PostgreSQL above 2**31) before a lookup
could say so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from charter.core.errors import Invalid
from charter.db import rows as db_rows
from charter.db.tables import issues

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


def is_web_link(value: Any) -> bool:
    """Whether `value` is an absolute http(s) URL with a host (no javascript:, no
    relative paths, no spaces): the only links Charter stores or renders as links."""
    if not isinstance(value, str) or value != value.strip() or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


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


MAX_NAME = 200


MAX_NOTE = 100_000


MAX_ORDER = 2**31 - 1


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


MAX_SYSTEM_NAME = 63


MAX_EMAIL = 320


MAX_DURATION = 2**62  # microseconds


_SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def required(body: Mapping[str, Any], name: str) -> Any:
    if name not in body:
        raise Invalid.field(name, f"The {name} is required.")
    value: Any = body[name]
    return value


def text(name: str, value: Any, max_len: int = MAX_NAME) -> str:
    """A non-empty string (stripped) of at most `max_len` characters."""
    if not isinstance(value, str):
        raise Invalid.field(name, "Must be a string.")
    cleaned = value.strip()
    if not cleaned:
        raise Invalid.field(name, f"The {name} must not be empty.")
    if len(cleaned) > max_len:
        raise Invalid.field(name, f"The {name} must be at most {max_len} characters.")
    return cleaned


def email(name: str, value: Any) -> str:
    """An email address (stripped), at most MAX_EMAIL characters."""
    cleaned = text(name, value, MAX_EMAIL)
    if not _EMAIL.match(cleaned):
        raise Invalid.field(name, "Not a valid email address.")
    return cleaned


def email_key(email: str) -> str:
    """The key a user is found by their email with, the same on every database:
    NFKC-normalised and case-folded in Python (SQLite's lower() folds only ASCII, so
    `Ärger@x.org` would never find `ärger@x.org`). users.email_key holds it, unique;
    every insert, email change and lookup by email goes through it."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def optional_text(name: str, value: Any, max_len: int = MAX_NOTE) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field(name, "Must be a string or null.")
    if len(value) > max_len:
        raise Invalid.field(name, f"Must be at most {max_len} characters.")
    return value


MAX_FILE_NAME = 255


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069]')


def file_name(value: str | None, fallback: str = "file") -> str:
    """A file name as stored: the last path segment (either slash), NFC, without
    control, bidirectional or reserved characters, no leading dots or spaces, at most
    MAX_FILE_NAME characters (the extension kept); `fallback` when nothing is left."""
    name = unicodedata.normalize("NFC", value or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("", name).strip().lstrip(". ").rstrip(". ")
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILE_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILE_NAME]
    return name or fallback


def system_name(name: str, value: Any, max_len: int = MAX_SYSTEM_NAME) -> str:
    """Lowercase letters, digits and _, starting with a letter (at most `max_len`)."""
    if not isinstance(value, str) or not _SYSTEM_NAME.match(value) or len(value) > max_len:
        raise Invalid.field(name, "Lowercase letters, digits and _, starting with a letter.")
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid.field(name, "Must be true or false.")
    return value


def integer(name: str, value: Any, low: int = 0, high: int = MAX_ORDER) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid.field(name, f"Must be an integer from {low} to {high}.")
    return value


def duration(name: str, value: Any) -> int | None:
    """Microseconds (estimate, elapsed), or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_DURATION:
        raise Invalid.field(name, "Must be a non-negative integer (microseconds).")
    return value


def existing_ids(conn: Connection, name: str, value: Any, table: Any, noun: str) -> list[int]:
    """A list of ids of rows of `table` (`noun`s, e.g. issues), duplicates dropped."""
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise Invalid.field(name, f"Must be a list of {noun} ids.")
    missing = set(value) - db_rows.existing_ids(conn, table, filter(is_id, value))
    if missing:
        raise Invalid.field(name, f"Unknown {noun} ids: {sorted(missing)}.")
    return list(dict.fromkeys(value))


def issue_ids(conn: Connection, value: Any) -> list[int]:
    """The `issues` of a session or result body: ids of known issues."""
    return existing_ids(conn, "issues", value, issues, "issue")


def optional_id(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise Invalid.field(name, "Must be an integer id or null.")
    return value


def day(name: str, value: Any) -> date | None:
    """A date written YYYY-MM-DD, or null."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise Invalid.field(name, "Must be a date (YYYY-MM-DD) or null.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid.field(name, "Must be a date (YYYY-MM-DD) or null.") from None


def color(name: str, value: Any, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not _COLOR.match(value):
        raise Invalid.field(name, "Must be a color written #rrggbb.")
    return value.lower()
