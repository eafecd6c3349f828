"""The session pages: the list answers exactly what the API answers for the same query;
create and edit work for every custom field type and show validation errors next to
the fields without writing anything; a session runs through its htmx endpoints with
counters that always equal a recount; viewers get no controls and their forged POSTs
are refused; a POST without the CSRF token is refused."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.auth import service as auth
from charter.catalog import service as catalog_service
from charter.db.engine import Database
from charter.sessions import counters
from helpers_web import ROLE_EMAILS

Client = Callable[[str], TestClient[Any]]
HTMX = {"HX-Request": "true"}
MINUTE = 60_000_000
ROW_LINK = re.compile(r'<th scope="row"><a href="/sessions/(\d+)">')


@pytest.fixture(scope="module")
def db(web_demo_url: str) -> Iterator[Database]:
    database = Database(web_demo_url)
    yield database
    database.close()


@pytest.fixture(scope="module")
def api(db: Database, web_client: Client) -> Callable[..., Any]:
    """`api(path, **params)`: the JSON of a GET on the real API as the tester."""
    with db.write() as conn:
        token = auth.create_token(conn, ROLE_EMAILS["tester"], "web tests")
    client = web_client("anonymous")

    def get(path: str, **params: Any) -> Any:
        resp = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text
        return resp.json()

    return get


@pytest.fixture(scope="module")
def every_type(db: Database) -> dict[str, Any]:
    """A template with one session field of every type the domain supports."""
    with db.write() as conn:
        template = catalog_service.new_template(conn, "Every field type")
        ids = {}
        for order, kind in enumerate(
            ("string", "text", "integer", "float", "checkbox", "date", "link")
        ):
            ids[kind] = catalog_service.new_field(
                conn, template, f"A {kind}", f"f_{kind}", kind, display_order=order
            )
        for order, kind in enumerate(("dropdown", "multiselect"), start=10):
            ids[kind] = catalog_service.new_field(
                conn, template, f"A {kind}", f"f_{kind}", kind, display_order=order
            )
        values = {
            kind: catalog_service.new_field_values(
                conn, ids[kind], [("Red", None, "#dc2626"), ("Blue", None, "#2563eb")]
            )
            for kind in ("dropdown", "multiselect")
        }
    return {"template": template, "values": values}


def post(client: TestClient[Any], path: str, data: Any = None, **kwargs: Any) -> Any:
    """A form POST with the client's CSRF token."""
    from helpers_web import csrf_of

    pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
    body: dict[str, list[str]] = {"csrf_token": [csrf_of(client)]}
    for key, value in pairs:
        body.setdefault(key, []).append(value)
    return client.post(path, data=body, follow_redirects=False, **kwargs)


def session_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.text("SELECT COUNT(*) FROM sessions")).scalar_one())


def create(client: TestClient[Any], project_id: int = 1, **fields: Any) -> int:
    data = {"name": "A web session", "charter": "", **fields}
    resp = post(client, f"/projects/{project_id}/sessions", data)
    assert resp.status_code == 303, resp.text[:2000]
    match = re.fullmatch(r"/sessions/(\d+)", resp.headers["location"])
    assert match, resp.headers["location"]
    return int(match.group(1))


# --- the list ------------------------------------------------------------------------

LIST_QUERIES = [
    {},
    {"per_page": "15", "page": "2"},
    {"is_closed": "1", "per_page": "50"},
    {"is_closed": "0", "sort": "sessions:created_at", "order": "asc"},
    {"state_id": "2", "per_page": "100"},
    {"assignee_id": "3", "template_id": "2"},
    {"milestone_id": "1,2", "config_id": "3"},
    {"tags": "performance"},
    {"created_after": "2026-01-01", "created_before": "2026-07-01", "per_page": "100"},
    {"sort": "sessions:closed_at", "order": "desc", "is_closed": "1"},
]


@pytest.mark.parametrize(
    "query", LIST_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "none"
)
def test_list_shows_what_the_api_lists(
    web_client: Client, api: Callable[..., Any], query: dict[str, str]
) -> None:
    resp = web_client("tester").get("/projects/1/sessions", params=query)
    assert resp.status_code == 200, resp.text[:2000]
    expected = api("/api/v1/projects/1/sessions", **{"per_page": "25", **query})
    shown = [int(i) for i in ROW_LINK.findall(resp.text)]
    assert shown == [s["id"] for s in expected["result"]]
    assert f"{expected['total']:,} session" in resp.text
    # The form shows the query it answers: the URL is the shareable view.
    for name, value in query.items():
        if name in ("created_after", "created_before", "tags"):
            assert f'value="{value}"' in resp.text
        elif "," not in value and name not in ("page",):
            assert re.search(rf'<option value="{re.escape(value)}"\s+selected>', resp.text), (
                name,
                value,
            )


