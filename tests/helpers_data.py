"""A small, fully known dataset for precise API contract tests.

`build_world(db)` fills a migrated, empty database through the domain layer and
returns a `World`: every id it created, by a short symbolic key, plus the spec of
each session, so tests can state expected answers by name ("s1", "alice", "c1").

Projects:
- Alpha: 8 sessions (s1..s8) with varied references, tags, issues, custom fields,
  results and chosen created_at / closed_at (including ties); members alice, bob.
- Beta: 32 plain sessions (b0..b31) for pagination, created_at in groups of 4 equal
  timestamps, every third one closed (closed_at with ties); member alice (viewer).
- Gamma: no sessions, completed; member carol.
Users: admin (site admin, member of nothing), alice, bob, carol, dave (no project).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.db.tables import projects
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import queries as session_queries
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import make_fresh_database

# (key, name, email, is_admin). Names are deliberately not in id order.
USERS = [
    ("admin", "Zoe Admin", "admin@example.com", True),
    ("alice", "Alice Archer", "alice@example.com", False),
    ("bob", "Bob Baker", "bob@example.com", False),
    ("carol", "Carol Chen", "carol@example.com", False),
    ("dave", "Dave Doe", "dave@example.com", False),
]
# State ids seeded by the first migration.
NEW, IN_PROGRESS, IN_REVIEW, DONE = 1, 2, 3, 4


@dataclass(frozen=True)
class SessionSpec:
    """One Alpha session, by symbolic references (resolved against World.ids)."""

    key: str
    template: str
    config: str | None
    milestone: str | None
    state: int
    assignee: str | None
    creator: str
    tags: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    custom: Mapping[str, Any] = field(default_factory=dict)  # system_name -> value / value keys
    created_at: datetime = datetime(2025, 1, 1)
    closed_at: datetime | None = None
    closer: str | None = None
    results: tuple[int | None, ...] = ()  # status ids of the results (None = plain note)
    started_by: str | None = None  # started (and left running) by this user
    last_editor: str | None = None  # updated_by set after closing (differs from closed_by)
    estimate: int | None = None  # microseconds

    @property
    def updated_by(self) -> str | None:
        return self.last_editor or self.closer or self.started_by


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Positional order: key, template, config, milestone, state, assignee, creator, tags,
# issues, custom, created_at, closed_at, closer.
# fmt: off
ALPHA = [
    SessionSpec(
        "s1", "t1", "c1", "m1", NEW, "alice", "alice", ("smoke",), ("jira1",),
        {"area": "checkout", "build": "1.0"}, _dt("2025-01-01T10:00:00"),
        results=(1, 2, 2, 3, None, 5, 6), estimate=45 * 60 * 1_000_000,
    ),
    SessionSpec(
        "s2", "t2", "c2", None, DONE, "bob", "bob", ("regression", "smoke"), ("jira1", "gh1"),
        {"platforms": ["web", "ios"], "bugs_found": 3, "needs_follow_up": True},
        _dt("2025-01-02T10:00:00.500000"), _dt("2025-02-01T00:00:00"), "bob",
        results=(2,), started_by="bob",
    ),
    SessionSpec(
        "s3", "t1", None, "m2", IN_PROGRESS, None, "alice",
        created_at=_dt("2025-01-03T00:00:00"),
    ),
    SessionSpec(
        "s4", "t1", "c1", "m2", IN_REVIEW, "alice", "bob", ("security",), ("jira2",),
        {"area": "search"}, _dt("2025-01-03T00:00:00"), _dt("2025-01-15T12:00:00"), "alice",
    ),
    SessionSpec(
        "s5", "t2", "c2", "m1", NEW, "bob", "admin", ("smoke",), (),
        {"platforms": ["android"], "test_date": "2025-01-04"}, _dt("2025-01-03T00:00:00"),
    ),
    SessionSpec(
        "s6", "t1", "c1", None, IN_PROGRESS, "bob", "alice", ("regression",), ("gh1",),
        {"area": "checkout"}, _dt("2025-01-05T23:59:59.999999"), _dt("2025-01-15T12:00:00"),
        "admin", last_editor="bob",
    ),
    SessionSpec(
        "s7", "t1", "c2", "m1", IN_PROGRESS, "alice", "bob", (), (), {"build": "2.0"},
        _dt("2025-01-06T00:00:00"), started_by="bob",
    ),
    SessionSpec(
        "s8", "t2", None, None, DONE, None, "alice", ("security", "smoke"), (), {},
        _dt("2025-01-07T00:00:00"), _dt("2025-01-10T00:00:00"), "alice", last_editor="dave",
    ),
]
# fmt: on

BETA_SIZE = 32
BETA_START = datetime(2025, 3, 1)


def beta_created_at(i: int) -> datetime:
    return BETA_START + timedelta(hours=i // 4)  # groups of 4 equal timestamps


def beta_closed_at(i: int) -> datetime | None:
    return datetime(2025, 4, 1) + timedelta(days=i % 4) if i % 3 == 0 else None


# fmt: off
# Custom fields: (template key, system_name, name, type, [(value key, name, icon, color)])
FIELDS: list[tuple[str, str, str, str, list[tuple[str, str, str | None, str | None]]]] = [
    ("t1", "area", "Area", "dropdown", [
        ("checkout", "Checkout", "cart", "#2563eb"),
        ("search", "Search", None, "#0891b2"),
        ("login", "Login", "key", None),
    ]),
    ("t1", "build", "Build", "string", []),
    ("t2", "platforms", "Platforms", "multiselect", [
        ("web", "Web", "globe", "#16a34a"),
        ("ios", "iOS", "apple", "#64748b"),
        ("android", "Android", "robot", "#65a30d"),
    ]),
    ("t2", "bugs_found", "Bugs found", "integer", []),
    ("t2", "needs_follow_up", "Needs follow-up", "checkbox", []),
    ("t2", "test_date", "Test date", "date", []),
]
# fmt: on
# key -> (type, display_id, external_project_id, external_project_key)
ISSUES: dict[str, tuple[int, str, int | None, str | None]] = {
    "jira1": (4, "WEB-101", 10001, "WEB"),
    "gh1": (2, "#7", 5001, "acme/shop"),
    "jira2": (4, "WEB-102", 10001, "WEB"),
    "unused": (1, "X-1", None, None),
}
# Not in id order by name on purpose.
CONFIGS = {"c1": "Safari / macOS", "c2": "Chrome / Windows"}
MILESTONES = {"m1": ("Release 2.0", False), "m2": ("Release 1.0", True)}


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)  # symbolic key -> id
    names: dict[str, str] = field(default_factory=dict)  # symbolic key -> name
    emails: dict[str, str] = field(default_factory=dict)  # user key -> email
    field_types: dict[str, str] = field(default_factory=dict)  # system_name -> type
    template_fields: dict[str, list[str]] = field(default_factory=dict)  # template -> names
    value_info: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    specs: dict[str, SessionSpec] = field(default_factory=dict)  # Alpha sessions by key
    session_keys: dict[int, str] = field(default_factory=dict)  # session id -> key

    def fmt(self, text: str) -> str:
        """Resolve '{alice},{bob}' style placeholders into ids."""
        return text.format(**self.ids)


def world_database(tmp_dir: Path) -> Iterator[str]:
    """A fresh database URL for a World (demo_api owns module_database_url), dropped
    afterwards. Use from a module-scoped fixture with `yield from`."""
    url, cleanup = make_fresh_database(tmp_dir)
    try:
        yield url
    finally:
        cleanup()  # type: ignore[operator]


def build_world(db: Database) -> World:
    w = World()
    with db.write() as conn:
        for key, name, email, is_admin in USERS:
            w.ids[key] = user_service.new_user(conn, name, email, is_admin=is_admin)
            w.names[key] = name
            w.emails[key] = email
        admin = w.ids["admin"]
        w.ids["alpha"] = project_service.new_project(conn, "Alpha", created_by=admin)
        w.ids["beta"] = project_service.new_project(conn, "Beta", created_by=admin)
        w.ids["gamma"] = project_service.new_project(conn, "Gamma", created_by=w.ids["carol"])
        project_service.add_member(conn, w.ids["alpha"], w.emails["alice"], "manager")
        project_service.add_member(conn, w.ids["alpha"], w.emails["bob"], "tester")
        project_service.add_member(conn, w.ids["beta"], w.emails["alice"], "viewer")
        project_service.add_member(conn, w.ids["gamma"], w.emails["carol"], "tester")
        _dates: dict[str, dict[str, Any]] = {
            "alpha": {"created_at": datetime(2024, 3, 1)},
            "beta": {"created_at": datetime(2024, 1, 1)},
            "gamma": {
                "created_at": datetime(2024, 2, 1),
                "is_completed": True,
                "completed_at": datetime(2024, 6, 1, 12),
                "updated_at": datetime(2024, 6, 1, 12),
                "updated_by": admin,
            },
        }
        for key, dates in _dates.items():
            conn.execute(sa.update(projects).where(projects.c.id == w.ids[key]).values(**dates))

        for key, name in CONFIGS.items():
            w.ids[key] = catalog_service.new_config(conn, w.ids["alpha"], name)
            w.names[key] = name
        for key, (name, done) in MILESTONES.items():
            w.ids[key] = milestone_service.new_milestone(
                conn, w.ids["alpha"], name, created_by=admin, is_completed=done
            )
            w.names[key] = name
        w.ids["t1"] = 1  # the default template, seeded by the first migration
        w.names["t1"] = "Exploratory session"
        w.ids["t2"] = catalog_service.new_template(conn, "Bug bash")
        w.names["t2"] = "Bug bash"
        for order, (template, system_name, name, kind, values) in enumerate(FIELDS):
            field_id = catalog_service.new_field(
                conn, w.ids[template], name, system_name, kind, display_order=order
            )
            w.field_types[system_name] = kind
            w.template_fields.setdefault(template, []).append(system_name)
            if values:
                ids = catalog_service.new_field_values(conn, field_id, [v[1:] for v in values])
                for (vkey, vname, icon, color), vid in zip(values, ids, strict=True):
                    w.ids[vkey] = vid
                    w.value_info[vkey] = (vname, icon, color)
        for key, (issue_type, display_id, ext_id, ext_key) in ISSUES.items():
            w.ids[key] = catalog_service.new_issue(conn, issue_type, display_id, ext_id, ext_key)

    for spec in ALPHA:
        _create_alpha_session(db, w, spec)
        w.specs[spec.key] = spec
    _create_beta_sessions(db, w)
    return w


def _custom_value(w: World, system_name: str, value: Any) -> Any:
    kind = w.field_types[system_name]
    if kind == "dropdown":
        return w.ids[value]
    if kind == "multiselect":
        return [w.ids[v] for v in value]
    return value


def _create_alpha_session(db: Database, w: World, spec: SessionSpec) -> None:
    def ref(key: str | None) -> int | None:
        return None if key is None else w.ids[key]

    with db.write() as conn:
        sid = session_service.create_session(
            conn,
            w.ids["alpha"],
            w.ids[spec.creator],
            f"Session {spec.key}",
            template_id=w.ids[spec.template],
            state_id=spec.state,
            config_id=ref(spec.config),
            milestone_id=ref(spec.milestone),
            assignee_id=ref(spec.assignee),
            estimate=spec.estimate,
            tags=spec.tags,
            issue_ids=[w.ids[i] for i in spec.issues],
            custom={f"custom_{k}": _custom_value(w, k, v) for k, v in spec.custom.items()},
        )
        w.ids[spec.key] = sid
        w.session_keys[sid] = spec.key
        if spec.results:
            items = [{"status_id": s, "note": f"note {n}"} for n, s in enumerate(spec.results)]
            result_service.add_results(conn, sid, w.ids[spec.creator], items)
        if spec.started_by:
            session_service.start(conn, sid, w.ids[spec.started_by])
        if spec.closed_at is not None:
            assert spec.closer is not None
            session_service.close(conn, sid, w.ids[spec.closer])
        session_queries.update_session(
            conn, sid, created_at=spec.created_at, closed_at=spec.closed_at
        )
        if spec.last_editor:
            session_queries.update_session(conn, sid, updated_by=w.ids[spec.last_editor])


def _create_beta_sessions(db: Database, w: World) -> None:
    with db.write() as conn:
        for i in range(BETA_SIZE):
            sid = session_service.create_session(conn, w.ids["beta"], w.ids["alice"], f"Beta {i}")
            w.ids[f"b{i}"] = sid
            w.session_keys[sid] = f"b{i}"
            closed_at = beta_closed_at(i)
            if closed_at is not None:
                session_service.close(conn, sid, w.ids["alice"])
            session_queries.update_session(
                conn, sid, created_at=beta_created_at(i), closed_at=closed_at
            )
