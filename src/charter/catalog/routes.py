"""Charter extension: the site-wide reference data (templates, their custom fields and
dropdown values, workflow states, statuses, external issues, tags). Any user reads;
site admins write. Every resource gets the same routes from one table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.catalog import schemas as catalog_schemas
from charter.catalog import service as catalog_service
from charter.core.listing import ListQuery, Page
from charter.db import tables
from charter.db.locks import row_lock
from charter.db.tables import FIELD_TYPES, Table
from charter.http.conventions import FilterSpec, ListSpec
from charter.http.deps import path_id
from charter.http.read_routes import (
    PathIds,
    as_one,
    list_endpoint,
    single_endpoint,
)
from charter.http.write_routes import (
    admin_item,
    admin_only,
    create_endpoint,
    delete_endpoint,
    project_target,
    update_endpoint,
)

Conn = Any


@dataclass(frozen=True)
class Resource:
    """One kind of site-wide object and the routes it gets.

    Items live at `{item_path}/{<item_param>}`; the list (and create) at `list_path`,
    which may hold the parent's id as `{<parent_param>}` (fields of a template)."""

    tag: str
    what: str  # "Template", for messages and summaries
    item_path: str
    item_param: str
    list_path: str
    spec: ListSpec
    page_schema: Any
    single_schema: Any
    allowed: Sequence[str]
    listing: Callable[[Conn, int | None, ListQuery], Page]
    view: Callable[[Conn, int], dict[str, Any]]
    table: Table  # the items' table: updates and deletes lock the row (db/locks.py)
    # For the items that belong to projects' data (tags, issues): the reads as the
    # caller may see them (catalog/service.py), instead of `listing` and `view`.
    listing_for: Callable[[Conn, User, ListQuery], Page] | None = None
    view_for: Callable[[Conn, User, int], dict[str, Any]] | None = None
    parent_param: str | None = None
    parent_what: str = ""
    create: Callable[[Conn, int | None, dict[str, Any]], int] | None = None
    update: Callable[[Conn, int, dict[str, Any]], None] | None = None
    remove: Callable[[Conn, int], None] | None = None
    update_summary: str = ""
    remove_summary: str = ""
    required: Sequence[str] = ()  # body fields a create needs (for the document)
    types: Mapping[str, Schema] | None = None  # body fields typed unlike the docs.body rule

    @property
    def item_route(self) -> str:
        return f"{self.item_path}/{{{self.item_param}:str}}"

    def name(self, verb: str) -> str:
        return f"{verb}_{self.tag}_admin"


def routes_for(r: Resource) -> list[Any]:
    parent: PathIds = ((r.parent_param, r.parent_what),) if r.parent_param else ()
    listing_for, view_for = r.listing_for, r.view_for

    def listing(conn: Conn, user: User, *parent_and_query: Any) -> Page:
        *parent_id, query = parent_and_query
        if listing_for is not None:  # as the caller may see them
            return listing_for(conn, user, query)
        return r.listing(conn, parent_id[0] if parent_id else None, query)

    def single(conn: Conn, user: User, item_id: int) -> dict[str, Any]:
        if view_for is not None:
            return view_for(conn, user, item_id)
        return r.view(conn, item_id)

    routes = [
        # params_first, codes, handler_name: the order of checks, the documented
        # statuses and the operationIds these routes had before the factories.
        list_endpoint(
            r.list_path,
            r.spec,
            listing,
            ids=parent,
            params_first=True,
            codes=(404, 422),
            name=r.name("list"),
            handler_name="list_items",
            summary=f"List {r.spec.noun} (Charter extension)",
            tag="administration",
            schema=r.page_schema,
        ),
        single_endpoint(
            r.item_route,
            None,
            single,
            ids=((r.item_param, r.what),),
            codes=(404,),
            name=r.name("get"),
            handler_name="get_item",
            summary=f"One {r.what.lower()} (Charter extension)",
            tag="administration",
            schema=r.single_schema,
        ),
    ]
    create, update, remove = r.create, r.update, r.remove
    # handler_name: the function names the handlers had, so the operationIds stay.
    view = as_one(r.view)
    item = admin_item(r.what)
    if create is not None:
        routes.append(
            create_endpoint(
                r.list_path,
                target=admin_item(r.parent_what) if r.parent_param else admin_only,
                allowed=r.allowed,
                required=r.required,
                types=r.types,
                create=lambda conn, _user, parent, body: create(conn, parent, body),
                view=view,
                codes=(403, 404, 409, 422),
                name=r.name("create"),
                handler_name="create_item",
                summary=f"Create a {r.what.lower()} (site admins; Charter extension)",
                tag="administration",
                schema=r.single_schema,
            )
        )
    if update is not None:
        routes.append(
            update_endpoint(
                r.item_route,
                target=item,
                lock=row_lock(r.table),
                allowed=r.allowed,
                types=r.types,
                change=lambda conn, _user, item_id, body: update(conn, item_id, body),
                view=view,
                codes=(403, 404, 409, 412, 422),
                name=r.name("update"),
                handler_name="update_item",
                summary=r.update_summary or f"Edit a {r.what.lower()} (site admins; If-Match)",
                tag="administration",
                schema=r.single_schema,
            )
        )
    if remove is not None:
        routes.append(
            delete_endpoint(
                r.item_route,
                target=item,
                lock=row_lock(r.table),
                current=view,
                remove=lambda conn, _user, item_id: remove(conn, item_id),
                codes=(403, 404, 409, 412),
                name=r.name("delete"),
                handler_name="delete_item",
                summary=r.remove_summary or f"Delete a {r.what.lower()} (site admins)",
                tag="administration",
            )
        )
    return routes


