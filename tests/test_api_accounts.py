"""Users administration (POST/PATCH /api/v1/users, site admins only) and personal API
tokens (GET/POST /api/v1/tokens, DELETE /api/v1/tokens/{id}): docs/api.md, docs/routes.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.auth import service as auth
from charter.http.conventions import encode
from charter.http.etag import etag_of
from charter.users import read as user_read
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

DEFAULT_ROLE = 2  # Tester, the default role seeded by the first migration
ADMIN = "admin@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SECRET_RE = re.compile(r"^charter_[A-Za-z0-9_-]{40,}$")
USER_KEYS = {
    "id",
    "name",
    "email",
    "type",
    "timezone",
    "date_format",
    "time_format",
    "notifications",
    "tfa_enabled",
    "is_active",
    "is_forgotten",
    "is_api",
    "role_id",
    "groups",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "is_admin",
}
TOKEN_KEYS = {"id", "name", "created_at", "last_used_at", "revoked_at"}
ENVELOPE_KEYS = {
    "page",
    "prev_page",
    "next_page",
    "last_page",
    "per_page",
    "total",
    "result",
    "expands",
}


def _people(url: str) -> Iterator[Api]:
    db = migrate(url)
    with db.write() as conn:
        user_service.new_user(conn, "Ada Admin", ADMIN, is_admin=True)
        user_service.new_user(conn, "Bob Baker", BOB)
        user_service.new_user(conn, "Carol Chen", CAROL)
    db.close()
    yield from open_api(url)


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[Api]:
    """A fresh database: admin (site admin), bob and carol; one token each."""
    yield from _people(fresh_database_url)


@pytest.fixture(scope="module")
def same(module_database_url: str) -> Iterator[Api]:
    """The same people, shared by the tests of refused requests (which change nothing,
    and check it)."""
    yield from _people(module_database_url)


# --- helpers ---------------------------------------------------------------------------


def call(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    *,
    as_user: str | None = ADMIN,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request; `token` overrides the user's test token; `raw` sends bytes as is."""
    all_headers = dict(headers or {})
    secret = token or (api.tokens[as_user] if as_user else None)
    if secret:
        all_headers["Authorization"] = f"Bearer {secret}"
    if raw is not None:
        all_headers.setdefault("Content-Type", "application/json")
        return api.client.request(method, path, content=raw, headers=all_headers)
    if body is None:
        return api.client.request(method, path, headers=all_headers)
    return api.client.request(method, path, json=body, headers=all_headers)


def assert_error(resp: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body["errors"], body
    return body


def user_id(api: Api, email: str) -> int:
    with api.db.read() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM users WHERE email = :e"), {"e": email}
            ).scalar_one()
        )


def snapshot(api: Api) -> tuple[list[Any], list[Any], list[Any]]:
    """Users, tokens (without last_used_at, which authentication refreshes) and members."""
    with api.db.read() as conn:
        users = conn.execute(sa.text("SELECT * FROM users ORDER BY id")).all()
        tokens = conn.execute(
            sa.text("SELECT id, user_id, name, token_hash, created_at, revoked_at FROM api_tokens")
        ).all()
        members = conn.execute(sa.text("SELECT * FROM project_members")).all()
    return list(users), sorted(tokens), sorted(members)


def whoami(api: Api, secret: str) -> httpx.Response:
    return call(api, "GET", "/api/v1/user", token=secret)


def new_token(api: Api, as_user: str, name: str = "extra") -> tuple[int, str]:
    resp = call(api, "POST", "/api/v1/tokens", {"name": name}, as_user=as_user)
    assert resp.status_code == 201, resp.text
    result = resp.json()["result"]
    return int(result["id"]), str(result["token"])


# --- POST /api/v1/users ----------------------------------------------------------------


