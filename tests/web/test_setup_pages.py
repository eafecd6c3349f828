"""Setting a project up in the browser (web/crud.py): every resource's list, add, edit
and delete pages, their field errors (the API's messages), permissions, CSRF, a form
sent twice, and a stale edit refused and shown."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from helpers_web import ROLE_EMAILS, csrf_of

Client = TestClient[Any]
BASE = re.compile(r'name="base_values" value="([^"]*)"')
FORM_KEY = re.compile(r'name="form_key" value="([^"]*)"')


@dataclass(frozen=True)
class Case:
    """One resource: where its list is, what an add and an edit post, a bad add and
    the field error it gets (the API's message for the same value)."""

    list_url: str
    add: dict[str, str]
    edit: dict[str, str]
    bad: dict[str, str]
    bad_field: str
    bad_message: str
    deletes: bool = True
    role: str = "admin"
    extra: dict[str, str] = field(default_factory=dict)


CASES = {
    "state": Case(
        "/admin/states",
        {"name": "Blocked", "meaning": "review", "display_order": "7"},
        {"name": "Blocked by bugs", "meaning": "active"},
        {"name": "   ", "display_order": "x"},
        "name",
        "The name must not be empty.",
    ),
    "template": Case(
        "/admin/templates",
        {"name": "Mobile"},
        {"name": "Mobile apps"},
        {"name": ""},
        "name",
        "The name must not be empty.",
        deletes=False,
    ),
    "field": Case(
        "/admin/templates/1/fields",
        {
            "name": "Device",
            "system_name": "device",
            "type": "dropdown",
            "scope": "result",
            "is_required": "1",
        },
        {"name": "Device model"},
        {"name": "Build tag", "system_name": "Bad Name", "type": "string", "scope": "session"},
        "system_name",
        "Lowercase letters, digits and _, starting with a letter.",
    ),
    "configuration": Case(
        "/projects/1/configs",
        {"name": "Firefox on Linux"},
        {"name": "Firefox 130 on Linux"},
        {"name": ""},
        "name",
        "The name must not be empty.",
        role="manager",
    ),
    "milestone": Case(
        "/projects/1/milestones",
        {"name": "Release 9", "start_date": "2026-01-05", "due_date": "2026-02-01"},
        {"name": "Release 9.0", "note": "The big one"},
        {"name": "Release 10", "due_date": "soon"},
        "due_date",
        "",  # the API's day() message, checked by name below
        role="manager",
    ),
    "user": Case(
        "/admin/users",
        {"name": "Nina New", "email": "nina@example.com", "password": "a long enough password"},
        {"name": "Nina Newer", "email": "nina@example.com", "is_active": "1"},
        {"name": "Nobody", "email": "not an email"},
        "email",
        "Not a valid email address.",
        deletes=False,
    ),
    "project": Case(
        "/admin/projects",
        {"name": "Checkout", "note": "The web shop's checkout"},
        {"name": "Checkout v2", "note": ""},
        {"name": "  "},
        "name",
        "The name must not be empty.",
        deletes=False,
    ),
}


def post(client: Client, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data={**data, "csrf_token": csrf_of(client)}, follow_redirects=False)


def item_url(page: str, name: str) -> str:
    """The address of the row named `name` in a list page."""
    match = re.search(r'<a href="([^"]+)">' + re.escape(html.escape(name)) + "</a>", page)
    assert match, f"{name!r} not listed"
    return match.group(1)


def base_of(page: str) -> str:
    match = BASE.search(page)
    assert match
    return html.unescape(match.group(1))


def field_error(page: str, name: str, prefix: str = "new-") -> str:
    match = re.search(rf'<p class="field-error" id="{prefix}{name}-error">([^<]*)</p>', page)
    assert match, f"no error shown for {name}"
    return html.unescape(match.group(1))


@pytest.mark.parametrize("kind", list(CASES))
def test_add_edit_delete_through_the_pages(web_client: Any, kind: str) -> None:
    case = CASES[kind]
    client = web_client(case.role)
    listing = client.get(case.list_url)
    assert listing.status_code == 200
    resp = post(client, case.list_url, case.add)
    assert resp.status_code == 303, resp.text[:2000]
    assert resp.headers["location"] == case.list_url
    listing = client.get(case.list_url).text
    url = item_url(listing, case.add["name"])

    page = client.get(url)
    assert page.status_code == 200
    resp = post(client, url, {**case.edit, "base_values": base_of(page.text)})
    assert resp.status_code == 303, resp.text[:2000]
    assert f">{html.escape(case.edit['name'])}</a>" in client.get(case.list_url).text

    if case.deletes:
        page = client.get(url)
        resp = post(client, f"{url}/delete", {"base_values": base_of(page.text)})
        assert resp.status_code == 303, resp.text[:2000]
        assert f">{html.escape(case.edit['name'])}</a>" not in client.get(case.list_url).text
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("kind", list(CASES))
def test_bad_input_shows_the_apis_message_next_to_the_field(web_client: Any, kind: str) -> None:
    case = CASES[kind]
    client = web_client(case.role)
    client.get(case.list_url)
    resp = post(client, case.list_url, case.bad)
    assert resp.status_code == 422, resp.text[:2000]
    message = field_error(resp.text, case.bad_field)
    if case.bad_message:
        assert message == case.bad_message
    else:
        assert message
    assert 'id="form-errors"' in resp.text and 'aria-invalid="true"' in resp.text
    # What was typed is shown again; nothing was added.
    assert html.escape(case.bad["name"]) in resp.text
    if case.bad["name"].strip():
        assert f">{html.escape(case.bad['name'])}</a>" not in client.get(case.list_url).text


ADMIN_PAGES = [
    "/admin",
    "/admin/projects",
    "/admin/users",
    "/admin/templates",
    "/admin/templates/1/fields",
    "/admin/states",
    "/admin/statuses",
    "/admin/tags",
]
MANAGER_PAGES = ["/projects/1/settings", "/projects/1/configs", "/projects/1/milestones"]


@pytest.mark.parametrize("role", ["tester", "viewer", "outsider", "manager"])
def test_admin_pages_are_for_site_admins(web_client: Any, role: str) -> None:
    client = web_client(role)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    resp = post(client, "/admin/states", {"name": "Sneaky"})
    assert resp.status_code == 403
    assert "Sneaky" not in web_client("admin").get("/admin/states").text


@pytest.mark.parametrize("role", ["tester", "viewer", "outsider"])
def test_project_settings_are_for_its_managers(web_client: Any, role: str) -> None:
    client = web_client(role)
    for url in MANAGER_PAGES:
        assert client.get(url).status_code == 403, url
    assert post(client, "/projects/1/configs", {"name": "Sneaky"}).status_code == 403
    assert post(client, "/projects/1/settings", {"name": "Taken over"}).status_code == 403
    assert "Sneaky" not in web_client("manager").get("/projects/1/configs").text
    assert client.get("/projects/999999/settings").status_code == 404


def test_manager_and_admin_see_the_settings(web_client: Any) -> None:
    for role in ("manager", "admin"):
        page = web_client(role).get("/projects/1/settings")
        assert page.status_code == 200
        for link in ("/projects/1/members", "/projects/1/configs", "/projects/1/milestones"):
            assert f'href="{link}"' in page.text
    assert 'href="/admin"' in web_client("admin").get("/").text
    assert 'href="/admin"' not in web_client("manager").get("/").text
    # The projects page links a project's Settings for those who may open them.
    assert 'href="/projects/1/settings"' in web_client("manager").get("/").text
    assert 'href="/projects/1/settings"' not in web_client("tester").get("/").text


def test_a_post_without_the_csrf_token_is_refused(web_client: Any) -> None:
    client = web_client("admin")
    client.get("/admin/states")
    resp = client.post("/admin/states", data={"name": "No token"}, follow_redirects=False)
    assert resp.status_code == 403
    assert "No token" not in client.get("/admin/states").text


def test_the_same_add_form_sent_twice_adds_once(web_client: Any) -> None:
    client = web_client("manager")
    key = FORM_KEY.search(client.get("/projects/1/configs").text)
    assert key
    form = {"name": "Safari on iPad", "form_key": key.group(1)}
    assert post(client, "/projects/1/configs", form).status_code == 303
    assert post(client, "/projects/1/configs", form).status_code == 303
    assert client.get("/projects/1/configs").text.count(">Safari on iPad</a>") == 1


def test_a_stale_edit_is_refused_and_shows_what_changed(web_client: Any) -> None:
    client = web_client("admin")
    post(client, "/admin/states", {"name": "Waiting"})
    url = item_url(client.get("/admin/states").text, "Waiting")
    mine = base_of(client.get(url).text)
    # Someone else renames it first (the same page in another tab).
    theirs = post(client, url, {"name": "Waiting for build", "base_values": mine})
    assert theirs.status_code == 303
    resp = post(client, url, {"name": "Waiting on others", "base_values": mine})
    assert resp.status_code == 409
    assert 'id="form-conflict"' in resp.text
    assert "Waiting for build" in resp.text and "Waiting on others" in resp.text
    assert ">Waiting for build</a>" in client.get("/admin/states").text  # not overwritten
    # Saving again from the page shown (its base is the value now) is deliberate: it wins.
    again = post(client, url, {"name": "Waiting on others", "base_values": base_of(resp.text)})
    assert again.status_code == 303
    # A delete from a stale page is refused the same way.
    assert post(client, f"{url}/delete", {"base_values": mine}).status_code == 409


def test_the_api_rules_hold_on_the_pages(web_client: Any) -> None:
    admin = web_client("admin")
    # The last active site admin cannot deactivate themselves (the API's rule).
    users = admin.get("/admin/users").text
    admin_url = re.search(
        r'<a href="(/admin/users/\d+)">[^<]*</a></th>\s*<td>' + re.escape(ROLE_EMAILS["admin"]),
        users,
    )
    assert admin_url
    url = admin_url.group(1)
    page = admin.get(url).text
    resp = post(
        admin,
        url,
        {
            "name": "Admin",
            "email": ROLE_EMAILS["admin"],
            "is_admin": "1",
            "base_values": base_of(page),
        },
    )
    assert resp.status_code == 409
    assert "You cannot deactivate yourself." in resp.text
    assert field_error(resp.text, "is_active", "edit-") == "Not for yourself."
    # A state in use cannot be deleted; the page says why and keeps it.
    states = admin.get("/admin/states").text
    new = item_url(states, "New")
    resp = post(admin, f"{new}/delete", {"base_values": base_of(admin.get(new).text)})
    assert resp.status_code == 409
    assert "default" in resp.text or "used by" in resp.text
    # A too short password is refused with the sign-in's rule.
    resp = post(
        admin, f"{url}/password", {"password": "short", "base_values": base_of(admin.get(url).text)}
    )
    assert resp.status_code == 422
    assert "at least" in field_error(resp.text, "password", "act-")


def test_a_reset_password_signs_in(web_client: Any, web_demo_url: str) -> None:
    from charter.app import create_app
    from charter.settings import Settings
    from helpers_web import sign_in_client

    admin = web_client("admin")
    post(admin, "/admin/users", {"name": "Pat Reset", "email": "pat@example.com"})
    url = item_url(admin.get("/admin/users").text, "Pat Reset")
    resp = post(
        admin,
        f"{url}/password",
        {"password": "correct horse battery", "base_values": base_of(admin.get(url).text)},
    )
    assert resp.status_code == 303
    with TestClient(create_app(Settings(database_url=web_demo_url))) as pat:
        sign_in_client(pat, "pat@example.com", "correct horse battery")


def test_a_required_result_field_and_dropdown_values(web_client: Any) -> None:
    """A dropdown field's values (with colours) are managed under the field."""
    admin = web_client("admin")
    post(
        admin,
        "/admin/templates/1/fields",
        {"name": "Severity", "system_name": "severity", "type": "dropdown", "scope": "result"},
    )
    field_url = item_url(admin.get("/admin/templates/1/fields").text, "Severity")
    values_url = field_url + "/values"
    assert f'href="{values_url}"' in admin.get("/admin/templates/1/fields").text
    assert post(admin, values_url, {"name": "High", "color": "#d73a49"}).status_code == 303
    page = admin.get(values_url).text
    assert ">High</a>" in page and 'fill="#d73a49"' in page
    bad = post(admin, values_url, {"name": "Low", "color": "red"})
    assert bad.status_code == 422 and field_error(bad.text, "color")


def test_archive_and_reopen_a_project_and_a_milestone(web_client: Any) -> None:
    admin = web_client("admin")
    post(admin, "/admin/projects", {"name": "Short lived"})
    url = item_url(admin.get("/admin/projects").text, "Short lived")
    assert (
        post(admin, f"{url}/archive", {"base_values": base_of(admin.get(url).text)}).status_code
        == 303
    )
    page = admin.get(url).text
    assert "Reopen project" in page and "Archive project" not in page
    assert post(admin, f"{url}/reopen", {"base_values": base_of(page)}).status_code == 303
    assert "Archive project" in admin.get(url).text

    manager = web_client("manager")
    post(manager, "/projects/1/milestones", {"name": "Sprint 12"})
    mid = item_url(manager.get("/projects/1/milestones").text, "Sprint 12")
    page = manager.get(mid).text
    assert post(manager, f"{mid}/complete", {"base_values": base_of(page)}).status_code == 303
    assert "Reopen milestone" in manager.get(mid).text
    # A child cannot become its own parent's parent: the service's rule, on the field.
    post(
        manager,
        "/projects/1/milestones",
        {"name": "Sprint 12a", "parent_id": mid.rsplit("/", 1)[1]},
    )
    child = item_url(manager.get("/projects/1/milestones").text, "Sprint 12a")
    resp = post(
        manager,
        mid,
        {
            "name": "Sprint 12",
            "parent_id": child.rsplit("/", 1)[1],
            "base_values": base_of(manager.get(mid).text),
        },
    )
    assert resp.status_code == 422 and field_error(resp.text, "parent_id", "edit-")


def test_statuses_and_tags_are_edited_in_place(web_client: Any) -> None:
    admin = web_client("admin")
    url = item_url(admin.get("/admin/statuses").text, "Passed")
    page = admin.get(url).text
    form = {
        "name": "Passed",
        "system_name": "passed",
        "color": "#1a7f37",
        "aliases": "ok, good",
        "is_active": "1",
        "is_passed": "1",
        "is_final": "1",
        "base_values": base_of(page),
    }
    assert post(admin, url, form).status_code == 303
    assert 'value="ok, good"' in admin.get(url).text
    bad = post(admin, url, {**form, "color": "green", "base_values": base_of(admin.get(url).text)})
    assert bad.status_code == 422
    assert field_error(bad.text, "color", "edit-")
    both = {**form, "is_failed": "1", "base_values": base_of(admin.get(url).text)}
    resp = post(admin, url, both)
    assert resp.status_code == 422
    assert (
        field_error(resp.text, "is_passed", "edit-") == "A status cannot be both passed and failed."
    )

    tags = admin.get("/admin/tags").text
    tag = re.search(r'<a href="(/admin/tags/\d+)">([^<]+)</a>', tags)
    assert tag
    resp = post(
        admin,
        tag.group(1),
        {"name": "renamed-tag", "base_values": base_of(admin.get(tag.group(1)).text)},
    )
    assert resp.status_code == 303
    assert ">renamed-tag</a>" in admin.get("/admin/tags").text


@pytest.mark.parametrize(
    "url",
    [
        "/admin/states/abc",
        "/admin/states/99999999999999999999",
        "/admin/states/999999",
        "/projects/1x/configs",
        "/admin/templates/999999/fields",
        "/settings/configs/0",
    ],
)
def test_junk_and_unknown_ids_are_404(web_client: Any, url: str) -> None:
    assert web_client("admin").get(url).status_code == 404


def test_item_pages_refuse_those_who_may_not_change_them(web_client: Any) -> None:
    admin, manager = web_client("admin"), web_client("manager")
    state = item_url(admin.get("/admin/states").text, "New")
    post(manager, "/projects/1/configs", {"name": "Edge on Windows"})
    config = item_url(manager.get("/projects/1/configs").text, "Edge on Windows")
    for role in ("tester", "viewer", "outsider"):
        client = web_client(role)
        for url in (state, config):
            assert client.get(url).status_code == 403, (role, url)
            assert post(client, url, {"name": "Mine now"}).status_code == 403
            assert post(client, f"{url}/delete", {}).status_code == 403
    assert manager.get(state).status_code == 403  # site-wide: admins only
    assert ">Edge on Windows</a>" in manager.get("/projects/1/configs").text


def test_a_users_role_is_chosen_from_the_roles(web_client: Any) -> None:
    admin = web_client("admin")
    page = admin.get("/admin/users").text
    assert '<select id="new-role_id" name="role_id"' in page
    resp = post(
        admin,
        "/admin/users",
        {"name": "Rita Role", "email": "rita@example.com", "role_id": "999999"},
    )
    assert resp.status_code == 422
    assert field_error(resp.text, "role_id") == "No role with id 999999."
