"""Finding sessions in the list: search (name and charter), "assigned to me" and
"running now" as URL filters (the same as the API's search, assignee_id and
is_running), and sortable column headers that say their order with aria-sort."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.auth import service as auth
from charter.db.engine import Database
from helpers_web import ROLE_EMAILS

Client = Callable[[str], TestClient[Any]]
ROW_LINK = re.compile(r'<th scope="row"><a href="/sessions/(\d+)">')


@pytest.fixture(scope="module")
def db(web_demo_url: str) -> Iterator[Database]:
    database = Database(web_demo_url)
    yield database
    database.close()


@pytest.fixture(scope="module")
def api(db: Database, web_client: Client) -> Callable[..., Any]:
    """`api(path, **params)`: the response of a GET on the API as the tester."""
    with db.write() as conn:
        token = auth.create_token(conn, ROLE_EMAILS["tester"], "list tests")
    client = web_client("anonymous")

    def get(path: str, **params: Any) -> Any:
        return client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})

    return get


def shown(client: TestClient[Any], **params: str) -> list[int]:
    resp = client.get("/projects/1/sessions", params=params)
    assert resp.status_code == 200, resp.text[:2000]
    return [int(i) for i in ROW_LINK.findall(resp.text)]


def api_ids(api: Callable[..., Any], **params: str) -> list[int]:
    resp = api("/api/v1/projects/1/sessions", per_page="100", **params)
    assert resp.status_code == 200, resp.text
    return [s["id"] for s in resp.json()["result"]]


def test_search_finds_name_and_charter_text_in_any_case(
    db: Database, web_client: Client, api: Callable[..., Any]
) -> None:
    with db.write() as conn:
        sid = conn.execute(
            sa.text("SELECT id FROM sessions WHERE project_id = 1 ORDER BY id LIMIT 1")
        ).scalar_one()
        conn.execute(
            sa.text("UPDATE sessions SET charter = :c WHERE id = :id"),
            {"c": "Explore the Zebracorn checkout with 100% discounts", "id": sid},
        )
        other = conn.execute(
            sa.text("SELECT id FROM sessions WHERE project_id = 1 ORDER BY id LIMIT 1 OFFSET 1")
        ).scalar_one()
        conn.execute(
            sa.text("UPDATE sessions SET name = :n WHERE id = :id"),
            {"n": "ZEBRACORN in the name", "id": other},
        )
    client = web_client("tester")
    expected = sorted([sid, other])
    assert sorted(shown(client, search="zebracorn", per_page="100")) == expected
    assert sorted(api_ids(api, search="ZebraCorn")) == expected
    # LIKE's wildcards are text: "100%" finds the charter, "1%0" finds nothing.
    assert shown(client, search="100% disc") == [sid]
    assert shown(client, search="1%0") == []
    page = client.get("/projects/1/sessions", params={"search": "zebracorn"}).text
    assert 'value="zebracorn"' in page


def test_search_of_common_text_matches_the_api(web_client: Client, api: Callable[..., Any]) -> None:
    first = api("/api/v1/projects/1/sessions", per_page="15").json()["result"][0]
    word = max(first["name"].split(), key=len)
    ids = shown(web_client("tester"), search=word, per_page="100")
    assert first["id"] in ids
    assert ids == api_ids(api, search=word)


def test_assigned_to_me_is_the_signed_in_users_assignee_filter(
    db: Database, web_client: Client, api: Callable[..., Any]
) -> None:
    with db.read() as conn:
        me = conn.execute(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": ROLE_EMAILS["tester"]}
        ).scalar_one()
    ids = shown(web_client("tester"), mine="1", per_page="100")
    assert ids and ids == api_ids(api, assignee_id=str(me))
    # The same bookmark shows the manager their own sessions.
    with db.read() as conn:
        manager = conn.execute(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": ROLE_EMAILS["manager"]}
        ).scalar_one()
    assert shown(web_client("manager"), mine="1", per_page="100") == api_ids(
        api, assignee_id=str(manager)
    )
    page = web_client("tester").get("/projects/1/sessions?mine=1").text
    assert re.search(r'id="f-mine"[^>]*checked', page)


def test_running_now_lists_sessions_whose_timer_runs(
    db: Database, web_client: Client, api: Callable[..., Any]
) -> None:
    with db.write() as conn:
        running = [
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT id FROM sessions WHERE project_id = 1 AND is_closed = :f "
                    "ORDER BY id LIMIT 2"
                ),
                {"f": False},
            )
        ]
        conn.execute(sa.text("UPDATE sessions SET running_since = NULL"))
        conn.execute(
            sa.text("UPDATE sessions SET running_since = created_at WHERE id IN (:a, :b)"),
            {"a": running[0], "b": running[1]},
        )
    assert sorted(shown(web_client("tester"), is_running="1")) == sorted(running)
    assert sorted(api_ids(api, is_running="true")) == sorted(running)
    assert not set(running) & set(api_ids(api, is_running="0"))


def test_bad_list_filters_are_named(web_client: Client, api: Callable[..., Any]) -> None:
    resp = web_client("tester").get(
        "/projects/1/sessions", params={"mine": "maybe", "is_running": "x", "search": "a" * 201}
    )
    assert resp.status_code == 422
    for name in ("mine", "is_running", "search"):
        assert f"<code>{name}</code>" in resp.text
    bad = api("/api/v1/projects/1/sessions", is_running="x")
    assert bad.status_code == 422 and "is_running" in bad.text


def test_sortable_columns_link_and_say_their_order(web_client: Client) -> None:
    client = web_client("tester")
    page = client.get("/projects/1/sessions?state_id=1").text
    created = re.search(r'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)"[^>]*>Created', page)
    closed = re.search(r'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)"[^>]*>Closed', page)
    assert created and closed
    assert created[1] == "descending" and closed[1] == "none"
    # Clicking the current column flips it; the filters stay in the link.
    href = created[2].replace("&amp;", "&")
    assert "order=asc" in href and "state_id=1" in href and "page=1" in href
    flipped = client.get(href).text
    assert re.search(r'aria-sort="ascending"><a [^>]*>Created', flipped)
    by_closed = client.get(closed[2].replace("&amp;", "&")).text
    assert re.search(r'aria-sort="descending"><a [^>]*>Closed', by_closed)


def test_rows_show_their_milestone_and_tags(web_client: Client, api: Callable[..., Any]) -> None:
    """Each row names its milestone and lists its tags, as the API has them."""
    sessions = api("/api/v1/projects/1/sessions", per_page="100", expands="milestones").json()
    names = {m["id"]: m["name"] for m in sessions["expands"]["milestones"]}
    tagged = next(s for s in sessions["result"] if s["tags"] and s["milestone_id"])
    page = web_client("tester").get("/projects/1/sessions", params={"per_page": "100"}).text
    start = page.index(f'<a href="/sessions/{tagged["id"]}">')
    row = page[start : page.index("</tr>", start)]
    assert f"<td>{names[tagged['milestone_id']]}</td>" in row
    for tag in tagged["tags"]:
        assert f'<li class="tag">{tag}</li>' in row
