"""A project's dashboard: its headline counters, and for a window of days the sessions
created by state, their results by status per day and the time spent per tester.

The headline counters are the project's stored counters. The window's sessions, states
and times come from the per-day rollup of the sessions (session_day_counts, kept by
triggers; dashboard/queries.py) plus the live time of the few sessions running now;
its results come from the per-day counts kept with every result write
(results/queries.py): a result counts on the day it was recorded. Both cost the
number of days in the window, not the number of sessions in it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.catalog import read as catalog_read
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Invalid
from charter.dashboard import queries as dashboard_queries
from charter.results import read as result_read
from charter.users import read as user_read

# A week by default; longer windows cost about the same (the per-day rollups), up to
# MAX_DAYS.
DEFAULT_DAYS = 7


MAX_DAYS = 90


# Results without a status (plain notes) and results of deactivated statuses.
OTHER_NAME = "No status"


OTHER_COLOUR = "#d4d8dd"


@dataclass(frozen=True)
class Window:
    """The days `first`..`last` (UTC), both included."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class StatusSeries:
    status_id: int | None  # None: OTHER_NAME
    name: str
    colour: str
    per_day: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_day)


@dataclass(frozen=True)
class StateCount:
    state_id: int
    name: str
    sessions: int


@dataclass(frozen=True)
class TesterTime:
    user_id: int | None  # None: unassigned sessions
    name: str
    elapsed: int  # microseconds
    sessions: int


@dataclass(frozen=True)
class Dashboard:
    project: dict[str, Any]  # id, name and the stored session/milestone counters
    window: Window
    days: int  # the window's length
    statuses: list[StatusSeries]
    states: list[StateCount]
    testers: list[TesterTime]
    sessions: int  # created in the window
    results: int
    elapsed: int


def parse_days(raw: str | None) -> int:
    """The `days` parameter: a whole number 1..MAX_DAYS; empty means the default."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    # ASCII digits only: str.isdigit() and int() also take other scripts' digits.
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_DAYS:
        raise Invalid.field("days", f"Must be a whole number from 1 to {MAX_DAYS}.")
    return int(raw)


def parse_until(raw: str | None) -> date | None:
    """The `until` parameter: a day, YYYY-MM-DD; empty means the latest activity."""
    if raw is None or raw == "":
        return None
    try:
        # Exactly YYYY-MM-DD: fromisoformat alone also takes week dates and 20260101.
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        if not inputs.day_in_range(day):  # a window around 9999-12-31 would overflow
            raise ValueError(raw)
        return day
    except ValueError:
        raise Invalid.field(
            "until", f"Must be a date, YYYY-MM-DD, from {inputs.MIN_DAY} to {inputs.MAX_DAY}."
        ) from None


def window_for(days: int, until: date | None, latest: datetime | None, today: date) -> Window:
    """`days` days ending on `until`; by default on the day of the newest session (so
    an idle project still shows its last busy weeks), never after today."""
    last = until or min(latest.date() if latest else today, today)
    return Window(last - timedelta(days=days - 1), last)


_PROJECT_KEYS = (
    "id",
    "name",
    "is_completed",
    "session_count",
    "session_active_count",
    "session_closed_count",
    "milestone_count",
    "milestone_active_count",
    "milestone_completed_count",
)


def project_dashboard(
    conn: Connection,
    user: User,
    project_id: int,
    days: int = DEFAULT_DAYS,
    until: date | None = None,
) -> Dashboard:
    project = require_project(conn, user, project_id, "read")
    if not 1 <= days <= MAX_DAYS:
        raise Invalid.field("days", f"Must be a whole number from 1 to {MAX_DAYS}.")
    latest = None if until else dashboard_queries.latest_created_at(conn, project_id)
    window = window_for(days, until, latest, utcnow().date())
    statuses = catalog_read.active_statuses(conn)
    since = datetime.combine(window.first, datetime.min.time())
    end = datetime.combine(window.last + timedelta(days=1), datetime.min.time())
    rows = dashboard_queries.window(conn, project_id, window.first, window.last)
    running = dashboard_queries.running_time(conn, project_id, since, end)

    index = {d.isoformat(): i for i, d in enumerate(window.days)}
    per_status = [[0] * len(index) for _ in range(len(statuses) + 1)]
    by_state: dict[int, int] = defaultdict(int)
    by_tester: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    # Results count on the day they were recorded (the per-day rollup), not on the
    # day their session was created; statuses without a slot of their own: Other.
    slot_of = {int(s["id"]): k for k, s in enumerate(statuses)}
    n_results = 0
    for day, status_id, n in result_read.results_per_day(
        conn, project_id, window.first, window.last
    ):
        per_status[slot_of.get(status_id, -1)][index[day.isoformat()]] += n
        n_results += n
    for r in rows:
        by_state[r.state_id] += r.sessions
        by_tester[r.assignee_id][0] += r.elapsed
        by_tester[r.assignee_id][1] += r.sessions
    for runner, extra in running.items():  # running sessions count their live time
        by_tester[runner][0] += extra

    series = [
        StatusSeries(int(s["id"]), s["name"], s["color"], per_status[k])
        for k, s in enumerate(statuses)
    ]
    series.append(StatusSeries(None, OTHER_NAME, OTHER_COLOUR, per_status[-1]))
    states = [
        StateCount(s["id"], s["name"], by_state.get(s["id"], 0))
        for s in dashboard_queries.all_states(conn)
    ]
    names = {u["id"]: u["name"] for u in user_read.user_names(conn, {k for k in by_tester if k})}
    testers = sorted(
        (
            TesterTime(uid, names.get(uid, f"User {uid}") if uid else "Unassigned", e, n)
            for uid, (e, n) in by_tester.items()
        ),
        key=lambda t: (-t.elapsed, t.name),
    )
    return Dashboard(
        project={k: project[k] for k in _PROJECT_KEYS},
        window=window,
        days=days,
        statuses=series,
        states=states,
        testers=testers,
        sessions=sum(r.sessions for r in rows),
        results=n_results,
        elapsed=sum(r.elapsed for r in rows) + sum(running.values()),
    )
