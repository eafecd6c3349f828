"""Authentication and secrets (docs/security.md), each shown on a real database over real
HTTP (the in-process app, and a real `charter serve` process):

- tokens are stored only as sha256 and accepted only after a constant-time comparison;
- no token secret reaches a log line, the server's stdout/stderr or a response body;
- a token revoked through the API or the CLI fails on the very next request;
- repeated failed authentication from one address gets 429 + Retry-After before any
  database work; other addresses are unaffected; the window expires;
- the optional per-token rate limit (off by default) gets 429 + Retry-After;
- bodies over CHARTER_MAX_BODY_BYTES get 413 on every write route, chunked ones too,
  and nothing is written;
- 429 (and 413 on writes) are declared in the OpenAPI document.

`LogCapture` / `log_capture` are reusable: copy them to capture every log record of
every logger (propagating or not) plus the process's stdout/stderr, and assert a
secret (a password, say) never appears.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets as random_secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import queries as auth_queries
from charter.auth import service as auth
from charter.core.errors import Unauthenticated
from charter.db import tables
from charter.db.engine import Database
from charter.http.throttle import Limits, Throttle
from charter.projects import service as project_service
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import migrate
from live import charter, serving

ADMIN = "ada@example.com"
OTHER = "bob@example.com"
LIVE_FAIL_LIMIT = 15
LIVE_WINDOW = 2  # seconds; short, so a test can wait it out
LIVE_MAX_BODY = 4096


# --- log capture (reusable: copy this section) ------------------------------------------


CLIENT_LOGGERS = ("httpx", "httpcore")


class LogCapture(logging.Handler):
    """Every record at DEBUG and up, of every logger: attached to the root and to each
    logger that does not propagate. Each record is kept as its formatted text (with any
    traceback) plus repr(vars(record)), so arguments and `extra` fields are searched
    too; `server_texts()` leaves out the test's own HTTP client libraries (httpx logs
    the URLs it requests)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[tuple[str, str]] = []  # (logger name, text)
        self._levels: dict[logging.Logger, int] = {}
        self._attached: list[logging.Logger] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, self.format(record) + "\n" + repr(vars(record))))

    def server_texts(self) -> list[str]:
        return [text for name, text in self.records if name.split(".")[0] not in CLIENT_LOGGERS]

    def start(self) -> None:
        """Call after the app is built: it may configure logging itself."""
        root = logging.getLogger()
        loggers = [root] + [
            lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]
        for lg in loggers:
            self._levels[lg] = lg.level
            lg.setLevel(logging.DEBUG)
            if lg is root or not lg.propagate:
                lg.addHandler(self)
                self._attached.append(lg)

    def stop(self) -> None:
        for lg in self._attached:
            lg.removeHandler(self)
        for lg, level in self._levels.items():
            lg.setLevel(level)
        self._attached.clear()
        self._levels.clear()


@pytest.fixture
def log_capture() -> Iterator[LogCapture]:
    capture = LogCapture()
    yield capture
    capture.stop()


def leaks(secret: str, texts: Iterable[str]) -> list[str]:
    """The texts holding `secret` or any 12-character piece of its random part."""
    random_part = secret.removeprefix(auth.TOKEN_PREFIX)
    pieces = {random_part[i : i + 12] for i in range(len(random_part) - 11)} | {secret}
    return [t[:300] for t in texts if any(p in t for p in pieces)]


# --- the dataset and clients ------------------------------------------------------------


@dataclass
class Site:
    url: str
    db: Database
    admin_token: str  # a token of the site admin that no test revokes
    project_id: int


@pytest.fixture(scope="module")
def site(module_database_url: str) -> Iterator[Site]:
    db = migrate(module_database_url)
    with db.write() as conn:
        admin_id = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
        user_service.new_user(conn, "Bob", OTHER)
        project_id = project_service.new_project(conn, "Secure", created_by=admin_id)
        token = auth.create_token(conn, ADMIN, "tests")
    yield Site(module_database_url, db, token, project_id)
    db.close()


def new_token(site: Site, email: str = ADMIN) -> tuple[int, str]:
    with site.db.write() as conn:
        user = auth_queries.user_by_email(conn, email)
        assert user is not None
        return auth.create_token_for_user(conn, user["id"], "security test")


