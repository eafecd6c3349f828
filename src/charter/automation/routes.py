"""Testmo namespace: automation runs, threads, tests and sources (what the testmo CLI
and the official binding call)."""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema

from charter.auth.permissions import Action
from charter.auth.service import User
from charter.automation import read as automation_read
from charter.automation import schemas as automation_schemas
from charter.automation import service as automation_service
from charter.automation.schemas import RUNS, SOURCES, TESTS
from charter.http.deps import path_id
from charter.http.read_routes import list_endpoint, single_endpoint
from charter.http.write_routes import delete_endpoint, post_endpoint, project_target

RUN = "Automation run"
THREAD = "Automation run thread"
P_ = "/api/v1/projects/{project_id:str}/automation"
R_ = "/api/v1/automation/runs/{automation_run_id:str}"
T_ = "/api/v1/automation/runs/threads/{automation_run_thread_id:str}"

READ_ROUTES = [
    list_endpoint(
        f"{P_}/runs",
        RUNS,
        automation_read.list_runs,
        ids=(("project_id", "Project"),),
        name="list_automation_runs",
        summary="List the automation runs of a project",
        tag="automation",
        schema=automation_schemas.RunPage,
    ),
    single_endpoint(
        R_,
        automation_read.RUN_EXPANDS,
        automation_read.get_run,
        ids=(("automation_run_id", RUN),),
        name="get_automation_run",
        summary="Get one automation run with its threads",
        tag="automation",
        schema=automation_schemas.RunSingle,
    ),
    list_endpoint(
        f"{R_}/tests",
        TESTS,
        automation_read.list_tests,
        ids=(("automation_run_id", RUN),),
        name="list_automation_run_tests",
        summary="List the tests of an automation run (per_page up to 1,000)",
        tag="automation",
        schema=automation_schemas.TestPage,
    ),
    list_endpoint(
        f"{P_}/sources",
        SOURCES,
        automation_read.list_sources,
        ids=(("project_id", "Project"),),
        name="list_automation_sources",
        summary="List the automation sources of a project",
        tag="automation",
        schema=automation_schemas.SourcePage,
    ),
    single_endpoint(
        "/api/v1/automation/sources/{automation_source_id:str}",
        automation_read.SOURCE_EXPANDS,
        automation_read.get_source,
        ids=(("automation_source_id", "Automation source"),),
        name="get_automation_source",
        summary="Get one automation source",
        tag="automation",
        schema=automation_schemas.SourceSingle,
    ),
]


def _run(action: Action = "run") -> Any:
    """A target: the run id in the path, once the user may do `action` in its project."""

    def target(conn: Any, user: User, raw_id: str) -> int:
        run_id = path_id(raw_id, RUN)
        automation_service.run_for(conn, user, run_id, action)
        return run_id

    return target


def _thread(conn: Any, user: User, raw_id: str) -> int:
    thread_id = path_id(raw_id, THREAD)
    automation_service.thread_for(conn, user, thread_id, "run")
    return thread_id


_LIST = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT))
_STRINGS = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING))
_MICROSECONDS = Schema(type=[OpenAPIType.INTEGER, OpenAPIType.NULL], minimum=0)
_ID_OR_TEXT = Schema(type=[OpenAPIType.INTEGER, OpenAPIType.STRING, OpenAPIType.NULL])
TYPES = {
    "artifacts": _LIST,
    "fields": _LIST,
    "links": _LIST,
    "tests": _LIST,
    "tags": _STRINGS,
    "config_id": _ID_OR_TEXT,
    "milestone_id": _ID_OR_TEXT,
    "config": Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL]),
    "milestone": Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL]),
    "elapsed_observed": _MICROSECONDS,
    "elapsed_computed": _MICROSECONDS,
    "measure_elapsed": Schema(type=OpenAPIType.BOOLEAN),
}


def _created(key: int) -> dict[str, int]:
    return {"id": key}


WRITE_ROUTES = [
    post_endpoint(
        f"{P_}/runs",
        target=project_target("run"),
        allowed=automation_service.RUN_FIELDS,
        apply=lambda conn, user, pid, body: _created(
            automation_service.create_run(conn, user, pid, body)
        ),
        status=201,
        schema=automation_schemas.Created,
        types=TYPES,
        codes=(403, 404, 422),
        name="create_automation_run",
        summary="Create an automation run (answers a bare {id}); its source on first use",
        tag="automation",
    ),
    post_endpoint(
        f"{R_}/threads",
        target=_run(),
        allowed=automation_service.THREAD_FIELDS,
        apply=lambda conn, user, rid, body: _created(
            automation_service.create_thread(conn, user, rid, body)
        ),
        status=201,
        schema=automation_schemas.Created,
        types=TYPES,
        codes=(403, 404, 409, 422),
        name="create_automation_run_thread",
        summary="Add a thread to an automation run (answers a bare {id})",
        tag="automation",
    ),
    post_endpoint(
        f"{T_}/append",
        target=_thread,
        allowed=automation_service.THREAD_APPEND_FIELDS,
        apply=automation_service.append_to_thread,
        status=204,
        schema=None,
        types=TYPES,
        codes=(403, 404, 409, 422),
        name="append_to_automation_run_thread",
        summary="Append tests (at most 250), artifacts and fields to a thread",
        tag="automation",
    ),
    post_endpoint(
        f"{T_}/complete",
        target=_thread,
        allowed=automation_service.THREAD_COMPLETE_FIELDS,
        apply=automation_service.complete_thread,
        status=204,
        schema=None,
        types=TYPES,
        codes=(403, 404, 409, 422),
        name="complete_automation_run_thread",
        summary="Complete a thread",
        tag="automation",
    ),
    post_endpoint(
        f"{R_}/append",
        target=_run(),
        allowed=automation_service.RUN_APPEND_FIELDS,
        apply=automation_service.append_to_run,
        status=204,
        schema=None,
        types=TYPES,
        codes=(403, 404, 409, 422),
        name="append_to_automation_run",
        summary="Append artifacts, fields and links to an automation run",
        tag="automation",
    ),
    post_endpoint(
        f"{R_}/complete",
        target=_run(),
        allowed=automation_service.RUN_COMPLETE_FIELDS,
        apply=automation_service.complete_run,
        status=204,
        schema=None,
        types=TYPES,
        codes=(403, 404, 409, 422),
        name="complete_automation_run",
        summary="Complete an automation run and every thread still open",
        tag="automation",
    ),
    delete_endpoint(
        R_,
        target=_run("manage"),
        lock=automation_service.lock_run,
        remove=automation_service.delete_run,
        codes=(403, 404),
        name="delete_automation_run",
        summary="Delete an automation run with its threads and tests (managers; extension)",
        tag="automation",
    ),
]

ROUTES = [*READ_ROUTES, *WRITE_ROUTES]
