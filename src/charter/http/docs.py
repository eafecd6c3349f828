"""OpenAPI declarations shared by the handlers: error responses and request bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Schema

from charter.core.inputs import MAX_ID
from charter.http.conventions import operation_with
from charter.http.schemas import ErrorBody

_ERRORS = {
    400: "Malformed request.",
    401: "Missing, malformed, unknown or revoked API token.",
    403: "Not allowed (e.g. not a member of the project).",
    404: "Unknown object.",
    409: "Conflict with the object's state (e.g. a closed session).",
    412: "If-Match names an older version of the object.",
    413: "Request body too large.",
    416: "The Range lies outside the file.",
    422: "Invalid parameter; `errors` names the field.",
    429: "Too many failed authentications from this address, or too many requests with "
    "this token; `Retry-After` gives the seconds to wait.",
    408: "The request body did not arrive in time.",
    503: "The database is unreachable for now; `Retry-After` gives the seconds to wait.",
}


def responses(ok: Any, *codes: int) -> dict[int, ResponseSpec]:
    out = {200: ResponseSpec(data_container=ok, description="OK", generate_examples=False)}
    # Every route authenticates (so may throttle) and reads the database (which may be
    # unreachable for a moment).
    for code in (400, 401, *codes, 429, 503):
        out[code] = ResponseSpec(
            data_container=ErrorBody, description=_ERRORS[code], generate_examples=False
        )
    return out


def write_responses(
    ok: Any, status: int, *codes: int, also: Sequence[int] = ()
) -> dict[int, ResponseSpec]:
    """Responses of a write: `status` (and the `also` statuses) with `ok` (None for
    204), then error bodies."""
    out = {
        code: ResponseSpec(data_container=ok, description="Done", generate_examples=False)
        for code in (status, *also)
    }
    # Every write also reads a body (which may be too large or too slow) and may lose a
    # race a constraint settles (db/conflicts.py): 409 naming the field.
    for code in sorted({400, 401, *codes, 408, 409, 413, 429, 503}):
        out[code] = ResponseSpec(
            data_container=ErrorBody, description=_ERRORS[code], generate_examples=False
        )
    return out


_INT, _STR, _BOOL, _NULL = (
    OpenAPIType.INTEGER,
    OpenAPIType.STRING,
    OpenAPIType.BOOLEAN,
    OpenAPIType.NULL,
)


ID = Schema(type=_INT, minimum=1, maximum=MAX_ID)


NULLABLE_ID = Schema(type=[_INT, _NULL], minimum=1, maximum=MAX_ID)


MICROSECONDS = Schema(type=[_INT, _NULL], minimum=0, description="Microseconds.")


_FIELD_TYPES: dict[str, Schema] = {
    "tags": Schema(type=OpenAPIType.ARRAY, items=Schema(type=_STR)),
    "aliases": Schema(type=OpenAPIType.ARRAY, items=Schema(type=_STR)),
    "issues": Schema(type=OpenAPIType.ARRAY, items=ID),
    "estimate": MICROSECONDS,
    "elapsed": MICROSECONDS,
    "display_order": Schema(type=_INT, minimum=0, maximum=2**31 - 1),
    "start_date": Schema(type=[_STR, _NULL], format=OpenAPIFormat.DATE),
    "due_date": Schema(type=[_STR, _NULL], format=OpenAPIFormat.DATE),
    "note": Schema(type=[_STR, _NULL]),
    "charter": Schema(type=[_STR, _NULL]),
    "color": Schema(type=[_STR, _NULL], pattern="^#[0-9a-fA-F]{6}$"),
    "email": Schema(type=_STR, format=OpenAPIFormat.EMAIL),
    "status_id": NULLABLE_ID,
}


def _field_type(name: str) -> Schema:
    if name in _FIELD_TYPES:
        return _FIELD_TYPES[name]
    if name.startswith("is_"):
        return Schema(type=_BOOL)
    if name.endswith("_id"):
        return NULLABLE_ID
    return Schema(type=_STR)


def body(
    names: Sequence[str],
    required: Sequence[str] = (),
    custom: bool = False,
    types: Mapping[str, Schema] | None = None,
) -> Schema:
    """The JSON object a write takes: `names` typed by the rules above (`types` for a
    name that means something else on this route), `custom_<field>` keys with `custom`."""
    return Schema(
        type=OpenAPIType.OBJECT,
        properties={n: (types or {}).get(n) or _field_type(n) for n in names},
        required=list(required) or None,
        additional_properties=False,
        pattern_properties={"^custom_[a-z][a-z0-9_]*$": Schema()} if custom else None,
    )


def with_body(schema: Schema) -> type[Operation]:
    """The operation class of a write that takes `schema` as its JSON body."""
    return operation_with([], schema)
