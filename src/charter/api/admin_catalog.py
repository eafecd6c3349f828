"""Charter extension: the site-wide reference data (templates, their custom fields and
dropdown values, workflow states, statuses, external issues, tags). Any user reads;
site admins write. Every resource gets the same routes from one table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get
from litestar.openapi.spec import OpenAPIType, Schema

from charter.api import docs, schemas
from charter.api.admin import as_one, read_one, read_page
from charter.api.conventions import FilterSpec, ListSpec, list_parameters, operation_with
from charter.api.deps import path_id
from charter.api.write_endpoints import (
    admin_item,
    admin_only,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from charter.db import tables
from charter.db.locks import row_lock
from charter.db.tables import FIELD_TYPES
from charter.domain import admin_reference as ar
from charter.domain.auth import User
from charter.domain.listing import ListQuery, Page

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
    table: sa.Table  # the items' table: updates and deletes lock the row (db/locks.py)
    # For the items that belong to projects' data (tags, issues): the reads as the
    # caller may see them (domain/admin_reference.py), instead of `listing` and `view`.
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


def _parent_id(r: Resource, request: Request[Any, Any, Any]) -> int | None:
    if r.parent_param is None:
        return None
    return path_id(request.path_params[r.parent_param], r.parent_what)


def _item_id(r: Resource, request: Request[Any, Any, Any]) -> int:
    return path_id(request.path_params[r.item_param], r.what)


def routes_for(r: Resource) -> list[Any]:
    listing_for, view_for = r.listing_for, r.view_for

    async def list_items(request: Request[Any, Any, Any]) -> Response[bytes]:
        if listing_for is not None:
            return await read_page(request, r.spec, listing_for)
        return await read_page(
            request,
            r.spec,
            lambda conn, _user, query: r.listing(conn, _parent_id(r, request), query),
        )

    async def get_item(request: Request[Any, Any, Any]) -> Response[bytes]:
        if view_for is not None:
            return await read_one(
                request, lambda conn, user: view_for(conn, user, _item_id(r, request))
            )
        return await read_one(request, lambda conn, _user: r.view(conn, _item_id(r, request)))

    routes = [
        get(
            r.list_path,
            operation_class=operation_with(list_parameters(r.spec)),
            responses=docs.responses(r.page_schema, 404, 422),
            summary=f"List {r.spec.noun} (Charter extension)",
            tags=["administration"],
            name=r.name("list"),
        )(list_items),
        get(
            r.item_route,
            operation_class=operation_with([]),
            responses=docs.responses(r.single_schema, 404),
            summary=f"One {r.what.lower()} (Charter extension)",
            tags=["administration"],
            name=r.name("get"),
        )(get_item),
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
    page_schema=schemas.TemplatePage,
    single_schema=schemas.TemplateSingle,
    allowed=ar.TEMPLATE_FIELDS,
    listing=_no_parent(ar.list_templates),
    view=ar.template_view,
    create=_no_parent(ar.create_template),
    update=ar.update_template,
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
    page_schema=schemas.TemplateFieldPage,
    single_schema=schemas.TemplateFieldSingle,
    allowed=ar.FIELD_FIELDS,
    listing=_with_parent(ar.list_fields),
    view=ar.field_view,
    create=_with_parent(ar.create_field),
    update=ar.update_field,
    required=("name", "system_name", "type"),
    types={
        "type": Schema(type=OpenAPIType.STRING, enum=list(FIELD_TYPES)),
        "scope": Schema(type=OpenAPIType.STRING, enum=list(ar.SCOPES)),
        "system_name": Schema(type=OpenAPIType.STRING, pattern="^[a-z][a-z0-9_]{0,62}$"),
    },
    remove=ar.delete_field,
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
    page_schema=schemas.FieldValuePage,
    single_schema=schemas.FieldValueSingle,
    allowed=ar.VALUE_FIELDS,
    listing=_with_parent(ar.list_values),
    view=ar.value_view,
    create=_with_parent(ar.create_value),
    update=ar.update_value,
    required=("name",),
    remove=ar.delete_value,
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
    page_schema=schemas.StatePage,
    single_schema=schemas.StateSingle,
    allowed=ar.STATE_FIELDS,
    listing=_no_parent(ar.list_states),
    view=ar.state_view,
    create=_no_parent(ar.create_state),
    update=ar.update_state,
    required=("name",),
    remove=ar.delete_state,
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
    page_schema=schemas.StatusPage,
    single_schema=schemas.StatusSingle,
    allowed=ar.STATUS_FIELDS,
    listing=_no_parent(ar.list_statuses),
    view=ar.status_view,
    update=ar.update_status,
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
    page_schema=schemas.IssuePage,
    single_schema=schemas.IssueSingle,
    allowed=ar.ISSUE_FIELDS,
    listing=_no_parent(ar.list_issues),
    view=ar.issue_view,
    listing_for=ar.list_issues_for,
    view_for=ar.issue_view_for,
    create=_no_parent(ar.create_issue),
    remove=ar.delete_issue,
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
    page_schema=schemas.TagPage,
    single_schema=schemas.TagSingle,
    allowed=ar.TAG_FIELDS,
    listing=_no_parent(ar.list_tags),
    view=ar.tag_view,
    listing_for=ar.list_tags_for,
    view_for=ar.tag_view_for,
    update=ar.update_tag,
    remove=ar.delete_tag,
    update_summary="Rename a tag (site admins; If-Match)",
    remove_summary="Delete a tag and take it off every session (site admins)",
)

RESOURCES = (TEMPLATES, FIELDS, FIELD_VALUES, STATES, STATUSES, ISSUES, TAGS)
ROUTES = [route for resource in RESOURCES for route in routes_for(resource)]
