"""Totals of filtered lists (and other facts about them), cached per project version.

Counting a broad filter over a million sessions reads hundreds of thousands of index
entries, while the answer changes only when sessions change. Every such change bumps
`projects.session_version` in its own transaction, and the cache key holds that
version, so a cached total is never stale: a request reads the version in the same
snapshot as everything else and either finds the total for exactly that version or
counts. Per process, bounded, thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

MAX_ENTRIES = 4096


_cache: OrderedDict[Hashable, Any] = OrderedDict()


_lock = threading.Lock()


T = TypeVar("T")


def cached_total(
    conn: Connection, project_id: int, version: int, filters: Hashable, count: Callable[[], int]
) -> int:
    return cached(conn, project_id, version, ("total", filters), count)


def cached(
    conn: Connection, project_id: int, version: int, key: Hashable, compute: Callable[[], T]
) -> T:
    """`compute()` once per (database, project, session_version, key)."""
    full = (conn.engine.url.render_as_string(), project_id, version, key)
    with _lock:
        if full in _cache:
            _cache.move_to_end(full)
            return _cache[full]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _cache[full] = value
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return value
