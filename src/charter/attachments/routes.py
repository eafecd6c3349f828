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

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import anyio
import multipart
from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.attachments import downloads, storage
from charter.attachments import read as attachment_read
from charter.attachments import schemas as attachment_schemas
from charter.attachments import service as attachment_service
from charter.auth.service import User
from charter.core import inputs
from charter.core.errors import Invalid, TooLarge
from charter.http import docs
from charter.http.conventions import FilterSpec, ListSpec, operation_with
from charter.http.deps import path_id, read_as_user
from charter.http.errors import RequestError
from charter.http.read_routes import list_endpoint, single_endpoint
from charter.http.write_routes import in_path_order
from charter.http.writes import Outcome, fields, parse_json, write_as_user
from charter.settings import Settings

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

FORM_FIELDS = ("result_id", "note")
MAX_FIELD_BYTES = 4 * attachment_service.MAX_NOTE  # UTF-8 of the longest note
MAX_DRAIN_BYTES = 1024 * 1024 * 1024
TOO_LARGE = "Request body too large."  # the message of every other oversized body


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _folder(settings: Settings) -> Path:
    return Path(settings.effective_attachments_dir)


class Body:
    """The request body read event by event, knowing when it ended: a refused body is
    drained only while the client is still sending (reading past its end would wait
    for a disconnect)."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.receive = request.receive
        self.done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.done:
            event = cast(dict[str, Any], await self.receive())
            if event["type"] == "http.disconnect":
                self.done = True
                raise RequestError(400, "The client disconnected before sending the body.")
            self.done = not event.get("more_body", False)
            data = event.get("body", b"")
            if data:
                yield bytes(data)

    async def drain(self) -> None:
        """Read (and drop) the rest of a refused body, so that the client finishes
        sending and reads the answer instead of a reset connection (a 413 curl shows
        but Python's urllib and requests see as a broken pipe)."""
        left = MAX_DRAIN_BYTES
        try:
            async for chunk in self.chunks():
                left -= len(chunk)
                if left < 0:
                    return
        except RequestError:
            return


def _boundary(request: Request[Any, Any, Any]) -> str:
    media, options = multipart.parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get("boundary")
    if media != "multipart/form-data" or not boundary:
        raise RequestError(
            400, "Send the files as multipart/form-data ('Content-Type: multipart/form-data')."
        )
    return str(boundary)


class _Upload:
    """The state of one streamed multipart body."""

    def __init__(self, settings: Settings, single: bool) -> None:
        self.staging = _folder(settings) / "staging"
        self.max_file = settings.max_attachment_bytes
        self.single = single
        self.files: list[attachment_service.Received] = []
        self.fields: dict[str, str] = {}
        self._stager: storage.Stager | None = None
        self._name = ""
        self._field: str | None = None
        self._buffer = bytearray()

    def segment(self, seg: multipart.MultipartSegment) -> None:
        name = seg.name or ""
        if seg.filename is not None:
            expected = ("file",) if self.single else ("files[]", "files")
            if name not in expected:
                raise Invalid.field(name or "files", f"Unknown field; send files as {expected[0]}.")
            if len(self.files) >= (1 if self.single else attachment_service.MAX_FILES):
                limit = "one file" if self.single else f"{attachment_service.MAX_FILES} files"
                problem = f"At most {limit} per request."
                raise Invalid(problem, {expected[0]: [problem]})
            self._name = inputs.file_name(seg.filename)
            self._stager = storage.Stager(self.staging, self.max_file, f"The file {self._name!r}")
        else:
            if name not in FORM_FIELDS:
                raise Invalid(f"Unknown field {name!r}.", {name: ["Unknown field."]})
            self._field = name
            self._buffer = bytearray()

    def data(self, chunk: bytes | bytearray) -> None:
        if self._stager is not None:
            self._stager.write(chunk)
        elif self._field is not None:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise Invalid.field(self._field, "Too long.")

    def end(self) -> None:
        if self._stager is not None:
            staged = self._stager.finish()
            self._stager = None
            self.files.append(attachment_service.Received(self._name, staged))
        elif self._field is not None:
            try:
                self.fields[self._field] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise Invalid.field(self._field, "Must be UTF-8 text.") from None
            self._field = None

    def discard(self) -> None:
        if self._stager is not None:
            self._stager.discard()
        for item in self.files:
            item.discard()

    def identity(self) -> bytes:
        """What identifies the request for an Idempotency-Key."""
        parts = [f"{f.name}\0{f.staged.sha256}" for f in self.files]
        parts += [f"{k}\0{v}" for k, v in sorted(self.fields.items())]
        return "\n".join(parts).encode()


async def _receive(
    request: Request[Any, Any, Any], body: Body, upload: _Upload, limit: int
) -> None:
    parser = multipart.PushMultipartParser(
        _boundary(request), max_segment_count=attachment_service.MAX_FILES + 10
    )
    total = 0

    def feed(chunk: bytes) -> None:
        for event in parser.parse(chunk):
            if isinstance(event, multipart.MultipartSegment):
                upload.segment(event)
            elif event is None:
                upload.end()
            else:
                upload.data(event)

    async for chunk in body.chunks():
        total += len(chunk)
        if total > limit:
            raise RequestError(413, TOO_LARGE)
        feed(chunk)
    feed(b"")  # the end of the input
    if not parser.closed:
        raise RequestError(400, "The multipart body ended early.")


async def _upload(
    request: Request[Any, Any, Any], raw_session_id: str, single: bool
) -> Response[Any]:
    settings = _settings(request)

    def check(conn: Any, user: User) -> int:
        session_id = path_id(raw_session_id, "Session")
        attachment_service.writable_session(conn, user, session_id)
        return session_id

    body = Body(request)
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > settings.max_upload_bytes:
        await body.drain()  # before authentication, like every other oversized body
        raise RequestError(413, TOO_LARGE)
    try:
        session_id = await read_as_user(request, check)
    except Exception:
        await body.drain()
        raise
    upload = _Upload(settings, single)
    try:
        try:
            await _receive(request, body, upload, settings.max_upload_bytes)
        except (TooLarge, Invalid, RequestError):
            await body.drain()
            raise
        except multipart.ParserError as exc:
            await body.drain()
            raise RequestError(400, f"Malformed multipart body: {exc}.") from None
        # thumbnails and previews of the images, decoded on a worker thread
        await anyio.to_thread.run_sync(
            attachment_service.make_thumbnails, upload.files, upload.staging
        )
        folder, backend = _folder(settings), settings.attachments_backend

        def work(conn: Any, user: User) -> Outcome:
            ids = attachment_service.add_attachments(
                conn, user, session_id, upload.files, upload.fields, folder, backend
            )
            made = attachment_read.get_attachments(conn, ids)
            return 201, {"result": made[0] if single else made, "expands": {}}

        return await write_as_user(request, work, raw=upload.identity())
    finally:
        upload.discard()


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
    folder = _folder(_settings(request))

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
