"""What every endpoint shares: list-parameter parsing, pagination envelope, expands,
the OpenAPI description of list parameters, and JSON responses.

A namespace declares a `ListSpec` (its sorts, filters and expands); everything else
is here, so all lists behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import msgspec
from litestar import Response
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)

from charter.core.errors import Invalid
from charter.core.inputs import MAX_ID, day_in_range, parse_id, reject_nul
from charter.core.listing import ListQuery, Page
from charter.db.listing import Filter

PER_PAGE_CHOICES = (15, 25, 50, 100)


DEFAULT_PER_PAGE = 100


MAX_PAGE = 2**31 - 1


MAX_LIST_ITEMS = 1000


FilterKind = Literal["ids", "tags", "bool", "after", "before", "contains", "search", "set"]


MAX_SEARCH_CHARS = 200


@dataclass(frozen=True)
class FilterSpec:
    """A query parameter that filters a list: `param` on `column`."""

    param: str
    kind: FilterKind
    column: str
    description: str = ""


@dataclass(frozen=True)
class ListSpec:
    """The table a namespace fills in: its sorts, filters and expands."""

    sorts: Mapping[str, str]  # sort parameter value -> column
    default_sort: str
    filters: Sequence[FilterSpec] = ()
    expands: Sequence[str] = ()
    noun: str = "objects"
    per_page_choices: Sequence[int] = PER_PAGE_CHOICES  # the default, 100, is one of them


@dataclass(frozen=True)
class Params:
    """Query parameters of a request as plain strings (first value of each key)."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        reject_nul(value, name)  # %00 is 422 like a NUL in a body
        return None if value is None or value == "" else value  # empty = absent


def _int(name: str, raw: str, low: int, high: int) -> int:
    text = raw.strip()
    if not text.isascii() or not text.lstrip("+").isdigit() or len(text) > 20:
        raise Invalid.field(name, f"Must be an integer from {low} to {high}.")
    value = int(text)
    if not low <= value <= high:
        raise Invalid.field(name, f"Must be an integer from {low} to {high}.")
    return value


def parse_ids(name: str, raw: str) -> list[int]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > MAX_LIST_ITEMS:
        raise Invalid.field(name, f"At most {MAX_LIST_ITEMS} ids.")
    ids = []
    for part in parts:
        value = 0 if part == "0" else parse_id(part)  # 0 names nothing, as always
        if value is None:
            raise Invalid.field(name, f"Must be a comma-separated list of integer ids ({part!r}).")
        ids.append(value)
    if not ids:
        raise Invalid.field(name, "Must be a comma-separated list of integer ids.")
    return ids


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise Invalid.field(name, "Must be a boolean: 1, 0, true or false.")


def parse_datetime(name: str, raw: str) -> datetime:
    """ISO 8601 with or without fraction, Z or offset, or a bare date (midnight UTC);
    returned as naive UTC."""
    text = raw.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            if not day_in_range(d):
                raise ValueError(text)
            return datetime(d.year, d.month, d.day)
        if "T" not in text and " " not in text:
            raise ValueError(text)
        value = datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if not day_in_range(value.date()):
            raise ValueError(text)
        return value
    except (ValueError, OverflowError):
        raise Invalid.field(
            name, "Must be an ISO 8601 date-time, e.g. 2024-01-31T12:00:00Z, or a date."
        ) from None


def parse_expands(raw: str | None, allowed: Sequence[str]) -> frozenset[str]:
    if raw is None:
        return frozenset()
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise Invalid.field(
            "expands", f"Unknown expand {unknown[0]!r}; allowed: {', '.join(allowed)}."
        )
    return frozenset(names)


def _filter(spec: FilterSpec, raw: str) -> Filter:
    if spec.kind == "ids":
        return Filter("in", spec.column, tuple(parse_ids(spec.param, raw)))
    if spec.kind == "tags":
        names = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
        if not names:
            raise Invalid.field(spec.param, "Must be a comma-separated list of tag names.")
        return Filter("tags", spec.column, names)
    if spec.kind == "bool":
        return Filter("eq", spec.column, parse_bool(spec.param, raw))
    if spec.kind == "contains":
        return Filter("contains", spec.column, raw)
    if spec.kind == "search":  # `column` names the searched columns, comma-separated
        text = " ".join(raw.split())
        if len(text) > MAX_SEARCH_CHARS:
            raise Invalid.field(spec.param, f"At most {MAX_SEARCH_CHARS} characters.")
        return Filter("search", spec.column, text)
    if spec.kind == "set":
        return Filter("set", spec.column, parse_bool(spec.param, raw))
    op: Literal["gt", "lt"] = "gt" if spec.kind == "after" else "lt"
    return Filter(op, spec.column, parse_datetime(spec.param, raw))