@contextlib.contextmanager
def client_for(site: Site, **settings: Any) -> Iterator[TestClient[Any]]:
    """The in-process app on the module's database with `settings`, with no failed
    authentication counted yet (the counts live in the database every app shares)."""
    with site.db.write() as conn:
        conn.execute(sa.delete(tables.throttle_counters))
    app = create_app(Settings(database_url=site.url, **settings))
    with TestClient(app) as client:
        yield client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in tables.metadata.sorted_tables
        }


@contextlib.contextmanager
def statements(client: TestClient[Any]) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block (observed, nothing changed)."""
    seen: list[str] = []
    engine = client.app.state.db.engine

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def assert_429(resp: httpx.Response, most: int) -> int:
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"message"} and body["message"], body
    wait = resp.headers["retry-after"]
    assert wait.isdigit() and 1 <= int(wait) <= most, wait
    return int(wait)


# --- the throttle itself ----------------------------------------------------------------


def test_throttle_counts_per_key_in_a_fixed_window() -> None:
    clock = FakeClock()
    throttle = Throttle(limit=3, window_seconds=10, clock=clock)
    assert [throttle.hit("a") for _ in range(3)] == [None, None, None]
    assert throttle.retry_after("a") == 10
    assert throttle.hit("a") == 10  # refused, and not counted
    assert throttle.retry_after("b") is None and throttle.hit("b") is None  # other keys
    clock.now += 4.5
    assert throttle.retry_after("a") == 6  # seconds left, rounded up
    clock.now += 5.5  # the window of "a" has ended
    assert throttle.retry_after("a") is None
    assert throttle.hit("a") is None  # a new window, counting from 1
    assert [throttle.hit("a") for _ in range(2)] == [None, None]
    assert throttle.hit("a") == 10


def test_throttle_memory_is_bounded() -> None:
    clock = FakeClock()
    throttle = Throttle(limit=1, window_seconds=60, max_keys=100, clock=clock)
    for i in range(1000):
        throttle.hit(f"10.0.{i // 256}.{i % 256}")
        clock.now += 0.001
        assert len(throttle) <= 100
    # The newest keys are kept (still refused), the oldest were dropped.
    assert throttle.retry_after("10.0.3.231") is not None  # i = 999
    assert throttle.retry_after("10.0.0.0") is None
    # Expired windows are dropped as new keys arrive.
    clock.now += 61
    throttle.hit("fresh")
    assert len(throttle) == 1


def test_throttle_settings() -> None:
    defaults = Settings()
    assert (defaults.auth_fail_limit, defaults.auth_fail_window_seconds) == (20, 60)
    assert defaults.token_rate_limit == 0  # the per-token limit is off by default
    limits = Limits.from_settings(defaults)
    assert limits.auth_failures is not None and limits.token_rate is None
    off = Limits.from_settings(Settings(auth_fail_limit=0))
    assert off.auth_failures is None
    with pytest.raises(ValueError, match="CHARTER_AUTH_FAIL_WINDOW_SECONDS"):
        Limits.from_settings(Settings(auth_fail_limit=5, auth_fail_window_seconds=0))
    with pytest.raises(ValueError, match="CHARTER_TOKEN_RATE_LIMIT"):
        Limits.from_settings(Settings(token_rate_limit=-1))


# --- tokens: stored as hashes, compared in constant time ------------------------------


def test_tokens_are_stored_only_as_sha256(site: Site) -> None:
    with client_for(site, auth_fail_limit=0) as client:
        resp = client.post("/api/v1/tokens", json={"name": "ci"}, headers=bearer(site.admin_token))
        assert resp.status_code == 201, resp.text
        secret = resp.json()["result"]["token"]
        assert secret.startswith(auth.TOKEN_PREFIX) and len(secret) > 40
        assert client.get("/api/v1/user", headers=bearer(secret)).status_code == 200
    with site.db.read() as conn:
        stored = conn.execute(
            sa.select(tables.api_tokens.c.token_hash).where(
                tables.api_tokens.c.id == resp.json()["result"]["id"]
            )
        ).scalar_one()
        assert stored == hashlib.sha256(secret.encode()).hexdigest()
        everything = [
            repr(tuple(row))
            for table in tables.metadata.sorted_tables
            for row in conn.execute(sa.select(table))
        ]
    assert not leaks(secret, everything), "the secret is stored somewhere"


def test_a_token_differing_in_one_character_is_401(site: Site) -> None:
    secret = site.admin_token
    random_part = secret[len(auth.TOKEN_PREFIX) :]
    variants = [secret[:-1], secret + "A", secret.upper(), "charter-" + random_part]
    for i in (0, len(random_part) // 2, len(random_part) - 1):
        flipped = "B" if random_part[i] != "B" else "C"
        variants.append(auth.TOKEN_PREFIX + random_part[:i] + flipped + random_part[i + 1 :])
    with client_for(site, auth_fail_limit=0) as client:
        assert client.get("/api/v1/user", headers=bearer(secret)).status_code == 200
        for variant in variants:
            resp = client.get("/api/v1/user", headers=bearer(variant))
            assert resp.status_code == 401, (variant, resp.text)
            assert resp.headers["www-authenticate"] == "Bearer"


def test_a_row_found_for_another_hash_is_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored hash is compared (hmac.compare_digest) before a row is accepted: a
    lookup that returned another token's real row does not authenticate."""
    _, mine = new_token(site)
    _, other = new_token(site)
    real_lookup = auth_queries.user_for_token_hash
    with site.db.read() as conn:
        assert auth.authenticate(conn, mine)[0].email == ADMIN
        monkeypatch.setattr(
            auth_queries,
            "user_for_token_hash",
            lambda c, _digest: real_lookup(c, auth.hash_token(other)),
        )
        assert auth_queries.user_for_token_hash(conn, "x") is not None  # a real row
        with pytest.raises(Unauthenticated):
            auth.authenticate(conn, mine)


