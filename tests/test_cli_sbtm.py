"""`charter sbtm import|export` and `charter sbtm areas import`, through click's runner
against a real database (both databases)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from charter.cli import main
from charter.db.engine import Database
from charter.projects import service as project_service
from charter.sbtm import read as sbtm_read
from charter.users import service as user_service
from helpers_db import migrate

DATA = Path(__file__).parent / "data" / "sbtm"
GOOD = ("et-mk-261103-a.ses", "et-mk-261103-b.ses")


def run(url: str, *args: str, ok: bool = True) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["--database", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    else:
        assert result.exit_code != 0, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def setup(url: str) -> tuple[int, int]:
    db = migrate(url)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Admin", "admin@example.com", is_admin=True)
        user_service.new_user(conn, "Mira Kowalski", "mira@example.com")
        p = project_service.new_project(conn, "P", created_by=admin)
        q = project_service.new_project(conn, "Q", created_by=admin)
    db.close()
    return p, q


def scalar(url: str, sql: str) -> int:
    db = Database(url)
    with db.read() as conn:
        value = int(conn.execute(sa.text(sql)).scalar_one())
    db.close()
    return value


def test_import_folder_zip_and_replace(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    p, q = setup(url)
    folder = tmp_path / "sheets" / "nested"
    folder.mkdir(parents=True)
    for name in GOOD:
        shutil.copy(DATA / name, folder / name)
    (folder / "readme.txt").write_text("not a sheet")
    out, err = run(url, "sbtm", "import", "--project", str(p), str(tmp_path / "sheets"))
    assert [line.split("\t")[1] for line in out.splitlines()] == list(GOOD)
    assert "Created inactive user pat.lee <pat.lee@example.test>" in err
    assert "Imported 2 sheet(s)." in err
    # again: refused, nothing changes; with --replace: the same count
    _, err = run(url, "sbtm", "import", "--project", str(p), str(folder), ok=False)
    assert "exists already" in err
    run(url, "sbtm", "import", "--project", str(p), "--replace", str(folder))
    assert scalar(url, f"SELECT COUNT(*) FROM sessions WHERE project_id = {p}") == 2

    archive = tmp_path / "sheets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in GOOD:
            z.write(DATA / name, f"2026/{name}")
    out, _ = run(url, "sbtm", "import", "--project", str(q), str(archive))
    assert len(out.splitlines()) == 2


def test_import_errors_name_file_and_line(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    p, _ = setup(url)
    bad = tmp_path / "broken-sheet.ses"
    shutil.copy(DATA / "broken-sheet.ses", bad)
    _, err = run(
        url, "sbtm", "import", "--project", str(p), str(DATA / GOOD[0]), str(bad), ok=False
    )
    assert "broken-sheet.ses:1: missing section 'DATA FILES'" in err
    assert "broken-sheet.ses:17: bad duration 'medium'" in err
    assert "nothing was imported" in err
    assert scalar(url, "SELECT COUNT(*) FROM sessions") == 0
    _, err = run(url, "sbtm", "import", "--project", str(p), str(tmp_path / "nope"), ok=False)
    assert "no such file" in err
    _, err = run(url, "sbtm", "import", "--project", "999", str(DATA / GOOD[0]), ok=False)
    assert "not found" in err
    _, err = run(
        url,
        "sbtm",
        "import",
        "--project",
        str(p),
        "--no-create-users",
        str(DATA / GOOD[1]),
        ok=False,
    )
    assert "unknown tester 'pat.lee@example.test'" in err


def test_export_then_import_keeps_the_metrics(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    p, q = setup(url)
    run(url, "sbtm", "import", "--project", str(p), *(str(DATA / n) for n in GOOD))
    out_dir = tmp_path / "out"
    _, err = run(url, "sbtm", "export", "--project", str(p), str(out_dir))
    assert "Wrote 2 sheet(s)" in err
    assert sorted(f.name for f in out_dir.iterdir()) == list(GOOD)
    out, _ = run(url, "sbtm", "import", "--project", str(q), str(out_dir))
    db = Database(url)
    with db.read() as conn:
        ids = [int(line.split("\t")[0]) for line in out.splitlines()]
        for old_id, new_id in zip((1, 2), ids, strict=True):
            old = sbtm_read.session_metrics(conn, old_id)
            new = sbtm_read.session_metrics(conn, new_id)
            assert [getattr(old, f) for f in old.__struct_fields__[1:]] == [
                getattr(new, f) for f in new.__struct_fields__[1:]
            ]
    db.close()


def test_export_names_sessions_without_a_sheet(fresh_database_url: str, tmp_path: Path) -> None:
    from charter.sessions import service as session_service

    url = fresh_database_url
    p, _ = setup(url)
    db = Database(url)
    with db.write() as conn:
        for _ in range(2):
            session_id = session_service.create_session(conn, p, 1, "Plain", assignee_id=None)
            session_service.start(conn, session_id, 1)
    db.close()
    run(url, "sbtm", "export", "--project", str(p), str(tmp_path / "out"))
    names = sorted(f.name for f in (tmp_path / "out").iterdir())
    assert len(names) == 2
    assert names[0].startswith("et-xx-") and names[0].endswith("-a.ses")
    assert names[1].endswith("-b.ses")


def test_areas_import(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    p, _ = setup(url)
    areas = tmp_path / "coverage.ini"
    areas.write_text("#AREAS\nOS | Linux\n\nos|linux\nBuild | 4.2\n")
    _, err = run(url, "sbtm", "areas", "import", "--project", str(p), str(areas))
    assert "2 area(s) created, 0 known already." in err
    _, err = run(url, "sbtm", "areas", "import", "--project", str(p), str(areas))
    assert "0 area(s) created, 2 known already." in err
    assert scalar(url, f"SELECT COUNT(*) FROM areas WHERE project_id = {p}") == 2