def test_list_repeated_ids_mean_any_of(web_client: Client, api: Callable[..., Any]) -> None:
    resp = web_client("tester").get("/projects/1/sessions?state_id=1&state_id=3&per_page=100")
    expected = api("/api/v1/projects/1/sessions", state_id="1,3", per_page="100")
    assert [int(i) for i in ROW_LINK.findall(resp.text)] == [s["id"] for s in expected["result"]]
    assert "2 selected" in resp.text


def test_list_rows_show_counts_and_times(web_client: Client, api: Callable[..., Any]) -> None:
    page = web_client("tester").get("/projects/1/sessions?per_page=100").text
    expected = api("/api/v1/projects/1/sessions", per_page="100", expands="statuses,users")
    names = {s["id"]: s["name"] for s in expected["expands"]["statuses"]}
    rows = page.split('<th scope="row">')[1:]
    assert len(rows) == len(expected["result"])
    for html, session in zip(rows, expected["result"], strict=True):
        for status_id, name in names.items():
            n = session[counters.slot_column(status_id)]
            if n:
                assert f"{n} {name}" in html, (session["id"], name)
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-status-bar"' in html
        if session["assignee_id"]:
            users = {u["id"]: u["name"] for u in expected["expands"]["users"]}
            assert users[session["assignee_id"]] in unescape(html)
    assert "style=" not in page


def test_bad_filter_is_a_page_naming_the_field(web_client: Client, db: Database) -> None:
    for query, field in (
        ("state_id=abc", "state_id"),
        ("created_after=yesterday", "created_after"),
        ("per_page=7", "per_page"),
        ("sort=name", "sort"),
    ):
        resp = web_client("tester").get(f"/projects/1/sessions?{query}")
        assert resp.status_code == 422, query
        assert f"(<code>{field}</code>)" in resp.text
        assert "Traceback" not in resp.text


def test_list_of_unknown_or_foreign_project(web_client: Client) -> None:
    assert web_client("tester").get("/projects/999/sessions").status_code == 404
    assert web_client("tester").get("/projects/x1/sessions").status_code == 404
    resp = web_client("outsider").get("/projects/1/sessions")
    assert resp.status_code == 403
    assert "Not allowed" in resp.text


# --- create and edit -----------------------------------------------------------------


def test_form_renders_every_field_type(web_client: Client, every_type: dict[str, Any]) -> None:
    resp = web_client("tester").get(
        f"/projects/1/sessions/fields?template_id={every_type['template']}", headers=HTMX
    )
    html = resp.text
    assert '<input id="custom_f_string" name="custom_f_string" type="text"' in html
    assert '<textarea id="custom_f_text" name="custom_f_text"' in html
    assert 'name="custom_f_integer" type="number" step="1"' in html
    assert 'name="custom_f_float" type="number" step="any"' in html
    assert 'type="checkbox" name="custom_f_checkbox" value="1"' in html
    assert 'name="custom_f_date" type="date"' in html
    assert 'name="custom_f_link" type="url"' in html
    # Dropdowns are radio groups, multi-selects checkbox groups, each value with its colour.
    assert html.count('type="radio" name="custom_f_dropdown"') == 3  # None, Red, Blue
    assert html.count('type="checkbox" name="custom_f_multiselect"') == 2
    assert html.count('fill="#dc2626"') == 2 and html.count('fill="#2563eb"') == 2
    for label in ("A string", "A text", "A integer", "A dropdown", "A multiselect"):
        assert label in html
    new_page = web_client("tester").get("/projects/1/sessions/new").text
    for label in ('for="name"', 'for="charter"', 'for="template_id"', 'for="estimate"'):
        assert label in new_page


