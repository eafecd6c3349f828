"""OpenAPI shapes every namespace shares: the list envelope and the expands."""

from __future__ import annotations

import msgspec


class Envelope(msgspec.Struct):
    """The pagination fields every list answer starts with."""

    page: int | None
    prev_page: int | None
    next_page: int | None
    last_page: int | None
    per_page: int
    total: int


class ErrorBody(msgspec.Struct):
    message: str
    errors: dict[str, list[str]] | None = None


class UserExpand(msgspec.Struct):
    id: int
    name: str


class NamedExpand(msgspec.Struct):
    id: int
    name: str


class DefaultableExpand(msgspec.Struct):
    id: int
    name: str
    is_default: bool


class StatusExpand(msgspec.Struct):
    id: int
    name: str
    system_name: str
    color: str
    is_final: bool
    is_untested: bool
    is_passed: bool
    is_failed: bool
    aliases: list[str]


class IssueExpand(msgspec.Struct):
    id: int
    type: int
    display_id: str
    external_project_id: int | None
    external_project_key: str | None


class FieldValueExpand(msgspec.Struct):
    id: int
    name: str
    icon: str | None
    color: str | None


class UsersExpand(msgspec.Struct, omit_defaults=True):
    """Expands that hold only `users` (projects, roles, groups)."""

    users: list[UserExpand] | None = None


class NoExpands(msgspec.Struct):
    """Always {}: the list has no expands."""


# The status counters every session, milestone and run carries.
STATUS_COUNTS = {
    "untested_count": int,
    **{f"status{n}_count": int for n in range(1, 25)},
    "success_count": int,
    "failure_count": int,
    "completed_count": int,
    "total_count": int,
}
