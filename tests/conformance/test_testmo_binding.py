"""Conformance: the official Testmo JS binding (@testmo/testmo-api 2.4.0) against Charter.

Every call goes through ``drive.cjs``, which uses the binding's generated API classes,
and reports the model the binding parsed (dates tagged as JS ``Date`` objects) along
with the raw body the server sent. Each test checks that:

- the binding parsed the response without error, into the expected model classes;
- every field the binding knows keeps the value the server sent (``Date`` objects equal
  the server's ISO strings, numbers/booleans/arrays/nulls unchanged);
- the raw body follows the contract (types, envelope, expands, date format);
- a plain httpx fetch of the very URL the binding built gives the same answer;
- filters, sorting and pagination select exactly the sessions the contract says,
  computed in Python from the full list of sessions.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import Driver, LiveServer

pytestmark = pytest.mark.conformance

ALL_EXPANDS = (
    "configs",
    "field_values",
    "issues",
    "milestones",
    "states",
    "statuses",
    "templates",
    "users",
)
PER_PAGES = (15, 25, 50, 100)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
UNKNOWN_ID = 987_654_321

# Binding models whose declared fields must all be present in the server's JSON
# (the contract says every key is always present). Expands containers are checked
# separately: they hold exactly the requested keys.
COMPLETE_MODELS = {
    "Session",
    "SessionPage",
    "SessionRow",
    "Project",
    "ProjectPage",
    "ProjectRow",
    "CurrentUser",
    "ConfigurationExpand",
    "FieldValueExpand",
    "IssueExpand",
    "MilestoneExpand",
    "StateExpand",
    "StatusExpand",
    "TemplateExpand",
    "UserExpand",
}

SESSION_INT = (
    "id",
    "project_id",
    "template_id",
    "state_id",
    "created_by",
    "untested_count",
    *(f"status{n}_count" for n in range(1, 25)),
    "success_count",
    "failure_count",
    "completed_count",
    "total_count",
)
SESSION_NULLABLE_INT = (
    "config_id",
    "milestone_id",
    "assignee_id",
    "estimate",
    "forecast",
    "elapsed",
    "updated_by",
    "closed_by",
)
SESSION_BOOL = ("is_started", "is_closed")
SESSION_DATE = ("created_at",)
SESSION_NULLABLE_DATE = ("started_at", "updated_at", "closed_at")

PROJECT_COUNTS = (
    "milestone_count",
    "milestone_active_count",
    "milestone_completed_count",
    "run_count",
    "run_active_count",
    "run_closed_count",
    "session_count",
    "session_active_count",
    "session_closed_count",
    "automation_source_count",
    "automation_source_active_count",
    "automation_source_retired_count",
    "automation_run_count",
    "automation_run_active_count",
    "automation_run_completed_count",
)

EXPAND_SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "configs": ("ConfigurationExpand", ("id", "name")),
    "field_values": ("FieldValueExpand", ("id", "name", "icon", "color")),
    "issues": (
        "IssueExpand",
        ("id", "type", "display_id", "external_project_id", "external_project_key"),
    ),
    "milestones": ("MilestoneExpand", ("id", "name")),
    "states": ("StateExpand", ("id", "name", "is_default")),
    "statuses": (
        "StatusExpand",
        (
            "id",
            "name",
            "system_name",
            "color",
            "is_final",
            "is_untested",
            "is_passed",
            "is_failed",
            "aliases",
        ),
    ),
    "templates": ("TemplateExpand", ("id", "name", "is_default")),
    "users": ("UserExpand", ("id", "name")),
}


# --------------------------------------------------------------------------- helpers


def parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed.astimezone(UTC)


def js_iso(value: datetime) -> str:
    """What JS ``Date.prototype.toJSON`` gives for this instant (millisecond precision)."""
    value = value.astimezone(UTC)
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def js_date(value: datetime) -> dict[str, str]:
    """An argument the driver turns into a JS ``Date``."""
    return {"$date": js_iso(value)}


def ms_floor(value: datetime) -> datetime:
    """The instant a JS ``Date`` built from ``value`` stands for."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def call(api: str, method: str, *args: Any, token: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"api": api, "method": method, "args": list(args)}
    if token is not None:
        entry["token"] = token
    return entry


def session_page(project_id: int, **opts: Any) -> dict[str, Any]:
    return call("SessionsApi", "getSessionPage", project_id, opts)