def test_create_and_edit_with_every_field_type(
    web_client: Client, api: Callable[..., Any], every_type: dict[str, Any]
) -> None:
    client = web_client("tester")
    red, blue = every_type["values"]["dropdown"]
    m_red, m_blue = every_type["values"]["multiselect"]
    form = [
        ("name", "  Every type  "),
        ("charter", "Find **bugs** in <b>checkout</b>"),
        ("template_id", str(every_type["template"])),
        ("state_id", "2"),
        ("config_id", "1"),
        ("milestone_id", "2"),
        ("assignee_id", "3"),
        ("estimate", "1h 30m"),
        ("tags", "smoke, web ui"),
        ("issues", "1"),
        ("issues", "3"),
        ("custom_f_string", "build 7"),
        ("custom_f_text", "line one\nline two"),
        ("custom_f_integer", "-42"),
        ("custom_f_float", "2.5"),
        ("custom_f_checkbox", "1"),
        ("custom_f_date", "2026-03-04"),
        ("custom_f_link", "https://example.com/x"),
        ("custom_f_dropdown", str(blue)),
        ("custom_f_multiselect", str(m_red)),
        ("custom_f_multiselect", str(m_blue)),
    ]
    resp = post(client, "/projects/1/sessions", form)
    assert resp.status_code == 303, resp.text[:3000]
    sid = int(resp.headers["location"].rsplit("/", 1)[1])
    s = api(f"/api/v1/sessions/{sid}")["result"]
    assert (s["name"], s["state_id"], s["config_id"], s["milestone_id"]) == ("Every type", 2, 1, 2)
    assert (s["assignee_id"], s["estimate"], s["template_id"]) == (
        3,
        90 * MINUTE,
        every_type["template"],
    )
    assert sorted(s["tags"]) == ["smoke", "web ui"] and sorted(s["issues"]) == [1, 3]
    assert s["custom_f_string"] == "build 7"
    assert s["custom_f_text"] == "line one\nline two"
    assert s["custom_f_integer"] == -42 and s["custom_f_float"] == 2.5
    assert s["custom_f_checkbox"] is True and s["custom_f_date"] == "2026-03-04"
    assert s["custom_f_link"] == "https://example.com/x"
    assert s["custom_f_dropdown"] == blue and s["custom_f_multiselect"] == sorted([m_red, m_blue])

    # The session page renders the charter's markdown, escaping the HTML in it.
    page = client.get(f"/sessions/{sid}").text
    assert "<strong>bugs</strong>" in page and "&lt;b&gt;checkout&lt;/b&gt;" in page
    assert "<b>checkout</b>" not in page

    # The edit form shows every stored value.
    edit = client.get(f"/sessions/{sid}/edit").text
    assert 'value="build 7"' in edit and ">line one\nline two</textarea>" in edit
    assert 'value="-42"' in edit and 'value="2.5"' in edit and 'value="2026-03-04"' in edit
    assert re.search(r'name="custom_f_checkbox" value="1"\s+checked', edit)
    assert re.search(rf'name="custom_f_dropdown" value="{blue}"\s+checked', edit)
    assert re.search(rf'name="custom_f_multiselect" value="{m_blue}"\s+checked', edit)
    assert 'value="90"' in edit and 'value="smoke, web ui"' in edit

    # Edit: change some, clear others (an unchecked checkbox is false, empty is null).
    form2 = [
        ("name", "Every type, edited"),
        ("charter", ""),
        ("template_id", str(every_type["template"])),
        ("state_id", "3"),
        ("config_id", ""),
        ("milestone_id", ""),
        ("assignee_id", ""),
        ("estimate", "1:15"),
        ("tags", ""),
        ("custom_f_string", ""),
        ("custom_f_integer", "7"),
        ("custom_f_float", "-0.25"),
        ("custom_f_date", ""),
        ("custom_f_dropdown", str(red)),
        ("custom_f_multiselect", str(m_red)),
    ]
    resp = post(client, f"/sessions/{sid}/edit", form2)
    assert resp.status_code == 303, resp.text[:3000]
    s = api(f"/api/v1/sessions/{sid}")["result"]
    assert (s["name"], s["state_id"], s["config_id"], s["milestone_id"]) == (
        "Every type, edited",
        3,
        None,
        None,
    )
    assert (s["assignee_id"], s["estimate"], s["tags"], s["issues"]) == (None, 75 * MINUTE, [], [])
    assert s["custom_f_string"] is None and s["custom_f_text"] is None
    assert (s["custom_f_integer"], s["custom_f_float"]) == (7, -0.25)
    assert s["custom_f_checkbox"] is False and s["custom_f_date"] is None
    assert s["custom_f_dropdown"] == red and s["custom_f_multiselect"] == [m_red]


