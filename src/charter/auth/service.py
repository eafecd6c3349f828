"""API tokens: high-entropy secrets, stored only as sha256, looked up by hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import queries as auth_queries
from charter.auth.queries import token_by_id as token_by_id

# Identity lookups every package may use (auth.queries stays private to auth).
from charter.auth.queries import user_by_email as user_by_email
from charter.auth.queries import user_by_id as user_by_id
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import NotFound, Unauthenticated

TOKEN_PREFIX = "charter_"


# last_used_at is refreshed at most this often, so reads stay reads.
TOUCH_INTERVAL = timedelta(minutes=5)


MAX_TOKEN_NAME = 200


# Anything shaped like a token, for redaction (token_urlsafe uses this alphabet).
_TOKEN_SHAPE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    is_admin: bool
    timezone: str | None
    date_format: str | None
    time_format: str | None
    # {project id: role}, read with the user by authentication (one statement for
    # both); None when the User was built otherwise: permissions then query the role.
    roles: Mapping[int, str] | None = field(default=None, compare=False, hash=False)


def user_of(row: RowMapping) -> User:
    """The User of a users row (API tokens and browser sessions alike); with the
    row's `project_roles` when it has them."""
    return User(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        is_admin=bool(row["is_admin"]),
        timezone=row["timezone"],
        date_format=row["date_format"],
        time_format=row["time_format"],
        roles=auth_queries.roles_of(row) if "project_roles" in row else None,
    )


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def redact_secrets(text: str) -> str:
    """`text` with every token-shaped string replaced: error bodies echo input (a path id,
    an expand name), and a secret pasted there must not come back or reach a log."""
    if TOKEN_PREFIX not in text:  # the common case, without a regex
        return text
    return _TOKEN_SHAPE.sub(TOKEN_PREFIX + "[redacted]", text)


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
    digest = hash_token(secret)
    found = auth_queries.user_for_token_hash(conn, digest)
    # The index lookup compares sha256 digests, not secrets: its timing can only tell
    # how much of a digest matched, and steering a digest needs a sha256 preimage. The
    # row is still accepted only after a constant-time comparison of the stored hash,
    # so no accept/refuse decision rests on a variable-time string comparison.
    if found is None or not hmac.compare_digest(str(found[0]["token_hash"]), digest):
        raise Unauthenticated("Invalid or revoked API token.")
    row, token_id, last_used = found
    user = user_of(row)
    due = last_used is None or utcnow() - last_used > TOUCH_INTERVAL
    return user, token_id, due


def touch_token(conn: Connection, token_id: int) -> None:
    auth_queries.touch_token(conn, token_id, utcnow())


def create_token(conn: Connection, email: str, name: str = "API token") -> str:
    """Create a token for the user with `email`; returns the secret (shown once)."""
    user = auth_queries.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    return create_token_for_user(conn, user["id"], name)[1]


def create_token_for_user(conn: Connection, user_id: int, name: object) -> tuple[int, str]:
    """Create a token for user `user_id`: (token id, secret). The secret is shown once;
    only its sha256 is stored."""
    name = inputs.text("name", name, MAX_TOKEN_NAME)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = auth_queries.insert_token(
        conn,
        user_id=user_id,
        name=name,
        token_hash=hash_token(secret),
        created_at=utcnow(),
    )
    return token_id, secret


def revoke_token(conn: Connection, token_id: int) -> None:
    if not auth_queries.revoke_token(conn, token_id, utcnow()):
        raise NotFound(f"No active token {token_id}.")


def end_all_access(conn: Connection, user_id: int, when: datetime) -> None:
    """End every browser sign-in session of the user (deleted) and revoke every API
    token they hold: what deactivating a user does, for good (reactivating revives
    neither)."""
    auth_queries.delete_of_user(conn, user_id)
    auth_queries.revoke_tokens_of_user(conn, user_id, when)


def revoke_own_token(conn: Connection, user_id: int, token_id: int) -> None:
    """Revoke one of the user's own active tokens; another user's token, an unknown
    or an already revoked one is NotFound (its existence is not disclosed)."""
    row = auth_queries.token_by_id(conn, token_id)
    if row is None or row["user_id"] != user_id or row["revoked_at"] is not None:
        raise NotFound(f"Token {token_id} not found.")
    revoke_token(conn, token_id)
