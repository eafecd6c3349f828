"""OpenAPI shapes of attachments and their pages."""

from __future__ import annotations

import msgspec

from charter.http.schemas import Envelope, UserExpand


class Attachment(msgspec.Struct):
    id: int
    session_id: int
    result_id: int | None
    name: str
    note: str | None
    mime_type: str
    size: int
    sha256: str
    created_at: str
    created_by: int | None
    path: str
    path_thumbnail: str | None
    path_preview: str | None


class AttachmentExpands(msgspec.Struct, omit_defaults=True):
    users: list[UserExpand] | None = None


class AttachmentPage(Envelope):
    result: list[Attachment]
    expands: AttachmentExpands


class AttachmentSingle(msgspec.Struct):
    result: Attachment
    expands: AttachmentExpands


class AttachmentsCreated(msgspec.Struct):
    result: list[Attachment]
    expands: dict[str, list[Attachment]]


class AttachmentCreated(msgspec.Struct):
    result: Attachment
    expands: dict[str, list[Attachment]]
