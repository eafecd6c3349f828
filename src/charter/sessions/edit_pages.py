"""Creating and editing a session: the form (every custom field type of the template),
its parsing into the domain's values, and its errors shown next to the fields.

A form that fails validation is shown again with what was typed and nothing is
written: the domain's Invalid leaves the write transaction (rolled back) and the page
is rendered from the posted values in a second, read-only hop.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.catalog import custom_fields
from charter.core.errors import Invalid
from charter.core.inputs import NUL_PROBLEM, parse_id
from charter.debriefs import sheet_form
from charter.http.deps import path_id
from charter.sbtm import service as sbtm_service
from charter.sessions import forms as session_forms
from charter.sessions import read as session_read
from charter.sessions import service as session_service
from charter.sessions.page_parts import (
    estimate_text,
    parse_estimate,
    posted,
    raise_if,
    swatch,
    text_of,
    texts_of,
)
from charter.web import versions
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render
from charter.web.versions import BASE_FIELD, Stale, decode_base, encode_base

REFERENCES = ("template_id", "state_id", "config_id", "milestone_id", "assignee_id")


LABELS = {
    "name": "Name",
    "charter": "Charter",
    "template_id": "Template",
    "state_id": "State",
    "config_id": "Configuration",
    "milestone_id": "Milestone",
    "assignee_id": "Assignee",
    "estimate": "Estimate",
    "tags": "Tags",
    "issues": "Linked issues",
}


Values = dict[str, Any]  # what the form shows: text, a list of texts, or a bool


Errors = dict[str, list[str]]


def changed_keys(base: Values, current: Values) -> list[str]:
    return versions.changed_keys(base, current, list(LABELS))


def values_of_session(session: Mapping[str, Any], fields: Sequence[Mapping[str, Any]]) -> Values:
    """The form's values for an existing session."""
    values: Values = {
        "name": session["name"],
        "charter": session.get("charter") or "",
        "estimate": estimate_text(session["estimate"]),
        "tags": ", ".join(session["tags"]),
        "issues": [str(i) for i in session["issues"]],
    }
    for name in REFERENCES:
        values[name] = "" if session[name] is None else str(session[name])
    for f in fields:
        key = custom_fields.key_of(f)
        value = session.get(key)
        if f["type"] == "multiselect":
            values[key] = [str(v) for v in value or []]
        elif f["type"] == "checkbox":
            values[key] = bool(value)
        else:
            values[key] = "" if value is None else str(value)
    return values


def blank_values(choices: session_forms.Choices) -> Values:
    """A new session's form: the default template and state preselected."""
    template = choices.template(None)
    state = next((s for s in choices.states if s["is_default"]), None)
    values: Values = {"name": "", "charter": "", "estimate": "", "tags": "", "issues": []}
    values.update(dict.fromkeys(REFERENCES, ""))
    values["template_id"] = str(template["id"]) if template else ""
    values["state_id"] = str(state["id"]) if state else ""
    return values


def _clean_text(name: str, raw: str, errors: Errors) -> str:
    if "\x00" in raw:
        errors[name] = [NUL_PROBLEM]
    return raw


def _id(name: str, raw: str, errors: Errors) -> int | None:
    text = raw.strip()
    if not text:
        return None
    value = parse_id(text)
    if value is None:
        errors[name] = ["Choose one of the options."]
    return value


def _custom_value(f: Mapping[str, Any], form: FormMultiDict, errors: Errors) -> tuple[Any, Any]:
    """(the value for the domain, the value to show again) of one custom field."""
    key = custom_fields.key_of(f)
    kind = f["type"]
    if kind == "multiselect":
        shown = texts_of(form, key)
        ids = [_id(key, raw, errors) for raw in shown]
        return [i for i in ids if i is not None], shown
    if kind == "checkbox":
        checked = bool(texts_of(form, key))
        return checked, checked
    raw = _clean_text(key, text_of(form, key), errors)
    text = raw.strip()
    if kind == "text":
        return (raw if text else None), raw
    if not text:
        return None, raw
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,16}", text):  # ASCII digits: int() takes "²" too
            errors[key] = ["Must be a whole number."]
            return None, raw
        return int(text), raw
    if kind == "float":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            errors[key] = ["Must be a number."]
            return None, raw
        return number, raw
    if kind == "dropdown":
        return _id(key, text, errors), raw
    return text, raw  # string, link, date: the domain checks them


