"""Response shapes for the OpenAPI document. Handlers build plain dicts (sessions
carry one custom_<field> key per template field, which a static type cannot list);
these Structs describe the fixed part of each shape."""

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


class SessionPage(Envelope):
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


class UsersExpand(msgspec.Struct, omit_defaults=True):
    """Expands that hold only `users` (projects, roles, groups)."""

    users: list[UserExpand] | None = None


class ProjectPage(Envelope):
    result: list[Project]
    expands: UsersExpand


class ProjectSingle(msgspec.Struct):
    result: Project
    expands: UsersExpand


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


class ResultPage(Envelope):
    result: list[Result]
    expands: ResultExpands


class ResultSingle(msgspec.Struct):
    result: Result


class ResultCreated(msgspec.Struct):
    """One Result, or a list of them for a bulk add."""

    result: Result | list[Result]


# --- Charter extensions: users administration and API tokens (api/accounts.py) --------


class ApiToken(msgspec.Struct):
    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class ApiTokenPage(Envelope):
    result: list[ApiToken]
    expands: dict[str, list[UserExpand]]


class NewApiToken(msgspec.Struct):
    """A token just created: `token` is the secret, shown this one time only."""

    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    token: str


class NewApiTokenSingle(msgspec.Struct):
    result: NewApiToken
    expands: dict[str, list[UserExpand]]


# --- milestones ------------------------------------------------------------------------


class MilestoneLink(msgspec.Struct):
    name: str
    note: str | None
    url: str


class Milestone(msgspec.Struct):
    id: int
    project_id: int
    root_id: int
    parent_id: int | None
    type_id: int | None
    name: str
    note: str | None
    is_started: bool
    is_completed: bool
    start_date: str | None  # YYYY-MM-DD
    due_date: str | None  # YYYY-MM-DD
    automation_tags: list[str]
    issues: list[int]
    links: list[MilestoneLink]
    started_at: str | None
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None
    completed_at: str | None


MilestoneStatsExpand = msgspec.defstruct("MilestoneStatsExpand", [("id", int), *_counts.items()])


class MilestoneExpands(msgspec.Struct, omit_defaults=True):
    issues: list[IssueExpand] | None = None
    milestone_stats: list[MilestoneStatsExpand] | None = None  # type: ignore[valid-type]
    milestone_types: list[DefaultableExpand] | None = None
    milestones: list[NamedExpand] | None = None
    statuses: list[StatusExpand] | None = None
    users: list[UserExpand] | None = None


class MilestonePage(Envelope):
    result: list[Milestone]
    expands: MilestoneExpands


class MilestoneSingle(msgspec.Struct):
    result: Milestone
    expands: MilestoneExpands


# --- users, roles, groups --------------------------------------------------------------


class ProjectUser(msgspec.Struct):
    id: int
    name: str


class NoExpands(msgspec.Struct):
    """Always {}: the list has no expands."""


class ProjectUserPage(Envelope):
    result: list[ProjectUser]
    expands: NoExpands


class User(msgspec.Struct):
    id: int
    name: str
    email: str
    type: int
    timezone: str | None
    date_format: str | None
    time_format: str | None
    notifications: int
    tfa_enabled: bool
    is_active: bool
    is_forgotten: bool
    is_api: bool
    role_id: int | None
    groups: list[int]
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class ManagedUser(User):
    """The Testmo user shape (as GET /api/v1/users/{id}) plus `is_admin`."""

    is_admin: bool


class ManagedUserSingle(msgspec.Struct):
    result: ManagedUser
    expands: dict[str, list[UserExpand]]


class UserExpands(msgspec.Struct, omit_defaults=True):
    groups: list[NamedExpand] | None = None
    roles: list[NamedExpand] | None = None
    users: list[UserExpand] | None = None


class UserPage(Envelope):
    result: list[User]
    expands: UserExpands


