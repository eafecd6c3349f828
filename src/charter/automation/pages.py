"""Web pages of automation: a project's runs (filters like the sessions list, parsed by
the API's ListSpec), one run (threads, tests filterable by status, failure messages,
console output, artifacts and links), and a milestone's sessions and automation runs
side by side."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.automation import read as automation_read
from charter.automation import service as automation_service
from charter.automation.schemas import RUNS, TESTS
from charter.catalog import read as catalog_read
from charter.core.errors import Invalid, NotFound
from charter.core.listing import ListQuery, Page
from charter.http.conventions import PER_PAGE_CHOICES, Params, parse_list
from charter.http.deps import path_id
from charter.milestones import read as milestone_read
from charter.sessions import forms as session_forms
from charter.sessions import read as session_read
from charter.sessions.page_parts import counts_summary, duration, status_bar, status_counts
from charter.sessions.schemas import SESSIONS
from charter.web.guard import web_read
from charter.web.render import render

DEFAULT_PER_PAGE = 25
RUN_STATUS = {2: "Passed", 3: "Failed", 4: "Running"}
_ID_PARAMS = tuple(f.param for f in RUNS.filters if f.kind == "ids")
KNOWN_PARAMS = ("page", "per_page", "sort", "order", *(f.param for f in RUNS.filters))
TEST_PARAMS = ("page", "status_id", "thread_id")


def _params(request: Request[Any, Any, Any], known: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in known:
        values = [v.strip() for v in request.query_params.getall(name, []) if v.strip()]
        if values:
            out[name] = ",".join(values) if name in _ID_PARAMS else values[0]
    return out


def run_row(run: dict[str, Any], statuses: list[dict[str, Any]]) -> dict[str, Any]:
    counts = status_counts(run, statuses)
    return {
        **run,
        "status_name": RUN_STATUS.get(run["status"], str(run["status"])),
        "bar": status_bar(counts),
        "summary": counts_summary(counts),
        "elapsed_text": duration(run["elapsed"]),
        "created": run["created_at"][:10],
    }


@get("/projects/{project_id:str}/automation", name="web_automation_runs")
async def runs_page(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[str]:
    pid = path_id(project_id, "Project")
    params = _params(request, KNOWN_PARAMS)

    def work(conn: Connection, user: User) -> dict[str, Any]:
        project = require_project(conn, user, pid, "read")
        choices = session_forms.form_choices(conn, user, pid, with_issues=False)
        found: dict[str, Any] = {
            "project": dict(project),
            "choices": choices,
            "sources": automation_read.source_choices(conn, pid),
        }
        try:
            query = parse_list(Params({"per_page": str(DEFAULT_PER_PAGE), **params}), RUNS)
        except Invalid as exc:
            found["errors"] = exc.errors or {}
            return found
        query = replace(query, expands=frozenset({"automation_sources", "statuses"}))
        found["query"] = query
        found["page"] = automation_read.runs_page(conn, pid, query)
        return found

    found = await web_read(request, work)
    query: ListQuery | None = found.get("query")
    page: Page | None = found.get("page")
    rows: list[dict[str, Any]] = []
    pages = 0
    if page is not None and query is not None:
        pages = -(-page.total // query.per_page)
        sources = {s["id"]: s["name"] for s in page.expands.get("automation_sources", [])}
        statuses = page.expands.get("statuses", [])
        rows = [
            {**run_row(r, statuses), "source": sources.get(r["source_id"], "")} for r in page.rows
        ]

    def page_url(**changes: Any) -> str:
        merged = {**params, **{k: str(v) for k, v in changes.items()}}
        return f"/projects/{pid}/automation?{urlencode(merged)}"

    return render(
        request,
        "automation/list.html",
        status=200 if page is not None else 422,
        title=f"Automation · {found['project']['name']}",
        project=found["project"],
        choices=found["choices"],
        sources=found["sources"],
        errors=found.get("errors", {}),
        params=params,
        query=query,
        rows=rows,
        total=page.total if page is not None else 0,
        pages=pages,
        per_page_choices=PER_PAGE_CHOICES,
        page_url=page_url,
    )


def _fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fields as the page shows them: console (4) and text (2) in <pre>, others inline."""
    return [{**f, "block": f["type"] in (2, 3, 4)} for f in fields]


