"""What sessions refer to: milestones, configs, templates and their fields, workflow
states, statuses, external issues and tags."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from charter.db.tables import (
    configs,
    field_values,
    issues,
    milestones,
    states,
    statuses,
    tags,
    template_fields,
    templates,
)


def insert(conn: Connection, table: sa.Table, **values: Any) -> int:
    return int(conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one())


def update(conn: Connection, table: sa.Table, row_id: int, **values: Any) -> None:
    conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))


def row_by_id(conn: Connection, table: sa.Table, row_id: int) -> RowMapping | None:
    return conn.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()


@functools.cache
def _by_ids_statement(columns: tuple[sa.Column[Any], ...]) -> sa.Select[Any]:
    """Built once per column list: expands run on every list request."""
    table = columns[0].table
    ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
    return sa.select(*columns).where(table.c.id.in_(ids)).order_by(table.c.id)


def _by_ids(
    conn: Connection, columns: list[sa.Column[Any]], ids: Iterable[int]
) -> list[dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = _by_ids_statement(tuple(columns))
    keys = [c.name for c in columns]
    rows = conn.execute(stmt, {"ids": wanted}).all()
    return [dict(zip(keys, row, strict=True)) for row in rows]


def config_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [configs.c.id, configs.c.name], ids)


def milestone_names(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [milestones.c.id, milestones.c.name], ids)


def template_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [templates.c.id, templates.c.name, templates.c.is_default], ids)


def state_with_meaning(conn: Connection, meaning: str) -> int | None:
    """The first state (by display order) with this lifecycle meaning, if any."""
    stmt = (
        sa.select(states.c.id)
        .where(states.c.meaning == meaning)
        .order_by(states.c.display_order, states.c.id)
        .limit(1)
    )
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def state_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _by_ids(conn, [states.c.id, states.c.name, states.c.is_default], ids)


def issue_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    cols = [
        issues.c.id,
        issues.c.type,
        issues.c.display_id,
        issues.c.external_project_id,
        issues.c.external_project_key,
    ]
    return _by_ids(conn, cols, ids)


def field_value_expands(conn: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    cols = [field_values.c.id, field_values.c.name, field_values.c.icon, field_values.c.color]
    return _by_ids(conn, cols, ids)


def active_statuses(conn: Connection) -> list[dict[str, Any]]:
    out = []
    for row in conn.execute(_ACTIVE_STATUSES).mappings().all():
        item = dict(row)
        item["aliases"] = json.loads(item["aliases"])
        out.append(item)
    return out


_ACTIVE_STATUSES = (
    sa.select(
        statuses.c.id,
        statuses.c.name,
        statuses.c.system_name,
        statuses.c.color,
        statuses.c.is_final,
        statuses.c.is_untested,
        statuses.c.is_passed,
        statuses.c.is_failed,
        statuses.c.aliases,
    )
    .where(statuses.c.is_active.is_(True))
    .order_by(statuses.c.id)
)


def status_flags(conn: Connection) -> dict[int, dict[str, Any]]:
    """Every status (active or not) by id, for counting."""
    return {int(r["id"]): dict(r) for r in conn.execute(sa.select(statuses)).mappings()}


_FIELDS_OF = (
    sa.select(template_fields)
    .where(
        template_fields.c.template_id.in_(sa.bindparam("ids", expanding=True)),
        template_fields.c.scope == sa.bindparam("scope"),
    )
    .order_by(template_fields.c.template_id, template_fields.c.display_order, template_fields.c.id)
)


def fields_of_templates(
    conn: Connection, template_ids: Iterable[int], scope: str = "session"
) -> list[RowMapping]:
    """Custom fields of the templates, of sessions or of results (`scope`)."""
    ids = list(set(template_ids))
    if not ids:
        return []
    return list(conn.execute(_FIELDS_OF, {"ids": ids, "scope": scope}).mappings().all())


def value_ids_of_field(conn: Connection, field_id: int) -> set[int]:
    stmt = sa.select(field_values.c.id).where(field_values.c.field_id == field_id)
    return {r[0] for r in conn.execute(stmt)}


def default_id(conn: Connection, table: sa.Table) -> int | None:
    stmt = sa.select(table.c.id).where(table.c.is_default.is_(True)).order_by(table.c.id).limit(1)
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def existing_ids(conn: Connection, table: sa.Table, ids: Iterable[int]) -> set[int]:
    ids = set(ids)
    if not ids:
        return set()
    return {r[0] for r in conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids)))}


def project_of(conn: Connection, table: sa.Table, row_id: int) -> int | None:
    value = conn.execute(sa.select(table.c.project_id).where(table.c.id == row_id)).scalar()
    return None if value is None else int(value)


def tag_ids_by_names(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    stmt = sa.select(tags.c.name, tags.c.id).where(tags.c.name.in_(names))
    return {r[0]: int(r[1]) for r in conn.execute(stmt)}


def ensure_tags(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Tag ids by name, creating the missing tags."""
    wanted = list(dict.fromkeys(names))
    found = tag_ids_by_names(conn, wanted)
    for name in wanted:
        if name not in found:
            found[name] = insert(conn, tags, name=name)
    return found