def parse_form(
    form: FormMultiDict, choices: session_forms.Choices
) -> tuple[dict[str, Any], dict[str, Any], Values, Errors]:
    """(plain changes, custom values, values to show again, errors): the errors name
    every bad field the web layer can tell (the domain checks the rest, one at a time)."""
    errors: Errors = {}
    values: Values = {}
    plain: dict[str, Any] = {}
    for name in ("name", "charter", "tags"):
        values[name] = _clean_text(name, text_of(form, name), errors)
    plain["name"] = values["name"]
    plain["charter"] = values["charter"] if values["charter"].strip() else None
    plain["tags"] = [t for t in values["tags"].split(",") if t.strip()]
    for name in REFERENCES:
        values[name] = text_of(form, name)
        plain[name] = _id(name, values[name], errors)
    values["estimate"] = text_of(form, "estimate")
    try:
        plain["estimate"] = parse_estimate(values["estimate"])
    except Invalid as exc:
        errors.update(exc.errors or {})
    values["issues"] = texts_of(form, "issues")
    issue_ids = [_id("issues", raw, errors) for raw in values["issues"]]
    plain["issues"] = [i for i in issue_ids if i is not None]
    custom: dict[str, Any] = {}
    template = choices.template(plain["template_id"])
    for f in template["fields"] if template else ():
        key = custom_fields.key_of(f)
        custom[key], values[key] = _custom_value(f, form, errors)
    if template is None and plain["template_id"] is not None:
        errors["template_id"] = ["Choose one of the options."]
    return plain, custom, values, errors


def _sbtm_of(form: FormMultiDict) -> tuple[dict[str, Any], Values, Errors]:
    """The SBTM fields of the form (areas, testers, duration; no breakdown)."""
    texts = {k: text_of(form, k) for k in ("areas", "area_new", *sheet_form.DURATION)}
    return sheet_form.parse(texts, texts_of(form, "tester_ids"), with_breakdown=False)


