"""The run page of issues 14 and 12 (TestClient): note edit history, notes in safe
Markdown, files attached from the page (the cookie + CSRF twin of the upload API),
their limits and permissions, and the gallery."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from PIL import Image

from charter.app import create_app
from charter.db.engine import Database
from charter.settings import Settings
from helpers_web import ROLE_EMAILS, csrf_of, sign_in_client

HTMX = {"HX-Request": "true"}
MAX_FILE = 64 * 1024
Client = Callable[[str], TestClient[Any]]


@pytest.fixture(scope="module")
def db(web_demo_url: str) -> Iterator[Database]:
    database = Database(web_demo_url)
    yield database
    database.close()


@pytest.fixture(scope="module")
def client(web_demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """Signed-in clients per role, with a small per-file limit and their own folder."""
    folder = tmp_path_factory.mktemp("attachments")
    settings = Settings(
        database_url=web_demo_url, attachments_dir=str(folder), max_attachment_bytes=MAX_FILE
    )
    clients: dict[str, TestClient[Any]] = {}

    def get(role: str) -> TestClient[Any]:
        if role not in clients:
            c = TestClient(create_app(settings))
            c.__enter__()
            clients[role] = c
            sign_in_client(c, ROLE_EMAILS[role])
        return clients[role]

    yield get
    for c in clients.values():
        c.__exit__(None, None, None)


def post(c: TestClient[Any], path: str, data: Any = None, **kwargs: Any) -> Any:
    body: dict[str, list[str]] = {"csrf_token": [csrf_of(c)]}
    for key, value in (data or {}).items():
        body.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return c.post(path, data=body, follow_redirects=False, **kwargs)


def new_session(c: TestClient[Any]) -> int:
    resp = post(c, "/projects/1/sessions", {"name": "Run page features"})
    assert resp.status_code == 303, resp.text[:2000]
    return int(resp.headers["location"].rsplit("/", 1)[1])


def add_note(c: TestClient[Any], sid: int, text: str, **extra: Any) -> int:
    resp = post(c, f"/sessions/{sid}/notes", {"note": text, "status_id": "", **extra}, headers=HTMX)
    assert resp.status_code == 200, resp.text[:2000]
    found = re.search(r'<li id="note-(\d+)"', resp.text)
    assert found, resp.text[:2000]
    return int(found.group(1))


def png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def upload(c: TestClient[Any], sid: int, files: list[tuple[str, bytes]], csrf: bool = True) -> Any:
    headers = {"X-CSRF-Token": csrf_of(c)} if csrf else {}
    parts = [("files[]", (name, data, "application/octet-stream")) for name, data in files]
    return c.post(f"/sessions/{sid}/attachments", files=parts, headers=headers)


# --- note history ------------------------------------------------------------------------


def history_rows(db: Database, rid: int) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        stmt = sa.text(
            "SELECT status_id, note, edited_by FROM note_history WHERE result_id = :r ORDER BY id"
        )
        return [tuple(r) for r in conn.execute(stmt, {"r": rid}).all()]


def test_each_edit_keeps_the_previous_text_and_status(client: Client, db: Database) -> None:
    tester = client("tester")
    sid = new_session(tester)
    rid = add_note(tester, sid, "first words")
    page = tester.get(f"/sessions/{sid}").text
    assert "Edited" not in page  # a note never edited has no history
    resp = post(tester, f"/notes/{rid}", {"note": "second words", "status_id": "2"}, headers=HTMX)
    assert resp.status_code == 200 and "Edited" in resp.text and "first words" in resp.text
    post(tester, f"/notes/{rid}", {"note": "third words", "status_id": "2"}, headers=HTMX)
    # Saving the same text and status again is no new version.
    post(tester, f"/notes/{rid}", {"note": "third words", "status_id": "2"}, headers=HTMX)
    rows = history_rows(db, rid)
    assert [(s, n) for s, n, _by in rows] == [(None, "first words"), (2, "second words")]
    assert {by for *_x, by in rows} == {rows[0][2]} and rows[0][2] is not None
    page = tester.get(f"/sessions/{sid}").text
    assert "2 earlier versions" in page
    assert page.index("second words") < page.index("first words")  # newest first
    # Deleting the note deletes its history with it.
    assert post(tester, f"/notes/{rid}/delete", headers=HTMX).status_code == 200
    assert history_rows(db, rid) == []


def test_a_failed_edit_keeps_no_history(client: Client, db: Database) -> None:
    tester = client("tester")
    sid = new_session(tester)
    rid = add_note(tester, sid, "kept")
    resp = post(tester, f"/notes/{rid}", {"note": "x\x00y"}, headers=HTMX)
    assert resp.status_code == 422
    assert history_rows(db, rid) == []


# --- Markdown ------------------------------------------------------------------------------


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, [(k, v or "") for k, v in attrs]))


XSS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(2))",
    "[click](JAVASCRIPT:alert(3))",
    "<img src=x onerror=alert(4)>",
    '<a href="https://x.test" onclick="alert(5)">x</a>',
    "[data](data:text/html;base64,PHNjcmlwdD4=)",
    '[t](https://ok.test "a\\" onmouseover=\\"alert(6)")',
]


def test_notes_render_safe_markdown_and_the_api_keeps_the_text(
    client: Client, db: Database
) -> None:
    tester = client("tester")
    sid = new_session(tester)
    text = "**bold** and `code`\n\n- item\n\n[docs](https://example.com/a?b=1)\n\n" + "\n\n".join(
        XSS
    )
    rid = add_note(tester, sid, text)
    page = tester.get(f"/sessions/{sid}").text
    item = page[page.index(f'id="note-{rid}"') :]
    item = item[: item.index("note-actions")]
    assert "<strong>bold</strong>" in item and "<code>code</code>" in item and "<li>" in page
    assert '<a href="https://example.com/a?b=1" rel="noopener nofollow">docs</a>' in item
    tags = Tags()
    tags.feed(item)
    assert not {"script", "img", "iframe"} & {t for t, _a in tags.found}
    for _tag, attrs in tags.found:
        assert not [k for k, _v in attrs if k.startswith("on")]  # no event handlers
        assert all(v.startswith("https://") for k, v in attrs if k == "href" and v)
    assert "&lt;script&gt;" in item
    # The API answers the text as written.
    with db.read() as conn:
        stored = conn.execute(
            sa.text("SELECT note FROM session_results WHERE id = :r"), {"r": rid}
        ).scalar_one()
    assert stored == text


# --- attachments from the page ----------------------------------------------------------------


def test_a_pasted_image_attaches_to_the_note_being_written(client: Client, db: Database) -> None:
    tester = client("tester")
    sid = new_session(tester)
    resp = upload(tester, sid, [("screenshot.png", png())])
    assert resp.status_code == 201, resp.text
    made = resp.json()["result"][0]
    assert made["is_image"] and made["thumbnail"] == f"/attachments/{made['id']}/thumbnail"
    assert 'id="gallery"' in resp.json()["gallery"] and made["thumbnail"] in resp.json()["gallery"]
    # A note with only the file (no text) is a note: the file is its content.
    rid = add_note(tester, sid, "", attachments=[str(made["id"])])
    with db.read() as conn:
        owner = conn.execute(
            sa.text("SELECT result_id FROM attachments WHERE id = :a"), {"a": made["id"]}
        ).scalar_one()
    assert owner == rid
    page = tester.get(f"/sessions/{sid}").text
    assert f'data-full="/attachments/{made["id"]}/preview"' in page  # on the note and the gallery
    assert tester.get(made["thumbnail"]).headers["content-type"].startswith("image/")
    # Text files are downloads, never shown inline.
    log = upload(tester, sid, [("run.log", b"line 1\nline 2\n")]).json()["result"][0]
    assert not log["is_image"] and log["thumbnail"] is None
    page = tester.get(f"/sessions/{sid}").text
    assert f'<a href="/attachments/{log["id"]}/download" download>run.log</a>' in page


def test_another_users_file_is_not_taken_by_a_note(client: Client, db: Database) -> None:
    manager, tester = client("manager"), client("tester")
    sid = new_session(tester)
    theirs = upload(manager, sid, [("m.png", png("blue"))]).json()["result"][0]["id"]
    add_note(tester, sid, "mine", attachments=[str(theirs)])
    with db.read() as conn:
        owner = conn.execute(
            sa.text("SELECT result_id FROM attachments WHERE id = :a"), {"a": theirs}
        ).scalar_one()
    assert owner is None
    # Without text, a note of files that are not the user's is refused (nothing saved).
    data = {"note": "", "attachments": str(theirs)}
    resp = post(tester, f"/sessions/{sid}/notes", data, headers=HTMX)
    assert resp.status_code == 422 and "attached files are gone" in resp.text
    with db.read() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM session_results WHERE session_id = :s"), {"s": sid}
        ).scalar_one()
    assert n == 1


def test_upload_limits_and_refusals_are_readable(client: Client) -> None:
    tester = client("tester")
    sid = new_session(tester)
    big = upload(tester, sid, [("big.bin", b"x" * (MAX_FILE + 1))])
    assert big.status_code == 413 and "large" in big.json()["message"]
    assert post(tester, f"/sessions/{sid}/close").status_code == 303
    closed = upload(tester, sid, [("a.png", png())])
    assert closed.status_code == 409 and "closed" in closed.json()["message"]


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("outsider", 404)])
def test_who_may_not_upload(client: Client, role: str, status: int) -> None:
    sid = new_session(client("tester"))
    resp = upload(client(role), sid, [("a.png", png())])
    assert resp.status_code in (status, 403), resp.text
    assert resp.status_code != 201


def test_an_upload_without_the_csrf_header_is_refused(client: Client, db: Database) -> None:
    tester = client("tester")
    sid = new_session(tester)
    # Not even the form field counts here: the body is not parsed for it.
    parts: list[tuple[str, Any]] = [
        ("files[]", ("a.png", png(), "image/png")),
        ("csrf_token", (None, csrf_of(tester))),
    ]
    resp = tester.post(f"/sessions/{sid}/attachments", files=parts)
    assert resp.status_code == 403
    assert upload(tester, sid, [("a.png", png())], csrf=False).status_code == 403
    with db.read() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM attachments WHERE session_id = :s"), {"s": sid}
        ).scalar_one()
    assert n == 0


def test_the_run_page_offers_shortcuts_chime_and_viewer(client: Client) -> None:
    tester = client("tester")
    sid = new_session(tester)
    page = tester.get(f"/sessions/{sid}").text
    assert 'id="shortcuts-help"' in page and "data-shortcuts-open" in page
    assert 'id="viewer"' in page and "data-upload-input" in page
    viewer = client("viewer").get(f"/sessions/{sid}").text
    assert "data-upload-input" not in viewer  # no upload for who may not run


# --- bugs filed from a note -------------------------------------------------------------------

GITHUB_NEW = "https://github.com/acme/shop/issues/new?title={title}&body={body}"
GITHUB_ISSUE = "https://github.com/acme/shop/issues/{key}"


def test_only_managers_set_a_web_tracker(client: Client, db: Database) -> None:
    bad = {"new_issue_url": "javascript:alert(1)//{title}", "issue_url": "https://x.test/"}
    resp = post(client("manager"), "/projects/1/tracker", bad)
    assert resp.status_code == 422
    assert 'id="e-new_issue_url"' in resp.text and "http://" in resp.text
    assert 'id="e-issue_url"' in resp.text and "{key}" in resp.text
    good = {"new_issue_url": GITHUB_NEW, "issue_url": GITHUB_ISSUE}
    assert post(client("tester"), "/projects/1/tracker", good).status_code == 403
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM issue_trackers")).scalar_one() == 0


def test_a_bug_is_filed_from_a_note_and_issues_link_by_url(client: Client, db: Database) -> None:
    tester = client("tester")
    sid = new_session(tester)
    made = upload(tester, sid, [("shot.png", png())]).json()["result"][0]
    rid = add_note(
        tester, sid, "Total is 0.00 & wrong\nafter removing items", attachments=[str(made["id"])]
    )
    # Without a tracker, no "File a bug" and the route says why.
    assert "File a bug" not in tester.get(f"/sessions/{sid}").text
    assert tester.get(f"/notes/{rid}/bug", follow_redirects=False).status_code == 404
    good = {"new_issue_url": GITHUB_NEW, "issue_url": GITHUB_ISSUE}
    assert post(client("manager"), "/projects/1/tracker", good).status_code == 303
    assert "File a bug" in tester.get(f"/sessions/{sid}").text
    resp = client("viewer").get(f"/notes/{rid}/bug", follow_redirects=False)  # readers too
    assert resp.status_code == 303
    link = resp.headers["location"]
    assert link.startswith(
        "https://github.com/acme/shop/issues/new?title=Total%20is%200.00%20%26%20wrong&body="
    )
    body = unquote(link.split("&body=", 1)[1])
    assert body.startswith("Total is 0.00 & wrong\nafter removing items")
    assert f"/sessions/{sid}#note-{rid}" in body and f"/attachments/{made['id']}/download" in body
    # A pasted issue URL links the issue by its key (recorded on the fly); a known key
    # is reused; linked issues link to the tracker.
    data = {"issue_keys": "https://github.com/acme/shop/issues/4242, WEB-101"}
    add_note(tester, sid, "Linked", **data)
    with db.read() as conn:
        keys = (
            conn.execute(
                sa.text(
                    "SELECT i.display_id FROM result_issues ri JOIN issues i ON i.id = ri.issue_id"
                    " JOIN session_results r ON r.id = ri.result_id WHERE r.session_id = :s"
                    " ORDER BY i.display_id"
                ),
                {"s": sid},
            )
            .scalars()
            .all()
        )
        web101 = conn.execute(
            sa.text("SELECT count(*) FROM issues WHERE display_id = 'WEB-101'")
        ).scalar_one()
    assert keys == ["4242", "WEB-101"] and web101 == 1
    page = tester.get(f"/sessions/{sid}").text
    assert 'href="https://github.com/acme/shop/issues/4242"' in page


def test_the_gallery_deletes_after_asking_and_by_the_rules(client: Client, db: Database) -> None:
    tester, manager, viewer = client("tester"), client("manager"), client("viewer")
    sid = new_session(tester)
    mine = upload(tester, sid, [("mine.png", png())]).json()["result"][0]["id"]
    theirs = upload(manager, sid, [("theirs.log", b"x\n")]).json()["result"][0]["id"]
    page = tester.get(f"/sessions/{sid}").text
    assert f"/attachments/{mine}/delete" in page and "data-confirm=" in page
    assert f"/attachments/{theirs}/delete" not in page  # another user's file
    assert f"/attachments/{theirs}/delete" in manager.get(f"/sessions/{sid}").text
    assert "/delete" not in viewer.get(f"/sessions/{sid}").text.split('id="gallery"')[1]
    assert post(tester, f"/sessions/{sid}/attachments/{theirs}/delete").status_code == 403
    assert post(viewer, f"/sessions/{sid}/attachments/{mine}/delete").status_code == 403
    resp = post(tester, f"/sessions/{sid}/attachments/{mine}/delete")
    assert resp.status_code == 303
    with db.read() as conn:
        left = (
            conn.execute(sa.text("SELECT id FROM attachments WHERE session_id = :s"), {"s": sid})
            .scalars()
            .all()
        )
    assert left == [theirs]


def test_a_foreign_url_is_not_an_issue_key_and_long_bugs_fit_a_url(client: Client) -> None:
    tester = client("tester")
    good = {"new_issue_url": GITHUB_NEW, "issue_url": GITHUB_ISSUE}
    assert post(client("manager"), "/projects/1/tracker", good).status_code == 303
    sid = new_session(tester)
    data = {"note": "x", "status_id": "", "issue_keys": "https://evil.test/acme/shop/issues/1"}
    resp = post(tester, f"/sessions/{sid}/notes", data, headers=HTMX)
    assert resp.status_code == 422 and "not an issue URL of this project" in resp.text
    rid = add_note(tester, sid, "Long\n" + "é and more words " * 5000)
    link = tester.get(f"/notes/{rid}/bug", follow_redirects=False).headers["location"]
    assert len(link) <= 7000 and link.endswith("%0A%E2%80%A6")  # cut, and says so


def test_the_printable_sheet_shows_the_evidence(client: Client) -> None:
    """The session's attachments on its sheet (issue 12: the gallery on the session
    page and on the sheet), read only: thumbnails and downloads, no delete buttons."""
    tester = client("tester")
    sid = new_session(tester)
    assert "No attachments." in tester.get(f"/sessions/{sid}/sheet").text
    assert upload(tester, sid, [("shot.png", png()), ("trace.log", b"GET / 500")]).status_code < 300
    page = tester.get(f"/sessions/{sid}/sheet").text
    evidence = page[page.index('id="evidence-heading"') :]
    assert re.search(r'<img src="[^"]+" alt="shot.png"', evidence)
    assert re.search(r'<a href="[^"]+" download>trace.log</a>', evidence)
    assert "Delete" not in evidence
