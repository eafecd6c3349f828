"""Operations: the /health and /ready probes, request ids on every response, one
structured access line per request (without secrets), the 500 body and log naming
the request id, and the log formats."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Response, get
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from charter.app import create_app
from charter.auth import service as auth
from charter.db.engine import Database
from charter.logs import JsonFormatter, TextFormatter, logging_config
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import TEST_DATABASE_ENV, _pg_admin_url, backend, migrate
from live import CHARTER

GENERATED_ID = re.compile(r"[0-9a-f]{16}")
SECRET_QUERY = "hunter2-secret"


@pytest.fixture(scope="module")
def url(module_database_url: str) -> str:
    db = migrate(module_database_url)
    with db.write() as conn:
        user_service.new_user(conn, "Ada", "ada@example.com", is_admin=True)
    db.close()
    return module_database_url


@pytest.fixture(scope="module")
def token(url: str) -> str:
    db = Database(url)
    with db.write() as conn:
        secret = auth.create_token(conn, "ada@example.com", "ops tests")
    db.close()
    return secret


@get("/test-only/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("a secret detail the client must not see")


@get("/test-only/own-id", sync_to_thread=False)
def own_id() -> Response[bytes]:
    return Response(b"{}", media_type="application/json", headers={"X-Request-Id": "own-id"})


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[TestClient[Any]]:
    """The real app on the module's database, plus one route that always fails."""
    app = create_app(Settings(database_url=url))
    app.register(boom)
    app.register(own_id)
    with TestClient(app) as test_client:
        yield test_client


def unreachable_url(tmp_path: Path) -> str:
    """A URL of the suite's backend that names no database that can be opened."""
    if backend() == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-dir' / 'charter.db'}"
    return (
        make_url(os.environ[TEST_DATABASE_ENV])
        .set(database="charter_no_such_database")
        .render_as_string(hide_password=False)
    )


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "charter.access"]


# --- probes ----------------------------------------------------------------------------


def test_probes_answer_without_a_token(client: TestClient[Any]) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok"}
    for resp in (health, ready):
        assert resp.headers["cache-control"] == "no-store"
        assert "www-authenticate" not in resp.headers


def test_health_needs_no_database_and_ready_reports_it_unreachable(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(database_url=unreachable_url(tmp_path)))) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 503
        body = ready.json()
        assert set(body) == {"message"}
        assert "database" in body["message"]
        assert client.get("/health").status_code == 200
    # Asking did not create the database.
    if backend() == "sqlite":
        assert not (tmp_path / "no-such-dir").exists()


def test_ready_is_503_on_a_database_that_is_not_migrated(fresh_database_url: str) -> None:
    if backend() == "sqlite":  # an existing, empty file
        sa.create_engine(fresh_database_url).connect().close()
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert "charter migrate" in ready.json()["message"]
        assert client.get("/health").status_code == 200


