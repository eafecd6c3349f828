"""A project's sessions list: the API's filters, sorting and pagination, parsed by the
same code (api/conventions.parse_list with the API's ListSpec) and answered by the same
domain listing (session_read.list_sessions), so the same indexes serve both. The
query string is the API's, so a filtered view is a shareable URL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.errors import Invalid
from charter.core.listing import ListQuery, Page
from charter.http.conventions import PER_PAGE_CHOICES, Params, parse_bool, parse_list
from charter.http.deps import path_id
from charter.sessions import forms as session_forms
from charter.sessions import read as session_read
from charter.sessions.page_parts import counts_summary, duration, status_bar, status_counts
from charter.sessions.schemas import SESSIONS
from charter.web.guard import web_read
from charter.web.render import render

DEFAULT_PER_PAGE = 25  # a calmer first page than the API's 100; ?per_page= changes it


LIST_EXPANDS = frozenset({"users", "states", "statuses", "milestones"})


# Filter parameters that take ids: a form may repeat them (?state_id=1&state_id=2),
# the API takes them comma-separated; both mean "any of".
_ID_PARAMS = tuple(f.param for f in SESSIONS.filters if f.kind == "ids")


# `mine=1` (web only, so a bookmark works for whoever opens it): assigned to the
# signed-in user, i.e. the API's assignee_id with their id.
KNOWN_PARAMS = ("page", "per_page", "sort", "order", "mine", *(f.param for f in SESSIONS.filters))


def list_params(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The list's query parameters, repeated id parameters joined with commas."""
    out: dict[str, str] = {}
    for name in KNOWN_PARAMS:
        values = [v.strip() for v in request.query_params.getall(name, []) if v.strip()]
        if values:
            out[name] = ",".join(values) if name in _ID_PARAMS else values[0]
    return out


# What people call each list parameter (errors name the filter as the form labels it).
PARAM_LABELS = {
    "page": "Page",
    "per_page": "Per page",
    "sort": "Sort by",
    "order": "Order",
    "assignee_id": "Assignee",
    "config_id": "Configuration",
    "created_by": "Created by",
    "milestone_id": "Milestone",
    "state_id": "State",
    "template_id": "Template",
    "tags": "Tags",
    "is_closed": "Open or closed",
    "created_after": "Created after",
    "created_before": "Created before",
    "closed_after": "Closed after",
    "closed_before": "Closed before",
    "search": "Search",
    "is_running": "Running now",
    "mine": "Assigned to me",
}


def with_user(params: dict[str, str], user_id: int) -> dict[str, str]:
    """The API's parameters for these web ones: `mine` becomes assignee_id."""
    out = {k: v for k, v in params.items() if k != "mine"}
    if "mine" in params:
        try:
            mine = parse_bool("mine", params["mine"])
        except Invalid:
            mine = False
        if mine:
            out["assignee_id"] = str(user_id)
    return out


def every_error(params: dict[str, str]) -> dict[str, list[str]]:
    """The problems of every bad parameter (parse_list stops at the first one)."""
    errors: dict[str, list[str]] = {}
    if "mine" in params:
        try:
            parse_bool("mine", params["mine"])
        except Invalid as exc:
            errors.update(exc.errors or {})
    for name, value in with_user(params, 0).items():
        try:
            list_query({name: value})
        except Invalid as exc:
            for field, problems in (exc.errors or {name: [exc.message]}).items():
                errors.setdefault(field, []).extend(problems)
    return errors


def list_query(params: dict[str, str]) -> ListQuery:
    """The API's ListQuery for these parameters (Invalid naming a bad one)."""
    with_default = {"per_page": str(DEFAULT_PER_PAGE), **params}
    query = parse_list(Params(with_default), SESSIONS)
    return replace(query, expands=LIST_EXPANDS)


