"""The site-wide reference data in the browser, for site admins (web/crud.py's pattern,
the same service calls and locks as the API's catalog routes): templates, their
fields and dropdown values, workflow states, statuses and tags; and
`/static/statuses.css`: one class set per result status, with the colours admins
gave them in the database. CSP forbids inline styles, so pages colour by class:
`status-bg-<id>` (background), `status-fill-<id>` (SVG fill), `status-border-<id>`,
`status-text-<id>`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_admin
from charter.auth.service import User
from charter.catalog import read as catalog_read
from charter.catalog import service as catalog
from charter.core.listing import ListQuery
from charter.db import tables
from charter.db.locks import row_lock
from charter.http.deps import database
from charter.web.crud import Input, Link, Things, routes_of

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def status_css(colors: dict[int, str]) -> str:
    """CSS for {status id: '#rrggbb'}; a colour that is not #rrggbb is skipped."""
    lines = ["/* Generated from the statuses table by charter.web.styles. */"]
    for status_id, color in sorted(colors.items()):
        if not _HEX.match(color):
            continue
        lines.append(
            f".status-bg-{status_id} {{ background-color: {color}; }}\n"
            f".status-fill-{status_id} {{ fill: {color}; }}\n"
            f".status-border-{status_id} {{ border-color: {color}; }}\n"
            f".status-text-{status_id} {{ color: {color}; }}"
        )
    return "\n".join(lines) + "\n"


@get("/static/statuses.css", name="statuses_css")
async def statuses_css(request: Request[Any, Any, Any]) -> Response[str]:
    db = database(request)

    def colors() -> dict[int, str]:
        with db.read() as conn:
            return catalog_read.status_colors(conn)

    css = status_css(await db.run(colors))
    return Response(
        content=css,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "no-cache"},  # revalidated by ETag: colours may change
    )


# Every item on one page: a site has tens of templates, states or tags, not thousands.
ALL = ListQuery(per_page=1000, sort="display_order", descending=False)
ADMIN: Link = ("Administration", "/admin")


def _admin(_conn: Connection, user: User, _parent: Any = None) -> list[Link]:
    require_admin(user)
    return [ADMIN]


def _admin_list(title: str, path: str) -> Any:
    """item_guard of a site-wide thing: site admins; the crumbs lead back to the list."""

    def guard(_conn: Connection, user: User, _item_id: int) -> tuple[None, list[Link]]:
        require_admin(user)
        return None, [ADMIN, (title, path)]

    return guard


def _sorted(sort: str) -> ListQuery:
    return ListQuery(per_page=ALL.per_page, sort=sort, descending=False)


def _checkbox(name: str, label: str, hint: str = "") -> Input:
    return Input(name, label, "checkbox", hint=hint)


NAME = Input("name", "Name", required=True)
ORDER = Input("display_order", "Order", "integer", hint="lower first; empty: last")


TEMPLATES = Things(
    name="admin_templates",
    what="Template",
    title="Templates",
    list_path="/admin/templates",
    item_path="/admin/templates/{template_id:str}",
    intro="A template is the set of custom fields a session (or a note) fills in. "
    "The default template is preselected for new sessions.",
    inputs=(NAME, _checkbox("is_default", "Default template")),
    columns=(("name", "Name"), ("is_default", "Default"), ("field_names", "Fields")),
    guard=_admin,
    item_guard=_admin_list("Templates", "/admin/templates"),
    rows=lambda conn, _u, _p: [
        dict(t, field_names=[f["name"] for f in t["fields"]])
        for t in catalog.list_templates(conn, _sorted("name")).rows
    ],
    view=catalog.template_view,
    lock=row_lock(tables.templates),
    create=lambda conn, _u, _p, body: catalog.create_template(conn, body),
    update=lambda conn, _u, tid, body: catalog.update_template(conn, tid, body),
    links=lambda t: [("Fields", f"/admin/templates/{t['id']}/fields")],
)


