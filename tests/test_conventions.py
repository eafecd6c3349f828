"""Unit tests of the shared list-parameter parsing and envelope rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from charter.core.errors import Invalid
from charter.core.listing import ListQuery, Page
from charter.http.conventions import (
    FilterSpec,
    ListSpec,
    Params,
    list_envelope,
    parse_bool,
    parse_datetime,
    parse_expands,
    parse_ids,
    parse_list,
)

SPEC = ListSpec(
    sorts={"things:created_at": "created_at", "things:closed_at": "closed_at"},
    default_sort="things:created_at",
    filters=(
        FilterSpec("owner_id", "ids", "owner_id"),
        FilterSpec("is_closed", "bool", "is_closed"),
        FilterSpec("created_after", "after", "created_at"),
        FilterSpec("tags", "tags", "tags"),
    ),
    expands=("users", "configs"),
)


def invalid_field(fn: object, *args: object) -> str:
    with pytest.raises(Invalid) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.errors is not None
    (field,) = info.value.errors
    assert info.value.errors[field] and all(isinstance(m, str) for m in info.value.errors[field])
    return field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-02-15T00:00:00.000Z", datetime(2023, 2, 15)),
        ("2023-02-15T00:00:00Z", datetime(2023, 2, 15)),
        ("2023-02-15T02:30:00+02:00", datetime(2023, 2, 15, 0, 30)),
        ("2023-02-15T10:00:00.123456", datetime(2023, 2, 15, 10, 0, 0, 123456)),
        ("2023-02-15", datetime(2023, 2, 15)),
        ("2023-02-14T23:00:00-01:00", datetime(2023, 2, 15)),
    ],
)
def test_dates_in_every_documented_form(raw: str, expected: datetime) -> None:
    assert parse_datetime("created_after", raw) == expected


@pytest.mark.parametrize(
    "raw", ["garbage", "2023-13-01", "2023-02-30T00:00:00Z", "12", "", "9999-12-31T23:59:59-05:00"]
)
def test_bad_dates_name_the_field(raw: str) -> None:
    assert invalid_field(parse_datetime, "closed_before", raw) == "closed_before"


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("0", False), ("TRUE", True), ("False", False)]
)
def test_booleans(raw: str, expected: bool) -> None:
    assert parse_bool("is_closed", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "yes", "2", "-1"])
def test_bad_booleans(raw: str) -> None:
    assert invalid_field(parse_bool, "is_closed", raw) == "is_closed"


def test_id_lists() -> None:
    assert parse_ids("state_id", "1,2, 3") == [1, 2, 3]
    assert parse_ids("state_id", "7,") == [7]
    for raw in ("1,x", "-1", "1.5", "99999999999999999999", "\u0661"):
        assert invalid_field(parse_ids, "state_id", raw) == "state_id"
    assert invalid_field(parse_ids, "state_id", ",".join(["1"] * 1001)) == "state_id"


def test_expands() -> None:
    assert parse_expands(None, SPEC.expands) == frozenset()
    assert parse_expands("users, configs", SPEC.expands) == {"users", "configs"}
    assert invalid_field(parse_expands, "users,bogus", SPEC.expands) == "expands"


def test_defaults() -> None:
    q = parse_list(Params({}), SPEC)
    assert (q.page, q.per_page, q.sort, q.descending, q.filters, q.expands) == (
        1,
        100,
        "created_at",
        True,
        (),
        frozenset(),
    )


def test_empty_values_are_absent() -> None:
    q = parse_list(
        Params({"page": "", "per_page": "", "owner_id": "", "sort": "", "order": ""}), SPEC
    )
    assert q == parse_list(Params({}), SPEC)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "20"}, "per_page"),
        ({"per_page": "abc"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "99999999999"}, "page"),
        ({"sort": "things:name"}, "sort"),
        ({"order": "up"}, "order"),
        ({"is_closed": "maybe"}, "is_closed"),
        ({"created_after": "garbage"}, "created_after"),
        ({"owner_id": "1,x"}, "owner_id"),
        ({"expands": "bogus"}, "expands"),
        ({"tags": " , "}, "tags"),
    ],
)
def test_bad_list_parameters(params: dict[str, str], field: str) -> None:
    assert invalid_field(parse_list, Params(params), SPEC) == field


def test_filters_are_typed() -> None:
    q = parse_list(
        Params(
            {
                "owner_id": "3,4",
                "is_closed": "true",
                "created_after": "2024-01-01",
                "tags": "a, b,a",
            }
        ),
        SPEC,
    )
    by_column = {f.column: (f.op, f.value) for f in q.filters}
    assert by_column == {
        "owner_id": ("in", (3, 4)),
        "is_closed": ("eq", True),
        "created_at": ("gt", datetime(2024, 1, 1)),
        "tags": ("tags", ("a", "b")),
    }


@pytest.mark.parametrize(
    ("total", "page", "per_page", "expected"),
    [
        (0, 1, 100, (None, None, None, None)),
        (0, 3, 15, (None, None, None, None)),
        (150, 1, 100, (1, None, 2, 2)),
        (150, 2, 100, (2, 1, None, 2)),
        (150, 5, 100, (5, 2, None, 2)),  # past the end: prev = last page
        (45, 2, 15, (2, 1, 3, 3)),
        (45, 3, 15, (3, 2, None, 3)),
        (1, 1, 15, (1, None, None, 1)),
    ],
)
def test_envelope(total: int, page: int, per_page: int, expected: tuple[object, ...]) -> None:
    body = list_envelope(Page([], total), ListQuery(page=page, per_page=per_page))
    assert (body["page"], body["prev_page"], body["next_page"], body["last_page"]) == expected
    assert body["per_page"] == per_page
    assert body["total"] == total
    assert body["expands"] == {}
