"""Plain helpers for the web UI tests (the fixtures built on them live in
tests/web/conftest.py): the demo users' password and roles, signing in through the
real form or a real browser, and the CSRF token a page embeds. Import them as
`from helpers_web import ...`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar.testing import TestClient

from charter.auth import logins
from charter.demo import DEMO_ADMIN_EMAIL, load_demo
from charter.users import service as user_service
from helpers_db import DEMO_SESSIONS, migrate

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
    or Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare_web_demo(url: str, n_sessions: int = DEMO_SESSIONS) -> None:
    """Migrate `url`, load the demo, add the outsider, give everyone WEB_PASSWORD."""
    db = migrate(url)
    load_demo(db, n_sessions=n_sessions, seed=7, progress=False)
    with db.write() as conn:
        user_service.new_user(conn, "Olive Outsider", OUTSIDER_EMAIL)
        emails = [row[0] for row in conn.execute(sa.text("SELECT email FROM users"))]
        for email in emails:
            logins.set_password(conn, email, WEB_PASSWORD)
    db.close()


def csrf_of(client: TestClient[Any]) -> str:
    """The CSRF token a page would embed for this client's cookies."""
    session = client.cookies.get("charter_session")
    secret = session or client.cookies.get("charter_csrf")
    assert secret, "no session or CSRF cookie yet: GET a page first"
    key = client.app.state["csrf_key"]
    return logins.csrf_token(key, secret, signed_in=bool(session))


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


def sign_in(page: Any, base_url: str, role: str = "admin") -> None:
    """Sign in through the sign-in form in the browser; ends on the projects page."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(ROLE_EMAILS[role])
    page.get_by_label("Password").fill(WEB_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
