"""What a list request asks for, independent of HTTP, and what a page holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from charter.db.listing import Filter, PageRequest


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    per_page: int = 100
    sort: str = "created_at"  # a column of the listed table
    descending: bool = True
    filters: tuple[Filter, ...] = ()
    expands: frozenset[str] = frozenset()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def request(self) -> PageRequest:
        """This page as the list query builder's request (db/listing.py)."""
        return PageRequest(self.filters, self.sort, self.descending, self.per_page, self.offset)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    expands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
