"""OpenAPI shapes of debriefs and sheet problems."""

from __future__ import annotations

import msgspec


class Debrief(msgspec.Struct):
    session_id: int
    project_id: int
    status: str | None  # submitted / returned / approved; null: a draft
    past: str | None
    results: str | None
    obstacles: str | None
    outlook: list[str]
    feelings: str | None
    submitted_at: str | None
    submitted_by: int | None
    debriefed_at: str | None
    debriefed_by: int | None
    returned_at: str | None
    returned_by: int | None
    return_comment: str | None
    approved_at: str | None
    approved_by: int | None
    version: int
    warnings: list[str]
    follow_ups: list[int]


class DebriefSingle(msgspec.Struct):
    result: Debrief
    expands: dict[str, list[int]]


class SheetProblem(msgspec.Struct):
    field: str
    message: str
    result_id: int | None


class SheetProblems(msgspec.Struct):
    session_id: int
    problems: list[SheetProblem]


class SheetProblemsSingle(msgspec.Struct):
    result: SheetProblems
    expands: dict[str, list[int]]


class FollowUps(msgspec.Struct):
    result: list[int]  # the new sessions' ids, in the order of the items
