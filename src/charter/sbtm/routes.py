"""Charter extension (SBTM, issue 11): a project's areas and timeboxes, a session's
SBTM data, and the metrics reports. The Testmo session shape is untouched: a session's
SBTM data is its own resource, /sessions/{id}/sbtm.

Managers write areas and timeboxes; whoever may run sessions writes a session's SBTM
data (as for the session itself); members read."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath

from charter.auth.permissions import Action, require_project
from charter.auth.service import User
from charter.core import inputs
from charter.core.errors import Invalid, NotFound
from charter.core.listing import ListQuery, Page
from charter.db.locks import row_lock
from charter.db.tables import areas, projects, sessions
from charter.http import docs
from charter.http.conventions import FilterSpec, ListSpec
from charter.http.deps import path_id
from charter.http.errors import RequestError
from charter.http.read_routes import as_one, list_endpoint, one, single_endpoint
from charter.http.write_routes import (
    create_endpoint,
    delete_endpoint,
    project_target,
    update_endpoint,
)
from charter.http.writes import Outcome, fields, parse_json, write_as_user
from charter.sbtm import read as sbtm_read
from charter.sbtm import schemas as sbtm_schemas
from charter.sbtm import service as sbtm_service

PROJECT = (("project_id", "Project"),)
TAG = "sbtm"
managed_project = project_target("manage")

AREAS = ListSpec(
    noun="areas",
    sorts={"areas:name": "name_key", "areas:created_at": "created_at"},
    default_sort="areas:name",
)


def _areas(conn: Any, user: User, project_id: int, query: ListQuery) -> Page:
    require_project(conn, user, project_id, "read")
    return sbtm_read.list_areas(conn, project_id, query)


def _area(conn: Any, user: User, raw_id: str, action: Action) -> int:
    area_id = path_id(raw_id, "Area")
    require_project(conn, user, sbtm_read.area_row(conn, area_id)["project_id"], action)
    return area_id


def _managed_area(conn: Any, user: User, raw_id: str) -> int:
    return _area(conn, user, raw_id, "manage")


AREA_ROUTES = [
    list_endpoint(
        "/api/v1/projects/{project_id:str}/areas",
        AREAS,
        _areas,
        ids=PROJECT,
        name="list_areas",
        summary="List the coverage areas of a project (SBTM; Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.AreaPage,
    ),
    create_endpoint(
        "/api/v1/projects/{project_id:str}/areas",
        target=managed_project,
        allowed=("name",),
        required=("name",),
        create=lambda conn, user, pid, body: sbtm_service.create_area(conn, pid, user.id, body),
        view=as_one(sbtm_read.area_view),
        codes=(403, 404, 409, 422),
        name="create_area",
        summary="Create an area, `Parent | Child` (managers; SBTM; Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.AreaSingle,
    ),
    single_endpoint(
        "/api/v1/areas/{area_id:str}",
        None,
        lambda conn, user, raw_id: sbtm_read.area_view(conn, _area(conn, user, raw_id, "read")),
        ids=(("area_id", None),),
        codes=(403, 404),
        name="get_area",
        summary="One area (SBTM; Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.AreaSingle,
    ),
    update_endpoint(
        "/api/v1/areas/{area_id:str}",
        target=_managed_area,
        lock=row_lock(areas),
        allowed=("name",),
        change=lambda conn, _user, aid, body: sbtm_service.rename_area(
            conn, sbtm_read.area_row(conn, aid), body
        ),
        view=as_one(sbtm_read.area_view),
        codes=(403, 404, 409, 412, 422),
        name="update_area",
        summary="Rename an area (managers; If-Match; SBTM; Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.AreaSingle,
    ),
    delete_endpoint(
        "/api/v1/areas/{area_id:str}",
        target=_managed_area,
        lock=row_lock(areas),
        current=as_one(sbtm_read.area_view),
        remove=lambda conn, _user, aid: sbtm_service.delete_area(
            conn, sbtm_read.area_row(conn, aid)
        ),
        codes=(403, 404, 409, 412),
        name="delete_area",
        summary="Delete an area no session uses (managers; SBTM; Charter extension)",
        tag=TAG,
    ),
]


IMPORT_BODY = docs.body(
    ("areas", "text"),
    types={
        "areas": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
        "text": Schema(type=OpenAPIType.STRING),
    },
)


def _import_names(request: Request[Any, Any, Any], raw: bytes) -> list[str]:
    """The area names of an import body: text/plain (one a line, an optional #AREAS
    header), or JSON {"areas": [names]} or {"text": "the list"}."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "text/plain":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RequestError(400, "The area list must be UTF-8 text.") from None
        inputs.reject_nul(text, "text")
        return sbtm_service.parse_area_list(text)
    body = fields(parse_json(request, raw), ("areas", "text"))
    if ("areas" in body) == ("text" in body):
        raise Invalid.field("areas", "Give either areas (a list of names) or text.")
    if "text" in body:
        if not isinstance(body["text"], str):
            raise Invalid.field("text", "Must be a string.")
        return sbtm_service.parse_area_list(body["text"])
    names = body["areas"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise Invalid.field("areas", "Must be a list of area names.")
    return [n for n in names if n.strip()]


@post(
    "/api/v1/projects/{project_id:str}/areas/import",
    operation_class=docs.with_body(IMPORT_BODY),
    status_code=200,
    responses=docs.write_responses(sbtm_schemas.AreaImportSingle, 200, 400, 403, 404, 422),
    summary=(
        "Import a plain area list: text/plain, one area per line, an optional #AREAS "
        "header; or JSON (managers; SBTM; Charter extension)"
    ),
    tags=[TAG],
)
async def import_areas(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    raw = await request.body()

    def work(conn: Any, user: User) -> Outcome:
        pid = managed_project(conn, user, project_id)
        names = _import_names(request, raw)
        created, existing = sbtm_service.import_areas(conn, pid, user.id, names)
        return 200, one(
            {
                "created": [sbtm_read.area_view(conn, a) for a in created],
                "existing": [sbtm_read.area_view(conn, a) for a in existing],
            }
        )

    return await write_as_user(request, work)


# --- timeboxes ----------------------------------------------------------------------


TIMEBOX_TYPES = {c: Schema(type=OpenAPIType.INTEGER) for c in ("short", "normal", "long")}

TIMEBOX_ROUTES = [
    single_endpoint(
        "/api/v1/projects/{project_id:str}/timeboxes",
        None,
        lambda conn, user, raw_id: sbtm_read.timeboxes_view(
            conn, project_target("read")(conn, user, raw_id)
        ),
        ids=(("project_id", None),),
        codes=(403, 404),
        name="get_timeboxes",
        summary="The project's SBTM timeboxes in minutes (Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.TimeboxesSingle,
    ),
    update_endpoint(
        "/api/v1/projects/{project_id:str}/timeboxes",
        target=managed_project,
        lock=row_lock(projects),
        allowed=("short", "normal", "long"),
        types=TIMEBOX_TYPES,
        change=lambda conn, _user, pid, body: sbtm_service.set_timeboxes(conn, pid, body),
        view=as_one(sbtm_read.timeboxes_view),
        codes=(403, 404, 412, 422),
        name="update_timeboxes",
        summary="Change the SBTM timeboxes; every session's metrics follow (managers)",
        tag=TAG,
        schema=sbtm_schemas.TimeboxesSingle,
    ),
]


# --- a session's SBTM data ----------------------------------------------------------


def _session(action: Action) -> Any:
    def target(conn: Any, user: User, raw_id: str) -> int:
        session_id = path_id(raw_id, "Session")
        row = sbtm_read.session_project(conn, session_id)
        if row is None:
            raise NotFound(f"Session {session_id} not found.")
        require_project(conn, user, row, action)
        return session_id

    return target


SBTM_TYPES = {
    "areas": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
    "tester_ids": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.INTEGER)),
    "duration_class": Schema(type=OpenAPIType.STRING, enum=["short", "normal", "long"]),
    "duration_multiplier": Schema(type=OpenAPIType.NUMBER),
    "duration": Schema(type=OpenAPIType.STRING, description="e.g. `long * 2`"),
    **{p: Schema(type=OpenAPIType.INTEGER) for p in sbtm_service.PCT_FIELDS},
    "data_files": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
    "sheet_name": Schema(type=OpenAPIType.STRING),
}

