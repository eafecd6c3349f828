"""Deep pages without walking the whole index every time.

A page at offset 400,000 makes the database skip 400,000 index entries. The first time
a deep page is asked for, the sort key of every STRIDE-th row on the way is remembered
(per project version, filters and order, like the cached totals); later deep pages
start from the nearest remembered row and skip at most STRIDE entries. A version bump
(any session change in the project) makes new marks, so a page never shows stale rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

STRIDE = 10_000


MAX_KEYS = 256


Mark = tuple[Any, int]


_marks: OrderedDict[Hashable, list[Mark]] = OrderedDict()


_lock = threading.Lock()


def start(
    key: Hashable, offset: int, next_mark: Callable[[Mark | None, int], Mark | None]
) -> tuple[Mark | None, int]:
    """(row to start after, offset left) for a page at `offset`. `next_mark(after, n)`
    returns the row at 0-based offset n among the rows after `after` (None past the
    end); mark i is the row at offset (i + 1) * STRIDE - 1."""
    if offset < STRIDE:
        return None, offset
    wanted = offset // STRIDE
    with _lock:
        known = list(_marks.get(key, []))
    while len(known) < wanted:
        mark = next_mark(known[-1] if known else None, STRIDE - 1)
        if mark is None:
            break
        known.append(mark)
    with _lock:
        _marks[key] = known
        _marks.move_to_end(key)
        while len(_marks) > MAX_KEYS:
            _marks.popitem(last=False)
    if not known:
        return None, offset
    used = min(wanted, len(known))
    return known[used - 1], offset - used * STRIDE
