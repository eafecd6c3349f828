"""Attachments: rules and writes. The same permissions as notes: viewers read, testers
add and delete their own, managers delete any; a closed session refuses changes (409).

An upload happens in three steps (routes.py): the files are received into staged
temporary files (storage.Stager), thumbnails are made off the event loop, then ONE write
transaction checks the rules again, stores the blobs and inserts the rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.attachments import queries as q
from charter.attachments import storage
from charter.auth.permissions import require_access, require_project
from charter.auth.service import User
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Forbidden, Invalid, NotFound
from charter.db import locks
from charter.sessions import read as session_read

MAX_FILES = 20
MAX_DELETE = 100
MAX_NOTE = 10_000


@dataclass
class Received:
    """One uploaded file, staged, with its thumbnail and preview when it is an image."""

    name: str
    staged: storage.Staged
    thumbnail: storage.Staged | None = None
    preview: storage.Staged | None = None

    def discard(self) -> None:
        for staged in (self.staged, self.thumbnail, self.preview):
            if staged is not None:
                staged.path.unlink(missing_ok=True)


def make_thumbnails(files: Sequence[Received], staging: Path) -> None:
    """Stage a thumbnail and a preview of every image among `files` (blocking: run it
    off the event loop). A decompression bomb is 422 naming the file."""
    for index, item in enumerate(files):
        if item.staged.mime_type not in storage.INLINE_TYPES:
            continue
        try:
            made = storage.thumbnails(item.staged.path)
        except storage.ImageRefused as exc:
            raise Invalid(f"{item.name}: {exc}", {f"files.{index}": [str(exc)]}) from None
        if made is not None:
            item.thumbnail = storage.stage_bytes(staging, made[0])
            item.preview = storage.stage_bytes(staging, made[1])


def readable_session(conn: Connection, user: User, session_id: int) -> RowMapping:
    session = session_read.session_by_id(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, session["project_id"], "read")
    return session


def writable_session(conn: Connection, user: User, session_id: int) -> RowMapping:
    """The session once `user` may add to it: 404, 403, then 409 when it is closed."""
    session = session_read.session_by_id(conn, session_id)
    if session is None:
        raise NotFound(f"Session {session_id} not found.")
    require_project(conn, user, session["project_id"], "run")
    if session["is_closed"]:
        raise Conflict(f"Session {session_id} is closed; reopen it to change its attachments.")
    return session


def _lock_blob(conn: Connection, sha256: str) -> None:
    """Serialize the writers of one blob: an upload reusing it, a delete or a garbage
    collection removing it (PostgreSQL; SQLite has one writer)."""
    locks.serialize(conn, "attachment-blob", zlib.crc32(sha256.encode()) - 2**31)


def form_fields(conn: Connection, session_id: int, raw: dict[str, str]) -> dict[str, Any]:
    """The upload's optional form fields, checked: result_id (a result of the session)
    and note."""
    out: dict[str, Any] = {"result_id": None, "note": None}
    if raw.get("result_id", "").strip():
        result_id = inputs.parse_id(raw["result_id"].strip())
        if result_id is None or not q.result_of_session(conn, result_id, session_id):
            raise Invalid.field("result_id", "Must be the id of a result of this session.")
        out["result_id"] = result_id
    if "note" in raw:
        note = raw["note"]
        inputs.reject_nul(note, "note")
        out["note"] = inputs.optional_text("note", note, MAX_NOTE) or None
    return out


def add_attachments(
    conn: Connection,
    user: User,
    session_id: int,
    files: Sequence[Received],
    fields: dict[str, str],
    folder: Path,
    backend: str,
) -> list[int]:
    """Store the received files and attach them to the session, all or nothing."""
    session = writable_session(conn, user, session_id)
    q.lock_session(conn, session_id)
    session = writable_session(conn, user, session_id)  # closed meanwhile?
    if not files:
        raise Invalid.field("files", "Send at least one file.")
    if len(files) > MAX_FILES:
        raise Invalid.field("files", f"At most {MAX_FILES} files per request.")
    values = form_fields(conn, session_id, fields)
    store = storage.store_for(backend, folder)
    now = utcnow()
    rows = []
    for item in sorted(files, key=lambda f: f.staged.sha256):  # blob locks in one order
        _lock_blob(conn, item.staged.sha256)
    for item in files:
        derived: dict[str, str | None] = {}
        for kind, staged in (("thumbnail", item.thumbnail), ("preview", item.preview)):
            if staged is not None:
                storage.register(conn, store, staged)
                derived[f"{kind}_sha256"] = staged.sha256
        storage.register(conn, store, item.staged, **derived)
        rows.append(
            {
                "session_id": session_id,
                "project_id": session["project_id"],
                "result_id": values["result_id"],
                "name": item.name,
                "note": values["note"],
                "mime_type": item.staged.mime_type,
                "size": item.staged.size,
                "sha256": item.staged.sha256,
                "created_at": now,
                "created_by": user.id,
            }
        )
    return q.insert_attachments(conn, rows)


def delete_ids(value: Any) -> list[int]:
    """The body's `ids`: 1 to MAX_DELETE attachment ids."""
    if not isinstance(value, list) or not value:
        raise Invalid.field("ids", "Must be a non-empty list of attachment ids.")
    if len(value) > MAX_DELETE:
        raise Invalid.field("ids", f"At most {MAX_DELETE} ids per request.")
    if not all(inputs.is_id(v) for v in value):
        raise Invalid.field("ids", "Must be a list of attachment ids.")
    return list(dict.fromkeys(int(v) for v in value))


