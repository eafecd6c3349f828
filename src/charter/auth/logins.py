"""Signing in to the web UI with email and password, and the browser sessions that
follow: the cookie holds a random secret, the database only its sha256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Connection

from charter.auth import passwords
from charter.auth import queries as auth_queries
from charter.auth.service import User, user_of
from charter.core.clock import utcnow
from charter.core.errors import NotFound, Unauthenticated
from charter.db import server_keys

# One message for an unknown email, a wrong password, a user without a password and a
# deactivated user: the answer must not tell which emails exist.
SIGN_IN_FAILED = "Wrong email or password."


# last_seen_at is refreshed at most this often, so page views stay reads.
TOUCH_INTERVAL = timedelta(minutes=5)


DEFAULT_LIFETIME = timedelta(hours=12)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_token(key: bytes, secret: str, signed_in: bool) -> str:
    """The CSRF token of a browser: an HMAC, keyed by the server's CSRF key (which no
    client ever sees), of the sha256 of its HttpOnly cookie secret: the sign-in
    session's id hash when `signed_in`, else the signed-out browser's CSRF cookie.
    Another site can neither read the cookie nor compute the token, and knowing or
    planting a cookie (cookie tossing) is not enough to compute it either."""
    purpose = b"session:" if signed_in else b"browser:"
    message = purpose + hash_secret(secret).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_key(conn: Connection) -> bytes:
    """The server's CSRF key: made once per database (db/tables.server_keys), so every
    worker process computes the same tokens."""
    value = server_keys.get_or_create(conn, "csrf", secrets.token_hex(32), utcnow())
    return bytes.fromhex(value)


@dataclass(frozen=True)
class Candidate:
    """Who an email names, for checking a password outside any transaction (argon2 is
    slow on purpose; a write lock must not wait for it)."""

    user_id: int | None
    password_hash: str | None
    is_active: bool


def lookup(conn: Connection, email: str) -> Candidate:
    row = auth_queries.password_hash_of(conn, email.strip()) if len(email) <= 320 else None
    if row is None:
        return Candidate(None, None, False)
    return Candidate(int(row["id"]), row["password_hash"], bool(row["is_active"]))


def check_password(candidate: Candidate, password: str) -> tuple[int, str | None]:
    """(user id, a fresh hash if the stored one is outdated else None) when `password`
    is right for an active user; Unauthenticated with the same message whatever was
    wrong. Always runs argon2, so an unknown email takes as long as a wrong password."""
    ok = passwords.verify(candidate.password_hash, password)
    if not ok or candidate.user_id is None or not candidate.is_active:
        raise Unauthenticated(SIGN_IN_FAILED)
    rehash = None
    if candidate.password_hash is not None and passwords.needs_rehash(candidate.password_hash):
        rehash = passwords.hash_password(password)
    return candidate.user_id, rehash


def start(
    conn: Connection,
    user_id: int,
    lifetime: timedelta = DEFAULT_LIFETIME,
    new_hash: str | None = None,
) -> str:
    """A new session for `user_id`; returns the cookie secret (only its hash is kept).
    Stores `new_hash` (a rehashed password) and purges expired sessions on the way."""
    now = utcnow()
    if new_hash is not None:
        auth_queries.set_password_hash(conn, user_id, new_hash)
    auth_queries.purge_expired(conn, now)
    secret = secrets.token_urlsafe(32)
    auth_queries.insert(conn, hash_secret(secret), user_id, now, now + lifetime)
    return secret


def sign_in(
    conn: Connection, email: str, password: str, lifetime: timedelta = DEFAULT_LIFETIME
) -> str:
    """Lookup, check and start in one go (tools and tests; the web page splits them so
    argon2 runs outside the transaction). Returns the cookie secret."""
    user_id, new_hash = check_password(lookup(conn, email), password)
    return start(conn, user_id, lifetime, new_hash)


def session_user(conn: Connection, secret: str) -> tuple[User, bool]:
    """(user, whether last_seen_at is due for a refresh) for a live session of an
    active user; Unauthenticated otherwise (a deactivated user is signed out at once)."""
    row = auth_queries.user_for_session(conn, hash_secret(secret), utcnow())
    if row is None:
        raise Unauthenticated("Please sign in.")
    due = utcnow() - row["session_last_seen_at"] > TOUCH_INTERVAL
    return user_of(row), due


def touch(conn: Connection, secret: str) -> None:
    auth_queries.touch(conn, hash_secret(secret), utcnow())


def sign_out(conn: Connection, secret: str) -> None:
    auth_queries.delete(conn, hash_secret(secret))


def set_password(conn: Connection, email: str, password: str) -> None:
    """Set (or reset) the password of the user with `email`; their browser sessions
    end, so a reset locks out whoever knew the old one."""
    row = auth_queries.user_by_email(conn, email)
    if row is None:
        raise NotFound(f"No user with email {email!r}.")
    auth_queries.set_password_hash(conn, row["id"], passwords.hash_password(password))
    auth_queries.delete_of_user(conn, row["id"])
