"""Attachments on sessions: upload, list, download (Range, ETag), delete, garbage
collection, safe types and names, limits and permissions, on both databases and both
storage backends."""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient
from PIL import Image

from charter.app import create_app
from charter.attachments import storage
from charter.auth import logins
from charter.auth import service as auth
from charter.cli import main
from charter.db.engine import Database
from charter.db.tables import attachment_blobs, attachment_chunks
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import service as session_service
from charter.settings import Settings
from charter.users import service as user_service
from helpers_db import backend, make_fresh_database, migrate
from helpers_web import WEB_PASSWORD, sign_in_client
from live import serving

ADMIN, MANAGER, TESTER, OTHER, VIEWER, OUTSIDER = (
    "admin@example.com",
    "manager@example.com",
    "tester@example.com",
    "other@example.com",
    "viewer@example.com",
    "outsider@example.com",
)


@dataclass
class World:
    client: TestClient[Any]
    db: Database
    folder: Path
    backend: str
    tokens: dict[str, str]
    ids: dict[str, int]
    settings: Settings

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def upload(
        self,
        files: list[tuple[str, bytes]] | list[tuple[str, bytes, str]],
        who: str = TESTER,
        session: int | None = None,
        data: dict[str, str] | None = None,
        single: bool = False,
    ) -> httpx.Response:
        sid = self.ids["session"] if session is None else session
        path = f"/api/v1/sessions/{sid}/attachments" + ("/single" if single else "")
        field = "file" if single else "files[]"
        parts = [(field, f if len(f) == 3 else (f[0], f[1], "text/plain")) for f in files]
        return self.client.post(path, files=parts, data=data or {}, headers=self.auth(who))

    def delete(self, ids: list[int], who: str = TESTER) -> httpx.Response:
        return self.client.request(
            "DELETE",
            f"/api/v1/sessions/{self.ids['session']}/attachments",
            json={"ids": ids},
            headers=self.auth(who),
        )

    def get(self, path: str, who: str = TESTER, **headers: str) -> httpx.Response:
        return self.client.get(path, headers={**self.auth(who), **headers})

    def blob_count(self) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(attachment_blobs)).scalar_one()
            )


@pytest.fixture(params=["file", "database"])
def world(
    request: pytest.FixtureRequest, fresh_database_url: str, tmp_path: Path
) -> Iterator[World]:
    db = migrate(fresh_database_url)
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with db.write() as conn:
        admin = user_service.new_user(conn, "Admin", ADMIN, is_admin=True)
        for email in (MANAGER, TESTER, OTHER, VIEWER, OUTSIDER):
            ids[email] = user_service.new_user(conn, email.split("@")[0], email)
        p = project_service.new_project(conn, "P", created_by=admin)
        q = project_service.new_project(conn, "Q", created_by=admin)
        for email, role in (
            (MANAGER, "manager"),
            (TESTER, "tester"),
            (OTHER, "tester"),
            (VIEWER, "viewer"),
        ):
            project_service.add_member(conn, p, email, role)
        project_service.add_member(conn, q, OUTSIDER, "manager")
        ids["session"] = session_service.create_session(conn, p, ids[TESTER], "S")
        (ids["result"],) = result_service.add_results(
            conn, ids["session"], ids[TESTER], [{"note": "n"}]
        )
        for email in (ADMIN, MANAGER, TESTER, OTHER, VIEWER, OUTSIDER):
            tokens[email] = auth.create_token(conn, email, "t")
    folder = tmp_path / "attachments"
    settings = Settings(
        database_url=fresh_database_url,
        auth_fail_limit=0,
        attachments_dir=str(folder),
        attachments_backend=request.param,
        max_attachment_bytes=2_000_000,
        max_upload_bytes=5_000_000,
    )
    with TestClient(create_app(settings)) as client:
        yield World(client, db, folder, request.param, tokens, ids, settings)
    db.close()


