"""Sessions: rows, their links (tags, issues, custom field values) and counters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row, RowMapping

from charter.db.expressions import iso_utc
from charter.db.queries import listing as lq
from charter.db.tables import (
    COUNTER_COLUMNS,
    projects,
    result_field_values,
    result_issues,
    session_field_values,
    session_issues,
    session_results,
    session_tags,
    sessions,
    tags,
    template_fields,
)


def insert_session(conn: Connection, **values: Any) -> int:
    stmt = sa.insert(sessions).values(**values).returning(sessions.c.id)
    session_id = int(conn.execute(stmt).scalar_one())
    _bump_version(conn, session_id)
    return session_id


def _bump_version(conn: Connection, session_id: int) -> None:
    """Every change to which sessions a list filter matches bumps the project's
    session_version in the same transaction (cached totals are keyed by it)."""
    project = sa.select(sessions.c.project_id).where(sessions.c.id == session_id)
    stmt = (
        sa.update(projects)
        .where(projects.c.id == project.scalar_subquery())
        .values(session_version=projects.c.session_version + 1)
    )
    conn.execute(stmt)


def session_by_id(conn: Connection, session_id: int) -> RowMapping | None:
    stmt = sa.select(sessions).where(sessions.c.id == session_id)
    return conn.execute(stmt).mappings().first()


def session_for_update(conn: Connection, session_id: int) -> RowMapping | None:
    """The row, locked until the transaction ends (PostgreSQL; SQLite holds the
    database write lock already)."""
    stmt = sa.select(sessions).where(sessions.c.id == session_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


# Page reads run on every list request: statements are built once, with an expanding
# parameter for the ids, and rows are fetched all at once.
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
# What the API shows of a session: every column, timestamps already as API text.
VIEW_COLUMNS = [
    iso_utc(c).label(c.name) if isinstance(c.type, sa.DateTime) else c for c in sessions.columns
]
_VIEW = sa.select(*VIEW_COLUMNS)
_SESSIONS_BY_IDS = _VIEW.where(sessions.c.id.in_(_IDS))
_LINKS_OF = sa.union_all(
    sa.select(
        sa.literal(0).label("kind"),
        session_tags.c.session_id,
        sa.null().label("key"),
        tags.c.name.label("text"),
    )
    .join(tags, tags.c.id == session_tags.c.tag_id)
    .where(session_tags.c.session_id.in_(_IDS)),
    sa.select(
        sa.literal(1), session_issues.c.session_id, session_issues.c.issue_id, sa.null()
    ).where(session_issues.c.session_id.in_(_IDS)),
    sa.select(
        sa.literal(2),
        session_field_values.c.session_id,
        session_field_values.c.field_id,
        session_field_values.c.value,
    ).where(session_field_values.c.session_id.in_(_IDS)),
    # The session fields of the page's templates ride along: one statement fewer.
    sa.select(
        sa.literal(3),
        template_fields.c.template_id,
        template_fields.c.id,
        template_fields.c.type
        + ":"
        + sa.cast(template_fields.c.display_order, sa.String)
        + ":"
        + template_fields.c.system_name,
    ).where(
        template_fields.c.template_id.in_(sa.bindparam("template_ids", expanding=True)),
        template_fields.c.scope == "session",
    ),
).order_by("kind", "session_id", "key", "text")
_FIELD_VALUES_OF = sa.select(
    session_field_values.c.session_id,
    session_field_values.c.field_id,
    session_field_values.c.value,
).where(session_field_values.c.session_id.in_(_IDS))


_SESSION_BY_ID = _VIEW.where(sessions.c.id == sa.bindparam("id"))


def sessions_by_ids(conn: Connection, ids: Sequence[int]) -> list[Row[Any]]:
    """Rows of VIEW_COLUMNS in the order of `ids`."""
    if not ids:
        return []
    if len(ids) == 1:  # the single-object GET: no expanding parameter to render
        return list(conn.execute(_SESSION_BY_ID, {"id": ids[0]}).all())
    rows = {r[0]: r for r in conn.execute(_SESSIONS_BY_IDS, {"ids": list(ids)}).all()}
    return [rows[i] for i in ids if i in rows]


def page_of_sessions(conn: Connection, project_id: int, req: lq.PageRequest) -> list[Row[Any]]:
    """One page of a project's sessions as rows of VIEW_COLUMNS, in one statement."""
    return lq.page_rows(conn, sessions, _VIEW, lambda s: s.c.project_id == project_id, req)


