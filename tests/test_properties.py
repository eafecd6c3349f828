"""Property tests of `GET /api/v1/projects/{id}/sessions` (and `GET /sessions/{id}`).

One module-wide database holds the reference data (users, templates with custom
fields, issues). Each hypothesis example creates a NEW project with its own configs,
milestones and sessions (through the domain layer), pins the sessions' `created_at` /
`closed_at` to chosen values (with ties and nulls), then compares what the real HTTP
API answers with a brute-force reading of the contract over every session of that
project, read straight from the tables.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.db.tables import (
    COUNTER_COLUMNS,
    session_field_values,
    session_issues,
    session_tags,
    sessions,
    statuses,
    tags,
    templates,
)
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.results.service import add_results
from charter.sessions import service as session_service
from charter.sessions.queries import update_session
from charter.sessions.service import close, create_session, reopen, start
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN_EMAIL = "admin@example.com"
PER_PAGES = (15, 25, 50, 100)
SORTS = ("sessions:created_at", "sessions:closed_at")
ORDERS = ("asc", "desc")
EXPAND_NAMES = (
    "configs",
    "field_values",
    "issues",
    "milestones",
    "states",
    "statuses",
    "templates",
    "users",
)
ID_FILTERS = ("assignee_id", "config_id", "created_by", "milestone_id", "state_id", "template_id")
DATE_FILTERS = ("created_after", "created_before", "closed_after", "closed_before")
ALL_FILTERS = (*ID_FILTERS, "tags", "is_closed", *DATE_FILTERS)
TAG_NAMES = ("smoke", "regression", "security", "ux")
UNKNOWN_ID = 999_999
N_USERS = 4  # the admin and three testers
N_CONFIGS = 3
N_MILESTONES = 3
N_ISSUES = 5
N_VALUES = 3  # values per dropdown / multi-select field
MAX_SESSIONS = 45  # more than three pages of 15

# A small pool of instants so that generated datasets have ties; the bare dates
# (midnight) and one-microsecond neighbours exercise strict `*_after` / `*_before`.
MOMENTS = (
    datetime(2025, 1, 1),
    datetime(2025, 1, 1, 0, 0, 0, 1),
    datetime(2025, 1, 1, 12, 30),
    datetime(2025, 1, 2),
    datetime(2025, 1, 2, 8, 15, 30, 250_000),
    datetime(2025, 1, 3, 23, 59, 59, 999_999),
)
EARLIEST, LATEST = datetime(2024, 12, 31), datetime(2025, 1, 4)

SLOW_EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Lifecycle = Literal["new", "started", "closed", "reopened"]


# --- the shared reference data ------------------------------------------------------


FieldKind = Literal["dropdown", "multiselect", "string"]


@dataclass(frozen=True)
class CustomField:
    id: int
    key: str  # custom_<system_name>
    type: FieldKind
    value_ids: tuple[int, ...] = ()


@dataclass
class World:
    """The module database and the reference data every example shares."""

    db: Database
    user_ids: list[int]
    template_ids: list[int]  # [default template, second template]
    fields: dict[int, list[CustomField]]  # template id -> its custom fields
    issue_ids: list[int]
    expand_rows: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    active_statuses: list[dict[str, Any]] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def admin_id(self) -> int:
        return self.user_ids[0]


def _create_reference_data(db: Database) -> World:
    with db.write() as conn:
        user_ids = [user_service.new_user(conn, "Ada Admin", ADMIN_EMAIL, is_admin=True)]
        for n in range(1, N_USERS):
            user_ids.append(user_service.new_user(conn, f"Tester {n}", f"tester{n}@example.com"))
        default_template = conn.execute(
            sa.select(templates.c.id).where(templates.c.is_default.is_(True))
        ).scalar_one()
        bug_bash = catalog_service.new_template(conn, "Bug bash")

        def add_field(template_id: int, system_name: str, kind: FieldKind) -> CustomField:
            field_id = catalog_service.new_field(
                conn, template_id, system_name.title(), system_name, kind, display_order=1
            )
            value_ids: list[int] = []
            if kind in ("dropdown", "multiselect"):
                value_ids = catalog_service.new_field_values(
                    conn,
                    field_id,
                    [(f"{system_name} {i}", f"icon{i}", f"#00000{i}") for i in range(N_VALUES)],
                )
            return CustomField(field_id, f"custom_{system_name}", kind, tuple(value_ids))

        fields = {
            default_template: [
                add_field(default_template, "area", "dropdown"),
                add_field(default_template, "build", "string"),
            ],
            bug_bash: [
                add_field(bug_bash, "platforms", "multiselect"),
                add_field(bug_bash, "severity", "dropdown"),
            ],
        }
        issue_ids = [
            catalog_service.new_issue(conn, 1 + i % 4, f"ISSUE-{i}", 100 + i, f"KEY{i}")
            for i in range(N_ISSUES)
        ]
        world = World(
            db=db,
            user_ids=user_ids,
            template_ids=[default_template, bug_bash],
            fields=fields,
            issue_ids=issue_ids,
        )
        # What each expand must show, read independently of the server's queries.
        world.expand_rows = {
            "users": _rows_by_id(conn, "SELECT id, name FROM users"),
            "templates": _rows_by_id(conn, "SELECT id, name, is_default FROM templates"),
            "states": _rows_by_id(conn, "SELECT id, name, is_default FROM states"),
            "issues": _rows_by_id(
                conn,
                "SELECT id, type, display_id, external_project_id, external_project_key "
                "FROM issues",
            ),
            "field_values": _rows_by_id(conn, "SELECT id, name, icon, color FROM field_values"),
        }
        active = conn.execute(
            sa.select(
                statuses.c.id,
                statuses.c.name,
                statuses.c.system_name,
                statuses.c.color,
                statuses.c.is_final,
                statuses.c.is_untested,
                statuses.c.is_passed,
                statuses.c.is_failed,
                statuses.c.aliases,
            )
            .where(statuses.c.is_active.is_(True))
            .order_by(statuses.c.id)
        ).mappings()
        world.active_statuses = [
            {**row, "aliases": json.loads(row["aliases"])} for row in map(dict, active)
        ]
    return world


def _rows_by_id(conn: sa.Connection, sql: str) -> dict[int, dict[str, Any]]:
    out = {}
    for row in conn.execute(sa.text(sql)).mappings():
        item = dict(row)
        for key in ("is_default",):
            if key in item:
                item[key] = bool(item[key])
        out[int(item["id"])] = item
    return out


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[World]:
    db = migrate(module_database_url)
    yield _create_reference_data(db)
    db.close()


@pytest.fixture(scope="module")
def api(world: World, module_database_url: str) -> Iterator[Api]:
    """The in-process API; opened after the users exist, so each has a token."""
    yield from open_api(module_database_url)


# --- generated datasets -------------------------------------------------------------


@dataclass(frozen=True)
class SessionSpec:
    """One generated session; list positions are indexes into the reference data."""

    creator: int
    closer: int
    assignee: int | None
    template: int
    state_id: int
    config: int | None
    milestone: int | None
    tags: tuple[str, ...]
    issues: tuple[int, ...]
    custom: tuple[int | None, tuple[int, ...] | None, str | None]  # dropdown, multi, text
    results: tuple[int | None, ...]
    lifecycle: Lifecycle
    created_at: datetime
    closed_at: datetime


instants = st.one_of(
    st.sampled_from(MOMENTS),
    st.datetimes(min_value=EARLIEST, max_value=LATEST),
)
user_index = st.integers(0, N_USERS - 1)

session_specs = st.builds(
    SessionSpec,
    creator=user_index,
    closer=user_index,
    assignee=st.none() | user_index,
    template=st.integers(0, 1),
    state_id=st.integers(1, 4),
    config=st.none() | st.integers(0, N_CONFIGS - 1),
    milestone=st.none() | st.integers(0, N_MILESTONES - 1),
    tags=st.lists(st.sampled_from(TAG_NAMES), max_size=3, unique=True).map(tuple),
    issues=st.lists(st.integers(0, N_ISSUES - 1), max_size=3, unique=True).map(tuple),
    custom=st.tuples(
        st.none() | st.integers(0, N_VALUES - 1),
        st.none()
        | st.lists(st.integers(0, N_VALUES - 1), min_size=1, max_size=N_VALUES, unique=True).map(
            tuple
        ),
        st.none() | st.sampled_from(["2025.1", "2025.2"]),
    ),
    results=st.lists(st.none() | st.integers(1, 6), max_size=4).map(tuple),
    lifecycle=st.sampled_from(["new", "started", "closed", "reopened"]),
    created_at=instants,
    closed_at=instants,
)


@st.composite
def datasets(draw: st.DrawFn) -> list[SessionSpec]:
    # Draw the size first: plain st.lists stays small, and pages need bigger sets.
    n = draw(st.integers(0, MAX_SESSIONS))
    return draw(st.lists(session_specs, min_size=n, max_size=n))


@dataclass(frozen=True)
class Truth:
    """One session as stored, read straight from the tables."""

    id: int
    row: Mapping[Any, Any]
    tags: frozenset[str]
    issues: tuple[int, ...]
    custom: dict[str, Any]  # custom_<name> -> decoded value (None when unset)

    @property
    def template_id(self) -> int:
        return int(self.row["template_id"])


@dataclass
class Example:
    project_id: int
    config_ids: list[int]
    milestone_ids: list[int]
    sessions: list[Truth]


def build_example(world: World, specs: Sequence[SessionSpec]) -> Example:
    """Create a project holding `specs` through the domain layer; return the truth."""
    users = world.user_ids
    with world.db.write() as conn:
        project_id = project_service.new_project(
            conn, f"Example {next(world.counter)}", created_by=world.admin_id
        )
        for n in range(1, N_USERS):  # sessions are assigned to testers of the project
            project_service.add_member(conn, project_id, f"tester{n}@example.com", "tester")
        config_ids = [
            catalog_service.new_config(conn, project_id, f"Config {i}") for i in range(N_CONFIGS)
        ]
        milestone_ids = [
            milestone_service.new_milestone(conn, project_id, f"Milestone {i}", world.admin_id)
            for i in range(N_MILESTONES)
        ]
        for n, spec in enumerate(specs):
            template_id = world.template_ids[spec.template]
            custom: dict[str, Any] = {}
            dropdown, multi, text = spec.custom
            for f in world.fields[template_id]:
                if f.type == "dropdown" and dropdown is not None:
                    custom[f.key] = f.value_ids[dropdown]
                elif f.type == "multiselect" and multi is not None:
                    custom[f.key] = [f.value_ids[i] for i in multi]
                elif f.type == "string" and text is not None:
                    custom[f.key] = text
            creator = users[spec.creator]
            session_id = create_session(
                conn,
                project_id,
                creator,
                f"Session {n}",
                template_id=template_id,
                state_id=spec.state_id,
                config_id=None if spec.config is None else config_ids[spec.config],
                milestone_id=None if spec.milestone is None else milestone_ids[spec.milestone],
                assignee_id=None if spec.assignee is None else users[spec.assignee],
                tags=spec.tags,
                issue_ids=[world.issue_ids[i] for i in spec.issues],
                custom=custom,
            )
            if spec.results:
                add_results(conn, session_id, creator, [{"status_id": s} for s in spec.results])
            if spec.lifecycle != "new":
                start(conn, session_id, creator)
            if spec.lifecycle in ("closed", "reopened"):
                close(conn, session_id, users[spec.closer])
            if spec.lifecycle == "reopened":
                reopen(conn, session_id, users[spec.closer])
            closed = spec.lifecycle == "closed"
            update_session(
                conn,
                session_id,
                created_at=spec.created_at,
                closed_at=spec.closed_at if closed else None,
            )
    return Example(project_id, config_ids, milestone_ids, read_truth(world, project_id))


def read_truth(world: World, project_id: int) -> list[Truth]:
    custom_fields = {f.id: f for fs in world.fields.values() for f in fs}
    with world.db.read() as conn:
        rows = list(
            conn.execute(sa.select(sessions).where(sessions.c.project_id == project_id)).mappings()
        )
        ids = [r["id"] for r in rows]
        tag_names: dict[int, set[str]] = {i: set() for i in ids}
        issue_ids: dict[int, list[int]] = {i: [] for i in ids}
        values: dict[int, dict[str, Any]] = {i: {} for i in ids}
        if ids:
            for sid, name in conn.execute(
                sa.select(session_tags.c.session_id, tags.c.name)
                .join(tags, tags.c.id == session_tags.c.tag_id)
                .where(session_tags.c.session_id.in_(ids))
            ):
                tag_names[sid].add(name)
            for sid, iid in conn.execute(
                sa.select(session_issues.c.session_id, session_issues.c.issue_id).where(
                    session_issues.c.session_id.in_(ids)
                )
            ):
                issue_ids[sid].append(iid)
            for sid, fid, value in conn.execute(
                sa.select(
                    session_field_values.c.session_id,
                    session_field_values.c.field_id,
                    session_field_values.c.value,
                ).where(session_field_values.c.session_id.in_(ids))
            ):
                values[sid][custom_fields[fid].key] = json.loads(value)
    out = []
    for r in rows:
        keys = [f.key for f in world.fields[r["template_id"]]]
        custom = {k: values[r["id"]].get(k) for k in keys}
        out.append(
            Truth(
                r["id"], r, frozenset(tag_names[r["id"]]), tuple(sorted(issue_ids[r["id"]])), custom
            )
        )
    return out


# --- the contract, brute force --------------------------------------------------------


def expected_order(rows: Sequence[Truth], sort: str, order: str) -> list[int]:
    """Sort column, ties by id in the same direction; null sorts lowest."""
    column = sort.split(":", 1)[1]

    def key(t: Truth) -> tuple[bool, datetime, int]:
        value = t.row[column]
        return (value is not None, value or datetime.min, t.id)

    ordered = sorted(rows, key=key, reverse=order == "desc")
    return [t.id for t in ordered]


@dataclass(frozen=True)
class Filters:
    """A generated filter combination: raw query parameters and their meaning."""

    ids: dict[str, tuple[int, ...]]
    tags: tuple[str, ...] | None
    is_closed: bool | None
    dates: dict[str, datetime]  # parameter name -> parsed instant
    params: dict[str, str]  # what is sent

    def matches(self, t: Truth) -> bool:
        for name, wanted in self.ids.items():
            if t.row[name] not in wanted:
                return False
        if self.tags is not None and not t.tags & set(self.tags):
            return False
        if self.is_closed is not None and bool(t.row["is_closed"]) != self.is_closed:
            return False
        for name, when in self.dates.items():
            column, _, side = name.partition("_")
            value = t.row[f"{column}_at"]
            if value is None:
                return False
            if side == "after" and not value > when:
                return False
            if side == "before" and not value < when:
                return False
        return True


def render_instant(when: datetime, style: str) -> tuple[str, datetime]:
    """(text sent, instant the server must understand) for one ISO 8601 style."""
    if style == "date":
        return when.date().isoformat(), datetime(when.year, when.month, when.day)
    if style == "offset":
        local = when.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2, minutes=30)))
        return local.isoformat(), when
    if style == "seconds":
        when = when.replace(microsecond=0)
        return when.isoformat() + "Z", when
    return when.isoformat(timespec="microseconds") + "Z", when


@st.composite
def filter_sets(draw: st.DrawFn, world: World, example: Example) -> Filters:
    pools: dict[str, list[int]] = {
        "assignee_id": [*world.user_ids, UNKNOWN_ID],
        "created_by": [*world.user_ids, UNKNOWN_ID],
        "config_id": [*example.config_ids, UNKNOWN_ID],
        "milestone_id": [*example.milestone_ids, UNKNOWN_ID],
        "state_id": [1, 2, 3, 4, UNKNOWN_ID],
        "template_id": [*world.template_ids, UNKNOWN_ID],
    }
    used = draw(st.lists(st.sampled_from(ALL_FILTERS), max_size=4, unique=True))
    params: dict[str, str] = {}
    ids: dict[str, tuple[int, ...]] = {}
    tag_filter: tuple[str, ...] | None = None
    is_closed: bool | None = None
    dates: dict[str, datetime] = {}
    for name in used:
        if name in ID_FILTERS:
            values = draw(st.lists(st.sampled_from(pools[name]), min_size=1, max_size=3))
            ids[name] = tuple(values)
            params[name] = draw(st.sampled_from([",", ", "])).join(map(str, values))
        elif name == "tags":
            tag_filter = tuple(
                draw(st.lists(st.sampled_from([*TAG_NAMES, "nosuch"]), min_size=1, max_size=3))
            )
            params[name] = ",".join(tag_filter)
        elif name == "is_closed":
            is_closed = draw(st.booleans())
            spellings = ["1", "true", "TRUE", "True"] if is_closed else ["0", "false", "FALSE"]
            params[name] = draw(st.sampled_from(spellings))
        else:
            base = draw(instants)
            nudge = draw(st.sampled_from([0, 0, 1, -1]))
            style = draw(st.sampled_from(["micro", "seconds", "offset", "date"]))
            params[name], dates[name] = render_instant(base + timedelta(microseconds=nudge), style)
    # An empty value is treated as absent.
    for name in draw(st.lists(st.sampled_from(ALL_FILTERS), max_size=2, unique=True)):
        params.setdefault(name, "")
    return Filters(ids, tag_filter, is_closed, dates, params)


# --- reading the API ------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_row(item: Mapping[str, Any], t: Truth, world: World) -> None:
    """The listed session shows what is stored."""
    row = t.row
    for key in (
        "project_id",
        "template_id",
        "config_id",
        "milestone_id",
        "state_id",
        "assignee_id",
        "created_by",
        "updated_by",
        "closed_by",
        *COUNTER_COLUMNS,
    ):
        assert item[key] == row[key], (key, item[key], row[key])
    assert item["is_closed"] is bool(row["is_closed"])
    assert item["created_at"] == iso(row["created_at"])
    assert item["closed_at"] == iso(row["closed_at"])
    assert sorted(item["tags"]) == sorted(t.tags)
    assert sorted(item["issues"]) == list(t.issues)
    for key, value in t.custom.items():
        assert item[key] == value, (key, item[key], value)


def walk(
    api: Api, example: Example, world: World, per_page: int, **params: str
) -> tuple[list[dict[str, Any]], int]:
    """Every page of one listing, checking each envelope; (all rows, total)."""
    path = f"/api/v1/projects/{example.project_id}/sessions"
    truth = {t.id: t for t in example.sessions}
    rows: list[dict[str, Any]] = []
    page_number = 1
    total: int | None = None
    while True:
        response = api.get(path, page=page_number, per_page=per_page, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        total = body["total"] if total is None else total
        assert body["total"] == total
        assert body["per_page"] == per_page
        if total == 0:
            assert body == {
                "page": None,
                "prev_page": None,
                "next_page": None,
                "last_page": None,
                "per_page": per_page,
                "total": 0,
                "result": [],
                "expands": body["expands"],
            }
            return rows, 0
        last = math.ceil(total / per_page)
        assert body["page"] == page_number
        assert body["last_page"] == last
        assert body["prev_page"] == (None if page_number == 1 else page_number - 1)
        assert body["next_page"] == (None if page_number == last else page_number + 1)
        assert len(body["result"]) == min(per_page, total - (page_number - 1) * per_page)
        for item in body["result"]:
            check_row(item, truth[item["id"]], world)
        rows.extend(body["result"])
        if body["next_page"] is None:
            break
        page_number = body["next_page"]
    # One page past the end: empty, pointing back at the last page.
    past = api.get(path, page=last + 1, per_page=per_page, **params).json()
    assert (past["page"], past["prev_page"], past["next_page"], past["last_page"]) == (
        last + 1,
        last,
        None,
        last,
    )
    assert past["result"] == []
    return rows, total


# --- properties -----------------------------------------------------------------------


@pytest.mark.properties
@SLOW_EXAMPLES
@given(specs=datasets())
def test_pages_list_every_session_once_in_order(
    api: Api, world: World, specs: list[SessionSpec]
) -> None:
    example = build_example(world, specs)
    assert len(example.sessions) == len(specs)
    for sort, order, per_page in itertools.product(SORTS, ORDERS, PER_PAGES):
        rows, total = walk(api, example, world, per_page, sort=sort, order=order)
        assert total == len(specs)
        assert [r["id"] for r in rows] == expected_order(example.sessions, sort, order), (
            sort,
            order,
            per_page,
        )


@pytest.mark.properties
@SLOW_EXAMPLES
@given(specs=datasets(), data=st.data())
def test_filters_match_brute_force(
    api: Api, world: World, specs: list[SessionSpec], data: st.DataObject
) -> None:
    example = build_example(world, specs)
    for _ in range(6):
        filters = data.draw(filter_sets(world, example), label="filters")
        sort = data.draw(st.sampled_from(SORTS), label="sort")
        order = data.draw(st.sampled_from(ORDERS), label="order")
        per_page = data.draw(st.sampled_from(PER_PAGES), label="per_page")
        rows, total = walk(api, example, world, per_page, sort=sort, order=order, **filters.params)
        wanted = [t for t in example.sessions if filters.matches(t)]
        assert total == len(wanted), filters.params
        assert [r["id"] for r in rows] == expected_order(wanted, sort, order), filters.params


CHANGE_KINDS = (
    "close",
    "reopen",
    "delete",
    "tags",
    "assignee",
    "state",
    "milestone",
    "template",
    "created",
)
changes = st.lists(
    st.tuples(
        st.sampled_from(CHANGE_KINDS),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=6,
)


def apply_change(world: World, example: Example, kind: str, which: int, value: int) -> None:
    """One write to a session of the example, through the domain layer."""
    live = read_truth(world, example.project_id)
    if not live:
        return
    t = live[which % len(live)]
    admin = world.admin_id
    with world.db.write() as conn:
        if kind == "delete":
            session_service.delete(conn, t.id)
        elif t.row["is_closed"]:  # a closed session takes no change but reopen
            reopen(conn, t.id, admin)
        elif kind == "close":
            close(conn, t.id, admin)
        elif kind == "created":
            update_session(conn, t.id, created_at=MOMENTS[value % len(MOMENTS)])
        elif kind != "reopen":
            options: dict[str, dict[str, Any]] = {
                "tags": {"tags": [n for i, n in enumerate(TAG_NAMES) if value >> i & 1]},
                "assignee": {"assignee_id": [None, *world.user_ids][value % (N_USERS + 1)]},
                "state": {"state_id": 1 + value % 4},
                "milestone": {"milestone_id": [None, *example.milestone_ids][value % 4]},
                "template": {"template_id": world.template_ids[value % 2]},
            }
            session_service.update_session(conn, t.id, admin, options[kind])


@pytest.mark.properties
@SLOW_EXAMPLES
@given(specs=datasets(), data=st.data(), writes=changes)
def test_totals_follow_writes(
    api: Api,
    world: World,
    specs: list[SessionSpec],
    data: st.DataObject,
    writes: list[tuple[str, int, int]],
) -> None:
    """Filtered totals may be cached, but a write never leaves one stale: list, write,
    list again with the same parameters, and compare with the tables each time."""
    example = build_example(world, specs)
    queries = [data.draw(filter_sets(world, example), label="filters") for _ in range(3)]
    for round_number in range(2):
        for filters in queries:
            rows, total = walk(api, example, world, 100, **filters.params)
            wanted = [t for t in example.sessions if filters.matches(t)]
            assert total == len(wanted), (round_number, filters.params)
            assert [r["id"] for r in rows] == expected_order(
                wanted, "sessions:created_at", "desc"
            ), (round_number, filters.params)
        if round_number == 0:
            for kind, which, value in writes:
                apply_change(world, example, kind, which, value)
            example.sessions = read_truth(world, example.project_id)


def expected_expands(
    world: World, example: Example, page: Sequence[Truth], names: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    def objects(rows: Mapping[int, dict[str, Any]], ids: set[int]) -> list[dict[str, Any]]:
        return [rows[i] for i in sorted(ids)]

    configs = {i: {"id": i, "name": f"Config {n}"} for n, i in enumerate(example.config_ids)}
    milestones = {
        i: {"id": i, "name": f"Milestone {n}"} for n, i in enumerate(example.milestone_ids)
    }
    value_ids: set[int] = set()
    for t in page:
        for f in world.fields[t.template_id]:
            value = t.custom.get(f.key)
            if f.type == "dropdown" and value is not None:
                value_ids.add(value)
            elif f.type == "multiselect" and value is not None:
                value_ids.update(value)

    def referenced(*columns: str) -> set[int]:
        return {t.row[c] for t in page for c in columns if t.row[c] is not None}

    out: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        if name == "users":
            ids = referenced("created_by", "updated_by", "closed_by", "assignee_id")
            out[name] = objects(world.expand_rows["users"], ids)
        elif name == "configs":
            out[name] = objects(configs, referenced("config_id"))
        elif name == "milestones":
            out[name] = objects(milestones, referenced("milestone_id"))
        elif name == "templates":
            out[name] = objects(world.expand_rows["templates"], referenced("template_id"))
        elif name == "states":
            out[name] = objects(world.expand_rows["states"], referenced("state_id"))
        elif name == "issues":
            ids = {i for t in page for i in t.issues}
            out[name] = objects(world.expand_rows["issues"], ids)
        elif name == "field_values":
            out[name] = objects(world.expand_rows["field_values"], value_ids)
        elif name == "statuses":
            out[name] = world.active_statuses
    return out


@pytest.mark.properties
@SLOW_EXAMPLES
@given(
    specs=datasets(),
    names=st.lists(st.sampled_from(EXPAND_NAMES), min_size=1, unique=True),
    per_page=st.sampled_from(PER_PAGES),
    sort=st.sampled_from(SORTS),
)
def test_expands_hold_exactly_what_the_page_refers_to(
    api: Api,
    world: World,
    specs: list[SessionSpec],
    names: list[str],
    per_page: int,
    sort: str,
) -> None:
    example = build_example(world, specs)
    truth = {t.id: t for t in example.sessions}
    path = f"/api/v1/projects/{example.project_id}/sessions"
    for wanted in (EXPAND_NAMES, tuple(names)):
        expands = ",".join(wanted)
        page_number = 1
        while True:
            body = api.get(
                path, page=page_number, per_page=per_page, sort=sort, expands=expands
            ).json()
            page = [truth[item["id"]] for item in body["result"]]
            assert set(body["expands"]) == set(wanted)
            assert body["expands"] == expected_expands(world, example, page, wanted)
            if body["next_page"] is None:
                break
            page_number = body["next_page"]
    # The single-session view: the same rules over a page of one.
    for t in example.sessions[:5]:
        body = api.get(f"/api/v1/sessions/{t.id}", expands=",".join(names)).json()
        check_row(body["result"], t, world)
        assert body["expands"] == expected_expands(world, example, [t], names)


def test_no_expands_requested_gives_an_empty_object(api: Api, world: World) -> None:
    example = build_example(world, [])
    body = api.get(f"/api/v1/projects/{example.project_id}/sessions").json()
    assert body["expands"] == {}
    assert body["result"] == []
