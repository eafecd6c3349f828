"""Running a session: the session page (timer, note box, timeline, counters, charter
and details), the start/pause/resume/close/reopen buttons and the notes (results).

Buttons and forms are plain POST forms that htmx enhances: with htmx they answer
with fragments (the controls, a timeline item, and the counters as an out-of-band
swap); without it, with a redirect back to the page. Every write checks the user's
role in the domain (`run`): a viewer's forged POST gets the 403 page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from charter.attachments import read as attachment_read
from charter.attachments import service as attachment_service
from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.catalog.custom_fields import key_of
from charter.core.errors import Conflict, Invalid, NotFound
from charter.core.inputs import NUL_PROBLEM, is_web_link, parse_id
from charter.debriefs import read as debrief_read
from charter.http.deps import path_id
from charter.results import read as result_read
from charter.results import service as result_service
from charter.sessions import forms as session_forms
from charter.sessions import read as session_read
from charter.sessions import service as session_service
from charter.sessions.edit_pages import _custom_value as custom_value
from charter.sessions.edit_pages import prepared_fields
from charter.sessions.page_parts import (
    SECOND,
    breakdown,
    duration,
    is_htmx,
    markdown,
    posted,
    raise_if,
    status_counts,
    swatch,
    text_of,
    texts_of,
    warm_markdown,
    warm_note_markdown,
)
from charter.trackers import read as tracker_read
from charter.trackers import service as tracker_service
from charter.web import form_once
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render

NOTES_PAGE = 50  # notes shown at once, newest first; "Load older notes" pages back
NOTE_EXPANDS = frozenset({"users", "issues"})
SESSION_EXPANDS = frozenset(
    {"users", "states", "statuses", "templates", "configs", "milestones", "issues"}
)


# --- reading -------------------------------------------------------------------------


def _session_data(
    conn: Connection, user: User, sid: int, before: int | None = None
) -> dict[str, Any]:
    """Everything the session page shows, read in one transaction."""
    page = session_read.get_session(conn, user, sid, SESSION_EXPANDS)
    session = session_read.as_dicts(page.rows)[0]
    pid = session["project_id"]
    extras = session_forms.extras_of(conn, sid)
    choices = session_forms.form_choices(conn, user, pid)
    notes, more = result_read.timeline(conn, user, sid, before, NOTES_PAGE, NOTE_EXPANDS)
    return {
        "note_extras": _note_extras(conn, notes.rows, pid, choices.issues),
        "gallery": (gallery := attachment_read.session_gallery(conn, sid)),
        "deletable": attachment_service.deletable(conn, user, sid, gallery),
        "result_fields": prepared_fields({"fields": session_forms.result_fields(conn, sid)}),
        "older_than": notes.rows[-1]["id"] if more else None,
        "session": session,
        "expands": page.expands,
        "extras": extras,
        "choices": choices,
        "notes": notes,
        "can_run": session_forms.may(conn, user, pid, "run"),
        "project": dict(require_project(conn, user, pid, "read")),
        "debrief": debrief_read.status_of(conn, sid),
    }


def _note_extras(
    conn: Connection,
    rows: Sequence[Mapping[str, Any]],
    project_id: int,
    issue_rows: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """What the timeline shows beside the notes: their edit history (with the editors'
    names), their attachments, and the project's tracker (links to linked issues, and
    whether "File a bug" is offered), for all of them in a few queries."""
    ids = [r["id"] for r in rows]
    tracker = tracker_read.tracker_of(conn, project_id)
    used = {i for r in rows for i in r["issues"]}
    links = {
        i["id"]: url
        for i in issue_rows
        if i["id"] in used and (url := tracker.issue_link(i["display_id"]))
    }
    history = result_read.history_of(conn, ids)
    editors = {h["edited_by"] for hs in history.values() for h in hs} - {None}
    return {
        "history": history,
        "editors": session_forms.user_names(conn, editors),
        "files": attachment_read.of_results(conn, ids),
        "links": links,
        "can_file_bugs": tracker.new_issue_url is not None,
    }


def _history_view(
    rows: Sequence[Mapping[str, Any]],
    statuses: Mapping[int, Mapping[str, Any]],
    editors: Mapping[int, str],
) -> list[dict[str, Any]]:
    """A note's earlier versions, newest first: what it said before each edit."""
    out = []
    for h in rows:
        sid = h["status_id"]
        status = statuses.get(sid, {}).get("name", f"Status {sid}") if sid else "No status"
        out.append(
            {
                "edited_at": h["edited_at"],
                "by": editors.get(h["edited_by"], "") if h["edited_by"] else "",
                "status": status,
                "note": h["note"] or "",
            }
        )
    return out


