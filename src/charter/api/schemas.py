"""Response shapes for the OpenAPI document. Handlers build plain dicts (sessions
carry one custom_<field> key per template field, which a static type cannot list);
these Structs describe the fixed part of each shape."""

from __future__ import annotations

import msgspec


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


class SessionExpands(msgspec.Struct, omit_defaults=True):
    configs: list[NamedExpand] | None = None
    field_values: list[FieldValueExpand] | None = None
    issues: list[IssueExpand] | None = None
    milestones: list[NamedExpand] | None = None
    states: list[DefaultableExpand] | None = None
    statuses: list[StatusExpand] | None = None
    templates: list[DefaultableExpand] | None = None
    users: list[UserExpand] | None = None


_counts = {
    "untested_count": int,
    **{f"status{n}_count": int for n in range(1, 25)},
    "success_count": int,
    "failure_count": int,
    "completed_count": int,
    "total_count": int,
}

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
        *_counts.items(),
        ("started_at", str | None),
        ("created_at", str),
        ("created_by", int),
        ("updated_at", str | None),
        ("updated_by", int | None),
        ("closed_at", str | None),
        ("closed_by", int | None),
    ],
)


class SessionPage(msgspec.Struct):
    page: int | None
    prev_page: int | None
    next_page: int | None
    last_page: int | None
    per_page: int
    total: int
    result: list[Session]  # type: ignore[valid-type]
    expands: SessionExpands


class SessionSingle(msgspec.Struct):
    result: Session  # type: ignore[valid-type]
    expands: SessionExpands


class Project(msgspec.Struct):
    id: int
    name: str
    is_completed: bool
    milestone_count: int
    milestone_active_count: int
    milestone_completed_count: int
    run_count: int
    run_active_count: int
    run_closed_count: int
    session_count: int
    session_active_count: int
    session_closed_count: int
    automation_source_count: int
    automation_source_active_count: int
    automation_source_retired_count: int
    automation_run_count: int
    automation_run_active_count: int
    automation_run_completed_count: int
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None
    completed_at: str | None


class ProjectExpands(msgspec.Struct, omit_defaults=True):
    users: list[UserExpand] | None = None


class ProjectPage(msgspec.Struct):
    page: int | None
    prev_page: int | None
    next_page: int | None
    last_page: int | None
    per_page: int
    total: int
    result: list[Project]
    expands: ProjectExpands


class ProjectSingle(msgspec.Struct):
    result: Project
    expands: ProjectExpands


class CurrentUser(msgspec.Struct):
    id: int
    name: str
    timezone: str | None
    date_format: str | None
    time_format: str | None


class Result(msgspec.Struct):
    id: int
    session_id: int
    project_id: int
    status_id: int | None
    note: str | None
    elapsed: int | None
    issues: list[int]
    created_at: str
    created_by: int
    updated_at: str | None
    updated_by: int | None


class ResultExpands(msgspec.Struct, omit_defaults=True):
    issues: list[IssueExpand] | None = None
    statuses: list[StatusExpand] | None = None
    users: list[UserExpand] | None = None


class ResultPage(msgspec.Struct):
    page: int | None
    prev_page: int | None
    next_page: int | None
    last_page: int | None
    per_page: int
    total: int
    result: list[Result]
    expands: ResultExpands


class ResultSingle(msgspec.Struct):
    result: Result


class ResultCreated(msgspec.Struct):
    """One Result, or a list of them for a bulk add."""

    result: Result | list[Result]