# --- failed-authentication throttle ----------------------------------------------------


def test_failed_authentication_is_throttled_before_the_database(site: Site) -> None:
    token_id, revoked = new_token(site)
    with site.db.write() as conn:
        auth.revoke_token(conn, token_id)
    with client_for(site, auth_fail_limit=4, auth_fail_window_seconds=60) as client:
        good = bearer(site.admin_token)
        assert client.get("/api/v1/user", headers=good).status_code == 200
        failing = [
            {},  # missing
            {"Authorization": "Basic YWRhOmFkYQ=="},  # malformed
            bearer(revoked),  # revoked
        ]
        for headers in failing:
            assert client.get("/api/v1/projects", headers=headers).status_code == 401
        # A success in between resets nothing.
        assert client.get("/api/v1/user", headers=good).status_code == 200
        resp = client.post("/api/v1/projects", json={"name": "x"}, headers=bearer("charter_x"))
        assert resp.status_code == 401  # the 4th failure, on a write
        before = row_counts(site.db)
        with statements(client) as seen:
            assert_429(client.get("/api/v1/user", headers=good), 60)  # a valid token too
            assert_429(client.get("/api/v1/projects", headers={}), 60)
            resp = client.post("/api/v1/projects", json={"name": "Blocked"}, headers=good)
            assert_429(resp, 60)
            resp = client.delete(f"/api/v1/tokens/{token_id}", headers=good)
            assert_429(resp, 60)
        assert seen == [], "a throttled request touched the database"
        assert row_counts(site.db) == before


def test_the_failed_authentication_window_expires(site: Site) -> None:
    with client_for(site, auth_fail_limit=2, auth_fail_window_seconds=30) as client:
        clock = FakeClock()
        throttle = client.app.state.limits.auth_failures
        throttle.clock = clock
        good, bad = bearer(site.admin_token), bearer("charter_wrong")
        for _ in range(2):
            assert client.get("/api/v1/user", headers=bad).status_code == 401
        assert assert_429(client.get("/api/v1/user", headers=good), 30) == 30
        clock.now += 29.5
        assert assert_429(client.get("/api/v1/user", headers=good), 30) == 1
        clock.now += 0.5
        assert client.get("/api/v1/user", headers=good).status_code == 200
        # Counting starts again from zero.
        assert client.get("/api/v1/user", headers=bad).status_code == 401
        assert client.get("/api/v1/user", headers=good).status_code == 200


def test_the_throttle_can_be_switched_off(site: Site) -> None:
    with client_for(site, auth_fail_limit=0) as client:
        for _ in range(60):
            assert client.get("/api/v1/user", headers=bearer("charter_x")).status_code == 401
        assert client.get("/api/v1/user", headers=bearer(site.admin_token)).status_code == 200


