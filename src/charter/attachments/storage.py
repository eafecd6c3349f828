"""Where attachment bytes live: content-addressed blobs (named by their sha256, stored
once however often attached), in one of two backends chosen by
CHARTER_ATTACHMENTS_BACKEND:

- `file`: one file per blob under CHARTER_ATTACHMENTS_DIR (blobs/ab/cd/<sha256>),
  moved into place atomically once complete;
- `database`: rows of CHUNK_BYTES in attachment_chunks (bytea on PostgreSQL), so that
  several hosts behind a load balancer share nothing but the database.

Bytes always move in chunks: an upload is staged to a temporary file while it is
hashed (staging/), a download reads one chunk at a time. No whole file is ever held
in memory. Every blob, in either backend, is registered in attachment_blobs (size,
type, backend, thumbnail and preview), which garbage collection and `charter
attachments check` walk.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Connection

from charter.attachments import queries as q
from charter.core.clock import utcnow
from charter.core.errors import TooLarge
from charter.db.engine import Database

CHUNK_BYTES = 256 * 1024

BACKENDS = ("file", "database")

# Types shown inline (an image viewer can show them); everything else downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
OCTET = "application/octet-stream"

# Thumbnails and previews: the longest side, in pixels.
THUMBNAIL_SIZE = 320
PREVIEW_SIZE = 1600
# Images larger than this (width x height) are not decoded: a decompression bomb (a
# small file that decodes to gigabytes) is refused before Pillow allocates anything.
MAX_IMAGE_PIXELS = 50_000_000

# Blobs younger than this are never collected: their attachment row may not be
# committed yet (an upload stores the blob first).
GC_GRACE = timedelta(hours=1)


def sniff(head: bytes) -> str:
    """The type the content's magic bytes say, among the inline image types; anything
    else (SVG, HTML, text, video, ...) is application/octet-stream."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return OCTET


@dataclass(frozen=True)
class Staged:
    """A file received completely into a temporary file."""

    path: Path
    sha256: str
    size: int
    mime_type: str


