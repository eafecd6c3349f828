"""Web sign-in: email + password, server-side sessions in an HttpOnly cookie, CSRF on
every unsafe request, throttled failures, error pages and security headers; and a
browser cookie never authenticates the API."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar import Litestar, Router, get
from litestar.testing import TestClient

from charter.app import create_app
from charter.auth import logins
from charter.cli import main
from charter.core.clock import utcnow
from charter.core.errors import Unauthenticated
from charter.db.engine import Database
from charter.db.migrate import upgrade
from charter.db.tables import web_sessions as web_sessions_table
from charter.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, load_demo
from charter.settings import Settings
from charter.signin.pages import EMAIL_FAILURES
from charter.users import service as user_service
from charter.web.errors import EXCEPTION_HANDLERS
from charter.web.security import CSP
from helpers_web import OUTSIDER_EMAIL, ROLE_EMAILS, WEB_PASSWORD, csrf_of, sign_in, sign_in_client


@contextlib.contextmanager
def charter_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture every `charter.*` log line at DEBUG, whatever logging was configured
    (charter.logs turns propagation off)."""
    logger = logging.getLogger("charter")
    old_level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old_level)


SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def client_for(url: str, **settings: Any) -> TestClient[Any]:
    return TestClient(create_app(Settings(database_url=url, **settings)))


def login_form(client: TestClient[Any], email: str, password: str, **extra: str) -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"email": email, "password": password, "csrf_token": token.group(1), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def session_cookie_header(resp: Any) -> str:
    headers = [h for h in resp.headers.get_list("set-cookie") if h.startswith("charter_session=")]
    assert len(headers) == 1, resp.headers.get_list("set-cookie")
    return str(headers[0])


def test_sign_in_sets_a_safe_cookie_and_goes_to_next(web_demo_url: str) -> None:
    with client_for(web_demo_url) as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        resp = login_form(client, "Grace@Example.com", WEB_PASSWORD, next="/account")
        assert resp.status_code == 303
        assert resp.headers["location"] == "/account"
        cookie = session_cookie_header(resp).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain HTTP, secure_cookies off
        page = client.get("/")
        assert page.status_code == 200 and "Grace Hopper" in page.text
        assert page.headers["cache-control"] == "no-store"


def test_cookies_are_secure_over_https(web_demo_url: str) -> None:
    app = create_app(Settings(database_url=web_demo_url))
    with TestClient(app, base_url="https://testserver.local") as client:
        resp = login_form(client, ROLE_EMAILS["tester"], WEB_PASSWORD)
        assert resp.status_code == 303
        assert "secure" in session_cookie_header(resp).lower()


def test_secure_cookies_setting_marks_them_secure_over_http(web_demo_url: str) -> None:
    # Behind a TLS-terminating proxy the app sees http but the browser https.
    with client_for(web_demo_url, secure_cookies=True) as client:
        resp = client.get("/login")
        csrf_cookie = [h for h in resp.headers.get_list("set-cookie") if "charter_csrf=" in h]
        assert csrf_cookie and "secure" in csrf_cookie[0].lower()


def test_next_never_leaves_the_site(web_demo_url: str) -> None:
    with client_for(web_demo_url) as client:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            resp = login_form(client, ROLE_EMAILS["tester"], WEB_PASSWORD, next=target)
            assert resp.headers["location"] == "/"
            client.cookies.clear()


def test_failures_all_say_the_same(web_demo_url: str) -> None:
    db = Database(web_demo_url)
    with db.write() as conn:
        user_service.set_active(conn, "edsger@example.com", False)
    try:
        with client_for(web_demo_url) as client:
            answers = []
            for email, password in [
                (ROLE_EMAILS["tester"], "wrong password"),  # wrong password
                ("nobody@example.com", WEB_PASSWORD),  # unknown email
                ("edsger@example.com", WEB_PASSWORD),  # deactivated user
                ("", ""),  # nothing typed
            ]:
                resp = login_form(client, email, password)
                assert resp.status_code == 401
                assert "charter_session" not in resp.headers.get("set-cookie", "")
                answers.append(re.sub(r'value="[^"]*"', "", resp.text))
                assert logins.SIGN_IN_FAILED in resp.text
            # Only the echoed email differs; the message is identical for every case.
            assert len({a.count(logins.SIGN_IN_FAILED) for a in answers}) == 1
    finally:
        with db.write() as conn:
            user_service.set_active(conn, "edsger@example.com", True)
        db.close()


