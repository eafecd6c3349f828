"""Emails are found and kept unique by users.email_key (NFKC + casefold, computed in
Python), the same on SQLite and PostgreSQL: SQLite's lower() folds only ASCII, so
`Ärger@…` was never found there, a second create was a 201 (or a 500 in a race), and
`charter user password --email Ärger@…` could change another user's password."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import logins, passwords
from charter.auth import service as auth
from charter.cli import main
from charter.core.inputs import email_key
from charter.db.engine import Database
from charter.db.migrate import alembic_config, upgrade
from charter.db.tables import users
from charter.settings import Settings
from charter.users import service as user_service

ADMIN = "admin@example.com"


@pytest.fixture
def db(fresh_database_url: str) -> Iterator[Database]:
    database = Database(fresh_database_url)
    upgrade(database)
    with database.write() as conn:
        user_service.new_user(conn, "Admin", ADMIN, is_admin=True)
    yield database
    database.close()


@pytest.fixture
def client(db: Database) -> Iterator[TestClient[Any]]:
    with db.write() as conn:
        secret = auth.create_token(conn, ADMIN, "tests")
    app = create_app(Settings(database_url=db.url, auth_fail_limit=0))
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


def test_the_key_folds_unicode_case() -> None:
    assert email_key(" Ärger@Example.COM ") == email_key("ärger@example.com") == "ärger@example.com"
    assert email_key("STRASSE@x.org") == email_key("straße@x.org")


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ärger@example.com", "ärger@EXAMPLE.com"), ("dupX@example.com", "DUPX@example.com")],
)
def test_a_second_user_with_the_same_email_key_is_409(
    client: TestClient[Any], db: Database, first: str, second: str
) -> None:
    assert client.post("/api/v1/users", json={"name": "One", "email": first}).status_code == 201
    resp = client.post("/api/v1/users", json={"name": "Two", "email": second})
    assert resp.status_code == 409, resp.text
    assert "email" in resp.json()["errors"]
    changed = client.post("/api/v1/users", json={"name": "Three", "email": "three@example.com"})
    resp = client.patch(f"/api/v1/users/{changed.json()['result']['id']}", json={"email": second})
    assert resp.status_code == 409 and "email" in resp.json()["errors"], resp.text
    with db.read() as conn:
        keys = conn.execute(
            sa.select(users.c.email_key).where(users.c.email_key == email_key(first))
        ).all()
    assert len(keys) == 1


def test_the_cli_finds_the_user_whatever_the_case(db: Database) -> None:
    with db.write() as conn:
        user_service.new_user(conn, "Ärger", "ärger@example.com")
        user_service.new_user(conn, "Other", "other@example.com")
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--database",
            db.url,
            "user",
            "password",
            "--email",
            "ÄRGER@example.com",
            "--password",
            "pw-of-aerger-123",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    with db.read() as conn:
        rows = dict(conn.execute(sa.select(users.c.email, users.c.password_hash)).all())
    assert rows["other@example.com"] is None
    assert passwords.verify(rows["ärger@example.com"], "pw-of-aerger-123")
    result = runner.invoke(
        main,
        ["--database", db.url, "user", "create", "--name", "Again", "--email", "Ärger@example.com"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1 and "exists already" in result.stderr


def test_web_sign_in_finds_the_user_whatever_the_case(db: Database) -> None:
    with db.write() as conn:
        user_service.new_user(conn, "Ärger", "ärger@example.com")
        logins.set_password(conn, "ärger@example.com", "pw-of-aerger-123")
        candidate = logins.lookup(conn, "ÄRGER@EXAMPLE.COM")
    assert logins.check_password(candidate, "pw-of-aerger-123")[0] is not None


def test_the_migration_backfills_keys_and_keeps_clashing_users(fresh_database_url: str) -> None:
    database = Database(fresh_database_url)
    cfg = alembic_config()
    with database.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
    when = "2026-01-01 00:00:00"
    with database.write() as conn:
        for email in ("Ärger@example.com", "ärger@example.com", "Plain@Example.com"):
            conn.execute(
                sa.text(
                    "INSERT INTO users (name, email, is_admin, is_active, created_at) "
                    "VALUES ('x', :email, false, true, :when)"
                ),
                {"email": email, "when": when},
            )
    upgrade(database)
    with database.read() as conn:
        keys = dict(
            conn.execute(sa.select(users.c.email, users.c.email_key).order_by(users.c.id)).all()
        )
        first_id = conn.execute(sa.select(sa.func.min(users.c.id))).scalar_one()
    assert keys["Ärger@example.com"] == "ärger@example.com"
    assert keys["ärger@example.com"] == f"ärger@example.com#{first_id + 1}"
    assert keys["Plain@Example.com"] == "plain@example.com"
    database.close()
