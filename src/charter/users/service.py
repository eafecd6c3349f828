"""Administration of accounts: users (site admins only), each user's own API tokens,
and the operator's project and membership commands.

Values arrive as decoded JSON, so every field is type-checked here before use: a
wrong type is `Invalid` naming the field, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from charter.auth import logins, passwords, permissions
from charter.auth import service as auth
from charter.auth.permissions import require_admin
from charter.auth.service import User
from charter.core import inputs
from charter.core.clock import iso, utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.core.listing import ListQuery, Page
from charter.db import listing as db_listing
from charter.db import locks
from charter.db import rows as db_rows
from charter.db.tables import (
    api_tokens,
    roles,
    users,
)
from charter.projects import read as project_read
from charter.projects import service as project_service
from charter.users import queries as user_queries
from charter.users import read as user_read

USER_CREATE_FIELDS = ("name", "email", "is_admin", "role_id")


USER_UPDATE_FIELDS = ("name", "email", "is_admin", "is_active", "role_id")


TOKEN_CREATE_FIELDS = ("name",)


MAX_NAME = 200


def user_result(conn: Connection, actor: User, user_id: int) -> Page:
    """The user as the write endpoints answer: the Testmo shape GET /users/{id} returns
    (users/read.py), plus `is_admin`."""
    row = auth.user_by_id(conn, user_id)
    if row is None:
        raise NotFound(f"User {user_id} not found.")
    page = user_read.get_user(conn, actor, user_id, frozenset())
    return Page([{**page.rows[0], "is_admin": bool(row["is_admin"])}], 1, {})


def user_representation(conn: Connection, actor: User, user_id: int) -> dict[str, Any]:
    """The body of the user's plain GET, which If-Match on PATCH compares with."""
    page = user_read.get_user(conn, actor, user_id, frozenset())
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


def _role_id(conn: Connection, value: Any) -> int | None:
    """A role id; null means the default role (every user has a role)."""
    if value is None:
        return db_rows.default_id(conn, roles)
    role_id = inputs.optional_id("role_id", value)
    if role_id is None or not user_queries.role_exists(conn, role_id):
        raise Invalid.field("role_id", f"No role with id {value}.")
    return role_id


def _email_free(conn: Connection, email: str, user_id: int | None = None) -> None:
    other = auth.user_by_email(conn, email)
    if other is not None and other["id"] != user_id:
        raise Conflict(f"A user with email {email} exists already.", {"email": ["Already taken."]})


def _keep_an_admin(conn: Connection, user_id: int) -> None:
    """Refuse (409) to demote or deactivate the last other active site admin. Changes
    of admin rights run one after the other (a lock taken before counting), so two
    admins demoting each other at once leave one of them."""
    locks.serialize(conn, "site-admins")
    if not user_queries.other_active_admins(conn, user_id):
        raise Conflict(
            "This would leave no active site admin.",
            {"is_admin": ["The last active site admin stays."]},
        )


def create_user(conn: Connection, actor: User, values: dict[str, Any]) -> int:
    """Create a user from a body of USER_CREATE_FIELDS (name and email required)."""
    require_admin(actor)
    name = inputs.text("name", inputs.required(values, "name"), MAX_NAME)
    email = inputs.email("email", inputs.required(values, "email"))
    is_admin = inputs.boolean("is_admin", values.get("is_admin", False))
    role_id = _role_id(conn, values.get("role_id"))
    # new_user refuses a taken email (409).
    user_id = new_user(conn, name, email, is_admin=is_admin, created_by=actor.id)
    if role_id is not None:
        user_queries.update_user(conn, user_id, role_id=role_id)
    return user_id


def _set_active(conn: Connection, user_id: int, active: bool, **changes: Any) -> None:
    """THE way a user's is_active changes. Deactivation is final for what the user held
    then: every browser session ends (deleted) and every API token is revoked, in the
    same transaction, so reactivating the user revives neither; they sign in again and
    make new tokens."""
    user_queries.update_user(conn, user_id, is_active=active, **changes)
    if not active:
        auth.end_all_access(conn, user_id, changes.get("updated_at") or utcnow())


