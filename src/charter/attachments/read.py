"""Reading attachments: the API shape, lists, and the lookups other packages use
(results show how many attachments each note has, and expand them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.attachments import queries as q
from charter.attachments.service import readable_session
from charter.auth.permissions import require_access
from charter.auth.service import User
from charter.core.errors import NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db.tables import attachments
from charter.users import read as user_read

ATTACHMENT_EXPANDS = ("users",)

# How many attachments each result has ({result id: count}, results without any left
# out), for results/read.py.
counts_by_result = q.counts_by_result


def path_of(attachment_id: int, kind: str = "download") -> str:
    return f"/api/v1/attachments/{attachment_id}/{kind}"


def as_api(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "session_id": r["session_id"],
        "result_id": r["result_id"],
        "name": r["name"],
        "note": r["note"],
        "mime_type": r["mime_type"],
        "size": r["size"],
        "sha256": r["sha256"],
        "created_at": r["created_at"],  # API text already (queries.VIEW_COLUMNS)
        "created_by": r["created_by"],
        "path": path_of(r["id"]),
        "path_thumbnail": path_of(r["id"], "thumbnail") if r["thumbnail_sha256"] else None,
        "path_preview": path_of(r["id"], "preview") if r["preview_sha256"] else None,
    }


def shape(
    conn: Connection, rows: Sequence[RowMapping], expands: frozenset[str], total: int
) -> Page:
    extra: dict[str, list[dict[str, Any]]] = {}
    if "users" in expands:
        extra["users"] = user_read.user_names(
            conn, {v for r in rows if (v := r["created_by"]) is not None}
        )
    return Page([as_api(r) for r in rows], total, extra)


def list_attachments(conn: Connection, user: User, session_id: int, query: ListQuery) -> Page:
    readable_session(conn, user, session_id)
    base = q.of_session(session_id)
    rows, total = db_listing.rows_page(
        conn, attachments, base, query.request(), q.attachments_by_ids
    )
    return shape(conn, rows, query.expands, total)


def get_attachments(conn: Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Attachments by id, in order, as a write answers them."""
    return [as_api(r) for r in q.attachments_by_ids(conn, ids)]


def readable_attachment(conn: Connection, user: User, attachment_id: int) -> RowMapping:
    """The attachment's row (with its blob's thumbnail and preview) once `user` may read
    its project: 404 / 403 otherwise."""
    rows = q.attachments_by_ids(conn, [attachment_id])
    if not rows:
        raise NotFound(f"Attachment {attachment_id} not found.")
    require_access(conn, user, rows[0]["project_id"], "read")
    return rows[0]


def get_attachment(
    conn: Connection, user: User, attachment_id: int, expands: frozenset[str]
) -> Page:
    row = readable_attachment(conn, user, attachment_id)
    return shape(conn, [row], expands, 1)


def blob_of(conn: Connection, sha256: str) -> RowMapping | None:
    return q.blob(conn, sha256)


def attachment_expands(conn: Connection, result_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The attachments of the results, by id (results' `expands=attachments`)."""
    return get_attachments(conn, q.ids_by_result(conn, result_ids))


GALLERY_LIMIT = 500  # the session page's gallery shows the newest this many


def web_view(a: dict[str, Any]) -> dict[str, Any]:
    """An attachment as pages show it: the web twins of its paths (cookie auth)."""
    base = f"/attachments/{a['id']}"
    return {
        "id": a["id"],
        "result_id": a["result_id"],
        "name": a["name"],
        "size": a["size"],
        "mime_type": a["mime_type"],
        "created_by": a["created_by"],
        "is_image": a["path_thumbnail"] is not None,
        "download": f"{base}/download",
        "thumbnail": f"{base}/thumbnail" if a["path_thumbnail"] else None,
        "preview": f"{base}/preview" if a["path_preview"] else None,
    }


def session_gallery(conn: Connection, session_id: int) -> list[dict[str, Any]]:
    """The session's newest attachments (GALLERY_LIMIT), as pages show them."""
    return [
        web_view(a)
        for a in get_attachments(conn, q.ids_of_session(conn, session_id, GALLERY_LIMIT))
    ]


def of_results(conn: Connection, result_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments of notes, as pages show them, by result id."""
    out: dict[int, list[dict[str, Any]]] = {}
    for a in attachment_expands(conn, result_ids):
        out.setdefault(a["result_id"], []).append(web_view(a))
    return out
