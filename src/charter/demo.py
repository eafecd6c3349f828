"""A deterministic, realistic demo dataset.

The reference data (users, projects, milestones, templates, ...) goes through the
domain layer. Sessions and results are generated in batches and bulk-inserted with
their counters computed from the same generated results, so memory stays bounded
even for a million sessions and the stored counters equal a recount. The batches are
stored by `db/bulk.py` (COPY on PostgreSQL, while the next batch is generated).
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth import passwords
from charter.auth import service as auth
from charter.catalog import queries as catalog_queries
from charter.catalog import service as catalog_service
from charter.db import rows as db_rows
from charter.db.bulk import BulkLoader
from charter.db.engine import Database
from charter.db.tables import (
    COUNTER_COLUMNS,
    session_field_values,
    session_issues,
    session_results,
    session_tags,
    sessions,
    states,
    templates,
)
from charter.milestones import service as milestone_service
from charter.projects import queries as project_queries
from charter.projects import service as project_service
from charter.results import queries as result_queries
from charter.sbtm import service as sbtm_service
from charter.sessions import counters
from charter.sessions import queries as session_queries
from charter.users import service as user_service

DEMO_ADMIN_EMAIL = "admin@example.com"
# The demo admin's web sign-in password (`make run` prints it). Demo data only.
DEMO_ADMIN_PASSWORD = "charter-demo"
# Fixed so that the same seed gives the same data whenever it is loaded.
ANCHOR = datetime(2026, 11, 1, 12, 0, 0)
BATCH = 2000
MINUTE = 60_000_000

USERS = [
    ("Ada Admin", DEMO_ADMIN_EMAIL, True),
    ("Grace Hopper", "grace@example.com", False),
    ("Alan Turing", "alan@example.com", False),
    ("Katherine Johnson", "katherine@example.com", False),
    ("Edsger Dijkstra", "edsger@example.com", False),
    ("Barbara Liskov", "barbara@example.com", False),
]
# (project name, share of sessions, {email: role})
PROJECTS = [
    (
        "Webshop",
        0.80,
        {
            "grace@example.com": "manager",
            "alan@example.com": "tester",
            "katherine@example.com": "tester",
            "edsger@example.com": "tester",
            "barbara@example.com": "viewer",
        },
    ),
    (
        "Mobile App",
        0.15,
        {
            "grace@example.com": "manager",
            "katherine@example.com": "tester",
            "barbara@example.com": "tester",
        },
    ),
    ("Internal Tools", 0.05, {"edsger@example.com": "manager", "alan@example.com": "viewer"}),
]
CONFIGS = [
    "Chrome / Windows 11",
    "Firefox / Ubuntu",
    "Safari / macOS",
    "iOS 18 / iPhone",
    "Android 15 / Pixel",
]
MILESTONES = [("Release 1.0", True), ("Release 1.1", False), ("Release 2.0", False)]
AREAS = [
    "checkout",
    "search",
    "login",
    "payments",
    "the cart",
    "user profiles",
    "notifications",
    "the admin panel",
]
PERSONAS = [
    "a first-time visitor",
    "a power user",
    "a screen-reader user",
    "a user on a slow network",
    "an admin",
    "a returning customer",
]
RISKS = [
    "data loss",
    "security holes",
    "confusing errors",
    "race conditions",
    "accessibility barriers",
    "slow pages",
    "wrong totals",
]
RARE_TAG = "flaky"
TAGS = [
    "regression",
    "smoke",
    "security",
    "accessibility",
    "performance",
    "mobile",
    "release",
    "usability",
]
NOTES = {
    None: [
        "Setup: fresh account, cleared cache.",
        "Idea: try the same flow with two tabs open.",
        "Reading the release notes for this area first.",
    ],
    1: ["Not covered yet: export to CSV.", "Still to check: password reset via email."],
    2: [
        "Happy path works end to end.",
        "Validation messages are clear and specific.",
        "Keyboard navigation reaches every control.",
    ],
    3: [
        "Total is off by one cent after applying a coupon.",
        "500 error when the name contains an emoji.",
        "Session expires silently; work is lost.",
    ],
    4: ["Flaky: spinner never stops on the first try.", "Needs another look after the hotfix."],
    5: [
        "Blocked: staging payment provider is down.",
        "Cannot test: missing test account with admin rights.",
    ],
    6: ["Skipped: feature flag off in this build."],
}
# status id (None = plain note) and its weight
STATUS_WEIGHTS = [(None, 20), (1, 5), (2, 40), (3, 15), (4, 8), (5, 7), (6, 5)]


@dataclass
class Refs:
    user_ids: list[int]
    admin_id: int
    projects: list[tuple[int, float, list[int]]]  # id, share, member user ids
    milestones: dict[int, list[int]] = field(default_factory=dict)
    configs: dict[int, list[int]] = field(default_factory=dict)
    templates: list[int] = field(default_factory=list)
    fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # template -> fields
    states: list[int] = field(default_factory=list)
    issues: list[int] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)


def load_demo(
    db: Database, n_sessions: int = 200, seed: int = 1, progress: bool | None = None
) -> str | None:
    """Load the demo; None when it is loaded already."""
    started = time.monotonic()
    with db.write() as conn:
        if auth.user_by_email(conn, DEMO_ADMIN_EMAIL) is not None:
            return None
        refs = _reference_data(conn)
    rng = random.Random(seed)
    with db.read() as conn:
        flags = catalog_queries.status_flags(conn)
        # Sessions get consecutive ids from here on, project after project.
        first_id = db_rows.next_id(conn, sessions)
    n_results = 0
    with db.write() as conn:
        search_triggers = session_queries.suspend_search_index(conn)
    try:
        with BulkLoader(db, SESSION_TABLES) as loader:
            for project_id, count in _split(refs, n_sessions):
                n_results += _load_sessions(
                    loader, refs, project_id, first_id, count, rng, flags, progress
                )
                first_id += count
    finally:  # the triggers come back even when the load fails
        with db.write() as conn:
            session_queries.resume_search_index(conn, search_triggers)
    with db.write(bulk=True) as conn:  # rebuilds over every row just loaded
        for project_id, _share, _members in refs.projects:
            project_queries.set_counters(
                conn, project_id, session_queries.project_session_counts(conn, project_id)
            )
        result_queries.rebuild_day_counts(conn)  # results per day, from the rows just loaded
        _sync_sequences(conn)
        _automation(conn, refs, random.Random(seed + 13))
        # SBTM sheets, chosen from each session's id (no draw from the generators
        # above, so the rest of the demo stays what it was), and their metrics.
        sbtm_service.fill_demo(
            conn, [p for p, _s, _m in refs.projects], refs.user_ids[0], refs.admin_id
        )
    seconds = time.monotonic() - started
    return (
        f"Loaded demo data: {len(refs.user_ids)} users, {len(refs.projects)} projects, "
        f"{n_sessions} sessions, {n_results} results in {seconds:.1f} s. "
        f"Site admin: {DEMO_ADMIN_EMAIL}."
    )


def _split(refs: Refs, n: int) -> Iterator[tuple[int, int]]:
    left = n
    for i, (project_id, share, _members) in enumerate(refs.projects):
        count = left if i == len(refs.projects) - 1 else min(left, round(n * share))
        left -= count
        yield project_id, count


def _reference_data(conn: Connection) -> Refs:
    user_ids = [
        user_service.new_user(
            conn,
            name,
            email,
            is_admin=admin,
            password_hash=passwords.hash_password(DEMO_ADMIN_PASSWORD) if admin else None,
        )
        for name, email, admin in USERS
    ]
    by_email = {email: uid for (_n, email, _a), uid in zip(USERS, user_ids, strict=True)}
    admin_id = user_ids[0]
    refs = Refs(user_ids=user_ids, admin_id=admin_id, projects=[])
    for name, share, members in PROJECTS:
        project_id = project_service.new_project(
            conn, name, created_by=admin_id, note=f"Demo project: {name}."
        )
        for email, role in members.items():
            project_service.add_member(conn, project_id, email, role)
        refs.projects.append((project_id, share, [by_email[e] for e in members]))
        refs.configs[project_id] = [
            catalog_service.new_config(conn, project_id, c) for c in CONFIGS
        ]
        ms = []
        for i, (m_name, done) in enumerate(MILESTONES):
            ms.append(
                milestone_service.new_milestone(
                    conn,
                    project_id,
                    m_name,
                    created_by=admin_id,
                    is_completed=done,
                    due_date=(ANCHOR + timedelta(days=30 * (i - 1))).date(),
                )
            )
        ms.append(
            milestone_service.new_milestone(
                conn, project_id, "Sprint 42", admin_id, parent_id=ms[1]
            )
        )
        refs.milestones[project_id] = ms

    default_template = db_rows.default_id(conn, templates)
    assert default_template is not None
    bug_bash = catalog_service.new_template(conn, "Bug bash")
    refs.templates = [default_template, bug_bash]
    area = catalog_service.new_field(
        conn, default_template, "Area", "area", "dropdown", display_order=1
    )
    area_values = catalog_service.new_field_values(
        conn,
        area,
        [
            ("Checkout", "cart", "#2563eb"),
            ("Search", "search", "#0891b2"),
            ("Login", "key", "#7c3aed"),
            ("Payments", "card", "#ea580c"),
        ],
    )
    build = catalog_service.new_field(
        conn, default_template, "Build", "build", "string", display_order=2
    )
    platforms = catalog_service.new_field(
        conn, bug_bash, "Platforms", "platforms", "multiselect", display_order=1
    )
    platform_values = catalog_service.new_field_values(
        conn,
        platforms,
        [("Web", "globe", "#16a34a"), ("iOS", "apple", "#64748b"), ("Android", "robot", "#65a30d")],
    )
    bugs = catalog_service.new_field(
        conn, bug_bash, "Bugs found", "bugs_found", "integer", display_order=2
    )
    follow = catalog_service.new_field(
        conn, bug_bash, "Needs follow-up", "needs_follow_up", "checkbox", display_order=3
    )
    test_date = catalog_service.new_field(
        conn, bug_bash, "Test date", "test_date", "date", display_order=4
    )
    refs.fields = {
        default_template: [
            {"id": area, "type": "dropdown", "values": area_values},
            {"id": build, "type": "string"},
        ],
        bug_bash: [
            {"id": platforms, "type": "multiselect", "values": platform_values},
            {"id": bugs, "type": "integer"},
            {"id": follow, "type": "checkbox"},
            {"id": test_date, "type": "date"},
        ],
    }
    refs.states = db_rows.all_ids(conn, states)
    for n in range(1, 21):
        refs.issues.append(catalog_service.new_issue(conn, 4, f"WEB-{100 + n}", 10001, "WEB"))
    for n in range(1, 11):
        refs.issues.append(catalog_service.new_issue(conn, 2, f"#{n * 7}", 5001, "acme/mobile-app"))
    refs.tags = catalog_queries.ensure_tags(conn, [*TAGS, RARE_TAG])
    return refs


# Written in this order (each one's foreign keys point to tables before it).
SESSION_TABLES = [sessions, session_tags, session_issues, session_field_values, session_results]


def _load_sessions(
    loader: BulkLoader,
    refs: Refs,
    project_id: int,
    first_id: int,
    count: int,
    rng: random.Random,
    flags: counters.StatusFlags,
    progress: bool | None,
) -> int:
    from tqdm import tqdm

    members = next(m for pid, _s, m in refs.projects if pid == project_id)
    assignees = members or refs.user_ids
    statuses = [s for s, _w in STATUS_WEIGHTS]
    # Cumulative weights: rng.choices draws the same values as with the plain
    # weights, without summing them on every call.
    cum_weights = list(accumulate(w for _s, w in STATUS_WEIGHTS))
    span = timedelta(days=720).total_seconds()
    n_results = 0
    # disable=None: a bar on a terminal only, unless `progress` says otherwise.
    disable = None if progress is None else not progress
    bar = tqdm(total=count, desc=f"project {project_id}", unit="session", disable=disable)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        issue_rows: list[dict[str, Any]] = []
        value_rows: list[dict[str, Any]] = []
        # Creation times rise with the id, as they do in a live system.
        for i in range(size):
            sid = first_id + done + i
            position = (done + i + rng.random()) / max(count, 1)
            created = ANCHOR - timedelta(seconds=span * (1 - position))
            session, res = _session(
                refs, rng, sid, project_id, assignees, created, statuses, cum_weights, flags
            )
            rows.append(session)
            results.extend(res)
            tag_rows.extend({"session_id": sid, "tag_id": refs.tags[t]} for t in _tags(rng))
            issue_rows.extend(
                {"session_id": sid, "issue_id": iid}
                for iid in rng.sample(refs.issues, rng.choice([0, 0, 0, 1, 2]))
            )
            value_rows.extend(_field_values(refs, rng, sid, session["template_id"]))
        # On PostgreSQL, stored while the next batch is generated.
        bar.update(
            loader.put(
                [
                    (sessions, rows),
                    (session_tags, tag_rows),
                    (session_issues, issue_rows),
                    (session_field_values, value_rows),
                    (session_results, results),
                ]
            )
        )
        n_results += len(results)
        done += size
    bar.update(loader.flush())
    bar.close()
    return n_results


def _session(
    refs: Refs,
    rng: random.Random,
    sid: int,
    project_id: int,
    assignees: list[int],
    created: datetime,
    statuses: list[int | None],
    cum_weights: list[int],
    flags: counters.StatusFlags,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    creator = _skewed(rng, assignees)
    started = rng.random() < 0.75
    closed = started and rng.random() < 0.55
    estimate = rng.choice([None, 30, 45, 60, 90, 120])
    elapsed = rng.randint(5, 150) * MINUTE if started else None
    started_at = created + timedelta(minutes=rng.randint(5, 600)) if started else None
    closed_at = (
        started_at + timedelta(microseconds=elapsed or 0, minutes=rng.randint(1, 60))
        if closed and started_at
        else None
    )
    template_id = refs.templates[0] if rng.random() < 0.7 else refs.templates[1]
    n = rng.randint(1, 10)
    histogram: dict[int | None, int] = {}
    results = []
    t = started_at or created
    for _ in range(n):
        status = rng.choices(statuses, cum_weights=cum_weights)[0]
        histogram[status] = histogram.get(status, 0) + 1
        t = t + timedelta(seconds=rng.randint(30, 900))
        results.append(
            {
                "session_id": sid,
                "project_id": project_id,
                "status_id": status,
                "note": rng.choice(NOTES[status]),
                "elapsed": int((t - (started_at or created)).total_seconds() * 1_000_000),
                "created_at": t,
                "created_by": creator,
            }
        )
    counts = counters.counters_from_histogram(histogram, flags)
    updated = closed_at or (started_at if started else None)
    row = {
        "id": sid,
        "project_id": project_id,
        "template_id": template_id,
        "name": (
            f"Explore {rng.choice(AREAS)} with {rng.choice(PERSONAS)} "
            f"to discover {rng.choice(RISKS)}"
        ),
        "config_id": _skewed(rng, refs.configs[project_id]) if rng.random() < 0.7 else None,
        "milestone_id": _skewed(rng, refs.milestones[project_id]) if rng.random() < 0.8 else None,
        "state_id": refs.states[-1] if closed else rng.choice(refs.states[:-1]),
        "assignee_id": _skewed(rng, assignees) if rng.random() < 0.9 else None,
        "estimate": estimate * MINUTE if estimate else None,
        "forecast": None,
        "elapsed": elapsed,
        "is_started": started,
        "is_closed": closed,
        "charter": "Charter: explore the area named above; note anything surprising.",
        "running_since": None,
        "started_at": started_at,
        "created_at": created,
        "created_by": creator,
        "updated_at": updated,
        "updated_by": creator if updated else None,
        "closed_at": closed_at,
        "closed_by": creator if closed else None,
        **{c: counts[c] for c in COUNTER_COLUMNS},
    }
    # The assignee ran it (the dashboard credits its time to whoever started it).
    row["started_by"] = row["assignee_id"] if started else None
    return row, results


def _skewed(rng: random.Random, values: list[int]) -> int:
    """Like real data, one value is rare: the last one is picked ~40x less often than
    each of the others (so filters have selective as well as broad values)."""
    if len(values) < 2:
        return values[0]
    return rng.choices(values, cum_weights=_skew_cum_weights(len(values)))[0]


@functools.cache
def _skew_cum_weights(n: int) -> list[int]:
    return list(accumulate([40] * (n - 1) + [1]))


def _tags(rng: random.Random) -> list[str]:
    """0-3 common tags, plus the rare 'flaky' on about 1 session in 500."""
    names = rng.sample(TAGS, rng.choice([0, 1, 1, 2, 3]))
    if rng.random() < 0.002:
        names.append(RARE_TAG)
    return names


def _field_values(
    refs: Refs, rng: random.Random, sid: int, template_id: int
) -> Iterator[dict[str, Any]]:
    for f in refs.fields[template_id]:
        if rng.random() < 0.25:
            continue  # unset
        kind = f["type"]
        if kind == "dropdown":
            value: Any = rng.choice(f["values"])
        elif kind == "multiselect":
            value = sorted(rng.sample(f["values"], rng.randint(1, len(f["values"]))))
        elif kind == "string":
            value = f"2026.{rng.randint(1, 12)}.{rng.randint(0, 30)}"
        elif kind == "integer":
            value = rng.randint(0, 12)
        elif kind == "checkbox":
            value = rng.random() < 0.3
        else:  # date
            value = (ANCHOR - timedelta(days=rng.randint(0, 700))).date().isoformat()
        yield {
            "session_id": sid,
            "field_id": f["id"],
            "value": json.dumps(value, separators=(",", ":")),
        }


def _sync_sequences(conn: Connection) -> None:
    """Explicit ids do not advance PostgreSQL sequences; move them past the max id."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("sessions", "session_results"):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
        )


