"""OpenAPI shapes of users, roles, groups and API tokens."""

from __future__ import annotations

import msgspec

from charter.http.schemas import Envelope, NamedExpand, NoExpands, UserExpand, UsersExpand


class CurrentUser(msgspec.Struct):
    id: int
    name: str
    timezone: str | None
    date_format: str | None
    time_format: str | None


class ApiToken(msgspec.Struct):
    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class ApiTokenPage(Envelope):
    result: list[ApiToken]
    expands: dict[str, list[UserExpand]]


class NewApiToken(msgspec.Struct):
    """A token just created: `token` is the secret, shown this one time only."""

    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    token: str


class NewApiTokenSingle(msgspec.Struct):
    result: NewApiToken
    expands: dict[str, list[UserExpand]]


class ProjectUser(msgspec.Struct):
    id: int
    name: str


class ProjectUserPage(Envelope):
    result: list[ProjectUser]
    expands: NoExpands


class User(msgspec.Struct):
    id: int
    name: str
    email: str
    type: int
    timezone: str | None
    date_format: str | None
    time_format: str | None
    notifications: int
    tfa_enabled: bool
    is_active: bool
    is_forgotten: bool
    is_api: bool
    role_id: int | None
    groups: list[int]
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class ManagedUser(User):
    """The Testmo user shape (as GET /api/v1/users/{id}) plus `is_admin`."""

    is_admin: bool


class ManagedUserSingle(msgspec.Struct):
    result: ManagedUser
    expands: dict[str, list[UserExpand]]


class UserExpands(msgspec.Struct, omit_defaults=True):
    groups: list[NamedExpand] | None = None
    roles: list[NamedExpand] | None = None
    users: list[UserExpand] | None = None


class UserPage(Envelope):
    result: list[User]
    expands: UserExpands


class UserSingle(msgspec.Struct):
    result: User
    expands: UserExpands


class Role(msgspec.Struct):
    id: int
    name: str
    permissions: int  # bit set: 1 read, 2 run sessions, 4 manage the project
    is_default: bool
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class RolePage(Envelope):
    result: list[Role]
    expands: UsersExpand


class RoleSingle(msgspec.Struct):
    result: Role
    expands: UsersExpand


class Group(msgspec.Struct):
    id: int
    name: str
    members: list[int]
    created_at: str
    created_by: int | None
    updated_at: str | None
    updated_by: int | None


class GroupPage(Envelope):
    result: list[Group]
    expands: UsersExpand


class GroupSingle(msgspec.Struct):
    result: Group
    expands: UsersExpand