def delete_attachments(
    conn: Connection, user: User, session_id: int, ids: Sequence[int], folder: Path
) -> None:
    """Delete attachments of the session, all or nothing: an id not of this session is
    404, another user's attachment is 403 unless `user` manages the project. Blobs no
    attachment uses any more are removed at once."""
    session = writable_session(conn, user, session_id)
    q.lock_session(conn, session_id)
    rows = q.rows_of_session(conn, session_id, ids)
    found = {r["id"] for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"Attachment {missing[0]} not found in session {session_id}.")
    if any(r["created_by"] != user.id for r in rows):
        try:
            require_access(conn, user, session["project_id"], "manage")
        except Forbidden:
            raise Forbidden(
                "Testers may delete only their own attachments; a manager may delete any."
            ) from None
    shas = sorted({r["sha256"] for r in rows})
    for sha in shas:
        _lock_blob(conn, sha)
    q.delete_attachments(conn, ids)
    storage.collect_garbage(conn, folder, only=shas)


def collect_garbage(conn: Connection, folder: Path, grace: bool = True) -> list[str]:
    """Remove blobs no attachment uses (with grace: only those older than GC_GRACE)."""
    return storage.collect_garbage(conn, folder, grace=grace)


def attach_to_result(
    conn: Connection, user: User, session_id: int, ids: Sequence[int], result_id: int
) -> int:
    """Attach files the user uploaded while writing a note to that note, in the note's
    transaction; ids of other users, other sessions or already attached are ignored.
    Returns how many were attached."""
    return q.link_to_result(conn, session_id, user.id, ids, result_id) if ids else 0


def deletable(
    conn: Connection, user: User, session_id: int, items: Sequence[dict[str, Any]]
) -> set[int]:
    """Which of the session's attachments `user` may delete (pages offer only those):
    none in a closed session or without the right to run; their own, or any for a
    manager."""
    try:
        session = writable_session(conn, user, session_id)
    except (Forbidden, Conflict, NotFound):
        return set()
    try:
        require_access(conn, user, session["project_id"], "manage")
        return {a["id"] for a in items}
    except Forbidden:
        return {a["id"] for a in items if a["created_by"] == user.id}
