"""Time: every timestamp is set here, in Python, as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """The API's time text: UTC with microseconds and Z, 2024-01-01T12:00:00.000000Z.
    (Session and result rows get it from the database: db/expressions.iso_utc.)"""
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"
