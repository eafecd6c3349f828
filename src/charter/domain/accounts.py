"""Administration of accounts: users (site admins only), each user's own API tokens,
and the operator's project and membership commands.

Values arrive as decoded JSON, so every field is type-checked here before use: a
wrong type is `Invalid` naming the field, never a crash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.db import locks
from charter.db.queries import listing as lq
from charter.db.queries import projects as pq
from charter.db.queries import users as uq
from charter.db.tables import api_tokens
from charter.domain import setup, user_views
from charter.domain.auth import User
from charter.domain.clock import iso, utcnow
from charter.domain.errors import Conflict, Invalid, NotFound
from charter.domain.listing import ListQuery, Page
from charter.domain.permissions import require_admin
from charter.domain.setup import _EMAIL as EMAIL_PATTERN  # the one definition

USER_CREATE_FIELDS = ("name", "email", "is_admin", "role_id")
USER_UPDATE_FIELDS = ("name", "email", "is_admin", "is_active", "role_id")
TOKEN_CREATE_FIELDS = ("name",)
MAX_NAME = 200
MAX_EMAIL = 320
MAX_INT = 2**31 - 1  # ids are 32-bit integer columns


# --- shapes ---------------------------------------------------------------------------


def user_result(conn: Connection, actor: User, user_id: int) -> Page:
    """The user as the write endpoints answer: the Testmo shape GET /users/{id} returns
    (domain/user_views.py), plus `is_admin`."""
    row = uq.user_by_id(conn, user_id)
    if row is None:
        raise NotFound(f"User {user_id} not found.")
    page = user_views.get_user(conn, actor, user_id, frozenset())
    return Page([{**page.rows[0], "is_admin": bool(row["is_admin"])}], 1, {})


def user_representation(conn: Connection, actor: User, user_id: int) -> dict[str, Any]:
    """The body of the user's plain GET, which If-Match on PATCH compares with."""
    page = user_views.get_user(conn, actor, user_id, frozenset())
    return {"result": page.rows[0], "expands": page.expands}


def token_dict(row: RowMapping) -> dict[str, Any]:
    """A token's public face: never its secret nor its hash."""
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": iso(row["created_at"]),
        "last_used_at": iso(row["last_used_at"]),
        "revoked_at": iso(row["revoked_at"]),
    }


# --- field checks ---------------------------------------------------------------------


def _text(name: str, value: Any, max_len: int) -> str:
    if not isinstance(value, str):
        raise Invalid.field(name, "Must be a string.")
    text = value.strip()
    if not text:
        raise Invalid.field(name, f"The {name} must not be empty.")
    if len(text) > max_len:
        raise Invalid.field(name, f"The {name} must be at most {max_len} characters.")
    return text


def _email(value: Any) -> str:
    email = _text("email", value, MAX_EMAIL)
    if not EMAIL_PATTERN.match(email):
        raise Invalid.field("email", "Not a valid email address.")
    return email


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid.field(name, "Must be true or false.")
    return value