def test_create_user(api: Api) -> None:
    admin_id = user_id(api, ADMIN)
    resp = call(api, "POST", "/api/v1/users", {"name": " Dave Doe ", "email": "dave@example.com"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == {"result", "expands"} and body["expands"] == {}
    user = body["result"]
    assert set(user) == USER_KEYS
    assert user["name"] == "Dave Doe" and user["email"] == "dave@example.com"
    assert user["is_admin"] is False and user["is_active"] is True
    assert user["role_id"] == DEFAULT_ROLE and user["groups"] == []  # none named: the default
    assert DATE_RE.match(user["created_at"]) and user["created_by"] == admin_id
    assert user["updated_at"] is None and user["updated_by"] is None
    assert user["id"] == user_id(api, "dave@example.com")
    # The Testmo-compatible read answers the same object (without the is_admin extra).
    read = call(api, "GET", f"/api/v1/users/{user['id']}")
    assert read.status_code == 200
    assert read.json()["result"] == {k: v for k, v in user.items() if k != "is_admin"}

    resp = call(
        api,
        "POST",
        "/api/v1/users",
        {"name": "Eve", "email": "eve@example.com", "is_admin": True, "role_id": 3},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"]["is_admin"] is True
    assert resp.json()["result"]["role_id"] == 3


def test_create_user_then_role_null(api: Api) -> None:
    body = {"name": "Fay", "email": "fay@example.com", "is_admin": False, "role_id": None}
    resp = call(api, "POST", "/api/v1/users", body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"]["role_id"] == DEFAULT_ROLE  # every user has a role


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com"}, "name"),
        ({"name": "X"}, "email"),
        ({"name": "", "email": "x@example.com"}, "name"),
        ({"name": "   ", "email": "x@example.com"}, "name"),
        ({"name": 5, "email": "x@example.com"}, "name"),
        ({"name": None, "email": "x@example.com"}, "name"),
        ({"name": "x" * 201, "email": "x@example.com"}, "name"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "email": ["x@example.com"]}, "email"),
        ({"name": "X", "email": "x@example.com", "is_admin": "yes"}, "is_admin"),
        ({"name": "X", "email": "x@example.com", "is_admin": 1}, "is_admin"),
        ({"name": "X", "email": "x@example.com", "role_id": "2"}, "role_id"),
        ({"name": "X", "email": "x@example.com", "role_id": True}, "role_id"),
        ({"name": "X", "email": "x@example.com", "role_id": 999}, "role_id"),
        ({"name": "X", "email": "x@example.com", "role_id": 10**20}, "role_id"),
        ({"name": "X", "email": "x@example.com", "password": "secret"}, "password"),
        ({"name": "X", "email": "x@example.com", "is_active": False}, "is_active"),
        ([{"name": "X", "email": "x@example.com"}], "body"),
    ],
)
def test_create_user_invalid(same: Api, body: Any, field: str) -> None:
    before = snapshot(same)
    assert_error(call(same, "POST", "/api/v1/users", body), 422, field)
    assert snapshot(same) == before


def test_create_user_duplicate_email(same: Api) -> None:
    before = snapshot(same)
    resp = call(same, "POST", "/api/v1/users", {"name": "Bob 2", "email": "BOB@example.com"})
    assert_error(resp, 409, "email")
    assert snapshot(same) == before


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"name": "X", "email": ', "application/json"),
        (b"", "application/json"),
        (b'{"name": "X", "email": "x@example.com"}', "text/plain"),
    ],
)
def test_create_user_malformed(same: Api, raw: bytes, content_type: str) -> None:
    before = snapshot(same)
    resp = call(same, "POST", "/api/v1/users", raw=raw, headers={"Content-Type": content_type})
    assert_error(resp, 400)
    assert snapshot(same) == before


