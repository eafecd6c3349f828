"""The `charter` command. With no sub-command it serves, as datasette does."""

from __future__ import annotations

import os
import sys
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
    settings: Settings = ctx.obj
    return Database(settings.database_url)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _run(fn: Any) -> Any:
    """Run a domain call, turning domain errors into a clear CLI error."""
    from charter.domain.errors import DomainError

    try:
        return fn()
    except DomainError as exc:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
        _fail(exc.message + (f" ({detail})" if detail else ""))


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default $CHARTER_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API (migrating an empty database first)."""
    import uvicorn

    from charter.db.migrate import upgrade

    settings: Settings = Settings.from_env(
        database_url=ctx.obj.database_url, host=host, port=port, workers=workers
    )
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
        access_log=False,
    )


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
@click.pass_context
def user_create(ctx: click.Context, name: str, email: str, admin: bool) -> None:
    """Create a user; prints the new user's id."""
    from charter.domain import setup

    db = _db(ctx)
    with db.write() as conn:
        user_id = _run(lambda: setup.create_user(conn, name, email, is_admin=admin))
    click.echo(user_id)


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List users, one a line: id, email, name, admin|user, active|inactive."""
    from charter.domain import accounts

    db = _db(ctx)
    with db.read() as conn:
        rows = accounts.all_users(conn)
    for row in rows:
        kind = "admin" if row["is_admin"] else "user"
        state = "active" if row["is_active"] else "inactive"
        click.echo(f"{row['id']}\t{row['email']}\t{row['name']}\t{kind}\t{state}")
    if not rows:
        click.echo("No users.", err=True)


def _set_active(ctx: click.Context, email: str, active: bool) -> None:
    from charter.domain import accounts

    db = _db(ctx)
    with db.write() as conn:
        changed = _run(lambda: accounts.set_active(conn, email, active))
    state = "active" if active else "inactive"
    if not changed:
        click.echo(f"{email} is {state} already.", err=True)
    elif active:
        click.echo(f"{email} is active again; their unrevoked API tokens work again.", err=True)
    else:
        click.echo(f"{email} is now inactive; their API tokens stop working.", err=True)


@user.command("deactivate")
@click.option("--email", required=True)
@click.pass_context
def user_deactivate(ctx: click.Context, email: str) -> None:
    """Deactivate a user: all their API tokens fail at once."""
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
    from charter.domain import setup

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: setup.add_member(conn, project_id, email, role))
    click.echo(f"{email} is now {role} of project {project_id}.", err=True)


@member.command("remove")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--email", required=True)
@click.pass_context
def member_remove(ctx: click.Context, project_id: int, email: str) -> None:
    """Remove a user from a project."""
    from charter.domain import accounts

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: accounts.remove_member(conn, project_id, email))
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
    from charter.domain import accounts

    db = _db(ctx)
    with db.write() as conn:
        project_id = _run(lambda: accounts.create_project(conn, name, manager_email))
    click.echo(project_id)


@project.command("list")
@click.pass_context
def project_list(ctx: click.Context) -> None:
    """List projects, one a line: id, name, active|completed, session count."""
    from charter.domain import accounts

    db = _db(ctx)
    with db.read() as conn:
        rows = accounts.all_projects(conn)
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
    from charter.domain import auth

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
    from charter.domain import accounts

    db = _db(ctx)
    with db.read() as conn:
        tokens = _run(lambda: accounts.tokens_of(conn, email))
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
    from charter.domain import auth

    db = _db(ctx)
    with db.write() as conn:
        _run(lambda: auth.revoke_token(conn, token_id))
    click.echo(f"Token {token_id} revoked.", err=True)


@main.command()
@click.pass_context
def recount(ctx: click.Context) -> None:
    """Rebuild stored session and project counters from the data."""
    from charter.domain import counters

    db = _db(ctx)
    with db.write() as conn:
        drifted = counters.recount(conn)
    click.echo(f"Recounted; {drifted} session(s) had drifted.", err=True)
