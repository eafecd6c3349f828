"""Attachments of sessions (evidence: screenshots, logs, recordings), in the shape of
Testmo's attachment endpoints.

Uploads and downloads stream, so they are hand-written handlers: an upload checks the
caller (401, 404, 403, 409) before it reads a byte of the body, receives each file into
a staged temporary file while hashing it (storage.Stager), makes thumbnails off the
event loop, then stores blobs and rows in ONE write transaction (write_as_user, with
Idempotency-Key). A download reads the attachment in one read hop, then streams the
blob chunk by chunk, with Range and ETag (the sha256).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.attachments import downloads, uploads
from charter.attachments import read as attachment_read
from charter.attachments import schemas as attachment_schemas
from charter.attachments import service as attachment_service
from charter.auth.service import User
from charter.core import inputs
from charter.http import docs
from charter.http.conventions import FilterSpec, ListSpec, operation_with
from charter.http.deps import path_id, read_as_user
from charter.http.read_routes import list_endpoint, single_endpoint
from charter.http.write_routes import in_path_order
from charter.http.writes import Outcome, fields, parse_json, write_as_user

S_ = "/api/v1/sessions/{session_id:str}/attachments"
A_ = "/api/v1/attachments/{attachment_id:str}"

ATTACHMENTS = ListSpec(
    noun="attachments",
    sorts={"attachments:id": "id"},
    default_sort="attachments:id",
    filters=(
        FilterSpec("created_by", "ids", "created_by"),
        FilterSpec("result_id", "ids", "result_id"),
    ),
    expands=attachment_read.ATTACHMENT_EXPANDS,
)


async def _upload(
    request: Request[Any, Any, Any], raw_session_id: str, single: bool
) -> Response[Any]:
    async def finish(session_id: int, upload: uploads.Upload) -> Response[Any]:
        settings = uploads.settings_of(request)
        folder, backend = uploads.folder_of(settings), settings.attachments_backend

        def work(conn: Any, user: User) -> Outcome:
            ids = attachment_service.add_attachments(
                conn, user, session_id, upload.files, upload.fields, folder, backend
            )
            made = attachment_read.get_attachments(conn, ids)
            return 201, {"result": made[0] if single else made, "expands": {}}

        return await write_as_user(request, work, raw=upload.identity())

    return await uploads.handle(request, raw_session_id, single, read_as_user, finish)


_FILE = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
_FORM_TEXT = {
    "result_id": Schema(type=OpenAPIType.INTEGER, description="a result (note) of the session"),
    "note": Schema(type=OpenAPIType.STRING),
}


@post(
    S_,
    operation_class=in_path_order(
        operation_with(
            [],
            Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "files[]": Schema(
                        type=OpenAPIType.ARRAY,
                        items=_FILE,
                        max_items=attachment_service.MAX_FILES,
                    ),
                    **_FORM_TEXT,
                },
                required=["files[]"],
            ),
            "multipart/form-data",
        ),
        S_,
    ),
    status_code=201,
    request_max_body_size=None,  # counted while streaming: CHARTER_MAX_UPLOAD_BYTES
    responses=docs.write_responses(attachment_schemas.AttachmentsCreated, 201, 403, 404, 409, 422),
    summary=f"Upload up to {attachment_service.MAX_FILES} files (multipart files[])",
    tags=["attachments"],
    name="add_attachments",
)
async def add_attachments(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _upload(request, session_id, single=False)


@post(
    f"{S_}/single",
    operation_class=in_path_order(
        operation_with(
            [],
            Schema(
                type=OpenAPIType.OBJECT,
                properties={"file": _FILE, **_FORM_TEXT},
                required=["file"],
            ),
            "multipart/form-data",
        ),
        f"{S_}/single",
    ),
    status_code=201,
    request_max_body_size=None,
    responses=docs.write_responses(attachment_schemas.AttachmentCreated, 201, 403, 404, 409, 422),
    summary="Upload one file (multipart file)",
    tags=["attachments"],
    name="add_attachment",
)
async def add_attachment(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _upload(request, session_id, single=True)


@delete(
    S_,
    operation_class=in_path_order(
        operation_with(
            [],
            Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "ids": Schema(
                        type=OpenAPIType.ARRAY,
                        items=Schema(type=OpenAPIType.INTEGER),
                        min_items=1,
                        max_items=attachment_service.MAX_DELETE,
                    )
                },
                required=["ids"],
            ),
        ),
        S_,
    ),
    status_code=204,
    responses=docs.write_responses(None, 204, 403, 404, 409, 422),
    summary=(
        f"Delete up to {attachment_service.MAX_DELETE} attachments of a session "
        '({"ids": [...]}, all or nothing)'
    ),
    tags=["attachments"],
    name="delete_attachments",
)
async def delete_attachments(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[None]:
    raw = await request.body()
    folder = uploads.folder_of(uploads.settings_of(request))

    def work(conn: Any, user: User) -> Outcome:
        sid = path_id(session_id, "Session")
        attachment_service.writable_session(conn, user, sid)
        body = fields(parse_json(request, raw), ("ids",))
        ids = attachment_service.delete_ids(inputs.required(body, "ids"))
        attachment_service.delete_attachments(conn, user, sid, ids, folder)
        return 204, None

    return await write_as_user(request, work, raw=raw)


def _download_route(kind: str, summary: str) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any], attachment_id: FromPath[str]
    ) -> Response[Any]:
        return await downloads.serve(request, attachment_id, kind, read_as_user)

    handler.__name__ = f"attachment_{kind}"
    return get(
        f"{A_}/{kind}",
        operation_class=in_path_order(operation_with([]), f"{A_}/{kind}"),
        responses=docs.responses(None, 403, 404, 416),
        summary=summary,
        tags=["attachments"],
        name=f"attachment_{kind}",
    )(handler)


ROUTES = [
    list_endpoint(
        S_,
        ATTACHMENTS,
        attachment_read.list_attachments,
        ids=(("session_id", "Session"),),
        name="list_attachments",
        summary="List the attachments of a session",
        tag="attachments",
        schema=attachment_schemas.AttachmentPage,
    ),
    add_attachments,
    add_attachment,
    delete_attachments,
    single_endpoint(
        A_,
        attachment_read.ATTACHMENT_EXPANDS,
        attachment_read.get_attachment,
        name="get_attachment",
        summary="Get an attachment",
        tag="attachments",
        schema=attachment_schemas.AttachmentSingle,
        ids=(("attachment_id", "Attachment"),),
    ),
    _download_route("download", "Download an attachment (Range, ETag = sha256)"),
    _download_route("thumbnail", "An image attachment's thumbnail"),
    _download_route("preview", "An image attachment's preview (at most 1600 px)"),
]