def test_ready_turns_503_when_the_database_goes_away(fresh_database_url: str) -> None:
    migrate(fresh_database_url).close()
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        assert client.get("/ready").status_code == 200  # the pool now holds a connection
        if backend() == "sqlite":
            path = Path(make_url(fresh_database_url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            want = "The database file is missing."
        else:
            name = make_url(fresh_database_url).database
            server = _pg_admin_url(os.environ[TEST_DATABASE_ENV])
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.dispose()
            want = "The database is not reachable."
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json() == {"message": want}
        assert client.get("/health").status_code == 200


def test_probes_are_not_api_routes(client: TestClient[Any]) -> None:
    paths = client.get("/api/schema/openapi.json").json()["paths"]
    assert "/health" not in paths and "/ready" not in paths
    assert client.post("/health").status_code == 405


# --- request ids -----------------------------------------------------------------------


def test_every_response_carries_one_request_id(client: TestClient[Any], token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    responses = {
        200: client.get("/api/v1/user", headers=bearer),
        401: client.get("/api/v1/user"),
        404: client.get("/api/v1/no-such-route", headers=bearer),
        405: client.delete("/api/v1/user", headers=bearer),
        422: client.get("/api/v1/projects", params={"per_page": "x"}, headers=bearer),
        500: client.get("/test-only/boom"),
    }
    ids = []
    for status, resp in responses.items():
        assert resp.status_code == status, resp.text
        assert len(resp.headers.get_list("x-request-id")) == 1, resp.headers
        ids.append(resp.headers["x-request-id"])
        assert GENERATED_ID.fullmatch(ids[-1]), ids[-1]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "incoming",
    ["abc-123", "0123456789abcdef0123456789abcdef", "req:42/a.b_c=d+e@f", "x" * 64],
)
def test_a_sane_incoming_request_id_is_kept(client: TestClient[Any], incoming: str) -> None:
    resp = client.get("/health", headers={"X-Request-Id": incoming})
    assert resp.headers["x-request-id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [b"", b"x" * 65, b"has space", b"tab\there", "caf\u00e9".encode("latin-1"), b"\xff\xfe"],
)
def test_an_odd_incoming_request_id_is_replaced(client: TestClient[Any], incoming: bytes) -> None:
    resp = client.get("/health", headers={b"X-Request-Id": incoming})
    assert resp.status_code == 200
    assert GENERATED_ID.fullmatch(resp.headers["x-request-id"])


def test_a_handler_that_sets_its_own_request_id_keeps_it(
    client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="charter.access")
    resp = client.get("/test-only/own-id", headers={"X-Request-Id": "incoming"})
    assert resp.headers.get_list("x-request-id") == ["own-id"]
    assert [r.access["request_id"] for r in access_lines(caplog)] == ["own-id"]  # type: ignore[attr-defined]


# --- access log ------------------------------------------------------------------------


def test_one_access_line_per_request_without_secrets(
    client: TestClient[Any], token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="charter.access")
    bearer = {"Authorization": f"Bearer {token}", "X-Request-Id": "trace-7"}
    resp = client.get("/api/v1/projects?per_page=15", headers=bearer)
    assert resp.status_code == 200
    secret = client.get(f"/api/v1/projects?per_page=15&token={SECRET_QUERY}", headers=bearer)
    assert secret.status_code == 200  # unknown parameters are ignored, and never logged
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404

    lines = access_lines(caplog)
    assert [r.access["request_id"] for r in lines] == [  # type: ignore[attr-defined]
        "trace-7",
        "trace-7",
        missing.headers["x-request-id"],
    ]
    first = json.loads(JsonFormatter().format(lines[0]))
    assert set(first) == {
        "time",
        "level",
        "logger",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "client",
    }
    assert first["logger"] == "charter.access" and first["level"] == "info"
    assert (first["method"], first["path"], first["status"]) == ("GET", "/api/v1/projects", 200)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["client"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    second = json.loads(JsonFormatter().format(lines[1]))
    assert (second["path"], second["status"]) == ("/api/v1/projects", 200)
    third = json.loads(JsonFormatter().format(lines[2]))
    assert (third["path"], third["status"]) == ("/api/v1/nothing-here", 404)
    for record in lines:
        for text in (JsonFormatter().format(record), TextFormatter().format(record)):
            assert token not in text and "Bearer" not in text
            assert SECRET_QUERY not in text and "per_page" not in text


def test_a_500_names_its_request_id_in_body_header_and_logs(
    client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="charter")
    for incoming in (None, "trace-500"):
        caplog.clear()
        headers = {"X-Request-Id": incoming} if incoming else {}
        resp = client.get("/test-only/boom", headers=headers)
        assert resp.status_code == 500
        request_id = resp.headers["x-request-id"]
        if incoming:
            assert request_id == incoming
        assert resp.json() == {"message": f"Internal server error (request id {request_id})."}
        assert "secret detail" not in resp.text

        errors = [r for r in caplog.records if r.name == "charter.api"]
        assert len(errors) == 1
        logged = json.loads(JsonFormatter().format(errors[0]))
        assert logged["request_id"] == request_id
        assert logged["level"] == "error"
        assert "RuntimeError: a secret detail" in logged["exception"]
        assert f"[request {request_id}]" in TextFormatter().format(errors[0])
        (access,) = access_lines(caplog)
        assert access.access == {**access.access, "request_id": request_id, "status": 500}  # type: ignore[attr-defined]


# --- log setup -------------------------------------------------------------------------


def test_logging_config_formats() -> None:
    config = logging_config("warning", "text")
    assert config["formatters"]["charter"]["()"] == "charter.logs.TextFormatter"
    assert config["loggers"]["charter"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert logging_config("info", "json")["formatters"]["charter"]["()"] == (
        "charter.logs.JsonFormatter"
    )
    with pytest.raises(ValueError, match="json, text"):
        logging_config("info", "xml")


def test_serve_rejects_an_unknown_log_format(url: str) -> None:
    proc = subprocess.run(
        [str(CHARTER), "--database", url, "serve", "--port", "1"],
        env={"CHARTER_LOG_FORMAT": "xml", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "CHARTER_LOG_FORMAT" in proc.stderr and "json, text" in proc.stderr
