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
    ctx.obj = Settings.from_env(database_url=database_url)
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


@main.command()
@click.pass_context
def recount(ctx: click.Context) -> None:
    """Rebuild stored session and project counters from the data."""
    from charter.domain import counters

    db = _db(ctx)
    with db.write() as conn:
        drifted = counters.recount(conn)
    click.echo(f"Recounted; {drifted} session(s) had drifted.", err=True)
