"""Streaming an attachment (or its thumbnail or preview) to the client: one read hop
for the row and its blob, then the bytes chunk by chunk, with Range, ETag (the sha256)
and the safe headers. The API (bearer token, routes.py) and the web UI (the session
cookie, pages.py) serve the same answer; `read` is how each authenticates.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Stream
from sqlalchemy.engine import Connection

from charter.attachments import read as attachment_read
from charter.attachments import storage
from charter.auth.service import User
from charter.core.errors import NotFound
from charter.http.deps import database, path_id
from charter.http.errors import RequestError
from charter.http.etag import matches
from charter.settings import Settings

Reader = Callable[[Request[Any, Any, Any], Callable[[Connection, User], Any]], Awaitable[Any]]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) of a single `Range: bytes=a-b` (or `a-`, or `-n`); None for the whole
    blob (no header, or one this server ignores: several ranges); RequestError 416 when
    it lies outside the blob."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last n bytes
        length = int(match[2])
        if length == 0 or size == 0:
            raise RequestError(416, "Range not satisfiable.", {"Content-Range": f"bytes */{size}"})
        return max(0, size - length), size - 1
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or (match[2] and int(match[2]) < start):
        raise RequestError(416, "Range not satisfiable.", {"Content-Range": f"bytes */{size}"})
    return start, end


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII fallback `filename` and the exact name as RFC 5987
    `filename*`."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def serve(
    request: Request[Any, Any, Any], raw_id: str, kind: str, read: Reader
) -> Response[Any]:
    def work(conn: Any, user: User) -> tuple[Any, Any]:
        attachment_id = path_id(raw_id, "Attachment")
        row = attachment_read.readable_attachment(conn, user, attachment_id)
        sha = row["sha256"] if kind == "download" else row[f"{kind}_sha256"]
        blob = None if sha is None else attachment_read.blob_of(conn, sha)
        if blob is None:
            raise NotFound(f"Attachment {attachment_id} has no {kind}.")
        return row, blob

    row, blob = await read(request, work)
    sha, size = blob["sha256"], blob["size"]
    inline = blob["mime_type"] in storage.INLINE_TYPES
    name = row["name"]
    if kind != "download":
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = f"{stem}-{kind}.{'png' if blob['mime_type'] == 'image/png' else 'jpg'}"
    etag = f'"{sha}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=86400",
        "Content-Disposition": content_disposition("inline" if inline else "attachment", name),
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    media_type = blob["mime_type"] if inline else storage.OCTET
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and matches(if_none_match, etag):
        return Response(content=b"", status_code=304, headers=headers)
    if_range = request.headers.get("if-range")
    wanted = None if if_range not in (None, etag) else request.headers.get("range")
    span = byte_range(wanted, size)
    start, end = span if span is not None else (0, size - 1)
    headers["Content-Length"] = str(max(0, end - start + 1))
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    store = storage.store_of_blob(
        blob["backend"], Path(_settings(request).effective_attachments_dir)
    )
    db = database(request)

    async def body() -> Any:
        if end >= start:
            async for data in store.stream(db, sha, start, end):
                yield data

    return Stream(
        body(),
        status_code=206 if span is not None else 200,
        headers=headers,
        media_type=media_type,
    )


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