def update_user(conn: Connection, actor: User, user_id: int, values: dict[str, Any]) -> None:
    """Change any of USER_UPDATE_FIELDS. Deactivating a user ends their web sessions and
    revokes their API tokens for good (`_set_active`). Admins cannot deactivate or
    demote themselves, so there is always an active admin left."""
    require_admin(actor)
    if auth.user_by_id(conn, user_id) is None:
        raise NotFound(f"User {user_id} not found.")
    changes: dict[str, Any] = {}
    if "name" in values:
        changes["name"] = inputs.text("name", values["name"], MAX_NAME)
    if "email" in values:
        changes["email"] = inputs.email("email", values["email"])
    if "is_admin" in values:
        changes["is_admin"] = inputs.boolean("is_admin", values["is_admin"])
    if "is_active" in values:
        changes["is_active"] = inputs.boolean("is_active", values["is_active"])
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
    if "is_active" in changes:
        active = changes.pop("is_active")
        _set_active(conn, user_id, active, **changes, updated_at=utcnow(), updated_by=actor.id)
    elif changes:
        user_queries.update_user(conn, user_id, **changes, updated_at=utcnow(), updated_by=actor.id)


def admin_dict(row: RowMapping) -> dict[str, Any]:
    """A user as the administration pages show one (with the admin flag, which the
    Testmo user shape lacks)."""
    keys = ("id", "name", "email", "role_id", "is_admin", "is_active")
    return {k: bool(row[k]) if k.startswith("is_") else row[k] for k in keys}


def admin_user(conn: Connection, user_id: int) -> dict[str, Any]:
    """One user as admin_dict shows it (the caller checked the actor is an admin)."""
    row = auth.user_by_id(conn, user_id)
    if row is None:
        raise NotFound(f"User {user_id} not found.")
    return admin_dict(row)


def reset_password(conn: Connection, actor: User, user_id: int, password: Any) -> None:
    """A site admin sets a user's web sign-in password (the CLI's set-password): the
    user's browser sessions end."""
    require_admin(actor)
    email = admin_user(conn, user_id)["email"]
    logins.set_password(conn, email, passwords.check_new(password))


def create_user_with_password(conn: Connection, actor: User, values: dict[str, Any]) -> int:
    """create_user, then the optional `password` in the same transaction (a bad
    password leaves no user behind)."""
    user_id = create_user(conn, actor, values)
    if values.get("password") is not None:
        reset_password(conn, actor, user_id, values["password"])
    return user_id


def all_users(conn: Connection) -> list[RowMapping]:
    return user_queries.all_users(conn)


def set_active(conn: Connection, email: str, active: bool) -> bool:
    """(De)activate the user with `email` (the operator's command); False when the user
    was in that state already."""
    row = auth.user_by_email(conn, email)
    if row is None:
        raise NotFound(f"No user with email {email!r}.")
    if bool(row["is_active"]) == active:
        return False
    if not active and row["is_admin"]:
        _keep_an_admin(conn, row["id"])
    _set_active(conn, row["id"], active, updated_at=utcnow())
    return True


def list_tokens(conn: Connection, user: User, query: ListQuery) -> Page:
    base = user_queries.tokens_condition(user.id)
    rows, total = db_listing.rows_page(conn, api_tokens, base, query.request())
    return Page([token_dict(r) for r in rows], total)


def new_token(conn: Connection, token_id: int, secret: str) -> Page:
    """The created token, with its secret (the only time it is shown)."""
    row = auth.token_by_id(conn, token_id)
    assert row is not None
    return Page([{**token_dict(row), "token": secret}], 1)


def tokens_of(conn: Connection, email: str) -> list[dict[str, Any]]:
    """All tokens of the user with `email`, revoked ones included (the operator's view)."""
    row = auth.user_by_email(conn, email)
    if row is None:
        raise NotFound(f"No user with email {email!r}.")
    return [token_dict(t) for t in user_queries.tokens_of_user(conn, row["id"])]


def all_projects(conn: Connection) -> list[RowMapping]:
    rows = project_read.projects_by_ids(conn, project_read.all_project_ids(conn))
    return sorted(rows, key=lambda r: int(r["id"]))


def remove_member(conn: Connection, project_id: int, email: str) -> None:
    if project_read.project_by_id(conn, project_id) is None:
        raise NotFound(f"Project {project_id} not found.")
    user = auth.user_by_email(conn, email)
    if user is None:
        raise NotFound(f"No user with email {email!r}.")
    if permissions.member_role(conn, project_id, user["id"]) is None:
        raise NotFound(f"{email} is not a member of project {project_id}.")
    project_service.remove_member(conn, project_id, user["id"])  # never the last manager