class UserSingle(msgspec.Struct):
    result: User
    expands: UserExpands


class Role(msgspec.Struct):
    id: int
    name: str
    permissions: int  # bit set: 1 read, 2 run sessions, 4 manage the project
    is_default: bool
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class RolePage(Envelope):
    result: list[Role]
    expands: UsersExpand


class RoleSingle(msgspec.Struct):
    result: Role
    expands: UsersExpand


class Group(msgspec.Struct):
    id: int
    name: str
    members: list[int]
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class GroupPage(Envelope):
    result: list[Group]
    expands: UsersExpand


class GroupSingle(msgspec.Struct):
    result: Group
    expands: UsersExpand


# --- Project administration (Charter extension) ------------------------------------


class ProjectWithNote(Project):
    """A project as a write answers it: the Project object plus its note."""

    note: str | None


class ProjectWritten(msgspec.Struct):
    result: ProjectWithNote
    expands: dict[str, object]


class Member(msgspec.Struct):
    user_id: int
    name: str
    email: str
    role: str


class MemberPage(Envelope):
    result: list[Member]
    expands: dict[str, object]


class MemberSingle(msgspec.Struct):
    result: Member
    expands: dict[str, object]


class Config(msgspec.Struct):
    id: int
    project_id: int
    name: str
    created_at: str


class ConfigPage(Envelope):
    result: list[Config]
    expands: dict[str, object]


class ConfigSingle(msgspec.Struct):
    result: Config
    expands: dict[str, object]


class FieldValue(msgspec.Struct):
    id: int
    field_id: int
    name: str
    icon: str | None
    color: str | None
    display_order: int


class FieldValuePage(Envelope):
    result: list[FieldValue]
    expands: dict[str, object]


class FieldValueSingle(msgspec.Struct):
    result: FieldValue
    expands: dict[str, object]


class TemplateField(msgspec.Struct):
    id: int
    template_id: int
    name: str
    system_name: str
    type: str
    scope: str
    is_required: bool
    display_order: int
    values: list[FieldValue]


class TemplateFieldPage(Envelope):
    result: list[TemplateField]
    expands: dict[str, object]


class TemplateFieldSingle(msgspec.Struct):
    result: TemplateField
    expands: dict[str, object]


class Template(msgspec.Struct):
    id: int
    name: str
    is_default: bool
    created_at: str
    fields: list[TemplateField]


class TemplatePage(Envelope):
    result: list[Template]
    expands: dict[str, object]


class TemplateSingle(msgspec.Struct):
    result: Template
    expands: dict[str, object]


class State(msgspec.Struct):
    id: int
    name: str
    is_default: bool
    display_order: int
    # Its meaning in a session's lifecycle: planned, active, review, done, or null.
    meaning: str | None


class StatePage(Envelope):
    result: list[State]
    expands: dict[str, object]


class StateSingle(msgspec.Struct):
    result: State
    expands: dict[str, object]


class Status(msgspec.Struct):
    id: int
    name: str
    system_name: str
    color: str
    is_final: bool
    is_untested: bool
    is_passed: bool
    is_failed: bool
    aliases: list[str]
    is_active: bool


class StatusPage(Envelope):
    result: list[Status]
    expands: dict[str, object]


class StatusSingle(msgspec.Struct):
    result: Status
    expands: dict[str, object]


class Issue(msgspec.Struct):
    id: int
    type: int
    display_id: str
    external_project_id: int | None
    external_project_key: str | None
    created_at: str


class IssuePage(Envelope):
    result: list[Issue]
    expands: dict[str, object]


class IssueSingle(msgspec.Struct):
    result: Issue
    expands: dict[str, object]


class Tag(msgspec.Struct):
    id: int
    name: str
    session_count: int


class TagPage(Envelope):
    result: list[Tag]
    expands: dict[str, object]


class TagSingle(msgspec.Struct):
    result: Tag
    expands: dict[str, object]