def parse_list(params: Params, spec: ListSpec) -> ListQuery:
    """Validate every list parameter; the first bad one raises Invalid naming it."""
    raw_page, raw_per_page = params.get("page"), params.get("per_page")
    page = 1 if raw_page is None else _int("page", raw_page, 1, MAX_PAGE)
    per_page = DEFAULT_PER_PAGE
    if raw_per_page is not None:
        choices = spec.per_page_choices
        if raw_per_page.strip() not in {str(c) for c in choices}:
            raise Invalid.field("per_page", f"Must be one of {', '.join(map(str, choices))}.")
        per_page = int(raw_per_page)
    sort = params.get("sort") or spec.default_sort
    if sort not in spec.sorts:
        raise Invalid.field("sort", f"Must be one of: {', '.join(spec.sorts)}.")
    order = (params.get("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise Invalid.field("order", "Must be asc or desc.")
    filters = tuple(
        _filter(f, raw) for f in spec.filters if (raw := params.get(f.param)) is not None
    )
    return ListQuery(
        page=page,
        per_page=per_page,
        sort=spec.sorts[sort],
        descending=order == "desc",
        filters=filters,
        expands=parse_expands(params.get("expands"), spec.expands),
    )


def list_envelope(page: Page, query: ListQuery) -> dict[str, Any]:
    """The pagination envelope. Empty: page/last_page null. Past the end: the
    requested page, prev_page = last_page, empty result."""
    if page.total == 0:
        current = last = prev = nxt = None
    else:
        last = -(-page.total // query.per_page)
        current = query.page
        prev = None if current == 1 else min(current - 1, last)
        nxt = current + 1 if current < last else None
    return {
        "page": current,
        "prev_page": prev,
        "next_page": nxt,
        "last_page": last,
        "per_page": query.per_page,
        "total": page.total,
        "result": page.rows,
        "expands": page.expands,
    }


def single_envelope(page: Page) -> dict[str, Any]:
    return {"result": page.rows[0], "expands": page.expands}


_encoder = msgspec.json.Encoder()


def encode(body: Any) -> bytes:
    return _encoder.encode(body)


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=encode(body),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


_STRING = Schema(type=OpenAPIType.STRING)


def _param(name: str, description: str, schema: Schema = _STRING) -> Parameter:
    return Parameter(
        name=name, param_in="query", schema=schema, description=description, required=False
    )


def list_parameters(spec: ListSpec) -> list[Parameter]:
    params = [
        _param(
            "page",
            "Page number, 1 or more (default 1).",
            Schema(type=OpenAPIType.INTEGER, minimum=1),
        ),
        _param(
            "per_page",
            "Items per page (default 100).",
            Schema(type=OpenAPIType.INTEGER, enum=list(spec.per_page_choices)),
        ),
        _param(
            "sort",
            f"Sort field (default {spec.default_sort}).",
            Schema(type=OpenAPIType.STRING, enum=list(spec.sorts)),
        ),
        _param(
            "order",
            "Sort order (default desc).",
            Schema(type=OpenAPIType.STRING, enum=["asc", "desc"]),
        ),
    ]
    params += expand_parameters(spec.expands)
    kinds = {
        "ids": ("Comma-separated list of ids (any of).", _STRING),
        "tags": ("Comma-separated list of tag names (any of).", _STRING),
        "bool": ("Boolean: 1, 0, true or false.", _STRING),
        "contains": ("Text found in it (case-insensitive).", _STRING),
        "search": ("Text found in any of its texts (case-insensitive).", _STRING),
        "set": ("Boolean: 1, 0, true or false.", _STRING),
        "after": (
            "Strictly after this ISO 8601 date-time (UTC).",
            Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
        ),
        "before": (
            "Strictly before this ISO 8601 date-time (UTC).",
            Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
        ),
    }
    for f in spec.filters:
        text, schema = kinds[f.kind]
        params.append(_param(f.param, f.description or text, schema))
    return params


def expand_parameters(expands: Sequence[str]) -> list[Parameter]:
    if not expands:
        return []
    return [_param("expands", f"Comma-separated related objects to include: {', '.join(expands)}.")]


_PATH_ID = Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_ID)


def operation_with(
    params: list[Parameter], body: Schema | None = None, media_type: str = "application/json"
) -> type[Operation]:
    """An Operation class whose OpenAPI entry also lists `params` and the JSON `body`:
    handlers read the query string and body themselves (to answer with our own error
    bodies), so Litestar cannot see them in their signatures. Path ids are declared as
    the integers they are (the route takes any text, and a non-id is 404)."""

    class _Operation(Operation):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for param in self.parameters or []:
                if isinstance(param, Parameter) and param.param_in == "path":
                    param.schema = _PATH_ID if param.name.endswith("_id") else param.schema
            self.parameters = [*(self.parameters or []), *params]
            if body is not None:
                self.request_body = RequestBody(
                    content={media_type: OpenAPIMediaType(schema=body)}, required=True
                )

    return _Operation