def _stored(db: Database, sid: int) -> tuple[Any, ...]:
    with db.read() as conn:
        row = conn.execute(sa.text("SELECT * FROM sessions WHERE id = :id"), {"id": sid}).one()
        values = conn.execute(
            sa.text("SELECT field_id, value FROM session_field_values WHERE session_id = :id"),
            {"id": sid},
        ).all()
    return (tuple(row), sorted(map(tuple, values)))


def test_create_errors_are_shown_by_the_fields_and_nothing_is_written(
    web_client: Client, db: Database, every_type: dict[str, Any]
) -> None:
    client = web_client("tester")
    before = session_count(db)
    form = {
        "name": "   ",
        "charter": "My <mission> stays",
        "template_id": str(every_type["template"]),
        "estimate": "soon",
        "tags": "kept, tags",
        "custom_f_integer": "4.5",
        "custom_f_float": "many",
        "custom_f_string": "kept text",
    }
    resp = post(client, "/projects/1/sessions", form)
    assert resp.status_code == 422
    html = resp.text
    for field in ("estimate", "custom_f_integer", "custom_f_float"):
        assert f'id="e-{field}"' in html, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html), field
    assert "My &lt;mission&gt; stays</textarea>" in html
    assert 'value="kept, tags"' in html and 'value="kept text"' in html and 'value="4.5"' in html
    assert session_count(db) == before

    # Errors the domain finds (empty name; a configuration of another project).
    with db.read() as conn:
        foreign = conn.execute(sa.text("SELECT id FROM configs WHERE project_id = 2")).scalar()
    for data, field in (
        ({"name": " ", "template_id": "1"}, "name"),
        ({"name": "ok", "config_id": str(foreign)}, "config_id"),
        ({"name": "ok", "issues": "99999"}, "issues"),
        ({"name": "ok", "template_id": "1", "custom_area": "999999"}, "custom_area"),
        ({"name": "ok", "template_id": "1", "custom_build": "x\x00y"}, "custom_build"),
        ({"name": "ok", "assignee_id": "99999999999999"}, "assignee_id"),
    ):
        resp = post(client, "/projects/1/sessions", data)
        assert resp.status_code == 422, (field, resp.text[:2000])
        assert f'id="e-{field}"' in resp.text, field
        assert session_count(db) == before


def test_edit_errors_change_nothing(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client, template_id="2", custom_bugs_found="3", tags="one")
    before = _stored(db, sid)
    resp = post(
        client,
        f"/sessions/{sid}/edit",
        {"name": "Renamed", "template_id": "2", "tags": "two", "custom_test_date": "2026-02-30"},
    )
    assert resp.status_code == 422
    assert 'id="e-custom_test_date"' in resp.text and 'value="Renamed"' in resp.text
    assert _stored(db, sid) == before


# --- running a session -----------------------------------------------------------------


def _counts_on_page(html: str) -> dict[str, int]:
    """{status id or 'none' or 'total': count} from the counters block."""
    block = html[html.index('id="counters"') :]
    block = block[: block.index("</section>")]
    found = re.findall(r'data-status-id="(\w+)">.*?data-count>(\d+)</span>', block, flags=re.S)
    return {k: int(v) for k, v in found}


def _recount(db: Database, sid: int) -> dict[str, int]:
    with db.read() as conn:
        assert counters.verify(conn) == []
        rows = conn.execute(
            sa.text("SELECT status_id FROM session_results WHERE session_id = :id"), {"id": sid}
        ).all()
    histogram = Counter("none" if r[0] is None else str(r[0]) for r in rows)
    return {**histogram, "total": sum(histogram.values())}


def _shown_counts(html: str) -> dict[str, int]:
    return {k: v for k, v in _counts_on_page(html).items() if v}


