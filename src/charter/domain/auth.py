"""API tokens: high-entropy secrets, stored only as sha256, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Connection

from charter.db.queries import users as q
from charter.domain.clock import utcnow
from charter.domain.errors import Invalid, NotFound, Unauthenticated

TOKEN_PREFIX = "charter_"
# last_used_at is refreshed at most this often, so reads stay reads.
TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    is_admin: bool
    timezone: str | None
    date_format: str | None
    time_format: str | None


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_authorization(header: str | None) -> str:
    """The bearer secret from an Authorization header, or Unauthenticated."""
    if not header:
        raise Unauthenticated("Authentication required: send 'Authorization: Bearer <token>'.")
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or " " in secret:
        raise Unauthenticated("Malformed Authorization header: expected 'Bearer <token>'.")
    return secret


def authenticate(conn: Connection, secret: str) -> tuple[User, int, bool]:
    """(user, token id, whether last_used_at is due for a refresh)."""
    found = q.user_for_token_hash(conn, hash_token(secret))
    if found is None:
        raise Unauthenticated("Invalid or revoked API token.")
    row, token_id, last_used = found
    user = User(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        is_admin=bool(row["is_admin"]),
        timezone=row["timezone"],
        date_format=row["date_format"],
        time_format=row["time_format"],
    )
    due = last_used is None or utcnow() - last_used > TOUCH_INTERVAL
    return user, token_id, due


def touch_token(conn: Connection, token_id: int) -> None:
    q.touch_token(conn, token_id, utcnow())


def create_token(conn: Connection, email: str, name: str = "API token") -> str:
    """Create a token for the user with `email`; returns the secret (shown once)."""
    user = q.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    if not name.strip():
        raise Invalid.field("name", "The token name must not be empty.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    q.insert_token(
        conn,
        user_id=user["id"],
        name=name.strip(),
        token_hash=hash_token(secret),
        created_at=utcnow(),
    )
    return secret


def revoke_token(conn: Connection, token_id: int) -> None:
    if not q.revoke_token(conn, token_id, utcnow()):
        raise NotFound(f"No active token {token_id}.")