def _role_id(conn: Connection, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field("role_id", "Must be a role id (an integer) or null.")
    if not 0 < value <= MAX_INT or not uq.role_exists(conn, value):
        raise Invalid.field("role_id", f"No role with id {value}.")
    return value


def _email_free(conn: Connection, email: str, user_id: int | None = None) -> None:
    other = uq.user_by_email(conn, email)
    if other is not None and other["id"] != user_id:
        raise Conflict(f"A user with email {email} exists already.", {"email": ["Already taken."]})


def _keep_an_admin(conn: Connection, user_id: int) -> None:
    """Refuse (409) to demote or deactivate the last other active site admin. Changes
    of admin rights run one after the other (a lock taken before counting), so two
    admins demoting each other at once leave one of them."""
    locks.serialize(conn, "site-admins")
    if not uq.other_active_admins(conn, user_id):
        raise Conflict(
            "This would leave no active site admin.",
            {"is_admin": ["The last active site admin stays."]},
        )


# --- users (site admins) --------------------------------------------------------------


def create_user(conn: Connection, actor: User, values: dict[str, Any]) -> int:
    """Create a user from a body of USER_CREATE_FIELDS (name and email required)."""
    require_admin(actor)
    for required in ("name", "email"):
        if required not in values:
            raise Invalid.field(required, f"The {required} is required.")
    name = _text("name", values["name"], MAX_NAME)
    email = _email(values["email"])
    is_admin = _bool("is_admin", values.get("is_admin", False))
    role_id = _role_id(conn, values.get("role_id"))
    # setup.create_user refuses a taken email (409).
    user_id = setup.create_user(conn, name, email, is_admin=is_admin, created_by=actor.id)
    if role_id is not None:
        uq.update_user(conn, user_id, role_id=role_id)
    return user_id


def update_user(conn: Connection, actor: User, user_id: int, values: dict[str, Any]) -> None:
    """Change any of USER_UPDATE_FIELDS. Deactivating a user stops all their tokens at
    once (authentication requires an active user). Admins cannot deactivate or demote
    themselves, so there is always an active admin left."""
    require_admin(actor)
    if uq.user_by_id(conn, user_id) is None:
        raise NotFound(f"User {user_id} not found.")
    changes: dict[str, Any] = {}
    if "name" in values:
        changes["name"] = _text("name", values["name"], MAX_NAME)
    if "email" in values:
        changes["email"] = _email(values["email"])
    if "is_admin" in values:
        changes["is_admin"] = _bool("is_admin", values["is_admin"])
    if "is_active" in values:
        changes["is_active"] = _bool("is_active", values["is_active"])
    if "role_id" in values:
        changes["role_id"] = _role_id(conn, values["role_id"])
    if user_id == actor.id and changes.get("is_active") is False:
        raise Conflict("You cannot deactivate yourself.", {"is_active": ["Not for yourself."]})
    if user_id == actor.id and changes.get("is_admin") is False:
        raise Conflict(
            "You cannot remove your own admin rights.", {"is_admin": ["Not for yourself."]}
        )
    if changes.get("is_admin") is False or changes.get("is_active") is False:
        _keep_an_admin(conn, user_id)
    if "email" in changes:
        _email_free(conn, changes["email"], user_id)
    if changes:
        uq.update_user(conn, user_id, **changes, updated_at=utcnow(), updated_by=actor.id)


def all_users(conn: Connection) -> list[RowMapping]:
    return uq.all_users(conn)


def set_active(conn: Connection, email: str, active: bool) -> bool:
    """(De)activate the user with `email` (the operator's command); False when the user
    was in that state already."""
    row = uq.user_by_email(conn, email)
    if row is None:
        raise NotFound(f"No user with email {email!r}.")
    if bool(row["is_active"]) == active:
        return False
    uq.update_user(conn, row["id"], is_active=active, updated_at=utcnow())
    return True


# --- API tokens (each user their own) -------------------------------------------------


def list_tokens(conn: Connection, user: User, query: ListQuery) -> Page:
    base = uq.tokens_condition(user.id)
    req = lq.PageRequest(query.filters, query.sort, query.descending, query.per_page, query.offset)
    ids = lq.page_ids(conn, api_tokens, base, req)
    total = lq.count(conn, api_tokens, base, query.filters)
    by_id = {r["id"]: r for r in uq.tokens_by_ids(conn, ids)}
    return Page([token_dict(by_id[i]) for i in ids], total)


def new_token(conn: Connection, token_id: int, secret: str) -> Page:
    """The created token, with its secret (the only time it is shown)."""
    row = uq.token_by_id(conn, token_id)
    assert row is not None
    return Page([{**token_dict(row), "token": secret}], 1)


def tokens_of(conn: Connection, email: str) -> list[dict[str, Any]]:
    """All tokens of the user with `email`, revoked ones included (the operator's view)."""
    row = uq.user_by_email(conn, email)
    if row is None:
        raise NotFound(f"No user with email {email!r}.")
    return [token_dict(t) for t in uq.tokens_of_user(conn, row["id"])]


# --- projects and members (the operator's commands) -----------------------------------


def create_project(conn: Connection, name: str, manager_email: str | None = None) -> int:
    """Create a project; with `manager_email`, that user manages it (and is its creator)."""
    manager = None
    if manager_email is not None:
        manager = uq.user_by_email(conn, manager_email)
        if manager is None:
            raise NotFound(f"No user with email {manager_email!r}.")
    project_id = setup.create_project(conn, name, created_by=manager["id"] if manager else None)
    if manager is not None:
        setup.add_member(conn, project_id, manager["email"], "manager")
    return project_id


def all_projects(conn: Connection) -> list[RowMapping]:
    rows = pq.projects_by_ids(conn, pq.all_project_ids(conn))
    return sorted(rows, key=lambda r: int(r["id"]))


def remove_member(conn: Connection, project_id: int, email: str) -> None:
    if pq.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    user = uq.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    if not uq.delete_member(conn, project_id, user["id"]):
        raise NotFound(f"{email} is not a member of project {project_id}.")