# Bit set of roles.permissions: 1 read, 2 run sessions, 4 manage the project.
ALL_PERMISSIONS = 7


def _existing_users(conn: Connection, user_ids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(user_ids))
    missing = set(wanted) - db_rows.existing_ids(conn, users, wanted)
    if missing:
        raise Invalid.field("members", f"Unknown user ids: {sorted(missing)}.")
    return wanted


def create_group(
    conn: Connection, name: str, member_ids: Iterable[int] = (), created_by: int | None = None
) -> int:
    name = inputs.text("name", name, 200)
    if user_queries.group_by_name(conn, name) is not None:
        raise Conflict(f"A group named {name!r} exists already.", {"name": ["Already taken."]})
    members = _existing_users(conn, member_ids)
    group_id = user_queries.insert_group(
        conn, name=name, created_at=utcnow(), created_by=created_by
    )
    user_queries.add_group_members(conn, group_id, members)
    return group_id


def add_group_members(conn: Connection, group_id: int, user_ids: Iterable[int]) -> None:
    if not user_queries.groups_by_ids(conn, [group_id]):
        raise NotFound(f"Group {group_id} not found.")
    user_queries.add_group_members(conn, group_id, _existing_users(conn, user_ids))


def create_role(
    conn: Connection,
    name: str,
    system_name: str,
    permissions: int = 1,
    is_default: bool = False,
    created_by: int | None = None,
) -> int:
    inputs.system_name("system_name", system_name, 32)
    if not 0 <= permissions <= ALL_PERMISSIONS:
        raise Invalid.field("permissions", f"Must be a bit set from 0 to {ALL_PERMISSIONS}.")
    return user_queries.insert_role(
        conn,
        name=inputs.text("name", name, 100),
        system_name=system_name,
        permissions=permissions,
        is_default=is_default,
        created_at=utcnow(),
        created_by=created_by if created_by is not None else user_queries.first_admin_id(conn),
    )


def set_default_role(conn: Connection, user_id: int, role_id: int | None) -> None:
    """The role a user gets when added to a project without naming one."""
    if not user_queries.users_by_ids(conn, [user_id]):
        raise NotFound(f"User {user_id} not found.")
    if role_id is not None and db_rows.row_by_id(conn, roles, role_id) is None:
        raise Invalid.field("role_id", f"Unknown role {role_id}.")
    if role_id is None:  # every user has a role: none named is the default one
        role_id = db_rows.default_id(conn, roles)
    user_queries.set_user_role(conn, user_id, role_id)


def new_user(
    conn: Connection,
    name: str,
    email: str,
    is_admin: bool = False,
    password_hash: str | None = None,
    created_by: int | None = None,
) -> int:
    name = inputs.text("name", name)
    email = inputs.email("email", email)
    if auth.user_by_email(conn, email) is not None:
        raise Conflict(f"A user with email {email} exists already.", {"email": ["Already taken."]})
    # Seeded users (CLI, demo) name no creator: the first admin is theirs; the very
    # first user created itself.
    creator = created_by if created_by is not None else user_queries.first_admin_id(conn)
    user_id = user_queries.insert_user(
        conn,
        name=name,
        email=email,
        is_admin=is_admin,
        is_active=True,
        password_hash=password_hash,
        role_id=db_rows.default_id(conn, roles),
        timezone="UTC",
        date_format="Y-m-d",
        time_format="H:i",
        created_at=utcnow(),
        created_by=creator,
    )
    if creator is None:
        user_queries.update_user(conn, user_id, created_by=user_id)
    # The roles seeded by the first migration predate every user: the first one
    # created names their creator.
    user_queries.claim_seeded_roles(conn, creator or user_id)
    return user_id


def new_inactive_user(conn: Connection, name: str, email: str, created_by: int) -> int:
    """A user the sheet importer found named on a sheet but not known here: kept for
    the record, inactive (no password, no sign-in) until an admin activates them."""
    user_id = new_user(conn, name, email, created_by=created_by)
    user_queries.update_user(conn, user_id, is_active=False)
    return user_id