def test_run_lifecycle_through_htmx(
    web_client: Client, db: Database, api: Callable[..., Any]
) -> None:
    client = web_client("tester")
    sid = create(client, estimate="30")
    page = client.get(f"/sessions/{sid}").text
    assert "Not started" in page and f'hx-post="/sessions/{sid}/start"' in page
    assert f'data-estimate-us="{30 * MINUTE}"' in page

    resp = post(client, f"/sessions/{sid}/start", headers=HTMX)
    assert resp.status_code == 200 and 'id="run-controls"' in resp.text
    assert 'data-running="true"' in resp.text and ">Pause<" in resp.text
    resp = post(client, f"/sessions/{sid}/pause", headers=HTMX)
    assert 'data-running="false"' in resp.text and ">Resume<" in resp.text
    resp = post(client, f"/sessions/{sid}/resume", headers=HTMX)
    assert 'data-running="true"' in resp.text
    resp = post(client, f"/sessions/{sid}/resume", headers=HTMX)  # running already
    assert resp.status_code == 200 and "it is running now" in resp.text

    # Notes: each answer is the timeline item plus the counters, out of band.
    notes = {}
    for status, text in (("2", "Checkout works"), ("3", "Coupon breaks <totals>"), ("", "Idea")):
        resp = post(
            client, f"/sessions/{sid}/notes", {"status_id": status, "note": text}, headers=HTMX
        )
        assert resp.status_code == 200, resp.text[:2000]
        assert 'id="counters"' in resp.text and 'hx-swap-oob="true"' in resp.text
        notes[text] = int(re.search(r'<li id="note-(\d+)"', resp.text).group(1))  # type: ignore[union-attr]
        assert _shown_counts(resp.text) == _recount(db, sid)
    assert (
        "Coupon breaks &lt;totals&gt;" in resp.text
        or "&lt;totals&gt;" in client.get(f"/sessions/{sid}").text
    )

    # A note with neither text nor status, or an unknown status: 422, nothing written.
    before = _recount(db, sid)
    for data in ({"status_id": "", "note": "  "}, {"status_id": "77", "note": "x"}):
        resp = post(client, f"/sessions/{sid}/notes", data, headers=HTMX)
        assert resp.status_code == 422 and resp.headers["HX-Reswap"] == "none"
        assert 'id="note-error"' in resp.text
    assert _recount(db, sid) == before

    # Edit a note: another status and a linked issue; the counters follow.
    idea = notes["Idea"]
    assert 'name="status_id"' in client.get(f"/notes/{idea}/edit", headers=HTMX).text
    resp = post(
        client,
        f"/notes/{idea}",
        {"status_id": "3", "note": "Idea: a bug", "issues": "2"},
        headers=HTMX,
    )
    assert resp.status_code == 200 and "Idea: a bug" in resp.text and "WEB-102" in resp.text
    assert _shown_counts(resp.text) == _recount(db, sid)
    result = api(f"/api/v1/sessions/{sid}/results")["result"]
    assert {r["id"]: r["issues"] for r in result}[idea] == [2]

    # Delete a note: nothing to show but the counters.
    resp = post(client, f"/notes/{notes['Checkout works']}/delete", headers=HTMX)
    assert resp.status_code == 200 and '<li id="note-' not in resp.text
    assert _shown_counts(resp.text) == _recount(db, sid) == {"3": 2, "total": 2}

    # The full page agrees with a recount, and lists the notes as a timeline.
    page = client.get(f"/sessions/{sid}").text
    assert _shown_counts(page) == _recount(db, sid)
    assert page.count('class="note"') == 2 and "Checkout works" not in page

    # Close: the page is read-only and says so; writes are refused (409 page).
    resp = post(client, f"/sessions/{sid}/close", headers=HTMX)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/sessions/{sid}"
    page = client.get(f"/sessions/{sid}").text
    assert "closed and read-only" in page and "Closed" in page
    for marker in ('id="note-form"', ">Pause<", ">Resume<", "Edit session", "/delete"):
        assert marker not in page
    assert "Reopen session" in page
    resp = post(client, f"/sessions/{sid}/notes", {"status_id": "2", "note": "late"}, headers=HTMX)
    assert resp.status_code == 409 and "Traceback" not in resp.text
    assert "read-only" in client.get(f"/sessions/{sid}/edit").text
    s = api(f"/api/v1/sessions/{sid}")["result"]
    assert s["is_closed"] and s["elapsed"] is not None

    # Reopen (a plain form: a redirect back with a message).
    resp = post(client, f"/sessions/{sid}/reopen")
    assert resp.status_code == 303 and resp.headers["location"] == f"/sessions/{sid}"
    assert 'id="note-form"' in client.get(f"/sessions/{sid}").text


