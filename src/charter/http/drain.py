"""Every 413 reaches the client: before a 413 starts, the rest of the request body is
read and dropped. A server that answers while the client is still sending, then
closes, resets the connection: curl shows the 413, but Python's urllib and requests
see a broken pipe and never the answer. Mature servers drain or linger; so do we, up
to MAX_DRAIN_BYTES (beyond that the connection closes, and the body timeout bounds a
slow sender)."""

from __future__ import annotations

from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

MAX_DRAIN_BYTES = 1024 * 1024 * 1024


def drain_on_413_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        state = {"done": False}

        async def tracked_receive() -> ReceiveMessage:
            message = cast(dict[str, Any], await receive())
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                state["done"] = True
            return cast(ReceiveMessage, message)

        async def draining_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                left = MAX_DRAIN_BYTES
                while not state["done"] and left > 0:
                    event = cast(dict[str, Any], await tracked_receive())
                    left -= len(event.get("body", b""))
            await send(message)

        await app(scope, tracked_receive, draining_send)

    return middleware