def test_failed_sign_ins_are_throttled_per_email(web_demo_url: str) -> None:
    with client_for(web_demo_url) as client:
        for _ in range(EMAIL_FAILURES):
            assert login_form(client, ROLE_EMAILS["viewer"], "nope nope").status_code == 401
        resp = login_form(client, ROLE_EMAILS["viewer"], WEB_PASSWORD)  # right, but too late
        assert resp.status_code == 429
        assert int(resp.headers["retry-after"]) > 0
        assert "Too many failed sign-ins" in resp.text and "<html" in resp.text
        assert "charter_session" not in resp.headers.get("set-cookie", "")
        # Another account from the same client is not locked by these failures.
        assert login_form(client, ROLE_EMAILS["manager"], WEB_PASSWORD).status_code == 303


def test_logout_deletes_the_session(web_demo_url: str) -> None:
    with client_for(web_demo_url) as client:
        sign_in_client(client, ROLE_EMAILS["tester"])
        secret = client.cookies["charter_session"]
        resp = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/login"
        assert "max-age=0" in session_cookie_header(resp).lower()
        assert "You are signed out." in client.get("/login").text  # the flash message
        # The old cookie is dead on the server too, not only in this browser.
        client.cookies.set("charter_session", secret)
        assert client.get("/account", follow_redirects=False).status_code == 303


def test_deactivated_user_is_signed_out_at_once(web_demo_url: str) -> None:
    db = Database(web_demo_url)
    with client_for(web_demo_url) as client:
        sign_in_client(client, "katherine@example.com")
        assert client.get("/account").status_code == 200
        with db.write() as conn:
            user_service.set_active(conn, "katherine@example.com", False)
        try:
            resp = client.get("/account", follow_redirects=False)
            assert resp.status_code == 303
            assert resp.headers["location"] == "/login?next=%2Faccount"
        finally:
            with db.write() as conn:
                user_service.set_active(conn, "katherine@example.com", True)
    db.close()


def test_session_expires(web_demo_url: str) -> None:
    with client_for(web_demo_url) as client:
        sign_in_client(client, ROLE_EMAILS["tester"])
        assert client.get("/", follow_redirects=False).status_code == 200
        db = Database(web_demo_url)
        with db.write() as conn:
            conn.execute(sa.update(web_sessions_table).values(expires_at=utcnow()))
        db.close()
        assert client.get("/", follow_redirects=False).status_code == 303