def _no_parent(fn: Callable[[Conn, Any], Any]) -> Callable[[Conn, int | None, Any], Any]:
    return lambda conn, _parent, arg: fn(conn, arg)


def _with_parent(fn: Callable[[Conn, int, Any], Any]) -> Callable[[Conn, int | None, Any], Any]:
    def call(conn: Conn, parent: int | None, arg: Any) -> Any:
        assert parent is not None
        return fn(conn, parent, arg)

    return call


TEMPLATES = Resource(
    tag="templates",
    table=tables.templates,
    what="Template",
    item_path="/api/v1/templates",
    item_param="template_id",
    list_path="/api/v1/templates",
    spec=ListSpec(
        noun="templates",
        sorts={"templates:created_at": "created_at", "templates:name": "name"},
        default_sort="templates:created_at",
    ),
    page_schema=catalog_schemas.TemplatePage,
    single_schema=catalog_schemas.TemplateSingle,
    allowed=catalog_service.TEMPLATE_FIELDS,
    listing=_no_parent(catalog_service.list_templates),
    view=catalog_service.template_view,
    create=_no_parent(catalog_service.create_template),
    update=catalog_service.update_template,
    required=("name",),
    update_summary="Rename a template or make it the default (site admins; If-Match)",
)


FIELDS = Resource(
    tag="fields",
    table=tables.template_fields,
    what="Field",
    item_path="/api/v1/fields",
    item_param="field_id",
    list_path="/api/v1/templates/{template_id:str}/fields",
    parent_param="template_id",
    parent_what="Template",
    spec=ListSpec(
        noun="the custom fields of a template",
        sorts={"fields:display_order": "display_order", "fields:name": "name"},
        default_sort="fields:display_order",
    ),
    page_schema=catalog_schemas.TemplateFieldPage,
    single_schema=catalog_schemas.TemplateFieldSingle,
    allowed=catalog_service.FIELD_FIELDS,
    listing=_with_parent(catalog_service.list_fields),
    view=catalog_service.field_view,
    create=_with_parent(catalog_service.create_field),
    update=catalog_service.update_field,
    required=("name", "system_name", "type"),
    types={
        "type": Schema(type=OpenAPIType.STRING, enum=list(FIELD_TYPES)),
        "scope": Schema(type=OpenAPIType.STRING, enum=list(catalog_service.SCOPES)),
        "system_name": Schema(type=OpenAPIType.STRING, pattern="^[a-z][a-z0-9_]{0,62}$"),
    },
    remove=catalog_service.delete_field,
    update_summary="Edit a custom field; its type and scope are fixed (site admins; If-Match)",
    remove_summary="Delete a custom field no session or result holds a value of (site admins)",
)


FIELD_VALUES = Resource(
    tag="field_values",
    table=tables.field_values,
    what="Field value",
    item_path="/api/v1/fields/values",
    item_param="value_id",
    list_path="/api/v1/fields/{field_id:str}/values",
    parent_param="field_id",
    parent_what="Field",
    spec=ListSpec(
        noun="the values of a dropdown or multi-select field",
        sorts={"field_values:display_order": "display_order", "field_values:name": "name"},
        default_sort="field_values:display_order",
    ),
    page_schema=catalog_schemas.FieldValuePage,
    single_schema=catalog_schemas.FieldValueSingle,
    allowed=catalog_service.VALUE_FIELDS,
    listing=_with_parent(catalog_service.list_values),
    view=catalog_service.value_view,
    create=_with_parent(catalog_service.create_value),
    update=catalog_service.update_value,
    required=("name",),
    remove=catalog_service.delete_value,
    remove_summary="Delete a field value no session or result uses (site admins)",
)