def prepared_fields(template: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The template's session fields for the form, with their keys and swatch colours."""
    out = []
    for f in template["fields"] if template else ():
        item = dict(f)
        item["key"] = custom_fields.key_of(f)
        item["values"] = [dict(v, swatch=swatch(v["color"])) for v in f["values"]]
        out.append(item)
    return out


def _selected_template(choices: session_forms.Choices, values: Values) -> dict[str, Any] | None:
    raw = values.get("template_id", "")
    template_id = parse_id(raw) if isinstance(raw, str) else None
    return choices.template(template_id) if template_id is not None else choices.template(None)


def _form_page(
    request: Request[Any, Any, Any],
    project: Mapping[str, Any],
    choices: session_forms.Choices,
    values: Values,
    *,
    session: Mapping[str, Any] | None = None,
    errors: Errors | None = None,
    message: str | None = None,
    status: int = 200,
    base: Values | None = None,
    stale: Stale | None = None,
    sbtm: Mapping[str, Any] | None = None,
) -> Response[str]:
    editing = session is not None
    assert session is None or "id" in session
    title = f"Edit {session['name']}" if session is not None else "New session"
    action = (
        f"/sessions/{session['id']}/edit"
        if session is not None
        else f"/projects/{project['id']}/sessions"
    )
    members = list(choices.assignees)  # viewers cannot run sessions: not offered
    # An assignee who left the project (or became a viewer) still shows as the current
    # choice, by name when still a member.
    assignee = values.get("assignee_id", "")
    if assignee and all(str(m["id"]) != assignee for m in members):
        known = {str(m["id"]): m["name"] for m in choices.members}
        members.append({"id": int(assignee), "name": known.get(assignee, f"User {assignee}")})
    fields = prepared_fields(_selected_template(choices, values))
    labels = dict(LABELS, **sheet_form.LABELS, **{f["key"]: f["name"] for f in fields})
    conflicts = []
    if stale is not None:
        every = prepared_fields(_selected_template(choices, stale.current)) + fields
        labels = dict(labels, **{f["key"]: f["name"] for f in every})
        conflicts = [
            {
                "key": k,
                "label": labels.get(k, k),
                "theirs": shown_value(k, stale.current.get(k), choices, every),
                "yours": shown_value(k, values.get(k), choices, every),
            }
            for k in stale.changed
        ]
    return render(
        request,
        "sessions/form.html",
        status=status,
        title=title,
        editing=editing,
        project=project,
        session=session,
        choices=choices,
        members=members,
        fields=fields,
        labels=labels,
        values=values,
        errors=errors or {},
        message=message,
        action=action,
        base=encode_base(base) if base is not None else None,
        conflicts=conflicts,
        sbtm=sbtm or {"values": sheet_form.blank(), "area_choices": [], "tester_choices": []},
    )


def shown_value(
    key: str, value: Any, choices: session_forms.Choices, fields: Sequence[Mapping[str, Any]]
) -> str:
    """A form value as a person reads it: names instead of ids."""
    options: dict[str, list[dict[str, Any]]] = {
        "template_id": choices.templates,
        "state_id": choices.states,
        "config_id": choices.configs,
        "milestone_id": choices.milestones,
        "assignee_id": choices.members,
        "issues": [dict(i, name=i["display_id"]) for i in choices.issues],
    }
    for f in fields:
        if f["type"] in ("dropdown", "multiselect"):
            options[f["key"]] = f["values"]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    texts = value if isinstance(value, list) else [value]
    names = {str(o["id"]): str(o["name"]) for o in options.get(key, [])}
    shown = [names.get(str(t), str(t)) for t in texts if t not in (None, "")]
    return ", ".join(shown) or "—"


def sbtm_context(
    conn: Connection, pid: int, sid: int | None, values: Values | None = None
) -> dict[str, Any]:
    """The SBTM fields of the form (debriefs/sheet_form.py): their choices, and the
    values typed, the session's stored ones, or blanks."""
    if values is None:
        values = sheet_form.stored(conn, sid) if sid is not None else sheet_form.blank()
    return {**sheet_form.choices(conn, pid), "values": values}


@get("/projects/{project_id:str}/sessions/new", name="web_session_new")
async def new_session_page(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[str]:
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> tuple[Any, session_forms.Choices, Any]:
        project = require_project(conn, user, pid, "run")
        choices = session_forms.form_choices(conn, user, pid)
        return dict(project), choices, sbtm_context(conn, pid, None)

    project, choices, sbtm = await web_read(request, work)
    return _form_page(request, project, choices, blank_values(choices), sbtm=sbtm)


async def _reshow(
    request: Request[Any, Any, Any],
    pid: int,
    values: Values,
    exc: Invalid,
    session_id: int | None = None,
    base: Values | None = None,
    sbtm_values: Values | None = None,
) -> Response[str]:
    """The form again with what was typed and the errors (nothing was written)."""

    def work(conn: Connection, user: User) -> tuple[Any, Any, Any, Any]:
        project = require_project(conn, user, pid, "read")
        session = None
        if session_id is not None:
            page = session_read.get_session(conn, user, session_id, frozenset())
            session = session_read.as_dicts(page.rows)[0]
        choices = session_forms.form_choices(conn, user, pid)
        return dict(project), choices, session, sbtm_context(conn, pid, session_id, sbtm_values)

    project, choices, session, sbtm = await web_read(request, work)
    return _form_page(
        request,
        project,
        choices,
        values,
        session=session,
        errors=exc.errors or {"form": [exc.message]},
        message=exc.message,
        status=422,
        base=base,
        sbtm=sbtm,
    )


@post("/projects/{project_id:str}/sessions", status_code=200, name="web_session_create")
async def create_session(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    pid = path_id(project_id, "Project")
    form = await posted(request)
    shown: Values = {}
    sbtm_shown: Values = {}

    def work(conn: Connection, user: User) -> int:
        require_project(conn, user, pid, "run")
        choices = session_forms.form_choices(conn, user, pid)
        plain, custom, values, errors = parse_form(form, choices)
        sbtm_body, sbtm_values, sbtm_errors = _sbtm_of(form)
        shown.update(values)
        sbtm_shown.update(sbtm_values)
        raise_if(errors | sbtm_errors)
        session_id = session_service.create_session(
            conn,
            pid,
            user.id,
            name=plain["name"],
            template_id=plain["template_id"],
            state_id=plain["state_id"],
            config_id=plain["config_id"],
            milestone_id=plain["milestone_id"],
            assignee_id=plain["assignee_id"],
            estimate=plain["estimate"],
            tags=plain["tags"],
            issue_ids=plain["issues"],
            charter=plain["charter"],
            custom=custom,
        )
        sbtm_service.update_session_sbtm(conn, session_id, user.id, sbtm_body)
        return session_id

    try:
        session_id = await web_write(request, work)
    except Invalid as exc:
        return await _reshow(request, pid, shown, exc, sbtm_values=sbtm_shown or None)
    return redirect(request, f"/sessions/{session_id}", "Session created.")


@get("/sessions/{session_id:str}/edit", name="web_session_edit")
async def edit_session_page(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[str]:
    sid = path_id(session_id, "Session")

    def work(conn: Connection, user: User) -> tuple[Any, Any, Any, Any]:
        pid = session_forms.project_of_session(conn, user, sid, "run")
        page = session_read.get_session(conn, user, sid, frozenset())
        session = session_read.as_dicts(page.rows)[0]
        session["charter"] = session_forms.extras_of(conn, sid).charter
        project = require_project(conn, user, pid, "run")
        choices = session_forms.form_choices(conn, user, pid)
        return dict(project), choices, session, sbtm_context(conn, pid, sid)

    project, choices, session, sbtm = await web_read(request, work)
    template = choices.template(session["template_id"])
    values = values_of_session(session, template["fields"] if template else [])
    return _form_page(request, project, choices, values, session=session, base=values, sbtm=sbtm)


def current_values(
    conn: Connection, user: User, sid: int, choices: session_forms.Choices
) -> tuple[dict[str, Any], Values]:
    """(the session as the API shows it, with its charter; its form values now)."""
    page = session_read.get_session(conn, user, sid, frozenset())
    session = session_read.as_dicts(page.rows)[0]
    session["charter"] = session_forms.extras_of(conn, sid).charter
    template = choices.template(session["template_id"])
    return session, values_of_session(session, template["fields"] if template else [])


@post("/sessions/{session_id:str}/edit", status_code=200, name="web_session_update")
async def update_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[Any]:
    sid = path_id(session_id, "Session")
    form = await posted(request)
    shown: Values = {}
    sbtm_shown: Values = {}
    project_ids: list[int] = []

    base = decode_base(text_of(form, BASE_FIELD))

    def work(conn: Connection, user: User) -> None:
        pid = session_forms.project_of_session(conn, user, sid, "run")
        project_ids.append(pid)
        choices = session_forms.form_choices(conn, user, pid)
        plain, custom, values, errors = parse_form(form, choices)
        sbtm_body, sbtm_values, sbtm_errors = _sbtm_of(form)
        shown.update(values)
        sbtm_shown.update(sbtm_values)
        errors = errors | sbtm_errors
        if base is not None:
            _session, current = current_values(conn, user, sid, choices)
            changed = changed_keys(base, current)
            if changed:  # another tab or person saved first: never overwrite them
                raise Stale(current, changed)
        raise_if(errors)
        if plain["template_id"] is None:
            plain.pop("template_id")  # no choice keeps the template
        if plain["state_id"] is None:
            plain.pop("state_id")
        session_service.update_session(conn, sid, user.id, plain, custom)
        sbtm_service.update_session_sbtm(conn, sid, user.id, sbtm_body)

    try:
        await web_write(request, work)
    except Invalid as exc:
        if not project_ids:
            raise
        sbtm_values = sbtm_shown or None
        return await _reshow(request, project_ids[0], shown, exc, sid, base, sbtm_values)
    except Stale as stale:
        return await _reshow_stale(request, project_ids[0], shown, stale, sid)
    return redirect(request, f"/sessions/{sid}", "Session saved.")


async def _reshow_stale(
    request: Request[Any, Any, Any], pid: int, values: Values, stale: Stale, sid: int
) -> Response[str]:
    """The form again with what was typed, what changed meanwhile (theirs vs yours),
    and the session's values now as the base: saving again is a deliberate choice."""

    def work(conn: Connection, user: User) -> tuple[Any, Any, Any]:
        project = require_project(conn, user, pid, "read")
        choices = session_forms.form_choices(conn, user, pid)
        session, _current = current_values(conn, user, sid, choices)
        return dict(project), choices, session

    project, choices, session = await web_read(request, work)
    return _form_page(
        request,
        project,
        choices,
        values,
        session=session,
        status=409,
        base=stale.current,
        stale=stale,
    )


@get("/projects/{project_id:str}/sessions/fields", name="web_session_fields")
async def fields_fragment(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[str]:
    """The custom fields of another template (htmx, when the template select changes)."""
    pid = path_id(project_id, "Project")

    def work(conn: Connection, user: User) -> session_forms.Choices:
        require_project(conn, user, pid, "read")
        return session_forms.form_choices(conn, user, pid, with_issues=False)

    choices = await web_read(request, work)
    template_id = request.query_params.get("template_id")
    chosen = parse_id(template_id) if template_id else None
    template = choices.template(chosen) if chosen is not None else None
    return render(
        request, "sessions/_fields.html", fields=prepared_fields(template), values={}, errors={}
    )


ROUTES: list[Any] = [
    new_session_page,
    create_session,
    edit_session_page,
    update_session,
    fields_fragment,
]