def _template_crumbs(conn: Connection, user: User, template_id: Any) -> list[Link]:
    require_admin(user)
    template = catalog.template_view(conn, template_id)  # NotFound for an unknown one
    return [
        ADMIN,
        ("Templates", "/admin/templates"),
        (template["name"], f"/admin/templates/{template_id}/fields"),
    ]


def _field_guard(conn: Connection, user: User, field_id: int) -> tuple[int, list[Link]]:
    require_admin(user)
    template_id = catalog.field_row(conn, field_id)["template_id"]
    return template_id, _template_crumbs(conn, user, template_id)


CHOICE_TYPES = ("dropdown", "multiselect")


FIELDS = Things(
    name="admin_fields",
    what="Field",
    title="Fields",
    list_path="/admin/templates/{template_id:str}/fields",
    item_path="/admin/fields/{field_id:str}",
    parent_what="Template",
    intro="Session fields appear on the session form; result fields in the note box of "
    "the run page. A required field must be filled in. Type and scope are fixed once the "
    "field exists; dropdown and multi-select fields get their values on the field's page.",
    inputs=(
        NAME,
        Input(
            "system_name",
            "System name",
            required=True,
            edit=False,
            hint="lowercase letters, digits and _; the API's custom_<name>",
        ),
        Input("type", "Type", "choice", edit=False, choices=[(t, t) for t in tables.FIELD_TYPES]),
        Input(
            "scope",
            "Scope",
            "choice",
            edit=False,
            choices=[("session", "session (the session form)"), ("result", "result (each note)")],
        ),
        _checkbox("is_required", "Required"),
        ORDER,
    ),
    columns=(
        ("name", "Name"),
        ("system_name", "System name"),
        ("type", "Type"),
        ("scope", "Scope"),
        ("is_required", "Required"),
        ("value_names", "Values"),
    ),
    guard=_template_crumbs,
    item_guard=_field_guard,
    heading=lambda conn, tid: f"Fields of {catalog.template_view(conn, tid)['name']}",
    rows=lambda conn, _u, tid: [
        dict(f, value_names=[v["name"] for v in f["values"]])
        for f in catalog.list_fields(conn, tid, ALL).rows
    ],
    view=catalog.field_view,
    lock=row_lock(tables.template_fields),
    create=lambda conn, _u, tid, body: catalog.create_field(conn, tid, body),
    update=lambda conn, _u, fid, body: catalog.update_field(conn, fid, body),
    remove=lambda conn, _u, fid: catalog.delete_field(conn, fid),
    links=lambda f: (
        [("Values", f"/admin/fields/{f['id']}/values")] if f["type"] in CHOICE_TYPES else []
    ),
    back=lambda tid: ("Fields", f"/admin/templates/{tid}/fields"),
)


def _field_crumbs(conn: Connection, user: User, field_id: Any) -> list[Link]:
    _template_id, crumbs = _field_guard(conn, user, field_id)
    name = catalog.field_row(conn, field_id)["name"]
    return [*crumbs, (name, f"/admin/fields/{field_id}/values")]


def _value_guard(conn: Connection, user: User, value_id: int) -> tuple[int, list[Link]]:
    require_admin(user)
    field_id = catalog.value_row(conn, value_id)["field_id"]
    return field_id, _field_crumbs(conn, user, field_id)


VALUES = Things(
    name="admin_field_values",
    what="Value",
    title="Values",
    list_path="/admin/fields/{field_id:str}/values",
    item_path="/admin/values/{value_id:str}",
    parent_what="Field",
    intro="The choices of a dropdown or multi-select field, each with an optional colour.",
    inputs=(
        NAME,
        Input("color", "Colour", "color", hint="#rrggbb, optional"),
        ORDER,
    ),
    columns=(("name", "Name"), ("color", "Colour"), ("display_order", "Order")),
    guard=_field_crumbs,
    item_guard=_value_guard,
    heading=lambda conn, fid: f"Values of {catalog.field_row(conn, fid)['name']}",
    rows=lambda conn, _u, fid: catalog.list_values(conn, fid, ALL).rows,
    view=catalog.value_view,
    lock=row_lock(tables.field_values),
    create=lambda conn, _u, fid, body: catalog.create_value(conn, fid, body),
    update=lambda conn, _u, vid, body: catalog.update_value(conn, vid, body),
    remove=lambda conn, _u, vid: catalog.delete_value(conn, vid),
)