def png(width: int = 40, height: int = 30, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(out, format=fmt)
    return out.getvalue()


SAMPLES = {
    "shot.png": (png(), "image/png"),
    "photo.jpg": (image("JPEG"), "image/jpeg"),
    "anim.gif": (image("GIF"), "image/gif"),
    "pic.webp": (image("WEBP"), "image/webp"),
    "log.txt": (b"line 1\nline 2\n", "application/octet-stream"),
    "page.html": (b"<html><script>alert(1)</script></html>", "application/octet-stream"),
    "evil.svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "application/octet-stream",
    ),
    "random.bin": (os.urandom(700_000), "application/octet-stream"),
    "empty.dat": (b"", "application/octet-stream"),
}


def test_round_trip_of_every_type(world: World) -> None:
    files = [(name, content) for name, (content, _) in SAMPLES.items()]
    resp = world.upload(files, data={"note": "evidence", "result_id": str(world.ids["result"])})
    assert resp.status_code == 201, resp.text
    made = resp.json()["result"]
    assert resp.json()["expands"] == {}
    assert [a["name"] for a in made] == list(SAMPLES)
    for item in made:
        content, mime = SAMPLES[item["name"]]
        assert item["mime_type"] == mime
        assert item["size"] == len(content)
        assert item["sha256"] == hashlib.sha256(content).hexdigest()
        assert item["note"] == "evidence" and item["result_id"] == world.ids["result"]
        assert item["session_id"] == world.ids["session"]
        assert item["path"] == f"/api/v1/attachments/{item['id']}/download"
        is_image = mime.startswith("image/")
        assert (item["path_thumbnail"] is not None) is is_image
        assert (item["path_preview"] is not None) is is_image
        got = world.get(item["path"], who=VIEWER)
        assert got.status_code == 200, got.text
        assert got.content == content
        assert got.headers["etag"] == f'"{item["sha256"]}"'
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        disposition = got.headers["content-disposition"]
        if is_image:
            assert got.headers["content-type"] == mime
            assert disposition.startswith("inline;")
            thumb = world.get(item["path_thumbnail"])
            assert thumb.status_code == 200
            with Image.open(io.BytesIO(thumb.content)) as t:
                assert max(t.size) <= storage.THUMBNAIL_SIZE
        else:
            assert got.headers["content-type"] == "application/octet-stream"
            assert disposition.startswith("attachment;")
            assert f"filename*=UTF-8''{item['name']}" in disposition


def test_a_png_claiming_to_be_html_is_stored_as_png(world: World) -> None:
    resp = world.upload([("x.html", png(), "text/html")], single=True)
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"]["mime_type"] == "image/png"
    resp = world.upload([("x.png", b"<html>hi</html>", "image/png")], single=True)
    got = world.get(resp.json()["result"]["path"])
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")


