"""A web form submitted twice writes once: each rendered form carries a random key
(a hidden field), and the first successful write stores what it wrote under that key
in the same store (and transaction) as the API's Idempotency-Key. A repeat of the
same form with the same content finds it and writes nothing."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.engine import Connection

from charter.core.clock import utcnow
from charter.db import idempotency
from charter.http.writes import IDEMPOTENCY_TTL

FIELD = "form_key"
MAX_KEY = 64  # a key from new_key() is 22 characters; anything longer is ignored
_PREFIX = "web-form:"  # never collides with an API client's Idempotency-Key in practice


def new_key() -> str:
    """A fresh key for one rendering of a form."""
    return secrets.token_urlsafe(16)


def _stored_key(key: str, what: str, content: str) -> tuple[str, str]:
    """(the stored key, the request hash): the content is part of the key, so the
    same form sent again with other text (typed after a lost answer) is a new write."""
    digest = hashlib.sha256(f"{what}\n{content}".encode()).hexdigest()
    return f"{_PREFIX}{key}:{digest[:32]}", digest


def usable(key: str | None) -> str | None:
    key = (key or "").strip()
    return key if 0 < len(key) <= MAX_KEY else None


def replay(conn: Connection, user_id: int, key: str, what: str, content: str) -> bytes | None:
    """What the first submission of this form stored, or None for a first submission
    (or one older than the API's keys live)."""
    stored_key, digest = _stored_key(key, what, content)
    found = idempotency.find(conn, user_id, stored_key, utcnow() - IDEMPOTENCY_TTL)
    return None if found is None or found[0] != digest else found[2]


def remember(
    conn: Connection, user_id: int, key: str, what: str, content: str, body: bytes
) -> None:
    """Store `body` (e.g. the new object's id) for this submission, in the write's
    transaction; the API's purge of day-old keys removes it later."""
    stored_key, digest = _stored_key(key, what, content)
    idempotency.store(conn, user_id, stored_key, digest, 200, body, utcnow())
