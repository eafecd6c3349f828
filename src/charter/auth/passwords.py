"""Passwords for the web sign-in: argon2id hashes (argon2-cffi), never logged or stored
in clear."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from charter.core.errors import Invalid

MIN_LENGTH = 8


MAX_LENGTH = 1024  # argon2 hashes any length; this only bounds the work per attempt


# Argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane) rather than
# argon2-cffi's default 64 MiB: every sign-in allocates the whole memory cost at once,
# and a serving worker's peak RSS has a 150 MB budget (bench/RESULTS.md). Hashes made
# with other parameters still verify, and are re-hashed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def check_new(password: object) -> str:
    """A password acceptable to set, or Invalid naming the `password` field."""
    if not isinstance(password, str):
        raise Invalid.field("password", "Must be a string.")
    if len(password) < MIN_LENGTH:
        raise Invalid.field("password", f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise Invalid.field("password", f"Use at most {MAX_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_new(password))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("charter: no such user")


def verify(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches `stored_hash`. Without a hash (unknown email, or a
    user who has no password) a dummy hash is checked anyway, so both cases take as
    long as a wrong password and the answer does not reveal which emails exist."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True
