"""SBTM writes: the project's areas and timeboxes, a session's sheet data (areas,
testers, duration, task breakdown, C/O, data files, sheet name), and the stored metrics
of every session with their rollups per area, tester and day, changed in the same
transaction as every write that affects them (sbtm/metrics.py has the formulas).

Other packages call the hooks here (session create, assignee change, start, delete,
result writes); the sheet importer and the debrief workflow call set_session_sheet.
Nothing else writes the rollups. Callers check permissions.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import permissions
from charter.auth import service as auth
from charter.catalog import read as catalog_read
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.db import locks
from charter.db.tables import DURATION_CLASSES, SBTM_N_COLUMNS
from charter.debriefs import gate as debrief_gate
from charter.sbtm import metrics
from charter.sbtm import queries as sbtm_queries
from charter.sbtm.schemas import SheetData

MAX_AREA_NAME = 500
MAX_AREAS = 200
MAX_DATA_FILES = 1000
MAX_DATA_FILE = 2000
PCT_FIELDS = ("pct_test", "pct_bug", "pct_setup", "pct_charter", "pct_opportunity")
SBTM_FIELDS = (
    "areas",
    "tester_ids",
    "duration_class",
    "duration_multiplier",
    "duration",
    *PCT_FIELDS,
    "data_files",
    "sheet_name",
)


# --- areas --------------------------------------------------------------------------


def area_name(value: Any, field: str = "name") -> tuple[str, str]:
    """(display form, key) of an area name: each `|`-separated part trimmed, joined
    with " | "; the key is the display form NFKC-normalised and casefolded."""
    if not isinstance(value, str):
        raise Invalid.field(field, "Must be a string.")
    parts = [p.strip() for p in value.split("|")]
    if any(not p for p in parts):
        raise Invalid.field(field, "Every part of an area name (between |) must be non-empty.")
    display = " | ".join(parts)
    if len(display) > MAX_AREA_NAME:
        raise Invalid.field(field, f"At most {MAX_AREA_NAME} characters.")
    return display, unicodedata.normalize("NFKC", display).casefold()


def area_ids_for(
    conn: Connection, project_id: int, names: Sequence[str], actor: int | None = None
) -> list[int]:
    """The ids of these areas of the project, in order, duplicates dropped; unknown
    names are created."""
    wanted: dict[str, str] = {}
    for index, name in enumerate(names):
        display, key = area_name(name, f"areas.{index}")
        wanted.setdefault(key, display)
    locks.serialize(conn, "sbtm-areas", project_id)  # concurrent creators of one name
    known = sbtm_queries.areas_by_keys(conn, project_id, wanted)
    ids = []
    for key, display in wanted.items():
        row = known.get(key)
        ids.append(
            row["id"] if row is not None else _insert_area(conn, project_id, display, key, actor)
        )
    return ids


def _insert_area(
    conn: Connection, project_id: int, display: str, key: str, actor: int | None
) -> int:
    return sbtm_queries.insert_area(
        conn,
        project_id=project_id,
        name=display,
        name_key=key,
        created_at=utcnow(),
        created_by=actor,
    )


def create_area(conn: Connection, project_id: int, actor: int, body: Mapping[str, Any]) -> int:
    display, key = area_name(inputs.required(body, "name"))
    locks.serialize(conn, "sbtm-areas", project_id)
    if sbtm_queries.areas_by_keys(conn, project_id, [key]):
        raise Conflict(
            f"The area \u201c{display}\u201d exists already.", {"name": ["Exists already."]}
        )
    return _insert_area(conn, project_id, display, key, actor)


def rename_area(conn: Connection, area: RowMapping, body: Mapping[str, Any]) -> None:
    if "name" not in body:
        return
    display, key = area_name(body["name"])
    locks.serialize(conn, "sbtm-areas", area["project_id"])
    same = sbtm_queries.areas_by_keys(conn, area["project_id"], [key]).get(key)
    if same is not None and same["id"] != area["id"]:
        raise Conflict(
            f"The area \u201c{display}\u201d exists already.", {"name": ["Exists already."]}
        )
    sbtm_queries.rename_area(conn, area["id"], display, key)


def delete_area(conn: Connection, area: RowMapping) -> None:
    used = sbtm_queries.area_use_count(conn, area["id"])
    if used:
        raise Conflict(f"The area \u201c{area['name']}\u201d is used by {used} session(s).")
    sbtm_queries.delete_area(conn, area["id"])


def parse_area_list(text: str) -> list[str]:
    """The names of a plain area list: one per line, blank lines ignored, an optional
    `#AREAS` header line first."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and lines[0].upper() == "#AREAS":
        lines = lines[1:]
    return lines


