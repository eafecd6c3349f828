"""OpenAPI shapes of sessions: handlers build plain dicts (one custom_<field> key per
template field, which a static type cannot list); these Structs describe the fixed part."""

from __future__ import annotations

import msgspec

from charter.http.conventions import FilterSpec, ListSpec
from charter.http.schemas import (
    STATUS_COUNTS,
    DefaultableExpand,
    Envelope,
    FieldValueExpand,
    IssueExpand,
    NamedExpand,
    StatusExpand,
    UserExpand,
)
from charter.sessions.read import SESSION_EXPANDS


class SessionExpands(msgspec.Struct, omit_defaults=True):
    configs: list[NamedExpand] | None = None
    field_values: list[FieldValueExpand] | None = None
    issues: list[IssueExpand] | None = None
    milestones: list[NamedExpand] | None = None
    states: list[DefaultableExpand] | None = None
    statuses: list[StatusExpand] | None = None
    templates: list[DefaultableExpand] | None = None
    users: list[UserExpand] | None = None


Session = msgspec.defstruct(
    "Session",
    [
        ("id", int),
        ("project_id", int),
        ("template_id", int),
        ("name", str),
        ("config_id", int | None),
        ("milestone_id", int | None),
        ("state_id", int),
        ("assignee_id", int | None),
        ("estimate", int | None),
        ("forecast", int | None),
        ("elapsed", int | None),
        ("is_started", bool),
        ("is_closed", bool),
        ("issues", list[int]),
        ("tags", list[str]),
        *STATUS_COUNTS.items(),
        ("started_at", str | None),
        ("created_at", str),
        ("created_by", int),
        ("updated_at", str | None),
        ("updated_by", int | None),
        ("closed_at", str | None),
        ("closed_by", int | None),
    ],
)


class SessionPage(Envelope):
    result: list[Session]  # type: ignore[valid-type]
    expands: SessionExpands


class SessionSingle(msgspec.Struct):
    result: Session  # type: ignore[valid-type]
    expands: SessionExpands


# The list's sorts, filters and expands: the API route and the web list parse the
# same parameters with it, and the OpenAPI document lists them from it.
SESSIONS = ListSpec(
    noun="sessions",
    sorts={"sessions:created_at": "created_at", "sessions:closed_at": "closed_at"},
    default_sort="sessions:created_at",
    filters=(
        FilterSpec("assignee_id", "ids", "assignee_id"),
        FilterSpec("config_id", "ids", "config_id"),
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("milestone_id", "ids", "milestone_id"),
        FilterSpec("state_id", "ids", "state_id"),
        FilterSpec("template_id", "ids", "template_id"),
        FilterSpec("tags", "tags", "tags"),
        FilterSpec("is_closed", "bool", "is_closed", "Active (0) or closed (1) sessions only."),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("created_before", "before", "created_at"),
        FilterSpec("closed_after", "after", "closed_at"),
        FilterSpec("closed_before", "before", "closed_at"),
        # Charter extensions (Testmo has neither).
        FilterSpec(
            "search",
            "search",
            "name,charter",
            "Charter extension: text found in the name or the charter (case-insensitive).",
        ),
        FilterSpec(
            "is_running",
            "set",
            "running_since",
            "Charter extension: sessions whose timer runs now (1) or does not (0).",
        ),
    ),
    expands=SESSION_EXPANDS,
)
