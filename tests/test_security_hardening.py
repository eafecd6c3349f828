"""Security review findings (issue 15, the HTTP / auth half), each shown on a real
database over HTTP: API token secrets never stored by Idempotency-Key and expired keys
never served; deactivation ends sessions and revokes tokens for good; one id parser
(ASCII digits, 1..2**31-1); a nesting limit on JSON bodies; control characters
escaped in text log lines; X-Forwarded-For trusted only from listed proxies (a real
`charter serve`); HSTS over HTTPS; a bound on how long a request body may take."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import logins
from charter.auth import service as auth
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Unauthenticated
from charter.db import tables
from charter.db.engine import Database
from charter.logs import JsonFormatter, TextFormatter
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import migrate
from live import serving

ADMIN = "ada@example.com"
OTHER = "bob@example.com"
PASSWORD = "correct horse battery staple"


class World:
    def __init__(self, url: str) -> None:
        self.url = url
        self.db = migrate(url)
        with self.db.write() as conn:
            self.admin_id = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
            self.other_id = user_service.new_user(conn, "Bob", OTHER)
            self.admin_token = auth.create_token(conn, ADMIN, "admin")
            self.other_token = auth.create_token(conn, OTHER, "bob")
            logins.set_password(conn, OTHER, PASSWORD)

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[World]:
    w = World(fresh_database_url)
    yield w
    w.db.close()


@pytest.fixture
def client(world: World) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(Settings(database_url=world.url, auth_fail_limit=0))) as c:
        yield c


def all_stored_text(db: Database) -> str:
    """Every value of every table, as text: nothing secret may appear in it."""
    out = []
    with db.read() as conn:
        for table in tables.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    out.append(str(value))
    return "\n".join(out)


# --- 1. token secrets and the idempotency store -----------------------------------------


def test_token_secret_never_stored_by_idempotency_key(
    world: World, client: TestClient[Any]
) -> None:
    headers = {**world.headers(), "Idempotency-Key": "token-1"}
    first = client.post("/api/v1/tokens", json={"name": "ci"}, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["result"]["token"]
    assert secret.startswith("charter_")
    assert secret not in all_stored_text(world.db)
    # Revoke it, then replay the key: the secret is never shown again.
    token_id = first.json()["result"]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=world.headers()).status_code == 204
    again = client.post("/api/v1/tokens", json={"name": "ci"}, headers=headers)
    assert again.status_code == 409, again.text
    assert secret not in again.text
    assert "Idempotency-Key" in again.json()["message"]
    # No second token was made by the replay.
    with world.db.read() as conn:
        names = [r[0] for r in conn.execute(sa.select(tables.api_tokens.c.name))]
    assert names.count("ci") == 1


def test_idempotency_store_never_keeps_a_secret(world: World) -> None:
    """Whatever a future route returns, the store itself never keeps a token secret."""
    from charter.db import idempotency

    with world.db.write() as conn:
        secret = auth.create_token(conn, ADMIN, "x")
        body = f'{{"result": {{"token": "{secret}"}}}}'.encode()
        idempotency.store(conn, world.admin_id, "k", "h" * 64, 201, body, utcnow())
        stored = idempotency.find(conn, world.admin_id, "k", utcnow() - timedelta(hours=1))
    assert stored is not None and secret.encode() not in stored[2]
    assert secret not in all_stored_text(world.db)


def test_expired_idempotency_key_is_not_served(world: World, client: TestClient[Any]) -> None:
    headers = {**world.headers(), "Idempotency-Key": "project-1"}
    first = client.post("/api/v1/projects", json={"name": "Zeta"}, headers=headers)
    assert first.status_code == 201, first.text
    with world.db.write() as conn:
        conn.execute(
            sa.update(tables.idempotency_keys).values(
                created_at=tables.idempotency_keys.c.created_at - timedelta(hours=25)
            )
        )
    again = client.post("/api/v1/projects", json={"name": "Zeta"}, headers=headers)
    assert again.status_code == 201, again.text
    # A new request, not the stale answer: a second project was made.
    assert again.json()["result"]["id"] != first.json()["result"]["id"]
    with world.db.read() as conn:
        keys = conn.execute(sa.select(sa.func.count()).select_from(tables.idempotency_keys))
        assert keys.scalar_one() == 1  # the stale row was replaced, not kept


# --- 6. deactivation is final for sessions and tokens -----------------------------------


def _session_count(db: Database, user_id: int) -> int:
    with db.read() as conn:
        stmt = sa.select(sa.func.count()).where(tables.web_sessions.c.user_id == user_id)
        return int(conn.execute(stmt.select_from(tables.web_sessions)).scalar_one())


def test_deactivation_through_the_api_is_not_undone_by_reactivation(
    world: World, client: TestClient[Any]
) -> None:
    with world.db.write() as conn:
        cookie = logins.sign_in(conn, OTHER, PASSWORD)
    path = f"/api/v1/users/{world.other_id}"
    off = client.patch(path, json={"is_active": False}, headers=world.headers())
    assert off.status_code == 200, off.text
    assert _session_count(world.db, world.other_id) == 0
    on = client.patch(path, json={"is_active": True}, headers=world.headers())
    assert on.status_code == 200, on.text
    assert client.get("/api/v1/user", headers=world.headers(world.other_token)).status_code == 401
    with world.db.read() as conn, pytest.raises(Unauthenticated):
        logins.session_user(conn, cookie)
    # The user can sign in again and make new tokens.
    with world.db.write() as conn:
        new = auth.create_token(conn, OTHER, "after")
        logins.sign_in(conn, OTHER, PASSWORD)
    assert client.get("/api/v1/user", headers=world.headers(new)).status_code == 200


def test_deactivation_through_the_cli_is_not_undone_by_reactivation(world: World) -> None:
    with world.db.write() as conn:
        cookie = logins.sign_in(conn, OTHER, PASSWORD)
        assert user_service.set_active(conn, OTHER, False)
    assert _session_count(world.db, world.other_id) == 0
    with world.db.write() as conn:
        assert user_service.set_active(conn, OTHER, True)
    with world.db.read() as conn:
        with pytest.raises(Unauthenticated):
            logins.session_user(conn, cookie)
        with pytest.raises(Unauthenticated):
            auth.authenticate(conn, world.other_token)


# --- 10. one id parser; JSON nesting -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("2147483647", 2**31 - 1),
        ("0", None),
        ("2147483648", None),
        ("99999999999999999999999", None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits
        ("+1", None),
        ("-1", None),
        (" 1", None),
        ("", None),
        ("1.0", None),
    ],
)
def test_parse_id(raw: str, expected: int | None) -> None:
    assert inputs.parse_id(raw) == expected


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_deeply_nested_json_is_refused_not_500(
    world: World, client: TestClient[Any], depth: int
) -> None:
    body = "[" * depth + "]" * depth
    headers = {**world.headers(), "Content-Type": "application/json"}
    resp = client.post("/api/v1/projects", content=body, headers=headers)
    assert resp.status_code in (400, 422), resp.text[:300]
    assert "nest" in resp.json()["message"].lower()


def test_json_nesting_up_to_the_limit_is_accepted(world: World, client: TestClient[Any]) -> None:
    body = '{"name": "Deep", "note": ' + "[" * 60 + "]" * 60 + "}"
    headers = {**world.headers(), "Content-Type": "application/json"}
    resp = client.post("/api/v1/projects", content=body, headers=headers)
    assert resp.status_code == 422, resp.text[:300]  # the note's type, not the nesting
    assert "note" in resp.json()["errors"]


def test_big_or_odd_path_ids_are_404(world: World, client: TestClient[Any]) -> None:
    for raw in ("2147483648", "%C2%B2", "0"):
        resp = client.get(f"/api/v1/projects/{raw}", headers=world.headers())
        assert resp.status_code == 404, (raw, resp.text)


def test_static_path_with_nul_is_404(client: TestClient[Any]) -> None:
    for path in ("/static/%00", "/static/app%00.js", "/static/%00/x"):
        resp = client.get(path)
        assert resp.status_code == 404, (path, resp.status_code, resp.text[:200])


# --- 12. log lines cannot be forged ------------------------------------------------------


def _record(message: str, *args: Any, access: dict[str, Any] | None = None) -> logging.LogRecord:
    record = logging.LogRecord("charter.access", logging.INFO, __file__, 1, message, args, None)
    if access is not None:
        record.access = access
    return record


@pytest.mark.parametrize(
    "path", ["/x\n2026-01-01T00:00:00.000Z INFO charter.access GET / 200", "/a\rb", "/\x1b[31m"]
)
def test_text_log_escapes_control_characters(path: str) -> None:
    line = TextFormatter().format(_record("%s %s", "GET", path))
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "\\n" in line or "\\r" in line or "\\x1b" in line


def test_text_log_escapes_unicode_line_breaks() -> None:
    line = TextFormatter().format(_record("%s", "/a\u2028b\x85c\u2029"))
    assert len(line.splitlines()) == 1, line


def test_text_log_keeps_tracebacks_on_their_own_lines() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "charter", logging.ERROR, __file__, 1, "bad\nline", (), sys.exc_info()
        )
    text = TextFormatter().format(record)
    first, *rest = text.split("\n")
    assert first.endswith("bad\\nline")
    assert rest and "RuntimeError: boom" in text


def test_json_log_stays_one_line() -> None:
    line = JsonFormatter().format(_record("x", access={"path": "/a\nb\u2028"}))
    assert len(line.splitlines()) == 1


# --- 13. HSTS over HTTPS -------------------------------------------------------------------


def test_hsts_only_over_https(world: World) -> None:
    app = create_app(Settings(database_url=world.url))
    with TestClient(app, base_url="https://testserver.local") as secure:
        resp = secure.get("/login")
        assert resp.headers["strict-transport-security"].startswith("max-age=")
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


# --- shared throttles: every worker sees the same failed-authentication counts --------


def test_failed_authentication_counts_are_shared_by_every_worker(world: World) -> None:
    settings = Settings(database_url=world.url, auth_fail_limit=3)
    bad = {"Authorization": "Bearer charter_wrong"}
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert one.get("/api/v1/user", headers=bad).status_code == 401
        assert one.get("/api/v1/user", headers=bad).status_code == 401
        assert two.get("/api/v1/user", headers=bad).status_code == 401
        # The third failure (counted through `two`) used up the address's allowance.
        resp = two.get("/api/v1/user", headers=world.headers())
        assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
    with world.db.read() as conn:
        rows = conn.execute(sa.select(tables.throttle_counters)).all()
    assert [row._mapping["count"] for row in rows] == [3]
    assert "testclient" not in all_stored_text(world.db)  # keys are hashed


# --- 7. client addresses from X-Forwarded-For only from listed proxies ------------------

LIVE_FAIL_LIMIT = 3


def _fail_from(base_url: str, forwarded: str) -> int:
    resp = httpx.get(
        f"{base_url}/api/v1/user",
        headers={"Authorization": "Bearer charter_wrong", "X-Forwarded-For": forwarded},
        timeout=10,
    )
    return resp.status_code


@pytest.fixture
def live_world(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[World, Path]]:
    w = World(fresh_database_url)
    yield w, tmp_path
    w.db.close()


def test_forwarded_for_is_not_trusted_by_default(
    live_world: tuple[World, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, tmp = live_world
    monkeypatch.setenv("CHARTER_AUTH_FAIL_LIMIT", str(LIVE_FAIL_LIMIT))
    monkeypatch.setenv("CHARTER_LOG_FORMAT", "json")
    monkeypatch.delenv("CHARTER_FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    log = tmp / "serve.log"
    with serving(world.url, world.admin_token, log) as base_url:
        codes = [_fail_from(base_url, f"10.0.0.{i}") for i in range(LIVE_FAIL_LIMIT + 2)]
    assert codes[:LIVE_FAIL_LIMIT] == [401] * LIVE_FAIL_LIMIT
    assert codes[LIVE_FAIL_LIMIT:] == [429, 429], codes  # one address, whatever the header
    text = log.read_text()
    assert "10.0.0." not in text  # the access log records the real peer


def test_forwarded_for_is_trusted_from_a_listed_proxy(
    live_world: tuple[World, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, tmp = live_world
    monkeypatch.setenv("CHARTER_AUTH_FAIL_LIMIT", str(LIVE_FAIL_LIMIT))
    monkeypatch.setenv("CHARTER_LOG_FORMAT", "json")
    monkeypatch.setenv("CHARTER_FORWARDED_ALLOW_IPS", "127.0.0.1")
    log = tmp / "serve.log"
    with serving(world.url, world.admin_token, log) as base_url:
        codes = [_fail_from(base_url, f"10.0.0.{i}") for i in range(LIVE_FAIL_LIMIT + 2)]
        # Each forwarded address is its own client behind the trusted proxy.
        assert codes == [401] * (LIVE_FAIL_LIMIT + 2), codes
    assert '"client":"10.0.0.1"' in log.read_text()


# --- 13. slow clients: header and body deadlines ------------------------------------------


def _read_all(
    sock: socket.socket, seconds: float, until: bytes | None = None
) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, `until` arrives or
    `seconds` pass, and how long that took."""
    sock.settimeout(seconds)
    started = time.monotonic()
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
            if until is not None and until in data:
                break
    except TimeoutError:
        pass
    return data, time.monotonic() - started


