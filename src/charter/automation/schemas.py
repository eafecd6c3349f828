"""Response shapes of the automation API for the OpenAPI document (handlers build
plain dicts; these Structs describe them)."""

from __future__ import annotations

from typing import Any

import msgspec

from charter.automation.read import RUN_EXPANDS, SOURCE_EXPANDS, TEST_EXPANDS
from charter.http.conventions import FilterSpec, ListSpec
from charter.http.schemas import STATUS_COUNTS, Envelope, NamedExpand, StatusExpand, UserExpand


class Created(msgspec.Struct):
    """The bare answer to a create (no envelope: the testmo CLI reads `id` at the top)."""

    id: int


class Artifact(msgspec.Struct):
    name: str
    note: str | None
    url: str
    mime_type: str | None
    size: int | None


class Field(msgspec.Struct):
    type: int  # 1 string, 2 text, 3 HTML, 4 console, 5 URL
    name: str
    value: str | None
    meta: dict[str, str]


class Link(msgspec.Struct):
    name: str
    note: str | None
    url: str


_STAMPS: list[tuple[str, Any]] = [
    ("created_at", str),
    ("created_by", int | None),
    ("completed_at", str | None),
    ("completed_by", int | None),
]

Thread = msgspec.defstruct(
    "AutomationThread",
    [
        ("id", int),
        ("index", int),
        ("name", str),
        ("status", int),
        ("elapsed", int | None),
        ("is_completed", bool),
        ("artifacts", list[Artifact]),
        ("fields", list[Field]),
        *STATUS_COUNTS.items(),
        *_STAMPS,
    ],
)

_RUN: list[tuple[str, Any]] = [
    ("id", int),
    ("project_id", int),
    ("source_id", int),
    ("name", str),
    ("status", int),  # 2 success, 3 failure, 4 running
    ("config_id", int | None),
    ("milestone_id", int | None),
    ("elapsed", int | None),
    ("is_completed", bool),
    ("artifacts", list[Artifact]),
    ("fields", list[Field]),
    ("links", list[Link]),
    ("tags", list[str]),
    *STATUS_COUNTS.items(),
    ("thread_count", int),
    ("thread_active_count", int),
    ("thread_completed_count", int),
    ("created_at", str),
    ("created_by", int | None),
    ("updated_at", str | None),
    ("updated_by", int | None),
    ("completed_at", str | None),
    ("completed_by", int | None),
]

Run = msgspec.defstruct("AutomationRun", _RUN)
RunWithThreads = msgspec.defstruct(
    "AutomationRunWithThreads",
    [*_RUN, ("threads", list[Thread])],  # type: ignore[valid-type]
)


class RunExpands(msgspec.Struct, omit_defaults=True):
    automation_sources: list[NamedExpand] | None = None
    configs: list[NamedExpand] | None = None
    milestones: list[NamedExpand] | None = None
    statuses: list[StatusExpand] | None = None
    users: list[UserExpand] | None = None


class RunPage(Envelope):
    result: list[Run]  # type: ignore[valid-type]
    expands: RunExpands


class RunSingle(msgspec.Struct):
    result: RunWithThreads  # type: ignore[valid-type]
    expands: RunExpands


class Test(msgspec.Struct):
    id: int
    run_id: int
    thread_id: int
    key: str
    name: str
    folder: str | None
    status_id: int
    elapsed: int | None
    file: str | None
    line: int | None
    assertions: int | None
    artifacts: list[Artifact]
    fields: list[Field]
    created_at: str
    created_by: int | None


class TestExpands(msgspec.Struct, omit_defaults=True):
    statuses: list[StatusExpand] | None = None


class TestPage(Envelope):
    result: list[Test]
    expands: TestExpands


class Source(msgspec.Struct):
    id: int
    project_id: int
    name: str
    status: int  # 1 no completed run yet, 2 the last one passed, 3 it failed
    is_retired: bool
    run_count: int
    test_count_average: int | None
    elapsed_average: int | None
    ran_at: str | None
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None
    retired_at: str | None
    retired_by: int | None


class SourceExpands(msgspec.Struct, omit_defaults=True):
    users: list[UserExpand] | None = None


class SourcePage(Envelope):
    result: list[Source]
    expands: SourceExpands


class SourceSingle(msgspec.Struct):
    result: Source
    expands: SourceExpands


# The lists' parameters (the API routes and the web pages parse with the same specs).
RUNS = ListSpec(
    noun="automation runs",
    sorts={
        "automation_runs:created_at": "created_at",
        "automation_runs:completed_at": "completed_at",
    },
    default_sort="automation_runs:created_at",
    filters=(
        FilterSpec("config_id", "ids", "config_id"),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("created_before", "before", "created_at"),
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("milestone_id", "ids", "milestone_id"),
        FilterSpec("source_id", "ids", "source_id"),
        FilterSpec("status", "ids", "status", "2 success, 3 failure, 4 running (any of)."),
        FilterSpec("tags", "tags", "tags"),
    ),
    expands=RUN_EXPANDS,
)

TESTS = ListSpec(
    noun="tests of an automation run",
    # Tests are created in id order: sorting by id walks the (run_id, id) index.
    sorts={"automation_tests:created_at": "id"},
    default_sort="automation_tests:created_at",
    filters=(
        FilterSpec("thread_id", "ids", "thread_id"),
        FilterSpec("status_id", "ids", "status_id"),
    ),
    expands=TEST_EXPANDS,
    per_page_choices=(100, 250, 500, 1000),
)

SOURCES = ListSpec(
    noun="automation sources",
    sorts={
        "automation_sources:created_at": "created_at",
        "automation_sources:name": "name",
    },
    default_sort="automation_sources:created_at",
    filters=(FilterSpec("is_retired", "bool", "is_retired", "Retired (1) or active (0) only."),),
    expands=SOURCE_EXPANDS,
)
