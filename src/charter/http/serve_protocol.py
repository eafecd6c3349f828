"""The HTTP protocol `charter serve` hands uvicorn: uvicorn's httptools protocol plus a
deadline for the request line and headers.

uvicorn times out idle keep-alive connections (`timeout_keep_alive`) but not a client
that sends its headers a byte at a time ("slowloris"): each such connection is held
for as long as the client likes. Here a connection whose request line and headers are
not complete within CHARTER_HEADER_TIMEOUT_SECONDS of its first byte (or of the
connection, for a client that sends nothing) is closed. A slow *body* is bounded by
the application (`http/body_timeout.py`), which can still answer 408.

uvicorn imports this class by name in every worker process (`http=` takes an import
string), so the deadline is read from the environment, like every other setting.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from charter.settings import Settings

IMPORT_PATH = "charter.http.serve_protocol:HeaderTimeoutProtocol"


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout: float | None = None  # read from the environment on first use

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if HeaderTimeoutProtocol.header_timeout is None:
            HeaderTimeoutProtocol.header_timeout = float(Settings.from_env().header_timeout_seconds)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        timeout = self.header_timeout or 0
        if timeout > 0:
            self._header_deadline = self.loop.call_later(timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
