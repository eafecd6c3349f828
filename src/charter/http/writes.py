"""What every write endpoint shares: the JSON body, its allowed fields, If-Match,
Idempotency-Key, and running the work in one write transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response

from charter.auth import service as auth
from charter.auth.service import User
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Invalid, Unauthenticated
from charter.db import idempotency
from charter.db.conflicts import WriteRace
from charter.http.conventions import encode
from charter.http.deps import database
from charter.http.errors import RequestError
from charter.http.etag import etag_for, matches, matches_stable
from charter.http.throttle import client_address, limits_of

IDEMPOTENCY_TTL = timedelta(hours=24)


MAX_IDEMPOTENCY_KEY = 255
WITHHELD_REPLAY = (
    "This Idempotency-Key was used already, and its response held a secret that is shown "
    "only once, so it is not stored: list your API tokens (GET /api/v1/tokens) to find "
    "the one it made, or revoke it and create another with a new key."
)


# What a write's work returns: (status code, JSON body or None for 204).
Outcome = tuple[int, Any]


Work = Callable[[Any, User], Outcome]


def parse_json(request: Request[Any, Any, Any], raw: bytes, required: bool = True) -> Any:
    """The decoded JSON body; 400 for a wrong content type, malformed JSON or one nested
    deeper than inputs.MAX_JSON_DEPTH, 422 naming the field for text holding NUL (every
    write body passes here).
    Call it after authentication, so a bad token is 401 whatever the body."""
    if not raw.strip():
        if required:
            raise RequestError(400, "A JSON body is required.")
        return {}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise RequestError(400, "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        body = msgspec.json.decode(raw)
        too_deep = inputs.json_depth_exceeds(body)
    except msgspec.DecodeError as exc:
        raise RequestError(400, f"Malformed JSON body: {exc}.") from None
    except RecursionError:  # nested deeper than the decoder goes
        too_deep = True
    if too_deep:
        raise RequestError(
            400, f"The JSON body is nested too deeply (at most {inputs.MAX_JSON_DEPTH} levels)."
        )
    inputs.reject_nul(body, raw=raw)
    return body


def fields(body: Any, allowed: Collection[str], custom: bool = False) -> dict[str, Any]:
    """The body as a dict of known fields; an unknown field is 422 naming it.
    With `custom`, `custom_<name>` keys pass through for the template to check."""
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.", {"body": ["Must be a JSON object."]})
    for key in body:
        if key not in allowed and not (custom and key.startswith("custom_")):
            raise Invalid(f"Unknown field {key!r}.", {key: ["Unknown field."]})
    return body


def split_custom(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain fields, custom_* fields)."""
    plain = {k: v for k, v in values.items() if not k.startswith("custom_")}
    custom = {k: v for k, v in values.items() if k.startswith("custom_")}
    return plain, custom


def check_if_match(request: Request[Any, Any, Any], current: Any, live: bool = False) -> None:
    """412 when an If-Match header names another version than `current` (the body
    GET returns for the object without expands). With `live` (a session, whose
    elapsed grows while it runs), time passing is not a change."""
    header = request.headers.get("if-match")
    if header is None:
        return
    etag = etag_for(encode(current))
    if not (matches_stable(header, etag) if live else matches(header, etag)):
        raise RequestError(412, "The object changed since you read it (If-Match failed).")


def _request_hash(request: Request[Any, Any, Any], raw: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(raw)
    return digest.hexdigest()


async def write_as_user(
    request: Request[Any, Any, Any], work: Work, raw: bytes | None = None
) -> Response[Any]:
    """Authenticate, then run `work` in ONE write transaction (all or nothing).

    A POST with an Idempotency-Key stores its response in the same transaction, and a
    retry with the same key and request (within IDEMPOTENCY_TTL) returns that response
    without writing again; a response holding a token secret is never stored, and its
    retry gets 409 (db/idempotency.py). `raw`: what identifies the request for the
    Idempotency-Key when the route consumed its body already (a streamed upload).
    An address that failed to authenticate too often gets 429 before any DB work.
    """
    limits, address = limits_of(request), client_address(request)
    limits.check_address(address)
    header = request.headers.get("authorization")
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise Invalid.field("Idempotency-Key", f"Must be 1 to {MAX_IDEMPOTENCY_KEY} characters.")
    # Read the body even where the route ignores it: an oversized one is 413 on every write.
    if raw is None:
        raw = await request.body()
    request_hash = _request_hash(request, raw) if key else ""
    db = database(request)

    def attempt() -> tuple[int, bytes | None, int, bool]:
        secret = auth.parse_authorization(header)
        with db.write() as conn:
            limits.count_token(conn, secret)
            user, token_id, touch_due = auth.authenticate(conn, secret)
            if key:
                stored = idempotency.find(conn, user.id, key, utcnow() - IDEMPOTENCY_TTL)
                if stored is not None:
                    if stored[0] != request_hash:
                        raise Invalid.field(
                            "Idempotency-Key", "This key was used for a different request."
                        )
                    if stored[1] != 204 and stored[2] == idempotency.WITHHELD:
                        raise RequestError(409, WITHHELD_REPLAY)
                    return stored[1], stored[2], token_id, touch_due
            status, body = work(conn, user)
            encoded = None if body is None else encode(body)
            if key:
                now = utcnow()
                idempotency.purge_older_than(conn, now - IDEMPOTENCY_TTL)
                idempotency.store(conn, user.id, key, request_hash, status, encoded or b"", now)
        return status, encoded, token_id, touch_due

    def job() -> tuple[int, bytes | None]:
        try:
            status, encoded, token_id, touch_due = attempt()
        except WriteRace:
            # A concurrent transaction committed the same key first (a tag, a member,
            # an email, this Idempotency-Key) or deleted what the write refers to (a
            # milestone, a config): once more, the work sees that and answers as the
            # domain does for it (the existing row, its 409, its 422 for an unknown
            # id). A second violation is a 409 naming the field, never a 500.
            status, encoded, token_id, touch_due = attempt()
        if touch_due:
            with db.write() as conn:
                auth.touch_token(conn, token_id)
        return status, encoded

    try:
        status, encoded = await db.run(job)
    except Unauthenticated:
        await limits.failed(db, address)
        raise
    if encoded is None or status == 204:
        return Response(content=None, status_code=204)
    return Response(content=encoded, status_code=status, media_type="application/json")
