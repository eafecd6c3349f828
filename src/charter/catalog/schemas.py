"""OpenAPI shapes of the catalog: templates, fields, field values, states, statuses,
issues and tags."""

from __future__ import annotations

import msgspec

from charter.http.schemas import Envelope, StatusExpand


class FieldValue(msgspec.Struct):
    id: int
    field_id: int
    name: str
    icon: str | None
    color: str | None
    display_order: int


class FieldValuePage(Envelope):
    result: list[FieldValue]
    expands: dict[str, object]


class FieldValueSingle(msgspec.Struct):
    result: FieldValue
    expands: dict[str, object]


class TemplateField(msgspec.Struct):
    id: int
    template_id: int
    name: str
    system_name: str
    type: str
    scope: str
    is_required: bool
    display_order: int
    values: list[FieldValue]


class TemplateFieldPage(Envelope):
    result: list[TemplateField]
    expands: dict[str, object]


class TemplateFieldSingle(msgspec.Struct):
    result: TemplateField
    expands: dict[str, object]


class Template(msgspec.Struct):
    id: int
    name: str
    is_default: bool
    created_at: str
    fields: list[TemplateField]


class TemplatePage(Envelope):
    result: list[Template]
    expands: dict[str, object]


class TemplateSingle(msgspec.Struct):
    result: Template
    expands: dict[str, object]


class State(msgspec.Struct):
    id: int
    name: str
    is_default: bool
    display_order: int
    # Its meaning in a session's lifecycle: planned, active, review, done, or null.
    meaning: str | None


class StatePage(Envelope):
    result: list[State]
    expands: dict[str, object]


class StateSingle(msgspec.Struct):
    result: State
    expands: dict[str, object]


class Status(StatusExpand):
    """A status as the administration reads it: its expand, and whether it is on."""

    is_active: bool


class StatusPage(Envelope):
    result: list[Status]
    expands: dict[str, object]


class StatusSingle(msgspec.Struct):
    result: Status
    expands: dict[str, object]


class Issue(msgspec.Struct):
    id: int
    type: int
    display_id: str
    external_project_id: int | None
    external_project_key: str | None
    created_at: str


class IssuePage(Envelope):
    result: list[Issue]
    expands: dict[str, object]


class IssueSingle(msgspec.Struct):
    result: Issue
    expands: dict[str, object]


class Connection(msgspec.Struct):
    integration_id: int
    integration_type: int  # 1 custom, 2 GitHub, 3 GitLab, 4 Jira
    integration_name: str
    connection_id: int | None
    connection_name: str | None
    connection_project_id: int | None
    connection_project_name: str | None
    is_active: bool
    created_at: str
    updated_at: str | None


class ConnectionPage(Envelope):
    result: list[Connection]
    expands: dict[str, object]


class Tag(msgspec.Struct):
    id: int
    name: str
    session_count: int


class TagPage(Envelope):
    result: list[Tag]
    expands: dict[str, object]


class TagSingle(msgspec.Struct):
    result: Tag
    expands: dict[str, object]


class Kind(msgspec.Struct):
    id: int
    project_id: int
    name: str
    color: str
    position: int
    category: str  # note, bug or issue (what the kind counts as in SBTM)


class KindPage(Envelope):
    result: list[Kind]
    expands: dict[str, object]


class KindSingle(msgspec.Struct):
    result: Kind
    expands: dict[str, object]