def import_areas(
    conn: Connection, project_id: int, actor: int, names: Sequence[str]
) -> tuple[list[int], list[int]]:
    """Create the areas not known yet: (ids created, ids that existed), in list order."""
    if len(names) > 10_000:
        raise Invalid.field("areas", "At most 10000 areas per import.")
    keys = [area_name(n, f"areas.{i}")[1] for i, n in enumerate(names)]
    locks.serialize(conn, "sbtm-areas", project_id)
    before = set(sbtm_queries.areas_by_keys(conn, project_id, keys))
    ids = area_ids_for(conn, project_id, names, actor)
    created: list[int] = []
    existing: list[int] = []
    for key, area_id in zip(dict.fromkeys(keys), ids, strict=True):
        (existing if key in before else created).append(area_id)
    return created, existing


# --- timeboxes ----------------------------------------------------------------------


def set_timeboxes(conn: Connection, project_id: int, body: Mapping[str, Any]) -> None:
    """Change the project's timeboxes (minutes); every session's metrics follow."""
    current = sbtm_queries.timeboxes(conn, project_id)
    values = {
        name: inputs.integer(name, body[name], 1, metrics.MAX_TIMEBOX)
        for name in DURATION_CLASSES
        if name in body
    }
    if not values or values.items() <= current.items():
        return
    sbtm_queries.set_timeboxes(conn, project_id, values)
    rebuild(conn, project_id)


# --- a session's sheet data ---------------------------------------------------------


def _pct(name: str, value: Any) -> int | None:
    if value is None:
        return None
    return inputs.integer(name, value, 0, 100)


def _multiplier(value: Any, name: str = "duration_multiplier") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid.field(name, "Must be a positive number or null.")
    if not 0 < value <= metrics.MAX_MULTIPLIER:
        raise Invalid.field(name, f"Must be above 0 and at most {metrics.MAX_MULTIPLIER}.")
    if abs(value * 1000 - round(value * 1000)) > 1e-6:
        raise Invalid.field(name, "At most three decimals.")
    return round(float(value), 3)