SESSION_ROUTES = [
    single_endpoint(
        "/api/v1/sessions/{session_id:str}/sbtm",
        None,
        lambda conn, user, raw_id: sbtm_read.session_sbtm(
            conn, _session("read")(conn, user, raw_id)
        ),
        ids=(("session_id", None),),
        codes=(403, 404),
        name="get_session_sbtm",
        summary="A session's SBTM data and metrics (Charter extension)",
        tag=TAG,
        schema=sbtm_schemas.SessionSbtmSingle,
    ),
    update_endpoint(
        "/api/v1/sessions/{session_id:str}/sbtm",
        target=_session("run"),
        lock=row_lock(sessions),
        allowed=sbtm_service.SBTM_FIELDS,
        types=SBTM_TYPES,
        change=lambda conn, user, sid, body: sbtm_service.update_session_sbtm(
            conn, sid, user.id, body
        ),
        view=as_one(sbtm_read.session_sbtm),
        codes=(403, 404, 409, 412, 422),
        name="update_session_sbtm",
        summary="Change a session's SBTM data (testers: first = assignee; If-Match)",
        tag=TAG,
        schema=sbtm_schemas.SessionSbtmSingle,
    ),
]


# --- metrics reports ----------------------------------------------------------------

START = (
    FilterSpec("start_after", "after", "start_after", "Sessions started after this time."),
    FilterSpec("start_before", "before", "start_before", "Sessions started before this time."),
)