def _names(items: list[dict[str, Any]], key: str = "name") -> dict[int, str]:
    return {i["id"]: i[key] for i in items}


def _issue_label(issue: Mapping[str, Any]) -> str:
    key = issue.get("external_project_key")
    return f"{issue['display_id']} ({key})" if key else str(issue["display_id"])


def _status_view(statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Active statuses with their shortcut number (Alt+1 ... Alt+9)."""
    return [dict(s, key=i + 1 if i < 9 else None) for i, s in enumerate(statuses)]


def _note_view(
    note: Mapping[str, Any],
    statuses: Mapping[int, Mapping[str, Any]],
    users: Mapping[int, str],
    issues: Mapping[int, str],
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    status = statuses.get(note["status_id"]) if note["status_id"] is not None else None
    extras = extras or {}
    history = extras.get("history", {}).get(note["id"], [])
    return {
        "html": markdown(note["note"], note=True),
        "history": _history_view(history, statuses, extras.get("editors", {})),
        "files": extras.get("files", {}).get(note["id"], []),
        "id": note["id"],
        "session_id": note["session_id"],
        "status": status,
        "status_id": note["status_id"],
        "note": note["note"] or "",
        "at": duration(note["elapsed"]) if note["elapsed"] is not None else "—",
        "author": users.get(note["created_by"], "") if note["created_by"] else "",
        "issues": [
            {"id": i, "label": issues.get(i, f"#{i}"), "url": extras.get("links", {}).get(i)}
            for i in note["issues"]
        ],
        "can_file_bug": extras.get("can_file_bugs", False),
        "issue_ids": [str(i) for i in note["issues"]],
        "created_at": note["created_at"],
    }


def _counters_context(session: Mapping[str, Any], statuses: list[dict[str, Any]]) -> dict[str, Any]:
    counts = status_counts(session, statuses)
    with_status = sum(n for _s, n in counts)
    return {
        "counts": counts,
        "total": session["total_count"],
        "plain": session["total_count"] - with_status,
        "breakdown": breakdown(counts),
    }


def _details(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The session's attributes as (label, text) rows, custom fields included."""
    s, ex, choices = data["session"], data["expands"], data["choices"]
    users = _names(ex.get("users", []))
    values = {v["id"]: v for t in choices.templates for f in t["fields"] for v in f["values"]}
    rows: list[tuple[str, Any]] = [
        ("Template", _names(ex.get("templates", [])).get(s["template_id"], "")),
        ("State", _names(ex.get("states", [])).get(s["state_id"], "")),
        ("Assignee", users.get(s["assignee_id"], "—") if s["assignee_id"] else "—"),
        ("Configuration", _names(ex.get("configs", [])).get(s["config_id"], "—")),
        ("Milestone", _names(ex.get("milestones", [])).get(s["milestone_id"], "—")),
        ("Estimate", duration(s["estimate"])),
        ("Tags", ", ".join(s["tags"]) or "—"),
        (
            "Linked issues",
            ", ".join(_issue_label(i) for i in ex.get("issues", [])) or "—",
        ),
    ]
    template = choices.template(s["template_id"])
    for f in template["fields"] if template else ():
        value = s.get(key_of(f))
        if value is None or value == []:
            text: Any = "—"
        elif f["type"] == "dropdown":
            v = values.get(value)
            text = {"chips": [v]} if v else str(value)
        elif f["type"] == "multiselect":
            text = {"chips": [values[i] for i in value if i in values]}
        elif f["type"] == "checkbox":
            text = "Yes" if value else "No"
        elif f["type"] == "link" and is_web_link(value):
            text = {"link": value, "chips": []}  # only http(s) becomes a link
        else:
            text = str(value)
        if isinstance(text, dict):
            text["chips"] = [dict(c, swatch=swatch(c["color"])) for c in text["chips"]]
        rows.append((f["name"], text))
    return rows


def _timer_view(session: Mapping[str, Any], extras: session_forms.Extras) -> dict[str, Any]:
    """The timer as the page first shows it; static/run.js ticks it from the data-*."""
    elapsed, estimate = extras.elapsed, session["estimate"]
    if session["is_closed"]:
        state = "Closed"
    elif extras.running:
        state = "Running"
    else:
        state = "Paused" if session["is_started"] else "Not started"
    return {
        "elapsed_us": elapsed,
        "elapsed_text": duration(elapsed),
        "running": extras.running and not session["is_closed"],
        "estimate_us": estimate,
        "estimate_text": duration(estimate),
        "estimate_s": max((estimate or 0) // SECOND, 1),
        "progress_s": min(elapsed, estimate or 0) // SECOND,
        "over": estimate is not None and elapsed > estimate,
        "state": state,
    }


def _page_context(data: dict[str, Any]) -> dict[str, Any]:
    s = data["session"]
    statuses = _status_view(data["choices"].statuses)
    by_id = {st["id"]: st for st in statuses}
    users = _names(data["notes"].expands.get("users", []))
    issues = {i["id"]: _issue_label(i) for i in data["choices"].issues}
    extras = data["note_extras"]
    notes = [_note_view(n, by_id, users, issues, extras) for n in data["notes"].rows]
    return {
        "gallery": data["gallery"],
        "deletable": data["deletable"],
        "images": [a for a in data["gallery"] if a["is_image"]],
        "max_upload_bytes": data["max_upload_bytes"],
        "session": s,
        "timer": _timer_view(s, data["extras"]),
        "statuses": statuses,
        "issues": data["choices"].issues,
        "issue_labels": issues,
        "notes": notes,
        "can_run": data["can_run"],
        "editable": data["can_run"] and not s["is_closed"],
        "charter_html": markdown(data["extras"].charter),
        "details": _details(data),
        "project": data["project"],
        "form_key": form_once.new_key(),
        "result_fields": data["result_fields"],
        "older_than": data["older_than"],
        "paged": data["paged"],
        "debrief": data["debrief"],
        **_counters_context(s, statuses),
    }


def _before(raw: str | None) -> int | None:
    """The `before` cursor of the timeline (a note id); junk reads as none."""
    return parse_id((raw or "").strip())


@get("/sessions/{session_id:str}", name="web_session")
async def session_page(
    request: Request[Any, Any, Any], session_id: FromPath[str], before: FromQuery[str | None] = None
) -> Response[str]:
    sid = path_id(session_id, "Session")
    cursor = _before(before)
    data = await web_read(request, lambda conn, user: _session_data(conn, user, sid, cursor))
    await warm_markdown(data["extras"].charter)  # off the event loop; then cached
    await warm_note_markdown([n["note"] for n in data["notes"].rows])
    data["paged"] = cursor is not None
    data["max_upload_bytes"] = request.app.state.settings.max_attachment_bytes
    context = _page_context(data)
    return render(request, "sessions/run.html", title=context["session"]["name"], **context)


@get("/sessions/{session_id:str}/notes", name="web_older_notes")
async def older_notes(
    request: Request[Any, Any, Any], session_id: FromPath[str], before: FromQuery[str | None] = None
) -> Response[Any]:
    """The next page of the timeline (htmx: "Load older notes"), and the control for
    the page after it, out of band; a browser goes to the session page at that page."""
    sid = path_id(session_id, "Session")
    cursor = _before(before)
    if not is_htmx(request):
        return redirect(request, f"/sessions/{sid}" + (f"?before={cursor}" if cursor else ""))

    def work(conn: Connection, user: User) -> dict[str, Any]:
        notes, more = result_read.timeline(conn, user, sid, cursor, NOTES_PAGE, NOTE_EXPANDS)
        page = session_read.get_session(conn, user, sid, frozenset({"statuses"}))
        session = session_read.as_dicts(page.rows)[0]
        choices = session_forms.issue_choices(conn)
        return {
            "note_extras": _note_extras(conn, notes.rows, session["project_id"], choices),
            "session": session,
            "notes": notes,
            "statuses": _status_view(page.expands["statuses"]),
            "issues": choices,
            "older_than": notes.rows[-1]["id"] if more else None,
            "editable": session_forms.may(conn, user, session["project_id"], "run")
            and not session["is_closed"],
        }

    data = await web_read(request, work)
    by_id = {st["id"]: st for st in data["statuses"]}
    users = _names(data["notes"].expands.get("users", []))
    labels = {i["id"]: _issue_label(i) for i in data["issues"]}
    await warm_note_markdown([n["note"] for n in data["notes"].rows])
    extras = data["note_extras"]
    notes = [_note_view(n, by_id, users, labels, extras) for n in data["notes"].rows]
    return render(
        request,
        "sessions/_older_notes.html",
        notes=notes,
        session=data["session"],
        older_than=data["older_than"],
        editable=data["editable"],
        oob=True,
    )


# --- the timer and the session's state ----------------------------------------------


def _controls_data(conn: Connection, user: User, sid: int) -> dict[str, Any]:
    page = session_read.get_session(conn, user, sid, frozenset())
    session = session_read.as_dicts(page.rows)[0]
    return {
        "session": session,
        "timer": _timer_view(session, session_forms.extras_of(conn, sid)),
        "can_run": True,
        "editable": not session["is_closed"],
    }


def _transition(action: str, change: Callable[[Connection, int, int], None]) -> Any:
    async def handler(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
        sid = path_id(session_id, "Session")

        def work(conn: Connection, user: User) -> dict[str, Any]:
            session_forms.project_of_session(conn, user, sid, "run")
            change(conn, sid, user.id)
            return _controls_data(conn, user, sid)

        try:
            data = await web_write(request, work)
        except Conflict:
            # Another tab or person got there first (paused, closed, ...): answer with
            # the session as it is now, so the timer and buttons stop lying.
            data = await web_read(request, lambda conn, user: _controls_data(conn, user, sid))
            now = data["timer"]["state"].lower()
            if data["session"]["is_closed"] or not is_htmx(request):
                return redirect(
                    request, f"/sessions/{sid}", f"Not done: the session is {now} already."
                )
            data["message"] = f"The session was changed elsewhere: it is {now} now."
            return render(request, "sessions/_controls.html", **data)
        if is_htmx(request) and action in ("start", "pause", "resume"):
            return render(request, "sessions/_controls.html", **data)
        # Closing or reopening changes the whole page (read-only or not).
        messages = {"close": "Session closed.", "reopen": "Session reopened."}
        return redirect(request, f"/sessions/{sid}", messages.get(action))

    handler.__name__ = f"web_{action}_session"
    return post(
        f"/sessions/{{session_id:str}}/{action}", status_code=200, name=f"web_{action}_session"
    )(handler)


TRANSITIONS = [_transition(action, move) for action, move in session_service.TRANSITIONS.items()]


# --- notes ---------------------------------------------------------------------------


def _note_item(
    form: FormMultiDict,
    *,
    needs_text: bool = False,
    fields: Sequence[Mapping[str, Any]] = (),
    has_files: bool = False,
) -> dict[str, Any]:
    """A result from the note box: status_id (none for a plain note), note, issues.
    With `needs_text` (adding a note on the run page), a status alone is refused: it
    would be an empty note that only inflates the counters (the API still takes one);
    files attached while writing (`has_files`) are enough."""
    errors: dict[str, list[str]] = {}
    raw_status = text_of(form, "status_id").strip()
    status_id: int | None = None
    if raw_status:
        status_id = parse_id(raw_status)
        if status_id is None:
            errors["status_id"] = ["Choose one of the statuses."]
    note = text_of(form, "note")
    if "\x00" in note:
        errors["note"] = [NUL_PROBLEM]
    issue_ids = []
    for raw in texts_of(form, "issues"):
        issue_id = parse_id(raw)
        if issue_id is None:
            errors["issues"] = ["Choose issues from the list."]
        else:
            issue_ids.append(issue_id)
    if needs_text and not note.strip() and not has_files and "note" not in errors:
        errors["note"] = ["Type a note: a status alone is not saved."]
    elif status_id is None and not note.strip() and not has_files and not errors:
        errors["note"] = ["Type a note or choose a status."]
    custom = {}
    for f in fields:  # the template's result fields, shown in the note box
        custom[key_of(f)], _shown = custom_value(f, form, errors)
    raise_if(errors)
    return {
        "status_id": status_id,
        "note": note if note.strip() else None,
        "issues": issue_ids,
        **custom,
    }


def _custom_values(note: Mapping[str, Any], fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A note's result-field values as its edit form shows them."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = note.get(f["key"])
        value = None if raw is None else msgspec.json.decode(bytes(raw))
        if f["type"] == "multiselect":
            out[f["key"]] = [str(v) for v in value or []]
        elif f["type"] == "checkbox":
            out[f["key"]] = bool(value)
        else:
            out[f["key"]] = "" if value is None else str(value)
    return out


def _fragment_data(conn: Connection, user: User, sid: int, note_id: int | None) -> dict[str, Any]:
    """The counters after a note changed, and the note itself (None once deleted)."""
    page = session_read.get_session(conn, user, sid, frozenset({"statuses"}))
    session = session_read.as_dicts(page.rows)[0]
    statuses = _status_view(page.expands["statuses"])
    data: dict[str, Any] = {"session": session, "statuses": statuses, "note": None}
    if note_id is not None:
        note = result_read.get_results(conn, [note_id]).rows[0]
        issue_rows = session_forms.issue_choices(conn)
        extras = _note_extras(conn, [note], session["project_id"], issue_rows)
        author = {note["created_by"]} - {None}
        issues = {i["id"]: _issue_label(i) for i in issue_rows}
        names = session_forms.user_names(conn, author)
        data["note"] = _note_view(note, {s["id"]: s for s in statuses}, names, issues, extras)
        data["issues"] = issue_rows
        fields = prepared_fields({"fields": session_forms.result_fields(conn, sid)})
        data["result_fields"] = fields
        data["note"]["custom"] = _custom_values(note, fields)
    return data


def _note_error(
    request: Request[Any, Any, Any], exc: Invalid, sid: int, target: str = "note-error"
) -> Response[Any]:
    """A note that failed validation: with htmx, the errors go out of band into the
    form's error box (nothing else is swapped); without, back to the page with a
    message. Nothing was written either way."""
    if is_htmx(request):
        response = render(
            request,
            "sessions/_note_error.html",
            status=422,
            errors=exc.errors or {"note": [exc.message]},
            target=target,
        )
        response.headers["HX-Reswap"] = "none"
        return response
    return redirect(request, f"/sessions/{sid}", _error_text(exc), level="error")


def _error_text(exc: Invalid) -> str:
    problems = [f"{k}: {'; '.join(v)}" for k, v in (exc.errors or {}).items()]
    return " ".join(problems) or exc.message


def _fragments(
    request: Request[Any, Any, Any], data: dict[str, Any], template: str | None
) -> Response[str]:
    """A note fragment (or nothing) plus the counters, swapped out of band."""
    counters = render(
        request,
        "sessions/_counters.html",
        oob=True,
        **_counters_context(data["session"], data["statuses"]),
    )
    body = counters.content
    if template is not None:
        item = render(
            request,
            template,
            n=data["note"],
            statuses=data["statuses"],
            issues=data.get("issues", []),
            editable=True,
        )
        body = item.content + body
    return Response(
        content=body,
        status_code=200,
        media_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def _link_typed_issues(
    conn: Connection, project_id: int, item: dict[str, Any], form: FormMultiDict
) -> None:
    """Add the issues typed by key or pasted as tracker URLs (the type-ahead box) to
    the note's issues; an unknown key becomes an issue record on the fly."""
    typed = [t for t in texts_of(form, "issue_keys") if t.strip()]
    if typed:
        tracker = tracker_read.tracker_of(conn, project_id)
        known = session_forms.issue_choices(conn)
        found = tracker_service.issue_ids_for_keys(conn, tracker, known, typed)
        item["issues"] = list(dict.fromkeys([*item["issues"], *found]))


def _note_content(item: Mapping[str, Any], files: Sequence[int] = ()) -> str:
    """What makes two submissions of one note form the same note."""
    custom = sorted((k, repr(v)) for k, v in item.items() if k.startswith("custom_"))
    files = sorted(files)
    text = f"{item['status_id']}\n{sorted(item['issues'])}\n{custom}\n{files}\n{item['note']}"
    return text


@post("/sessions/{session_id:str}/notes", status_code=200, name="web_add_note")
async def add_note(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sid = path_id(session_id, "Session")
    form = await posted(request)
    key = form_once.usable(text_of(form, form_once.FIELD))
    what = f"note:{sid}"

    def work(conn: Connection, user: User) -> dict[str, Any]:
        pid = session_forms.project_of_session(conn, user, sid, "run")
        fields = session_forms.result_fields(conn, sid)
        files = [i for i in map(parse_id, texts_of(form, "attachments")) if i is not None]
        item = _note_item(form, needs_text=True, fields=fields, has_files=bool(files))
        _link_typed_issues(conn, pid, item, form)
        if key is not None:
            stored = form_once.replay(conn, user.id, key, what, _note_content(item, files))
            if stored is not None:  # the same form again (a double submit): no new note
                data = _fragment_data(conn, user, sid, None)
                data["repeat_of"] = int(stored)
                return data
        [note_id] = result_service.add_results(conn, sid, user.id, [item])
        # the files pasted or dropped while writing it belong to the note
        attached = attachment_service.attach_to_result(conn, user, sid, files, note_id)
        if not attached and not item["note"]:  # its files were not this user's to take
            raise Invalid.field("note", "Type a note: the attached files are gone.")
        if key is not None:
            form_once.remember(
                conn, user.id, key, what, _note_content(item, files), b"%d" % note_id
            )
        return _fragment_data(conn, user, sid, note_id)

    try:
        try:
            data = await web_write(request, work)
        except IntegrityError:
            if key is None:
                raise
            data = await web_write(request, work)  # the same key raced us (PostgreSQL)
    except Invalid as exc:
        return _note_error(request, exc, sid)
    note_id = data["note"]["id"] if data["note"] else data["repeat_of"]
    if not is_htmx(request):
        return redirect(request, f"/sessions/{sid}#note-{note_id}")
    response = _fragments(request, data, "sessions/_note.html" if data["note"] else None)
    # A new key for the next note typed in the same box (the page is not re-rendered).
    fresh = render(request, "sessions/_form_key.html", oob=True, form_key=form_once.new_key())
    response.content = response.content + fresh.content
    return response


def _note_session(conn: Connection, user: User, rid: int) -> int:
    """The note's session id, once `user` may run sessions in its project."""
    return int(result_read.session_of_result(conn, user, rid, "run")["session_id"])


@get("/notes/{note_id:str}", name="web_note")
async def note_fragment(request: Request[Any, Any, Any], note_id: FromPath[str]) -> Response[Any]:
    """One timeline item (htmx: cancel an edit); a browser goes to the session page."""
    rid = path_id(note_id, "Note")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        result = result_read.session_of_result(conn, user, rid, "read")
        sid = int(result["session_id"])
        data = _fragment_data(conn, user, sid, rid)
        data["editable"] = (
            session_forms.may(conn, user, data["session"]["project_id"], "run")
            and not data["session"]["is_closed"]
        )
        return data

    data = await web_read(request, work)
    if not is_htmx(request):
        return redirect(request, f"/sessions/{data['session']['id']}#note-{rid}")
    return render(
        request,
        "sessions/_note.html",
        n=data["note"],
        statuses=data["statuses"],
        editable=data["editable"],
    )


MAX_BUG_CHARTER = 1500  # of the session's charter quoted in a bug's text


def bug_text(
    note: Mapping[str, Any],
    session: Mapping[str, Any],
    charter: str | None,
    files: Sequence[Mapping[str, Any]],
    base: str,
) -> tuple[str, str]:
    """A new issue's title (the note's first line) and text: the note, the session's
    charter, a link back to the note and links to its attachments."""
    text = note["note"] or ""
    title = tracker_read.first_line(text) or f"Bug found in session {session['name']}"
    parts = [
        text.strip() or "(no text)",
        "",
        f"Found in the session \u201c{session['name']}\u201d.",
    ]
    if charter:
        cut = charter[:MAX_BUG_CHARTER] + ("\u2026" if len(charter) > MAX_BUG_CHARTER else "")
        parts += ["", "Charter:", cut]
    parts += ["", f"Note in Charter: {base}/sessions/{session['id']}#note-{note['id']}"]
    if files:
        parts += ["", "Attachments:"] + [f"- {f['name']}: {base}{f['download']}" for f in files]
    return title, "\n".join(parts)


@get("/notes/{note_id:str}/bug", name="web_note_bug")
async def file_bug(request: Request[Any, Any, Any], note_id: FromPath[str]) -> Response[Any]:
    """ "File a bug": to the project's tracker's new-issue page, prefilled from the note
    (a redirect, so that the page carries no long prefilled URL per note)."""
    rid = path_id(note_id, "Note")
    base = str(request.base_url).rstrip("/")

    def work(conn: Connection, user: User) -> str | None:
        result = result_read.session_of_result(conn, user, rid, "read")
        sid = int(result["session_id"])
        session = session_read.session_by_id(conn, sid)
        assert session is not None
        tracker = tracker_read.tracker_of(conn, session["project_id"])
        files = attachment_read.of_results(conn, [rid]).get(rid, [])
        charter = session_forms.extras_of(conn, sid).charter
        title, body = bug_text(dict(result), dict(session), charter, files, base)
        return tracker.new_issue_link(title, body)

    link = await web_read(request, work)
    if link is None:
        raise NotFound("This project names no issue tracker: a manager sets it up first.")
    return Response(content=b"", status_code=303, headers={"Location": link})


def note_version(note: Mapping[str, Any]) -> str:
    """What a note edit form was rendered from: a saved change elsewhere alters it."""
    issues = ",".join(sorted(str(i) for i in note["issue_ids"]))
    custom = sorted((note.get("custom") or {}).items())
    text = f"{note['status_id']}\n{issues}\n{custom}\n{note['note']}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@get("/notes/{note_id:str}/edit", name="web_note_edit")
async def edit_note_page(request: Request[Any, Any, Any], note_id: FromPath[str]) -> Response[str]:
    rid = path_id(note_id, "Note")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        sid = _note_session(conn, user, rid)
        return _fragment_data(conn, user, sid, rid)

    data = await web_read(request, work)
    return _note_edit(request, data)


def _note_edit(
    request: Request[Any, Any, Any],
    data: dict[str, Any],
    *,
    mine: dict[str, Any] | None = None,
    conflicts: list[dict[str, str]] | None = None,
    status: int = 200,
) -> Response[str]:
    """The note's edit form (a fragment for htmx, else a page): with `mine`, the
    values the user typed, kept when they could not be saved."""
    note = data["note"]
    shown = note if mine is None else dict(note, **mine)
    template = "sessions/_note_edit.html" if is_htmx(request) else "sessions/note_edit.html"
    response = render(
        request,
        template,
        status=status,
        title="Edit note",
        n=shown,
        saved=note,
        mine=mine,
        conflicts=conflicts or [],
        version=note_version(note),
        statuses=data["statuses"],
        issues=data["issues"],
        session=data["session"],
        closed=data["session"]["is_closed"],
        result_fields=data.get("result_fields", []),
    )
    if status != 200:
        response.headers["X-Charter-Swap"] = "true"  # run.js swaps it in all the same
    return response


def _mine(form: FormMultiDict) -> dict[str, Any]:
    """A note edit form's values as typed (shown again when not saved)."""
    raw = text_of(form, "status_id").strip()
    issue_ids = [i for i in texts_of(form, "issues") if parse_id(i) is not None]
    return {
        "status_id": parse_id(raw) if raw else None,
        "note": text_of(form, "note"),
        "issue_ids": issue_ids,
    }


def _note_conflicts(
    saved: Mapping[str, Any],
    mine: Mapping[str, Any],
    statuses: list[dict[str, Any]],
    issues: Mapping[int, str],
) -> list[dict[str, str]]:
    names = {s["id"]: s["name"] for s in statuses}

    def status(v: Any) -> str:
        return str(names.get(v, "No status")) if v is not None else "No status"

    def linked(ids: Any) -> str:
        return ", ".join(issues.get(int(i), f"#{i}") for i in ids) or "—"

    rows = [
        ("Status", status(saved["status_id"]), status(mine["status_id"])),
        ("Note", saved["note"] or "—", mine["note"] or "—"),
        ("Linked issues", linked(saved["issue_ids"]), linked(mine["issue_ids"])),
    ]
    return [{"label": k, "theirs": a, "yours": b} for k, a, b in rows if a != b]


class _StaleNote(Exception):
    pass


@post("/notes/{note_id:str}", status_code=200, name="web_note_update")
async def update_note(request: Request[Any, Any, Any], note_id: FromPath[str]) -> Response[Any]:
    rid = path_id(note_id, "Note")
    form = await posted(request)
    sids: list[int] = []
    version = text_of(form, "version").strip()

    def work(conn: Connection, user: User) -> dict[str, Any]:
        sid = _note_session(conn, user, rid)
        sids.append(sid)
        item = _note_item(form, fields=session_forms.result_fields(conn, sid))
        row = result_read.session_of_result(conn, user, rid, "run")
        _link_typed_issues(conn, int(row["project_id"]), item, form)
        if version:
            before = _fragment_data(conn, user, sid, rid)
            if note_version(before["note"]) != version:
                raise _StaleNote()  # saved elsewhere since this form was rendered
        result_service.edit_result(conn, rid, user.id, item)
        return _fragment_data(conn, user, sid, rid)

    def current(conn: Connection, user: User) -> dict[str, Any]:
        return _fragment_data(conn, user, _note_session(conn, user, rid), rid)

    try:
        data = await web_write(request, work)
    except Invalid as exc:
        if not sids:
            raise
        return _note_error(request, exc, sids[0], f"note-error-{rid}")
    except (Conflict, _StaleNote) as exc:
        # Closed or changed elsewhere: keep what was typed and say why (never lose it).
        now = await web_read(request, current)
        mine = _mine(form)
        conflicts = []
        if isinstance(exc, _StaleNote):
            labels = {i["id"]: _issue_label(i) for i in now["issues"]}
            conflicts = _note_conflicts(now["note"], mine, now["statuses"], labels)
        return _note_edit(request, now, mine=mine, conflicts=conflicts, status=409)
    if not is_htmx(request):
        return redirect(request, f"/sessions/{data['session']['id']}#note-{rid}", "Note saved.")
    return _fragments(request, data, "sessions/_note.html")


@post("/notes/{note_id:str}/delete", status_code=200, name="web_note_delete")
async def delete_note(request: Request[Any, Any, Any], note_id: FromPath[str]) -> Response[Any]:
    rid = path_id(note_id, "Note")

    def work(conn: Connection, user: User) -> dict[str, Any]:
        sid = _note_session(conn, user, rid)
        result_service.delete_result(conn, rid)
        return _fragment_data(conn, user, sid, None)

    data = await web_write(request, work)
    if not is_htmx(request):
        return redirect(request, f"/sessions/{data['session']['id']}", "Note deleted.")
    return _fragments(request, data, None)


ROUTES: list[Any] = [
    session_page,
    older_notes,
    *TRANSITIONS,
    add_note,
    note_fragment,
    file_bug,
    edit_note_page,
    update_note,
    delete_note,
]
