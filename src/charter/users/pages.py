"""The account page: the signed-in user's API tokens (create shows the secret once,
revoke)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.auth import service as auth
from charter.auth.service import User
from charter.core.errors import Invalid
from charter.core.listing import ListQuery, Page
from charter.http.deps import path_id
from charter.users import service as user_service
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


@get("/account", name="account")
async def account_page(request: Request[Any, Any, Any]) -> Response[str]:
    return _page(request, await web_read(request, _tokens))


@post("/account/tokens", status_code=201)
async def create_token(request: Request[Any, Any, Any]) -> Response[str]:
    form = await form_of(request)
    name = form.get("name", "")

    def work(conn: Connection, user: User) -> tuple[Page, dict[str, Any]]:
        token_id, secret = auth.create_token_for_user(conn, user.id, name)
        created = user_service.new_token(conn, token_id, secret).rows[0]
        return _tokens(conn, user), created

    try:
        tokens, created = await web_write(request, work)
    except Invalid as exc:
        tokens = await web_read(request, _tokens)
        return _page(request, tokens, 422, errors=exc.errors or {}, name=name)
    # Rendered, not redirected: the secret must not travel in a URL or a cookie.
    return _page(request, tokens, 201, created=created)


@post("/account/tokens/{token_id:str}/revoke", status_code=303)
async def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[str]) -> Response[Any]:
    def work(conn: Connection, user: User) -> None:
        auth.revoke_own_token(conn, user.id, path_id(token_id, "Token"))

    await web_write(request, work)
    return redirect(request, "/account", "Token revoked: it stops working at once.")


ROUTES: list[Any] = [account_page, create_token, revoke_token]