# --- per-token rate limit ----------------------------------------------------------------


def test_the_token_rate_limit_is_off_by_default(site: Site) -> None:
    with client_for(site) as client:
        for _ in range(120):
            resp = client.get("/api/v1/user", headers=bearer(site.admin_token))
            assert resp.status_code == 200


def test_the_token_rate_limit_refuses_a_token_over_its_rate(site: Site) -> None:
    _, fast = new_token(site)
    _, other = new_token(site)
    with client_for(site, token_rate_limit=5) as client:
        clock = FakeClock()
        client.app.state.limits.token_rate.clock = clock
        path = f"/api/v1/projects/{site.project_id}/sessions"
        for _ in range(4):
            assert client.get("/api/v1/user", headers=bearer(fast)).status_code == 200
        created = client.post(path, json={"name": "Counted too"}, headers=bearer(fast))
        assert created.status_code == 201, created.text  # the 5th request: a write
        assert_429(client.get("/api/v1/user", headers=bearer(fast)), 60)
        before = row_counts(site.db)
        assert_429(client.post(path, json={"name": "Refused"}, headers=bearer(fast)), 60)
        assert row_counts(site.db) == before
        # Another token of the same user has its own allowance.
        assert client.get("/api/v1/user", headers=bearer(other)).status_code == 200
        clock.now += 30
        assert assert_429(client.get("/api/v1/user", headers=bearer(fast)), 60) == 30
        clock.now += 30
        assert client.get("/api/v1/user", headers=bearer(fast)).status_code == 200


def test_the_token_rate_is_shared_by_every_worker(site: Site) -> None:
    """Two app instances on one database (two workers, or two hosts) share one count per
    token: the limit is not multiplied by the number of workers."""
    _, token = new_token(site)
    with client_for(site, token_rate_limit=4) as one:
        app = create_app(Settings(database_url=site.url, token_rate_limit=4))
        with TestClient(app) as two:
            for client in (one, two, one, two):  # 4 requests, the allowance
                assert client.get("/api/v1/user", headers=bearer(token)).status_code == 200
            assert_429(two.get("/api/v1/user", headers=bearer(token)), 60)
            assert_429(one.get("/api/v1/user", headers=bearer(token)), 60)
    with site.db.read() as conn:
        stored = conn.execute(sa.select(tables.throttle_counters.c.key)).scalars().all()
    assert token not in " ".join(stored)  # only a hash of a hash is stored


# --- OpenAPI -------------------------------------------------------------------------------


