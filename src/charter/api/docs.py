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
    422: "Invalid parameter; `errors` names the field.",
}


def responses(ok: Any, *codes: int) -> dict[int, ResponseSpec]:
    out = {200: ResponseSpec(data_container=ok, description="OK", generate_examples=False)}
    for code in (400, 401, *codes):
        out[code] = ResponseSpec(
            data_container=ErrorBody, description=_ERRORS[code], generate_examples=False
        )
    return out
