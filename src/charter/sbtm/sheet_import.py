"""Import a batch of session sheets into a project: all or nothing, in the caller's ONE
transaction.

Every sheet is parsed first (sbtm/sheet_format.py); any error in any sheet raises
Invalid naming `<file>:<line>` for every problem found, before anything is written.
Then each sheet becomes a closed session: charter, START as started_at, the duration's
timebox as elapsed (closed_at = start + elapsed), its testers (matched to users by email
or name, case-insensitively; unknown ones created as inactive users), its areas
(unknown ones created), its SBTM data (sbtm/service.set_session_sheet), and its notes
as results: each test note (a paragraph) with the project's first kind of category
note, each bug and issue with the first kind of category bug / issue. The sheet's file
name is kept as `sheet_name`; a name the project has already is a Conflict unless
`replace`, which deletes the session that had it.

Who may: members who may run sessions (testers, managers, admins), like adding notes.
Creating users is a manager's or admin's act: for a tester, a tester no user matches is
an error of the sheet ("unknown tester"), as it is for anyone with create_users=False.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth import permissions
from charter.auth import service as auth
from charter.auth.service import User
from charter.catalog import read as catalog_read
from charter.core import inputs
from charter.core.errors import Conflict, Forbidden, Invalid, NotFound
from charter.db import locks
from charter.results import service as result_service
from charter.sbtm import queries as sbtm_queries
from charter.sbtm import service as sbtm_service
from charter.sbtm.schemas import SheetData
from charter.sbtm.sheet_format import Entry, Sheet, SheetError, parse_sheet
from charter.sessions import service as session_service
from charter.users import service as user_service

MAX_SHEETS = 1000
MAX_SESSION_NAME = 200
IMPORTED_DOMAIN = "sheets.invalid"  # RFC 2606: never a real mailbox


@dataclass
class Imported:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    users_created: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "users_created": self.users_created,
            "warnings": self.warnings,
        }


def error_dict(e: SheetError) -> dict[str, Any]:
    return {"file": e.file, "line": e.line, "problem": e.problem}


def invalid_of(errors: Sequence[SheetError]) -> Invalid:
    """The 422 of a batch: one entry per `<file>:<line>`, every problem of that line."""
    grouped: dict[str, list[str]] = {}
    for e in errors:
        grouped.setdefault(f"{e.file}:{e.line}", []).append(e.problem)
    files = len({e.file for e in errors})
    return Invalid(f"{len(errors)} problem(s) in {files} sheet(s); nothing was imported.", grouped)


class _Users:
    """The site's users as sheets name them: by email key or by name (casefolded); on a
    tie of names the lowest id (the oldest user) wins."""

    def __init__(self, conn: Connection) -> None:
        self.by_email: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        for row in user_service.all_users(conn):
            self.by_email[inputs.email_key(row["email"])] = row["id"]
            key = " ".join(row["name"].split()).casefold()
            if key not in self.by_name or row["id"] < self.by_name[key]:
                self.by_name[key] = row["id"]

    def find(self, tester: str) -> int | None:
        found = self.by_email.get(inputs.email_key(tester))
        if found is None:
            found = self.by_name.get(" ".join(tester.split()).casefold())
        return found

    def remember(self, tester: str, user_id: int) -> None:
        self.by_name[" ".join(tester.split()).casefold()] = user_id


def _looks_like_email(value: str) -> bool:
    try:
        inputs.email("tester", value)
    except Invalid:
        return False
    return True


def _placeholder_email(conn: Connection, users: _Users, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", ".", name.casefold()).strip(".") or "tester"
    slug = slug[:60]
    email, n = f"{slug}@{IMPORTED_DOMAIN}", 1
    while inputs.email_key(email) in users.by_email:
        n += 1
        email = f"{slug}.{n}@{IMPORTED_DOMAIN}"
    return email


def _create_tester(conn: Connection, users: _Users, tester: str, actor: int) -> dict[str, Any]:
    if _looks_like_email(tester):
        email, name = tester, tester.split("@", 1)[0]
    else:
        email, name = _placeholder_email(conn, users, tester), tester
    user_id = user_service.new_inactive_user(conn, name, email, actor)
    users.by_email[inputs.email_key(email)] = user_id
    users.remember(tester, user_id)
    return {"id": user_id, "name": name, "email": email, "is_active": False}


def _kinds(conn: Connection, project_id: int) -> dict[str, int | None]:
    """The kind each category of note is imported with: the project's first kind of
    that category (notes: None, the default kind, when the project has no note kind)."""
    firsts: dict[str, int | None] = {"note": None}
    for kind in catalog_read.kind_expands(conn, project_id):
        firsts.setdefault(kind["category"], kind["id"])
        if kind["category"] == "note" and firsts["note"] is None:
            firsts["note"] = kind["id"]
    return firsts


def _session_name(sheet: Sheet) -> str:
    first = next((line.strip() for line in sheet.charter.splitlines() if line.strip()), "")
    if len(first) > MAX_SESSION_NAME:
        first = first[: MAX_SESSION_NAME - 1].rstrip() + "\u2026"
    return first or sheet.name


def entry_note(entry: Entry) -> str:
    """A bug's or issue's note: its id or title line first, then its text."""
    parts = [p for p in (entry.ref, entry.text) if p]
    return "\n".join(parts)


def elapsed_of(conn: Connection, project_id: int, sheet: Sheet) -> int:
    """The timebox of the sheet's duration, in microseconds (the timer's unit)."""
    boxes = sbtm_queries.timeboxes(conn, project_id)
    minutes = boxes[sheet.duration_class] * sheet.duration_multiplier
    return round(minutes * 60 * 1_000_000)


def command_actor(conn: Connection, email: str | None) -> User:
    """Who the `charter sbtm` commands act as: the user with this email, or the first
    active site admin."""
    if email is not None:
        row = auth.user_by_email(conn, email)
        if row is None:
            raise NotFound(f"No user with email {email}.")
        return auth.user_of(row)
    admins = [r for r in user_service.all_users(conn) if r["is_admin"] and r["is_active"]]
    if not admins:
        raise NotFound("No active site admin to act as; name a user with --as.")
    return auth.user_of(min(admins, key=lambda r: r["id"]))


def require_import(conn: Connection, user: User, project_id: int) -> None:
    """Who may import into a project: those who may run its sessions."""
    permissions.require_project(conn, user, project_id, "run")


def import_sheets(
    conn: Connection,
    user: User,
    project_id: int,
    files: Sequence[tuple[str, str]],
    replace: bool = False,
    create_users: bool = True,
) -> Imported:
    """Import (file name, text) sheets into the project, all or nothing (see the
    module's docstring). Raises Invalid (every problem of every sheet), Conflict (sheet
    names the project has, without `replace`), Forbidden / NotFound (the project)."""
    require_import(conn, user, project_id)
    if not files:
        raise Invalid.field("files", "Send at least one sheet.")
    if len(files) > MAX_SHEETS:
        raise Invalid.field("files", f"At most {MAX_SHEETS} sheets per import.")
    may_create = create_users and _may_manage(conn, user, project_id)
    users = _Users(conn)
    known = None if may_create else (lambda tester: users.find(tester) is not None)

    errors: list[SheetError] = []
    sheets: list[Sheet] = []
    out = Imported()
    seen: dict[str, str] = {}
    for name, text in files:
        name = name.strip()
        if not name or len(name) > 255 or "\n" in name:
            errors.append(SheetError(name or "(no name)", 1, "a sheet needs a file name"))
            continue
        if name.casefold() in seen:
            errors.append(SheetError(name, 1, f"the batch has this file name twice ({name!r})"))
            continue
        seen[name.casefold()] = name
        result = parse_sheet(text, name, known)
        errors.extend(result.errors)
        out.warnings.extend(error_dict(w) for w in result.warnings)
        if result.sheet is not None:
            sheets.append(result.sheet)
    if errors:
        raise invalid_of(errors)

    # Imports into one project run one after the other (PostgreSQL; SQLite has one
    # writer): a replace deletes what it read, and two must not delete the same session.
    locks.serialize(conn, "sbtm-sheets", project_id)
    existing = sbtm_queries.sheet_names(conn, project_id)
    taken = [s.name for s in sheets if s.name in existing]
    if taken and not replace:
        raise Conflict(
            f"The project has sessions from {len(taken)} of these sheets already; "
            "import with replace to replace them.",
            {"files": [f"{n} exists already." for n in taken]},
        )
    kinds = _kinds(conn, project_id)
    for category, sheet_list in (
        ("bug", [s for s in sheets if s.bugs]),
        ("issue", [s for s in sheets if s.issues]),
    ):
        if sheet_list and category not in kinds:
            raise Invalid.field(
                "files", f"The project has no note kind of category {category}; add one first."
            )

    for name in taken:
        session_service.delete(conn, existing[name])
    for sheet in sheets:
        try:
            out.sessions.append(_import_one(conn, user, project_id, sheet, users, kinds, out))
        except Invalid as exc:  # a rule of the services the parser did not know: name the file
            problems = [f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items()]
            errors = [SheetError(sheet.name, 1, p) for p in problems or [exc.message]]
            raise invalid_of(errors) from None
    return out


def _may_manage(conn: Connection, user: User, project_id: int) -> bool:
    try:
        permissions.require_access(conn, user, project_id, "manage")
    except Forbidden:
        return False
    return True


def _import_one(
    conn: Connection,
    user: User,
    project_id: int,
    sheet: Sheet,
    users: _Users,
    kinds: dict[str, int | None],
    out: Imported,
) -> dict[str, Any]:
    tester_ids: list[int] = []
    for tester in sheet.testers:
        user_id = users.find(tester)
        if user_id is None:
            made = _create_tester(conn, users, tester, user.id)
            out.users_created.append(made)
            user_id = made["id"]
        if user_id not in tester_ids:
            tester_ids.append(user_id)
    session_id = session_service.create_session(
        conn, project_id, user.id, _session_name(sheet), charter=sheet.charter
    )
    started_at = sheet.start.replace(tzinfo=None)  # naive UTC, like every timestamp
    notes = [{"note": text, "kind_id": kinds["note"]} for text in sheet.test_notes]
    notes += [{"note": entry_note(e), "kind_id": kinds.get("bug")} for e in sheet.bugs]
    notes += [{"note": entry_note(e), "kind_id": kinds.get("issue")} for e in sheet.issues]
    if notes:
        result_service.add_results(conn, session_id, user.id, notes, created_at=started_at)
    data = SheetData(
        areas=sheet.areas,
        tester_ids=tester_ids,
        duration_class=sheet.duration_class,
        duration_multiplier=sheet.duration_multiplier,
        pct_test=sheet.pct_test,
        pct_bug=sheet.pct_bug,
        pct_setup=sheet.pct_setup,
        pct_charter=sheet.pct_charter,
        pct_opportunity=sheet.pct_opportunity,
        data_files=sheet.data_files,
        sheet_name=sheet.name,
    )
    sbtm_service.set_session_sheet(conn, session_id, data, user.id)
    session_service.start(conn, session_id, user.id)
    session_service.close(conn, session_id, user.id)
    elapsed = elapsed_of(conn, project_id, sheet)
    session_service.set_times(
        conn,
        session_id,
        started_at,
        started_at + timedelta(microseconds=elapsed),
        elapsed,
    )
    return {"id": session_id, "sheet_name": sheet.name, "tester_ids": tester_ids}