SESSION_REPORT = ListSpec(
    noun="sessions",
    sorts={"sessions:started_at": "started_at", "sessions:created_at": "created_at"},
    default_sort="sessions:started_at",
    filters=(
        FilterSpec("start_after", "after", "started_at", "Sessions started after this time."),
        FilterSpec("start_before", "before", "started_at", "Sessions started before this time."),
        FilterSpec("tester_id", "ids", "tester_id", "Sessions with one of these testers."),
        FilterSpec("area", "contains", "area", "Sessions with this area or one below it."),
    ),
)
AREA_REPORT = ListSpec(noun="areas", sorts={"areas:name": "name_key"}, default_sort="areas:name")
TESTER_REPORT = ListSpec(
    noun="testers", sorts={"testers:user_id": "user_id"}, default_sort="testers:user_id"
)
DAY_REPORT = ListSpec(
    noun="days", sorts={"days:date": "day"}, default_sort="days:date", filters=START
)


def _report(view: Any) -> Any:
    def run(conn: Any, user: User, project_id: int, query: ListQuery) -> Page:
        require_project(conn, user, project_id, "read")
        return view(conn, project_id, query)  # type: ignore[no-any-return]

    return run


REPORT_ROUTES = [
    list_endpoint(
        f"/api/v1/projects/{{project_id:str}}/sbtm/{what}",
        spec,
        _report(view),
        ids=PROJECT,
        name=f"sbtm_{what}",
        summary=summary,
        tag=TAG,
        schema=schema,
    )
    for what, spec, view, schema, summary in (
        (
            "sessions",
            SESSION_REPORT,
            sbtm_read.session_report,
            sbtm_schemas.SessionRowPage,
            "SBTM metrics per session (Charter extension)",
        ),
        (
            "areas",
            AREA_REPORT,
            sbtm_read.area_report,
            sbtm_schemas.AreaTotalsPage,
            "SBTM metrics per area; unexplored areas with zeros (Charter extension)",
        ),
        (
            "testers",
            TESTER_REPORT,
            sbtm_read.tester_report,
            sbtm_schemas.TesterTotalsPage,
            "SBTM metrics per tester, sessions split evenly (Charter extension)",
        ),
        (
            "days",
            DAY_REPORT,
            sbtm_read.day_report,
            sbtm_schemas.DayTotalsPage,
            "SBTM metrics per day of the sessions' start (Charter extension)",
        ),
    )
]


ROUTES = [*AREA_ROUTES, import_areas, *TIMEBOX_ROUTES, *SESSION_ROUTES, *REPORT_ROUTES]
