"""Reading HTML form posts."""

from __future__ import annotations

from typing import Any

from litestar import Request

MAX_FIELD = 10_000


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's text fields (files and over-long values are dropped; the last
    value wins for a repeated name; use `form_lists` for multi-selects)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= MAX_FIELD}


async def form_lists(request: Request[Any, Any, Any], name: str) -> list[str]:
    """Every text value posted under `name` (checkbox groups, multi-selects)."""
    form = await request.form()
    return [v for v in form.getall(name, []) if isinstance(v, str) and len(v) <= MAX_FIELD]
