"""The debrief workflow's web pages: close and submit a session's sheet (its SBTM
fields and problems, "submit anyway"), the debrief page for managers (PROOF, the
checklist warnings, approve, return with a comment, follow-up charters from outlook
items), a project's charter backlog and its "submitted, waiting for debrief" list.
Every write goes through debriefs/service.py, sessions/service.py and the SBTM
service, in one transaction per form."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.core.errors import Conflict, Invalid
from charter.debriefs import read as debrief_read
from charter.debriefs import service as debrief_service
from charter.debriefs import sheet_form
from charter.http.deps import path_id
from charter.sbtm import read as sbtm_read
from charter.sbtm import service as sbtm_service
from charter.sessions import forms as session_forms
from charter.sessions import service as session_service
from charter.web.forms import form_lists, form_of
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render

# --- close and submit -------------------------------------------------------------------


def _sheet_data(conn: Connection, user: User, sid: int) -> dict[str, Any]:
    session = debrief_read.readable_session(conn, user, sid)
    pid = session["project_id"]
    project = require_project(conn, user, pid, "run")
    return {
        "session": dict(session),
        "project": dict(project),
        "debrief": debrief_read.debrief_object(conn, session),
        "problems": debrief_read.problems_object(conn, session)["problems"],
        **sheet_form.choices(conn, pid),
    }


def _sheet_page(
    request: Request[Any, Any, Any],
    data: dict[str, Any],
    values: sheet_form.Values,
    errors: dict[str, list[str]] | None = None,
    checked: bool = False,
    status: int = 200,
) -> Response[str]:
    return render(
        request,
        "debriefs/submit.html",
        status=status,
        title=f"Close and submit {data['session']['name']}",
        values=values,
        errors=errors or {},
        checked=checked,
        **data,
    )


@get("/sessions/{session_id:str}/close-sheet", name="web_close_sheet")
async def close_sheet_page(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[str]:
    sid = path_id(session_id, "Session")

    def work(conn: Connection, user: User) -> tuple[dict[str, Any], sheet_form.Values]:
        data = _sheet_data(conn, user, sid)
        values = sheet_form.stored(conn, sid)
        if not values["duration_class"] and values.get("proposed_duration_class"):
            values["duration_class"] = values["proposed_duration_class"]
        return data, values

    data, values = await web_read(request, work)
    return _sheet_page(request, data, values, checked=data["session"]["is_closed"])


@post("/sessions/{session_id:str}/close-sheet", status_code=200, name="web_close_sheet_post")
async def close_sheet(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    """Save the sheet's fields (an open session), then: `check` shows the problems;
    `submit` closes and submits when there is none (else shows them); `force` closes
    and submits anyway. A closed session (returned, or closed without a sheet) only
    submits: its fields are fixed by reopening it."""
    sid = path_id(session_id, "Session")
    form = await form_of(request)
    testers = await form_lists(request, "tester_ids")
    action = form.get("action", "submit")
    shown: dict[str, Any] = {}

    def work(conn: Connection, user: User) -> str | None:
        session_forms.project_of_session(conn, user, sid, "run")
        row = session_service.session_for_update(conn, sid)
        assert row is not None  # project_of_session found it
        if not row["is_closed"]:
            body, values, errors = sheet_form.parse(form, testers)
            shown["values"] = values
            if errors:
                raise Invalid("Please correct the marked fields.", errors)
            sbtm_service.update_session_sbtm(conn, sid, user.id, body)
            row = session_service.session_for_update(conn, sid)
            assert row is not None
        problems = debrief_service.sheet_problems(conn, row)
        if action == "check" or (problems and action != "force"):
            return None  # saved; the page shows the problems
        if not row["is_closed"]:
            session_service.close(conn, sid, user.id)
        debrief_service.submit(conn, user, sid, force=True)
        return "Closed and submitted for debrief." if problems == [] else "Submitted anyway."

    try:
        done = await web_write(request, work)
    except Invalid as exc:
        data = await web_read(request, lambda conn, user: _sheet_data(conn, user, sid))
        values = shown.get("values") or sheet_form.blank()
        return _sheet_page(request, data, values, exc.errors or {"form": [exc.message]}, status=422)
    except Conflict as exc:
        return redirect(request, f"/sessions/{sid}", f"Not submitted: {exc.message}", "error")
    if done is not None:
        return redirect(request, f"/sessions/{sid}", done)

    def reread(conn: Connection, user: User) -> tuple[dict[str, Any], sheet_form.Values]:
        return _sheet_data(conn, user, sid), sheet_form.stored(conn, sid)

    data, values = await web_read(request, reread)
    return _sheet_page(request, data, values, checked=True)


# --- the debrief page ---------------------------------------------------------------------


def _debrief_data(conn: Connection, user: User, sid: int) -> dict[str, Any]:
    session = debrief_read.readable_session(conn, user, sid)
    pid = session["project_id"]
    debrief = debrief_read.debrief_object(conn, session)
    ids = {
        debrief[k]
        for k in ("submitted_by", "debriefed_by", "returned_by", "approved_by")
        if debrief[k] is not None
    }
    return {
        "session": dict(session),
        "project": dict(require_project(conn, user, pid, "read")),
        "sbtm": sbtm_read.session_sbtm(conn, sid),
        "debrief": debrief,
        "problems": debrief_read.problems_object(conn, session)["problems"],
        "names": session_forms.user_names(conn, ids),
        "follow_ups": [dict(r) for r in debrief_read.follow_ups(conn, sid)],
        "can_manage": session_forms.may(conn, user, pid, "manage"),
    }


async def _debrief_page(
    request: Request[Any, Any, Any],
    sid: int,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response[str]:
    data = await web_read(request, lambda conn, user: _debrief_data(conn, user, sid))
    d = data["debrief"]
    shown = values or {
        **{k: d[k] or "" for k in debrief_service.PROOF_TEXTS},
        "outlook": "\n".join(d["outlook"]),
    }
    return render(
        request,
        "debriefs/debrief.html",
        status=status,
        title=f"Debrief of {data['session']['name']}",
        values=shown,
        errors=errors or {},
        **data,
    )


def _back(request: Request[Any, Any, Any], sid: int, message: str) -> Response[Any]:
    """To the debrief page, saying why nothing was done (someone got there first)."""
    return redirect(request, f"/sessions/{sid}/debrief", message, "error")


@get("/sessions/{session_id:str}/debrief", name="web_debrief")
async def debrief_page(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[str]:
    return await _debrief_page(request, path_id(session_id, "Session"))


@post("/sessions/{session_id:str}/debrief", status_code=200, name="web_debrief_save")
async def save_debrief(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sid = path_id(session_id, "Session")
    form = await form_of(request)
    body: dict[str, Any] = {k: form.get(k, "") or None for k in debrief_service.PROOF_TEXTS}
    body["outlook"] = form.get("outlook", "").splitlines()
    try:
        await web_write(
            request, lambda conn, user: debrief_service.save_debrief(conn, user, sid, body)
        )
    except Invalid as exc:
        values = {k: form.get(k, "") for k in (*debrief_service.PROOF_TEXTS, "outlook")}
        errors = exc.errors or {"form": [exc.message]}
        return await _debrief_page(request, sid, errors, values, status=422)
    except Conflict as exc:
        return _back(request, sid, f"Not saved: {exc.message}")
    return redirect(request, f"/sessions/{sid}/debrief", "Debrief saved.")


@post("/sessions/{session_id:str}/debrief/approve", status_code=200, name="web_debrief_approve")
async def approve(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sid = path_id(session_id, "Session")
    try:
        await web_write(request, lambda conn, user: debrief_service.approve(conn, user, sid))
    except Conflict as exc:
        return redirect(
            request, f"/sessions/{sid}/debrief", f"Not approved: {exc.message}", "error"
        )
    return redirect(request, f"/sessions/{sid}/debrief", "Approved: the sheet is locked.")


@post("/sessions/{session_id:str}/debrief/return", status_code=200, name="web_debrief_return")
async def return_sheet(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sid = path_id(session_id, "Session")
    comment = (await form_of(request)).get("comment", "")
    try:
        await web_write(
            request, lambda conn, user: debrief_service.return_sheet(conn, user, sid, comment)
        )
    except Invalid as exc:
        return await _debrief_page(request, sid, exc.errors, status=422)
    except Conflict as exc:
        return redirect(
            request, f"/sessions/{sid}/debrief", f"Not returned: {exc.message}", "error"
        )
    return redirect(request, f"/sessions/{sid}/debrief", "Returned to the tester.")


@post(
    "/sessions/{session_id:str}/debrief/follow-ups", status_code=200, name="web_debrief_follow_ups"
)
async def follow_ups(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sid = path_id(session_id, "Session")
    # The outlook items' indexes (checkboxes); anything else is no item.
    indexes = [int(v) for v in await form_lists(request, "items") if v.isdigit() and len(v) < 6]
    try:
        created = await web_write(
            request,
            lambda conn, user: debrief_service.create_follow_ups(conn, user, sid, indexes),
        )
    except Invalid as exc:
        return await _debrief_page(request, sid, exc.errors, status=422)
    n = len(created)
    return redirect(
        request,
        f"/sessions/{sid}/debrief",
        f"{n} follow-up charter{'' if n == 1 else 's'} added to the backlog.",
    )


# --- the project's lists ------------------------------------------------------------------


def _project(conn: Connection, user: User, pid: int) -> dict[str, Any]:
    project = dict(require_project(conn, user, pid, "read"))
    return {
        "project": project,
        "can_run": session_forms.may(conn, user, pid, "run"),
        "can_manage": session_forms.may(conn, user, pid, "manage"),
    }


@get("/projects/{project_id:str}/backlog", name="web_backlog")
async def backlog_page(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        return {**_project(conn, user, pid), "rows": debrief_read.backlog(conn, pid)}

    data = await web_read(request, work)
    return render(request, "debriefs/backlog.html", title="Charter backlog", **data)


@get("/projects/{project_id:str}/debriefs", name="web_waiting_for_debrief")
async def waiting_page(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        return {**_project(conn, user, pid), "rows": debrief_read.waiting(conn, pid)}

    data = await web_read(request, work)
    return render(request, "debriefs/waiting.html", title="Waiting for debrief", **data)


ROUTES: list[Any] = [
    close_sheet_page,
    close_sheet,
    debrief_page,
    save_debrief,
    approve,
    return_sheet,
    follow_ups,
    backlog_page,
    waiting_page,
]