def test_429_is_declared_on_every_authenticated_operation(site: Site) -> None:
    with client_for(site) as client:
        document = client.get("/api/schema/openapi.json").json()
    operations = [
        (method, path, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) > 60
    missing = [
        f"{method} {path}"
        for method, path, op in operations
        if "401" in op["responses"] and "429" not in op["responses"]
    ]
    assert not missing, missing
    unauthenticated = [f"{m} {p}" for m, p, op in operations if "401" not in op["responses"]]
    assert not unauthenticated, unauthenticated
    no_413 = [f"{m} {p}" for m, p, op in operations if m != "get" and "413" not in op["responses"]]
    assert not no_413, no_413


# --- 413 ----------------------------------------------------------------------------------


def write_routes(client: TestClient[Any]) -> list[tuple[str, str]]:
    found = []
    for route in client.app.routes:
        if route.path.startswith("/api/v1/") and isinstance(route, HTTPRoute):
            for method in route.route_handler_map:
                if method in ("POST", "PATCH", "PUT", "DELETE"):
                    found.append((str(method), route.path))
    return sorted(found)


def test_an_oversized_body_is_413_on_every_write_route(site: Site) -> None:
    limit = 2048
    # Attachment uploads have their own limit (CHARTER_MAX_UPLOAD_BYTES): set it alike.
    with client_for(
        site, max_body_bytes=limit, max_upload_bytes=limit, auth_fail_limit=0
    ) as client:
        routes = write_routes(client)
        assert len(routes) > 40
        too_big = b'{"name": "' + b"x" * limit + b'"}'
        before = row_counts(site.db)
        wrong = []
        for method, template in routes:
            path = template.replace("{", "").replace("}", "")
            path = "/".join("1" if ":" in part else part for part in path.split("/"))
            for headers in (bearer(site.admin_token), {}):
                resp = client.request(
                    method,
                    path,
                    content=too_big,
                    headers={**headers, "Content-Type": "application/json"},
                )
                if resp.status_code != 413 or resp.json() != {"message": "Request body too large."}:
                    wrong.append(f"{method} {path}: {resp.status_code} {resp.text[:100]}")
        assert not wrong, "\n".join(wrong)
        # Chunked (no Content-Length): the bytes read are counted.
        resp = client.post(
            "/api/v1/projects",
            content=iter([too_big[:1500], too_big[1500:]]),
            headers={**bearer(site.admin_token), "Content-Type": "application/json"},
        )
        assert resp.status_code == 413, resp.text
        assert row_counts(site.db) == before
        # At the limit exactly, the body is read (and judged: an unknown field is 422).
        body = b'{"name": "P", "pad": "' + b"x" * (limit - 24) + b'"}'
        assert len(body) == limit
        resp = client.post(
            "/api/v1/projects",
            content=body,
            headers={**bearer(site.admin_token), "Content-Type": "application/json"},
        )
        assert resp.status_code == 422 and "pad" in resp.json()["errors"], resp.text
        assert row_counts(site.db) == before


# --- secrets never in logs or bodies (in-process) -----------------------------------------


@dataclass
class Exchange:
    """What a battery of requests sent and got back."""

    secrets: set[str] = field(default_factory=set)
    # Secrets sent in a URL path: never echoed in a body; the access log names the path.
    url_secrets: set[str] = field(default_factory=set)
    bodies: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)  # of the 500s

    def keep(self, resp: httpx.Response) -> httpx.Response:
        self.bodies.append(resp.text)
        self.bodies.append(repr(resp.headers.multi_items()))
        self.statuses.append(resp.status_code)
        return resp


@contextlib.contextmanager
def broken_token_table(site: Site) -> Iterator[None]:
    """Every authentication fails with a database error (a 500) inside the block."""
    with site.db.write() as conn:
        conn.exec_driver_sql("ALTER TABLE api_tokens RENAME TO api_tokens_away")
    try:
        yield
    finally:
        with site.db.write() as conn:
            conn.exec_driver_sql("ALTER TABLE api_tokens_away RENAME TO api_tokens")


