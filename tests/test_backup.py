"""`charter backup` and `charter restore`.

On SQLite: a backup taken while a real `charter serve` takes a stream of result writes
from several threads holds every write acknowledged before the backup started and
none sent after it ended; restored into another database (replacing what was there)
and served, it answers the same data with counters equal to a recount. The commands
refuse to overwrite, to restore what is not a Charter database of this schema, and to
restore under a running server. On PostgreSQL both point to pg_dump / pg_restore."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from charter.auth import service as auth
from charter.cli import main
from charter.db.engine import Database
from charter.projects import service as project_service
from charter.sessions import counters
from charter.users import service as user_service
from helpers_db import backend, migrate
from live import serving

WRITERS = 3
PRELOAD_BULKS = 4  # x 1,000 results with 500-byte notes
PRELOAD = PRELOAD_BULKS * 1000
BEFORE_BACKUP = 60  # acknowledged results before the backup starts
AFTER_BACKUP = 30  # results sent after it ended, at least
DEADLINE_S = 120.0

sqlite_only = pytest.mark.skipif(backend() != "sqlite", reason="SQLite only (see pg_dump test)")


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def run(url: str, *args: str, stdin: str | None = None) -> Ran:
    """The real command, in-process (the server under test is a separate process)."""
    result = CliRunner().invoke(main, ["--database", url, *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def prepare(url: str) -> tuple[str, int]:
    """A migrated database with an admin and one project: (token, project id)."""
    db = migrate(url)
    with db.write() as conn:
        user_service.new_user(conn, "Ada", "ada@example.com", is_admin=True)
        token = auth.create_token(conn, "ada@example.com", "backup tests")
        project_id = project_service.new_project(conn, "Backups", created_by=1)
    db.close()
    return token, project_id


def emails(url: str) -> list[str]:
    # Plain sqlite3, closed at once: an open connection would make restore refuse.
    with contextlib.closing(sqlite3.connect(path_of(url))) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM users ORDER BY id")]


def add_user(url: str, email: str) -> None:
    db = Database(url)
    with db.write() as conn:
        user_service.new_user(conn, email.split("@")[0], email)
    db.close()


def result_ids(path: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM session_results")}


def path_of(url: str) -> Path:
    return Path(make_url(url).database or "")


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.load
@sqlite_only
def test_backup_under_write_load_then_restore_and_serve(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    token, project_id = prepare(url)
    headers = {"Authorization": f"Bearer {token}"}
    backup_path = tmp_path / "backups" / "charter-backup.db"
    backup_path.parent.mkdir()

    lock = threading.Lock()
    acked: list[int] = []  # result ids whose 201 arrived
    sent_after: list[int] = []  # result ids of requests sent after the backup ended
    stop = threading.Event()
    backup_done = threading.Event()

    with serving(url, token, tmp_path / "serve.log") as base:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            created = client.post(f"/api/v1/projects/{project_id}/sessions", json={"name": "Busy"})
            assert created.status_code == 201, created.text
            sid = created.json()["result"]["id"]
            assert client.post(f"/api/v1/sessions/{sid}/start").status_code == 200
            # Some megabytes first, so that copying them overlaps the writes.
            for i in range(PRELOAD_BULKS):
                notes = [
                    {"status_id": 2, "note": f"preload {i}.{j} " + "x" * 500} for j in range(1000)
                ]
                preload = client.post(f"/api/v1/sessions/{sid}/results", json={"results": notes})
                assert preload.status_code == 201, preload.text
                acked.extend(r["id"] for r in preload.json()["result"])

        def writer(n: int) -> int:
            writes = 0
            with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
                while not stop.is_set():
                    after = backup_done.is_set()  # read before the request leaves
                    status_id = 2 + (n + writes) % 5
                    if writes % 4 == 0:
                        body: dict[str, object] = {"results": [{"status_id": status_id}] * 3}
                    else:
                        body = {"status_id": status_id, "note": f"writer {n} note {writes}"}
                    resp = c.post(f"/api/v1/sessions/{sid}/results", json=body)
                    assert resp.status_code == 201, resp.text
                    result = resp.json()["result"]
                    ids = [r["id"] for r in result] if isinstance(result, list) else [result["id"]]
                    with lock:
                        acked.extend(ids)
                        if after:
                            sent_after.extend(ids)
                    writes += 1
            return writes

        with ThreadPoolExecutor(WRITERS) as pool:
            futures = [pool.submit(writer, n) for n in range(WRITERS)]
            try:
                wait_for(lambda: len(acked) >= PRELOAD + BEFORE_BACKUP, "writes before the backup")
                with lock:
                    before = set(acked)
                made = run(url, "backup", str(backup_path))
                backup_done.set()
                wait_for(lambda: len(sent_after) >= AFTER_BACKUP, "writes after the backup")
            finally:
                stop.set()
            writes = sum(f.result() for f in futures)  # re-raises a writer's failure

        # The server holds the database open: restoring into it is refused.
        refused = run(url, "restore", str(backup_path), "--yes")
        assert refused.code == 1, refused.stderr
        assert "in use" in refused.stderr and "stop charter serve" in refused.stderr
        with httpx.Client(base_url=base, headers=headers) as client:
            live_total = client.get(f"/api/v1/sessions/{sid}").json()["result"]["total_count"]
        assert live_total == len(acked)

    assert made.code == 0, made.stderr
    in_backup = result_ids(backup_path)
    print(
        f"\n{writes} write requests under load, {len(acked)} results acknowledged "
        f"({PRELOAD} preloaded); {len(before)} before the backup, {len(in_backup)} in it, "
        f"{len(sent_after)} sent after; backup {backup_path.stat().st_size} bytes"
    )
    assert before <= in_backup, "an acknowledged write is missing from the backup"
    assert not in_backup & set(sent_after), "the backup holds a write sent after it ended"
    assert in_backup <= set(acked)
    summary = re.search(r"(\d+) sessions, (\d+) results", made.stderr)
    assert summary is not None, made.stderr
    assert (int(summary[1]), int(summary[2])) == (1, len(in_backup))
    assert "integrity ok" in made.stderr
    assert not list(backup_path.parent.glob(".*.tmp")), "the temporary file was left behind"

    # Restore over another instance's database (its data goes), then serve it.
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    prepare(restored_url)
    add_user(restored_url, "other@example.com")
    done = run(restored_url, "restore", str(backup_path), "--yes")
    assert done.code == 0, done.stderr
    assert f"1 sessions, {len(in_backup)} results" in done.stderr
    assert result_ids(path_of(restored_url)) == in_backup
    assert "other@example.com" not in emails(restored_url)

    with (
        serving(restored_url, token, tmp_path / "serve-restored.log") as base,
        httpx.Client(base_url=base, headers=headers) as client,
    ):
        session = client.get(f"/api/v1/sessions/{sid}").json()["result"]
        listed = client.get(f"/api/v1/sessions/{sid}/results", params={"per_page": 15}).json()
        ready = client.get("/ready")
    assert session["total_count"] == len(in_backup)
    assert listed["total"] == len(in_backup)
    assert ready.status_code == 200
    db = Database(restored_url)
    with db.read() as conn:
        assert counters.verify(conn) == []
    db.close()
    recount = run(restored_url, "recount")
    assert "0 session(s) had drifted" in recount.stderr


@sqlite_only
def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'charter.db'}"
    prepare(url)
    target = tmp_path / "existing.db"
    target.write_text("keep me")
    refused = run(url, "backup", str(target))
    assert refused.code == 1
    assert "--force" in refused.stderr
    assert target.read_text() == "keep me"

    forced = run(url, "backup", str(target), "--force")
    assert forced.code == 0, forced.stderr
    assert "0 sessions, 0 results" in forced.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    missing_dir = run(url, "backup", str(tmp_path / "no-such-dir" / "b.db"))
    assert missing_dir.code == 1 and "There is no directory" in missing_dir.stderr
    assert "Traceback" not in missing_dir.stderr


@sqlite_only
def test_restore_refuses_what_it_cannot_restore(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'charter.db'}"
    prepare(url)
    users_before = emails(url)
    good = tmp_path / "good.db"
    assert run(url, "backup", str(good)).code == 0

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n" * 100)
    other_db = tmp_path / "other.db"
    with sqlite3.connect(other_db) as conn:
        conn.execute("CREATE TABLE t (x)")
    old_schema = tmp_path / "old.db"
    old_schema.write_bytes(good.read_bytes())
    with sqlite3.connect(old_schema) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000_older'")

    cases = {
        text_file: "not a Charter database",
        other_db: "not a Charter database",
        old_schema: "schema version 0000_older",
        tmp_path / "absent.db": "no file",
    }
    for source, message in cases.items():
        proc = run(url, "restore", str(source), "--yes")
        assert proc.code == 1, (source, proc.stderr)
        assert message in proc.stderr, (source, proc.stderr)
        assert "Traceback" not in proc.stderr
    same = run(url, "restore", str(path_of(url)), "--yes")
    assert same.code == 1 and "same file" in same.stderr

    # Without --yes it asks; "n" changes nothing.
    add_user(url, "bo@example.com")
    asked = run(url, "restore", str(good), stdin="n\n")
    assert asked.code == 1
    assert "Replace the database" in asked.stderr + asked.stdout
    assert "bo@example.com" in emails(url)
    confirmed = run(url, "restore", str(good), stdin="y\n")
    assert confirmed.code == 0, confirmed.stderr
    assert emails(url) == users_before


@pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL only")
def test_postgresql_backup_and_restore_point_to_pg_tools(tmp_path: Path) -> None:
    url = "postgresql://postgres:sekrit@127.0.0.1:5432/charter"  # never connected to
    target = tmp_path / "dump"
    made = run(url, "backup", str(target))
    assert made.code == 1
    assert "SQLite only" in made.stderr and "pg_dump" in made.stderr
    assert f"--file={target}" in made.stderr
    assert "sekrit" not in made.stderr
    assert not target.exists()
    restored = run(url, "restore", str(target), "--yes")
    assert restored.code == 1
    assert "SQLite only" in restored.stderr and "pg_restore" in restored.stderr
    assert "sekrit" not in restored.stderr