STATES = Resource(
    tag="states",
    table=tables.states,
    what="State",
    item_path="/api/v1/states",
    item_param="state_id",
    list_path="/api/v1/states",
    spec=ListSpec(
        noun="workflow states",
        sorts={"states:display_order": "display_order", "states:name": "name"},
        default_sort="states:display_order",
    ),
    page_schema=catalog_schemas.StatePage,
    single_schema=catalog_schemas.StateSingle,
    allowed=catalog_service.STATE_FIELDS,
    listing=_no_parent(catalog_service.list_states),
    view=catalog_service.state_view,
    create=_no_parent(catalog_service.create_state),
    update=catalog_service.update_state,
    required=("name",),
    remove=catalog_service.delete_state,
    update_summary="Rename, reorder or make a state the default (site admins; If-Match)",
    remove_summary="Delete a workflow state no session uses, not the default (site admins)",
)


STATUSES = Resource(
    tag="statuses",
    table=tables.statuses,
    what="Status",
    item_path="/api/v1/statuses",
    item_param="status_id",
    list_path="/api/v1/statuses",
    spec=ListSpec(
        noun="statuses (all 25)",
        sorts={"statuses:id": "id"},
        default_sort="statuses:id",
        filters=(FilterSpec("is_active", "bool", "is_active", "Enabled (1) or disabled (0)."),),
    ),
    page_schema=catalog_schemas.StatusPage,
    single_schema=catalog_schemas.StatusSingle,
    allowed=catalog_service.STATUS_FIELDS,
    listing=_no_parent(catalog_service.list_statuses),
    view=catalog_service.status_view,
    update=catalog_service.update_status,
    types={"system_name": Schema(type=OpenAPIType.STRING, pattern="^[a-z][a-z0-9_]{0,62}$")},
    update_summary=(
        "Edit a status; changed flags rebuild the session counters (site admins; If-Match)"
    ),
)


ISSUES = Resource(
    tag="issues",
    table=tables.issues,
    what="Issue",
    item_path="/api/v1/issues",
    item_param="issue_id",
    list_path="/api/v1/issues",
    spec=ListSpec(
        noun="external issues",
        sorts={"issues:created_at": "created_at", "issues:display_id": "display_id"},
        default_sort="issues:created_at",
        filters=(FilterSpec("type", "ids", "type", "1 custom, 2 GitHub, 3 GitLab, 4 Jira."),),
    ),
    page_schema=catalog_schemas.IssuePage,
    single_schema=catalog_schemas.IssueSingle,
    allowed=catalog_service.ISSUE_FIELDS,
    listing=_no_parent(catalog_service.list_issues),
    view=catalog_service.issue_view,
    listing_for=catalog_service.list_issues_for,
    view_for=catalog_service.issue_view_for,
    create=_no_parent(catalog_service.create_issue),
    remove=catalog_service.delete_issue,
    required=("type", "display_id"),
    types={"type": Schema(type=OpenAPIType.INTEGER, enum=[1, 2, 3, 4])},
    remove_summary="Delete an issue nothing links to (site admins)",
)


TAGS = Resource(
    tag="tags",
    table=tables.tags,
    what="Tag",
    item_path="/api/v1/tags",
    item_param="tag_id",
    list_path="/api/v1/tags",
    spec=ListSpec(
        noun="tags with the number of sessions using each",
        sorts={"tags:name": "name", "tags:id": "id"},
        default_sort="tags:name",
    ),
    page_schema=catalog_schemas.TagPage,
    single_schema=catalog_schemas.TagSingle,
    allowed=catalog_service.TAG_FIELDS,
    listing=_no_parent(catalog_service.list_tags),
    view=catalog_service.tag_view,
    listing_for=catalog_service.list_tags_for,
    view_for=catalog_service.tag_view_for,
    update=catalog_service.update_tag,
    remove=catalog_service.delete_tag,
    update_summary="Rename a tag (site admins; If-Match)",
    remove_summary="Delete a tag and take it off every session (site admins)",
)


