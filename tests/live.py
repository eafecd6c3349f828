"""Running `charter serve` as a real process for tests that need one."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CHARTER = Path(sys.executable).parent / "charter"
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def charter(database_url: str, *args: str, timeout: float = 300) -> str:
    """Run the CLI; returns stdout, raises with its output when it fails."""
    proc = subprocess.run(
        [str(CHARTER), "--database", database_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"charter {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


@contextlib.contextmanager
def serving(database_url: str, token: str, log: Path, workers: int = 1) -> Iterator[str]:
    """`charter serve` on a free port until the block ends; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    # Attachments beside the log: on PostgreSQL the default folder is the working
    # directory's `charter-attachments` (the checkout).
    env = {**os.environ}
    env.setdefault("CHARTER_ATTACHMENTS_DIR", str(log.parent / "attachments"))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CHARTER), "--database", database_url, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_until_up(proc, base_url, token, log)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"charter serve exited {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            resp = httpx.get(
                f"{base_url}/api/v1/user", headers={"Authorization": f"Bearer {token}"}, timeout=2
            )
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}: {resp.text[:300]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise AssertionError(f"charter serve did not come up ({last}):\n{log.read_text()[-4000:]}")
