"""The `charter` command. With no sub-command it serves, as datasette does."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from charter.db.engine import Database
from charter.settings import Settings, settings_table

_ENV_HELP = "\n".join(
    f"  {var:<24} {help} (default: {default})" for var, default, help in settings_table()
)


@click.group(
    invoke_without_command=True,
    epilog="Settings come from the environment:\n\n" + _ENV_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--database",
    "database_url",
    metavar="URL",
    help="Database URL (default: $CHARTER_DATABASE_URL or sqlite:///charter.db).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Charter: self-hosted test management for exploratory testing."""
    try:
        ctx.obj = Settings.from_env(database_url=database_url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


def _db(ctx: click.Context) -> Database:
    """The command's database, closed (its pool disposed) when the command ends, also
    on an error: an open PostgreSQL connection must not outlive the command."""
    settings: Settings = ctx.obj
    db = Database(settings.database_url)
    ctx.call_on_close(db.close)
    return db


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _run(fn: Any) -> Any:
    """Run a domain call, turning domain errors into a clear CLI error."""
    from charter.core.errors import DomainError
    from charter.db.conflicts import WriteRace

    try:
        return fn()
    except (DomainError, WriteRace) as exc:  # a write race is a conflict too
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
        _fail(exc.message + (f" ({detail})" if detail else ""))


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default $CHARTER_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.option(
    "--ssl-certfile",
    default=None,
    metavar="PATH",
    help="Serve HTTPS with this PEM certificate (default $CHARTER_SSL_CERTFILE).",
)
@click.option(
    "--ssl-keyfile",
    default=None,
    metavar="PATH",
    help="The certificate's PEM private key (default $CHARTER_SSL_KEYFILE).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
) -> None:
    """Serve the API (migrating an empty database first); HTTPS with --ssl-certfile."""
    import uvicorn

    from charter.db.migrate import upgrade
    from charter.http.serve_protocol import IMPORT_PATH as HEADER_TIMEOUT_PROTOCOL
    from charter.logs import logging_config

    settings: Settings = Settings.from_env(
        database_url=ctx.obj.database_url,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    ssl_cert, ssl_key = _tls_files(settings)
    try:
        log_config = logging_config(settings.log_level, settings.log_format)
    except ValueError as exc:
        raise click.UsageError(f"CHARTER_LOG_FORMAT: {exc}") from None
    signal.signal(signal.SIGTERM, _exit_cleanly)
    db = Database(settings.database_url)
    if upgrade(db):
        click.echo("Database migrated to the newest schema.", err=True)
    db.close()
    if settings.workers > 1 and db.is_sqlite:
        click.echo(
            "Note: workers on SQLite share one writer; PostgreSQL suits write-heavy teams.",
            err=True,
        )
    # Workers build their app from the environment.
    os.environ["CHARTER_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "charter.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=log_config,
        access_log=False,  # charter.access logs every request (http/request_id.py)
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (or $FORWARDED_ALLOW_IPS),
        # which lets any local client pick its address past the throttles and the log:
        # only the proxies the operator lists are trusted, none by default.
        proxy_headers=bool(settings.forwarded_allow_ips.strip()),
        # httptools plus a deadline for the request line and headers (slowloris).
        http=HEADER_TIMEOUT_PROTOCOL,
        forwarded_allow_ips=settings.forwarded_allow_ips.strip() or "",
        ssl_certfile=ssl_cert,
        ssl_keyfile=ssl_key,
    )


def _tls_files(settings: Settings) -> tuple[str | None, str | None]:
    """uvicorn's ssl_certfile and ssl_keyfile: both files or neither, each readable."""
    cert, key = settings.ssl_certfile, settings.ssl_keyfile
    if not cert and not key:
        return None, None
    if not cert or not key:
        raise click.UsageError("HTTPS needs both --ssl-certfile and --ssl-keyfile.")
    for option, path in (("--ssl-certfile", cert), ("--ssl-keyfile", key)):
        if not os.access(path, os.R_OK):
            raise click.UsageError(f"{option}: cannot read {path}.")
    return cert, key


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself (it stops accepting, lets in-flight requests
    # finish, runs the shutdown hooks), then raises the signal again for the handler
    # it found: this one, so a requested stop exits 0 instead of dying by the signal.
    raise SystemExit(0)


@main.group()
def tls() -> None:
    """Certificates for serving HTTPS directly."""


@tls.command("self-signed")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    default=("127.0.0.1",),
    show_default=True,
    help="IP address or host name the certificate is for (repeat for more).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write cert.pem and key.pem into.",
)
@click.option("--days", type=click.IntRange(1, 3650), default=825, show_default=True)
def tls_self_signed(hosts: tuple[str, ...], out: Path, days: int) -> None:
    """Write a self-signed certificate and key for local HTTPS."""
    from charter.tls import self_signed

    written = self_signed(list(hosts), out, days)
    cert, key = written.cert.resolve(), written.key.resolve()
    click.echo(f"Wrote {cert} and {key} (for {', '.join(hosts)}).")
    click.echo("Serve HTTPS:")
    click.echo(f"  charter serve --host {hosts[0]} --ssl-certfile {cert} --ssl-keyfile {key}")
    click.echo("Make Node clients (the testmo CLI) trust it:")
    click.echo(f"  export NODE_EXTRA_CA_CERTS={cert}")
    click.echo(f"curl: curl --cacert {cert} https://{hosts[0]}:8000/health")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    from charter.db.migrate import upgrade

    db = _db(ctx)
    applied = upgrade(db)
    click.echo("Migrated to the newest schema." if applied else "Schema is up to date.", err=True)


@main.command()
@click.option("--sessions", "n_sessions", type=click.IntRange(0), default=200, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.pass_context
def demo(ctx: click.Context, n_sessions: int, seed: int) -> None:
    """Load a deterministic demo dataset (skipped if already loaded)."""
    from charter.db.migrate import optimize, upgrade
    from charter.demo import DEMO_ADMIN_EMAIL, load_demo

    db = _db(ctx)
    upgrade(db)
    result = load_demo(db, n_sessions=n_sessions, seed=seed)
    if result is None:
        click.echo(f"Demo data is loaded already (admin: {DEMO_ADMIN_EMAIL}).", err=True)
        return
    optimize(db)
    click.echo(result, err=True)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--admin", is_flag=True, help="Make the user a site admin.")
@click.option(
    "--password",
    default=None,
    help="Password for the web sign-in ('-' prompts for it; omit: no web sign-in yet).",
)
@click.pass_context
def user_create(
    ctx: click.Context, name: str, email: str, admin: bool, password: str | None
) -> None:
    """Create a user; prints the new user's id."""
    from charter.auth import passwords
    from charter.users import service as user_service

    if password == "-":
        password = _prompt_password()
    hashed = None if password is None else _run(lambda: passwords.hash_password(password))
    db = _db(ctx)
    with db.write() as conn:
        user_id = _run(
            lambda: user_service.new_user(conn, name, email, is_admin=admin, password_hash=hashed)
        )
    click.echo(user_id)


def _prompt_password() -> str:
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user.command("password")
@click.option("--email", required=True)
@click.option("--password", default=None, help="The new password (default: prompt for it).")
@click.pass_context
def user_password(ctx: click.Context, email: str, password: str | None) -> None:
    """Set or reset a user's web sign-in password; signs out their browser sessions."""
    from charter.auth import logins

    if password is None:
        password = _prompt_password()
    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: logins.set_password(conn, email, password))
    click.echo(f"Password set for {email}; their browser sessions are signed out.", err=True)


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List users, one a line: id, email, name, admin|user, active|inactive."""
    from charter.users import service as user_service

    db = _db(ctx)
    with db.read() as conn:
        rows = user_service.all_users(conn)
    for row in rows:
        kind = "admin" if row["is_admin"] else "user"
        state = "active" if row["is_active"] else "inactive"
        click.echo(f"{row['id']}\t{row['email']}\t{row['name']}\t{kind}\t{state}")
    if not rows:
        click.echo("No users.", err=True)


def _set_active(ctx: click.Context, email: str, active: bool) -> None:
    from charter.users import service as user_service

    db = _db(ctx)
    with db.write() as conn:
        changed = _run(lambda: user_service.set_active(conn, email, active))
    state = "active" if active else "inactive"
    if not changed:
        click.echo(f"{email} is {state} already.", err=True)
    elif active:
        click.echo(
            f"{email} is active again; they sign in again and create new API tokens.", err=True
        )
    else:
        click.echo(
            f"{email} is now inactive; their web sessions ended and their API tokens are revoked.",
            err=True,
        )


@user.command("deactivate")
@click.option("--email", required=True)
@click.pass_context
def user_deactivate(ctx: click.Context, email: str) -> None:
    """Deactivate a user: their web sessions end and their API tokens are revoked."""
    _set_active(ctx, email, False)


@user.command("activate")
@click.option("--email", required=True)
@click.pass_context
def user_activate(ctx: click.Context, email: str) -> None:
    """Activate a user again."""
    _set_active(ctx, email, True)


@main.group()
def member() -> None:
    """Manage project members."""


@member.command("add")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["viewer", "tester", "manager"]), required=True)
@click.pass_context
def member_add(ctx: click.Context, project_id: int, email: str, role: str) -> None:
    """Add a user to a project (or change their role)."""
    from charter.projects import service as project_service

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: project_service.add_member(conn, project_id, email, role))
    click.echo(f"{email} is now {role} of project {project_id}.", err=True)


@member.command("remove")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--email", required=True)
@click.pass_context
def member_remove(ctx: click.Context, project_id: int, email: str) -> None:
    """Remove a user from a project."""
    from charter.users import service as user_service

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: user_service.remove_member(conn, project_id, email))
    click.echo(f"{email} is no longer a member of project {project_id}.", err=True)


@main.group()
def project() -> None:
    """Manage projects."""


@project.command("create")
@click.option("--name", required=True)
@click.option("--manager-email", default=None, help="Make this user the project's manager.")
@click.pass_context
def project_create(ctx: click.Context, name: str, manager_email: str | None) -> None:
    """Create a project; prints the new project's id."""
    from charter.projects import service as project_service

    db = _db(ctx)
    with db.write() as conn:
        project_id = _run(lambda: project_service.new_managed_project(conn, name, manager_email))
    click.echo(project_id)


@project.command("list")
@click.pass_context
def project_list(ctx: click.Context) -> None:
    """List projects, one a line: id, name, active|completed, session count."""
    from charter.users import service as user_service

    db = _db(ctx)
    with db.read() as conn:
        rows = user_service.all_projects(conn)
    for row in rows:
        state = "completed" if row["is_completed"] else "active"
        sessions = f"{row['session_count']} sessions"
        click.echo(f"{row['id']}\t{row['name']}\t{state}\t{sessions}")
    if not rows:
        click.echo("No projects.", err=True)


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="API token", show_default=True)
@click.pass_context
def token_create(ctx: click.Context, email: str, name: str) -> None:
    """Create an API token; prints the secret alone (it is not shown again)."""
    from charter.auth import service as auth

    db = _db(ctx)
    with db.write() as conn:
        secret = _run(lambda: auth.create_token(conn, email, name))
    click.echo(secret)


@token.command("list")
@click.option("--email", required=True, help="Whose tokens.")
@click.pass_context
def token_list(ctx: click.Context, email: str) -> None:
    """List a user's tokens (never the secrets), one a line: id, name, created_at,
    last_used_at (or never), active or revoked <when>."""
    from charter.users import service as user_service

    db = _db(ctx)
    with db.read() as conn:
        tokens = _run(lambda: user_service.tokens_of(conn, email))
    for t in tokens:
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
        used = t["last_used_at"] or "never"
        click.echo(f"{t['id']}\t{t['name']}\t{t['created_at']}\t{used}\t{state}")
    if not tokens:
        click.echo(f"{email} has no tokens.", err=True)


@token.command("revoke")
@click.option("--id", "token_id", type=int, required=True)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token: it fails at once."""
    from charter.auth import service as auth

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: auth.revoke_token(conn, token_id))
    click.echo(f"Token {token_id} revoked.", err=True)


@main.command()
@click.pass_context
def recount(ctx: click.Context) -> None:
    """Rebuild stored session, automation and project counters and the SBTM metrics
    from the data."""
    from charter.automation import service as automation_service
    from charter.sbtm import service as sbtm_service
    from charter.sessions import counters

    db = _db(ctx)
    with db.write(bulk=True) as conn:  # groups every row of the instance
        drifted = counters.recount(conn)
        automation = automation_service.recount(conn)
        sbtm = sbtm_service.rebuild(conn)  # SBTM metrics and their rollups
    click.echo(
        f"Recounted; {drifted} session(s) had drifted, {automation} automation row(s), "
        f"{sbtm} session(s) of SBTM metrics.",
        err=True,
    )


_PG_BACKUP = (
    "charter {what} works on SQLite only. On PostgreSQL use {tool}, for example:\n  {example}"
)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@click.pass_context
def backup(ctx: click.Context, path: Path, force: bool) -> None:
    """Back up the SQLite database to PATH, safely while `charter serve` runs
    (PostgreSQL: use pg_dump)."""
    import sqlite3

    from charter.db import backup as ops

    url: str = ctx.obj.database_url
    try:
        if ops.sqlite_path(url) is None:
            example = f"pg_dump --format=custom --file={path} '{_libpq_url(url)}'"
            _fail(_PG_BACKUP.format(what="backup", tool="pg_dump", example=example))
            return
        summary = ops.backup(url, path, force=force)
        copied, missing = _copy_attachments(ctx.obj, Path(summary.path), restoring=False)
    except (ops.BackupError, OSError, sqlite3.Error) as exc:
        _fail(str(exc))
        return
    click.echo(f"Backed up to {summary.path}: {_describe(summary)}.", err=True)
    _report_attachments(copied, missing, "backed up")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@click.pass_context
def restore(ctx: click.Context, path: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH. Stop `charter serve`
    first (PostgreSQL: use pg_restore)."""
    import sqlite3

    from charter.db import backup as ops

    url: str = ctx.obj.database_url
    try:
        target = ops.sqlite_path(url)
        if target is None:
            example = f"pg_restore --clean --dbname='{_libpq_url(url)}' {path}"
            _fail(_PG_BACKUP.format(what="restore", tool="pg_restore", example=example))
            return
        offered = ops.check_backup(path)
        if not yes:
            click.confirm(
                f"Replace the database {target} with {path} ({_describe(offered)})?", abort=True
            )
        summary = ops.restore(url, path)
        copied, missing = _copy_attachments(ctx.obj, path, restoring=True)
    except (ops.BackupError, OSError, sqlite3.Error) as exc:
        _fail(str(exc))
        return
    click.echo(f"Restored {path} into {target}: {_describe(summary)}.", err=True)
    _report_attachments(copied, missing, "restored")


def _copy_attachments(
    settings: Settings, backup_file: Path, restoring: bool
) -> tuple[int, list[str]]:
    """Blobs of the file attachment backend go beside the backup file (`<backup>-
    attachments/`) and come back from there; the database backend's are in the backup
    itself. Blobs are immutable and named by their hash, so copying them after the
    snapshot is consistent."""
    from charter.attachments import storage

    shas = storage.file_blobs_in_backup(str(backup_file))
    live = Path(settings.effective_attachments_dir)
    saved = storage.backup_folder(backup_file)
    if restoring:
        return storage.copy_blobs(shas, saved, live)
    return storage.copy_blobs(shas, live, saved)


def _report_attachments(copied: int, missing: list[str], done: str) -> None:
    click.echo(f"Attachments: {copied} file blob(s) {done}.", err=True)
    if missing:
        click.echo(
            f"Warning: {len(missing)} attachment blob(s) missing: {', '.join(missing[:5])}",
            err=True,
        )


@main.group()
def attachments() -> None:
    """Attachment storage: verify blobs, collect unused ones."""


@attachments.command("check")
@click.pass_context
def attachments_check(ctx: click.Context) -> None:
    """Re-hash every stored blob and compare it with its name (sha256); exit 1 on any
    missing or damaged blob."""
    from charter.attachments import storage

    settings: Settings = ctx.obj
    db = _db(ctx)
    try:
        with db.read() as conn:
            checked, problems = storage.check_blobs(conn, Path(settings.effective_attachments_dir))
    finally:
        db.close()
    for problem in problems:
        click.echo(f"{problem.sha256}: {problem.problem}", err=True)
    click.echo(f"Checked {checked} blob(s); {len(problems)} problem(s).", err=True)
    if problems:
        sys.exit(1)


@attachments.command("gc")
@click.option("--all", "everything", is_flag=True, help="Also blobs younger than an hour.")
@click.pass_context
def attachments_gc(ctx: click.Context, everything: bool) -> None:
    """Remove blobs no attachment uses (older than an hour: younger ones may belong to
    an upload being committed)."""
    from charter.attachments import service

    settings: Settings = ctx.obj
    db = _db(ctx)
    try:
        with db.write() as conn:
            removed = service.collect_garbage(
                conn, Path(settings.effective_attachments_dir), grace=not everything
            )
    finally:
        db.close()
    click.echo(f"Removed {len(removed)} unused blob(s).", err=True)


def _describe(summary: Any) -> str:
    return (
        f"{summary.sessions} sessions, {summary.results} results, "
        f"{summary.size_bytes} bytes, schema {summary.revision}, integrity ok"
    )


def _libpq_url(url: str) -> str:
    """The URL as pg_dump takes it (no SQLAlchemy driver name, no password shown)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)


@main.group()
def sbtm() -> None:
    """Session-based test management: session sheets and areas (docs/sbtm-sheets.md)."""


_AS = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    default=None,
    help="Act as this user (default: the first active site admin).",
)


def _sheet_files(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    """(file name, text) of every sheet named: files, folders (their *.ses files, also
    in sub-folders) and .zip archives (their *.ses members)."""
    import zipfile

    from charter.sbtm.sheet_format import decode_sheet

    out: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".ses")
            out += [(p.name, decode_sheet(p.read_bytes())) for p in found]
        elif path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    if not info.is_dir() and info.filename.lower().endswith(".ses"):
                        name = info.filename.rsplit("/", 1)[-1]
                        out.append((name, decode_sheet(archive.read(info))))
        elif path.is_file():
            out.append((path.name, decode_sheet(path.read_bytes())))
        else:
            _fail(f"{raw}: no such file or folder.")
    return out


@sbtm.command("import")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--replace", is_flag=True, help="Replace sessions imported from the same names.")
@click.option(
    "--no-create-users", is_flag=True, help="Unknown testers are errors, not new inactive users."
)
@_AS
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.pass_context
def sbtm_import(
    ctx: click.Context,
    project_id: int,
    replace: bool,
    no_create_users: bool,
    as_email: str | None,
    paths: tuple[str, ...],
) -> None:
    """Import session sheets (files, folders of .ses files, .zip archives), all or
    nothing; prints one line per session created: id, sheet name."""
    from charter.core.errors import DomainError
    from charter.sbtm import sheet_import

    files = _sheet_files(paths)
    if not files:
        _fail("No .ses files found.")
    db = _db(ctx)
    try:
        with db.write() as conn:
            actor = sheet_import.command_actor(conn, as_email)
            done = sheet_import.import_sheets(
                conn, actor, project_id, files, replace, not no_create_users
            )
    except DomainError as exc:  # nothing was written: one transaction
        for where, problems in (exc.errors or {}).items():
            for problem in problems:
                click.echo(f"{where}: {problem}", err=True)
        _fail(exc.message)
        raise AssertionError("unreachable") from None
    for warning in done.warnings:
        click.echo(f"Warning: {warning['file']}: {warning['problem']}", err=True)
    for user in done.users_created:
        click.echo(f"Created inactive user {user['name']} <{user['email']}>", err=True)
    for session in done.sessions:
        click.echo(f"{session['id']}\t{session['sheet_name']}")
    click.echo(f"Imported {len(done.sessions)} sheet(s).", err=True)


@sbtm.command("export")
@click.option("--project", "project_id", type=int, required=True)
@_AS
@click.argument("folder", type=click.Path(file_okay=False))
@click.pass_context
def sbtm_export(ctx: click.Context, project_id: int, as_email: str | None, folder: str) -> None:
    """Write every session of the project as a .ses sheet into FOLDER (named by its
    sheet name, or et-<initials>-<yymmdd>-<letter>.ses)."""
    from charter.sbtm import sheet_import, sheet_read

    db = _db(ctx)
    with db.read() as conn:
        actor = _run(lambda: sheet_import.command_actor(conn, as_email))
        sheets = _run(lambda: sheet_read.export_sheets(conn, actor, project_id))
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in sheets:
        (out / Path(name).name).write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(sheets)} sheet(s) to {out}.", err=True)


@sbtm.group("areas")
def sbtm_areas() -> None:
    """A project's areas (its coverage taxonomy)."""


@sbtm_areas.command("import")
@click.option("--project", "project_id", type=int, required=True)
@_AS
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def sbtm_areas_import(ctx: click.Context, project_id: int, as_email: str | None, file: str) -> None:
    """Add the areas of a plain list (one per line, blank lines ignored, an optional
    #AREAS first line) that the project does not have yet."""
    from charter.auth import permissions
    from charter.sbtm import service as sbtm_service
    from charter.sbtm import sheet_import
    from charter.sbtm.sheet_format import decode_sheet

    names = sbtm_service.parse_area_list(decode_sheet(Path(file).read_bytes()))
    db = _db(ctx)
    with db.write() as conn:
        actor = _run(lambda: sheet_import.command_actor(conn, as_email))
        _run(lambda: permissions.require_project(conn, actor, project_id, "manage"))
        created, existing = _run(
            lambda: sbtm_service.import_areas(conn, project_id, actor.id, names)
        )
    click.echo(f"{len(created)} area(s) created, {len(existing)} known already.", err=True)