def drive(site: Site, client: httpx.Client, throttled_after: int | None) -> Exchange:
    """Successes, a revocation, a 500, then failures with secrets in every odd place,
    then (when the app throttles) failures until 429. Returns what went over the wire."""
    ex = Exchange()
    token_id, valid = new_token(site)
    revoked_id, revoked = new_token(site)
    _, misplaced = new_token(site)  # valid, but only ever sent where it does not belong
    _, in_query = new_token(site)  # valid, sent in query strings
    _, in_path = new_token(site)  # valid, sent in a path
    near = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    unknown = auth.TOKEN_PREFIX + random_secrets.token_urlsafe(32)
    ex.secrets |= {valid, revoked, misplaced, near, unknown, in_query}
    ex.url_secrets.add(in_path)
    json_type = {"Content-Type": "application/json"}
    project = f"/api/v1/projects/{site.project_id}"

    # Successes, with the secret also in the body, path and query (echoed input).
    for path in ("/api/v1/user", "/api/v1/projects", f"{project}/sessions?per_page=15"):
        assert ex.keep(client.get(path, headers=bearer(valid))).status_code == 200
    created = ex.keep(client.post(f"{project}/sessions", json={"name": "S"}, headers=bearer(valid)))
    assert created.status_code == 201, created.text
    echoes = [
        ("GET", f"/api/v1/sessions/{in_path}", None),
        ("GET", f"{project}/sessions?expands={in_query}", None),
        ("GET", f"/api/v1/projects?sort={in_query}&token={in_query}", None),
        ("POST", "/api/v1/tokens", f'{{"name": "n", "{misplaced}": 1}}'),
        ("POST", "/api/v1/tokens", f'{{"name": ["{misplaced}"]}}'),
        ("POST", "/api/v1/projects", f'{{"name": "{misplaced}'),  # malformed JSON
        ("POST", f"{project}/sessions", f'{{"name": "a", "template_id": "{misplaced}"}}'),
        ("POST", f"{project}/sessions", f'{{"name": "a", "tags": "{misplaced}"}}'),
    ]
    for method, path, body in echoes:
        resp = ex.keep(
            client.request(method, path, content=body, headers={**bearer(valid), **json_type})
        )
        assert resp.status_code in (400, 404, 422), (path, resp.status_code, resp.text)

    # Revoke through the API; the revoked token fails.
    resp = ex.keep(client.delete(f"/api/v1/tokens/{revoked_id}", headers=bearer(valid)))
    assert resp.status_code == 204, resp.text

    # A 500, with a token in the failing request.
    with broken_token_table(site):
        resp = ex.keep(client.get("/api/v1/user", headers=bearer(valid)))
    assert resp.status_code == 500, resp.text
    ex.request_ids.append(resp.headers["x-request-id"])
    assert ex.keep(client.get("/api/v1/user", headers=bearer(valid))).status_code == 200

    # Failures: the secrets in every odd place of the credentials.
    odd = [
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {near}"},
        {"Authorization": f"Bearer {unknown}"},
        {"Authorization": f"Basic {misplaced}"},
        {"Authorization": f"Token {misplaced}"},
        {"Authorization": misplaced},
        {"Authorization": f"Bearer {misplaced} {misplaced}"},
        {"Authorization": f"Bearer {misplaced},Bearer {valid}"},
        {"Authorization": f"Bearer\t{misplaced}x"},
        {"X-Api-Key": misplaced, "Cookie": f"token={misplaced}"},
    ]
    for headers in odd:
        resp = ex.keep(client.get("/api/v1/projects", headers=headers))
        assert resp.status_code == 401, (headers, resp.text)
    body = f'{{"name": "x", "token": "{misplaced}"}}'
    resp = ex.keep(
        client.post("/api/v1/projects", content=body, headers={**bearer(near), **json_type})
    )
    assert resp.status_code == 401
    resp = ex.keep(client.post("/api/v1/tokens", content=body, headers=json_type))
    assert resp.status_code == 401
    resp = ex.keep(client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(unknown)))
    assert resp.status_code == 401
    failures = len(odd) + 3

    if throttled_after is not None:
        assert failures <= throttled_after
        for _ in range(throttled_after - failures):
            assert ex.keep(client.get("/api/v1/user", headers=bearer(near))).status_code == 401
        resp = ex.keep(client.get("/api/v1/user", headers=bearer(valid)))
        assert resp.status_code == 429, resp.text
        resp = ex.keep(client.get("/api/v1/user", headers=bearer(near)))
        assert resp.status_code == 429, resp.text
    return ex


