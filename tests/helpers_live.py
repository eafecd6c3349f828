"""Setup and checks shared by the tests that drive a real `charter serve` process
(concurrency, crash safety, load): a fresh instance with one admin token and one
project, a server that can be SIGKILLed as a whole process group, and the check that
every stored counter equals a recount."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from charter.db.engine import Database
from charter.projects import queries as project_queries
from charter.projects import service as project_service
from charter.sessions import counters
from charter.sessions import queries as session_queries
from live import CHARTER, _wait_until_up, charter, free_port

COUNTER_NAMES = ("session_count", "session_active_count", "session_closed_count")


@dataclass(frozen=True)
class Instance:
    """A migrated database with an admin, their API token and one empty project."""

    url: str
    token: str
    project_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def prepare_instance(url: str, project: str = "Load") -> Instance:
    charter(url, "migrate")
    charter(url, "user", "create", "--name", "Ada", "--email", "ada@example.com", "--admin")
    token = charter(url, "token", "create", "--email", "ada@example.com").strip()
    db = Database(url)
    try:
        with db.write() as conn:
            project_id = project_service.new_project(conn, project, created_by=1)
    finally:
        db.close()
    return Instance(url, token, project_id)


def assert_counters_exact(db: Database) -> None:
    """Stored session counters and project session counters equal a recount."""
    with db.read() as conn:
        assert counters.verify(conn) == [], "session counters differ from a recount"
        for project_id in project_queries.all_project_ids(conn):
            project = project_queries.project_by_id(conn, project_id)
            assert project is not None
            stored = {name: project[name] for name in COUNTER_NAMES}
            assert stored == session_queries.project_session_counts(conn, project_id), project_id


class KillableServer:
    """`charter serve` in its own process group, so that SIGKILL reaches uvicorn's
    worker processes too (killing only the parent would leave them serving)."""

    def __init__(self, instance: Instance, log: Path) -> None:
        self.instance = instance
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, workers: int = 1) -> str:
        """Start on a free port; returns the base URL once the API answers."""
        assert self.proc is None, "already running"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        with self.log.open("ab") as out:
            out.write(f"\n=== serve --workers {workers} on {base_url}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [str(CHARTER), "--database", self.instance.url, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_up(self.proc, base_url, self.instance.token, self.log)
        except BaseException:
            self.kill()
            raise
        return base_url

    def kill(self) -> None:
        """SIGKILL the whole process group and wait until none of it runs."""
        self._signal(signal.SIGKILL, grace=10)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), SIGKILL if it does not end in time."""
        try:
            self._signal(signal.SIGTERM, grace=15)
        except AssertionError:
            self.kill()

    def _signal(self, sig: signal.Signals, grace: float) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"charter serve ignored {sig.name}") from None
        # The workers are reparented when the parent dies: wait for them too, so the
        # next check sees the database exactly as the crash left it.
        deadline = time.monotonic() + grace
        while _group_running(proc.pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"processes of group {proc.pid} outlived {sig.name}")
            time.sleep(0.05)
        self.proc = None


def _group_running(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in process group `pgid`."""
    # `with`: returning early must still close the iterator (else a ResourceWarning).
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesised command name: state, ppid, pgrp, ...
            state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == pgid and state not in ("Z", "X"):
                return True
    return False
