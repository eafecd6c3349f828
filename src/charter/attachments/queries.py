"""All SQL of attachments: the attachment rows, the blob registry and the chunks of the
database backend."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db import locks
from charter.db.expressions import iso_utc
from charter.db.tables import (
    attachment_blobs,
    attachment_chunks,
    attachments,
    session_results,
    sessions,
)

_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)


# What the API shows of an attachment: every column, timestamps already as API text.
VIEW_COLUMNS = [
    iso_utc(c).label(c.name) if isinstance(c.type, sa.DateTime) else c for c in attachments.columns
]


_BY_IDS = (
    sa.select(
        *VIEW_COLUMNS,
        attachment_blobs.c.thumbnail_sha256,
        attachment_blobs.c.preview_sha256,
    )
    .join(attachment_blobs, attachment_blobs.c.sha256 == attachments.c.sha256)
    .where(attachments.c.id.in_(_IDS))
)


def of_session(session_id: int) -> sa.ColumnElement[bool]:
    """The base condition of a session's attachment list."""
    return attachments.c.session_id == session_id


def attachments_by_ids(conn: Connection, ids: Sequence[int]) -> list[RowMapping]:
    """Rows of VIEW_COLUMNS (plus the blob's thumbnail and preview) in the order of ids."""
    if not ids:
        return []
    found = conn.execute(_BY_IDS, {"ids": list(ids)}).mappings().all()
    rows = {r["id"]: r for r in found}
    return [rows[i] for i in ids if i in rows]


def attachment_row(conn: Connection, attachment_id: int) -> RowMapping | None:
    stmt = sa.select(attachments).where(attachments.c.id == attachment_id)
    return conn.execute(stmt).mappings().first()


def rows_of_session(conn: Connection, session_id: int, ids: Sequence[int]) -> list[RowMapping]:
    """The attachment rows of `ids` that belong to the session."""
    stmt = sa.select(attachments).where(
        attachments.c.id.in_(list(ids)), attachments.c.session_id == session_id
    )
    return list(conn.execute(stmt).mappings().all())


def result_of_session(conn: Connection, result_id: int, session_id: int) -> bool:
    stmt = sa.select(session_results.c.id).where(
        session_results.c.id == result_id, session_results.c.session_id == session_id
    )
    return conn.execute(stmt).first() is not None


def lock_session(conn: Connection, session_id: int) -> None:
    """Lock the session row (PostgreSQL): attachment writes serialize with the session's
    close and with result writes."""
    locks.lock_rows(conn, sessions, sessions.c.id == session_id)