STATES = Things(
    name="admin_states",
    what="Workflow state",
    title="Workflow states",
    list_path="/admin/states",
    item_path="/admin/states/{state_id:str}",
    intro="Where a session is in the team's workflow. A state's meaning moves sessions "
    "on their own: start moves a session to the active state, close to the done state, "
    "reopen back to active, unless someone chose a state by hand.",
    inputs=(
        NAME,
        Input(
            "meaning",
            "Meaning",
            "choice",
            blank="None",
            choices=[(m, m) for m in catalog.STATE_MEANINGS],
        ),
        _checkbox("is_default", "Default state", "new sessions start here"),
        ORDER,
    ),
    columns=(("name", "Name"), ("meaning", "Meaning"), ("is_default", "Default")),
    guard=_admin,
    item_guard=_admin_list("Workflow states", "/admin/states"),
    rows=lambda conn, _u, _p: catalog.list_states(conn, ALL).rows,
    view=catalog.state_view,
    lock=row_lock(tables.states),
    create=lambda conn, _u, _p, body: catalog.create_state(conn, body),
    update=lambda conn, _u, sid, body: catalog.update_state(conn, sid, body),
    remove=lambda conn, _u, sid: catalog.delete_state(conn, sid),
)


STATUSES = Things(
    name="admin_statuses",
    what="Status",
    title="Statuses",
    list_path="/admin/statuses",
    item_path="/admin/statuses/{status_id:str}",
    intro="The results a note can record (a fixed set of 25: enable the ones your team "
    "uses). Changing a flag recounts the sessions that use the status.",
    inputs=(
        NAME,
        Input("system_name", "System name", required=True),
        Input("color", "Colour", "color", required=True, hint="#rrggbb"),
        Input("aliases", "Aliases", "list", hint="comma-separated"),
        _checkbox("is_active", "Enabled"),
        _checkbox("is_passed", "Counts as passed"),
        _checkbox("is_failed", "Counts as failed"),
        _checkbox("is_untested", "Counts as untested"),
        _checkbox("is_final", "Final"),
    ),
    columns=(
        ("name", "Name"),
        ("color", "Colour"),
        ("is_active", "Enabled"),
        ("is_passed", "Passed"),
        ("is_failed", "Failed"),
    ),
    guard=_admin,
    item_guard=_admin_list("Statuses", "/admin/statuses"),
    rows=lambda conn, _u, _p: catalog.list_statuses(conn, _sorted("id")).rows,
    view=catalog.status_view,
    lock=row_lock(tables.statuses),
    update=lambda conn, _u, sid, body: catalog.update_status(conn, sid, body),
)


TAGS = Things(
    name="admin_tags",
    what="Tag",
    title="Tags",
    list_path="/admin/tags",
    item_path="/admin/tags/{tag_id:str}",
    intro="Tags are made by typing them on a session; here they are renamed or deleted "
    "(deleting takes the tag off every session).",
    inputs=(NAME,),
    columns=(("name", "Name"), ("session_count", "Sessions")),
    guard=_admin,
    item_guard=_admin_list("Tags", "/admin/tags"),
    rows=lambda conn, _u, _p: catalog.list_tags(conn, _sorted("name")).rows,
    view=catalog.tag_view,
    lock=row_lock(tables.tags),
    update=lambda conn, _u, tid, body: catalog.update_tag(conn, tid, body),
    remove=lambda conn, _u, tid: catalog.delete_tag(conn, tid),
)


SETUP = (TEMPLATES, FIELDS, VALUES, STATES, STATUSES, TAGS)


ROUTES: list[Any] = [statuses_css, *(route for things in SETUP for route in routes_of(things))]