def test_password_reset_ends_sessions_and_cli_sets_passwords(web_demo_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main,
        [
            "--database",
            web_demo_url,
            "user",
            "create",
            "--name",
            "Pat",
            "--email",
            "pat@example.com",
            "--password",
            "first password",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "first password" not in created.output
    short = runner.invoke(
        main,
        [
            "--database",
            web_demo_url,
            "user",
            "create",
            "--name",
            "Sam",
            "--email",
            "sam@example.com",
            "--password",
            "short",
        ],
    )
    assert short.exit_code == 1 and "password" in short.output
    with client_for(web_demo_url) as client:
        sign_in_client(client, "pat@example.com", "first password")
        reset = runner.invoke(
            main,
            ["--database", web_demo_url, "user", "password", "--email", "pat@example.com"],
            input="second password\nsecond password\n",
        )
        assert reset.exit_code == 0, reset.output
        assert client.get("/", follow_redirects=False).status_code == 303  # signed out
        client.cookies.clear()
        assert login_form(client, "pat@example.com", "first password").status_code == 401
        assert login_form(client, "pat@example.com", "second password").status_code == 303
    missing = runner.invoke(
        main,
        [
            "--database",
            web_demo_url,
            "user",
            "password",
            "--email",
            "who@example.com",
            "--password",
            "whatever123",
        ],
    )
    assert missing.exit_code == 1 and "No user" in missing.output


def test_unsafe_requests_need_the_csrf_token(web_client: Any, web_demo_url: str) -> None:
    client = web_client("manager")
    good = csrf_of(client)
    for data, headers in [
        ({}, {}),  # no token at all
        ({"csrf_token": "0" * 64}, {}),  # a wrong one
        ({"csrf_token": ""}, {}),
        ({}, {"X-CSRF-Token": "forged"}),
    ]:
        resp = client.post("/account/tokens", data={"name": "x", **data}, headers=headers)
        assert resp.status_code == 403, data
        assert "did not come from a Charter page" in resp.text
    resp = client.post("/logout", follow_redirects=False)
    assert resp.status_code == 403
    assert client.get("/account").status_code == 200  # still signed in
    # Another browser's valid token does not work with this browser's cookie.
    other = csrf_of(web_client("tester"))
    assert (
        client.post("/account/tokens", data={"name": "x", "csrf_token": other}).status_code == 403
    )
    # The header works like the form field (htmx sends it).
    ok = client.post("/account/tokens", data={"name": "via header"}, headers={"X-CSRF-Token": good})
    assert ok.status_code == 200  # redirected to the page showing it (post/redirect/get)
    # A signed-out browser posting the sign-in form without a token is refused too. (Its
    # own app: a second TestClient on `client.app` would run that app's startup again
    # while it is running and orphan its event emitter's stream, a ResourceWarning.)
    with TestClient(create_app(Settings(database_url=web_demo_url))) as anonymous:
        resp = anonymous.post(
            "/login", data={"email": ROLE_EMAILS["manager"], "password": WEB_PASSWORD}
        )
        assert resp.status_code == 403


def test_a_browser_cookie_never_authenticates_the_api(web_client: Any) -> None:
    client = web_client("admin")
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/user").status_code == 401
    assert client.get("/api/v1/projects").status_code == 401
    resp = client.post(
        "/api/v1/projects/1/sessions",
        json={"name": "via cookie"},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/json")


def test_security_headers_everywhere(web_client: Any) -> None:
    client = web_client("tester")
    for path in (
        "/",
        "/login",
        "/account",
        "/nope",
        "/static/app.css",
        "/static/statuses.css",
        "/api/v1/user",
    ):
        resp = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers.get(name) == value, (path, name)
    page = client.get("/").text
    assert "<script>" not in page and "style=" not in page  # nothing CSP would block


def test_error_pages_are_html(web_client: Any) -> None:
    tester = web_client("tester")
    for path in (
        "/nope",
        "/projects/999999/members",
        "/projects/abc/members",
        "/static/nope.js",
        "/projects/99999999999999999999999/members",
    ):
        resp = tester.get(path)
        assert resp.status_code == 404, path
        assert resp.headers["content-type"].startswith("text/html")
        assert "Page not found" in resp.text or "not found" in resp.text
    outsider = web_client("outsider")
    resp = outsider.get("/projects/1/members")
    assert resp.status_code == 403 and resp.headers["content-type"].startswith("text/html")
    assert "Not allowed" in resp.text and "Traceback" not in resp.text
    resp = tester.put("/account", headers={"X-CSRF-Token": csrf_of(tester)})
    assert resp.status_code == 405 and "<html" in resp.text
    # The API keeps its JSON errors.
    assert tester.get("/api/v1/nope").headers["content-type"].startswith("application/json")


def test_500_page_shows_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = Litestar(
        route_handlers=[Router("/", route_handlers=[boom], exception_handlers=EXCEPTION_HANDLERS)]
    )
    with TestClient(app) as client, charter_logs(caplog):
        resp = client.get("/boom")
    assert resp.status_code == 500 and "<html" in resp.text
    assert "secret internals" not in resp.text and "Traceback" not in resp.text
    assert resp.headers["x-request-id"] in resp.text
    assert "secret internals" in caplog.text  # logged for the operator


def test_passwords_never_reach_the_logs(
    web_demo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-but-distinctive-pass"
    with charter_logs(caplog), client_for(web_demo_url) as client:
        login_form(client, OUTSIDER_EMAIL, wrong)
        login_form(client, OUTSIDER_EMAIL, WEB_PASSWORD)
        for _ in range(EMAIL_FAILURES + 1):
            login_form(client, "throttled@example.com", wrong)
    assert caplog.records, "expected some log lines (e.g. the throttle warning)"
    assert wrong not in caplog.text and WEB_PASSWORD not in caplog.text


@pytest.mark.browser
def test_sign_in_and_out_in_a_real_browser(live_server: str, page: Any) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "manager")
    assert page.get_by_role("heading", name="Projects").is_visible()
    assert page.get_by_role("link", name="Webshop").first.is_visible()
    # The vendored htmx loaded and nothing was blocked by the CSP.
    assert page.evaluate("typeof window.htmx") == "object"
    assert errors == []
    cookie = next(c for c in page.context.cookies() if c["name"] == "charter_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto(f"{live_server}/account")
    assert page.url.startswith(f"{live_server}/login")


def test_demo_admin_signs_in_with_the_printed_password(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    upgrade(db)
    load_demo(db, n_sessions=0, progress=False)
    with db.read() as conn:
        candidate = logins.lookup(conn, DEMO_ADMIN_EMAIL)
    db.close()
    user_id, _ = logins.check_password(candidate, DEMO_ADMIN_PASSWORD)
    assert user_id == candidate.user_id
    with pytest.raises(Unauthenticated):
        logins.check_password(candidate, "charter-demo-wrong")
