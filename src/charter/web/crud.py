"""The setup pages' one pattern: a list of things with add / edit / delete (templates,
fields, states, users, configurations, ...). A package describes its things once as
`Things` (the inputs of its form, the columns of its list, the permission check, and
the service calls the API makes too); `routes_of(things)` gives it five pages:

    GET  {list_path}               the list and the add form
    POST {list_path}               add (a form sent twice adds once: form_once)
    GET  {item_path}               the edit form, the delete button, the actions
    POST {item_path}               save (the form carries the values it was rendered
                                   from: a stale save shows what changed and asks)
    POST {item_path}/delete        delete (same check)
    POST {item_path}/<action>      an action (archive, reset password)

Every write runs in one transaction through `web_write`; the service's Invalid and
Conflict come back as the form again with the errors next to the fields and what was
typed, never as a half-written change. Templates: `templates/setup/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from sqlalchemy.engine import Connection

from charter.auth.service import User
from charter.core.errors import Conflict, Invalid, conflict_of
from charter.core.inputs import parse_id
from charter.db.conflicts import UniqueViolation
from charter.http.deps import path_id
from charter.web import form_once
from charter.web.forms import form_of
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render
from charter.web.versions import BASE_FIELD, Stale, changed_keys, decode_base, encode_base

Body = dict[str, Any]
Values = dict[str, Any]
Errors = dict[str, list[str]]
Link = tuple[str, str]  # (label, href)
Options = Sequence[tuple[str, str]]  # (value, label)

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_INTEGER = re.compile(r"-?[0-9]{1,16}")  # ASCII digits: int() takes "²" too


@dataclass(frozen=True)
class Input:
    """One form control. kinds: text, textarea, email, password, date, color (a
    #rrggbb text box: <input type=color> cannot be left empty), integer, checkbox,
    choice (a select posting text), ref (a select posting an id), list (comma-separated).
    An empty optional control posts null (an empty integer: nothing, the default)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    create: bool = True
    edit: bool = True
    hint: str = ""
    choices: Options = ()
    blank: str | None = None  # the label of a select's empty choice (null)
    # choices read from the database: (conn, user, parent key, item or None) -> options
    options: Callable[[Connection, User, Any, Mapping[str, Any] | None], Options] | None = None


@dataclass(frozen=True)
class Action:
    """A button on the edit page (with inputs of its own, e.g. a new password)."""

    name: str  # the path segment after the item
    label: str
    run: Callable[[Connection, User, int, Body], Any]
    done: str
    inputs: Sequence[Input] = ()
    shown: Callable[[Mapping[str, Any]], bool] = lambda _item: True
    hint: str = ""


Guard = Callable[[Connection, User, Any], list[Link]]  # checks; the breadcrumbs


@dataclass(frozen=True)
class Things:
    name: str  # route names and the form_once scope: unique
    what: str  # "Workflow state": messages and headings
    title: str  # "Workflow states": the list's heading
    list_path: str  # may hold the parent's id: "/projects/{project_id:str}/configs"
    item_path: str  # holds the item's id: "/settings/configs/{config_id:str}"
    inputs: Sequence[Input]
    columns: Sequence[tuple[str, str]]  # (key of a row, heading); the first is the label
    # May the user list and add (parent key: the list_path's id or None)? Raises
    # Forbidden / NotFound; returns the breadcrumbs.
    guard: Guard
    # May the user change this item? Raises; returns (the parent key, breadcrumbs).
    item_guard: Callable[[Connection, User, int], tuple[Any, list[Link]]]
    rows: Callable[[Connection, User, Any], list[dict[str, Any]]]
    view: Callable[[Connection, int], dict[str, Any]]
    lock: Callable[[Connection, int], None]  # the API's lock for an edit of this item
    create: Callable[[Connection, User, Any, Body], int] | None = None
    update: Callable[[Connection, User, int, Body], None] | None = None
    remove: Callable[[Connection, User, int], None] | None = None
    actions: Sequence[Action] = ()
    links: Callable[[Mapping[str, Any]], Sequence[Link]] = lambda _item: ()
    intro: str = ""
    back: Callable[[Any], Link] | None = None  # after a delete (default: the list)
    heading: Callable[[Connection, Any], str] | None = None  # the list's, by parent
    parent_what: str = "Project"  # what the list_path's id names (for a 404)

    def list_url(self, parent: Any) -> str:
        return _fill(self.list_path, parent)

    def item_url(self, item_id: int) -> str:
        return _fill(self.item_path, item_id)


def _fill(path: str, key: Any) -> str:
    return _PARAM.sub(lambda _m: str(key), path, count=1)


def _param(request: Request[Any, Any, Any], path: str, what: str) -> int | None:
    names = _PARAM.findall(path)
    return path_id(str(request.path_params[names[0]]), what) if names else None


# --- values: item -> form, form -> body ----------------------------------------------


def shown(value: Any, kind: str = "text") -> Any:
    """A stored value as its form control shows it."""
    if kind == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def values_of(item: Mapping[str, Any], inputs: Sequence[Input]) -> Values:
    return {i.name: shown(item.get(i.name), i.kind) for i in inputs}


def posted(form: Mapping[str, str], inputs: Sequence[Input]) -> Values:
    """What the form showed when sent (to show again)."""
    return {
        i.name: (i.name in form) if i.kind == "checkbox" else form.get(i.name, "") for i in inputs
    }


def body_of(values: Values, inputs: Sequence[Input]) -> Body:
    """The service's body for the posted values; what a JSON client would send, so the
    service answers the same bad input with the same message."""
    body: Body = {}
    for i in inputs:
        raw = values[i.name]
        if i.kind == "checkbox":
            body[i.name] = bool(raw)
        elif i.kind == "list":
            body[i.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif not raw.strip() and not i.required:
            if i.kind != "integer":  # an empty number keeps the default
                body[i.name] = None
        elif i.kind == "integer":
            text = raw.strip()
            body[i.name] = int(text) if _INTEGER.fullmatch(text) else text
        elif i.kind == "ref":
            body[i.name] = parse_id(raw.strip()) or raw
        else:
            body[i.name] = raw
    return body


# --- pages ----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return shown(value) or "—"


def _options(
    conn: Connection,
    user: User,
    inputs: Sequence[Input],
    parent: Any,
    item: Mapping[str, Any] | None,
) -> dict[str, Options]:
    return {
        i.name: i.options(conn, user, parent, item) if i.options else i.choices
        for i in inputs
        if i.kind in ("choice", "ref")
    }


def _failure(exc: Exception) -> tuple[int, str, Errors]:
    if isinstance(exc, UniqueViolation):  # a concurrent add of the same name won
        exc = conflict_of(exc)
    assert isinstance(exc, Invalid | Conflict)
    return (422 if isinstance(exc, Invalid) else 409), exc.message, dict(exc.errors or {})


_REFUSED = (Invalid, Conflict, UniqueViolation)


def routes_of(t: Things) -> list[HTTPRouteHandler]:
    create_inputs = [i for i in t.inputs if i.create]
    edit_inputs = [i for i in t.inputs if i.edit]

    async def list_page(
        request: Request[Any, Any, Any],
        status: int = 200,
        values: Values | None = None,
        errors: Errors | None = None,
        message: str | None = None,
    ) -> Response[str]:
        parent = _param(request, t.list_path, t.parent_what)

        def work(conn: Connection, user: User) -> dict[str, Any]:
            crumbs = t.guard(conn, user, parent)
            rows = t.rows(conn, user, parent)
            return {
                "crumbs": crumbs,
                "heading": t.heading(conn, parent) if t.heading else t.title,
                "rows": [
                    dict(
                        cells=[_cell(r.get(k)) for k, _h in t.columns],
                        colors=[r.get(k) if k == "color" else None for k, _h in t.columns],
                        href=t.item_url(r["id"]),
                        links=list(t.links(r)),
                    )
                    for r in rows
                ],
                "options": _options(conn, user, create_inputs, parent, None),
            }

        context = await web_read(request, work)
        return render(
            request,
            "setup/list.html",
            status=status,
            title=context["heading"],
            things=t,
            inputs=create_inputs,
            action=t.list_url(parent),
            values=values or {i.name: shown(None, i.kind) for i in create_inputs},
            errors=errors or {},
            message=message,
            form_key=form_once.new_key(),
            **context,
        )

    async def item_page(
        request: Request[Any, Any, Any],
        status: int = 200,
        values: Values | None = None,
        errors: Errors | None = None,
        message: str | None = None,
        base: Values | None = None,
        stale: Stale | None = None,
    ) -> Response[str]:
        item_id = _param(request, t.item_path, t.what)
        assert item_id is not None

        def work(conn: Connection, user: User) -> dict[str, Any]:
            parent, crumbs = t.item_guard(conn, user, item_id)
            item = t.view(conn, item_id)
            every = [*edit_inputs, *(i for a in t.actions for i in a.inputs)]
            return {
                "crumbs": crumbs,
                "item": item,
                "actions": [a for a in t.actions if a.shown(item)],
                "links": list(t.links(item)),
                "options": _options(conn, user, every, parent, item),
            }

        context = await web_read(request, work)
        item = context["item"]
        current = values_of(item, edit_inputs)
        labels = {i.name: i.label for i in edit_inputs}
        theirs = stale.current if stale else {}
        conflicts = [
            {
                "label": labels.get(k, k),
                "theirs": _cell(theirs.get(k)),
                "yours": _cell((values or {}).get(k)),
            }
            for k in (stale.changed if stale else [])
        ]
        label = _cell(item.get(t.columns[0][0]))
        return render(
            request,
            "setup/item.html",
            status=status,
            title=f"{t.what}: {label}",
            things=t,
            label=label,
            inputs=edit_inputs,
            action=t.item_url(item["id"]),
            values=values or current,
            base=encode_base(base if base is not None else current),
            errors=errors or {},
            message=message,
            conflicts=conflicts,
            **context,
        )

    async def create(request: Request[Any, Any, Any]) -> Response[Any]:
        assert t.create is not None
        make = t.create
        parent = _param(request, t.list_path, t.parent_what)
        form = await form_of(request)
        values = posted(form, create_inputs)
        key = form_once.usable(form.get(form_once.FIELD))
        scope = f"{t.name}:{parent}"
        content = json.dumps(values, sort_keys=True)

        def work(conn: Connection, user: User) -> None:
            t.guard(conn, user, parent)
            if key and form_once.replay(conn, user.id, key, scope, content) is not None:
                return  # this very form was saved already (a double submit)
            new_id = make(conn, user, parent, body_of(values, create_inputs))
            if key:
                form_once.remember(conn, user.id, key, scope, content, b"%d" % new_id)

        try:
            await web_write(request, work)
        except _REFUSED as exc:
            status, message, errors = _failure(exc)
            return await list_page(request, status, values, errors, message)
        return redirect(request, t.list_url(parent), f"{t.what} added.")

    def _checked(conn: Connection, user: User, item_id: int, base: Values | None) -> Any:
        """The item's parent once the user may change it, it is locked and it is still
        what the form showed (Stale otherwise)."""
        parent, _crumbs = t.item_guard(conn, user, item_id)
        t.lock(conn, item_id)
        if base is not None:
            current = values_of(t.view(conn, item_id), edit_inputs)
            changed = changed_keys(base, current, [i.name for i in edit_inputs])
            if changed:  # someone saved first: never overwrite them unseen
                raise Stale(current, changed)
        return parent

    async def _write(
        request: Request[Any, Any, Any],
        change: Callable[[Connection, User, int, Any], None],
        form: Mapping[str, str],
        values: Values | None,
        done: str,
        to: Callable[[Any], str],
    ) -> Response[Any]:
        item_id = _param(request, t.item_path, t.what)
        assert item_id is not None
        base = decode_base(form.get(BASE_FIELD, ""))
        parents: list[Any] = []

        def work(conn: Connection, user: User) -> None:
            parents.append(_checked(conn, user, item_id, base))
            change(conn, user, item_id, parents[0])

        try:
            await web_write(request, work)
        except Stale as exc:
            message = f"This {t.what.lower()} changed since you opened it. Check and save again."
            return await item_page(request, 409, values, None, message, exc.current, exc)
        except _REFUSED as exc:
            status, message, errors = _failure(exc)
            return await item_page(request, status, values, errors, message, base)
        return redirect(request, to(parents[0]), done)

    async def update(request: Request[Any, Any, Any]) -> Response[Any]:
        assert t.update is not None
        save = t.update
        form = await form_of(request)
        values = posted(form, edit_inputs)

        def change(conn: Connection, user: User, item_id: int, _parent: Any) -> None:
            save(conn, user, item_id, body_of(values, edit_inputs))

        return await _write(
            request, change, form, values, f"{t.what} saved.", lambda _p: request.url.path
        )

    async def delete(request: Request[Any, Any, Any]) -> Response[Any]:
        assert t.remove is not None
        remove = t.remove
        form = await form_of(request)

        def change(conn: Connection, user: User, item_id: int, _parent: Any) -> None:
            remove(conn, user, item_id)

        def to(parent: Any) -> str:
            return t.back(parent)[1] if t.back else t.list_url(parent)

        return await _write(request, change, form, None, f"{t.what} deleted.", to)

    def action_handler(a: Action) -> Callable[..., Any]:
        async def act(request: Request[Any, Any, Any]) -> Response[Any]:
            form = await form_of(request)
            values = posted(form, a.inputs)

            def change(conn: Connection, user: User, item_id: int, _parent: Any) -> None:
                a.run(conn, user, item_id, body_of(values, a.inputs))

            item = request.url.path.rsplit("/", 1)[0]
            return await _write(request, change, form, None, a.done, lambda _p: item)

        act.__name__ = f"{t.name}_{a.name}"
        return act

    async def show_list(request: Request[Any, Any, Any]) -> Response[str]:
        return await list_page(request)

    async def show_item(request: Request[Any, Any, Any]) -> Response[str]:
        return await item_page(request)

    routes = [
        get(t.list_path, name=f"{t.name}_list")(show_list),
        get(t.item_path, name=f"{t.name}_item")(show_item),
    ]
    if t.create is not None:
        routes.append(post(t.list_path, status_code=303, name=f"{t.name}_create")(create))
    if t.update is not None:
        routes.append(post(t.item_path, status_code=303, name=f"{t.name}_update")(update))
    if t.remove is not None:
        routes.append(
            post(f"{t.item_path}/delete", status_code=303, name=f"{t.name}_delete")(delete)
        )
    for a in t.actions:
        path = f"{t.item_path}/{a.name}"
        routes.append(post(path, status_code=303, name=f"{t.name}_{a.name}")(action_handler(a)))
    return routes
