"""Backup and restore of a SQLite database with SQLite's online backup API.

`backup` copies a consistent snapshot while `charter serve` keeps writing: one backup
step is one read transaction, and in WAL mode readers and the writer do not block
each other. The copy is written next to the target, checked and then renamed, so a
target path never holds half a backup. `restore` copies a checked backup into the
database in one write transaction while holding SQLite's exclusive lock, so nothing
can use the database meanwhile, and it refuses when another connection (a running
server) has the database open.

PostgreSQL has pg_dump and pg_restore for this; `sqlite_path` returns None for it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charter.db.engine import normalize_url
from charter.db.migrate import head_revision


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What a backup file holds."""

    path: Path
    revision: str
    sessions: int
    results: int
    size_bytes: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("An in-memory SQLite database has no file to back up or restore.")
    return Path(parsed.database)


@contextlib.contextmanager
def _open(path: Path, timeout: float = 10.0) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def inspect(conn: sqlite3.Connection, path: Path) -> Summary:
    """Check that `conn` holds an intact Charter database; say what it holds."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{path} is damaged: {'; '.join(problems[:5])}")
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        results = conn.execute("SELECT count(*) FROM session_results").fetchone()[0]
    except sqlite3.DatabaseError as exc:  # not SQLite at all, or without our tables
        raise BackupError(f"{path} is not a Charter database ({exc}).") from None
    if version is None:
        raise BackupError(f"{path} is not a Charter database (no schema version).")
    return Summary(path, version[0], sessions, results, path.stat().st_size)


def backup(url: str, target: Path, force: bool = False) -> Summary:
    """Copy the SQLite database of `url` to `target`, safely while it is being served."""
    source = sqlite_path(url)
    if source is None:
        raise BackupError("not a SQLite database")
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if not target.parent.is_dir():
        raise BackupError(f"There is no directory {target.parent}.")
    if target.exists() and not force:
        raise BackupError(f"{target} exists already; pass --force to overwrite it.")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("The backup must go to another file than the database itself.")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with _open(source) as src, _open(temporary) as dst:
            src.backup(dst)  # one step: one consistent snapshot, never restarted by writes
            dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
            summary = inspect(dst, temporary)
        _fsync(temporary)
        if target.exists() and not force:  # it appeared while we copied
            raise BackupError(f"{target} exists already; pass --force to overwrite it.")
        os.replace(temporary, target)
        _fsync(target.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return Summary(target, summary.revision, summary.sessions, summary.results, summary.size_bytes)


def check_backup(source: Path) -> Summary:
    """The summary of a backup file that this Charter can restore; BackupError if not."""
    if not source.is_file():
        raise BackupError(f"There is no file at {source}.")
    with _open(source) as conn:
        summary = inspect(conn, source)
    head = head_revision()
    if summary.revision != head:
        raise BackupError(
            f"{source} has schema version {summary.revision}; this Charter needs {head}. "
            "Restore it with the Charter version that made it."
        )
    return summary


def restore(url: str, source: Path) -> Summary:
    """Replace the SQLite database of `url` with the backup at `source`, atomically.
    Refuses while anything else has the database open (stop the server first)."""
    target = sqlite_path(url)
    if target is None:
        raise BackupError("not a SQLite database")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("The backup and the database are the same file.")
    check_backup(source)
    with _open(target, timeout=0) as dst:
        # Exclusive locking mode keeps the lock until the connection closes: no other
        # connection can read or write while the pages are replaced.
        dst.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            dst.execute("BEGIN EXCLUSIVE")
            dst.execute("COMMIT")
        except sqlite3.OperationalError:
            raise BackupError(
                f"The database at {target} is in use; stop charter serve (and anything "
                "else using it) first."
            ) from None
        with _open(source) as src:
            src.backup(dst)  # one write transaction: all pages or none
        return inspect(dst, target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
