"""Throttles: at most `limit` events per key in a fixed window of `window_seconds`.

One small interface for any key (a client address, a token id, an email):

    fails = Throttle(limit=20, window_seconds=60)
    wait = fails.retry_after(key)   # None, or seconds to wait: refuse before any work
    ...
    fails.hit(key)                  # count one event (e.g. a failed sign-in)

    rate = Throttle(limit=600, window_seconds=60)
    wait = rate.hit(key)            # count this request; None, or seconds to wait if over

    wait = fails.hit(key)           # reserve an attempt BEFORE the costly check, so that
    ...                             # a concurrent burst gets at most `limit` checks;
    fails.release(key)              # give it back if the attempt succeeded

`SharedThrottle` has the same rules with its counts in the database
(db/tables.throttle_counters), so every worker process shares them: failed API
authentications per client address (`Limits.auth_failures`) and failed sign-ins per
email and per address (signin/pages.py). A hit is one upsert; what it learns about a key
over its limit is remembered in the worker's memory until the window ends, so refusals
(`retry_after`) cost no database work. The optional per-token request rate stays
in memory (`Throttle`): counting every request in the database would turn every read
into a write; with N workers a token may get up to N x its rate. Memory stays bounded:
at most `max_keys` keys are kept, and the oldest windows are dropped first.

The client address is the ASGI client host: behind a reverse proxy every client shares
the proxy's address unless the proxy is listed in CHARTER_FORWARDED_ALLOW_IPS (then
uvicorn takes it from X-Forwarded-For).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request
from sqlalchemy.engine import Connection

from charter.db import throttles as q
from charter.db.engine import Database
from charter.http.errors import TooManyRequests
from charter.settings import Settings

MAX_KEYS = 10_000


class Throttle:
    """A fixed-window counter per key; thread-safe (the DB thread pool calls it too)."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0 or max_keys < 1:
            raise ValueError("a throttle needs limit >= 1, window_seconds > 0, max_keys >= 1")
        self.limit = limit
        self.window = float(window_seconds)
        self.max_keys = max_keys
        self.clock = clock
        # key -> [window start, count]. Insertion order is window-start order (a key is
        # re-inserted when its window restarts), so the oldest windows come first.
        self._windows: dict[Hashable, list[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: Hashable) -> int | None:
        """Seconds (>= 1) until `key` may act again if it used up its limit, else None.
        Counts nothing."""
        entry = self._windows.get(key)
        if entry is None:  # the hot path: a key with no recent events, no lock taken
            return None
        with self._lock:
            return self._wait(entry, self.clock())

    def hit(self, key: Hashable) -> int | None:
        """Count one event for `key`. None if it was within the limit; otherwise (the
        limit was already used up) the seconds to wait, and nothing is counted."""
        now = self.clock()
        with self._lock:
            entry = self._windows.get(key)
            if entry is not None and now - entry[0] >= self.window:
                del self._windows[key]
                entry = None
            if entry is None:
                self._prune(now)
                self._windows[key] = [now, 1.0]
                return None
            wait = self._wait(entry, now)
            if wait is None:
                entry[1] += 1
            return wait

    def release(self, key: Hashable) -> None:
        """Give back one event counted by `hit` (an attempt reserved before checking it,
        which turned out fine): reserve-then-verify lets no burst past the limit."""
        with self._lock:
            entry = self._windows.get(key)
            if entry is not None and entry[1] > 0:
                entry[1] -= 1

    def __len__(self) -> int:
        return len(self._windows)

    def _wait(self, entry: list[float], now: float) -> int | None:
        start, count = entry
        if count < self.limit or now - start >= self.window:
            return None
        return max(1, math.ceil(start + self.window - now))

    def _prune(self, now: float) -> None:
        """Drop expired windows from the front, then the oldest while over `max_keys`."""
        windows = self._windows
        while windows:
            oldest = next(iter(windows))
            if now - windows[oldest][0] < self.window and len(windows) < self.max_keys:
                break
            del windows[oldest]


class SharedThrottle:
    """At most `limit` events per key in a fixed window, counted in the database (shared
    by every worker); refusals remembered in memory. Thread-safe.

        wait = throttle.retry_after(key)     # memory only: refuse before any work
        wait = throttle.hit(conn, key)       # count (one upsert); seconds to wait if
                                             # this event is over the limit, else None
        throttle.release(conn, key)          # give back an event that turned out fine
    """

    PURGE_EVERY = 1000  # hits between purges of long-expired rows (per process)

    def __init__(
        self,
        name: str,
        limit: int,
        window_seconds: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock`: wall-clock seconds (UTC epoch), since windows are stored and shared."""
        if limit < 1 or window_seconds <= 0 or max_keys < 1:
            raise ValueError("a throttle needs limit >= 1, window_seconds > 0, max_keys >= 1")
        self.name = name
        self.limit = limit
        self.window = float(window_seconds)
        self.max_keys = max_keys
        self.clock = clock
        self._blocked: dict[Hashable, float] = {}  # key -> monotonic time it is free again
        self._lock = threading.Lock()
        self._hits = 0

    def _db_key(self, key: Hashable) -> str:
        return hashlib.sha256(f"{self.name}\x00{key}".encode("utf-8", "replace")).hexdigest()

    def retry_after(self, key: Hashable) -> int | None:
        until = self._blocked.get(key)
        if until is None:  # the hot path: no lock, no database
            return None
        now = self.clock()
        if now >= until:
            with self._lock:
                self._blocked.pop(key, None)
            return None
        return max(1, math.ceil(until - now))

    def hit(self, conn: Connection, key: Hashable) -> int | None:
        now = datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)
        window = timedelta(seconds=self.window)
        start, count = q.hit(conn, self._db_key(key), now, now - window)
        left = max((start + window - now).total_seconds(), 0.001)
        if count >= self.limit:  # nothing more allowed in this window
            with self._lock:
                if len(self._blocked) >= self.max_keys:
                    self._blocked.pop(next(iter(self._blocked)))
                self._blocked[key] = self.clock() + left
        self._hits += 1
        if self._hits % self.PURGE_EVERY == 0:
            q.purge_older_than(conn, now - max(window, timedelta(hours=1)))
        return max(1, math.ceil(left)) if count > self.limit else None

    def release(self, conn: Connection, key: Hashable) -> None:
        q.release(conn, self._db_key(key))
        with self._lock:
            self._blocked.pop(key, None)


def client_address(request: Request[Any, Any, Any]) -> str:
    """The key failed authentications are counted under: the ASGI client host ("" when
    the server has none, e.g. on a Unix socket, where every client shares it)."""
    client = request.scope.get("client")  # not request.client: that builds an object
    return client[0] if client else ""


@dataclass(frozen=True)
class Limits:
    """The API's throttles, one set per application instance (per worker process)."""

    auth_failures: SharedThrottle | None  # key: client address
    token_rate: SharedThrottle | None  # key: the sha256 of the bearer secret

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        for name in ("auth_fail_limit", "auth_fail_window_seconds", "token_rate_limit"):
            if getattr(settings, name) < (1 if name == "auth_fail_window_seconds" else 0):
                raise ValueError(
                    f"CHARTER_{name.upper()} is out of range: {getattr(settings, name)}"
                )
        fails = None
        if settings.auth_fail_limit > 0:
            fails = SharedThrottle(
                "api-auth-failures", settings.auth_fail_limit, settings.auth_fail_window_seconds
            )
        rate = None
        if settings.token_rate_limit > 0:
            rate = SharedThrottle("api-token-rate", settings.token_rate_limit, 60)
        return cls(auth_failures=fails, token_rate=rate)

    def check_address(self, address: str) -> None:
        """429 for an address that failed to authenticate too often; before any DB work."""
        if self.auth_failures is not None:
            wait = self.auth_failures.retry_after(address)
            if wait is not None:
                raise TooManyRequests(
                    wait, "Too many failed authentications from this address; try again later."
                )

    async def failed(self, db: Database, address: str) -> None:
        """Count a failed authentication (missing, malformed, unknown or revoked token),
        in the database every worker shares (one upsert on the DB thread pool)."""
        fails = self.auth_failures
        if fails is not None:

            def count() -> None:
                with db.write() as conn:
                    fails.hit(conn, address)

            await db.run(count)

    def count_token(self, conn: Connection, secret: str) -> None:
        """Count one request of the token whose secret is `secret` in the counts every
        worker shares (one upsert in `conn`'s write transaction); 429 once it is over
        its rate. Keyed by the secret's sha256, so it runs before authentication and
        nothing of the secret is stored. No work at all without a limit."""
        if self.token_rate is not None:
            key = _token_key(secret)
            _refuse_token(self.token_rate.retry_after(key) or self.token_rate.hit(conn, key))

    def count_token_apart(self, db: Database, secret: str) -> None:
        """count_token in a write transaction of its own (called on the DB thread), for
        read requests; refused from memory, with no database work, once this worker
        knows the token is over its rate."""
        if self.token_rate is not None:
            key = _token_key(secret)
            wait = self.token_rate.retry_after(key)
            if wait is None:
                with db.write() as conn:
                    wait = self.token_rate.hit(conn, key)
            _refuse_token(wait)


def _token_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _refuse_token(wait: int | None) -> None:
    if wait is not None:
        raise TooManyRequests(wait, "Too many requests with this API token; slow down.")


def limits_of(request: Request[Any, Any, Any]) -> Limits:
    """The application's Limits (`create_app` sets them at startup)."""
    limits: Limits = request.app.state["limits"]  # [] skips a failing attribute lookup
    return limits
