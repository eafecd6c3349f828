"""SBTM read shapes: one session's SBTM data and metrics, the project's areas and
timeboxes, and the metrics reports (per session, area, tester and day), all read from
the stored metrics and rollups (never by scanning every session)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.core.clock import iso
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import SBTM_N_COLUMNS, areas
from charter.sbtm import metrics
from charter.sbtm import queries as sbtm_queries
from charter.sbtm.schemas import SessionMetrics
from charter.sbtm.service import format_duration, metrics_values

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


def _numbers(m: Mapping[str, Any], denom: int) -> dict[str, float]:
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