class Stager:
    """Receives one file chunk by chunk into a temporary file in `folder`, hashing and
    counting it; more than `limit` bytes is TooLarge."""

    def __init__(self, folder: Path, limit: int, what: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="upload-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._head = b""
        self.size = 0
        self.limit = limit
        self.what = what

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(
                f"{self.what} is larger than the limit of {self.limit} bytes "
                f"({self.limit // (1024 * 1024)} MB)."
            )
        if len(self._head) < 16:
            self._head += bytes(data[: 16 - len(self._head)])
        self._hash.update(data)
        self._file.write(data)

    def finish(self) -> Staged:
        self._file.close()
        return Staged(self.path, self._hash.hexdigest(), self.size, sniff(self._head))

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def stage_bytes(folder: Path, data: bytes) -> Staged:
    """Small in-memory content (a thumbnail) staged like an upload."""
    stager = Stager(folder, len(data) + 1, "thumbnail")
    stager.write(data)
    return stager.finish()


class BlobStore(Protocol):
    backend: str

    def put(self, conn: Connection, staged: Staged) -> None:
        """Store the staged bytes under their sha256 (nothing when already stored);
        the staged file is consumed."""

    def exists(self, conn: Connection, sha256: str) -> bool: ...

    def read(self, conn: Connection, sha256: str) -> Iterator[bytes]:
        """Every byte of the blob, chunk by chunk (for checks and backups)."""
        ...

    def stream(self, db: Database, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of the blob, for a download."""
        ...

    def remove(self, conn: Connection, sha256: str) -> None: ...


class FileStore:
    backend = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256[2:4] / sha256

    def put(self, conn: Connection, staged: Staged) -> None:
        target = self.path_of(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(staged.path, "rb") as f:
            os.fsync(f.fileno())
        os.replace(staged.path, target)  # atomic: a blob file is always complete

    def exists(self, conn: Connection, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def read(self, conn: Connection, sha256: str) -> Iterator[bytes]:
        with open(self.path_of(sha256), "rb") as f:
            while data := f.read(CHUNK_BYTES):
                yield data

    async def stream(self, db: Database, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        path = self.path_of(sha256)
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                data = f.read(min(CHUNK_BYTES, left))
                if not data:
                    return
                left -= len(data)
                yield data

    def remove(self, conn: Connection, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)


class DatabaseStore:
    backend = "database"

    def put(self, conn: Connection, staged: Staged) -> None:
        try:
            if q.has_chunks(conn, staged.sha256):
                return
            with open(staged.path, "rb") as f:
                seq = 0
                while data := f.read(CHUNK_BYTES):
                    q.insert_chunk(conn, staged.sha256, seq, data)
                    seq += 1
                if seq == 0:  # an empty file is one empty chunk
                    q.insert_chunk(conn, staged.sha256, 0, b"")
        finally:
            staged.path.unlink(missing_ok=True)

    def exists(self, conn: Connection, sha256: str) -> bool:
        return q.has_chunks(conn, sha256)

    def read(self, conn: Connection, sha256: str) -> Iterator[bytes]:
        return q.chunks(conn, sha256)

    async def stream(self, db: Database, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        seq, skip = divmod(start, CHUNK_BYTES)
        left = end - start + 1
        while left > 0:

            def job(seq: int = seq) -> bytes | None:
                with db.read() as conn:
                    return q.chunk(conn, sha256, seq)

            data = await db.run(job)  # one short read per chunk: nothing held open
            if data is None:
                return
            piece = data[skip : skip + left]
            skip = 0
            seq += 1
            left -= len(piece)
            yield piece

    def remove(self, conn: Connection, sha256: str) -> None:
        pass  # q.delete_blob removes the chunks with the registry row


def store_for(backend: str, folder: Path) -> BlobStore:
    if backend == "database":
        return DatabaseStore()
    if backend == "file":
        return FileStore(folder)
    raise ValueError(f"CHARTER_ATTACHMENTS_BACKEND must be file or database, not {backend!r}")


def store_of_blob(backend: str, folder: Path) -> BlobStore:
    """The store a registered blob lives in (its row names the backend)."""
    return store_for(backend, folder)


def register(conn: Connection, store: BlobStore, staged: Staged, **derived: str | None) -> None:
    """Store a staged blob and register it, once (an existing blob is kept)."""
    if q.blob(conn, staged.sha256) is not None:
        staged.path.unlink(missing_ok=True)
        return
    store.put(conn, staged)
    q.insert_blob(
        conn, staged.sha256, staged.size, staged.mime_type, store.backend, utcnow(), **derived
    )


# --- images -----------------------------------------------------------------------------


class ImageRefused(Exception):
    """An image Pillow cannot or must not decode (damaged, or a decompression bomb)."""


def thumbnails(path: Path) -> tuple[bytes, bytes] | None:
    """(thumbnail, preview) as PNG/JPEG bytes without metadata, or None when the image
    cannot be decoded. A decompression bomb raises ImageRefused before decoding."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(f"The image is too large to decode ({width}x{height}).")
                image.seek(0)
                image.load()
                return _scaled(image, THUMBNAIL_SIZE), _scaled(image, PREVIEW_SIZE)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"The image is too large to decode: {exc}") from None
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError):
        return None


def _scaled(image: object, size: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    copy = image.copy()
    copy.thumbnail((size, size))
    keep_alpha = copy.mode in ("RGBA", "LA", "P")
    converted = copy.convert("RGBA" if keep_alpha else "RGB")
    out = io.BytesIO()
    # A fresh image from pixels only: no EXIF (GPS), ICC or text chunks survive.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    if keep_alpha:
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="JPEG", quality=85)
    return out.getvalue()


