"""OpenAPI response declarations shared by the handlers."""

from __future__ import annotations

from typing import Any

from litestar.openapi.datastructures import ResponseSpec

from charter.api.schemas import ErrorBody

_ERRORS = {
    400: "Malformed request.",
    401: "Missing, malformed, unknown or revoked API token.",
    403: "Not allowed (e.g. not a member of the project).",
    404: "Unknown object.",
    409: "Conflict with the object's state (e.g. a closed session).",
    412: "If-Match names an older version of the object.",
    413: "Request body too large.",
    422: "Invalid parameter; `errors` names the field.",
}


def responses(ok: Any, *codes: int) -> dict[int, ResponseSpec]:
    out = {200: ResponseSpec(data_container=ok, description="OK", generate_examples=False)}
    for code in (400, 401, *codes):
        out[code] = ResponseSpec(
            data_container=ErrorBody, description=_ERRORS[code], generate_examples=False
        )
    return out


def write_responses(ok: Any, status: int, *codes: int) -> dict[int, ResponseSpec]:
    """Responses of a write: `status` with `ok` (None for 204), then error bodies."""
    out = {status: ResponseSpec(data_container=ok, description="Done", generate_examples=False)}
    for code in (400, 401, *codes):
        out[code] = ResponseSpec(
            data_container=ErrorBody, description=_ERRORS[code], generate_examples=False
        )
    return out
