"""The session timer: elapsed time accumulates only while the session runs."""

from __future__ import annotations

from datetime import datetime


def elapsed_at(elapsed: int | None, running_since: datetime | None, now: datetime) -> int | None:
    """Microseconds run so far: the stored elapsed plus the current run, if any."""
    if running_since is None:
        return elapsed
    run = int((now - running_since).total_seconds() * 1_000_000)
    return (elapsed or 0) + max(run, 0)
