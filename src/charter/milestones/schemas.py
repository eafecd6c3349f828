"""OpenAPI shapes of milestones, their pages and their expands."""

from __future__ import annotations

import msgspec

from charter.http.schemas import (
    STATUS_COUNTS,
    DefaultableExpand,
    Envelope,
    IssueExpand,
    NamedExpand,
    StatusExpand,
    UserExpand,
)

MilestoneStatsExpand = msgspec.defstruct(
    "MilestoneStatsExpand", [("id", int), *STATUS_COUNTS.items()]
)


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