def insert_attachments(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    stmt = sa.insert(attachments).returning(attachments.c.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in conn.execute(stmt, list(rows)).all()]


def delete_attachments(conn: Connection, ids: Sequence[int]) -> None:
    conn.execute(sa.delete(attachments).where(attachments.c.id.in_(list(ids))))


def counts_by_result(conn: Connection, result_ids: Sequence[int]) -> dict[int, int]:
    """How many attachments each result has (results without any are left out)."""
    if not result_ids:
        return {}
    stmt = (
        sa.select(attachments.c.result_id, sa.func.count())
        .where(attachments.c.result_id.in_(list(result_ids)))
        .group_by(attachments.c.result_id)
    )
    return {int(rid): int(n) for rid, n in conn.execute(stmt).all()}


def ids_by_result(conn: Connection, result_ids: Sequence[int]) -> list[int]:
    """Ids of the attachments of the results, by id."""
    if not result_ids:
        return []
    stmt = (
        sa.select(attachments.c.id)
        .where(attachments.c.result_id.in_(list(result_ids)))
        .order_by(attachments.c.id)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


# --- the blob registry ------------------------------------------------------------------


def blob(conn: Connection, sha256: str) -> RowMapping | None:
    stmt = sa.select(attachment_blobs).where(attachment_blobs.c.sha256 == sha256)
    return conn.execute(stmt).mappings().first()


def blobs_by_sha(conn: Connection, shas: Iterable[str]) -> dict[str, RowMapping]:
    wanted = list(set(shas))
    if not wanted:
        return {}
    stmt = sa.select(attachment_blobs).where(attachment_blobs.c.sha256.in_(wanted))
    return {r["sha256"]: r for r in conn.execute(stmt).mappings()}


def insert_blob(
    conn: Connection,
    sha256: str,
    size: int,
    mime_type: str,
    backend: str,
    created_at: datetime,
    thumbnail_sha256: str | None = None,
    preview_sha256: str | None = None,
) -> None:
    conn.execute(
        sa.insert(attachment_blobs).values(
            sha256=sha256,
            size=size,
            mime_type=mime_type,
            backend=backend,
            thumbnail_sha256=thumbnail_sha256,
            preview_sha256=preview_sha256,
            created_at=created_at,
        )
    )


def all_blobs(conn: Connection) -> list[RowMapping]:
    stmt = sa.select(attachment_blobs).order_by(attachment_blobs.c.sha256)
    return list(conn.execute(stmt).mappings().all())


def unreferenced_blobs(
    conn: Connection, created_before: datetime | None, among: Sequence[str] | None = None
) -> list[RowMapping]:
    """Blobs no attachment uses, directly or as the thumbnail or preview of a used blob:
    those registered before `created_before` (younger ones may belong to an upload that
    is still being committed), or, with `among`, those blobs and their derived ones."""
    used = sa.select(attachments.c.sha256).distinct()
    derived = sa.union(
        sa.select(attachment_blobs.c.thumbnail_sha256.label("sha256")).where(
            attachment_blobs.c.sha256.in_(used), attachment_blobs.c.thumbnail_sha256.is_not(None)
        ),
        sa.select(attachment_blobs.c.preview_sha256.label("sha256")).where(
            attachment_blobs.c.sha256.in_(used), attachment_blobs.c.preview_sha256.is_not(None)
        ),
    ).subquery()
    stmt = sa.select(attachment_blobs).where(
        attachment_blobs.c.sha256.not_in(used),
        attachment_blobs.c.sha256.not_in(sa.select(derived.c.sha256)),
    )
    if created_before is not None:
        stmt = stmt.where(attachment_blobs.c.created_at < created_before)
    if among is not None:
        first = list(among)
        seconds = [
            s
            for r in blobs_by_sha(conn, first).values()
            for s in (r["thumbnail_sha256"], r["preview_sha256"])
            if s is not None
        ]
        stmt = stmt.where(attachment_blobs.c.sha256.in_(first + seconds))
    return list(conn.execute(stmt.order_by(attachment_blobs.c.sha256)).mappings().all())


def delete_blob(conn: Connection, sha256: str) -> None:
    conn.execute(sa.delete(attachment_chunks).where(attachment_chunks.c.sha256 == sha256))
    conn.execute(sa.delete(attachment_blobs).where(attachment_blobs.c.sha256 == sha256))


# --- chunks (the database backend) ------------------------------------------------------


def has_chunks(conn: Connection, sha256: str) -> bool:
    stmt = sa.select(attachment_chunks.c.seq).where(attachment_chunks.c.sha256 == sha256).limit(1)
    return conn.execute(stmt).first() is not None


def insert_chunk(conn: Connection, sha256: str, seq: int, data: bytes) -> None:
    conn.execute(sa.insert(attachment_chunks).values(sha256=sha256, seq=seq, data=data))


def chunk(conn: Connection, sha256: str, seq: int) -> bytes | None:
    stmt = sa.select(attachment_chunks.c.data).where(
        attachment_chunks.c.sha256 == sha256, attachment_chunks.c.seq == seq
    )
    value = conn.execute(stmt).scalar()
    return None if value is None else bytes(value)


def chunks(conn: Connection, sha256: str) -> Iterator[bytes]:
    """Every chunk of a blob in order, one row fetched at a time."""
    seq = 0
    while (data := chunk(conn, sha256, seq)) is not None:
        yield data
        seq += 1


def file_blobs_in_backup(path: str) -> list[str]:
    """The sha256 of the file backend's blobs registered in a SQLite backup file, read
    without changing it (no WAL switch, read only)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT sha256 FROM attachment_blobs WHERE backend = 'file' ORDER BY sha256"
        ).fetchall()
    finally:
        conn.close()
    return [str(r[0]) for r in rows]


def ids_of_session(conn: Connection, session_id: int, limit: int) -> list[int]:
    """Ids of the session's attachments, newest first (at most `limit`)."""
    stmt = (
        sa.select(attachments.c.id)
        .where(attachments.c.session_id == session_id)
        .order_by(attachments.c.id.desc())
        .limit(limit)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def link_to_result(
    conn: Connection, session_id: int, user_id: int, ids: Sequence[int], result_id: int
) -> int:
    """Attach the user's unattached attachments of the session to a result; how many."""
    stmt = (
        sa.update(attachments)
        .where(
            attachments.c.id.in_(list(ids)),
            attachments.c.session_id == session_id,
            attachments.c.created_by == user_id,
            attachments.c.result_id.is_(None),
        )
        .values(result_id=result_id)
    )
    return int(conn.execute(stmt).rowcount)
