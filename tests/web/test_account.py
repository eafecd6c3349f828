"""The account page (API tokens: create shows the secret once, revoke), the projects
page, and the members page (managers and admins change members; others cannot)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from charter.db.engine import Database
from charter.projects import service as project_service
from helpers_web import ROLE_EMAILS, csrf_of

SECRET = re.compile(r'id="new-token-secret">\s*(charter_[A-Za-z0-9_-]+)\s*<')


def members_of(url: str, project_id: int) -> dict[str, str]:
    """{email: role} straight from the database."""
    db = Database(url)
    with db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT u.email, r.system_name FROM project_members m "
                "JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id "
                "WHERE m.project_id = :p"
            ),
            {"p": project_id},
        ).all()
    db.close()
    return {r[0]: r[1] for r in rows}


def user_id(url: str, email: str) -> int:
    db = Database(url)
    with db.read() as conn:
        value = conn.execute(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email})
        found = int(value.scalar_one())
    db.close()
    return found


def token_count(url: str, email: str) -> int:
    db = Database(url)
    with db.read() as conn:
        value = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE u.email = :e"
            ),
            {"e": email},
        ).scalar_one()
    db.close()
    return int(value)


# --- API tokens -------------------------------------------------------------------------


def test_token_created_shown_once_works_then_revoked(web_client: Any) -> None:
    client = web_client("tester")
    resp = client.post(
        "/account/tokens", data={"name": "CI <pipeline>", "csrf_token": csrf_of(client)}
    )
    assert resp.status_code == 200  # redirected (post/redirect/get) to the page showing it
    match = SECRET.search(resp.text)
    assert match, resp.text
    secret = match.group(1)
    assert "CI &lt;pipeline&gt;" in resp.text  # escaped, not markup
    # The secret authenticates the API, and is never shown again.
    api = client.get("/api/v1/user", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["name"] == "Alan Turing"
    page = client.get("/account")
    assert secret not in page.text and "CI &lt;pipeline&gt;" in page.text
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page.text)
    assert token_id
    resp = client.post(
        f"/account/tokens/{token_id.group(1)}/revoke",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/account"
    assert "Token revoked" in client.get("/account").text
    api = client.get("/api/v1/user", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    # Revoking it again, or someone else's token, is a 404 page.
    again = client.post(
        f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert again.status_code == 404 and "<html" in again.text


def test_someone_elses_token_cannot_be_revoked(web_client: Any, web_demo_url: str) -> None:
    owner = web_client("manager")
    owner.post("/account/tokens", data={"name": "mine", "csrf_token": csrf_of(owner)})
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', owner.get("/account").text)
    assert token_id
    other = web_client("viewer")
    path = f"/account/tokens/{token_id.group(1)}/revoke"
    assert other.post(path, data={"csrf_token": csrf_of(other)}).status_code == 404
    assert f'action="{path}"' in owner.get("/account").text  # still active
    for bad in ("abc", "0", "99999999999999999999999"):
        resp = other.post(f"/account/tokens/{bad}/revoke", data={"csrf_token": csrf_of(other)})
        assert resp.status_code == 404, bad


def test_bad_token_name_is_shown_and_nothing_created(web_client: Any, web_demo_url: str) -> None:
    client = web_client("viewer")
    before = token_count(web_demo_url, ROLE_EMAILS["viewer"])
    for name in ("", "   ", "x" * 201):
        resp = client.post("/account/tokens", data={"name": name, "csrf_token": csrf_of(client)})
        assert resp.status_code == 422
        assert 'id="token-name-error"' in resp.text and 'aria-invalid="true"' in resp.text
    resp = client.post("/account/tokens", data={"name": "no csrf"})
    assert resp.status_code == 403
    assert token_count(web_demo_url, ROLE_EMAILS["viewer"]) == before


def test_account_needs_sign_in(web_client: Any) -> None:
    anonymous = web_client("anonymous")
    resp = anonymous.get("/account", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=%2Faccount"
    # htmx follows redirects inside its request; it gets HX-Redirect to change the page.
    resp = anonymous.get("/account", headers={"HX-Request": "true"}, follow_redirects=False)
    assert resp.status_code == 204 and resp.headers["hx-redirect"] == "/login?next=%2Faccount"


# --- projects page ----------------------------------------------------------------------


def test_projects_page_matches_the_api(web_client: Any, web_demo_url: str) -> None:
    db = Database(web_demo_url)
    with db.read() as conn:
        rows = conn.execute(
            sa.text("SELECT id, name, session_count, session_active_count FROM projects")
        ).all()
    db.close()
    page = web_client("admin").get("/").text
    for project_id, name, count, active in rows:
        row = re.search(
            rf'<a href="/projects/{project_id}/sessions">{re.escape(name)}</a>.*?</tr>',
            page,
            re.S,
        )
        assert row, name
        numbers = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
        assert numbers[0] == str(active) and numbers[2] == str(count)
    # A viewer of Webshop (and tester of Mobile App) sees those two only.
    viewer = web_client("viewer").get("/").text
    assert "Webshop" in viewer and "Mobile App" in viewer and "Internal Tools" not in viewer
    assert "not a member of any project" in web_client("outsider").get("/").text
    assert web_client("admin").get("/?page=abc").status_code == 200  # a bad page shows page 1


# --- members ----------------------------------------------------------------------------


def test_viewer_sees_members_read_only_and_cannot_change_them(
    web_client: Any, web_demo_url: str
) -> None:
    before = members_of(web_demo_url, 1)
    viewer = web_client("viewer")
    page = viewer.get("/projects/1/members")
    assert page.status_code == 200 and "Grace Hopper" in page.text
    assert "<form" not in page.text.split("</header>", 1)[1]  # no edit controls
    outsider = user_id(web_demo_url, ROLE_EMAILS["outsider"])
    tester_id = user_id(web_demo_url, ROLE_EMAILS["tester"])
    token = {"csrf_token": csrf_of(viewer)}
    forged = [
        ("/projects/1/members", {"user_id": str(outsider), "role": "manager"}),
        (f"/projects/1/members/{tester_id}/role", {"role": "manager"}),
        (f"/projects/1/members/{tester_id}/remove", {}),
    ]
    for path, data in forged:
        resp = viewer.post(path, data={**data, **token})
        assert resp.status_code == 403, path
        assert "Not allowed" in resp.text
    tester = web_client("tester")  # a tester may not manage either
    resp = tester.post(
        f"/projects/1/members/{tester_id}/role",
        data={"role": "manager", "csrf_token": csrf_of(tester)},
    )
    assert resp.status_code == 403
    assert members_of(web_demo_url, 1) == before
    assert web_client("outsider").get("/projects/1/members").status_code == 403


def test_manager_adds_changes_and_removes_a_member(web_client: Any, web_demo_url: str) -> None:
    manager = web_client("manager")
    page = manager.get("/projects/1/members").text
    # A manager is offered only the users they may know of: Olive is in none of
    # Grace's projects yet (a site admin is offered everyone).
    assert "Olive Outsider" not in page
    assert "Olive Outsider" in web_client("admin").get("/projects/1/members").text
    db = Database(web_demo_url)
    with db.write() as conn:
        shared = project_service.new_project(conn, "Shared with Olive", created_by=None)
        project_service.add_member(conn, shared, ROLE_EMAILS["manager"], "viewer")
        project_service.add_member(conn, shared, ROLE_EMAILS["outsider"], "viewer")
    db.close()
    page = manager.get("/projects/1/members").text
    assert 'action="/projects/1/members"' in page and "Olive Outsider" in page
    olive = user_id(web_demo_url, ROLE_EMAILS["outsider"])

    def post(path: str, **data: str) -> Any:
        return manager.post(
            path, data={**data, "csrf_token": csrf_of(manager)}, follow_redirects=False
        )

    resp = post("/projects/1/members", user_id=str(olive), role="viewer")
    assert resp.status_code == 303 and resp.headers["location"] == "/projects/1/members"
    assert members_of(web_demo_url, 1)[ROLE_EMAILS["outsider"]] == "viewer"
    assert "Member added." in manager.get("/projects/1/members").text
    assert post(f"/projects/1/members/{olive}/role", role="tester").status_code == 303
    assert members_of(web_demo_url, 1)[ROLE_EMAILS["outsider"]] == "tester"
    # A bad role or user changes nothing and says why.
    post(f"/projects/1/members/{olive}/role", role="owner")
    assert "role" in manager.get("/projects/1/members").text
    assert members_of(web_demo_url, 1)[ROLE_EMAILS["outsider"]] == "tester"
    post("/projects/1/members", user_id="", role="viewer")
    assert "Choose a user." in manager.get("/projects/1/members").text
    assert post(f"/projects/1/members/{olive}/remove").status_code == 303
    assert ROLE_EMAILS["outsider"] not in members_of(web_demo_url, 1)


def test_the_last_manager_stays(web_client: Any, web_demo_url: str) -> None:
    admin = web_client("admin")  # site admins manage every project
    grace = user_id(web_demo_url, ROLE_EMAILS["manager"])
    before = members_of(web_demo_url, 2)
    token = {"csrf_token": csrf_of(admin)}
    demote = admin.post(f"/projects/2/members/{grace}/role", data={"role": "viewer", **token})
    remove = admin.post(f"/projects/2/members/{grace}/remove", data=token)
    assert members_of(web_demo_url, 2) == before
    for resp in (demote, remove):  # redirected back to the page, which says why
        assert resp.status_code == 200 and "last manager" in resp.text