def parse_duration(value: Any, name: str = "duration") -> tuple[str | None, float | None]:
    """`long`, `long * 2`, `normal * 1.5` (the sheet's form) -> (class, multiplier)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise Invalid.field(
            name, "Must be a duration like \u201cnormal\u201d or \u201clong * 2\u201d."
        )
    cls, star, mult = value.strip().lower().partition("*")
    cls = cls.strip()
    if cls not in DURATION_CLASSES:
        raise Invalid.field(name, "The class must be short, normal or long.")
    if not star:
        return cls, None
    try:
        number = float(mult.strip())
    except ValueError:
        raise Invalid.field(name, "The multiplier must be a positive number.") from None
    return cls, _multiplier(number, name)


def format_duration(duration_class: str | None, multiplier: float | None) -> str | None:
    if duration_class is None:
        return None
    if multiplier is None or multiplier == 1:
        return duration_class
    return f"{duration_class} * {multiplier:g}"


def _check_sums(values: Mapping[str, Any]) -> None:
    """T+B+S = 100 and C+O = 100 when given; all of a group or none."""
    for group, label in (
        (("pct_test", "pct_bug", "pct_setup"), "T+B+S"),
        (("pct_charter", "pct_opportunity"), "C+O"),
    ):
        given = [values[f] for f in group]
        if all(v is None for v in given):
            continue
        missing = [f for f, v in zip(group, given, strict=True) if v is None]
        if missing:
            raise Invalid.field(missing[0], f"Give all of {', '.join(group)} or none.")
        if sum(given) != 100:
            raise Invalid.field(group[0], f"{label} must add up to 100 (it is {sum(given)}).")


def _data_files(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid.field("data_files", "Must be a list of names or URLs.")
    lines = [v.strip() for v in value if v.strip()]
    if len(lines) > MAX_DATA_FILES or any(len(v) > MAX_DATA_FILE or "\n" in v for v in lines):
        raise Invalid.field(
            "data_files", f"At most {MAX_DATA_FILES} entries of {MAX_DATA_FILE} characters."
        )
    return "\n".join(lines) or None


def _tester_list(conn: Connection, value: Any, project_id: int, check_role: bool) -> list[int]:
    if not isinstance(value, list) or not all(inputs.is_id(v) for v in value):
        raise Invalid.field("tester_ids", "Must be a list of user ids.")
    ids = list(dict.fromkeys(value))
    if len(ids) > metrics.MAX_TESTERS:
        raise Invalid.field("tester_ids", f"At most {metrics.MAX_TESTERS} testers.")
    for user_id in ids:
        user = auth.user_by_id(conn, user_id)
        if user is None:
            raise Invalid.field("tester_ids", f"User {user_id} is not a tester of this project.")
        if (
            check_role
            and not user["is_admin"]
            and permissions.member_role(conn, project_id, user_id) not in ("tester", "manager")
        ):
            raise Invalid.field(
                "tester_ids", f"User {user_id} is not a tester or manager of this project."
            )
    return ids


def validate_changes(
    conn: Connection, session: RowMapping, body: Mapping[str, Any], check_role: bool = True
) -> dict[str, Any]:
    """The SBTM changes a body asks for, validated (422 naming the field): session
    columns, plus `areas` (ids) and `tester_ids` when given."""
    project_id = session["project_id"]
    out: dict[str, Any] = {}
    if "duration" in body and ("duration_class" in body or "duration_multiplier" in body):
        raise Invalid.field("duration", "Give duration, or duration_class and duration_multiplier.")
    if "duration" in body:
        out["duration_class"], out["duration_multiplier"] = parse_duration(body["duration"])
    if "duration_class" in body:
        value = body["duration_class"]
        if value is not None and value not in DURATION_CLASSES:
            raise Invalid.field("duration_class", "Must be short, normal, long or null.")
        out["duration_class"] = value
    if "duration_multiplier" in body:
        out["duration_multiplier"] = _multiplier(body["duration_multiplier"])
    for pct in PCT_FIELDS:
        if pct in body:
            out[pct] = _pct(pct, body[pct])
    _check_sums({pct: out.get(pct, session[pct]) for pct in PCT_FIELDS})
    if "data_files" in body:
        out["data_files"] = _data_files(body["data_files"])
    if "sheet_name" in body:
        given = inputs.optional_text("sheet_name", body["sheet_name"], 255)
        sheet = given.strip() if given is not None else None
        if sheet and sbtm_queries.session_ids_with_sheet(conn, project_id, sheet, session["id"]):
            raise Conflict(
                f"Another session of the project has the sheet name \u201c{sheet}\u201d.",
                {"sheet_name": ["Exists already."]},
            )
        out["sheet_name"] = sheet or None
    if "areas" in body:
        value = body["areas"]
        if not isinstance(value, list) or len(value) > MAX_AREAS:
            raise Invalid.field("areas", f"Must be a list of at most {MAX_AREAS} area names.")
        for index, area in enumerate(value):
            area_name(area, f"areas.{index}")
        out["areas"] = value
    if "tester_ids" in body:
        out["tester_ids"] = _tester_list(conn, body["tester_ids"], project_id, check_role)
    return out


def update_session_sbtm(
    conn: Connection, session_id: int, actor: int, body: Mapping[str, Any], check_role: bool = True
) -> None:
    """Change the given SBTM fields of a session (the API's PUT/PATCH); a closed
    session refuses (409), as for every other session change."""
    session = sbtm_queries.session_for_update(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    if session["is_closed"]:
        raise Conflict(
            f"The session \u201c{session['name']}\u201d is closed; reopen it to change it."
        )
    _apply(conn, session, actor, validate_changes(conn, session, body, check_role))


def set_session_sheet(conn: Connection, session_id: int, data: SheetData, actor: int) -> None:
    """Write a whole sheet's SBTM data (areas, creating unknown ones; testers, the
    first also the assignee; duration; breakdown; C/O; data files; sheet name) and
    re-roll the metrics, in the caller's transaction. For the sheet importer and the
    debrief workflow: testers need not be project members (imported users)."""
    session = sbtm_queries.session_for_update(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    debrief_gate.refuse_if_approved(conn, session_id)  # an approved sheet is locked
    body = {
        "areas": list(data.areas),
        "tester_ids": list(data.tester_ids),
        "duration_class": data.duration_class,
        "duration_multiplier": data.duration_multiplier,
        "pct_test": data.pct_test,
        "pct_bug": data.pct_bug,
        "pct_setup": data.pct_setup,
        "pct_charter": data.pct_charter,
        "pct_opportunity": data.pct_opportunity,
        "data_files": list(data.data_files),
        "sheet_name": data.sheet_name,
    }
    _apply(conn, session, actor, validate_changes(conn, session, body, check_role=False))


def _apply(conn: Connection, session: RowMapping, actor: int, changes: dict[str, Any]) -> None:
    session_id = session["id"]
    with rerolled(conn, session_id):
        columns = {k: v for k, v in changes.items() if k not in ("areas", "tester_ids")}
        if "areas" in changes:
            ids = area_ids_for(conn, session["project_id"], changes["areas"], actor)
            sbtm_queries.set_session_areas(conn, session_id, ids)
        if "tester_ids" in changes:
            testers = changes["tester_ids"]
            sbtm_queries.set_testers(conn, session_id, testers)
            assignee = testers[0] if testers else None
            if assignee != session["assignee_id"]:
                sbtm_queries.set_assignee(conn, session_id, assignee)
        sbtm_queries.update_session(
            conn, session_id, **columns, updated_at=utcnow(), updated_by=actor
        )


# --- hooks other packages call in their transactions --------------------------------


def session_created(conn: Connection, session_id: int, assignee_id: int | None) -> None:
    """A new session: its assignee is its first tester; its metrics row exists."""
    if assignee_id is not None:
        sbtm_queries.set_testers(conn, session_id, [assignee_id])
    _roll(conn, session_id)


def assignee_changed(conn: Connection, session_id: int, assignee_id: int | None) -> None:
    """The assignee replaces the first tester (and leaves the rest if listed there);
    no assignee: no testers."""
    with rerolled(conn, session_id):
        old = sbtm_queries.tester_ids(conn, session_id)
        if assignee_id is None:
            testers: list[int] = []
        else:
            testers = [assignee_id, *(t for t in old[1:] if t != assignee_id)]
        sbtm_queries.set_testers(conn, session_id, testers)


def session_changed(conn: Connection, session_id: int) -> None:
    """Something the metrics read changed (the start, a result's kind): re-roll,
    recounting the session's bug and issue notes."""
    with rerolled(conn, session_id):
        counts = sbtm_queries.category_counts(conn, session_id)
        sbtm_queries.update_session(
            conn, session_id, bug_count=counts.get("bug", 0), issue_count=counts.get("issue", 0)
        )


def session_deleting(conn: Connection, session_id: int) -> None:
    """Before a session is deleted: take it out of the rollups, drop its rows."""
    _unroll(conn, session_id)
    sbtm_queries.delete_session_rows(conn, session_id)


# --- stored metrics and rollups -----------------------------------------------------


@contextmanager
def rerolled(conn: Connection, session_id: int) -> Iterator[None]:
    """Let the caller change the session, then move its contribution in the rollups
    from what it was to what it is now: one net change per rollup row, written
    table by table (areas, testers, days) each in key order, so concurrent writers
    lock shared rows in one global order and never deadlock (PostgreSQL)."""
    before = _contribution(conn, session_id, sbtm_queries.metrics_row(conn, session_id))
    yield
    new = metrics_values(conn, session_id)
    sbtm_queries.put_metrics_row(conn, new)
    after = _contribution(conn, session_id, new)
    _write_net(conn, new["project_id"], before, after)


Contribution = dict[str, dict[Any, dict[str, int]]]  # rollup -> key -> values


def _contribution(conn: Connection, session_id: int, m: Any) -> Contribution:
    """What a metrics row adds to each rollup row (nothing for no row)."""
    out: Contribution = {"areas": {}, "testers": {}, "days": {}}
    if m is None:
        return out
    whole, per_tester = _deltas(m, 1)
    for area_id in sbtm_queries.area_ids_of_session(conn, session_id):
        out["areas"][area_id] = whole
    if per_tester:
        for user_id in sbtm_queries.tester_ids(conn, session_id):
            out["testers"][user_id] = per_tester
    if m["start_day"] is not None:
        out["days"][m["start_day"]] = whole
    return out


def _write_net(
    conn: Connection, project_id: int, before: Contribution, after: Contribution
) -> None:
    for rollup, add in (
        ("areas", sbtm_queries.add_to_area_rows),
        ("testers", sbtm_queries.add_to_tester_rows),
        ("days", sbtm_queries.add_to_day_rows),
    ):
        net: dict[Any, dict[str, int]] = {}
        for sign, side in ((-1, before[rollup]), (1, after[rollup])):
            for key, values in side.items():
                row = net.setdefault(key, {})
                for column, value in values.items():
                    row[column] = row.get(column, 0) + sign * value
        changed = {k: v for k, v in net.items() if any(v.values())}
        add(conn, project_id, changed)


def _deltas(m: Any, sign: int) -> tuple[dict[str, int], dict[str, int]]:
    """(per area or day, per tester) additions for a metrics row."""
    whole = {c: sign * int(m[c]) for c in SBTM_N_COLUMNS}
    whole.update(sessions=sign, bugs=sign * int(m["bugs"]), issues=sign * int(m["issues"]))
    testers = int(m["testers"])
    per_tester = {c: sign * (int(m[c]) // testers) for c in SBTM_N_COLUMNS} if testers else {}
    if testers:
        per_tester.update(
            sessions=sign,
            bugs_share=sign * metrics.share(int(m["bugs"]), testers),
            issues_share=sign * metrics.share(int(m["issues"]), testers),
        )
    return whole, per_tester


def _unroll(conn: Connection, session_id: int) -> None:
    """Take the session out of the rollups (before it is deleted)."""
    old = sbtm_queries.metrics_row(conn, session_id)
    if old is not None:
        before = _contribution(conn, session_id, old)
        _write_net(conn, old["project_id"], before, {"areas": {}, "testers": {}, "days": {}})
        sbtm_queries.delete_metrics_row(conn, session_id)


def _roll(conn: Connection, session_id: int) -> None:
    """Put a new session (no metrics row yet) into the rollups."""
    new = metrics_values(conn, session_id)
    sbtm_queries.put_metrics_row(conn, new)
    empty: Contribution = {"areas": {}, "testers": {}, "days": {}}
    _write_net(conn, new["project_id"], empty, _contribution(conn, session_id, new))


def _inputs(conn: Connection, row: RowMapping, testers: int) -> metrics.Inputs:
    return metrics.Inputs(
        duration_class=row["duration_class"],
        multiplier=row["duration_multiplier"],
        timeboxes=sbtm_queries.timeboxes(conn, row["project_id"]),
        testers=testers,
        pct_test=row["pct_test"],
        pct_bug=row["pct_bug"],
        pct_setup=row["pct_setup"],
        pct_charter=row["pct_charter"],
        pct_opportunity=row["pct_opportunity"],
        bugs=row["bug_count"],
        issues=row["issue_count"],
    )


def metrics_values(conn: Connection, session_id: int) -> dict[str, Any]:
    """The metrics row a session should have, computed from its data."""
    row = sbtm_queries.session_row(conn, session_id)
    assert row is not None
    testers = sbtm_queries.tester_ids(conn, session_id)
    values = metrics.numerators(_inputs(conn, row, len(testers)))
    start = row["started_at"]
    return {
        "session_id": session_id,
        "project_id": row["project_id"],
        "start_day": start.date() if start is not None else None,
        "testers": len(testers),
        **values,
        "bugs": row["bug_count"],
        "issues": row["issue_count"],
    }


def rebuild(conn: Connection, project_id: int | None = None) -> int:
    """Recompute every session's bug and issue counts, metrics and the rollups (of one
    project, or all) from the data, set-based (`charter recount`, a timebox change,
    bulk loaders). Returns how many sessions' metrics rows had drifted."""
    # every session of the project first (id order, as each writer locks its own),
    # so that no reroll runs beside the rebuild
    sbtm_queries.lock_sessions(conn, project_id)
    before = sbtm_queries.metrics_rows(conn, project_id)
    sbtm_queries.rebuild_all(conn, project_id, metrics.SHARE_SCALE)
    after = sbtm_queries.metrics_rows(conn, project_id)
    return sum(1 for k, v in after.items() if before.get(k) != v)


DEMO_AREAS = (
    "Checkout | Payment",
    "Checkout | Cart",
    "Search | Filters",
    "Search | Ranking",
    "Account | Sign-in",
    "Account | Profile",
    "OS | Linux",
    "OS | Windows",
    "OS | macOS",
    "Build | 4.1",
    "Build | 4.2",
    "Strategy | Claims Testing",
    "Strategy | Risk",
    "Mobile | Android",
    "Mobile | iOS",
    "API | Orders",
    "API | Users",
    "Reports",
    "Admin | Settings",
    "Admin | Users",
)
DEMO_UNEXPLORED = ("Accessibility | Screen readers", "Localisation | German")


def fill_demo(conn: Connection, project_ids: Sequence[int], second_tester: int, actor: int) -> None:
    """SBTM data for the demo's bulk-loaded sessions (every session a sheet, areas,
    testers, some bug and issue notes), then the metrics rebuilt."""
    for project_id in project_ids:
        area_ids = area_ids_for(conn, project_id, DEMO_AREAS, actor)
        area_ids_for(conn, project_id, DEMO_UNEXPLORED, actor)
        kinds: dict[str, int] = {}
        for kind in catalog_read.kind_rows(conn, project_id):
            kinds.setdefault(kind["category"], kind["id"])
        sbtm_queries.fill_demo(conn, project_id, area_ids, second_tester, kinds)
    rebuild(conn)
