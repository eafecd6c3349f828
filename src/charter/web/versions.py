"""Stale edits in web forms, the pages' If-Match: an edit form carries the values it was
rendered from (a hidden JSON field); before a save, the page compares them with the
values now. If someone saved in between, nothing is written: the form comes back
with what changed (theirs and yours) and the values now as its new base, so saving
again is a deliberate choice (sessions/edit_pages.py, web/crud.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

BASE_FIELD = "base_values"  # the values the edit form was rendered from (hidden, JSON)


Values = dict[str, Any]


class Stale(Exception):
    """The object changed since the form was rendered: nothing is written. `current`
    are its values now (the next form's base); `changed` the keys that differ."""

    def __init__(self, current: Values, changed: list[str]) -> None:
        super().__init__("This changed since you opened the form.")
        self.current = current
        self.changed = changed


def encode_base(values: Values) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def decode_base(raw: str) -> Values | None:
    """The posted base values, or None (missing or mangled: no check)."""
    try:
        base = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # a forged field nesting deeply: no 500
        return None
    return base if isinstance(base, dict) else None


def changed_keys(base: Values, current: Values, first: Sequence[str] = ()) -> list[str]:
    """The keys whose values differ, those in `first` first (the form's order)."""
    keys = list(dict.fromkeys([*first, *sorted(set(base) | set(current))]))
    return [k for k in keys if base.get(k) != current.get(k)]
