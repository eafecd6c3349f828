"""The administration commands (user list/activate/deactivate, token list/revoke,
member remove, project create/list), in-process with click's runner on real databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from charter.auth import service as auth
from charter.cli import main
from charter.core.errors import Unauthenticated
from charter.db.engine import Database

ADA = "ada@example.com"
BOB = "bob@example.com"


def run(url: str, *args: str, ok: bool = True) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["--database", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    else:
        assert result.exit_code == 1, (result.stdout, result.stderr)
        assert result.stderr.startswith("Error: "), result.stderr
    return result.stdout, result.stderr


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    db = Database(url)
    with db.read() as conn:
        found = [tuple(r) for r in conn.execute(sa.text(sql))]
    db.close()
    return found


def works(url: str, secret: str) -> bool:
    """Whether the token authenticates (what every API call checks first)."""
    db = Database(url)
    try:
        with db.read() as conn:
            auth.authenticate(conn, secret)
        return True
    except Unauthenticated:
        return False
    finally:
        db.close()


@pytest.fixture
def url(fresh_database_url: str) -> Iterator[str]:
    """A migrated database with Ada (site admin) and Bob."""
    run(fresh_database_url, "migrate")
    run(fresh_database_url, "user", "create", "--name", "Ada", "--email", ADA, "--admin")
    run(fresh_database_url, "user", "create", "--name", "Bob Baker", "--email", BOB)
    yield fresh_database_url


def test_help_lists_old_and_new_commands(url: str) -> None:
    out, _ = run(url, "--help")
    for command in ("serve", "migrate", "demo", "user", "member", "token", "project", "recount"):
        assert command in out
    expected = {
        "user": ("create", "list", "deactivate", "activate"),
        "token": ("create", "list", "revoke"),
        "member": ("add", "remove"),
        "project": ("create", "list"),
    }
    for group, commands in expected.items():
        out, _ = run(url, group, "--help")
        for command in commands:
            assert command in out, (group, command)


def test_user_list(url: str) -> None:
    out, _ = run(url, "user", "list")
    assert out.splitlines() == [
        f"1\t{ADA}\tAda\tadmin\tactive",
        f"2\t{BOB}\tBob Baker\tuser\tactive",
    ]


def test_user_list_empty(fresh_database_url: str) -> None:
    run(fresh_database_url, "migrate")
    out, err = run(fresh_database_url, "user", "list")
    assert out == "" and "No users" in err


def test_deactivate_and_activate(url: str) -> None:
    secret, _ = run(url, "token", "create", "--email", BOB)
    secret = secret.strip()
    assert works(url, secret)
    _, err = run(url, "user", "deactivate", "--email", "BOB@example.com")
    assert "inactive" in err
    assert not works(url, secret), "a deactivated user's tokens fail at once"
    assert run(url, "user", "list")[0].splitlines()[1].endswith("\tinactive")
    _, err = run(url, "user", "deactivate", "--email", BOB)
    assert "already" in err
    _, err = run(url, "user", "activate", "--email", BOB)
    assert "active again" in err
    assert not works(url, secret), "deactivation revoked the token for good (issue 15)"
    _, err = run(url, "user", "activate", "--email", BOB)
    assert "already" in err


def test_deactivate_unknown_user(url: str) -> None:
    before = rows(url, "SELECT * FROM users ORDER BY id")
    for command in ("deactivate", "activate"):
        _, err = run(url, "user", command, "--email", "nobody@example.com", ok=False)
        assert "No user" in err
    assert rows(url, "SELECT * FROM users ORDER BY id") == before


def test_token_list_and_revoke(url: str) -> None:
    first = run(url, "token", "create", "--email", BOB, "--name", "ci")[0].strip()
    second = run(url, "token", "create", "--email", BOB, "--name", "laptop")[0].strip()
    run(url, "token", "create", "--email", ADA, "--name", "ada's")
    out, _ = run(url, "token", "list", "--email", BOB)
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(cols[0], cols[1], cols[3], cols[4]) for cols in lines] == [
        ("1", "ci", "never", "active"),
        ("2", "laptop", "never", "active"),
    ]
    assert first not in out and second not in out, "secrets are never shown again"
    assert auth.hash_token(first) not in out

    _, err = run(url, "token", "revoke", "--id", "1")
    assert "revoked" in err
    assert not works(url, first), "a revoked token fails at once"
    assert works(url, second)
    out, _ = run(url, "token", "list", "--email", BOB)
    assert out.splitlines()[0].split("\t")[4].startswith("revoked 20")

    # Revoking twice, or an unknown token: a clear error, nothing changes.
    before = rows(url, "SELECT * FROM api_tokens ORDER BY id")
    _, err = run(url, "token", "revoke", "--id", "1", ok=False)
    assert "No active token 1" in err
    run(url, "token", "revoke", "--id", "99", ok=False)
    assert rows(url, "SELECT * FROM api_tokens ORDER BY id") == before


def test_token_list_edge_cases(url: str) -> None:
    out, err = run(url, "token", "list", "--email", BOB)
    assert out == "" and "no tokens" in err
    _, err = run(url, "token", "list", "--email", "nobody@example.com", ok=False)
    assert "No user" in err


def test_project_create_and_list(url: str) -> None:
    out, _ = run(url, "project", "create", "--name", "Web shop")
    assert out == "1\n"
    out, _ = run(url, "project", "create", "--name", "App", "--manager-email", BOB)
    assert out == "2\n"
    assert rows(url, "SELECT id, name, created_by FROM projects ORDER BY id") == [
        (1, "Web shop", None),
        (2, "App", 2),
    ]
    assert rows(
        url,
        "SELECT m.project_id, m.user_id, r.system_name FROM project_members m "
        "JOIN roles r ON r.id = m.role_id",
    ) == [(2, 2, "manager")]
    out, _ = run(url, "project", "list")
    assert out.splitlines() == ["1\tWeb shop\tactive\t0 sessions", "2\tApp\tactive\t0 sessions"]


def test_project_create_errors(url: str) -> None:
    _, err = run(url, "project", "create", "--name", "X", "--manager-email", "no@x.org", ok=False)
    assert "No user" in err
    _, err = run(url, "project", "create", "--name", "  ", ok=False)
    assert "name" in err
    assert rows(url, "SELECT COUNT(*) FROM projects") == [(0,)], "nothing half-created"
    assert rows(url, "SELECT COUNT(*) FROM project_members") == [(0,)]
    out, err = run(url, "project", "list")
    assert out == "" and "No projects" in err


def test_member_remove(url: str) -> None:
    pid = run(url, "project", "create", "--name", "P")[0].strip()
    run(url, "member", "add", "--project", pid, "--email", BOB, "--role", "tester")
    run(url, "member", "add", "--project", pid, "--email", ADA, "--role", "viewer")
    _, err = run(url, "member", "remove", "--project", pid, "--email", BOB)
    assert "no longer a member" in err
    assert rows(url, "SELECT user_id FROM project_members") == [(1,)]

    before = rows(url, "SELECT * FROM project_members")
    _, err = run(url, "member", "remove", "--project", pid, "--email", BOB, ok=False)
    assert "not a member" in err
    _, err = run(url, "member", "remove", "--project", "99", "--email", BOB, ok=False)
    assert "Project 99 not found" in err
    _, err = run(url, "member", "remove", "--project", pid, "--email", "x@y.org", ok=False)
    assert "No user" in err
    assert rows(url, "SELECT * FROM project_members") == before


def test_member_commands_keep_the_last_manager(url: str) -> None:
    """The operator's commands follow the API's rule: a project keeps a manager."""
    pid = run(url, "project", "create", "--name", "P")[0].strip()
    run(url, "member", "add", "--project", pid, "--email", BOB, "--role", "manager")
    before = rows(url, "SELECT project_id, user_id, role_id FROM project_members")
    _, err = run(url, "member", "remove", "--project", pid, "--email", BOB, ok=False)
    assert "last manager" in err
    _, err = run(
        url, "member", "add", "--project", pid, "--email", BOB, "--role", "tester", ok=False
    )
    assert "last manager" in err
    assert rows(url, "SELECT project_id, user_id, role_id FROM project_members") == before

    run(url, "member", "add", "--project", pid, "--email", ADA, "--role", "manager")
    run(url, "member", "add", "--project", pid, "--email", BOB, "--role", "tester")
    run(url, "member", "remove", "--project", pid, "--email", BOB)


def test_deactivate_keeps_an_active_admin(url: str) -> None:
    _, err = run(url, "user", "deactivate", "--email", ADA, ok=False)
    assert "no active site admin" in err
    assert rows(url, "SELECT is_active FROM users WHERE email = 'ada@example.com'") == [(True,)]
    run(url, "user", "create", "--name", "Cy", "--email", "cy@example.com", "--admin")
    run(url, "user", "deactivate", "--email", ADA)


def test_existing_commands_unchanged(url: str) -> None:
    """The original interface still works as before (token create prints the secret alone)."""
    out, _ = run(url, "token", "create", "--email", ADA)
    assert out.count("\n") == 1 and out.startswith("charter_")
    out, _ = run(url, "user", "create", "--name", "Cy", "--email", "cy@example.com")
    assert out == "3\n"
