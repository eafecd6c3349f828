"""Every setting in one declarative table: environment variables CHARTER_*, CLI help and docs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "sqlite:///charter.db",
        "Database URL: sqlite:///path.db or postgresql://user@host:port/dbname.",
    )
    host: str = _setting("127.0.0.1", "Address `charter serve` listens on.")
    port: int = _setting(8000, "Port `charter serve` listens on.")
    ssl_certfile: str = _setting(
        "", "PEM certificate (chain) file: with CHARTER_SSL_KEYFILE, serve HTTPS directly."
    )
    ssl_keyfile: str = _setting("", "PEM private key file of CHARTER_SSL_CERTFILE.")
    workers: int = _setting(1, "Worker processes for `charter serve` (use PostgreSQL for >1).")
    db_threads: int = _setting(
        0,
        "Threads that run database work (0 = auto: 1 on SQLite, 4 on PostgreSQL).",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning, error.")
    log_format: str = _setting(
        "json", "Log lines on stderr: json (one object a line) or text (for people)."
    )
    bench_routes: bool = _setting(
        False, "Serve the benchmark's floor endpoint (bench/run.py sets it; keep it off)."
    )
    max_body_bytes: int = _setting(
        10_000_000, "Largest request body accepted, in bytes; larger ones get 413."
    )
    max_form_bytes: int = _setting(
        256 * 1024,
        "Largest body accepted by a web UI route (forms), in bytes; larger ones get 413.",
    )
    header_timeout_seconds: int = _setting(
        10,
        "`charter serve` closes a connection whose request line and headers take longer "
        "than this, in seconds (slow clients; 0 = no limit).",
    )
    body_timeout_seconds: int = _setting(
        30, "A request body must arrive within this many seconds, else 408 (0 = no limit)."
    )
    auth_fail_limit: int = _setting(
        20, "Failed API authentications allowed per client address per window (0 = off)."
    )
    auth_fail_window_seconds: int = _setting(
        60, "The window, in seconds, that CHARTER_AUTH_FAIL_LIMIT counts in."
    )
    token_rate_limit: int = _setting(
        0, "Requests per minute allowed per API token; more get 429 (0 = off)."
    )
    secure_cookies: bool = _setting(
        False,
        "Mark the web UI's cookies Secure even when the request arrived over plain HTTP "
        "(set it behind a TLS-terminating proxy); HTTPS requests always get Secure.",
    )
    forwarded_allow_ips: str = _setting(
        "",
        "Comma-separated addresses (or CIDR networks) of reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto headers are trusted; empty = trust none, the "
        "client address is the TCP peer's. List only your own proxy.",
    )
    web_session_hours: int = _setting(
        12, "How long a web UI sign-in lasts, in hours, before signing in again."
    )

    attachments_backend: str = _setting(
        "file",
        "Where attachment bytes are stored: file (CHARTER_ATTACHMENTS_DIR) or database "
        "(chunked rows, so several hosts need nothing but PostgreSQL).",
    )
    attachments_dir: str = _setting(
        "",
        "Folder of the file attachment backend; empty = `<database name>-attachments` "
        "beside the SQLite database (`charter-attachments` in the working directory for "
        "PostgreSQL).",
    )
    max_attachment_bytes: int = _setting(
        25 * 1024 * 1024, "Largest attachment accepted, in bytes; larger ones get 413."
    )
    max_upload_bytes: int = _setting(
        100 * 1024 * 1024,
        "Largest attachment upload request (all its files), in bytes; larger ones get 413.",
    )
    live_heartbeat_seconds: int = _setting(
        15,
        "Live updates (server-sent events): seconds between keep-alive comments on an "
        "idle stream, and between re-checks that its viewer may still read it.",
    )
    live_poll_ms: int = _setting(
        1000,
        "Live updates on SQLite: how often, in milliseconds, each worker checks for "
        "changes made by other workers (PostgreSQL is told at once, by NOTIFY).",
    )
    live_max_streams: int = _setting(
        500,
        "Live-update streams one worker keeps open at most (one per open page); more get "
        "503 and those pages simply do not update live.",
    )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read CHARTER_<NAME> variables; explicit non-None overrides win."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"CHARTER_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def effective_attachments_dir(self) -> str:
        """The file backend's folder: the setting, or a folder beside the database."""
        if self.attachments_dir:
            return self.attachments_dir
        url = self.database_url
        if url.startswith("sqlite:///") and ":memory:" not in url:
            path = url.removeprefix("sqlite:///")
            stem = path.rsplit(".", 1)[0] if path.endswith(".db") else path
            return f"{stem}-attachments"
        return "charter-attachments"

    @property
    def effective_db_threads(self) -> int:
        if self.db_threads > 0:
            return self.db_threads
        return 1 if self.database_url.startswith("sqlite") else 4


def _parse(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() not in ("1", "0", "true", "false"):
            raise ValueError(f"CHARTER_{name.upper()} must be 1, 0, true or false, not {raw!r}")
        return raw.lower() in ("1", "true")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"CHARTER_{name.upper()} must be an integer, not {raw!r}") from None
    return raw


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, help) rows, for the README and `charter --help`."""
    return [
        (f"CHARTER_{f.name.upper()}", str(f.default), f.metadata["help"]) for f in fields(Settings)
    ]
