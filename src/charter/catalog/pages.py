"""`/static/statuses.css`: one class set per result status, with the colours admins
gave them in the database. CSP forbids inline styles, so pages colour by class:
`status-bg-<id>` (background), `status-fill-<id>` (SVG fill), `status-border-<id>`,
`status-text-<id>`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get

from charter.catalog import read as catalog_read
from charter.http.deps import database

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def status_css(colors: dict[int, str]) -> str:
    """CSS for {status id: '#rrggbb'}; a colour that is not #rrggbb is skipped."""
    lines = ["/* Generated from the statuses table by charter.web.styles. */"]
    for status_id, color in sorted(colors.items()):
        if not _HEX.match(color):
            continue
        lines.append(
            f".status-bg-{status_id} {{ background-color: {color}; }}\n"
            f".status-fill-{status_id} {{ fill: {color}; }}\n"
            f".status-border-{status_id} {{ border-color: {color}; }}\n"
            f".status-text-{status_id} {{ color: {color}; }}"
        )
    return "\n".join(lines) + "\n"


@get("/static/statuses.css", name="statuses_css")
async def statuses_css(request: Request[Any, Any, Any]) -> Response[str]:
    db = database(request)

    def colors() -> dict[int, str]:
        with db.read() as conn:
            return catalog_read.status_colors(conn)

    css = status_css(await db.run(colors))
    return Response(
        content=css,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "no-cache"},  # revalidated by ETag: colours may change
    )


ROUTES: list[Any] = [statuses_css]
