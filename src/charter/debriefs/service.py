"""The debrief workflow: a tester submits a closed session's sheet (checked first), a
manager records the debrief (PROOF: past, results, obstacles, outlook, feelings) and
approves it (the sheet locks) or returns it with a comment; outlook items become
follow-up charters. Every write locks the session row first, so concurrent approvals
and returns of one sheet run one after the other and the second sees the first.

Status: none (a draft) -> submitted -> approved (final), or -> returned -> (the tester
fixes, maybe reopening) -> submitted again. Reopening a submitted session withdraws it
(debriefs/gate.py). The workflow state follows where the project's states allow:
submitted -> the state meaning `review`, approved -> `done`, returned -> `active`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.debriefs import queries as debrief_queries
from charter.debriefs import sheet_checks
from charter.debriefs.gate import APPROVED
from charter.debriefs.sheet_checks import Problem
from charter.sbtm import service as sbtm_service
from charter.sessions import service as session_service

SUBMITTED = "submitted"


RETURNED = "returned"


PROOF_TEXTS = ("past", "results", "obstacles", "feelings")


DEBRIEF_FIELDS = (*PROOF_TEXTS, "outlook")


MAX_TEXT = 100_000


MAX_OUTLOOK_ITEMS = 100


MAX_OUTLOOK_ITEM = 500  # an item becomes a session name, at most 500 characters


def session_of(conn: Connection, user: User, session_id: int, action: Action) -> RowMapping:
    """The session row, locked, once `user` may do `action` in its project."""
    row = session_service.session_for_update(conn, session_id)
    if row is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, row["project_id"], action)
    return row


def sheet_problems(conn: Connection, row: RowMapping) -> list[Problem]:
    return sheet_checks.problems(row, debrief_queries.sheet_facts(conn, row["id"]))


def submit(conn: Connection, user: User, session_id: int, force: bool = False) -> None:
    """Submit a closed session's sheet for debrief. Problems refuse it (422 naming each
    part of the sheet at fault) unless `force`."""
    row = session_of(conn, user, session_id, "run")
    if not row["is_closed"]:
        raise Conflict("Close the session before submitting its sheet.")
    status = debrief_queries.status_of(conn, session_id)
    if status == SUBMITTED:
        raise Conflict("The sheet is submitted already; it waits for its debrief.")
    if status == APPROVED:
        raise Conflict("The sheet is approved already; it is locked.")
    found = sheet_problems(conn, row)
    if found and not force:
        raise Invalid(
            f"The sheet has {len(found)} problem(s): fix them, or submit anyway with force.",
            sheet_checks.as_errors(found),
        )
    debrief_queries.save(
        conn,
        session_id,
        row["project_id"],
        status=SUBMITTED,
        submitted_at=utcnow(),
        submitted_by=user.id,
    )
    session_service.follow_lifecycle(conn, session_id, user.id, "review")


def _outlook(value: Any) -> str | None:
    """Outlook items: a list of one-line texts, stored one per line."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid.field("outlook", "Must be a list of texts, one per outlook item.")
    items = [v.strip() for v in value if v.strip()]
    if len(items) > MAX_OUTLOOK_ITEMS:
        raise Invalid.field("outlook", f"At most {MAX_OUTLOOK_ITEMS} items.")
    for index, item in enumerate(items):
        if "\n" in item or "\r" in item:
            raise Invalid.field(f"outlook.{index}", "An item is one line.")
        if len(item) > MAX_OUTLOOK_ITEM:
            raise Invalid.field(f"outlook.{index}", f"At most {MAX_OUTLOOK_ITEM} characters.")
    return "\n".join(items) or None


def outlook_items(stored: str | None) -> list[str]:
    return [line for line in (stored or "").split("\n") if line]


def save_debrief(conn: Connection, user: User, session_id: int, body: Mapping[str, Any]) -> None:
    """Record the debrief (managers): the given PROOF fields replace the stored ones.
    An approved debrief is final (409)."""
    row = session_of(conn, user, session_id, "manage")
    if debrief_queries.status_of(conn, session_id) == APPROVED:
        raise Conflict("The debrief is approved; the sheet and its debrief are locked.")
    values: dict[str, Any] = {
        name: inputs.optional_text(name, body[name], MAX_TEXT)
        for name in PROOF_TEXTS
        if name in body
    }
    if "outlook" in body:
        values["outlook"] = _outlook(body["outlook"])
    debrief_queries.save(
        conn, session_id, row["project_id"], debriefed_at=utcnow(), debriefed_by=user.id, **values
    )


def _submitted(conn: Connection, session_id: int, verb: str) -> None:
    status = debrief_queries.status_of(conn, session_id)
    if status != SUBMITTED:
        now = {None: "not submitted", RETURNED: "returned", APPROVED: "approved"}[status]
        raise Conflict(f"Only a submitted sheet can be {verb}; this one is {now}.")


def approve(conn: Connection, user: User, session_id: int) -> None:
    """Approve a submitted sheet: it locks (every write of the session answers 409)."""
    row = session_of(conn, user, session_id, "manage")
    _submitted(conn, session_id, "approved")
    now = utcnow()
    debrief_queries.save(
        conn,
        session_id,
        row["project_id"],
        status=APPROVED,
        approved_at=now,
        approved_by=user.id,
    )
    session_service.follow_lifecycle(conn, session_id, user.id, "done")


def return_sheet(conn: Connection, user: User, session_id: int, comment: Any) -> None:
    """Send a submitted sheet back to its tester with a comment saying what to fix."""
    row = session_of(conn, user, session_id, "manage")
    comment = inputs.text("comment", comment, MAX_TEXT)
    _submitted(conn, session_id, "returned")
    debrief_queries.save(
        conn,
        session_id,
        row["project_id"],
        status=RETURNED,
        returned_at=utcnow(),
        returned_by=user.id,
        return_comment=comment,
    )
    session_service.follow_lifecycle(conn, session_id, user.id, "active")


def create_follow_ups(conn: Connection, user: User, session_id: int, items: Any) -> list[int]:
    """Plan one follow-up charter per chosen outlook item (by index): a new session
    named after the item, with the same areas, linked to this one. Managers."""
    row = session_of(conn, user, session_id, "manage")
    debrief = debrief_queries.debrief_of(conn, session_id)
    outlook = outlook_items(debrief["outlook"] if debrief else None)
    if not isinstance(items, list) or not items:
        raise Invalid.field("items", "Must be a non-empty list of outlook item indexes.")
    chosen: list[int] = []
    for index in items:
        if isinstance(index, bool) or not isinstance(index, int):
            raise Invalid.field("items", "Each item is an index (0 is the first outlook item).")
        if not 0 <= index < len(outlook):
            raise Invalid.field(
                "items", f"No outlook item {index}: the outlook has {len(outlook)}."
            )
        if index not in chosen:
            chosen.append(index)
    area_names = debrief_queries.area_names_of(conn, [session_id]).get(session_id, [])
    created = []
    for index in chosen:
        new_id = session_service.create_session(
            conn,
            row["project_id"],
            user.id,
            name=outlook[index],
            charter=outlook[index],
        )
        debrief_queries.link_follow_up(conn, new_id, session_id)
        _copy_areas(conn, new_id, area_names, user)
        created.append(new_id)
    return created


def _copy_areas(conn: Connection, session_id: int, names: list[str], user: User) -> None:
    """The follow-up covers the areas its origin did (through the SBTM service, which
    keeps the area rollups)."""
    if names:
        sbtm_service.update_session_sbtm(conn, session_id, user.id, {"areas": names})
