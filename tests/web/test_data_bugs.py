"""The data bugs of web issue 14, each proven through the pages (TestClient): empty
and doubled notes, the timeline of a long session, stale forms, live elapsed, ..."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from helpers_web import csrf_of
from litestar.testing import TestClient

from charter.db.engine import Database
from charter.domain import results

Client = Callable[[str], TestClient[Any]]
HTMX = {"HX-Request": "true"}
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
NOTE_ITEM = re.compile(r'<li id="note-(\d+)"')


@pytest.fixture(scope="module")
def db(web_demo_url: str) -> Iterator[Database]:
    database = Database(web_demo_url)
    yield database
    database.close()


def post(client: TestClient[Any], path: str, data: Any = None, **kwargs: Any) -> Any:
    body: dict[str, list[str]] = {"csrf_token": [csrf_of(client)]}
    for key, value in (data or {}).items():
        body.setdefault(key, []).append(value)
    return client.post(path, data=body, follow_redirects=False, **kwargs)


def create(client: TestClient[Any], project_id: int = 1, **fields: Any) -> int:
    resp = post(client, f"/projects/{project_id}/sessions", {"name": "Bugs", **fields})
    assert resp.status_code == 303, resp.text[:2000]
    return int(resp.headers["location"].rsplit("/", 1)[1])


def note_rows(db: Database, sid: int) -> list[tuple[int | None, str | None]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT status_id, note FROM session_results WHERE session_id = :s ORDER BY id"
            ),
            {"s": sid},
        ).all()
    return [(r[0], r[1]) for r in rows]


def total_count(db: Database, sid: int) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.text("SELECT total_count FROM sessions WHERE id = :s"), {"s": sid}
            ).scalar_one()
        )


# --- 1. empty and doubled notes ------------------------------------------------------


def test_a_status_without_text_is_not_a_note(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    for data in ({"status_id": "2", "note": ""}, {"status_id": "3", "note": "  \n "}):
        resp = post(client, f"/sessions/{sid}/notes", data, headers=HTMX)
        assert resp.status_code == 422, resp.text[:500]
        assert resp.headers["HX-Reswap"] == "none" and "Type a note" in resp.text
    assert note_rows(db, sid) == [] and total_count(db, sid) == 0
    # The API still takes a status-only result (Testmo clients send them).
    with db.write() as conn:
        results.add_results(conn, sid, 1, [{"status_id": 2}])
    assert note_rows(db, sid) == [(2, None)]


def test_a_double_submit_of_one_form_writes_one_note(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    key = FORM_KEY.search(client.get(f"/sessions/{sid}").text)
    assert key, "the note box carries a one-time key"
    data = {"status_id": "2", "note": "Checkout works", "form_key": key.group(1)}
    first = post(client, f"/sessions/{sid}/notes", data, headers=HTMX)
    again = post(client, f"/sessions/{sid}/notes", data, headers=HTMX)
    assert first.status_code == again.status_code == 200
    assert len(NOTE_ITEM.findall(first.text)) == 1
    assert NOTE_ITEM.findall(again.text) == []  # nothing new to show
    assert note_rows(db, sid) == [(2, "Checkout works")] and total_count(db, sid) == 1
    # The answer renews the key for the next note typed in the same box.
    fresh = FORM_KEY.search(first.text)
    assert fresh and fresh.group(1) != key.group(1) and 'hx-swap-oob="true"' in first.text
    # The same box with other text (typed after the answer was lost) is a new note.
    other = post(client, f"/sessions/{sid}/notes", {**data, "note": "Second"}, headers=HTMX)
    assert other.status_code == 200 and len(NOTE_ITEM.findall(other.text)) == 1
    # Without htmx the repeat lands on the first note, still written once.
    plain = {"status_id": "", "note": "plain", "form_key": "k-plain"}
    first_id = post(client, f"/sessions/{sid}/notes", plain).headers["location"]
    assert post(client, f"/sessions/{sid}/notes", plain).headers["location"] == first_id
    assert len(note_rows(db, sid)) == 3 == total_count(db, sid)


# --- 2. the timeline of a long session -------------------------------------------------


def test_a_long_timeline_pages_newest_first(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    with db.write() as conn:
        results.add_results(conn, sid, 1, [{"note": f"old {i}"} for i in range(1000)])
        results.add_results(conn, sid, 1, [{"note": f"old {i}"} for i in range(1000, 1100)])
    resp = post(client, f"/sessions/{sid}/notes", {"note": "the newest"}, headers=HTMX)
    assert resp.status_code == 200
    page = client.get(f"/sessions/{sid}").text
    shown = [int(i) for i in NOTE_ITEM.findall(page)]
    assert 0 < len(shown) <= 100 and shown == sorted(shown, reverse=True)
    assert "the newest" in page and "1,101" not in page and "1101 in all" in page
    seen = list(shown)
    older = re.search(r'hx-get="/sessions/\d+/notes\?before=(\d+)"', page)
    while older:
        assert int(older.group(1)) == seen[-1]
        resp = client.get(f"/sessions/{sid}/notes", params={"before": older.group(1)}, headers=HTMX)
        assert resp.status_code == 200
        ids = [int(i) for i in NOTE_ITEM.findall(resp.text)]
        assert ids and ids == sorted(ids, reverse=True) and ids[0] < seen[-1]
        seen += ids
        older = re.search(r'hx-get="/sessions/\d+/notes\?before=(\d+)"', resp.text)
        assert 'id="timeline-more"' in resp.text
    with db.read() as conn:
        every = conn.execute(
            sa.text("SELECT id FROM session_results WHERE session_id = :s ORDER BY id DESC"),
            {"s": sid},
        ).scalars()
        assert seen == list(every)
    # Without htmx, the link shows the older page inside the session page.
    before = seen[60]
    resp = client.get(f"/sessions/{sid}", params={"before": str(before)})
    assert int(NOTE_ITEM.findall(resp.text)[0]) == seen[61]
