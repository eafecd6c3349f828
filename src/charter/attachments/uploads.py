"""Receiving uploads: the streamed multipart body of the API's upload routes and of
the web UI's twin (pages.py), with the same limits and checks. The caller is checked
before a byte of the body is read; files stream into staged temporary files while
being hashed (storage.Stager); a refused body is drained so that every client reads
the answer (a 413 curl shows but Python's urllib and requests see as a broken pipe).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import anyio
import multipart
from litestar import Request, Response
from sqlalchemy.engine import Connection

from charter.attachments import service as attachment_service
from charter.attachments import storage
from charter.auth.service import User
from charter.core import inputs
from charter.core.errors import Invalid, TooLarge
from charter.http.deps import path_id
from charter.http.errors import RequestError
from charter.settings import Settings

# How the caller is authenticated: read_as_user (API) or web_read (pages).
Runner = Callable[[Request[Any, Any, Any], Callable[[Connection, User], int]], Awaitable[int]]

FORM_FIELDS = ("result_id", "note")
MAX_FIELD_BYTES = 4 * attachment_service.MAX_NOTE  # UTF-8 of the longest note
MAX_DRAIN_BYTES = 1024 * 1024 * 1024
TOO_LARGE = "Request body too large."  # the message of every other oversized body


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def folder_of(settings: Settings) -> Path:
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


class Upload:
    """The state of one streamed multipart body."""

    def __init__(self, settings: Settings, single: bool) -> None:
        self.staging = folder_of(settings) / "staging"
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


async def _receive(request: Request[Any, Any, Any], body: Body, upload: Upload, limit: int) -> None:
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


async def handle(
    request: Request[Any, Any, Any],
    raw_session_id: str,
    single: bool,
    read: Runner,
    finish: Callable[[int, Upload], Awaitable[Response[Any]]],
) -> Response[Any]:
    """Receive an upload for the session: check the caller with `read` (the API's
    bearer token or the web cookie) before reading a byte, stream the files into staged
    files, make thumbnails off the event loop, then `finish(session_id, upload)` writes
    them in one transaction. Staged files are removed whatever happens."""
    settings = settings_of(request)

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
        session_id = await read(request, check)
    except Exception:
        await body.drain()
        raise
    upload = Upload(settings, single)
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
        return await finish(session_id, upload)
    finally:
        upload.discard()
