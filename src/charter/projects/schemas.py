"""OpenAPI shapes of projects, their members and configurations."""

from __future__ import annotations

import msgspec

from charter.http.schemas import Envelope, UsersExpand


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


class ProjectPage(Envelope):
    result: list[Project]
    expands: UsersExpand


class ProjectSingle(msgspec.Struct):
    result: Project
    expands: UsersExpand


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
