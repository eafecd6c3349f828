"""What other packages read of the catalog (statuses, templates, fields, states,
issues, tags): they call these and never import catalog.queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.catalog.queries import active_statuses as active_statuses
from charter.catalog.queries import field_value_expands as field_value_expands
from charter.catalog.queries import fields_of_templates as fields_of_templates
from charter.catalog.queries import issue_expands as issue_expands
from charter.catalog.queries import kind_categories as kind_categories
from charter.catalog.queries import kind_rows as kind_rows
from charter.catalog.queries import state_expands as state_expands
from charter.catalog.queries import state_with_meaning as state_with_meaning
from charter.catalog.queries import status_flags as status_flags
from charter.catalog.queries import tag_ids_by_names as tag_ids_by_names
from charter.catalog.queries import template_expands as template_expands


def status_colors(conn: Connection) -> dict[int, str]:
    """{status id: '#rrggbb'} for the web UI's status classes (/static/statuses.css)."""
    return {i: str(row["color"]) for i, row in status_flags(conn).items()}


def kind_dict(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"],
        "project_id": r["project_id"],
        "name": r["name"],
        "color": r["color"],
        "position": r["position"],
        "category": r["category"],
    }


def kind_expands(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """The `kinds` expand of a results list: the project's kinds in their order."""
    return [kind_dict(r) for r in kind_rows(conn, project_id)]