def test_create_user_idempotency_key(api: Api) -> None:
    body = {"name": "Gus", "email": "gus@example.com"}
    headers = {"Idempotency-Key": "create-gus"}
    first = call(api, "POST", "/api/v1/users", body, headers=headers)
    again = call(api, "POST", "/api/v1/users", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    with api.db.read() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar_one() == 4


# --- admin only ------------------------------------------------------------------------


def test_user_writes_are_for_site_admins(same: Api) -> None:
    before = snapshot(same)
    carol = user_id(same, CAROL)
    bob = user_id(same, BOB)
    new = {"name": "X", "email": "x@example.com"}
    assert_error(call(same, "POST", "/api/v1/users", new, as_user=BOB), 403)
    assert_error(call(same, "PATCH", f"/api/v1/users/{carol}", {"name": "Y"}, as_user=BOB), 403)
    assert_error(call(same, "PATCH", f"/api/v1/users/{bob}", {"is_admin": True}, as_user=BOB), 403)
    # 403 first, before looking at the body or the id.
    assert_error(call(same, "POST", "/api/v1/users", raw=b"{", as_user=BOB), 403)
    assert_error(call(same, "PATCH", "/api/v1/users/999", {"name": "Y"}, as_user=BOB), 403)
    assert snapshot(same) == before


def test_user_writes_need_a_token(same: Api) -> None:
    before = snapshot(same)
    new = {"name": "X", "email": "x@example.com"}
    resp = call(same, "POST", "/api/v1/users", new, as_user=None)
    assert_error(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"
    assert_error(call(same, "POST", "/api/v1/users", new, token="charter_nope"), 401)
    assert_error(call(same, "PATCH", "/api/v1/users/1", {"name": "Y"}, as_user=None), 401)
    assert snapshot(same) == before


def test_a_new_admin_can_administer_and_a_demoted_one_cannot_at_once(api: Api) -> None:
    bob = user_id(api, BOB)
    resp = call(api, "PATCH", f"/api/v1/users/{bob}", {"is_admin": True})
    assert resp.status_code == 200 and resp.json()["result"]["is_admin"] is True
    created = call(api, "POST", "/api/v1/users", {"name": "H", "email": "h@x.org"}, as_user=BOB)
    assert created.status_code == 201
    assert call(api, "PATCH", f"/api/v1/users/{bob}", {"is_admin": False}).status_code == 200
    denied = call(api, "POST", "/api/v1/users", {"name": "I", "email": "i@x.org"}, as_user=BOB)
    assert_error(denied, 403)


# --- PATCH /api/v1/users/{id} -------------------------------------------------------------


def test_update_user(api: Api) -> None:
    admin_id, bob = user_id(api, ADMIN), user_id(api, BOB)
    before = call(api, "GET", f"/api/v1/users/{bob}").json()["result"]
    resp = call(
        api,
        "PATCH",
        f"/api/v1/users/{bob}",
        {"name": "Robert Baker", "email": "robert@example.com", "role_id": 1},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"result", "expands"} and body["expands"] == {}
    user = body["result"]
    assert set(user) == USER_KEYS
    assert (user["name"], user["email"], user["role_id"]) == (
        "Robert Baker",
        "robert@example.com",
        1,
    )
    assert user["is_admin"] is False and user["is_active"] is True
    assert DATE_RE.match(user["updated_at"]) and user["updated_by"] == admin_id
    assert user["created_at"] == before["created_at"]
    # Only the fields sent change; role_id null goes back to the default role.
    resp = call(api, "PATCH", f"/api/v1/users/{bob}", {"role_id": None})
    assert resp.json()["result"]["role_id"] == DEFAULT_ROLE
    assert resp.json()["result"]["name"] == "Robert Baker"
    # An empty body changes nothing.
    same = call(api, "PATCH", f"/api/v1/users/{bob}", {})
    assert same.status_code == 200 and same.json() == resp.json()
    # Changing the case of one's own email is not a conflict.
    case = call(api, "PATCH", f"/api/v1/users/{bob}", {"email": "Robert@example.com"})
    assert case.status_code == 200 and case.json()["result"]["email"] == "Robert@example.com"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 1}, "name"),
        ({"email": "nope"}, "email"),
        ({"email": None}, "email"),
        ({"is_admin": "true"}, "is_admin"),
        ({"is_active": 0}, "is_active"),
        ({"is_active": None}, "is_active"),
        ({"role_id": 1.5}, "role_id"),
        ({"role_id": 42}, "role_id"),
        ({"id": 7}, "id"),
        ({"password": "x"}, "password"),
        ({"name": "Fine", "is_admin": "no"}, "is_admin"),
        ("just a string", "body"),
    ],
)
def test_update_user_invalid(same: Api, body: Any, field: str) -> None:
    bob = user_id(same, BOB)
    before = snapshot(same)
    assert_error(call(same, "PATCH", f"/api/v1/users/{bob}", body), 422, field)
    assert snapshot(same) == before


