"""Typed errors the domain raises; api/ maps each to a status code in one place."""

from __future__ import annotations

from charter.db.conflicts import WriteRace


class DomainError(Exception):
    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthenticated(DomainError):
    """No, malformed, unknown or revoked credentials."""


class Forbidden(DomainError):
    """The object exists but the user may not see or change it."""


class NotFound(DomainError):
    """The object does not exist (or is deleted)."""


class Invalid(DomainError):
    """A parameter or body value is invalid; `errors` names the fields."""

    @classmethod
    def field(cls, name: str, problem: str) -> Invalid:
        return cls(f"The {name} field is invalid.", {name: [problem]})

    def within(self, prefix: str) -> Invalid:
        """The same error for an item of a list, e.g. results.3.status_id."""
        errors = {f"{prefix}.{k}": v for k, v in (self.errors or {}).items()}
        return Invalid(f"{prefix}: {self.message}", errors)


class Conflict(DomainError):
    """The change is impossible in the object's current state (e.g. a closed session)."""


class TooLarge(DomainError):
    """What was sent is larger than a configured limit (an attachment, an upload)."""


def conflict_of(exc: WriteRace) -> Conflict:
    """The Conflict a write race is (db/conflicts.py): 409 naming the field. The
    API, the web pages and the CLI answer both alike."""
    return Conflict(exc.message, exc.errors)
