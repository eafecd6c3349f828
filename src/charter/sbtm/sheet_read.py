"""A session as a session sheet: the typed `Sheet` (for the text export and the printable
page) and the sheet file names of an export.

Notes map back by their kind's category: test notes are the TEST NOTES paragraphs;
a bug or issue note becomes a `#BUG` / `#ISSUE` entry whose id-or-title is the note's
first line when the note has more than one line, so that import (which joins them
again) gives back the same note text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.core.clock import utcnow
from charter.core.errors import NotFound
from charter.sbtm import queries as sbtm_queries
from charter.sbtm.sheet_format import Entry, Sheet, write_sheet

MAX_REF = 120  # a longer first line stays in the entry's text


@dataclass
class SessionSheet:
    """A sheet with what the printable page shows besides: the session's own fields."""

    session_id: int
    project_id: int
    session_name: str
    is_closed: bool
    sheet: Sheet
    complete: bool  # the session has everything a sheet needs (duration, T/B/S, C/O)


def _entry(note: str) -> Entry:
    lines = note.split("\n")
    if len(lines) > 1 and 0 < len(lines[0].strip()) <= MAX_REF:
        return Entry(lines[0].strip(), "\n".join(lines[1:]))
    return Entry(None, note)


def session_sheet(conn: Connection, session_id: int) -> SessionSheet:
    row = sbtm_queries.session_row(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    return _sheet_of(conn, row)


def _sheet_of(conn: Connection, row: RowMapping) -> SessionSheet:
    session_id = row["id"]
    area_ids = sbtm_queries.area_ids_of_session(conn, session_id)
    names = sbtm_queries.area_names(conn, area_ids)
    testers = sbtm_queries.tester_ids(conn, session_id)
    tester_names = sbtm_queries.user_names(conn, testers)
    notes: list[str] = []
    bugs: list[Entry] = []
    issues: list[Entry] = []
    for r in sbtm_queries.sheet_results(conn, session_id):
        text = (r["note"] or "").strip("\n")
        if not text.strip():
            continue
        if r["category"] == "bug":
            bugs.append(_entry(text))
        elif r["category"] == "issue":
            issues.append(_entry(text))
        else:
            notes.append(text)
    start = row["started_at"] or row["created_at"] or utcnow()
    pcts = [row[f"pct_{c}"] for c in ("test", "bug", "setup", "charter", "opportunity")]
    complete = row["duration_class"] is not None and None not in pcts
    sheet = Sheet(
        name=row["sheet_name"] or "",
        charter=(row["charter"] or "").strip("\n") or row["name"],
        areas=sorted((names[a] for a in area_ids), key=str.casefold),
        start=start.replace(tzinfo=UTC),
        testers=[tester_names[t] for t in testers if t in tester_names],
        duration_class=row["duration_class"] or "normal",
        duration_multiplier=float(row["duration_multiplier"] or 1.0),
        # a sheet without a breakdown says all test, all on charter (the metrics'
        # reading of missing values); `complete` tells the page
        pct_test=row["pct_test"] if row["pct_test"] is not None else 100,
        pct_bug=row["pct_bug"] or 0,
        pct_setup=row["pct_setup"] or 0,
        pct_charter=row["pct_charter"] if row["pct_charter"] is not None else 100,
        pct_opportunity=row["pct_opportunity"] or 0,
        data_files=(row["data_files"] or "").splitlines(),
        test_notes=notes,
        bugs=bugs,
        issues=issues,
    )
    return SessionSheet(
        session_id, row["project_id"], row["name"], row["is_closed"], sheet, complete
    )


def sheet_file_for(conn: Connection, user: User, session_id: int) -> tuple[str, str]:
    """GET /sessions/{id}/sheet: (file name, sheet text) of the session, for members
    who may read its project."""
    found = session_sheet(conn, session_id)
    require_access(conn, user, found.project_id, "read")
    name = found.sheet.name or file_name(found.sheet, set())
    return name, write_sheet(found.sheet)


def header_name(name: str) -> str:
    """A file name safe in a Content-Disposition header: ASCII letters, digits, '.',
    '_' and '-'; anything else becomes '_'."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)


def initials(name: str) -> str:
    letters = [w[0] for w in re.findall(r"[^\W\d_]+", name.casefold()) if w[0].isascii()]
    return "".join(letters)[:4] or "xx"


def file_name(sheet: Sheet, taken: set[str]) -> str:
    """`et-<initials>-<yymmdd>-<letter>.ses` for a session without a sheet name: the
    first tester's initials, the start day, the first letter not taken."""
    who = initials(sheet.testers[0]) if sheet.testers else "xx"
    day = sheet.start.strftime("%y%m%d")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        name = f"et-{who}-{day}-{letter}.ses"
        if name.casefold() not in taken:
            return name
    n = 1
    while f"et-{who}-{day}-z{n}.ses".casefold() in taken:
        n += 1
    return f"et-{who}-{day}-z{n}.ses"


def export_sheets(
    conn: Connection, user: User, project_id: int, session_ids: Iterable[int] | None = None
) -> list[tuple[str, str]]:
    """(file name, text) of every session of the project (or of the ones given):
    named by their sheet name, or by the naming rule."""
    require_project(conn, user, project_id, "read")
    ids = (
        list(session_ids)
        if session_ids is not None
        else sbtm_queries.session_ids_of_project(conn, project_id)
    )
    found = [session_sheet(conn, i) for i in ids]
    taken = {s.sheet.name.casefold() for s in found if s.sheet.name}
    out: list[tuple[str, str]] = []
    for item in found:
        if item.project_id != project_id:
            continue
        sheet = item.sheet
        if not sheet.name:
            sheet.name = file_name(sheet, taken)
            taken.add(sheet.name.casefold())
        out.append((sheet.name, write_sheet(sheet)))
    return out


def sheet_page_view(conn: Connection, user: User, session_id: int) -> dict[str, Any]:
    """What the printable sheet page shows."""
    found = session_sheet(conn, session_id)
    require_access(conn, user, found.project_id, "read")
    s = found.sheet
    return {
        "session_id": found.session_id,
        "project_id": found.project_id,
        "session_name": found.session_name,
        "is_closed": found.is_closed,
        "complete": found.complete,
        "sheet": s,
        "sheet_name": s.name or file_name(s, set()),
    }
