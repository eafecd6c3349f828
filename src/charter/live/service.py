"""Live updates: one hub per worker process fans changes out to its open streams.

Where changes come from (db/live.py announces them in the writer's transaction):
- PostgreSQL: one LISTEN connection per worker; NOTIFY reaches every worker on every
  host when the write commits.
- SQLite: one poller per worker reads live_events after the last id it saw, every
  CHARTER_LIVE_POLL_MS (one indexed query per worker, however many streams are open).

The hub runs only while a stream is open. A stream that falls behind (a full queue,
a lost LISTEN connection, a poller behind the purge) is told to resync: its page
reloads its live parts once instead of replaying events. Streams end when the server
is asked to stop (`stop_streams`, called from the SIGTERM/SIGINT handler), so a
graceful shutdown is not held up by open pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import FrameType
from typing import Any

from charter.db.engine import Database
from charter.live import queries

log = logging.getLogger("charter.live")

QUEUE_SIZE = 256
POLL_BATCH = 1000
RECONNECT_SECONDS = 2.0


@dataclass(frozen=True)
class Change:
    project_id: int
    session_id: int
    kind: str  # "session", "notes", or "resync" (session_id 0: reload everything)


RESYNC = "resync"
TICK = "tick"  # no change for a heartbeat's time


class Stream:
    """One open page's subscription to one project's changes."""

    def __init__(self, hub: Hub, project_id: int) -> None:
        self.hub = hub
        self.project_id = project_id
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_SIZE)

    def put(self, change: Change | None) -> None:
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:  # too far behind: drop what waits, ask for a resync
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(Change(self.project_id, 0, RESYNC))

    async def next(self, timeout: float) -> Change | None:
        """The next change; a TICK when `timeout` passed with none; None when the
        server stops."""
        if self.hub.stopping:
            return None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return Change(self.project_id, 0, TICK)

    def close(self) -> None:
        self.hub.unsubscribe(self)


class TooManyStreams(Exception):
    """This worker has CHARTER_LIVE_MAX_STREAMS open already."""


class Hub:
    def __init__(self, db: Database, poll_ms: int = 1000, max_streams: int = 500) -> None:
        self.db = db
        self.poll_seconds = max(poll_ms, 50) / 1000
        self.max_streams = max_streams
        self.streams: dict[int, set[Stream]] = {}
        self.stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._behind = False  # the feed was down: changes may have been missed

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self.streams.values())

    async def subscribe(self, project_id: int) -> Stream:
        """A stream of the project's changes, from now on (once this returns, the
        listener or poller is running: nothing committed later is missed)."""
        if self.open_streams >= self.max_streams:
            raise TooManyStreams()
        stream = Stream(self, project_id)
        self.streams.setdefault(project_id, set()).add(stream)
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(self._ready), name="charter-live")
        assert self._ready is not None
        with contextlib.suppress(TimeoutError):  # a database down: the stream waits
            await asyncio.wait_for(asyncio.shield(self._ready.wait()), 5)
        return stream

    def unsubscribe(self, stream: Stream) -> None:
        group = self.streams.get(stream.project_id)
        if group is not None:
            group.discard(stream)
            if not group:
                del self.streams[stream.project_id]
        if not self.streams and self._task is not None:
            self._task.cancel()  # nobody listens: no LISTEN connection, no polling
            self._task = None

    def publish(self, change: Change) -> None:
        if change.kind == RESYNC and change.project_id == 0:
            groups = list(self.streams.values())
        else:
            groups = [self.streams.get(change.project_id, set())]
        for group in groups:
            for stream in list(group):
                stream.put(change if change.project_id else Change(stream.project_id, 0, RESYNC))

    def stop_streams(self) -> None:
        """End every open stream now (the server is shutting down)."""
        self.stopping = True
        for group in list(self.streams.values()):
            for stream in list(group):
                stream.put(None)

    async def close(self) -> None:
        self.stop_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self, ready: asyncio.Event) -> None:
        while True:
            try:
                if self.db.is_sqlite:
                    await self._poll(ready)
                else:
                    await self._listen(ready)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live updates: lost the change feed; reconnecting", exc_info=True)
            self._behind = True
            await asyncio.sleep(RECONNECT_SECONDS)

    def _feeding(self, ready: asyncio.Event) -> None:
        """The feed runs (again): after an outage, every stream resyncs once."""
        ready.set()
        if self._behind:
            self._behind = False
            self.publish(Change(0, 0, RESYNC))

    async def _listen(self, ready: asyncio.Event) -> None:
        async for payload in queries.notifications(self.db.url):
            if not payload:
                self._feeding(ready)
                continue
            try:
                data = json.loads(payload)
                change = Change(int(data["p"]), int(data["s"]), str(data["k"]))
            except (ValueError, KeyError, TypeError):
                continue
            self.publish(change)

    async def _poll(self, ready: asyncio.Event) -> None:
        last = await self.db.run(lambda: _read(self.db, queries.latest_event_id))
        self._feeding(ready)
        while True:
            await asyncio.sleep(self.poll_seconds)
            oldest, rows = await self.db.run(partial(_fetch, self.db, last))
            if oldest is not None and oldest > last + 1 and rows:
                self.publish(Change(0, 0, RESYNC))  # purged before we read them
            for event_id, project_id, session_id, kind in rows:
                self.publish(Change(project_id, session_id, kind))
                last = event_id


def _fetch(db: Database, last: int) -> tuple[int | None, list[tuple[int, int, int, str]]]:
    with db.read() as conn:
        return queries.oldest_event_id(conn), queries.events_after(conn, last, POLL_BATCH)


def _read(db: Database, fn: Callable[[Any], int]) -> int:
    with db.read() as conn:
        return fn(conn)


def install_stop_on_signals(hub: Hub) -> None:
    """End the streams as soon as SIGTERM or SIGINT arrives, then let the handler that
    was there (uvicorn's graceful shutdown) run: it waits for open responses, which an
    endless stream would otherwise hold up forever. Only in the main thread (a test
    client runs the app elsewhere and never gets signals)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous = signal.getsignal(sig)
        except ValueError:
            return

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(hub.stop_streams)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:  # what would have happened without us
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)

        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread
            return