def test_update_user_malformed(same: Api) -> None:
    bob = user_id(same, BOB)
    before = snapshot(same)
    assert_error(call(same, "PATCH", f"/api/v1/users/{bob}", raw=b'{"name": "X",}'), 400)
    assert_error(call(same, "PATCH", f"/api/v1/users/{bob}", raw=b""), 400)
    resp = call(
        same,
        "PATCH",
        f"/api/v1/users/{bob}",
        raw=b'{"name": "X"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(resp, 400)
    assert snapshot(same) == before


@pytest.mark.parametrize("raw_id", ["999", "0", "abc", "-1", "1.5"])
def test_update_unknown_user(same: Api, raw_id: str) -> None:
    before = snapshot(same)
    assert_error(call(same, "PATCH", f"/api/v1/users/{raw_id}", {"name": "X"}), 404)
    assert snapshot(same) == before


def test_update_user_email_taken(same: Api) -> None:
    bob = user_id(same, BOB)
    before = snapshot(same)
    assert_error(call(same, "PATCH", f"/api/v1/users/{bob}", {"email": "Carol@Example.com"}), 409)
    assert snapshot(same) == before


def test_admin_cannot_deactivate_or_demote_themselves(api: Api) -> None:
    me = user_id(api, ADMIN)
    before = snapshot(api)
    assert_error(call(api, "PATCH", f"/api/v1/users/{me}", {"is_active": False}), 409, "is_active")
    assert_error(call(api, "PATCH", f"/api/v1/users/{me}", {"is_admin": False}), 409, "is_admin")
    both = {"name": "Renamed", "is_admin": False}
    assert_error(call(api, "PATCH", f"/api/v1/users/{me}", both), 409)
    assert snapshot(api) == before
    assert whoami(api, api.tokens[ADMIN]).status_code == 200
    # Other changes to oneself are fine, including re-stating what one is.
    ok = call(api, "PATCH", f"/api/v1/users/{me}", {"name": "Ada", "is_admin": True})
    assert ok.status_code == 200 and ok.json()["result"]["name"] == "Ada"


def test_deactivating_a_user_stops_all_their_tokens_at_once(api: Api) -> None:
    bob = user_id(api, BOB)
    _, second = new_token(api, BOB, "laptop")
    for secret in (api.tokens[BOB], second):
        assert whoami(api, secret).status_code == 200
    resp = call(api, "PATCH", f"/api/v1/users/{bob}", {"is_active": False})
    assert resp.status_code == 200 and resp.json()["result"]["is_active"] is False
    for secret in (api.tokens[BOB], second):
        assert_error(whoami(api, secret), 401)
        assert_error(call(api, "GET", "/api/v1/tokens", token=secret), 401)
        assert_error(call(api, "POST", "/api/v1/tokens", {"name": "x"}, token=secret), 401)
    # Other users are untouched.
    assert whoami(api, api.tokens[CAROL]).status_code == 200
    # Deactivation revoked them: reactivating revives none (issue 15); new ones work.
    resp = call(api, "PATCH", f"/api/v1/users/{bob}", {"is_active": True})
    assert resp.status_code == 200 and resp.json()["result"]["is_active"] is True
    for secret in (api.tokens[BOB], second):
        assert_error(whoami(api, secret), 401)
    with api.db.write() as conn:
        api.tokens[BOB] = auth.create_token(conn, BOB, "after reactivation")
    assert whoami(api, api.tokens[BOB]).status_code == 200


def test_update_user_if_match(api: Api) -> None:
    bob = user_id(api, BOB)
    read = call(api, "GET", f"/api/v1/users/{bob}")
    etag = read.headers["etag"]
    # The ETag PATCH compares with is the one of the plain GET.
    with api.db.read() as conn:
        admin = auth.authenticate(conn, api.tokens[ADMIN])[0]
        page = user_read.get_user(conn, admin, bob, frozenset())
    assert etag == etag_of(encode({"result": page.rows[0], "expands": page.expands}))
    ok = call(api, "PATCH", f"/api/v1/users/{bob}", {"name": "B1"}, headers={"If-Match": etag})
    assert ok.status_code == 200, ok.text
    before = snapshot(api)
    stale = call(api, "PATCH", f"/api/v1/users/{bob}", {"name": "B2"}, headers={"If-Match": etag})
    assert_error(stale, 412)
    assert snapshot(api) == before


# --- API tokens ----------------------------------------------------------------------------


def test_create_token_shows_the_secret_once(api: Api) -> None:
    bob = user_id(api, BOB)
    resp = call(api, "POST", "/api/v1/tokens", {"name": " ci "}, as_user=BOB)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == {"result", "expands"} and body["expands"] == {}
    token = body["result"]
    assert set(token) == TOKEN_KEYS | {"token"}
    assert token["name"] == "ci" and DATE_RE.match(token["created_at"])
    assert token["last_used_at"] is None and token["revoked_at"] is None
    secret = token["token"]
    assert SECRET_RE.match(secret)
    # Only the sha256 is stored, for the right user.
    with api.db.read() as conn:
        row = (
            conn.execute(sa.text("SELECT * FROM api_tokens WHERE id = :i"), {"i": token["id"]})
            .mappings()
            .one()
        )
    assert row["token_hash"] == auth.hash_token(secret) and row["user_id"] == bob
    assert secret not in {str(v) for v in row.values()}
    # The secret works at once, as its owner.
    assert whoami(api, secret).json()["id"] == bob
    # ... and is never shown again, nor its hash.
    listing = call(api, "GET", "/api/v1/tokens", as_user=BOB)
    assert listing.status_code == 200
    assert secret not in listing.text and row["token_hash"] not in listing.text
    for item in listing.json()["result"]:
        assert set(item) == TOKEN_KEYS
    listed = next(t for t in listing.json()["result"] if t["id"] == token["id"])
    assert listed["name"] == "ci"
    # Using the token marks it used.
    assert DATE_RE.match(listed["last_used_at"])


def test_list_tokens_only_own(api: Api) -> None:
    bob_ids = [new_token(api, BOB, f"bob-{n}")[0] for n in range(3)]
    carol_id, _ = new_token(api, CAROL, "carol")
    resp = call(api, "GET", "/api/v1/tokens", as_user=BOB)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == ENVELOPE_KEYS
    ids = [t["id"] for t in body["result"]]
    assert carol_id not in ids
    assert sorted(ids) == sorted([*bob_ids, *_token_ids(api, BOB, "tests")])
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 100
    assert body["expands"] == {}
    # Newest first by default; asc on request; ties by id.
    assert ids == sorted(ids, reverse=True)
    asc = call(api, "GET", "/api/v1/tokens?order=asc&sort=tokens:created_at", as_user=BOB)
    assert [t["id"] for t in asc.json()["result"]] == sorted(ids)
    paged = call(api, "GET", "/api/v1/tokens?per_page=15&page=2", as_user=BOB).json()
    assert paged["result"] == [] and paged["page"] == 2 and paged["prev_page"] == 1
    # Carol sees her two (the tests token and "carol").
    assert call(api, "GET", "/api/v1/tokens", as_user=CAROL).json()["total"] == 2


def _token_ids(api: Api, email: str, name: str) -> list[int]:
    with api.db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE u.email = :e AND t.name = :n"
            ),
            {"e": email, "n": name},
        )
        return [int(r[0]) for r in rows]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=tokens:name", "sort"),
        ("order=up", "order"),
        ("per_page=7", "per_page"),
        ("page=0", "page"),
        ("expands=users", "expands"),
    ],
)
def test_list_tokens_bad_parameters(same: Api, query: str, field: str) -> None:
    assert_error(call(same, "GET", f"/api/v1/tokens?{query}", as_user=BOB), 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ci", "user_id": 1}, "user_id"),
        ({"name": "ci", "token": "charter_mine"}, "token"),
        (["ci"], "body"),
    ],
)
def test_create_token_invalid(same: Api, body: Any, field: str) -> None:
    before = snapshot(same)
    assert_error(call(same, "POST", "/api/v1/tokens", body, as_user=BOB), 422, field)
    assert snapshot(same) == before


