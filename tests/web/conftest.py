"""Fixtures for the web UI tests: a demo database where every demo user can sign in,
signed-in TestClients per role, and a real browser (Playwright + Debian's chromium)
against a real `charter serve`.

tests/web has no __init__.py, so pytest imports this file as the module `conftest`
while the tests here run: it re-exports the helpers of tests/conftest.py, so
`from conftest import migrate, open_api, ...` works the same in tests/web.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from charter.app import create_app
from charter.db.engine import Database
from charter.demo import DEMO_ADMIN_EMAIL, load_demo
from charter.domain import auth, setup, web_sessions
from charter.settings import Settings


def _load_root_conftest() -> Any:
    path = Path(__file__).resolve().parent.parent / "conftest.py"
    spec = importlib.util.spec_from_file_location("charter_tests_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_root = _load_root_conftest()
Api = _root.Api
DEMO_SESSIONS: int = _root.DEMO_SESSIONS
TEST_DATABASE_ENV: str = _root.TEST_DATABASE_ENV
backend = _root.backend
make_fresh_database = _root.make_fresh_database
migrate = _root.migrate
open_api = _root.open_api
_pg_admin_url = _root._pg_admin_url

# Every demo user (and the outsider) signs in with this password in the web tests.
WEB_PASSWORD = "correct horse battery staple"
OUTSIDER_EMAIL = "olive@example.com"
# Roles in the demo's project 1 ("Webshop").
ROLE_EMAILS = {
    "admin": DEMO_ADMIN_EMAIL,  # site admin
    "manager": "grace@example.com",
    "tester": "alan@example.com",
    "viewer": "barbara@example.com",
    "outsider": OUTSIDER_EMAIL,  # member of no project
}
CHROMIUM = "/usr/bin/chromium"
# Browser tests save screenshots of the main pages here. `make screenshots` points it
# at docs/screenshots (which the README shows); a plain test run leaves those alone.
SCREENSHOTS = Path(
    os.environ.get("CHARTER_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare_web_demo(url: str, n_sessions: int = DEMO_SESSIONS) -> None:
    """Migrate `url`, load the demo, add the outsider, give everyone WEB_PASSWORD."""
    db = migrate(url)
    load_demo(db, n_sessions=n_sessions, seed=7, progress=False)
    with db.write() as conn:
        setup.create_user(conn, "Olive Outsider", OUTSIDER_EMAIL)
        emails = [row[0] for row in conn.execute(sa.text("SELECT email FROM users"))]
        for email in emails:
            web_sessions.set_password(conn, email, WEB_PASSWORD)
    db.close()


@pytest.fixture(scope="module")
def web_demo_url(module_database_url: str) -> str:
    """A migrated demo database (DEMO_SESSIONS sessions) where every user has
    WEB_PASSWORD and OUTSIDER_EMAIL is a member of nothing. Shared by the module."""
    prepare_web_demo(module_database_url)
    return module_database_url


def csrf_of(client: TestClient[Any]) -> str:
    """The CSRF token a page would embed for this client's cookies."""
    secret = client.cookies.get("charter_session") or client.cookies.get("charter_csrf")
    assert secret, "no session or CSRF cookie yet: GET a page first"
    return web_sessions.csrf_token(secret)


def sign_in_client(client: TestClient[Any], email: str, password: str = WEB_PASSWORD) -> None:
    """Sign in through the real form (GET for the token, then POST)."""
    page = client.get("/login")
    match = CSRF_FIELD.search(page.text)
    assert match, page.text[:500]
    resp = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text[:500]
    assert client.cookies.get("charter_session")


@pytest.fixture(scope="module")
def web_client(web_demo_url: str) -> Iterator[Callable[[str], TestClient[Any]]]:
    """`web_client(role)`: a TestClient signed in as that role (see ROLE_EMAILS), one
    per role and module; `web_client("anonymous")` is signed out."""
    clients: dict[str, TestClient[Any]] = {}

    def get(role: str) -> TestClient[Any]:
        if role not in clients:
            client = TestClient(create_app(Settings(database_url=web_demo_url)))
            client.__enter__()
            clients[role] = client
            if role != "anonymous":
                sign_in_client(client, ROLE_EMAILS[role])
        return clients[role]

    yield get
    for client in clients.values():
        client.__exit__(None, None, None)


@pytest.fixture(name="csrf_of")
def csrf_of_fixture() -> Callable[[TestClient[Any]], str]:
    return csrf_of


# --- a real browser against a real server ---------------------------------------------


@pytest.fixture(scope="module")
def live_server(web_demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`charter serve` over the web demo database; yields its base URL."""
    from live import serving

    db = Database(web_demo_url)
    with db.write() as conn:
        token = auth.create_token(conn, DEMO_ADMIN_EMAIL, "live server check")
    db.close()
    log = tmp_path_factory.mktemp("live") / "serve.log"
    with serving(web_demo_url, token, log) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (Debian's /usr/bin/chromium, never a
    downloaded one). Skipped when chromium is missing, except in CI where it fails."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs the chromium package)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, 1280x800, for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, base_url: str, role: str = "admin") -> None:
    """Sign in through the sign-in form in the browser; ends on the projects page."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(ROLE_EMAILS[role])
    page.get_by_label("Password").fill(WEB_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., None]:
    """`sign_in(page, base_url, role)`."""
    return sign_in
