"""The charter command, run in-process with click's runner against a real database."""

from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner

from charter.auth import service as auth
from charter.cli import main
from charter.db.engine import Database
from charter.sessions import counters


def run(url: str, *args: str, ok: bool = True) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["--database", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    else:
        assert result.exit_code != 0
    return result.stdout, result.stderr


def count(url: str, sql: str) -> int:
    db = Database(url)
    with db.read() as conn:
        value = int(conn.execute(sa.text(sql)).scalar_one())
    db.close()
    return value


def test_migrate_is_idempotent(fresh_database_url: str) -> None:
    _, err = run(fresh_database_url, "migrate")
    assert "Migrated" in err
    _, err = run(fresh_database_url, "migrate")
    assert "up to date" in err
    assert count(fresh_database_url, "SELECT COUNT(*) FROM statuses") == 25
    assert count(fresh_database_url, "SELECT COUNT(*) FROM statuses WHERE is_active") == 6


def test_user_member_token_flow(fresh_database_url: str) -> None:
    url = fresh_database_url
    run(url, "migrate")
    out, _ = run(url, "user", "create", "--name", "Ada", "--email", "ada@example.com", "--admin")
    assert out.strip().isdigit()
    run(url, "user", "create", "--name", "Bob", "--email", "bob@example.com")
    # Duplicate email: a clear error, nothing written.
    _, err = run(url, "user", "create", "--name", "Bob", "--email", "bob@example.com", ok=False)
    assert "exists" in err
    assert count(url, "SELECT COUNT(*) FROM users") == 2

    db = Database(url)
    from charter.projects import service as project_service

    with db.write() as conn:
        project_id = project_service.new_project(conn, "P", created_by=1)
    run(
        url,
        "member",
        "add",
        "--project",
        str(project_id),
        "--email",
        "bob@example.com",
        "--role",
        "tester",
    )
    run(
        url,
        "member",
        "add",
        "--project",
        str(project_id),
        "--email",
        "bob@example.com",
        "--role",
        "viewer",
    )
    assert count(url, "SELECT COUNT(*) FROM project_members") == 1
    _, err = run(
        url,
        "member",
        "add",
        "--project",
        "999",
        "--email",
        "bob@example.com",
        "--role",
        "viewer",
        ok=False,
    )
    assert "not found" in err

    out, err = run(url, "token", "create", "--email", "bob@example.com", "--name", "ci")
    secret = out.strip()
    assert out == secret + "\n", "the token is printed alone on stdout"
    assert re.fullmatch(r"charter_[A-Za-z0-9_-]{40,}", secret)
    with db.read() as conn:
        user, _token_id, _ = auth.authenticate(conn, secret)
        stored = conn.execute(sa.text("SELECT token_hash, name FROM api_tokens")).one()
    assert user.email == "bob@example.com"
    assert stored == (auth.hash_token(secret), "ci"), "only the hash is stored"
    _, err = run(url, "token", "create", "--email", "nobody@example.com", ok=False)
    assert "No user" in err
    db.close()


def test_demo_then_recount(fresh_database_url: str) -> None:
    url = fresh_database_url
    _, err = run(url, "demo", "--sessions", "120", "--seed", "3")
    assert "120 sessions" in err
    assert count(url, "SELECT COUNT(*) FROM sessions") == 120
    # A second load is refused politely, and adds nothing.
    _, err = run(url, "demo", "--sessions", "120")
    assert "loaded already" in err
    assert count(url, "SELECT COUNT(*) FROM sessions") == 120
    assert count(url, "SELECT SUM(session_count) FROM projects") == 120

    # Break a counter by hand; recount repairs it.
    db = Database(url)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE sessions SET total_count = total_count + 5 WHERE id = 1"))
        assert counters.verify(conn) == [1]
    _, err = run(url, "recount")
    assert "1 session(s) had drifted" in err
    with db.read() as conn:
        assert counters.verify(conn) == []
    db.close()


def test_demo_is_deterministic(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    dumps = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        run(url, "demo", "--sessions", "50", "--seed", "11")
        db = Database(url)
        with db.read() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, name, assignee_id, state_id, is_closed, created_at, total_count "
                    "FROM sessions ORDER BY id"
                )
            ).all()
            results = conn.execute(
                sa.text("SELECT COUNT(*), SUM(status_id) FROM session_results")
            ).one()
        db.close()
        dumps.append((rows, results))
    assert dumps[0] == dumps[1]


def test_demo_covers_what_clients_filter_on(fresh_database_url: str) -> None:
    url = fresh_database_url
    run(url, "demo", "--sessions", "200", "--seed", "1")
    assert count(url, "SELECT COUNT(*) FROM projects") >= 2
    assert count(url, "SELECT COUNT(*) FROM users") == 6
    assert count(url, "SELECT COUNT(*) FROM templates") == 2
    assert count(url, "SELECT COUNT(*) FROM template_fields WHERE type = 'dropdown'") >= 1
    assert count(url, "SELECT COUNT(*) FROM template_fields WHERE type = 'multiselect'") >= 1
    for column in ("assignee_id", "state_id", "template_id", "milestone_id", "config_id"):
        assert count(url, f"SELECT COUNT(DISTINCT {column}) FROM sessions") >= 2, column
    assert count(url, "SELECT COUNT(*) FROM sessions WHERE is_closed") > 0
    assert count(url, "SELECT COUNT(*) FROM sessions WHERE NOT is_closed") > 0
    assert count(url, "SELECT COUNT(*) FROM sessions WHERE NOT is_started") > 0
    assert count(url, "SELECT COUNT(DISTINCT status_id) FROM session_results") >= 6
    assert count(url, "SELECT COUNT(*) FROM session_tags") > 0
    assert count(url, "SELECT COUNT(*) FROM session_issues") > 0
    assert (
        count(
            url,
            "SELECT MIN(c) FROM (SELECT COUNT(*) AS c FROM session_results GROUP BY session_id) t",
        )
        >= 1
    )