def collect_garbage(
    conn: Connection, folder: Path, grace: bool = True, only: Sequence[str] | None = None
) -> list[str]:
    """Remove blobs no attachment uses; their sha256s. `only`: just those blobs (and
    their thumbnails and previews), whatever their age; else every unused blob older
    than GC_GRACE (`grace=False`: of any age)."""
    before = utcnow() - GC_GRACE if grace and only is None else None
    removed = []
    for row in q.unreferenced_blobs(conn, before, only):
        store_of_blob(row["backend"], folder).remove(conn, row["sha256"])
        q.delete_blob(conn, row["sha256"])
        removed.append(row["sha256"])
    if only is None:
        removed += _unregistered_files(conn, folder, grace)
    return removed


def _unregistered_files(conn: Connection, folder: Path, grace: bool) -> list[str]:
    """Blob files no registry row names (an upload whose transaction rolled back after
    its blob was moved into place), and staged files left by a crash: removed once
    older than GC_GRACE (`grace=False`: any age)."""
    horizon = (utcnow() - GC_GRACE).timestamp() if grace else float("inf")
    removed = []
    blobs = sorted((folder / "blobs").glob("*/*/*")) if (folder / "blobs").is_dir() else []
    known = q.blobs_by_sha(conn, [p.name for p in blobs])
    for path in blobs:
        if path.name not in known and path.stat().st_mtime < horizon:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    staging = folder / "staging"
    for path in staging.glob("upload-*") if staging.is_dir() else []:
        if path.stat().st_mtime < horizon:
            path.unlink(missing_ok=True)
    return removed


@dataclass(frozen=True)
class CheckProblem:
    sha256: str
    problem: str


def check_blobs(conn: Connection, folder: Path) -> tuple[int, list[CheckProblem]]:
    """(blobs checked, problems): every registered blob re-hashed against its name."""
    problems = []
    rows = q.all_blobs(conn)
    for row in rows:
        store = store_of_blob(row["backend"], folder)
        sha = row["sha256"]
        if not store.exists(conn, sha):
            problems.append(CheckProblem(sha, "missing"))
            continue
        digest, size = hashlib.sha256(), 0
        for data in store.read(conn, sha):
            digest.update(data)
            size += len(data)
        if digest.hexdigest() != sha:
            problems.append(CheckProblem(sha, f"hash mismatch ({digest.hexdigest()})"))
        elif size != row["size"]:
            problems.append(CheckProblem(sha, f"size {size}, registered {row['size']}"))
    return len(rows), problems


# --- backup and restore (SQLite; `charter backup` / `charter restore`) -------------------


def backup_folder(backup_file: Path) -> Path:
    """Where `charter backup` puts the file backend's blobs: beside the backup file."""
    return backup_file.with_name(backup_file.name + "-attachments")


# The file backend's blobs registered in a SQLite backup file (read only).
file_blobs_in_backup = q.file_blobs_in_backup


def copy_blobs(shas: Sequence[str], source: Path, target: Path) -> tuple[int, list[str]]:
    """Copy the blobs from the file store at `source` to the one at `target` (a hard
    link where they share a disk, else a checked copy); a blob already there is kept.
    Returns (blobs copied, sha256s missing at the source)."""
    src, dst = FileStore(source), FileStore(target)
    copied, missing = 0, []
    for sha in shas:
        to = dst.path_of(sha)
        if to.is_file():
            continue
        origin = src.path_of(sha)
        if not origin.is_file():
            missing.append(sha)
            continue
        to.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(origin, to)
        except OSError:
            stager = Stager(target / "staging", 2**62, "blob")
            try:
                with open(origin, "rb") as f:
                    while data := f.read(CHUNK_BYTES):
                        stager.write(data)
                staged = stager.finish()
            except BaseException:
                stager.discard()
                raise
            if staged.sha256 != sha:
                staged.path.unlink(missing_ok=True)
                missing.append(sha)
                continue
            os.replace(staged.path, to)
        copied += 1
    return copied, missing