CONNECTIONS = ListSpec(
    noun="issue-tracker connections",
    sorts={
        "connections:integration_id": "integration_id",
        "connections:integration_name": "integration_name",
        "connections:created_at": "created_at",
    },
    default_sort="connections:integration_id",
    filters=(
        FilterSpec("integration_id", "ids", "integration_id"),
        FilterSpec(
            "integration_type", "ids", "integration_type", "1 custom, 2 GitHub, 3 GitLab, 4 Jira."
        ),
        FilterSpec("connection_id", "ids", "connection_id"),
        FilterSpec("connection_project_id", "ids", "connection_project_id"),
        FilterSpec("is_active", "bool", "is_active"),
        FilterSpec("integration_name", "contains", "integration_name"),
        FilterSpec("connection_name", "contains", "connection_name"),
        FilterSpec("connection_project_name", "contains", "connection_project_name"),
    ),
)

list_issue_connections = list_endpoint(
    "/api/v1/issues/connections",
    CONNECTIONS,
    catalog_service.list_connections,
    name="list_issue_connections",
    summary="List the issue trackers and external projects issues are linked from",
    tag="issues",
    schema=catalog_schemas.ConnectionPage,
)


RESOURCES = (TEMPLATES, FIELDS, FIELD_VALUES, STATES, STATUSES, ISSUES, TAGS)


# --- note kinds, per project (SBTM): managers write, members read --------------------

KINDS = ListSpec(
    noun="kinds",
    sorts={"kinds:position": "position", "kinds:name": "name"},
    default_sort="kinds:position",
)
KIND_TYPES = {
    "name": Schema(type=OpenAPIType.STRING),
    "color": Schema(type=OpenAPIType.STRING, description="#rrggbb"),
    "position": Schema(type=OpenAPIType.INTEGER),
    "category": Schema(type=OpenAPIType.STRING, enum=["note", "bug", "issue"]),
}


def _kinds(conn: Any, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    return catalog_service.list_kinds(conn, project_id, query)


def _kind(conn: Any, user: User, raw_id: str, action: Action) -> int:
    kind_id = path_id(raw_id, "Kind")
    require_project(conn, user, catalog_service.kind_row(conn, kind_id)["project_id"], action)
    return kind_id


def _managed_kind(conn: Any, user: User, raw_id: str) -> int:
    return _kind(conn, user, raw_id, "manage")


KIND_ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/kinds",
        KINDS,
        _kinds,
        ids=(("project_id", "Project"),),
        name="list_kinds",
        summary="List the note kinds of a project (SBTM; Charter extension)",
        tag="sbtm",
        schema=catalog_schemas.KindPage,
    ),
    create_endpoint(
        "/api/v1/projects/{project_id:str}/kinds",
        target=project_target("manage"),
        allowed=catalog_service.KIND_FIELDS,
        required=("name", "category"),
        types=KIND_TYPES,
        create=lambda conn, _user, pid, body: catalog_service.create_kind(conn, pid, body),
        view=as_one(catalog_service.kind_view),
        codes=(403, 404, 422),
        name="create_kind",
        summary="Add a note kind (managers; SBTM; Charter extension)",
        tag="sbtm",
        schema=catalog_schemas.KindSingle,
    ),
    single_endpoint(
        "/api/v1/kinds/{kind_id:str}",
        None,
        lambda conn, user, raw_id: catalog_service.kind_view(
            conn, _kind(conn, user, raw_id, "read")
        ),
        ids=(("kind_id", None),),
        codes=(403, 404),
        name="get_kind",
        summary="One note kind (SBTM; Charter extension)",
        tag="sbtm",
        schema=catalog_schemas.KindSingle,
    ),
    update_endpoint(
        "/api/v1/kinds/{kind_id:str}",
        target=_managed_kind,
        lock=row_lock(tables.result_kinds),
        allowed=catalog_service.KIND_FIELDS,
        types=KIND_TYPES,
        change=lambda conn, _user, kid, body: catalog_service.update_kind(conn, kid, body),
        view=as_one(catalog_service.kind_view),
        codes=(403, 404, 412, 422),
        name="update_kind",
        summary="Rename, recolour or move a note kind (managers; If-Match; SBTM)",
        tag="sbtm",
        schema=catalog_schemas.KindSingle,
    ),
    delete_endpoint(
        "/api/v1/kinds/{kind_id:str}",
        target=_managed_kind,
        lock=row_lock(tables.result_kinds),
        current=as_one(catalog_service.kind_view),
        remove=lambda conn, _user, kid: catalog_service.delete_kind(conn, kid),
        codes=(403, 404, 409, 412),
        name="delete_kind",
        summary="Delete a note kind no result uses (managers; SBTM; Charter extension)",
        tag="sbtm",
    ),
]


ROUTES = [
    list_issue_connections,
    *(route for resource in RESOURCES for route in routes_for(resource)),
    *KIND_ROUTES,
]