DEMO_SUITES = {
    "web-e2e": ["checkout", "search", "login", "profile"],
    "api-unit": ["orders", "payments", "users"],
}


def _automation(conn: Connection, refs: Refs, rng: random.Random) -> None:
    """A few CI runs in the first project, as the testmo CLI would submit them: two
    sources, nightly runs with one or two threads, a failure now and then (with its
    message and console output), the newest run still running."""
    from charter.auth.service import User
    from charter.automation import service as automation_service

    admin = User(refs.admin_id, "Demo admin", DEMO_ADMIN_EMAIL, True, None, None, None)
    project_id = refs.projects[0][0]
    milestones = refs.milestones[project_id]
    for n in range(6):
        source = ("web-e2e", "api-unit")[n % 2]
        run_id = automation_service.create_run(
            conn,
            admin,
            project_id,
            {
                "name": f"Nightly #{100 + n}",
                "source": source,
                "tags": ["nightly", "main"] if n % 3 else ["nightly"],
                "milestone_id": milestones[n % 2],
                "links": [{"name": "CI build", "url": f"https://ci.example.com/builds/{100 + n}"}],
            },
        )
        for _thread in range(1 + n % 2):
            thread = automation_service.create_thread(conn, admin, run_id, {})
            tests = []
            for i in range(rng.randint(20, 60)):
                area = rng.choice(DEMO_SUITES[source])
                roll = rng.random()
                status = "passed" if roll < 0.85 else "failure" if roll < 0.95 else "skipped"
                test: dict[str, Any] = {
                    "name": f"test_{area}_{i}",
                    "folder": f"{source}.{area}",
                    "status": status,
                    "elapsed": rng.randint(5_000, 900_000),
                }
                if status == "failure":
                    test["fields"] = [
                        {
                            "type": 4,
                            "name": "Failure",
                            "value": f"AssertionError: expected 200, got 500 ({area})",
                            "meta": {"type": "AssertionError"},
                        },
                        {"type": 4, "name": "Output", "value": f"GET /{area}\n< 500"},
                    ]
                tests.append(test)
            automation_service.append_to_thread(conn, admin, thread, {"tests": tests})
        if n < 5:
            automation_service.complete_run(conn, admin, run_id, {})
