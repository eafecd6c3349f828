"""msgspec Structs of SBTM: what other packages pass in (SheetData), the metrics of one
session, and the shapes of the API's answers (for the OpenAPI document)."""

from __future__ import annotations

import msgspec

from charter.http.schemas import Envelope


class SheetData(msgspec.Struct, kw_only=True):
    """A session sheet's SBTM data, as the sheet importer and the API write it
    (sbtm/service.set_session_sheet). Every field is written: None clears it."""

    areas: list[str] = []  # full names, `Parent | Child`; unknown ones are created
    tester_ids: list[int] = []  # the first is also the session's assignee
    duration_class: str | None = None  # short / normal / long
    duration_multiplier: float | None = None  # positive, at most 10; None = 1
    pct_test: int | None = None
    pct_bug: int | None = None
    pct_setup: int | None = None
    pct_charter: int | None = None
    pct_opportunity: int | None = None
    data_files: list[str] = []  # names or URLs, one per entry
    sheet_name: str | None = None  # the sheet's file name, unique per project


class SessionMetrics(msgspec.Struct, kw_only=True):
    """One session's metrics (sbtm/metrics.py has the formulas): exact values as the
    nearest floats."""

    session_id: int
    testers: int
    duration: float  # session units
    n_total: float
    n_charter: float
    n_opportunity: float
    n_test: float
    n_bug: float
    n_setup: float
    bugs: int
    issues: int


class Area(msgspec.Struct):
    id: int
    project_id: int
    name: str
    created_at: str
    created_by: int | None


class AreaPage(Envelope):
    result: list[Area]
    expands: dict[str, object]


class AreaSingle(msgspec.Struct):
    result: Area
    expands: dict[str, object]


class AreaImport(msgspec.Struct):
    created: list[Area]
    existing: list[Area]


class AreaImportSingle(msgspec.Struct):
    result: AreaImport
    expands: dict[str, object]


class DurationProposal(msgspec.Struct):
    duration_class: str
    elapsed: int


class SessionSbtm(msgspec.Struct):
    session_id: int
    project_id: int
    areas: list[str]
    area_ids: list[int]
    tester_ids: list[int]
    duration_class: str | None
    duration_multiplier: float | None
    duration: str | None  # the sheet form: "long * 2"
    pct_test: int | None
    pct_bug: int | None
    pct_setup: int | None
    pct_charter: int | None
    pct_opportunity: int | None
    data_files: list[str]
    sheet_name: str | None
    bug_count: int
    issue_count: int
    proposed_duration_class: str | None
    metrics: SessionMetrics


class SessionSbtmSingle(msgspec.Struct):
    result: SessionSbtm
    expands: dict[str, object]


class Timeboxes(msgspec.Struct):
    project_id: int
    short: int
    normal: int
    long: int


class TimeboxesSingle(msgspec.Struct):
    result: Timeboxes
    expands: dict[str, object]


class SessionRow(msgspec.Struct):
    session_id: int
    name: str
    sheet_name: str | None
    start: str | None
    testers: int
    duration: float
    charter: int | None
    opportunity: int | None
    test: int | None
    bug: int | None
    setup: int | None
    n_total: float
    n_charter: float
    n_opportunity: float
    n_test: float
    n_bug: float
    n_setup: float
    bugs: int
    issues: int


class SessionRowPage(Envelope):
    result: list[SessionRow]
    expands: dict[str, object]


class AreaTotals(msgspec.Struct):
    area_id: int
    area: str
    sessions: int
    n_total: float
    n_charter: float
    n_opportunity: float
    n_test: float
    n_bug: float
    n_setup: float
    bugs: int
    issues: int


class AreaTotalsPage(Envelope):
    result: list[AreaTotals]
    expands: dict[str, object]


class TesterTotals(msgspec.Struct):
    user_id: int
    name: str
    sessions: int
    n_total: float
    n_charter: float
    n_opportunity: float
    n_test: float
    n_bug: float
    n_setup: float
    bugs: float
    issues: float


class TesterTotalsPage(Envelope):
    result: list[TesterTotals]
    expands: dict[str, object]


class DayTotals(msgspec.Struct):
    date: str
    sessions: int
    n_total: float
    n_charter: float
    n_opportunity: float
    n_test: float
    n_bug: float
    n_setup: float
    bugs: int
    issues: int


class DayTotalsPage(Envelope):
    result: list[DayTotals]
    expands: dict[str, object]
