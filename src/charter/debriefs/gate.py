"""What an approved debrief forbids, asked by the packages that write a session.

An approved sheet is locked: the session stays closed (reopen refuses), so every
write a closed session refuses already (its fields, results, attachments) stays
refused, and the writes allowed on a closed session (its SBTM sheet data) ask
`refuse_if_approved`. This module imports nothing but its own queries, so the
sessions and sbtm services can call it without an import cycle."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from charter.core.errors import Conflict
from charter.debriefs import queries as debrief_queries

APPROVED = "approved"


def refuse_if_approved(conn: Connection, session_id: int) -> None:
    """409 when the session's debrief is approved (its sheet is locked)."""
    if debrief_queries.status_of(conn, session_id) == APPROVED:
        raise Conflict(f"The debrief of session {session_id} is approved; its sheet is locked.")


def on_reopen(conn: Connection, session_id: int) -> None:
    """A reopen: refused once approved; a submitted sheet goes back to draft (the
    tester withdrew it to change it). A returned one stays returned: its comment is
    what the tester works on."""
    status = debrief_queries.status_of(conn, session_id)
    if status == APPROVED:
        raise Conflict(
            f"The debrief of session {session_id} is approved; the session cannot be reopened."
        )
    if status == "submitted":
        debrief_queries.withdraw(conn, session_id)