def test_blobs_are_stored_once(world: World) -> None:
    content = os.urandom(600_000)  # several chunks
    first = world.upload([("a.bin", content)]).json()["result"][0]
    second = world.upload([("b.bin", content)], who=OTHER).json()["result"][0]
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert world.blob_count() == 1
    if world.backend == "database":
        with world.db.read() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(attachment_chunks)).scalar_one()
        assert n == -(-len(content) // storage.CHUNK_BYTES)
    else:
        assert len([p for p in (world.folder / "blobs").rglob("*") if p.is_file()]) == 1


def test_ranges_and_etags(world: World) -> None:
    content = os.urandom(storage.CHUNK_BYTES * 2 + 1000)
    item = world.upload([("rec.webm", content)]).json()["result"][0]
    path = item["path"]
    part = world.get(path, Range="bytes=10-19")
    assert part.status_code == 206 and part.content == content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(content)}"
    across = world.get(path, Range=f"bytes={storage.CHUNK_BYTES - 5}-{storage.CHUNK_BYTES + 5}")
    assert across.content == content[storage.CHUNK_BYTES - 5 : storage.CHUNK_BYTES + 6]
    tail = world.get(path, Range="bytes=-100")
    assert tail.status_code == 206 and tail.content == content[-100:]
    opened = world.get(path, Range=f"bytes={len(content) - 3}-")
    assert opened.content == content[-3:]
    assert world.get(path, Range=f"bytes={len(content)}-").status_code == 416
    etag = world.get(path).headers["etag"]
    assert world.get(path, **{"If-None-Match": etag}).status_code == 304
    stale = world.get(path, Range="bytes=0-0", **{"If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == content


def test_delete_and_garbage_collection(world: World) -> None:
    shared = os.urandom(1000)
    mine = world.upload([("a.bin", shared), ("b.png", png(2000, 100))]).json()["result"]
    theirs = world.upload([("c.bin", shared)], who=OTHER).json()["result"]
    assert world.blob_count() == 4  # shared, png, png thumbnail, png preview
    # another tester's attachment: 403, nothing deleted (all or nothing)
    assert world.delete([mine[0]["id"], theirs[0]["id"]]).status_code == 403
    assert world.delete([mine[0]["id"], 999_999]).status_code == 404
    assert world.delete([]).status_code == 422
    assert world.delete(list(range(1, 102))).status_code == 422
    assert world.delete([mine[0]["id"], mine[1]["id"]], who=VIEWER).status_code == 403
    assert world.delete([a["id"] for a in mine]).status_code == 204
    assert world.get(mine[1]["path"]).status_code == 404
    assert world.blob_count() == 1  # the shared blob is still used by the other one
    assert world.get(theirs[0]["path"]).content == shared
    assert world.delete([theirs[0]["id"]], who=MANAGER).status_code == 204
    assert world.blob_count() == 0
    if world.backend == "file":
        assert not [p for p in (world.folder / "blobs").rglob("*") if p.is_file()]
    with world.db.write() as conn:
        assert storage.collect_garbage(conn, world.folder, grace=False) == []


def test_list_filters_expands_and_results(world: World) -> None:
    rid = world.ids["result"]
    world.upload([("a.txt", b"a")], data={"result_id": str(rid)})
    world.upload([("b.txt", b"b")], who=OTHER)
    sid = world.ids["session"]
    page = world.get(f"/api/v1/sessions/{sid}/attachments?expands=users", who=VIEWER).json()
    assert [a["name"] for a in page["result"]] == ["b.txt", "a.txt"]  # by id, desc
    assert {u["id"] for u in page["expands"]["users"]} == {world.ids[TESTER], world.ids[OTHER]}
    asc = world.get(f"/api/v1/sessions/{sid}/attachments?order=asc").json()
    assert [a["name"] for a in asc["result"]] == ["a.txt", "b.txt"]
    mine = world.get(f"/api/v1/sessions/{sid}/attachments?created_by={world.ids[OTHER]}").json()
    assert [a["name"] for a in mine["result"]] == ["b.txt"]
    of_note = world.get(f"/api/v1/sessions/{sid}/attachments?result_id={rid}").json()
    assert [a["name"] for a in of_note["result"]] == ["a.txt"]
    results = world.get(f"/api/v1/sessions/{sid}/results?expands=attachments").json()
    assert results["result"][0]["attachments"] == 1
    assert [a["name"] for a in results["expands"]["attachments"]] == ["a.txt"]
    one = world.get(f"/api/v1/attachments/{of_note['result'][0]['id']}").json()
    assert one["result"]["name"] == "a.txt"


def test_names_are_cleaned(world: World) -> None:
    resp = world.upload([("../../etc/pa\x1bss\u202ewd.txt", b"x")])
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"][0]["name"] == "passwd.txt"


def test_bad_uploads(world: World) -> None:
    sid = world.ids["session"]
    no_file = world.client.post(
        f"/api/v1/sessions/{sid}/attachments",
        files={"note": (None, "x")},
        headers=world.auth(TESTER),
    )
    assert no_file.status_code == 422, no_file.text
    too_many = [(f"{i}.txt", b"x") for i in range(21)]
    resp = world.upload(too_many)
    assert resp.status_code == 422 and "20" in str(resp.json()["errors"])
    resp = world.upload([("a.txt", b"x"), ("b.txt", b"y")], single=True)
    assert resp.status_code == 422
    assert world.upload([("a.txt", b"x")], data={"result_id": "999999"}).status_code == 422
    assert world.upload([("a.txt", b"x")], data={"bogus": "1"}).status_code == 422
    plain = world.client.post(
        f"/api/v1/sessions/{sid}/attachments", json={"x": 1}, headers=world.auth(TESTER)
    )
    assert plain.status_code == 400
    big = world.upload([("big.bin", b"\0" * 2_000_001)])
    assert big.status_code == 413 and "limit" in big.json()["message"]
    assert world.blob_count() == 0
    assert not [p for p in (world.folder / "staging").rglob("*") if p.is_file()]


def test_a_decompression_bomb_is_refused_cleanly(world: World) -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # 400 Mpx in a few KB
    resp = world.upload([("bomb.png", out.getvalue())])
    assert resp.status_code == 422, resp.text
    assert "too large" in resp.json()["message"]
    assert world.blob_count() == 0


def test_permissions_and_closed_sessions(world: World) -> None:
    sid = world.ids["session"]
    assert world.upload([("a.txt", b"x")], who=VIEWER).status_code == 403
    assert world.upload([("a.txt", b"x")], who=OUTSIDER).status_code == 403
    item = world.upload([("a.txt", b"x")]).json()["result"][0]
    assert world.get(item["path"], who=OUTSIDER).status_code == 403
    assert world.get(f"/api/v1/sessions/{sid}/attachments", who=OUTSIDER).status_code == 403
    assert world.get(item["path"], who=VIEWER).status_code == 200
    with world.db.write() as conn:
        session_service.close(conn, sid, world.ids[TESTER])
    resp = world.upload([("b.txt", b"y")])
    assert resp.status_code == 409, resp.text
    assert world.delete([item["id"]]).status_code == 409


def _cli(url: str, folder: Path, *args: str) -> tuple[int, str]:
    env = {"CHARTER_ATTACHMENTS_DIR": str(folder)}
    result = CliRunner().invoke(main, ["--database", url, *args], env=env)
    return result.exit_code, result.output


@pytest.mark.skipif(backend() != "sqlite", reason="charter backup is SQLite only (pg_dump)")
def test_backup_restore_check_and_gc(world: World, tmp_path: Path) -> None:
    contents = [os.urandom(300_000), png(2000, 100), b"small"]
    made = world.upload([(f"f{i}", c) for i, c in enumerate(contents)]).json()["result"]
    url = str(world.db.url)
    assert _cli(url, world.folder, "attachments", "check") == (
        0,
        "Checked 5 blob(s); 0 problem(s).\n",
    )
    target = tmp_path / "backup.db"
    code, out = _cli(url, world.folder, "backup", str(target))
    assert code == 0, out
    # everything is deleted (and collected) after the backup ...
    assert world.delete([a["id"] for a in made]).status_code == 204
    assert world.blob_count() == 0
    world.client.__exit__(None, None, None)  # stop serving, as restore requires
    world.db.close()
    code, out = _cli(url, world.folder, "restore", "--yes", str(target))
    assert code == 0, out
    # ... and comes back with the restore, byte for byte
    with TestClient(create_app(world.settings)) as client:
        world.client = client
        for item, content in zip(made, contents, strict=True):
            assert world.get(item["path"]).content == content
    assert _cli(url, world.folder, "attachments", "check")[0] == 0
    if world.backend == "file":  # a damaged blob file is found
        victim = storage.FileStore(world.folder).path_of(made[0]["sha256"])
        victim.write_bytes(b"tampered")
        code, out = _cli(url, world.folder, "attachments", "check")
        assert code == 1 and "hash mismatch" in out
    code, out = _cli(url, world.folder, "attachments", "gc")
    assert code == 0 and "Removed 0" in out


LIMIT_MESSAGE = "The file 'big.bin' is larger than the limit of 26214400 bytes (25 MB)."


@pytest.mark.load
def test_a_26_mb_upload_is_a_413_urllib_can_read(tmp_path: Path) -> None:
    """A real `charter serve`: the 413 for a body over the limit (an upload of 26 MB, a
    20 MB JSON body) reaches urllib, which sends the whole body before reading."""
    url, cleanup = make_fresh_database(tmp_path)
    try:
        db = migrate(url)
        with db.write() as conn:
            admin = user_service.new_user(conn, "Admin", ADMIN, is_admin=True)
            p = project_service.new_project(conn, "P", created_by=admin)
            sid = session_service.create_session(conn, p, admin, "S")
            token = auth.create_token(conn, ADMIN, "t")
        db.close()
        boundary = "charterboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files[]"; '
            'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        body = head + b"\0" * (26 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
        with serving(url, token, tmp_path / "serve.log") as base:
            for path, data, ctype in (
                (
                    f"/api/v1/sessions/{sid}/attachments",
                    body,
                    f"multipart/form-data; boundary={boundary}",
                ),
                ("/api/v1/projects", b'{"name": "' + b"x" * 20_000_000 + b'"}', "application/json"),
            ):
                request = urllib.request.Request(
                    base + path,
                    data=data,
                    method="POST",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": ctype},
                )
                with pytest.raises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(request, timeout=60)
                assert caught.value.code == 413
                message = json.loads(caught.value.read())["message"]
                assert message in ("Request body too large.", LIMIT_MESSAGE), message
    finally:
        cleanup()  # type: ignore[operator]


def test_the_web_cookie_downloads_the_same_files(world: World) -> None:
    item = world.upload([("shot.png", png())]).json()["result"][0]
    with world.db.write() as conn:
        logins.set_password(conn, VIEWER, WEB_PASSWORD)
    page_path = f"/attachments/{item['id']}/download"
    assert world.client.get(page_path, follow_redirects=False).status_code in (302, 303)
    sign_in_client(world.client, VIEWER)
    got = world.client.get(page_path)
    assert got.status_code == 200 and got.content == png()
    assert got.headers["content-type"] == "image/png"
    assert world.client.get(f"/attachments/{item['id']}/thumbnail").status_code == 200
    # the API still refuses the cookie
    assert world.client.get(item["path"]).status_code == 401


def test_deleting_results_and_sessions(world: World) -> None:
    rid, sid = world.ids["result"], world.ids["session"]
    item = world.upload([("a.txt", b"a")], data={"result_id": str(rid)}).json()["result"][0]
    with world.db.write() as conn:
        result_service.delete_result(conn, rid)
    again = world.get(f"/api/v1/attachments/{item['id']}").json()["result"]
    assert again["result_id"] is None
    with world.db.write() as conn:
        session_service.delete(conn, sid)
    assert world.get(item["path"]).status_code == 404


def test_an_upload_retried_with_its_idempotency_key_is_stored_once(world: World) -> None:
    sid = world.ids["session"]
    headers = {**world.auth(TESTER), "Idempotency-Key": "upload-1"}
    path = f"/api/v1/sessions/{sid}/attachments"
    parts = [("files[]", ("a.txt", b"abc", "text/plain"))]
    first = world.client.post(path, files=parts, headers=headers)
    again = world.client.post(path, files=parts, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert world.get(path).json()["total"] == 1
    other = [("files[]", ("a.txt", b"xyz", "text/plain"))]
    assert world.client.post(path, files=other, headers=headers).status_code == 422


def test_gc_removes_blob_files_no_row_names(world: World) -> None:
    if world.backend != "file":
        pytest.skip("file backend only")
    stray = storage.FileStore(world.folder).path_of("ab" * 32)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a rolled-back upload")
    kept = world.upload([("a.txt", b"kept")]).json()["result"][0]
    with world.db.write() as conn:
        assert storage.collect_garbage(conn, world.folder) == []  # younger than the grace
        assert storage.collect_garbage(conn, world.folder, grace=False) == ["ab" * 32]
    assert not stray.exists()
    assert world.get(kept["path"]).content == b"kept"