def test_slow_headers_and_bodies_are_cut_off(
    live_world: tuple[World, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, tmp = live_world
    monkeypatch.setenv("CHARTER_HEADER_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("CHARTER_BODY_TIMEOUT_SECONDS", "1")
    with serving(world.url, world.admin_token, tmp / "serve.log") as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        # Headers that never end: the connection is closed after ~1 s.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a")
            data, took = _read_all(sock, 10)
        assert data == b"" and took < 5, (data, took)
        # A connection that sends nothing at all is closed too.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            data, took = _read_all(sock, 10)
        assert data == b"" and took < 5, (data, took)
        # A body that never completes: 408 after ~1 s, on the API and on the web UI.
        for path, extra in (
            ("/api/v1/projects", f"Authorization: Bearer {world.admin_token}\r\n"),
            ("/logout", "Cookie: charter_csrf=x\r\n"),
        ):
            kind = "json" if path.startswith("/api/") else "x-www-form-urlencoded"
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Type: application/"
                    f"{kind}\r\nContent-Length: 100\r\n\r\n{{".encode()
                )
                data, took = _read_all(sock, 10, until=b"\r\n\r\n")
            assert data.startswith(b"HTTP/1.1 408"), (path, data[:200])
            assert took < 5, took
        # Normal requests are unaffected.
        assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
