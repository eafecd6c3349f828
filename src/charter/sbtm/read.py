"""SBTM read shapes: one session's SBTM data and metrics, the project's areas and
timeboxes, and the metrics reports (per session, area, tester and day), all read from
the stored metrics and rollups (never by scanning every session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.clock import iso
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.listing import Filter, PageRequest, Plan
from charter.db.tables import SBTM_N_COLUMNS, areas, session_areas, session_testers, sessions
from charter.sbtm import metrics
from charter.sbtm import queries as sbtm_queries
from charter.sbtm.schemas import SessionMetrics
from charter.sbtm.service import area_name, format_duration, metrics_values

# --- areas --------------------------------------------------------------------------


def area_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "name": r["name"],
        "created_at": iso(r["created_at"]),
        "created_by": r["created_by"],
    }


def list_areas(conn: Connection, project_id: int, query: ListQuery) -> Page:
    rows, total = db_listing.rows_page(
        conn, areas, sbtm_queries.areas_of(project_id), query.request()
    )
    return Page([area_dict(r) for r in rows], total)


def area_row(conn: Connection, area_id: int) -> RowMapping:
    row = sbtm_queries.area_by_id(conn, area_id)
    if row is None:
        raise NotFound(f"Area {area_id} not found.")
    return row


def area_view(conn: Connection, area_id: int) -> dict[str, Any]:
    return area_dict(area_row(conn, area_id))


def timeboxes_view(conn: Connection, project_id: int) -> dict[str, Any]:
    return {"project_id": project_id, **sbtm_queries.timeboxes(conn, project_id)}


# --- one session --------------------------------------------------------------------


def _numbers(m: Any, denom: int) -> dict[str, float]:
    return {c: metrics.as_number(int(m[c]), denom) for c in SBTM_N_COLUMNS}


def _units(row: Any, boxes: dict[str, int]) -> float:
    cls = row["duration_class"]
    if cls is None:
        return 0.0
    mult = metrics.multiplier_thousandths(row["duration_multiplier"])
    return metrics.as_number(boxes[cls] * mult, boxes["normal"] * metrics.MULTIPLIER_SCALE)


def session_metrics(conn: Connection, session_id: int) -> SessionMetrics:
    """The stored metrics of one session (exact values as the nearest floats)."""
    row = sbtm_queries.session_row(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    stored = sbtm_queries.metrics_row(conn, session_id)
    # None: a session loaded in bulk, before a recount
    m: Any = metrics_values(conn, session_id) if stored is None else stored
    boxes = sbtm_queries.timeboxes(conn, row["project_id"])
    return SessionMetrics(
        session_id=session_id,
        testers=int(m["testers"]),
        duration=_units(row, boxes),
        **_numbers(m, metrics.denominator(boxes["normal"])),
        bugs=int(m["bugs"]),
        issues=int(m["issues"]),
    )


def proposed_class(conn: Connection, row: Any) -> str | None:
    """For a closed session without a duration class: the class nearest its elapsed
    time (the timer's), proposed for the sheet."""
    if row["duration_class"] is not None or not row["is_closed"] or not row["elapsed"]:
        return None
    return metrics.nearest_class(
        int(row["elapsed"]), sbtm_queries.timeboxes(conn, row["project_id"])
    )


def session_sbtm(conn: Connection, session_id: int) -> dict[str, Any]:
    """GET /sessions/{id}/sbtm: the session's SBTM data, proposal and metrics."""
    row = sbtm_queries.session_row(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    area_ids = sbtm_queries.area_ids_of_session(conn, session_id)
    names = sbtm_queries.area_names(conn, area_ids)
    ordered = sorted(area_ids, key=lambda a: names[a].casefold())
    m = session_metrics(conn, session_id)
    return {
        "session_id": session_id,
        "project_id": row["project_id"],
        "areas": [names[a] for a in ordered],
        "area_ids": ordered,
        "tester_ids": sbtm_queries.tester_ids(conn, session_id),
        "duration_class": row["duration_class"],
        "duration_multiplier": row["duration_multiplier"],
        "duration": format_duration(row["duration_class"], row["duration_multiplier"]),
        **{f"pct_{c}": row[f"pct_{c}"] for c in ("test", "bug", "setup", "charter", "opportunity")},
        "data_files": (row["data_files"] or "").splitlines(),
        "sheet_name": row["sheet_name"],
        "bug_count": row["bug_count"],
        "issue_count": row["issue_count"],
        "proposed_duration_class": proposed_class(conn, row),
        "metrics": {f: getattr(m, f) for f in m.__struct_fields__},
    }


# --- reports ------------------------------------------------------------------------


def _link_filters(conn: Connection, project_id: int, filters: tuple[Filter, ...]) -> list[Filter]:
    """The report's filters on the sessions table: tester_id and area become link
    filters (session_testers, session_areas); `area` matches the area and its children."""
    out = []
    for f in filters:
        if f.column == "tester_id":
            out.append(Filter("link", "user_id", f.value, session_testers, "session_id"))
        elif f.column == "area":
            _display, key = area_name(f.value, "area")
            ids = sbtm_queries.area_ids_under(conn, project_id, key)
            out.append(Filter("link", "area_id", tuple(ids), session_areas, "session_id"))
        else:
            out.append(f)
    return out


FEW = 1000  # at most this many matches: drive the page from the link table


def _stored_total(conn: Connection, project_id: int, filters: list[Filter]) -> int | None:
    """The report's total from a stored count, when one answers it exactly: no filter
    (the project's session count), one tester, or one area without areas below it
    (their rollups' session counts). None: count the rows."""
    if not filters:
        return sbtm_queries.project_session_count(conn, project_id)
    if len(filters) != 1 or filters[0].op != "link":
        return None
    values = list(filters[0].value)  # type: ignore[call-overload]
    if not values:
        return 0
    if len(values) > 1 and filters[0].link_table is session_testers:
        return None
    if filters[0].link_table is session_testers:
        return sbtm_queries.tester_session_count(conn, project_id, values[0])
    if len(values) > 1:  # an area and those below it: sessions counted once
        return sbtm_queries.sessions_with_areas(conn, values)
    return sbtm_queries.area_session_count(conn, values[0])


def session_report(conn: Connection, project_id: int, query: ListQuery) -> Page:
    """GET /projects/{id}/sbtm/sessions: one row per session, from stored metrics."""
    filters = _link_filters(conn, project_id, query.filters)
    req = query.request()
    total = _stored_total(conn, project_id, filters)
    if total is None:
        total = db_listing.count(conn, sessions, sessions.c.project_id == project_id, filters)
    # Few matches of one link filter (a rare area or tester): read them through the
    # link table's index and sort them, rather than walk the sort index probing
    # each session (SQLite has no statistics to know).
    few = len(filters) == 1 and filters[0].op == "link" and total <= FEW
    req = PageRequest(
        filters, req.sort, req.descending, req.limit, req.offset, Plan(from_links=few)
    )
    ids = (
        db_listing.page_ids(conn, sessions, sessions.c.project_id == project_id, req)
        if total
        else []
    )
    rows = {r["id"]: r for r in sbtm_queries.session_report_rows(conn, ids)}
    boxes = sbtm_queries.timeboxes(conn, project_id)
    denom = metrics.denominator(boxes["normal"])
    out = []
    for session_id in ids:
        r = rows[session_id]
        out.append(
            {
                "session_id": session_id,
                "name": r["name"],
                "sheet_name": r["sheet_name"],
                "start": iso(r["started_at"]) if r["started_at"] is not None else None,
                "testers": int(r["testers"]),
                "duration": _units(r, boxes),
                "charter": r["pct_charter"],
                "opportunity": r["pct_opportunity"],
                "test": r["pct_test"],
                "bug": r["pct_bug"],
                "setup": r["pct_setup"],
                **_numbers(r, denom),
                "bugs": int(r["bugs"]),
                "issues": int(r["issues"]),
            }
        )
    return Page(out, total)


def _totals(r: Any, denom: int) -> dict[str, Any]:
    return {"sessions": int(r["sessions"]), **_numbers(r, denom)}


def area_report(conn: Connection, project_id: int, query: ListQuery) -> Page:
    """Per area (every area, those no session explored with zeros), by name."""
    rows, total = sbtm_queries.area_totals_page(conn, project_id, query.per_page, query.offset)
    denom = metrics.denominator(sbtm_queries.timeboxes(conn, project_id)["normal"])
    return Page(
        [
            {
                "area_id": r["area_id"],
                "area": r["area"],
                **_totals(r, denom),
                "bugs": int(r["bugs"]),
                "issues": int(r["issues"]),
            }
            for r in rows
        ],
        total,
    )


def tester_report(conn: Connection, project_id: int, query: ListQuery) -> Page:
    """Per tester: a session's values and bug/issue counts split evenly among its testers."""
    rows, total = sbtm_queries.tester_totals_page(conn, project_id, query.per_page, query.offset)
    denom = metrics.denominator(sbtm_queries.timeboxes(conn, project_id)["normal"])
    return Page(
        [
            {
                "user_id": r["user_id"],
                "name": r["name"],
                **_totals(r, denom),
                "bugs": metrics.as_number(int(r["bugs_share"]), metrics.SHARE_SCALE),
                "issues": metrics.as_number(int(r["issues_share"]), metrics.SHARE_SCALE),
            }
            for r in rows
        ],
        total,
    )


def day_report(conn: Connection, project_id: int, query: ListQuery) -> Page:
    """Per day (UTC) of the sessions' start."""
    after = before = None
    for f in query.filters:
        if f.column == "start_after":
            after = f.value
        elif f.column == "start_before":
            before = f.value
    rows, total = sbtm_queries.day_totals_page(
        conn,
        project_id,
        query.per_page,
        query.offset,
        after if isinstance(after, datetime) else None,
        before if isinstance(before, datetime) else None,
    )
    denom = metrics.denominator(sbtm_queries.timeboxes(conn, project_id)["normal"])
    return Page(
        [
            {
                "date": r["day"].isoformat() if isinstance(r["day"], date) else str(r["day"]),
                **_totals(r, denom),
                "bugs": int(r["bugs"]),
                "issues": int(r["issues"]),
            }
            for r in rows
        ],
        total,
    )


def session_project(conn: Connection, session_id: int) -> int | None:
    """The project of a session (None: no such session)."""
    row = sbtm_queries.session_row(conn, session_id)
    return None if row is None else int(row["project_id"])


# --- the SBTM dashboard and its sessions page (web UI) -----------------------------

DASHBOARD_AREAS = 100  # areas charted (by name); the rest are in the API report
DASHBOARD_DAYS = 60  # the latest days with sessions


@dataclass
class Board:
    project: dict[str, Any]
    areas: list[dict[str, Any]]
    area_total: int
    testers: list[dict[str, Any]]
    days: list[dict[str, Any]]
    totals: dict[str, Any]


def dashboard(conn: Connection, user: User, project_id: int) -> Board:
    project = require_project(conn, user, project_id, "read")
    areas = area_report(conn, project_id, ListQuery(per_page=DASHBOARD_AREAS, descending=False))
    testers = tester_report(conn, project_id, ListQuery(per_page=DASHBOARD_AREAS))
    denom = metrics.denominator(sbtm_queries.timeboxes(conn, project_id)["normal"])
    _none, day_count = sbtm_queries.day_totals_page(conn, project_id, 0, 0)
    rows, _ = sbtm_queries.day_totals_page(
        conn, project_id, DASHBOARD_DAYS, max(day_count - DASHBOARD_DAYS, 0)
    )
    days = [
        {
            "date": _day_text(r["day"]),
            **_totals(r, denom),
            "bugs": int(r["bugs"]),
            "issues": int(r["issues"]),
        }
        for r in rows
    ]
    sums = sbtm_queries.day_totals_sum(conn, project_id)
    totals = {**_totals(sums, denom), "bugs": int(sums["bugs"]), "issues": int(sums["issues"])}
    return Board(
        project={"id": project["id"], "name": project["name"]},
        areas=areas.rows,
        area_total=areas.total,
        testers=testers.rows,
        days=days,
        totals=totals,
    )


def _day_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


SESSIONS_PAGE_SIZE = 100


def sessions_page(
    conn: Connection,
    user: User,
    project_id: int,
    area: str | None,
    tester_id: int | None,
    day: date | None,
    page: int,
) -> tuple[dict[str, Any], Page]:
    """The sessions behind a dashboard mark: those with an area (or below it), a
    tester, or a start day."""
    project = require_project(conn, user, project_id, "read")
    filters: list[Filter] = []
    if area is not None:
        filters.append(Filter("contains", "area", area))
    if tester_id is not None:
        filters.append(Filter("in", "tester_id", (tester_id,)))
    if day is not None:
        start = datetime(day.year, day.month, day.day)
        filters.append(Filter("ge", "started_at", start))
        filters.append(Filter("lt", "started_at", start + timedelta(days=1)))
    query = ListQuery(
        page=page,
        per_page=SESSIONS_PAGE_SIZE,
        sort="started_at",
        filters=tuple(filters),
    )
    return {"id": project["id"], "name": project["name"]}, session_report(conn, project_id, query)