def _rows(page: Page) -> list[dict[str, Any]]:
    """What each table row shows, computed once here so the template stays cheap."""
    users = {u["id"]: u["name"] for u in page.expands.get("users", [])}
    states = {s["id"]: s["name"] for s in page.expands.get("states", [])}
    milestones = {m["id"]: m["name"] for m in page.expands.get("milestones", [])}
    statuses = page.expands.get("statuses", [])
    rows = []
    for s in session_read.as_dicts(page.rows):
        counts = status_counts(s, statuses)
        elapsed, estimate = s["elapsed"], s["estimate"]
        rows.append(
            {
                "id": s["id"],
                "name": s["name"],
                "assignee": users.get(s["assignee_id"], "") if s["assignee_id"] else "",
                "state": states.get(s["state_id"], ""),
                "milestone": milestones.get(s["milestone_id"], "") if s["milestone_id"] else "",
                "tags": s["tags"],
                "is_closed": s["is_closed"],
                "is_started": s["is_started"],
                "elapsed": duration(elapsed) if elapsed is not None else "—",
                "estimate": duration(estimate) if estimate is not None else "—",
                "over": estimate is not None and (elapsed or 0) > estimate,
                "bar": status_bar(counts, total=s["total_count"]),
                "summary": counts_summary(counts, s["total_count"]),
                "total": s["total_count"],
                "created": s["created_at"][:10],
                "closed": (s["closed_at"] or "")[:10],
            }
        )
    return rows


def page_url(project_id: int, params: dict[str, str], **changes: Any) -> str:
    merged = {**params, **{k: str(v) for k, v in changes.items()}}
    return f"/projects/{project_id}/sessions?{urlencode(merged)}"


@get("/projects/{project_id:str}/sessions", name="web_sessions")
async def sessions_page(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[str]:
    pid = path_id(project_id, "Project")
    params = list_params(request)

    def work(conn: Connection, user: User) -> dict[str, Any]:
        project = require_project(conn, user, pid, "read")
        found: dict[str, Any] = {
            "project": dict(project),
            "choices": session_forms.form_choices(conn, user, pid, with_issues=False),
            "can_run": session_forms.may(conn, user, pid, "run"),
        }
        errors = every_error(params)
        try:
            if errors:
                raise Invalid("Some filters are not valid.", errors)
            query = list_query(with_user(params, user.id))
        except Invalid as exc:
            found["errors"] = errors or exc.errors or {}
            return found
        found["query"] = query
        found["page"] = session_read.list_sessions(conn, user, pid, query)
        return found

    found = await web_read(request, work)
    query: ListQuery | None = found.get("query")
    page: Page | None = found.get("page")
    pages = 0
    if page is not None and query is not None:
        pages = -(-page.total // query.per_page)
    # Past the last page (an old link, a hand-typed ?page=): an empty page that says
    # so and links to the last one, never "page 9999 of 64" with a Previous to 9998.
    past_end = query is not None and page is not None and page.total > 0 and query.page > pages
    return render(
        request,
        "sessions/list.html",
        status=200 if page is not None else 422,
        title=f"Sessions · {found['project']['name']}",
        project=found["project"],
        choices=found["choices"],
        can_run=found["can_run"],
        errors=found.get("errors", {}),
        params=params,
        query=query,
        rows=_rows(page) if page is not None else [],
        total=page.total if page is not None else 0,
        pages=pages,
        past_end=past_end,
        labels=PARAM_LABELS,
        per_page_choices=PER_PAGE_CHOICES,
        sorts=SESSIONS.sorts,
        columns=sort_links(query, params, lambda **c: page_url(pid, params, **c)),
        page_url=lambda **changes: page_url(pid, params, **changes),
    )


def sort_links(
    query: ListQuery | None, params: dict[str, str], url: Any
) -> dict[str, dict[str, str]]:
    """Each sortable column's link and aria-sort: a click sorts by it, newest first,
    or flips the order when it is the current sort (back to page 1 either way)."""
    out = {}
    for value, column in SESSIONS.sorts.items():
        current = query is not None and query.sort == column
        descending = query.descending if query is not None else True
        order = ("asc" if descending else "desc") if current else "desc"
        aria = ("descending" if descending else "ascending") if current else "none"
        out[column] = {"href": url(sort=value, order=order, page=1), "aria": aria}
    return out


ROUTES: list[Any] = [sessions_page]