@dataclass
class Links:
    """What a page of sessions refers to, read in one statement."""

    tags: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    issues: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    values: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    # Session fields per template, in display order: {id, template_id, type, system_name}.
    fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def links_of(conn: Connection, ids: Sequence[int], template_ids: Iterable[int]) -> Links:
    """Tags (names), issue ids, JSON custom values and the templates' session fields."""
    out = Links()
    if not ids:
        return out
    params = {"ids": list(ids), "template_ids": sorted(set(template_ids))}
    ordered: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
    for kind, sid, key, text in conn.execute(_LINKS_OF, params).all():
        if kind == 0:
            out.tags[sid].append(text)
        elif kind == 1:
            out.issues[sid].append(key)
        elif kind == 2:
            out.values[sid][key] = text
        else:
            type_, order, system_name = text.split(":", 2)
            f = {"id": key, "template_id": sid, "type": type_, "system_name": system_name}
            ordered.setdefault(sid, []).append((int(order), key, f))
    for template_id, found in ordered.items():
        out.fields[template_id] = [f for _order, _id, f in sorted(found, key=lambda t: t[:2])]
    return out


def update_session(conn: Connection, session_id: int, **values: Any) -> None:
    conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))
    _bump_version(conn, session_id)


def delete_session(conn: Connection, session_id: int) -> None:
    _bump_version(conn, session_id)
    # Children first: SQLite cascades only with foreign_keys=ON, PostgreSQL always.
    for table in (session_tags, session_issues, session_field_values):
        conn.execute(sa.delete(table).where(table.c.session_id == session_id))
    result_ids = sa.select(session_results.c.id).where(session_results.c.session_id == session_id)
    for table in (result_issues, result_field_values):
        conn.execute(sa.delete(table).where(table.c.result_id.in_(result_ids)))
    conn.execute(sa.delete(session_results).where(session_results.c.session_id == session_id))
    conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))


def set_tags(conn: Connection, session_id: int, tag_ids: Iterable[int]) -> None:
    _bump_version(conn, session_id)
    conn.execute(sa.delete(session_tags).where(session_tags.c.session_id == session_id))
    rows = [{"session_id": session_id, "tag_id": t} for t in dict.fromkeys(tag_ids)]
    if rows:
        conn.execute(sa.insert(session_tags), rows)


def set_issues(conn: Connection, session_id: int, issue_ids: Iterable[int]) -> None:
    conn.execute(sa.delete(session_issues).where(session_issues.c.session_id == session_id))
    rows = [{"session_id": session_id, "issue_id": i} for i in dict.fromkeys(issue_ids)]
    if rows:
        conn.execute(sa.insert(session_issues), rows)


def set_field_values(conn: Connection, session_id: int, values: dict[int, str | None]) -> None:
    """Store JSON-encoded values by field id; None removes the value."""
    for field_id, encoded in values.items():
        key = (session_field_values.c.session_id == session_id) & (
            session_field_values.c.field_id == field_id
        )
        conn.execute(sa.delete(session_field_values).where(key))
        if encoded is not None:
            conn.execute(
                sa.insert(session_field_values).values(
                    session_id=session_id, field_id=field_id, value=encoded
                )
            )


def field_values_of(conn: Connection, ids: Sequence[int]) -> dict[int, dict[int, str]]:
    """JSON-encoded custom field values: {session_id: {field_id: value}}."""
    out: dict[int, dict[int, str]] = defaultdict(dict)
    if ids:
        for sid, fid, value in conn.execute(_FIELD_VALUES_OF, {"ids": list(ids)}).all():
            out[sid][fid] = value
    return out


def bump_counters(conn: Connection, session_id: int, deltas: dict[str, int]) -> None:
    values = {name: sessions.c[name] + delta for name, delta in deltas.items() if delta}
    if values:
        conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))


def stored_counters(
    conn: Connection, session_ids: Sequence[int] | None = None
) -> dict[int, dict[str, int]]:
    stmt = sa.select(sessions.c.id, *(sessions.c[c] for c in COUNTER_COLUMNS))
    if session_ids is not None:
        stmt = stmt.where(sessions.c.id.in_(session_ids))
    return {r[0]: dict(zip(COUNTER_COLUMNS, r[1:], strict=True)) for r in conn.execute(stmt)}


def result_status_histogram(
    conn: Connection, session_ids: Sequence[int] | None = None
) -> dict[int, dict[int | None, int]]:
    """{session_id: {status_id or None: number of results}} straight from the results."""
    stmt = sa.select(
        session_results.c.session_id, session_results.c.status_id, sa.func.count()
    ).group_by(session_results.c.session_id, session_results.c.status_id)
    if session_ids is not None:
        stmt = stmt.where(session_results.c.session_id.in_(session_ids))
    out: dict[int, dict[int | None, int]] = defaultdict(dict)
    for sid, status_id, n in conn.execute(stmt):
        out[sid][status_id] = int(n)
    return out


def project_session_counts(conn: Connection, project_id: int) -> dict[str, int]:
    stmt = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((sessions.c.is_closed.is_(True), 1), else_=0)), 0),
    ).where(sessions.c.project_id == project_id)
    total, closed = conn.execute(stmt).one()
    return {
        "session_count": int(total),
        "session_closed_count": int(closed),
        "session_active_count": int(total) - int(closed),
    }