def test_without_htmx_every_action_redirects_back(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    assert post(client, f"/sessions/{sid}/start").headers["location"] == f"/sessions/{sid}"
    resp = post(client, f"/sessions/{sid}/notes", {"status_id": "2", "note": "plain post"})
    assert resp.status_code == 303
    note = int(resp.headers["location"].rsplit("-", 1)[1])
    page = client.get(f"/notes/{note}/edit")
    assert page.status_code == 200 and "<h1>Edit note</h1>" in page.text
    assert post(client, f"/notes/{note}", {"status_id": "4", "note": "edited"}).status_code == 303
    resp = post(client, f"/sessions/{sid}/notes", {"status_id": "", "note": ""})
    assert resp.status_code == 303  # back to the page with the message
    assert "Type a note: a status alone is not saved" in client.get(f"/sessions/{sid}").text
    assert _recount(db, sid) == {"4": 1, "total": 1}


# --- who may do what -------------------------------------------------------------------


def test_viewer_sees_no_controls_and_forged_posts_are_refused(
    web_client: Client, db: Database
) -> None:
    sid = create(web_client("tester"))
    note_resp = post(
        web_client("tester"), f"/sessions/{sid}/notes", {"status_id": "2", "note": "n"}
    )
    note = int(note_resp.headers["location"].rsplit("-", 1)[1])
    viewer = web_client("viewer")
    page = viewer.get(f"/sessions/{sid}").text
    for marker in (
        'id="note-form"',
        ">Start<",
        "Close session",
        "Edit session",
        f"/notes/{note}/edit",
        "/delete",
    ):
        assert marker not in page, marker
    assert "does not let you run it" in page
    assert "New session" not in viewer.get("/projects/1/sessions").text

    before = (_stored(db, sid), _recount(db, sid))
    for path, data in (
        (f"/sessions/{sid}/start", {}),
        (f"/sessions/{sid}/close", {}),
        (f"/sessions/{sid}/notes", {"status_id": "2", "note": "forged"}),
        (f"/sessions/{sid}/edit", {"name": "forged"}),
        (f"/notes/{note}", {"status_id": "3", "note": "forged"}),
        (f"/notes/{note}/delete", {}),
        ("/projects/1/sessions", {"name": "forged"}),
    ):
        for headers in ({}, HTMX):
            resp = post(viewer, path, data, headers=headers)
            assert resp.status_code == 403, (path, resp.status_code)
            assert "Not allowed" in resp.text and "Traceback" not in resp.text
    assert viewer.get(f"/sessions/{sid}/edit").status_code == 403
    assert viewer.get("/projects/1/sessions/new").status_code == 403
    assert (_stored(db, sid), _recount(db, sid)) == before

    outsider = web_client("outsider")
    assert outsider.get(f"/sessions/{sid}").status_code == 403
    assert post(outsider, f"/sessions/{sid}/start").status_code == 403
    for path in ("/sessions/99999999", "/sessions/99999999999999", "/notes/99999999999/edit"):
        assert web_client("tester").get(path).status_code == 404, path
    assert post(web_client("tester"), "/sessions/99999999999999/start").status_code == 404
    assert web_client("tester").get("/sessions/abc").status_code == 404
    assert web_client("tester").get("/notes/99999999/edit").status_code == 404


def test_post_without_csrf_token_is_refused(web_client: Client, db: Database) -> None:
    client = web_client("tester")
    sid = create(client)
    before = _stored(db, sid)
    for path, data in (
        (f"/sessions/{sid}/start", {}),
        (f"/sessions/{sid}/notes", {"status_id": "2", "note": "no token"}),
        (f"/sessions/{sid}/edit", {"name": "no token"}),
    ):
        for headers in ({}, HTMX, {**HTMX, "X-CSRF-Token": "forged"}):
            resp = client.post(path, data=data, headers=headers, follow_redirects=False)
            assert resp.status_code == 403, path
    count = session_count(db)
    resp = client.post("/projects/1/sessions", data={"name": "no token"}, follow_redirects=False)
    assert resp.status_code == 403 and session_count(db) == count
    assert _stored(db, sid) == before and _recount(db, sid) == {"total": 0}


def test_signed_out_browser_goes_to_sign_in(web_client: Client) -> None:
    resp = web_client("anonymous").get("/sessions/1", follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"].startswith("/login")