@get("/automation/runs/{run_id:str}", name="web_automation_run")
async def run_page(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[str]:
    rid = path_id(run_id, "Automation run")
    params = _params(request, TEST_PARAMS)

    def work(conn: Connection, user: User) -> dict[str, Any]:
        row = automation_service.run_for(conn, user, rid, "read")
        run = automation_read.run_with_threads(conn, row)
        project = require_project(conn, user, int(row["project_id"]), "read")
        found: dict[str, Any] = {
            "project": dict(project),
            "run": run,
            "statuses": catalog_read.active_statuses(conn),
            "source": automation_read.source_choices(conn, int(row["project_id"])),
        }
        try:
            query = parse_list(Params({"order": "asc", **params}), TESTS)
        except Invalid as exc:
            found["errors"] = exc.errors or {}
            return found
        found["query"] = query
        found["tests"] = automation_read.tests_page(conn, rid, query)
        return found

    found = await web_read(request, work)
    run, statuses = found["run"], found["statuses"]
    names = {s["id"]: s for s in statuses}
    query: ListQuery | None = found.get("query")
    tests: Page | None = found.get("tests")
    pages = -(-tests.total // query.per_page) if tests is not None and query else 0
    source = next((s["name"] for s in found["source"] if s["id"] == run["source_id"]), "")
    test_rows = [
        {**t, "status": names.get(t["status_id"]), "fields": _fields(t["fields"])}
        for t in (tests.rows if tests is not None else [])
    ]

    def page_url(**changes: Any) -> str:
        merged = {**params, **{k: str(v) for k, v in changes.items()}}
        return f"/automation/runs/{rid}?{urlencode(merged)}"

    return render(
        request,
        "automation/run.html",
        status=200 if tests is not None else 422,
        title=f"{run['name']} · Automation",
        project=found["project"],
        run=run_row(run, statuses),
        source=source,
        fields=_fields(run["fields"]),
        threads=[run_row(t, statuses) for t in run["threads"]],
        statuses=statuses,
        tests=test_rows,
        total=tests.total if tests is not None else 0,
        query=query,
        pages=pages,
        params=params,
        errors=found.get("errors", {}),
        page_url=page_url,
        duration=duration,
    )


@get("/milestones/{milestone_id:str}", name="web_milestone")
async def milestone_page(
    request: Request[Any, Any, Any], milestone_id: FromPath[str]
) -> Response[str]:
    mid = path_id(milestone_id, "Milestone")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        rows = milestone_read.milestones_by_ids(conn, [mid])
        if not rows:
            raise NotFound(f"Milestone {mid} not found.")
        project = require_project(conn, user, int(rows[0]["project_id"]), "read")
        query = parse_list(Params({"milestone_id": str(mid), "per_page": "100"}), SESSIONS)
        query = replace(query, expands=frozenset({"users"}))
        sessions = session_read.list_sessions(conn, user, int(project["id"]), query)
        return {
            "project": dict(project),
            "milestone": dict(rows[0]),
            "sessions": session_read.as_dicts(sessions.rows),
            "session_total": sessions.total,
            "runs": automation_read.milestone_run_dicts(conn, mid),
            "statuses": catalog_read.active_statuses(conn),
        }

    found = await web_read(request, work)
    statuses = found["statuses"]
    sessions = [{**s, "bar": status_bar(status_counts(s, statuses))} for s in found["sessions"]]
    return render(
        request,
        "automation/milestone.html",
        title=f"{found['milestone']['name']} · Milestone",
        project=found["project"],
        milestone=found["milestone"],
        sessions=sessions,
        session_total=found["session_total"],
        runs=[run_row(r, statuses) for r in found["runs"]],
    )


ROUTES: list[Any] = [runs_page, run_page, milestone_page]
