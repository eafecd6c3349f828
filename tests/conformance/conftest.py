"""Fixtures for the conformance suite: a live Charter server and the Node driver.

The server runs as a real process (``charter serve``) on a demo dataset, so the
official Testmo JS binding talks to it over HTTP exactly as it would to Testmo.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "drive.cjs"
CHARTER = Path(sys.executable).parent / "charter"
ADMIN_EMAIL = "admin@example.com"
DEMO_SESSIONS = 60
DEMO_SEED = 1
STARTUP_TIMEOUT = 30.0


def _missing_tool(message: str) -> None:
    """Fail on CI (where the tooling must exist), skip on a developer machine."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def node_tooling() -> str:
    """Path of ``node``, with the binding installed under tests/conformance."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        _missing_tool("node and npm are required for the conformance tests")
    assert node is not None and npm is not None
    packages = ("testmo-api", "testmo-cli")  # the binding and the CLI (test_testmo_cli.py)
    if not all((HERE / "node_modules" / "@testmo" / p / "package.json").exists() for p in packages):
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            pytest.fail(f"npm ci failed in {HERE}:\n{proc.stdout}\n{proc.stderr}")
    return node


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _charter(database_url: str, *args: str, timeout: float = 300) -> str:
    proc = subprocess.run(
        [str(CHARTER), "--database", database_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"charter {' '.join(args)} exited {proc.returncode}:\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc.stdout


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    token: str

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=30.0,
        )


@pytest.fixture(scope="module")
def live_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A ``charter serve`` process on a migrated demo database, with an admin token.

    To debug against a server you started yourself (on the same demo dataset), set
    ``CHARTER_CONFORMANCE_BASE_URL`` and ``CHARTER_CONFORMANCE_TOKEN``.
    """
    external = os.environ.get("CHARTER_CONFORMANCE_BASE_URL")
    if external:
        yield LiveServer(
            base_url=external.rstrip("/"), token=os.environ["CHARTER_CONFORMANCE_TOKEN"]
        )
        return
    if not CHARTER.exists():
        pytest.fail(f"console script not found: {CHARTER} (is the project installed?)")
    url = module_database_url
    _charter(url, "migrate")
    _charter(url, "demo", "--sessions", str(DEMO_SESSIONS), "--seed", str(DEMO_SEED))
    token_lines = _charter(url, "token", "create", "--email", ADMIN_EMAIL).strip().splitlines()
    assert len(token_lines) == 1, f"token create must print only the token, got {token_lines!r}"
    token = token_lines[0].strip()
    assert token, "token create printed an empty token"

    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "charter-serve.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(CHARTER), "--database", url, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(proc, base_url, token, log_path)
            yield LiveServer(base_url=base_url, token=token)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"charter serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            response = httpx.get(
                f"{base_url}/api/v1/user",
                headers={"Authorization": f"Bearer {token}"},
                timeout=2.0,
            )
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}: {response.text[:500]}"
        except httpx.HTTPError as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    pytest.fail(
        f"charter serve did not answer GET /api/v1/user within {STARTUP_TIMEOUT}s "
        f"(last: {last_error}):\n{log.read_text()[-4000:]}"
    )


class Driver:
    """Runs calls through the official binding (tests/conformance/drive.cjs)."""

    def __init__(self, node: str, server: LiveServer) -> None:
        self.node = node
        self.server = server

    def run(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        payload = {"base_url": self.server.base_url, "token": self.server.token, "calls": calls}
        proc = subprocess.run(
            [self.node, str(DRIVER)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=HERE,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.fail(f"node driver exited {proc.returncode}:\n{proc.stderr}")
        results: list[dict[str, Any]] = json.loads(proc.stdout)
        assert len(results) == len(calls)
        return results


@pytest.fixture(scope="module")
def driver(node_tooling: str, live_server: LiveServer) -> Driver:
    return Driver(node_tooling, live_server)
