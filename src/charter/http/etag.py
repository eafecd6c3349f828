"""Conditional GETs: every 200 answer to a GET carries an ETag (a hash of its body),
and a matching If-None-Match gets 304 with no body. One ASGI middleware does it for
every endpoint, except those that set their own ETag (streamed downloads: they answer
If-None-Match themselves)."""

from __future__ import annotations

import hashlib
import re
from typing import Any, cast

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# A running session's `elapsed` grows with time, so its body (and ETag) changes
# every microsecond. Its ETag is then "<stable>.<full>": <full> hashes the body (so
# If-None-Match sees time pass), <stable> hashes it without its elapsed values, so an
# If-Match taken a while ago still names the same version (every other change to a
# session, a pause included, changes other keys too: updated_at, the counters).
_SINGLE = b'{"result":{'
_ELAPSED = re.compile(rb'"elapsed"\s*:\s*(?:-?\d+|null)')


def etag_for(body: bytes) -> str:
    """The ETag of a GET answer with this body."""
    full = hashlib.sha256(body).hexdigest()[:32]
    # Single objects only (If-Match names one object; a list never needs the version,
    # and hashing a page twice would cost ~0.2 ms per 100 rows).
    if not body.startswith(_SINGLE) or b'"elapsed"' not in body:
        return f'"{full}"'
    stable = hashlib.sha256(_ELAPSED.sub(b'"elapsed":0', body)).hexdigest()[:16]
    return f'"{stable}.{full}"'


def stable_part(etag: str) -> str | None:
    """The <stable> part of an ETag from etag_for, if it has one."""
    inner = etag.strip().removeprefix("W/").strip('"')
    return inner.split(".", 1)[0] if "." in inner else None


def matches_stable(header: str, etag: str) -> bool:
    """Whether an If-Match header names `etag`'s version, whatever time did to its
    elapsed values (for objects whose only change over time is elapsed)."""
    wanted = stable_part(etag)
    if header.strip() == "*" or wanted is None:
        return matches(header, etag)
    return any(stable_part(c) == wanted for c in header.split(","))


def matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match / If-Match header names `etag` (weak or strong)."""
    if header.strip() == "*":
        return True
    candidates = (c.strip() for c in header.split(","))
    return any(c.removeprefix("W/") == etag for c in candidates)


def etag_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if cast(dict[str, Any], scope).get("method") != "GET":  # GET only; never websockets
            await app(scope, receive, send)
            return
        if_none_match = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None
        )
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                # A response that names its own ETag (an attachment download, streamed
                # and tagged with its sha256) passes through unbuffered.
                own_etag = any(k.lower() == b"etag" for k, _v in message.get("headers", []))
                # An event stream never ends: it cannot be buffered, or tagged.
                streaming = any(
                    k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                    for k, v in message.get("headers", [])
                )
                if message["status"] != 200 or own_etag or streaming:
                    start["passthrough"] = True
                    await send(message)
                return
            if start.get("passthrough"):
                await send(message)
                return
            chunks.append(cast(bytes, message.get("body", b"")))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            etag = etag_for(body)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"etag"]
            headers.append((b"etag", etag.encode()))
            if if_none_match is not None and matches(if_none_match, etag):
                kept = [
                    (k, v)
                    for k, v in headers
                    if k.lower() not in (b"content-length", b"content-type")
                ]
                await send(_start(304, kept))
                await send(_body(b""))
                return
            await send(_start(200, headers))
            await send(_body(body))

        await app(scope, receive, buffered_send)

    return middleware


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(body: bytes) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": body, "more_body": False}