def test_create_token_malformed_and_unauthenticated(same: Api) -> None:
    before = snapshot(same)
    assert_error(call(same, "POST", "/api/v1/tokens", raw=b"{name: ci}", as_user=BOB), 400)
    assert_error(call(same, "POST", "/api/v1/tokens", raw=b"", as_user=BOB), 400)
    assert_error(call(same, "POST", "/api/v1/tokens", {"name": "ci"}, as_user=None), 401)
    assert_error(call(same, "GET", "/api/v1/tokens", as_user=None), 401)
    assert_error(call(same, "DELETE", "/api/v1/tokens/1", as_user=None), 401)
    assert snapshot(same) == before


def test_revoke_token_takes_effect_at_once(api: Api) -> None:
    token_id, secret = new_token(api, BOB, "ci")
    assert whoami(api, secret).status_code == 200
    resp = call(api, "DELETE", f"/api/v1/tokens/{token_id}", as_user=BOB)
    assert resp.status_code == 204 and resp.content == b""
    assert_error(whoami(api, secret), 401)
    # The other token still works, and the list shows when the token was revoked.
    listing = call(api, "GET", "/api/v1/tokens", as_user=BOB).json()["result"]
    revoked = next(t for t in listing if t["id"] == token_id)
    assert DATE_RE.match(revoked["revoked_at"])
    # Revoking it again: it is gone.
    before = snapshot(api)
    assert_error(call(api, "DELETE", f"/api/v1/tokens/{token_id}", as_user=BOB), 404)
    assert snapshot(api) == before


