"""Reading HTML form posts."""

from __future__ import annotations

from typing import Any

from litestar import Request

from charter.core import inputs
from charter.core.errors import Invalid

MAX_FIELD = 10_000


def _checked(name: str, value: str) -> str:
    # Refused with the field named, never silently dropped: a form must not lose text.
    if len(value) > MAX_FIELD:
        raise Invalid.field(name, f"At most {MAX_FIELD} characters.")
    inputs.reject_nul(value, name)  # the same rule as API bodies
    return value


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's text fields (files are ignored; the last value wins for a
    repeated name; use `form_lists` for multi-selects). Over-long values are 422."""
    form = await request.form()
    return {k: _checked(k, v) for k, v in form.items() if isinstance(v, str)}


async def form_lists(request: Request[Any, Any, Any], name: str) -> list[str]:
    """Every text value posted under `name` (checkbox groups, multi-selects)."""
    form = await request.form()
    return [_checked(name, v) for v in form.getall(name, []) if isinstance(v, str)]
