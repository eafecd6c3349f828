"""Graceful shutdown: SIGTERM to a real `charter serve` lets the requests in flight
finish with complete 2xx answers, stores their writes, and exits 0; its log on stderr
is JSON lines, with one access line per request naming the request id.

A request is surely in flight when the server has asked for its body: each one is
sent with `Expect: 100-continue`, and its body only after the server's "100 Continue"
(sent when the handler starts reading) and after the server has logged that it is
shutting down. No sleeps, no timing assumptions."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from charter.auth import service as auth
from charter.db.engine import Database
from charter.projects import service as project_service
from charter.sessions import counters
from charter.sessions import queries as session_queries
from charter.users import service as user_service
from helpers_db import migrate
from live import CHARTER, _wait_until_up, free_port

pytestmark = pytest.mark.shutdown

IN_FLIGHT = 4
BULK = 250  # results per in-flight request
DEADLINE_S = 60.0


def prepare(url: str) -> tuple[str, int]:
    db = migrate(url)
    with db.write() as conn:
        user_service.new_user(conn, "Ada", "ada@example.com", is_admin=True)
        token = auth.create_token(conn, "ada@example.com", "shutdown test")
        project_id = project_service.new_project(conn, "Shutdown", created_by=1)
    db.close()
    return token, project_id


def hold_request(port: int, head: str) -> socket.socket:
    """Send a request's head with Expect: 100-continue; return once the server has
    asked for the body (the handler is running)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
    sock.sendall(head.encode())
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        assert chunk, f"connection closed before 100 Continue: {interim!r}"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return sock


def wait_for_line(log: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while text not in log.read_text():
        assert proc.poll() is None or text in log.read_text(), log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def test_sigterm_finishes_in_flight_requests_and_exits_0(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    token, project_id = prepare(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    args = ["--database", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen([str(CHARTER), *args], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, base, token, log)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=DEADLINE_S) as client:
            created = client.post(f"/api/v1/projects/{project_id}/sessions", json={"name": "Last"})
            assert created.status_code == 201, created.text
            sid = created.json()["result"]["id"]

        bodies, held = [], []
        for i in range(IN_FLIGHT):
            notes = [{"status_id": 2 + j % 5, "note": f"in flight {i}.{j}"} for j in range(BULK)]
            body = json.dumps({"results": notes}).encode()
            head = (
                f"POST /api/v1/sessions/{sid}/results HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Expect: 100-continue\r\n"
                f"X-Request-Id: in-flight-{i}\r\n\r\n"
            )
            held.append(hold_request(port, head))
            bodies.append(body)

        proc.send_signal(signal.SIGTERM)
        wait_for_line(log, "Shutting down", proc)
        assert proc.poll() is None, "the server exited with requests in flight"

        for sock, body in zip(held, bodies, strict=True):
            sock.sendall(body)
        for i, sock in enumerate(held):
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            payload = resp.read()  # the whole body, by its Content-Length
            sock.close()
            assert resp.status == 201, payload[:500]
            assert resp.getheader("x-request-id") == f"in-flight-{i}"
            assert len(json.loads(payload)["result"]) == BULK
        assert proc.wait(timeout=DEADLINE_S) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    db = Database(url)
    with db.read() as conn:
        stored = session_queries.stored_counters(conn, [sid])[sid]["total_count"]
        assert counters.verify(conn) == []
    db.close()
    assert stored == IN_FLIGHT * BULK

    # stderr is JSON lines: uvicorn's own lines and one access line per request.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger"} <= set(line) for line in lines)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "charter.access"}
    for i in range(IN_FLIGHT):
        line = access[f"in-flight-{i}"]
        assert (line["method"], line["status"]) == ("POST", 201)
        assert line["path"] == f"/api/v1/sessions/{sid}/results"
    assert token not in log.read_text()
