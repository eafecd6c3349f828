"""Custom field values of a template: validation on write, decoding on read."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.engine import Connection, RowMapping

from charter.catalog import queries as catalog_queries
from charter.core.errors import Invalid
from charter.core.inputs import is_web_link

MAX_TEXT = 100_000


def key_of(field: Mapping[Any, Any]) -> str:
    return f"custom_{field['system_name']}"


def validate(conn: Connection, field: RowMapping, value: Any) -> str | None:
    """JSON-encode a value for `field`, or raise Invalid naming the custom_* key."""
    key = key_of(field)
    if value is None:
        return None
    kind = field["type"]

    def bad(problem: str) -> Invalid:
        return Invalid.field(key, problem)

    if kind in ("string", "link", "text"):
        limit = 1000 if kind != "text" else MAX_TEXT
        if not isinstance(value, str):
            raise bad("Must be a string.")
        if len(value) > limit:
            raise bad(f"Must be at most {limit} characters.")
        if kind == "link" and value.strip() and not is_web_link(value):
            raise bad("Must be a web address starting with http:// or https://.")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**53:
            raise bad("Must be an integer.")
    elif kind == "float":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise bad("Must be a number.")
    elif kind == "checkbox":
        if not isinstance(value, bool):
            raise bad("Must be true or false.")
    elif kind == "date":
        try:
            value = date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise bad("Must be a date (YYYY-MM-DD).") from None
    elif kind in ("dropdown", "multiselect"):
        allowed = catalog_queries.value_ids_of_field(conn, field["id"])
        ids = value if kind == "multiselect" else [value]
        if kind == "multiselect" and not isinstance(value, list):
            raise bad("Must be a list of value ids.")
        for v in ids:
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad("Must be a value id (integer).")
            if v not in allowed:
                raise bad(f"{v} is not a value of this field.")
        if kind == "multiselect":
            value = sorted(set(ids))
    # Compact, as the API writes JSON: the stored text goes into session JSON as it is.
    return msgspec.json.encode(value).decode()


def is_empty(value: Any) -> bool:
    """A value a required field cannot have: none, blank text, no choices."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_required(
    fields: Iterable[Mapping[Any, Any]], values: Mapping[str, Any], *, only_given: bool = False
) -> None:
    """Invalid naming the first required field (custom_<name>) whose value in `values`
    is empty; with `only_given`, fields absent from `values` are not checked (an edit
    that leaves them alone)."""
    for f in fields:
        key = key_of(f)
        if not f["is_required"] or (only_given and key not in values):
            continue
        if is_empty(values.get(key)):
            raise Invalid.field(key, f"{f['name']} is required.")


def decode(field: Mapping[Any, Any], encoded: str | None) -> Any:
    return None if encoded is None else msgspec.json.decode(encoded)


def value_ids(field: Mapping[Any, Any], decoded: Any) -> Iterable[int]:
    """The field-value ids a decoded value refers to (for the field_values expand)."""
    if decoded is None:
        return ()
    if field["type"] == "dropdown":
        return (decoded,)
    if field["type"] == "multiselect":
        return decoded  # type: ignore[no-any-return]
    return ()
