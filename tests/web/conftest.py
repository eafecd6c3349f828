"""Fixtures for the web UI tests: a demo database where every demo user can sign in,
signed-in TestClients per role, and a real browser (Playwright + Debian's chromium)
against a real `charter serve`. The plain helpers they use live in tests/helpers_web.py
(and helpers_db.py): import them from there, never from `conftest`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import service as auth
from charter.db.engine import Database
from charter.demo import DEMO_ADMIN_EMAIL
from charter.settings import Settings
from helpers_web import CHROMIUM, ROLE_EMAILS, csrf_of, prepare_web_demo, sign_in, sign_in_client


@pytest.fixture(scope="module")
def web_demo_url(module_database_url: str) -> str:
    """A migrated demo database (DEMO_SESSIONS sessions) where every user has
    WEB_PASSWORD and OUTSIDER_EMAIL is a member of nothing. Shared by the module."""
    prepare_web_demo(module_database_url)
    return module_database_url


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


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., None]:
    """`sign_in(page, base_url, role)`."""
    return sign_in
