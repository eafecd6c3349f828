"""Running one request's database work: authenticate, then the handler's work, in one
hop to the DB thread pool and one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy.engine import Connection

from charter.auth import service as auth
from charter.auth.service import User
from charter.core.errors import NotFound, Unauthenticated
from charter.core.inputs import parse_id
from charter.db.engine import Database
from charter.http.conventions import Params
from charter.http.throttle import client_address, limits_of

T = TypeVar("T")


def database(request: Request[Any, Any, Any]) -> Database:
    db: Database = request.app.state.db
    return db


def query_params(request: Request[Any, Any, Any]) -> Params:
    return Params({k: v for k, v in request.query_params.items()})


def path_id(raw: str, what: str) -> int:
    """Path ids that are not positive integers name no object: 404."""
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"{what} {raw!r} not found.")
    return value


async def read_as_user(
    request: Request[Any, Any, Any],
    work: Callable[[Connection, User], T],
    snapshot: bool = True,
) -> T:
    """Authenticate the bearer token and run `work` in one read transaction.
    An address that failed to authenticate too often gets 429 before any DB work.
    `snapshot=False` for work whose answer is one statement (or statements that need
    not agree): no transaction, so no BEGIN and COMMIT round trips (Database.read)."""
    header = request.headers.get("authorization")
    db = database(request)
    limits, address = limits_of(request), client_address(request)
    limits.check_address(address)

    def job() -> T:
        secret = auth.parse_authorization(header)
        limits.count_token_apart(db, secret)
        with db.read(snapshot) as conn:
            user, token_id, touch_due = auth.authenticate(conn, secret)
            result = work(conn, user)
        if touch_due:
            with db.write() as conn:
                auth.touch_token(conn, token_id)
        return result

    try:
        return await db.run(job)
    except Unauthenticated:
        await limits.failed(db, address)
        raise
