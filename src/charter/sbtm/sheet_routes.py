"""Session sheets through the API (Charter extension, docs/sbtm-sheets.md):

- `POST /api/v1/projects/{project_id}/sbtm/sheets` imports a batch of sheets, all or
  nothing: `multipart/form-data` with the files as `files[]` (or `files`), or one sheet
  as a `text/plain` body with its file name in the `name` query parameter. Query
  parameters `replace` (replace sessions imported from the same file names) and
  `create_users` (default true). 201 with the sessions and users created; 422 naming
  `<file>:<line>` for every problem of every sheet; 409 for file names imported before.
- `GET /api/v1/sessions/{session_id}/sheet`: the session as sheet text (`text/plain`).

The body is bounded by the app's request limit (CHARTER_MAX_BODY_BYTES, 413 above it),
like every other write: sheets are small text files.
"""

from __future__ import annotations

from typing import Any

import multipart
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Parameter, Schema
from litestar.params import FromPath

from charter.auth.service import User
from charter.core.errors import Invalid
from charter.http import docs
from charter.http.conventions import operation_with, parse_bool
from charter.http.deps import path_id, query_params, read_as_user
from charter.http.errors import RequestError
from charter.http.write_routes import in_path_order
from charter.http.writes import Outcome, write_as_user
from charter.sbtm import sheet_import, sheet_read
from charter.sbtm import sheet_schemas as schemas
from charter.sbtm.sheet_format import decode_sheet

P_ = "/api/v1/projects/{project_id:str}/sbtm/sheets"
S_ = "/api/v1/sessions/{session_id:str}/sheet"
QUERY = ("name", "replace", "create_users")


def _multipart_files(content_type: str, raw: bytes) -> list[tuple[str, str]]:
    _, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary")
    if not boundary:
        raise RequestError(400, "A multipart/form-data body needs a boundary.")
    parser = multipart.PushMultipartParser(
        str(boundary), max_segment_count=sheet_import.MAX_SHEETS + 10
    )
    files: list[tuple[str, str]] = []
    name: str | None = None
    chunks: list[bytes] = []
    try:
        for event in [*parser.parse(raw), *parser.parse(b"")]:
            if isinstance(event, multipart.MultipartSegment):
                if event.name not in ("files[]", "files") or event.filename is None:
                    raise Invalid.field(
                        event.name or "files", "Unknown field; send the sheets as files[]."
                    )
                name, chunks = event.filename, []
            elif event is None:
                files.append((name or "", decode_sheet(b"".join(chunks))))
            else:
                chunks.append(bytes(event))
    except multipart.ParserError as exc:
        raise RequestError(400, f"Malformed multipart body: {exc}.") from None
    if not parser.closed:
        raise RequestError(400, "The multipart body ended early.")
    return files


def _files(request: Request[Any, Any, Any], raw: bytes) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return _multipart_files(content_type, raw)
    if media == "text/plain":
        name = query_params(request).get("name")
        if name is None:
            raise Invalid.field("name", "A text/plain sheet needs its file name in ?name=.")
        return [(name, decode_sheet(raw))]
    raise RequestError(
        400, "Send sheets as multipart/form-data (files[]) or one as text/plain (?name=)."
    )


async def import_sheets(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        pid = path_id(project_id, "Project")
        sheet_import.require_import(conn, user, pid)  # before reading the body: 403 first
        params = query_params(request)
        for key in request.query_params:
            if key not in QUERY:
                raise Invalid.field(key, "Unknown parameter.")
        replace = parse_bool("replace", params.get("replace") or "false")
        create_users = parse_bool("create_users", params.get("create_users") or "true")
        files = _files(request, raw)
        done = sheet_import.import_sheets(conn, user, pid, files, replace, create_users)
        return 201, {"result": done.answer(), "expands": {}}

    return await write_as_user(request, work, raw=raw)


_BOOL_PARAM = Schema(type=OpenAPIType.BOOLEAN)
_PARAMS = [
    Parameter(
        name="name",
        param_in="query",
        schema=Schema(type=OpenAPIType.STRING),
        description="The file name of a text/plain sheet (et-<initials>-<yymmdd>-<letter>.ses).",
    ),
    Parameter(
        name="replace",
        param_in="query",
        schema=_BOOL_PARAM,
        description="Replace the sessions imported before from the same file names.",
    ),
    Parameter(
        name="create_users",
        param_in="query",
        schema=_BOOL_PARAM,
        description="Create testers no user matches as inactive users (managers; default "
        "true); false: they are errors.",
    ),
]
_FILES = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "files[]": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING, format="binary"),  # type: ignore[arg-type]
            max_items=sheet_import.MAX_SHEETS,
        )
    },
    required=["files[]"],
)

import_route = post(
    P_,
    operation_class=in_path_order(operation_with(_PARAMS, _FILES, "multipart/form-data"), P_),
    status_code=201,
    responses=docs.write_responses(schemas.SheetsImportedBody, 201, 403, 404, 409, 422),
    summary="Import session sheets (all or nothing)",
    tags=["sbtm"],
    name="import_sheets",
)(import_sheets)


async def get_sheet(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[bytes]:
    def work(conn: Any, user: User) -> tuple[str, str]:
        return sheet_read.sheet_file_for(conn, user, path_id(session_id, "Session"))

    name, text = await read_as_user(request, work)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/plain",  # Litestar adds charset=utf-8
        headers={"Content-Disposition": f'inline; filename="{sheet_read.header_name(name)}"'},
    )


sheet_route = get(
    S_,
    operation_class=in_path_order(operation_with([]), S_),
    responses={
        **docs.responses(str, 403, 404),
        200: ResponseSpec(
            data_container=str,
            media_type="text/plain",
            description="The session sheet",
            generate_examples=False,
        ),
    },
    media_type="text/plain",
    summary="A session as a session sheet (text/plain)",
    tags=["sbtm"],
    name="get_session_sheet",
)(get_sheet)

ROUTES = [import_route, sheet_route]
