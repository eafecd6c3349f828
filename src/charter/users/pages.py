"""The account page: the signed-in user's API tokens (create shows the secret once,
revoke); and the Administration area for site admins: its index and the users
(create, rename, deactivate, make admin, reset a password; web/crud.py's pattern)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth import service as auth
from charter.auth.permissions import require_admin
from charter.auth.service import User
from charter.core.errors import Invalid
from charter.core.listing import ListQuery, Page
from charter.db import tables
from charter.db.locks import row_lock
from charter.http.deps import path_id
from charter.users import read as user_read
from charter.users import service as user_service
from charter.web import cookies, one_time
from charter.web.crud import Action, Input, Link, Things, routes_of
from charter.web.forms import form_of
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render

# The newest tokens first; a user with more than this sees the newest only.
MAX_TOKENS_SHOWN = 200


_TOKENS = ListQuery(per_page=MAX_TOKENS_SHOWN, sort="created_at", descending=True)


def _tokens(conn: Connection, user: User) -> Page:
    return user_service.list_tokens(conn, user, _TOKENS)


def _page(
    request: Request[Any, Any, Any], tokens: Page, status: int = 200, **context: Any
) -> Response[str]:
    return render(
        request,
        "account.html",
        status=status,
        title="Account",
        tokens=tokens.rows,
        total=tokens.total,
        **context,
    )


ONCE = "charter_once"  # the handle of a value shown once (a new token's secret)


@get("/account", name="account")
async def account_page(request: Request[Any, Any, Any]) -> Response[str]:
    handle = request.cookies.get(ONCE)

    def work(conn: Connection, user: User) -> tuple[Page, dict[str, Any] | None]:
        kept = one_time.take(conn, user.id, handle) if handle else None
        created = msgspec.json.decode(kept) if kept else None
        return _tokens(conn, user), created

    tokens, created = await (web_write if handle else web_read)(request, work)
    response = _page(request, tokens, created=created)
    if handle:
        response.cookies.append(cookies.expired(request, ONCE))
    return response


@post("/account/tokens", status_code=303)
async def create_token(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await form_of(request)
    name = form.get("name", "")

    def work(conn: Connection, user: User) -> str:
        token_id, secret = auth.create_token_for_user(conn, user.id, name)
        created = user_service.new_token(conn, token_id, secret).rows[0]
        shown = {"name": created["name"], "token": created["token"]}
        return one_time.put(conn, user.id, msgspec.json.encode(shown))

    try:
        handle = await web_write(request, work)
    except Invalid as exc:
        tokens = await web_read(request, _tokens)
        return _page(request, tokens, 422, errors=exc.errors or {}, name=name)
    # Post/redirect/get: a reload of the page shows it, never creates a second token.
    # The secret stays on the server; the browser holds a one-time handle (a cookie).
    response = redirect(request, "/account")
    response.cookies.append(cookies.make(request, ONCE, handle, max_age=300))
    return response


@post("/account/tokens/{token_id:str}/revoke", status_code=303)
async def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[str]) -> Response[Any]:
    def work(conn: Connection, user: User) -> None:
        auth.revoke_own_token(conn, user.id, path_id(token_id, "Token"))

    await web_write(request, work)
    return redirect(request, "/account", "Token revoked: it stops working at once.")


ADMIN: Link = ("Administration", "/admin")


# The Administration index: (label, address, what is there).
AREAS = (
    ("Projects", "/admin/projects", "create projects; each project's settings"),
    ("Users", "/admin/users", "accounts, site admins, passwords, deactivation"),
    ("Templates", "/admin/templates", "custom fields of sessions and notes"),
    ("Workflow states", "/admin/states", "where a session is, and what that means"),
    ("Statuses", "/admin/statuses", "the results a note records"),
    ("Tags", "/admin/tags", "rename or delete tags"),
)


@get("/admin", name="admin")
async def admin_page(request: Request[Any, Any, Any]) -> Response[str]:
    def work(_conn: Connection, user: User) -> None:
        require_admin(user)

    await web_read(request, work)
    return render(request, "setup/admin.html", title="Administration", areas=AREAS)


def _admin(_conn: Connection, user: User, _parent: Any = None) -> list[Link]:
    require_admin(user)
    return [ADMIN]


def _user_guard(_conn: Connection, user: User, _user_id: int) -> tuple[None, list[Link]]:
    require_admin(user)
    return None, [ADMIN, ("Users", "/admin/users")]


def _roles(conn: Connection, user: User, _parent: Any, _item: Any) -> list[tuple[str, str]]:
    found = user_read.list_roles(conn, user, ListQuery(per_page=1000, sort="id", descending=False))
    return [(str(r["id"]), r["name"]) for r in found.rows]


PASSWORD = Input(
    "password", "Password", "password", edit=False, hint="optional: without one, no web sign-in"
)


USERS = Things(
    name="admin_users",
    what="User",
    title="Users",
    list_path="/admin/users",
    item_path="/admin/users/{user_id:str}",
    intro="Site admins manage every project and this area. Deactivating a user signs "
    "them out and revokes their API tokens; the last active site admin stays.",
    inputs=(
        Input("name", "Name", required=True),
        Input("email", "Email", "email", required=True),
        Input("role_id", "Role", "ref", blank="The default role", options=_roles),
        Input("is_admin", "Site admin", "checkbox"),
        Input("is_active", "Active", "checkbox", create=False),
        PASSWORD,
    ),
    columns=(("name", "Name"), ("email", "Email"), ("is_admin", "Admin"), ("is_active", "Active")),
    guard=_admin,
    item_guard=_user_guard,
    rows=lambda conn, _u, _p: [user_service.admin_dict(r) for r in user_service.all_users(conn)],
    view=user_service.admin_user,
    lock=row_lock(tables.users),
    create=lambda conn, actor, _p, body: user_service.create_user_with_password(conn, actor, body),
    update=lambda conn, actor, uid, body: user_service.update_user(conn, actor, uid, body),
    actions=(
        Action(
            "password",
            "Reset password",
            lambda conn, actor, uid, body: user_service.reset_password(
                conn, actor, uid, body.get("password")
            ),
            "Password set: the user's browser sessions ended.",
            inputs=(Input("password", "New password", "password", required=True),),
            hint="Sets a new web sign-in password and signs the user out everywhere.",
        ),
    ),
)


ROUTES: list[Any] = [
    account_page,
    create_token,
    revoke_token,
    admin_page,
    *routes_of(USERS),
]
