"""The data bugs of web issue 14, each proven through the pages (TestClient): empty
and doubled notes, the timeline of a long session, stale forms, live elapsed, ..."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.auth import service as auth
from charter.catalog import service as catalog_service
from charter.core.clock import utcnow
from charter.dashboard import read as dashboard_read
from charter.db.engine import Database
from charter.results import queries as result_queries
from charter.results import service as result_service
from charter.sessions import counters
from charter.sessions import service as session_service
from charter.web import charts
from helpers_web import ROLE_EMAILS, csrf_of

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
        result_service.add_results(conn, sid, 1, [{"status_id": 2}])
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
        result_service.add_results(conn, sid, 1, [{"note": f"old {i}"} for i in range(1000)])
        result_service.add_results(conn, sid, 1, [{"note": f"old {i}"} for i in range(1000, 1100)])
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


# --- 3. two tabs: a stale save is refused, shown, and never overwrites -----------------

BASE = re.compile(r'name="base_values" value="([^"]*)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')


def form_of_page(html: str) -> dict[str, str]:
    base = BASE.search(html)
    assert base, "the edit form carries the values it was rendered from"
    return {"base_values": unescape(base.group(1))}


def session_name(db: Database, sid: int) -> str:
    with db.read() as conn:
        row = conn.execute(sa.text("SELECT name, estimate FROM sessions WHERE id = :s"), {"s": sid})
        return str(row.one()[0])


def test_a_stale_session_edit_is_refused_and_shown(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client, estimate="30")
    mine = form_of_page(client.get(f"/sessions/{sid}/edit").text)
    # Another tab saves first.
    with db.write() as conn:
        session_service.update_session(
            conn, sid, 1, {"name": "Theirs", "estimate": 45 * 60_000_000}
        )
    data = {**mine, "name": "Mine", "estimate": "30", "template_id": "1", "state_id": "1"}
    resp = post(client, f"/sessions/{sid}/edit", data)
    assert resp.status_code == 409, resp.text[:500]
    page = unescape(resp.text)
    assert "Nothing was saved" in page and 'id="form-conflict"' in page
    assert re.search(
        r"Name</a>: theirs <q class=\"theirs\">Theirs</q>, yours <q class=\"yours\">Mine", page
    )
    assert 'theirs <q class="theirs">45</q>, yours <q class="yours">30</q>' in page  # estimate
    assert 'value="Mine"' in resp.text  # the form keeps what was typed
    assert session_name(db, sid) == "Theirs"
    # Saving again from that form is deliberate: it replaces theirs.
    again = {**data, **form_of_page(resp.text)}
    assert post(client, f"/sessions/{sid}/edit", again).status_code == 303
    assert session_name(db, sid) == "Mine"


def test_pausing_a_session_paused_elsewhere_shows_it_paused(web_client: Client) -> None:
    client = web_client("tester")
    sid = create(client)
    assert post(client, f"/sessions/{sid}/start", headers=HTMX).status_code == 200
    assert post(client, f"/sessions/{sid}/pause", headers=HTMX).status_code == 200
    resp = post(client, f"/sessions/{sid}/pause", headers=HTMX)  # the other, stale tab
    assert resp.status_code == 200, resp.text[:300]
    assert 'data-running="false"' in resp.text and ">Resume<" in resp.text
    assert "it is paused now" in resp.text
    post(client, f"/sessions/{sid}/close", headers=HTMX)
    resp = post(client, f"/sessions/{sid}/pause", headers=HTMX)  # closed elsewhere
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/sessions/{sid}"


def test_a_note_edit_in_a_closed_session_keeps_the_text(web_client: Client) -> None:
    client = web_client("tester")
    sid = create(client)
    resp = post(client, f"/sessions/{sid}/notes", {"note": "Original words"}, headers=HTMX)
    nid = int(NOTE_ITEM.findall(resp.text)[0])
    form = client.get(f"/notes/{nid}/edit", headers=HTMX).text
    version = VERSION.search(form)
    assert version
    post(client, f"/sessions/{sid}/close")  # closed in another tab
    # Opening the editor now shows the note, not an empty item.
    assert "Original words" in client.get(f"/notes/{nid}/edit", headers=HTMX).text
    data = {"note": "My careful rewrite", "status_id": "", "version": version.group(1)}
    resp = post(client, f"/notes/{nid}", data, headers=HTMX)
    assert resp.status_code == 409 and resp.headers["X-Charter-Swap"] == "true"
    assert "My careful rewrite" in resp.text and "Original words" in resp.text
    assert "closed elsewhere, so your change was not saved" in resp.text


def test_a_stale_note_edit_is_refused_and_shown(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    resp = post(client, f"/sessions/{sid}/notes", {"note": "First words"}, headers=HTMX)
    nid = int(NOTE_ITEM.findall(resp.text)[0])
    version = VERSION.search(client.get(f"/notes/{nid}/edit", headers=HTMX).text)
    assert version
    with db.write() as conn:
        result_service.edit_result(conn, nid, 1, {"note": "Their words"})
    data = {"note": "My words", "status_id": "", "version": version.group(1)}
    resp = post(client, f"/notes/{nid}", data, headers=HTMX)
    assert resp.status_code == 409, resp.text[:300]
    assert (
        'Note: theirs <q class="theirs">Their words</q>, yours <q class="yours">My words'
        in resp.text
    )
    assert note_rows(db, sid) == [(None, "Their words")]
    again = {**data, "version": VERSION.search(resp.text).group(1)}  # type: ignore[union-attr]
    assert post(client, f"/notes/{nid}", again, headers=HTMX).status_code == 200
    assert note_rows(db, sid) == [(None, "My words")]


# --- 4. a running session's elapsed is live on every read -------------------------------

MINUTE_US = 60_000_000


def test_a_running_session_reports_live_elapsed(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    with db.write() as conn:
        token = auth.create_token(conn, ROLE_EMAILS["tester"], "live elapsed")
        admin = auth.authenticate(conn, auth.create_token(conn, ROLE_EMAILS["admin"], "x"))[0]
        before = dashboard_read.project_dashboard(conn, admin, 1).elapsed
    post(client, f"/sessions/{sid}/start", headers=HTMX)
    # It has run for ten minutes, never paused: nothing stored in elapsed yet.
    with db.write() as conn:
        conn.execute(
            sa.text("UPDATE sessions SET running_since = :t, elapsed = NULL WHERE id = :s"),
            {"t": utcnow() - timedelta(minutes=10), "s": sid},
        )
    api = web_client("anonymous")
    headers = {"Authorization": f"Bearer {token}"}
    one = api.get(f"/api/v1/sessions/{sid}", headers=headers).json()["result"]
    assert 10 * MINUTE_US <= one["elapsed"] < 11 * MINUTE_US
    listed = api.get("/api/v1/projects/1/sessions", headers=headers).json()["result"]
    mine = next(s for s in listed if s["id"] == sid)
    assert 10 * MINUTE_US <= mine["elapsed"] < 11 * MINUTE_US
    later = api.get(f"/api/v1/sessions/{sid}", headers=headers).json()["result"]
    assert later["elapsed"] > one["elapsed"]  # it keeps running
    row = re.search(
        rf'<a href="/sessions/{sid}">.*?</tr>', client.get("/projects/1/sessions").text, re.S
    )
    assert row and re.search(r">10:0\d / ", row.group(0)), row
    with db.read() as conn:
        after = dashboard_read.project_dashboard(conn, admin, 1).elapsed
    assert 10 * MINUTE_US <= after - before < 11 * MINUTE_US
    # A paused session reports what it stored, and a second later still the same.
    post(client, f"/sessions/{sid}/pause", headers=HTMX)
    paused = api.get(f"/api/v1/sessions/{sid}", headers=headers)
    again = api.get(f"/api/v1/sessions/{sid}", headers=headers)
    assert paused.json()["result"]["elapsed"] == again.json()["result"]["elapsed"]
    assert paused.headers["etag"] == again.headers["etag"]


# --- 13. viewers are not offered as assignees ---------------------------------------------


def test_viewers_are_not_offered_as_assignees(web_client: Client, db: Database) -> None:
    with db.read() as conn:
        names: dict[str, str] = dict(
            conn.execute(
                sa.text("SELECT email, name FROM users WHERE email IN (:v, :t, :m)"),
                {
                    "v": ROLE_EMAILS["viewer"],
                    "t": ROLE_EMAILS["tester"],
                    "m": ROLE_EMAILS["manager"],
                },
            ).all()
        )
    page = web_client("tester").get("/projects/1/sessions/new").text
    select = re.search(r'<select id="assignee_id".*?</select>', page, re.S)
    assert select
    options = unescape(select.group(0))
    assert names[ROLE_EMAILS["tester"]] in options and names[ROLE_EMAILS["manager"]] in options
    assert names[ROLE_EMAILS["viewer"]] not in options


# --- 14. notes without a status are results too -----------------------------------------


def test_notes_without_status_are_not_no_results(web_client: Client) -> None:
    client = web_client("tester")
    sid = create(client, name="Plain notes only")
    for text in ("one", "two"):
        post(client, f"/sessions/{sid}/notes", {"note": text}, headers=HTMX)
    page = client.get("/projects/1/sessions", params={"per_page": "100"}).text
    row = re.search(rf'<a href="/sessions/{sid}">.*?</tr>', page, re.S)
    assert row
    assert "No results" not in row.group(0)
    assert "2 notes without status" in row.group(0)


# --- 11. messages name people and projects -------------------------------------------------


def test_the_last_manager_message_uses_names(web_client: Client, db: Database) -> None:
    admin = web_client("admin")
    with db.read() as conn:
        grace_id, grace = conn.execute(
            sa.text("SELECT id, name FROM users WHERE email = :e"), {"e": ROLE_EMAILS["manager"]}
        ).one()
        project = conn.execute(sa.text("SELECT name FROM projects WHERE id = 2")).scalar_one()
    resp = post(admin, f"/projects/2/members/{grace_id}/remove")
    assert resp.status_code == 303
    page = unescape(admin.get("/projects/2/members").text)
    assert f"{grace} is the last manager of project {project}" in page
    assert f"User {grace_id}" not in page


# --- 5. required fields, result fields in the note box, web links only ----------------------


@pytest.fixture(scope="module")
def strict_template(db: Database) -> int:
    """A template with a required session field, a link, and a required result field."""
    with db.write() as conn:
        template = catalog_service.new_template(conn, "Strict")
        catalog_service.new_field(conn, template, "Build", "s_build", "string", True, 1)
        catalog_service.new_field(conn, template, "Spec", "s_spec", "link", False, 2)
        catalog_service.new_field(conn, template, "Device", "r_device", "string", True, 3)
    with db.write() as conn:
        conn.execute(
            sa.text("UPDATE template_fields SET scope = 'result' WHERE system_name = 'r_device'")
        )
    return int(template)


def api_client(web_client: Client, db: Database) -> tuple[TestClient[Any], dict[str, str]]:
    with db.write() as conn:
        token = auth.create_token(conn, ROLE_EMAILS["tester"], "fields")
    return web_client("anonymous"), {"Authorization": f"Bearer {token}"}


def test_required_fields_and_links_are_enforced_by_the_api(
    web_client: Client, db: Database, strict_template: int
) -> None:
    api, headers = api_client(web_client, db)
    url = "/api/v1/projects/1/sessions"
    body: dict[str, Any] = {"name": "Strict", "template_id": strict_template}
    resp = api.post(url, json=body, headers=headers)
    assert resp.status_code == 422 and "custom_s_build" in resp.json()["errors"]
    for bad in ("not a url", "javascript:alert(1)", "ftp://x.example", "https://"):
        resp = api.post(
            url, json={**body, "custom_s_build": "7", "custom_s_spec": bad}, headers=headers
        )
        assert resp.status_code == 422 and "custom_s_spec" in resp.json()["errors"], bad
    resp = api.post(
        url,
        json={**body, "custom_s_build": "7", "custom_s_spec": "https://example.com/spec"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    sid = resp.json()["result"]["id"]
    # Emptying a required field is refused; leaving it alone is fine.
    resp = api.patch(f"/api/v1/sessions/{sid}", json={"custom_s_build": " "}, headers=headers)
    assert resp.status_code == 422 and "custom_s_build" in resp.json()["errors"]
    assert (
        api.patch(f"/api/v1/sessions/{sid}", json={"name": "x"}, headers=headers).status_code == 200
    )
    # A result needs the required result field.
    results_url = f"/api/v1/sessions/{sid}/results"
    resp = api.post(results_url, json={"status_id": 2}, headers=headers)
    assert resp.status_code == 422 and "custom_r_device" in resp.json()["errors"]
    resp = api.post(results_url, json={"status_id": 2, "custom_r_device": "Pixel"}, headers=headers)
    assert resp.status_code == 201, resp.text


def test_the_note_box_shows_and_saves_result_fields(
    web_client: Client, db: Database, strict_template: int
) -> None:
    client = web_client("tester")
    resp = post(
        client, "/projects/1/sessions", {"name": "No build", "template_id": str(strict_template)}
    )
    assert resp.status_code == 422 and 'id="e-custom_s_build"' in resp.text
    sid = create(client, template_id=str(strict_template), custom_s_build="7")
    page = client.get(f"/sessions/{sid}").text
    note_form = re.search(r'<form id="note-form".*?</form>', page, re.S)
    assert note_form and 'name="custom_r_device"' in note_form.group(0)
    resp = post(client, f"/sessions/{sid}/notes", {"note": "no device"}, headers=HTMX)
    assert resp.status_code == 422 and "Device is required" in resp.text
    data = {"note": "on a phone", "custom_r_device": "Pixel 8"}
    assert post(client, f"/sessions/{sid}/notes", data, headers=HTMX).status_code == 200
    api, headers = api_client(web_client, db)
    saved = api.get(f"/api/v1/sessions/{sid}/results", headers=headers).json()["result"]
    assert [r["custom_r_device"] for r in saved] == ["Pixel 8"]


def test_only_web_links_are_rendered_as_links(
    web_client: Client, db: Database, strict_template: int
) -> None:
    client = web_client("tester")
    sid = create(client, template_id=str(strict_template), custom_s_build="7")
    with db.write() as conn:  # stored before links were checked
        field = conn.execute(
            sa.text("SELECT id FROM template_fields WHERE system_name = 's_spec'")
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO session_field_values (session_id, field_id, value) VALUES (:s, :f, :v)"
            ),
            {"s": sid, "f": field, "v": '"javascript:alert(1)"'},
        )
    page = client.get(f"/sessions/{sid}").text
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    resp = post(
        client,
        f"/sessions/{sid}/edit",
        {
            "name": "x",
            "template_id": str(strict_template),
            "custom_s_build": "7",
            "custom_s_spec": "https://example.com/a",
        },
    )
    assert resp.status_code == 303
    assert '<a href="https://example.com/a"' in client.get(f"/sessions/{sid}").text


# --- 10. past the last page; every bad filter at once ---------------------------------------


def test_a_page_past_the_end_links_to_the_last_page(web_client: Client) -> None:
    client = web_client("tester")
    first = client.get("/projects/1/sessions", params={"per_page": "15"}).text
    last = int(re.search(r"Page 1 of ([\d,]+)", first).group(1).replace(",", ""))  # type: ignore[union-attr]
    resp = client.get("/projects/1/sessions", params={"per_page": "15", "page": "9999"})
    assert resp.status_code == 200
    page = unescape(resp.text)
    assert "page 9999 of" not in page and "Page 9999 of" not in page
    assert 'rel="prev"' not in page and "page=9998" not in page
    assert "There is no page 9,999" in page
    link = f'href="/projects/1/sessions?page={last}&amp;per_page=15">Go to the last page'
    assert link in resp.text


def test_every_bad_filter_is_named_with_its_label(web_client: Client) -> None:
    params = {"state_id": "x", "created_after": "yesterday", "per_page": "7", "order": "up"}
    resp = web_client("tester").get("/projects/1/sessions", params=params)
    assert resp.status_code == 422
    box = re.search(r'<div class="form-error" role="alert">.*?</div>', resp.text, re.S)
    assert box
    for label, param in (
        ("State", "state_id"),
        ("Created after", "created_after"),
        ("Per page", "per_page"),
        ("Order", "order"),
    ):
        assert f"<strong>{label}</strong></a> (<code>{param}</code>)" in box.group(0), label


# --- 9. reloading the "token created" page creates nothing ---------------------------------


def test_token_creation_is_post_redirect_get(web_client: Client, db: Database) -> None:
    client = web_client("manager")

    def count() -> int:
        with db.read() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT COUNT(*) FROM api_tokens t JOIN users u ON u.id = t.user_id"
                        " WHERE u.email = :e AND t.name = 'reload me'"
                    ),
                    {"e": ROLE_EMAILS["manager"]},
                ).scalar_one()
            )

    resp = post(client, "/account/tokens", {"name": "reload me"})
    assert resp.status_code == 303 and resp.headers["location"] == "/account"
    assert "reload me" not in resp.headers["location"]
    assert "charter_once" in resp.headers.get("set-cookie", "")
    shown = client.get("/account").text  # the redirect's GET shows the secret once
    secret = re.search(r'id="new-token-secret">([^<]+)<', shown)
    assert secret
    again = client.get("/account").text  # a reload: no secret, no new token
    assert secret.group(1) not in again and 'id="new-token-secret"' not in again
    assert count() == 1


# --- 6. workflow states follow the lifecycle ----------------------------------------------


def state_names(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {n: int(i) for i, n in conn.execute(sa.text("SELECT id, name FROM states"))}


def state_of(db: Database, sid: int) -> str:
    with db.read() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT states.name FROM sessions JOIN states ON states.id = sessions.state_id"
                    " WHERE sessions.id = :s"
                ),
                {"s": sid},
            ).scalar_one()
        )


def test_the_seeded_states_carry_their_meanings(db: Database) -> None:
    with db.read() as conn:
        meanings: dict[str, str | None] = dict(
            (str(name), meaning)
            for name, meaning in conn.execute(sa.text("SELECT name, meaning FROM states"))
        )
    assert {k: meanings[k] for k in ("New", "In progress", "In review", "Done")} == {
        "New": "planned",
        "In progress": "active",
        "In review": "review",
        "Done": "done",
    }


def test_start_close_and_reopen_move_the_state(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    assert state_of(db, sid) == "New"
    post(client, f"/sessions/{sid}/start", headers=HTMX)
    assert state_of(db, sid) == "In progress"
    post(client, f"/sessions/{sid}/close", headers=HTMX)
    assert state_of(db, sid) == "Done"
    post(client, f"/sessions/{sid}/reopen", headers=HTMX)
    assert state_of(db, sid) == "In progress"
    # "In progress" finds the running sessions (the list filter).
    resp = client.get(
        "/projects/1/sessions", params={"state_id": str(state_names(db)["In progress"])}
    )
    assert f'href="/sessions/{sid}"' in resp.text


def test_a_state_set_by_hand_is_left_alone(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    review = state_names(db)["In review"]
    sid = create(client)
    with db.write() as conn:
        session_service.update_session(conn, sid, 1, {"state_id": review})
    post(client, f"/sessions/{sid}/start", headers=HTMX)
    post(client, f"/sessions/{sid}/close", headers=HTMX)
    assert state_of(db, sid) == "In review"
    # Saving the web form with the state unchanged does not make it manual.
    other = create(client)
    form = form_of_page(client.get(f"/sessions/{other}/edit").text)
    data = {**form, "name": "Renamed", "template_id": "1", "state_id": str(state_names(db)["New"])}
    assert post(client, f"/sessions/{other}/edit", data).status_code == 303
    post(client, f"/sessions/{other}/start", headers=HTMX)
    assert state_of(db, other) == "In progress"


# --- 12. the dashboard: integer ticks, time to who ran it, results on their own day ------------


def test_count_axes_have_integer_ticks() -> None:
    assert charts.count_ticks(2) == [0, 1, 2]
    assert charts.count_ticks(3) == [0, 1, 2, 3]
    assert charts.count_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.count_ticks(23) == [0, 5, 10, 15, 20, 25]
    svg = charts.stacked_bar_chart(["a", "b"], [charts.Series("x", [1, 2])], "t", counts=True)
    labels = re.findall(r'text-anchor="end" dominant-baseline="middle">([^<]+)<', svg)
    assert labels == ["0", "1", "2"]


def rollup_equals_recount(db: Database) -> None:
    with db.read() as conn:
        assert result_queries.stored_day_counts(conn) == result_queries.recounted_day_counts(conn)


def test_the_per_day_rollup_always_equals_a_recount(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    rollup_equals_recount(db)  # backfilled by the migration / the demo loader
    sid = create(client)
    for data in ({"note": "a", "status_id": "2"}, {"note": "b"}, {"note": "c", "status_id": "3"}):
        post(client, f"/sessions/{sid}/notes", data, headers=HTMX)
    with db.write() as conn:
        ids = result_service.add_results(conn, sid, 1, [{"status_id": 4}] * 5 + [{"note": "x"}])
        result_service.add_results(
            conn, sid, 1, [{"status_id": 2}], created_at=utcnow() - timedelta(days=3)
        )
    rollup_equals_recount(db)
    with db.write() as conn:
        result_service.edit_result(conn, ids[0], 1, {"status_id": 5})
        result_service.edit_result(conn, ids[-1], 1, {"status_id": 2})
        result_service.delete_result(conn, ids[1])
    rollup_equals_recount(db)
    with db.write() as conn:
        session_service.delete(conn, sid)
    rollup_equals_recount(db)
    # Drift (a manual edit of the table) is repaired by `charter recount`.
    with db.write() as conn:
        conn.execute(sa.text("DELETE FROM result_day_counts WHERE project_id = 1"))
    with db.write() as conn:
        counters.recount(conn)
    rollup_equals_recount(db)


def test_results_count_on_their_day_and_time_on_who_ran_it(
    web_client: Client, db: Database
) -> None:
    tester = web_client("tester")
    sid = create(tester)
    with db.write() as conn:
        admin = auth.authenticate(conn, auth.create_token(conn, ROLE_EMAILS["admin"], "d"))[0]
        manager_id = conn.execute(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": ROLE_EMAILS["manager"]}
        ).scalar_one()
        tester_id = conn.execute(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": ROLE_EMAILS["tester"]}
        ).scalar_one()
        # Assigned to the manager, created ten days ago; the tester runs it today.
        conn.execute(
            sa.text("UPDATE sessions SET assignee_id = :m, created_at = :t WHERE id = :s"),
            {"m": manager_id, "t": utcnow() - timedelta(days=10), "s": sid},
        )
    post(tester, f"/sessions/{sid}/start", headers=HTMX)
    with db.write() as conn:
        conn.execute(
            sa.text("UPDATE sessions SET running_since = :t WHERE id = :s"),
            {"t": utcnow() - timedelta(minutes=30), "s": sid},
        )
    post(tester, f"/sessions/{sid}/pause", headers=HTMX)
    for text in ("today 1", "today 2"):
        post(tester, f"/sessions/{sid}/notes", {"note": text, "status_id": "2"}, headers=HTMX)
    today = utcnow().date()
    with db.read() as conn:
        before = dashboard_read.project_dashboard(conn, admin, 1, days=30, until=today)
        board = before
        passed = next(s for s in board.statuses if s.status_id == 2)
        per_day = dict(zip(board.window.days, passed.per_day, strict=True))
        assert per_day[today] >= 2  # on the day they were recorded
        recorded = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM session_results WHERE project_id = 1 AND status_id = 2"
                " AND created_at >= :d"
            ),
            {"d": datetime.combine(today, datetime.min.time())},
        ).scalar_one()
        assert per_day[today] == recorded
        times = {t.user_id: t.elapsed for t in board.testers}
        started_by = conn.execute(
            sa.text("SELECT started_by FROM sessions WHERE id = :s"), {"s": sid}
        ).scalar_one()
    assert started_by == tester_id
    assert times.get(tester_id, 0) >= 30 * MINUTE_US


def test_a_closed_session_is_named_by_its_name(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client, name="Checkout by keyboard")
    post(client, f"/sessions/{sid}/close")
    resp = post(client, f"/sessions/{sid}/notes", {"note": "late"}, headers=HTMX)
    assert resp.status_code == 409
    text = unescape(resp.text)
    assert "The session “Checkout by keyboard” is closed" in text
    assert f"Session {sid}" not in text


def test_if_match_survives_a_running_timer(web_client: Client, db: Database) -> None:
    api, headers = api_client(web_client, db)
    created = api.post("/api/v1/projects/1/sessions", json={"name": "Timed"}, headers=headers)
    sid = created.json()["result"]["id"]
    assert api.post(f"/api/v1/sessions/{sid}/start", headers=headers).status_code == 200
    first = api.get(f"/api/v1/sessions/{sid}", headers=headers)
    etag = first.headers["etag"]
    time.sleep(0.01)
    later = api.get(f"/api/v1/sessions/{sid}", headers={**headers, "If-None-Match": etag})
    assert later.status_code == 200 and later.headers["etag"] != etag  # time passed
    # An If-Match read before is still the same version: nothing but time changed.
    resp = api.patch(
        f"/api/v1/sessions/{sid}", json={"name": "Timed 2"}, headers={**headers, "If-Match": etag}
    )
    assert resp.status_code == 200, resp.text
    # After that change, the old ETag names an old version.
    resp = api.patch(
        f"/api/v1/sessions/{sid}", json={"name": "Timed 3"}, headers={**headers, "If-Match": etag}
    )
    assert resp.status_code == 412
    # A paused session's ETag is plain and stable.
    api.post(f"/api/v1/sessions/{sid}/pause", headers=headers)
    a = api.get(f"/api/v1/sessions/{sid}", headers=headers).headers["etag"]
    b = api.get(f"/api/v1/sessions/{sid}", headers={**headers, "If-None-Match": a})
    assert b.status_code == 304


def test_the_note_editor_shows_and_saves_result_fields(
    web_client: Client, db: Database, strict_template: int
) -> None:
    client = web_client("tester")
    sid = create(client, template_id=str(strict_template), custom_s_build="7")
    resp = post(
        client, f"/sessions/{sid}/notes", {"note": "n", "custom_r_device": "Pixel"}, headers=HTMX
    )
    nid = int(NOTE_ITEM.findall(resp.text)[0])
    form = client.get(f"/notes/{nid}/edit", headers=HTMX).text
    assert f'id="note-{nid}-custom_r_device" name="custom_r_device"' in form
    assert 'value="Pixel"' in form
    version = VERSION.search(form)
    assert version
    data = {"note": "n", "custom_r_device": "iPhone", "version": version.group(1)}
    assert post(client, f"/notes/{nid}", data, headers=HTMX).status_code == 200
    version = VERSION.search(client.get(f"/notes/{nid}/edit", headers=HTMX).text)
    assert version is not None
    data = {"note": "n", "custom_r_device": " ", "version": version.group(1)}
    resp = post(client, f"/notes/{nid}", data, headers=HTMX)
    assert resp.status_code == 422 and "Device is required" in resp.text
    api, headers = api_client(web_client, db)
    saved = api.get(f"/api/v1/sessions/{sid}/results", headers=headers).json()["result"]
    assert [r["custom_r_device"] for r in saved] == ["iPhone"]
