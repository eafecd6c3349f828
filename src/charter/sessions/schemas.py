"""Response shapes for the OpenAPI document. Handlers build plain dicts (sessions
carry one custom_<field> key per template field, which a static type cannot list);
these Structs describe the fixed part of each shape."""

from __future__ import annotations

import msgspec

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