def test_no_secret_in_logs_or_bodies_in_process(
    site: Site, log_capture: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    with client_for(site, log_level="debug", auth_fail_limit=40) as client:
        log_capture.start()
        ex = drive(site, client, throttled_after=40)
        log_capture.stop()
    out, err = capfd.readouterr()
    assert {200, 201, 204, 400, 401, 404, 422, 429, 500} <= set(ex.statuses)
    logged = log_capture.server_texts()
    # The capture is live: the 500 was logged with its request id.
    assert any(ex.request_ids[0] in text for text in logged), "the 500 was not logged"
    for secret in ex.secrets:
        assert not leaks(secret, logged), "a secret in a log record"
        assert not leaks(secret, [out, err]), "a secret on stdout/stderr"
    for secret in ex.secrets | ex.url_secrets:
        assert not leaks(secret, ex.bodies), "a secret in a response"


# --- a real `charter serve`: logs, revocation, throttle by address, 413 ---------------------


@dataclass
class Live:
    base_url: str
    log: Path
    secrets: set[str] = field(default_factory=set)
    stop: Callable[[], None] = lambda: None


@pytest.fixture(scope="module")
def live(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    env = {
        "CHARTER_LOG_LEVEL": "debug",
        "CHARTER_AUTH_FAIL_LIMIT": str(LIVE_FAIL_LIMIT),
        "CHARTER_AUTH_FAIL_WINDOW_SECONDS": str(LIVE_WINDOW),
        "CHARTER_MAX_BODY_BYTES": str(LIVE_MAX_BODY),
        "CHARTER_TOKEN_RATE_LIMIT": "",
    }
    log = tmp_path_factory.mktemp("live") / "serve.log"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        with contextlib.ExitStack() as stack:
            base_url = stack.enter_context(serving(site.url, site.admin_token, log))
            yield Live(base_url, log, stop=stack.close)


def from_address(live: Live, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is local), so
    the server sees a different client address per test."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=live.base_url, transport=transport, timeout=10)


def test_a_revoked_token_fails_at_once_on_a_running_server(site: Site, live: Live) -> None:
    by_api_id, by_api = new_token(site)
    by_cli_id, by_cli = new_token(site)
    live.secrets |= {by_api, by_cli}
    with from_address(live, "127.0.0.3") as client:
        for secret in (by_api, by_cli):  # warm any cache there might be
            for _ in range(3):
                assert client.get("/api/v1/user", headers=bearer(secret)).status_code == 200
        resp = client.delete(f"/api/v1/tokens/{by_api_id}", headers=bearer(site.admin_token))
        assert resp.status_code == 204, resp.text
        for _ in range(3):
            assert client.get("/api/v1/user", headers=bearer(by_api)).status_code == 401
        assert client.get("/api/v1/user", headers=bearer(by_cli)).status_code == 200
        charter(site.url, "token", "revoke", "--id", str(by_cli_id))
        for _ in range(3):
            assert client.get("/api/v1/user", headers=bearer(by_cli)).status_code == 401
        assert client.get("/api/v1/user", headers=bearer(site.admin_token)).status_code == 200


def test_failed_authentication_is_throttled_per_address(site: Site, live: Live) -> None:
    good = bearer(site.admin_token)
    with from_address(live, "127.0.0.4") as noisy, from_address(live, "127.0.0.5") as quiet:
        for _ in range(LIVE_FAIL_LIMIT):
            assert noisy.get("/api/v1/user", headers=bearer("charter_guess")).status_code == 401
        wait = assert_429(noisy.get("/api/v1/user", headers=good), LIVE_WINDOW)
        # Another address is unaffected, and its success does not unblock the first.
        assert quiet.get("/api/v1/user", headers=good).status_code == 200
        assert quiet.get("/api/v1/user", headers=bearer("charter_guess")).status_code == 401
        assert_429(noisy.post("/api/v1/projects", json={"name": "x"}, headers=good), LIVE_WINDOW)
        # After Retry-After, the address is served again.
        time.sleep(wait)
        assert noisy.get("/api/v1/user", headers=good).status_code == 200


def test_an_oversized_body_is_413_on_a_running_server(site: Site, live: Live) -> None:
    good = {**bearer(site.admin_token), "Content-Type": "application/json"}
    too_big = b'{"name": "' + b"x" * LIVE_MAX_BODY + b'"}'
    before = row_counts(site.db)
    with from_address(live, "127.0.0.6") as client:
        path = f"/api/v1/projects/{site.project_id}/sessions"
        resp = client.post(path, content=too_big, headers=good)
        assert resp.status_code == 413 and resp.json() == {"message": "Request body too large."}

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(too_big), 1000):
                yield too_big[i : i + 1000]

        resp = client.post(path, content=chunks(), headers=good)
        assert resp.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in resp.request.headers
        assert resp.status_code == 413 and resp.json() == {"message": "Request body too large."}
        at_limit = b'{"name": "At the limit", "charter": "' + b"x" * LIVE_MAX_BODY
        at_limit = at_limit[: LIVE_MAX_BODY - 2] + b'"}'
        resp = client.post(path, content=at_limit, headers=good)
        assert resp.status_code == 201, resp.text  # exactly at the limit: written
    after = row_counts(site.db)
    assert after["sessions"] == before["sessions"] + 1


def test_no_secret_in_the_server_log(site: Site, live: Live) -> None:
    """Runs last: drives the battery from its own address, stops the server (so every
    line is flushed) and searches its whole stdout/stderr for every secret this module
    sent it."""
    with from_address(live, "127.0.0.7") as client:
        ex = drive(site, client, throttled_after=LIVE_FAIL_LIMIT)
    live.stop()
    text = live.log.read_text()
    assert ex.request_ids[0] in text, "the 500 is not in the server log:\n" + text[-2000:]
    for secret in ex.secrets | live.secrets | {site.admin_token}:
        assert not leaks(secret, [text]), "a secret in the server log"
    for secret in ex.secrets | ex.url_secrets:
        assert not leaks(secret, ex.bodies), "a secret in a response"