def compare(parsed: Any, raw: Any, where: str, problems: list[str]) -> None:
    """Check that what the binding parsed equals what the server sent."""
    if isinstance(parsed, dict) and "$date" in parsed:
        if not isinstance(raw, str):
            problems.append(f"{where}: binding built a Date, server sent {raw!r}")
            return
        if not DATE_RE.match(raw):
            problems.append(f"{where}: {raw!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
        if parsed["$date"] is None:
            problems.append(f"{where}: the binding parsed {raw!r} into an invalid Date")
            return
        try:
            expected = js_iso(parse_ts(raw))
        except ValueError:
            problems.append(f"{where}: unparseable date {raw!r}")
            return
        if parsed["$date"] != expected:
            problems.append(f"{where}: Date {parsed['$date']} != server {raw!r}")
        return
    if isinstance(parsed, dict) and ("$nonfinite" in parsed or "$undefined" in parsed):
        problems.append(f"{where}: binding produced {parsed} from server value {raw!r}")
        return
    if isinstance(parsed, dict) and "$class" in parsed:
        cls = parsed["$class"]
        if not isinstance(raw, dict):
            problems.append(f"{where}: binding built {cls}, server sent {type(raw).__name__}")
            return
        fields = parsed.get("$fields")
        if fields is None:
            problems.append(f"{where}: binding returned a non-model object ({cls})")
            return
        own = {k for k in parsed if not k.startswith("$")}
        present = {f for f in fields if f in raw}
        if own != present:
            problems.append(f"{where}: parsed keys {sorted(own)} != server keys {sorted(present)}")
        if cls in COMPLETE_MODELS:
            missing = [f for f in fields if f not in raw]
            if missing:
                problems.append(f"{where} ({cls}): server omitted {missing}")
        for key in sorted(own & present):
            compare(parsed[key], raw[key], f"{where}.{key}", problems)
        return
    if isinstance(parsed, list):
        if not isinstance(raw, list):
            problems.append(f"{where}: binding built an array, server sent {raw!r}")
            return
        if len(parsed) != len(raw):
            problems.append(f"{where}: {len(parsed)} parsed items != {len(raw)} sent")
            return
        for index, (item, raw_item) in enumerate(zip(parsed, raw, strict=True)):
            compare(item, raw_item, f"{where}[{index}]", problems)
        return
    if parsed is None:
        if raw is not None:
            problems.append(f"{where}: parsed null, server sent {raw!r}")
        return
    if isinstance(parsed, bool):
        if not isinstance(raw, bool) or raw != parsed:
            problems.append(f"{where}: parsed {parsed!r}, server sent {raw!r}")
        return
    if isinstance(parsed, int | float):
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != parsed:
            problems.append(f"{where}: parsed {parsed!r}, server sent {raw!r}")
        return
    if isinstance(parsed, str):
        if not isinstance(raw, str) or raw != parsed:
            problems.append(f"{where}: parsed {parsed!r}, server sent {raw!r}")
        return
    problems.append(f"{where}: unexpected parsed value {parsed!r}")


def report(problems: list[str], what: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        pytest.fail(f"{what}:\n  {shown}{more}")


def query_of(result: dict[str, Any]) -> dict[str, str]:
    query = parse_qs(urlsplit(result["path"]).query, keep_blank_values=True)
    return {key: values[-1] for key, values in query.items()}


class Checker:
    """Runs calls through the binding and checks each answer against the raw body."""

    def __init__(self, driver: Driver, server: LiveServer) -> None:
        self.driver = driver
        self.server = server

    def run(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = self.driver.run(calls)
        with self.server.client() as client:
            for entry, result in zip(calls, results, strict=True):
                if result.get("status") is None:
                    pytest.fail(
                        f"binding failed on {entry}: {result.get('error')}\n{result.get('stack')}"
                    )
                token = entry.get("token")
                headers = {"Authorization": f"Bearer {token}"} if token else None
                again = client.get(result["path"], headers=headers)
                assert again.status_code == result["status"], (result["path"], again.text)
                if result["ok"]:
                    assert again.json() == json.loads(result["text"]), result["path"]
        return results

    def ok(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run calls that must succeed; return [(raw body, tagged parsed model)]."""
        results = self.run(calls)
        problems: list[str] = []
        for entry, result in zip(calls, results, strict=True):
            label = f"{entry['method']}{entry['args']} -> {result.get('path')}"
            if not result["ok"]:
                problems.append(f"{label}: HTTP {result['status']} {result.get('text')}")
                continue
            if result["status"] != 200:
                problems.append(f"{label}: status {result['status']}, expected 200")
            if not (result["content_type"] or "").startswith("application/json"):
                problems.append(f"{label}: content-type {result['content_type']!r}")
            if result["validation"] is not None:
                problems.append(f"{label}: binding validateJSON: {result['validation']}")
            result["raw"] = json.loads(result["text"])
            compare(result["data"], result["raw"], label, problems)
        report(problems, "binding answers differ from what the server sent")
        return results


# -------------------------------------------------------------- contract shape checks


def check_date(value: Any, where: str, problems: list[str], nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not DATE_RE.match(value):
        problems.append(f"{where}: {value!r} is not a UTC date-time with microseconds and Z")


def check_session(row: Any, where: str, problems: list[str]) -> None:
    if not isinstance(row, dict):
        problems.append(f"{where}: session is {type(row).__name__}")
        return
    for key in SESSION_INT:
        if not is_int(row.get(key)):
            problems.append(f"{where}.{key}: {row.get(key)!r} is not an integer")
    for key in SESSION_NULLABLE_INT:
        if key not in row or not (row[key] is None or is_int(row[key])):
            problems.append(f"{where}.{key}: {row.get(key, '<missing>')!r} not integer/null")
    for key in SESSION_BOOL:
        if not isinstance(row.get(key), bool):
            problems.append(f"{where}.{key}: {row.get(key)!r} is not a boolean")
    for key in SESSION_DATE:
        check_date(row.get(key), f"{where}.{key}", problems)
    for key in SESSION_NULLABLE_DATE:
        if key not in row:
            problems.append(f"{where}.{key}: missing")
        check_date(row.get(key), f"{where}.{key}", problems, nullable=True)
    if not isinstance(row.get("name"), str):
        problems.append(f"{where}.name: {row.get('name')!r} is not a string")
    issues, tags = row.get("issues"), row.get("tags")
    if not isinstance(issues, list) or not all(is_int(i) for i in issues):
        problems.append(f"{where}.issues: {issues!r} is not an array of integers")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(f"{where}.tags: {tags!r} is not an array of strings")
    if all(is_int(row.get(k)) for k in SESSION_INT):
        slots = row["untested_count"] + sum(row[f"status{n}_count"] for n in range(1, 25))
        if slots > row["total_count"]:
            problems.append(f"{where}: status slots sum {slots} > total_count")
        for key in ("success_count", "failure_count", "completed_count"):
            if row[key] > row["total_count"]:
                problems.append(f"{where}: {key} > total_count")
    if row.get("is_closed") is True and row.get("closed_at") is None:
        problems.append(f"{where}: closed session without closed_at")
    if row.get("is_closed") is False and row.get("closed_at") is not None:
        problems.append(f"{where}: open session with closed_at {row['closed_at']!r}")


def check_project(row: Any, where: str, problems: list[str]) -> None:
    if not isinstance(row, dict):
        problems.append(f"{where}: project is {type(row).__name__}")
        return
    if not is_int(row.get("id")) or not isinstance(row.get("name"), str):
        problems.append(f"{where}: bad id/name {row.get('id')!r}/{row.get('name')!r}")
    if not isinstance(row.get("is_completed"), bool):
        problems.append(f"{where}.is_completed: {row.get('is_completed')!r}")
    for key in PROJECT_COUNTS:
        if not is_int(row.get(key)) or row[key] < 0:
            problems.append(f"{where}.{key}: {row.get(key, '<missing>')!r}")
    check_date(row.get("created_at"), f"{where}.created_at", problems)
    check_date(row.get("updated_at"), f"{where}.updated_at", problems, nullable=True)
    check_date(row.get("completed_at"), f"{where}.completed_at", problems, nullable=True)
    if not is_int(row.get("created_by")):
        problems.append(f"{where}.created_by: {row.get('created_by')!r}")
    if not (row.get("updated_by") is None or is_int(row.get("updated_by"))):
        problems.append(f"{where}.updated_by: {row.get('updated_by')!r}")
    if all(is_int(row.get(k)) for k in PROJECT_COUNTS):
        for total, parts in (
            ("session_count", ("session_active_count", "session_closed_count")),
            ("milestone_count", ("milestone_active_count", "milestone_completed_count")),
            ("run_count", ("run_active_count", "run_closed_count")),
        ):
            if row[total] != sum(row[p] for p in parts):
                problems.append(f"{where}: {total} != {' + '.join(parts)}")


def check_envelope(
    raw: dict[str, Any],
    where: str,
    problems: list[str],
    *,
    page: int | None,
    per_page: int,
    total: int,
    ids: list[int] | None = None,
) -> None:
    """Check a list envelope against the contract for a known total and request."""
    last = math.ceil(total / per_page) if total else None
    expected: dict[str, int | None]
    if total == 0:
        expected = {"page": None, "prev_page": None, "next_page": None, "last_page": None}
    else:
        assert page is not None and last is not None
        expected = {
            "page": page,
            "prev_page": page - 1 if 1 < page <= last else (last if page > last else None),
            "next_page": page + 1 if page < last else None,
            "last_page": last,
        }
    expected |= {"per_page": per_page, "total": total}
    for key, value in expected.items():
        if key not in raw:
            problems.append(f"{where}: envelope key {key!r} missing")
        elif raw[key] != value or isinstance(raw[key], bool):
            problems.append(f"{where}: {key} = {raw[key]!r}, expected {value!r}")
    if not isinstance(raw.get("result"), list):
        problems.append(f"{where}: result is not an array")
    elif ids is not None:
        got = [row.get("id") for row in raw["result"]]
        if got != ids:
            problems.append(f"{where}: ids {got} != expected {ids}")
    if not isinstance(raw.get("expands"), dict):
        problems.append(f"{where}: expands is {raw.get('expands')!r}, expected an object")


def referenced(rows: list[dict[str, Any]], name: str) -> set[int]:
    keys = {
        "users": ("created_by", "updated_by", "closed_by", "assignee_id"),
        "configs": ("config_id",),
        "milestones": ("milestone_id",),
        "templates": ("template_id",),
        "states": ("state_id",),
    }[name]
    return {row[key] for row in rows for key in keys if row.get(key) is not None}


def custom_ids(rows: list[dict[str, Any]]) -> set[int]:
    """Integers found in the custom_* keys of rows (candidate field-value ids)."""
    found: set[int] = set()
    for row in rows:
        for key, value in row.items():
            if not key.startswith("custom_"):
                continue
            if is_int(value):
                found.add(value)
            elif isinstance(value, list):
                found.update(v for v in value if is_int(v))
    return found


def check_session_expands(
    raw: dict[str, Any],
    parsed: dict[str, Any],
    rows: list[dict[str, Any]],
    requested: Iterable[str],
    where: str,
    problems: list[str],
) -> None:
    requested = set(requested)
    expands = raw.get("expands")
    if not isinstance(expands, dict):
        problems.append(f"{where}: expands is {expands!r}")
        return
    if set(expands) != requested:
        problems.append(f"{where}: expands keys {sorted(expands)} != requested {sorted(requested)}")
    if parsed.get("$class") != "SessionExpands":
        problems.append(f"{where}: binding parsed expands as {parsed.get('$class')}")
    for name in sorted(requested & set(expands)):
        items = expands[name]
        cls, shape = EXPAND_SHAPES[name]
        label = f"{where}.expands.{name}"
        if not isinstance(items, list):
            problems.append(f"{label}: {items!r} is not an array")
            continue
        parsed_items = parsed.get(name) or []
        if any(item.get("$class") != cls for item in parsed_items):
            problems.append(f"{label}: binding did not build {cls} items")
        ids: list[Any] = [item.get("id") for item in items if isinstance(item, dict)]
        if len(ids) != len(items) or not all(is_int(i) for i in ids):
            problems.append(f"{label}: items without integer ids: {items!r}")
            continue
        if ids != sorted(set(ids)):
            problems.append(f"{label}: ids {ids} not distinct and ordered by id")
        for item in items:
            missing = [key for key in shape if key not in item]
            if missing:
                problems.append(f"{label}: item {item.get('id')} lacks {missing}")
        if name in ("users", "configs", "milestones", "templates", "states"):
            want = referenced(rows, name)
            if set(ids) != want:
                problems.append(f"{label}: ids {sorted(ids)} != referenced {sorted(want)}")
        elif name == "issues":
            want = {i for row in rows for i in row.get("issues") or []}
            if set(ids) != want:
                problems.append(f"{label}: ids {sorted(ids)} != referenced {sorted(want)}")
            for item in items:
                if item.get("type") not in (1, 2, 3, 4):
                    problems.append(f"{label}: issue {item.get('id')} type {item.get('type')!r}")
                if not isinstance(item.get("display_id"), str):
                    problems.append(f"{label}: issue {item.get('id')} display_id not a string")
        elif name == "field_values":
            stray = set(ids) - custom_ids(rows)
            if stray:
                problems.append(f"{label}: values {sorted(stray)} not used by any custom_* key")
            # Multi-select values (arrays of ids) are unambiguous: all must be expanded.
            multi = {
                v
                for row in rows
                for key, value in row.items()
                if key.startswith("custom_") and isinstance(value, list)
                for v in value
            }
            if multi - set(ids):
                problems.append(f"{label}: multi-select ids {sorted(multi - set(ids))} missing")
        elif name == "statuses":
            check_statuses(items, label, problems)


def check_statuses(items: list[dict[str, Any]], label: str, problems: list[str]) -> None:
    by_id = {item["id"]: item for item in items}
    if 1 not in by_id or by_id[1].get("is_untested") is not True:
        problems.append(f"{label}: no status 1 with is_untested true")
    for item in items:
        if not 1 <= item["id"] <= 25:
            problems.append(f"{label}: status id {item['id']} outside 1..25")
        if not isinstance(item.get("color"), str) or not COLOR_RE.match(item["color"]):
            problems.append(f"{label}: status {item['id']} color {item.get('color')!r}")
        for flag in ("is_final", "is_untested", "is_passed", "is_failed"):
            if not isinstance(item.get(flag), bool):
                problems.append(f"{label}: status {item['id']} {flag} {item.get(flag)!r}")
        aliases = item.get("aliases")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            problems.append(f"{label}: status {item['id']} aliases {aliases!r}")
        for key in ("name", "system_name"):
            if not isinstance(item.get(key), str):
                problems.append(f"{label}: status {item['id']} {key} {item.get(key)!r}")


# ------------------------------------------------------------ sorting ground truth


def sort_sessions(
    rows: list[dict[str, Any]], column: str = "created_at", order: str = "desc"
) -> list[dict[str, Any]]:
    """The contract's order: nulls lowest, ties broken by id in the same direction."""

    def key(row: dict[str, Any]) -> tuple[bool, datetime, int]:
        value = row[column]
        stamp = parse_ts(value) if value is not None else datetime.min.replace(tzinfo=UTC)
        return (value is not None, stamp, row["id"])

    return sorted(rows, key=key, reverse=order == "desc")


def ids_of(rows: Iterable[dict[str, Any]]) -> list[int]:
    return [row["id"] for row in rows]


# -------------------------------------------------------------------------- fixtures


class Dataset:
    def __init__(self, projects: list[dict[str, Any]], sessions: dict[int, list[dict[str, Any]]]):
        self.projects = projects
        self.sessions = sessions
        # The project with the most sessions drives the session tests.
        self.project_id = max(sessions, key=lambda pid: (len(sessions[pid]), -pid))
        self.rows = sessions[self.project_id]


@pytest.fixture(scope="module")
def checker(driver: Driver, live_server: LiveServer) -> Checker:
    return Checker(driver, live_server)


@pytest.fixture(scope="module")
def dataset(live_server: LiveServer) -> Dataset:
    """All projects and all their sessions, fetched raw (default sort), for ground truth."""
    with live_server.client() as client:
        response = client.get("/api/v1/projects", params={"per_page": 100})
        assert response.status_code == 200, response.text
        projects = response.json()["result"]
        assert len(projects) >= 2, "the demo dataset has at least two projects"
        sessions: dict[int, list[dict[str, Any]]] = {}
        for project in projects:
            rows: list[dict[str, Any]] = []
            page: int | None = 1
            while page is not None:
                response = client.get(
                    f"/api/v1/projects/{project['id']}/sessions",
                    params={"per_page": 100, "page": page},
                )
                assert response.status_code == 200, response.text
                body = response.json()
                rows.extend(body["result"])
                page = body["next_page"]
                assert page is None or page <= 100, "runaway pagination"
            sessions[project["id"]] = rows
    data = Dataset(projects, sessions)
    assert len(data.rows) >= 20, "the demo dataset should give a project enough sessions"
    problems: list[str] = []
    for pid, rows in sessions.items():
        for row in rows:
            check_session(row, f"session {row.get('id')}", problems)
        if ids_of(rows) != ids_of(sort_sessions(rows)):
            problems.append(f"project {pid}: default order is not created_at desc, id desc")
        if len(set(ids_of(rows))) != len(rows):
            problems.append(f"project {pid}: pages overlap")
        if any(row["project_id"] != pid for row in rows):
            problems.append(f"project {pid}: session of another project listed")
    # One custom_<system_name> key per custom field of the template: same keys per template.
    custom_keys: dict[int, set[tuple[str, ...]]] = {}
    for rows in sessions.values():
        for row in rows:
            keys = tuple(sorted(k for k in row if k.startswith("custom_")))
            custom_keys.setdefault(row["template_id"], set()).add(keys)
    for template_id, variants in sorted(custom_keys.items()):
        if len(variants) != 1:
            problems.append(f"template {template_id}: sessions differ in custom keys {variants}")
    if not any(keys for variants in custom_keys.values() for keys in variants):
        problems.append("no session carries a custom_* key, but the demo templates have fields")
    report(problems, "sessions listed by the server break the contract")
    return data


# ----------------------------------------------------------------------------- tests


def test_current_user(checker: Checker, live_server: LiveServer) -> None:
    (result,) = checker.ok([call("UserApi", "getCurrentUser")])
    assert result["path"] == "/api/v1/user"
    assert result["data"]["$class"] == "CurrentUser"
    raw = result["raw"]
    assert is_int(raw["id"]) and isinstance(raw["name"], str) and raw["name"]
    for key in ("timezone", "date_format", "time_format"):
        assert raw[key] is None or isinstance(raw[key], str), (key, raw[key])
    assert "result" not in raw, "GET /api/v1/user returns the bare user object"


def test_projects(checker: Checker, dataset: Dataset) -> None:
    calls = [
        call("ProjectsApi", "getProjectPage", {}),
        call("ProjectsApi", "getProjectPage"),
        call("ProjectsApi", "getProjectPage", {"page": 1, "perPage": 15, "expands": "users"}),
        call("ProjectsApi", "getProjectPage", {"isCompleted": False, "perPage": 100}),
        call("ProjectsApi", "getProjectPage", {"isCompleted": True, "perPage": 100}),
        call("ProjectsApi", "getProjectPage", {"page": 2, "perPage": 100}),
    ]
    for project in dataset.projects:
        calls.append(call("ProjectsApi", "getProject", project["id"], {}))
        calls.append(call("ProjectsApi", "getProject", project["id"], {"expands": "users"}))
    results = checker.ok(calls)
    default, no_opts, paged, active, completed, past_end = results[:6]
    singles = results[6:]
    problems: list[str] = []
    all_ids = sorted(p["id"] for p in dataset.projects)
    total = len(all_ids)

    for label, result in (("default", default), ("no opts", no_opts)):
        assert result["data"]["$class"] == "ProjectPage"
        check_envelope(result["raw"], label, problems, page=1, per_page=100, total=total)
        if result["raw"]["expands"] != {}:
            problems.append(f"{label}: expands {result['raw']['expands']!r}, expected {{}}")
    assert query_of(paged) == {"page": "1", "per_page": "15", "expands": "users"}
    check_envelope(paged["raw"], "per_page=15", problems, page=1, per_page=15, total=total)
    check_envelope(past_end["raw"], "page 2", problems, page=2, per_page=100, total=total)
    if past_end["raw"]["result"] != []:
        problems.append("page past the last one must have an empty result")
    if sorted(p["id"] for p in default["raw"]["result"]) != all_ids:
        problems.append("project list differs from the raw project list")

    assert query_of(active)["is_completed"] == "false"
    assert query_of(completed)["is_completed"] == "true"
    for flag, result in ((False, active), (True, completed)):
        rows = result["raw"]["result"]
        parsed_rows = result["data"]["result"]
        if any(p["is_completed"] is not flag for p in parsed_rows):
            problems.append(f"isCompleted={flag}: row with another is_completed")
        want = sorted(p["id"] for p in dataset.projects if p["is_completed"] is flag)
        if sorted(ids_of(rows)) != want:
            problems.append(f"isCompleted={flag}: ids {sorted(ids_of(rows))} != {want}")

    users = paged["raw"]["expands"].get("users")
    if not isinstance(users, list):
        problems.append(f"projects expands=users: {paged['raw']['expands']!r}")
    else:
        want_users = {
            p[k] for p in paged["raw"]["result"] for k in ("created_by", "updated_by") if p[k]
        }
        got_users = [u["id"] for u in users]
        if got_users != sorted(want_users):
            problems.append(f"projects expands users {got_users} != referenced {want_users}")

    for project, plain, expanded in zip(dataset.projects, singles[::2], singles[1::2], strict=True):
        label = f"project {project['id']}"
        assert plain["data"]["$class"] == "ProjectRow"
        assert plain["data"]["result"]["$class"] == "Project"
        assert plain["path"] == f"/api/v1/projects/{project['id']}"
        check_project(plain["raw"]["result"], label, problems)
        if plain["raw"]["expands"] != {}:
            problems.append(f"{label}: expands {plain['raw']['expands']!r}, expected {{}}")
        for key in plain["data"]["result"]["$fields"]:
            if plain["raw"]["result"].get(key, "<missing>") != project.get(key, "<missing>"):
                problems.append(f"{label}.{key}: single object differs from the list row")
        exp_users = expanded["raw"]["expands"].get("users")
        want = sorted({project[k] for k in ("created_by", "updated_by") if project[k]})
        if not isinstance(exp_users, list) or [u["id"] for u in exp_users] != want:
            problems.append(f"{label}: expands users {exp_users!r}, expected ids {want}")
        rows = dataset.sessions[project["id"]]
        closed = sum(1 for row in rows if row["is_closed"])
        counts = {
            "session_count": len(rows),
            "session_closed_count": closed,
            "session_active_count": len(rows) - closed,
        }
        for key, value in counts.items():
            if project[key] != value:
                problems.append(f"{label}: {key} = {project[key]!r}, sessions say {value}")
    report(problems, "project answers break the contract")


@pytest.mark.parametrize("per_page", PER_PAGES)
def test_session_pages(checker: Checker, dataset: Dataset, per_page: int) -> None:
    pid, rows = dataset.project_id, dataset.rows
    last = math.ceil(len(rows) / per_page)
    calls = [session_page(pid, page=page, perPage=per_page) for page in range(1, last + 2)]
    results = checker.ok(calls)
    problems: list[str] = []
    for page, result in enumerate(results, start=1):
        assert result["data"]["$class"] == "SessionPage"
        assert query_of(result) == {"page": str(page), "per_page": str(per_page)}
        want = ids_of(rows[(page - 1) * per_page : page * per_page])
        label = f"page {page} per_page {per_page}"
        check_envelope(
            result["raw"], label, problems, page=page, per_page=per_page, total=len(rows), ids=want
        )
        if result["raw"]["expands"] != {}:
            problems.append(f"{label}: expands {result['raw']['expands']!r}, expected {{}}")
        for index, row in enumerate(result["data"]["result"]):
            if row["$class"] != "Session":
                problems.append(f"{label}: result[{index}] parsed as {row['$class']}")
    report(problems, "session pages break the contract")


def test_session_page_defaults(checker: Checker, dataset: Dataset) -> None:
    pid, rows = dataset.project_id, dataset.rows
    results = checker.ok(
        [
            call("SessionsApi", "getSessionPage", pid),
            session_page(pid),
            session_page(pid, order="desc"),
            session_page(pid, sort="sessions:created_at"),
        ]
    )
    assert query_of(results[0]) == {}
    problems: list[str] = []
    want = ids_of(rows[:100])
    for index, result in enumerate(results):
        check_envelope(
            result["raw"],
            f"call {index}",
            problems,
            page=1,
            per_page=100,
            total=len(rows),
            ids=want,
        )
    report(problems, "default session listing breaks the contract")


@pytest.mark.parametrize("column", ["created_at", "closed_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_session_sort(checker: Checker, dataset: Dataset, column: str, order: str) -> None:
    pid, rows = dataset.project_id, dataset.rows
    per_page = 15
    last = math.ceil(len(rows) / per_page)
    sort = f"sessions:{column}"
    calls = [
        session_page(pid, page=page, perPage=per_page, sort=sort, order=order)
        for page in range(1, last + 1)
    ]
    results = checker.ok(calls)
    assert query_of(results[0]) == {
        "page": "1",
        "per_page": "15",
        "sort": sort,
        "order": order,
    }
    got = [row["id"] for result in results for row in result["data"]["result"]]
    want = ids_of(sort_sessions(rows, column, order))
    assert got == want, f"sort={sort} order={order}: order differs from the contract"
    # The parsed Dates keep the order too (nulls lowest).
    stamps = [
        row[column]["$date"] if row[column] is not None else None
        for result in results
        for row in result["data"]["result"]
    ]
    present = [s for s in stamps if s is not None]
    assert present == sorted(present, reverse=order == "desc")
    nulls = [s is None for s in stamps]
    assert nulls == sorted(nulls, reverse=order == "asc"), "null dates must sort lowest"


def test_session_expands_all(checker: Checker, dataset: Dataset) -> None:
    pid, rows = dataset.project_id, dataset.rows
    calls = [
        session_page(pid, expands=",".join(ALL_EXPANDS)),
        session_page(pid, expands=",".join(ALL_EXPANDS), perPage=15, page=2),
        session_page(pid, expands=",".join(reversed(ALL_EXPANDS)), perPage=25),
    ]
    calls += [session_page(pid, expands=name, perPage=25) for name in ALL_EXPANDS]
    results = checker.ok(calls)
    assert query_of(results[0])["expands"] == ",".join(ALL_EXPANDS)
    problems: list[str] = []
    for entry, result in zip(calls, results, strict=True):
        opts = entry["args"][1]
        requested = opts["expands"].split(",")
        label = f"expands={opts['expands']} page={opts.get('page', 1)}"
        check_session_expands(
            result["raw"],
            result["data"]["expands"],
            result["raw"]["result"],
            requested,
            label,
            problems,
        )
        per_page = opts.get("perPage", 100)
        page = opts.get("page", 1)
        want = ids_of(rows[(page - 1) * per_page : page * per_page])
        check_envelope(
            result["raw"], label, problems, page=page, per_page=per_page, total=len(rows), ids=want
        )
    full = results[0]["raw"]["expands"]
    # The demo data references every kind of object, so no expand may be empty.
    for name in ALL_EXPANDS:
        if not full.get(name):
            problems.append(f"expands {name} is empty over {len(rows)} demo sessions")
    # Each single-name request gives the same objects as the combined one (same page).
    combined = results[2]["raw"]["expands"]
    for name, result in zip(ALL_EXPANDS, results[3:], strict=True):
        if result["raw"]["expands"].get(name) != combined.get(name):
            problems.append(f"expands={name} differs from the same key in the combined request")
    report(problems, "session expands break the contract")


def _pick_sessions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A varied sample: open, closed, started, with/without nullable fields, issues, tags."""
    picks: dict[int, dict[str, Any]] = {}
    predicates: list[Callable[[dict[str, Any]], bool]] = [
        lambda r: r["is_closed"],
        lambda r: not r["is_closed"],
        lambda r: r["is_started"] and not r["is_closed"],
        lambda r: not r["is_started"],
        lambda r: r["assignee_id"] is None,
        lambda r: r["config_id"] is None,
        lambda r: r["milestone_id"] is not None,
        lambda r: bool(r["issues"]),
        lambda r: bool(r["tags"]),
        lambda r: r["total_count"] > 0,
        lambda r: r["updated_at"] is not None,
        lambda r: any(k.startswith("custom_") and v is not None for k, v in r.items()),
    ]
    for predicate in predicates:
        for row in rows:
            if predicate(row):
                picks.setdefault(row["id"], row)
                break
    picks.setdefault(rows[0]["id"], rows[0])
    picks.setdefault(rows[-1]["id"], rows[-1])
    return list(picks.values())


def test_get_session(checker: Checker, dataset: Dataset) -> None:
    sample = _pick_sessions(dataset.rows)
    calls: list[dict[str, Any]] = []
    for row in sample:
        calls.append(call("SessionsApi", "getSession", row["id"]))
        calls.append(
            call("SessionsApi", "getSession", row["id"], {"expands": ",".join(ALL_EXPANDS)})
        )
        calls.append(call("SessionsApi", "getSession", row["id"], {"expands": "users,statuses"}))
    calls.append(session_page(dataset.project_id, expands="statuses", perPage=15))
    results = checker.ok(calls)
    all_statuses = results[-1]["raw"]["expands"]["statuses"]
    problems: list[str] = []
    for index, row in enumerate(sample):
        plain, full, some = results[3 * index : 3 * index + 3]
        label = f"session {row['id']}"
        assert plain["path"] == f"/api/v1/sessions/{row['id']}"
        assert plain["data"]["$class"] == "SessionRow"
        assert plain["data"]["result"]["$class"] == "Session"
        single = plain["raw"]["result"]
        check_session(single, label, problems)
        if plain["raw"].get("expands") != {}:
            problems.append(f"{label}: expands {plain['raw'].get('expands')!r}, expected {{}}")
        for key in plain["data"]["result"]["$fields"]:
            if single.get(key, "<missing>") != row[key]:
                problems.append(f"{label}.{key}: single {single.get(key)!r} != list {row[key]!r}")
        for key in row:
            if key.startswith("custom_") and single.get(key, "<missing>") != row[key]:
                problems.append(f"{label}.{key}: single {single.get(key)!r} != list {row[key]!r}")
        check_session_expands(
            full["raw"], full["data"]["expands"], [single], ALL_EXPANDS, label, problems
        )
        check_session_expands(
            some["raw"], some["data"]["expands"], [single], ("users", "statuses"), label, problems
        )
        for result in (full, some):
            if result["raw"]["expands"].get("statuses") != all_statuses:
                problems.append(f"{label}: statuses expand is not all active statuses")
    report(problems, "single sessions break the contract")


def _common_values(rows: list[dict[str, Any]], key: str) -> list[Any]:
    """Values of key, most frequent first (list fields contribute each item)."""
    counter: Counter[Any] = Counter()
    for row in rows:
        value = row[key]
        if isinstance(value, list):
            counter.update(set(value))
        elif value is not None:
            counter[value] += 1
    # Prefer values that do not cover every row, so that the filter filters.
    ranked = sorted(counter, key=lambda v: (counter[v] == len(rows), -counter[v], str(v)))
    return ranked


# Binding option -> query parameter, which is also the Session field it filters on.
ID_FILTERS = {
    "assigneeId": "assignee_id",
    "configId": "config_id",
    "createdBy": "created_by",
    "milestoneId": "milestone_id",
    "stateId": "state_id",
    "templateId": "template_id",
}


def _run_filter(
    checker: Checker,
    dataset: Dataset,
    opts: dict[str, Any],
    predicate: Callable[[dict[str, Any]], bool],
    query: dict[str, str],
    label: str,
) -> list[dict[str, Any]]:
    """Run a filtered listing through the binding; check it selects exactly the right rows."""
    pid, rows = dataset.project_id, dataset.rows
    want = [row for row in rows if predicate(row)]
    last = max(1, math.ceil(len(want) / 100))
    calls = [session_page(pid, perPage=100, page=page, **opts) for page in range(1, last + 1)]
    results = checker.ok(calls)
    sent = query_of(results[0])
    for key, value in query.items():
        assert sent.get(key) == value, f"{label}: binding sent {key}={sent.get(key)!r}"
    problems: list[str] = []
    for page, result in enumerate(results, start=1):
        check_envelope(
            result["raw"],
            f"{label} page {page}",
            problems,
            page=page if want else None,
            per_page=100,
            total=len(want),
            ids=ids_of(want[(page - 1) * 100 : page * 100]),
        )
        for row in result["raw"]["result"]:
            if not predicate(row):
                problems.append(f"{label}: session {row['id']} does not match the filter")
    report(problems, f"filter {label} breaks the contract")
    return [row for result in results for row in result["data"]["result"]]


@pytest.mark.parametrize("option", sorted(ID_FILTERS))
def test_session_id_filters(checker: Checker, dataset: Dataset, option: str) -> None:
    param = key = ID_FILTERS[option]
    values = _common_values(dataset.rows, key)
    assert values, f"the demo data has no session with {key} set"
    one = values[0]
    parsed = _run_filter(
        checker,
        dataset,
        {option: str(one)},
        lambda row: row[key] == one,
        {param: str(one)},
        f"{option}={one}",
    )
    assert parsed, f"{option}={one} returned nothing"
    assert all(row[key] == one for row in parsed), "the parsed sessions break the filter"
    if len(values) >= 2:
        pair = sorted(values[:2])
        text = ",".join(str(v) for v in pair)
        parsed = _run_filter(
            checker,
            dataset,
            {option: text},
            lambda row: row[key] in pair,
            {param: text},
            f"{option}={text}",
        )
        assert {row[key] for row in parsed} == set(pair), "OR of two ids"
    # Combined with another filter: AND.
    parsed = _run_filter(
        checker,
        dataset,
        {option: str(one), "isClosed": False},
        lambda row: row[key] == one and not row["is_closed"],
        {param: str(one), "is_closed": "false"},
        f"{option}={one}&isClosed=false",
    )
    assert all(row[key] == one and row["is_closed"] is False for row in parsed)


def test_session_tags_filter(checker: Checker, dataset: Dataset) -> None:
    tags = _common_values(dataset.rows, "tags")
    assert tags, "the demo data has no tagged session"
    one = tags[0]
    parsed = _run_filter(
        checker,
        dataset,
        {"tags": one},
        lambda row: one in row["tags"],
        {"tags": one},
        f"tags={one}",
    )
    assert parsed and all(one in row["tags"] for row in parsed)
    if len(tags) >= 2:
        pair = sorted(tags[:2])
        text = ",".join(pair)
        parsed = _run_filter(
            checker,
            dataset,
            {"tags": text},
            lambda row: bool(set(pair) & set(row["tags"])),
            {"tags": text},
            f"tags={text}",
        )
        assert all(set(pair) & set(row["tags"]) for row in parsed)


@pytest.mark.parametrize("flag", [True, False])
def test_session_is_closed_filter(checker: Checker, dataset: Dataset, flag: bool) -> None:
    assert any(row["is_closed"] is flag for row in dataset.rows), f"no session is_closed={flag}"
    parsed = _run_filter(
        checker,
        dataset,
        {"isClosed": flag},
        lambda row: row["is_closed"] is flag,
        {"is_closed": "true" if flag else "false"},
        f"isClosed={flag}",
    )
    assert parsed and all(row["is_closed"] is flag for row in parsed)
    for row in parsed:
        assert (row["closed_at"] is not None) is flag, row["id"]


def _pivot(rows: list[dict[str, Any]], column: str) -> datetime:
    """A JS-representable instant in the middle of the column's values."""
    stamps = sorted(parse_ts(row[column]) for row in rows if row[column] is not None)
    assert len(stamps) >= 3, f"the demo data needs sessions with {column}"
    return ms_floor(stamps[len(stamps) // 2])


@pytest.mark.parametrize("column", ["created_at", "closed_at"])
def test_session_date_filters(checker: Checker, dataset: Dataset, column: str) -> None:
    prefix = column.removesuffix("_at")
    after_opt, before_opt = f"{prefix}After", f"{prefix}Before"
    pivot = _pivot(dataset.rows, column)
    stamps = sorted(parse_ts(r[column]) for r in dataset.rows if r[column] is not None)
    low = ms_floor(stamps[len(stamps) // 4])

    def stamp(row: dict[str, Any]) -> datetime | None:
        return parse_ts(row[column]) if row[column] is not None else None

    def after(moment: datetime) -> Callable[[dict[str, Any]], bool]:
        return lambda row: (s := stamp(row)) is not None and s > moment

    def before(moment: datetime) -> Callable[[dict[str, Any]], bool]:
        return lambda row: (s := stamp(row)) is not None and s < moment

    parsed = _run_filter(
        checker,
        dataset,
        {after_opt: js_date(pivot)},
        after(pivot),
        {f"{column.removesuffix('_at')}_after": js_iso(pivot)},
        f"{after_opt}={js_iso(pivot)}",
    )
    assert parsed, "no session after the pivot"
    # The parsed Dates (millisecond precision) are never before the pivot.
    assert all(row[column]["$date"] >= js_iso(pivot) for row in parsed)

    parsed = _run_filter(
        checker,
        dataset,
        {before_opt: js_date(pivot)},
        before(pivot),
        {f"{prefix}_before": js_iso(pivot)},
        f"{before_opt}={js_iso(pivot)}",
    )
    assert parsed, "no session before the pivot"
    assert all(row[column]["$date"] < js_iso(pivot) for row in parsed)

    # A window: after AND before.
    _run_filter(
        checker,
        dataset,
        {after_opt: js_date(low), before_opt: js_date(pivot)},
        lambda row: after(low)(row) and before(pivot)(row),
        {f"{prefix}_after": js_iso(low), f"{prefix}_before": js_iso(pivot)},
        f"{after_opt}..{before_opt}",
    )

    # Exactly at a stored instant: strictly after excludes it, strictly before too.
    exact = next(
        (s for s in stamps if s.microsecond % 1000 == 0),
        None,
    )
    if exact is not None:
        _run_filter(
            checker,
            dataset,
            {after_opt: js_date(exact)},
            after(exact),
            {f"{prefix}_after": js_iso(exact)},
            f"{after_opt}=exact",
        )
        _run_filter(
            checker,
            dataset,
            {before_opt: js_date(exact)},
            before(exact),
            {f"{prefix}_before": js_iso(exact)},
            f"{before_opt}=exact",
        )

    # Nothing after the far future: the empty envelope.
    future = datetime.now(UTC) + timedelta(days=3650)
    _run_filter(
        checker,
        dataset,
        {after_opt: js_date(future)},
        lambda row: False,
        {f"{prefix}_after": js_iso(future)},
        f"{after_opt}=future",
    )


def test_session_every_option_at_once(checker: Checker, dataset: Dataset) -> None:
    """All getSessionPage options in one call: each filter ANDed, with sort and expands."""
    rows = dataset.rows
    target = next(
        (
            r
            for r in rows
            if r["is_closed"]
            and r["assignee_id"] is not None
            and r["config_id"] is not None
            and r["milestone_id"] is not None
            and r["tags"]
        ),
        None,
    )
    if target is None:
        pytest.fail("the demo data has no closed session with assignee, config, milestone, tags")
    created, closed = parse_ts(target["created_at"]), parse_ts(target["closed_at"])
    second = timedelta(seconds=1)
    opts = {
        "page": 1,
        "perPage": 25,
        "expands": ",".join(ALL_EXPANDS),
        "sort": "sessions:closed_at",
        "order": "asc",
        "assigneeId": str(target["assignee_id"]),
        "closedAfter": js_date(closed - second),
        "closedBefore": js_date(closed + second),
        "configId": str(target["config_id"]),
        "createdAfter": js_date(created - second),
        "createdBefore": js_date(created + second),
        "createdBy": str(target["created_by"]),
        "isClosed": True,
        "milestoneId": str(target["milestone_id"]),
        "stateId": str(target["state_id"]),
        "tags": target["tags"][0],
        "templateId": str(target["template_id"]),
    }

    def matches(row: dict[str, Any]) -> bool:
        return (
            row["is_closed"] is True
            and all(
                row[k] == target[k]
                for k in (
                    "assignee_id",
                    "config_id",
                    "created_by",
                    "milestone_id",
                    "state_id",
                    "template_id",
                )
            )
            and target["tags"][0] in row["tags"]
            and ms_floor(created - second)
            < parse_ts(row["created_at"])
            < ms_floor(created + second)
            and row["closed_at"] is not None
            and ms_floor(closed - second) < parse_ts(row["closed_at"]) < ms_floor(closed + second)
        )

    want = sort_sessions([r for r in rows if matches(r)], "closed_at", "asc")
    (result,) = checker.ok([session_page(dataset.project_id, **opts)])
    sent = query_of(result)
    assert set(sent) == {
        "page",
        "per_page",
        "expands",
        "sort",
        "order",
        "assignee_id",
        "closed_after",
        "closed_before",
        "config_id",
        "created_after",
        "created_before",
        "created_by",
        "is_closed",
        "milestone_id",
        "state_id",
        "tags",
        "template_id",
    }
    problems: list[str] = []
    check_envelope(
        result["raw"],
        "all options",
        problems,
        page=1,
        per_page=25,
        total=len(want),
        ids=ids_of(want),
    )
    check_session_expands(
        result["raw"],
        result["data"]["expands"],
        result["raw"]["result"],
        ALL_EXPANDS,
        "all options",
        problems,
    )
    report(problems, "getSessionPage with every option breaks the contract")
    assert target["id"] in [row["id"] for row in result["data"]["result"]]


def test_errors_through_binding(checker: Checker, dataset: Dataset) -> None:
    pid = dataset.project_id
    cases = [
        (call("SessionsApi", "getSession", UNKNOWN_ID), 404, None),
        (call("SessionsApi", "getSession", UNKNOWN_ID, {"expands": "users"}), 404, None),
        (session_page(UNKNOWN_ID), 404, None),
        (call("ProjectsApi", "getProject", UNKNOWN_ID, {}), 404, None),
        (call("UserApi", "getCurrentUser", token="not-a-valid-token"), 401, None),
        (call("SessionsApi", "getSessionPage", pid, {}, token="not-a-valid-token"), 401, None),
        (call("ProjectsApi", "getProjectPage", {}, token="not-a-valid-token"), 401, None),
        (session_page(pid, expands="users,bogus"), 422, "expands"),
        (
            call("SessionsApi", "getSession", dataset.rows[0]["id"], {"expands": "nope"}),
            422,
            "expands",
        ),
        (session_page(pid, perPage=10), 422, "per_page"),
        (session_page(pid, page=0), 422, "page"),
        (session_page(pid, sort="sessions:name"), 422, "sort"),
        (session_page(pid, order="sideways"), 422, "order"),
        (session_page(pid, assigneeId="1,x"), 422, "assignee_id"),
    ]
    results = checker.run([entry for entry, _, _ in cases])
    problems: list[str] = []
    for (entry, status, field), result in zip(cases, results, strict=True):
        label = f"{entry['method']}{entry['args']} -> {result['path']}"
        if result["ok"] or result["status"] != status:
            problems.append(f"{label}: got {result['status']}, expected {status} (rejected)")
            continue
        if not (result["content_type"] or "").startswith("application/json"):
            problems.append(f"{label}: error content-type {result['content_type']!r}")
            continue
        body = json.loads(result["text"])
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            problems.append(f"{label}: error body {body!r} lacks a message")
            continue
        if body != result["body"]:
            problems.append(f"{label}: the binding's err.body differs from the raw body")
        if field is not None:
            errors = body.get("errors")
            if not isinstance(errors, dict) or field not in errors:
                problems.append(f"{label}: errors {errors!r} lacks the field {field!r}")
            elif not (
                isinstance(errors[field], list) and all(isinstance(m, str) for m in errors[field])
            ):
                problems.append(f"{label}: errors[{field!r}] is not a list of strings")
    report(problems, "error answers break the contract")
