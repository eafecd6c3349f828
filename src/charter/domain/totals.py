"""Totals of filtered lists, cached per project version.

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

from sqlalchemy.engine import Connection

MAX_ENTRIES = 4096

_cache: OrderedDict[Hashable, int] = OrderedDict()
_lock = threading.Lock()


def cached_total(
    conn: Connection, project_id: int, version: int, filters: Hashable, count: Callable[[], int]
) -> int:
    key = (conn.engine.url.render_as_string(), project_id, version, filters)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    total = count()
    with _lock:
        _cache[key] = total
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return total
