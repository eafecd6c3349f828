"""Shapes of the session sheet routes, for the OpenAPI document."""

from __future__ import annotations

import msgspec


class ImportedSession(msgspec.Struct):
    id: int
    sheet_name: str
    tester_ids: list[int]


class CreatedUser(msgspec.Struct):
    id: int
    name: str
    email: str
    is_active: bool


class SheetWarning(msgspec.Struct):
    file: str
    line: int
    problem: str


class SheetsImported(msgspec.Struct):
    sessions: list[ImportedSession]
    users_created: list[CreatedUser]
    warnings: list[SheetWarning]


class SheetsImportedBody(msgspec.Struct):
    result: SheetsImported
    expands: dict[str, list[ImportedSession]]
