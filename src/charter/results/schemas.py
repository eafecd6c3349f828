"""OpenAPI shapes of session results and their pages."""

from __future__ import annotations

import msgspec

from charter.attachments.schemas import Attachment
from charter.http.schemas import Envelope, IssueExpand, StatusExpand, UserExpand


class Result(msgspec.Struct):
    id: int
    session_id: int
    project_id: int
    status_id: int | None
    kind_id: int | None  # the note's kind (null: the project's default, a test note)
    note: str | None
    elapsed: int | None
    issues: list[int]
    attachments: int  # how many attachments the result has
    created_at: str
    created_by: int
    updated_at: str | None
    updated_by: int | None


class KindExpand(msgspec.Struct):
    id: int
    project_id: int
    name: str
    color: str
    position: int
    category: str


class ResultExpands(msgspec.Struct, omit_defaults=True):
    attachments: list[Attachment] | None = None
    issues: list[IssueExpand] | None = None
    kinds: list[KindExpand] | None = None
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