def test_revoke_the_token_in_use(api: Api) -> None:
    (own_id,) = _token_ids(api, BOB, "tests")
    assert call(api, "DELETE", f"/api/v1/tokens/{own_id}", as_user=BOB).status_code == 204
    assert_error(call(api, "GET", "/api/v1/tokens", as_user=BOB), 401)


def test_revoke_another_users_token_is_not_found(api: Api) -> None:
    carol_token, carol_secret = new_token(api, CAROL, "carol")
    before = snapshot(api)
    # Not even an admin revokes someone else's token through this route.
    for who in (BOB, ADMIN):
        assert_error(call(api, "DELETE", f"/api/v1/tokens/{carol_token}", as_user=who), 404)
    assert snapshot(api) == before
    assert whoami(api, carol_secret).status_code == 200


@pytest.mark.parametrize("raw_id", ["999", "0", "x", "1e3"])
def test_revoke_unknown_token(same: Api, raw_id: str) -> None:
    before = snapshot(same)
    assert_error(call(same, "DELETE", f"/api/v1/tokens/{raw_id}", as_user=BOB), 404)
    assert snapshot(same) == before


def test_wrong_methods(same: Api) -> None:
    assert_error(call(same, "PUT", "/api/v1/tokens", {"name": "x"}), 405)
    assert_error(call(same, "PATCH", "/api/v1/tokens/1", {"name": "x"}), 405)
    assert_error(call(same, "DELETE", "/api/v1/users/2"), 405)


def test_openapi_lists_the_routes(same: Api) -> None:
    paths = same.client.get("/api/schema/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/users"])
    assert "patch" in paths["/api/v1/users/{user_id}"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens"])
    assert "delete" in paths["/api/v1/tokens/{token_id}"]
