"""Security review findings (issue 15) on the web UI: no open redirect after sign-in,
no form parsed before the CSRF cookie is there, a small body limit on form routes,
Markdown rendered once per content, the sign-in throttle counting before the password
check (so a burst gets no more checks than the limit), no 500 on odd ids or days, and
a CSRF token bound to the server (a token computed from the cookie alone fails)."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from litestar import Request
from litestar.testing import TestClient

from charter.app import create_app
from charter.db import tables
from charter.db.engine import Database
from charter.sessions import page_parts
from charter.settings import Settings
from charter.signin.pages import EMAIL_FAILURES
from charter.web.render import local_path
from helpers_web import CSRF_FIELD, ROLE_EMAILS, WEB_PASSWORD, csrf_of, sign_in_client

EVIL = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "/\u3000/evil.example",
    "/\u2028/evil.example",
    "evil.example",
    " /evil.example",
]


def same_origin(location: str) -> bool:
    """Where a browser goes from http://testserver/ (it drops tabs and newlines and
    reads a backslash as a slash, so do that first): still testserver?"""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    target = urlsplit(urljoin("http://testserver/login", cleaned))
    return target.scheme == "http" and target.netloc == "testserver"


@pytest.mark.parametrize("target", EVIL)
def test_local_path_refuses_anything_off_site(target: str) -> None:
    path = local_path(target)
    assert path.isascii() and path.isprintable(), repr(path)
    assert same_origin(path), (target, path)
    assert not path.startswith("//") and "\\" not in path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/projects/1/sessions?page=2&tags=a%2Cb", "/projects/1/sessions?page=2&tags=a%2Cb"),
        ("/account", "/account"),
        ("/projects/1/sessions?q=caf\u00e9", "/projects/1/sessions?q=caf%C3%A9"),
        ("/caf\u00e9", "/caf%C3%A9"),
        ("/a b", "/a%20b"),
    ],
)
def test_local_path_keeps_local_paths(target: str, expected: str) -> None:
    assert local_path(target) == expected


@pytest.fixture(scope="module")
def signed_in(web_client: Any) -> TestClient[Any]:
    client: TestClient[Any] = web_client("tester")
    return client


@pytest.mark.parametrize(
    "raw", ["/%09/evil.example", "/%0A/evil.example", "/%E3%80%80", "/%5C%5Cevil.example"]
)
def test_signed_in_login_redirect_stays_on_site(signed_in: TestClient[Any], raw: str) -> None:
    resp = signed_in.get(f"/login?next={raw}", follow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    location = resp.headers["location"]
    assert location.isascii() and location.isprintable() and same_origin(location), location
    resp = signed_in.get(
        f"/login?next={raw}", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert same_origin(resp.headers["hx-redirect"]), resp.headers


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\u3000", "//evil.example"])
def test_post_login_redirect_stays_on_site(web_demo_url: str, target: str) -> None:
    with TestClient(create_app(Settings(database_url=web_demo_url))) as client:
        page = client.get("/login")
        match = CSRF_FIELD.search(page.text)
        assert match
        for hx in ({}, {"HX-Request": "true"}):
            resp = client.post(
                "/login",
                data={
                    "email": ROLE_EMAILS["viewer"],
                    "password": WEB_PASSWORD,
                    "next": target,
                    "csrf_token": match.group(1),
                },
                headers=hx,
                follow_redirects=False,
            )
            assert resp.status_code in (303, 204), resp.text[:300]
            location = resp.headers.get("location") or resp.headers["hx-redirect"]
            assert location.isascii() and same_origin(location), location
            client.cookies.clear()
            page = client.get("/login")
            match = CSRF_FIELD.search(page.text)
            assert match


# --- 5. no parsing before the CSRF check can pass; a small body limit on forms -------


@pytest.fixture
def no_form_parsing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = Request.form

    async def counting(self: Request[Any, Any, Any]) -> Any:
        calls.append(self.url.path)
        return await original(self)

    monkeypatch.setattr(Request, "form", counting)
    return calls


def test_cookieless_form_post_is_refused_before_parsing(
    web_demo_url: str, no_form_parsing: list[str]
) -> None:
    body = b"a=&" * 100_000
    with TestClient(create_app(Settings(database_url=web_demo_url))) as client:
        for path in ("/logout", "/login", "/account/tokens"):
            client.cookies.clear()  # an error page sets a CSRF cookie
            resp = client.post(
                path,
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
            assert resp.status_code in (403, 413), (path, resp.status_code)
    assert no_form_parsing == []


def test_form_routes_have_a_small_body_limit(web_client: Any) -> None:
    client = web_client("tester")
    token = csrf_of(client)
    big = {"name": "x", "csrf_token": token, "pad": "a" * 300_000}
    resp = client.post("/account/tokens", data=big)
    assert resp.status_code == 413, resp.status_code
    # The limit is a setting, and a small form passes.
    assert Settings().max_form_bytes == 256 * 1024
    ok = client.post(
        "/account/tokens", data={"name": "small", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303  # created; post/redirect/get to the page showing it


def test_markdown_is_rendered_once_per_content(monkeypatch: pytest.MonkeyPatch) -> None:
    renders: list[int] = []
    real = page_parts._markdown.render

    def counting(text: str, *args: Any) -> str:
        renders.append(len(text))
        return str(real(text, *args))

    monkeypatch.setattr(page_parts._markdown, "render", counting)
    text = "# Charter\n\n" + "Explore the *checkout* with [links](https://example.com). " * 1800
    assert len(text) > 100_000
    first = page_parts.markdown(text)
    for _ in range(5):
        assert page_parts.markdown(text) == first
    assert len(renders) == 1
    page_parts.markdown(text + " changed")
    assert len(renders) == 2


# --- 8. a burst of wrong passwords gets no more checks than the limit ----------------


def test_sign_in_burst_checks_at_most_the_limit(live_server: str) -> None:
    """60 concurrent wrong passwords for one email against a real `charter serve`:
    each 401 is one password check, so at most EMAIL_FAILURES of them."""
    with httpx.Client(base_url=live_server, timeout=60) as client:
        page = client.get("/login")
        match = CSRF_FIELD.search(page.text)
        assert match
        data = {"email": "burst@example.com", "password": "wrong", "csrf_token": match.group(1)}
        with ThreadPoolExecutor(max_workers=60) as pool:
            codes = list(
                pool.map(lambda _: client.post("/login", data=data).status_code, range(60))
            )
    assert codes.count(401) <= EMAIL_FAILURES, codes
    assert codes.count(401) + codes.count(429) == 60, codes


def test_successful_sign_ins_do_not_use_up_the_limit(web_demo_url: str) -> None:
    with TestClient(create_app(Settings(database_url=web_demo_url))) as client:
        for _ in range(EMAIL_FAILURES + 3):
            client.cookies.clear()
            sign_in_client(client, ROLE_EMAILS["viewer"])


def _login(client: TestClient[Any], email: str, password: str) -> int:
    page = client.get("/login")
    match = CSRF_FIELD.search(page.text)
    assert match
    data = {"email": email, "password": password, "csrf_token": match.group(1)}
    return client.post("/login", data=data, follow_redirects=False).status_code


def test_sign_in_throttle_is_shared_by_every_worker(web_demo_url: str) -> None:
    """Two app instances on one database (two worker processes) share the counts."""
    email = "shared-throttle@example.com"
    settings = Settings(database_url=web_demo_url)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        codes = [_login(one, email, "wrong") for _ in range(3)]
        codes += [_login(two, email, "wrong") for _ in range(EMAIL_FAILURES - 3)]
        assert codes == [401] * EMAIL_FAILURES
        assert _login(one, email, "wrong") == 429
        assert _login(two, email, "wrong") == 429


# --- 10. odd ids and days are 4xx, never 500 -------------------------------------------


@pytest.mark.parametrize("raw", ["\u00b2", "99999999999", "2147483648", "\u0661", "-1", "1.5"])
def test_odd_ids_in_forms_are_not_500(web_client: Any, raw: str) -> None:
    client = web_client("admin")
    token = csrf_of(client)
    resp = client.post(
        "/projects/1/members",
        data={"user_id": raw, "role": "tester", "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code in (303, 400, 422), (raw, resp.status_code)
    resp = client.get(f"/projects/1/sessions/fields?template_id={raw}")
    assert resp.status_code < 500, (raw, resp.status_code)
    resp = client.post(
        "/sessions/1/notes",
        data={"status_id": raw, "note": "x", "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code < 500, (raw, resp.status_code)


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "9000-12-31x"])
def test_dashboard_days_out_of_range_are_not_500(web_client: Any, until: str) -> None:
    resp = web_client("admin").get(f"/projects/1/dashboard?until={until}")
    assert resp.status_code in (400, 422), resp.status_code


# --- 13. the CSRF token is bound to the server, not only to the cookie ----------------


def test_a_token_computed_from_the_cookie_alone_is_refused(web_client: Any) -> None:
    client = web_client("manager")
    secret = client.cookies.get("charter_session")
    assert secret
    cookie_only = hashlib.sha256(b"charter-csrf:" + secret.encode()).hexdigest()
    resp = client.post("/account/tokens", data={"name": "x", "csrf_token": cookie_only})
    assert resp.status_code == 403
    created = client.post(
        "/account/tokens",
        data={"name": "y", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert created.status_code == 303  # created; post/redirect/get to the page showing it


def test_a_planted_csrf_cookie_does_not_yield_a_token(web_demo_url: str) -> None:
    """Login CSRF by cookie tossing: an attacker who plants `charter_csrf=known` can
    not compute the token that goes with it."""
    with TestClient(create_app(Settings(database_url=web_demo_url))) as client:
        client.cookies.set("charter_csrf", "planted-by-attacker")
        forged = hashlib.sha256(b"charter-csrf:planted-by-attacker").hexdigest()
        resp = client.post(
            "/login",
            data={
                "email": ROLE_EMAILS["viewer"],
                "password": WEB_PASSWORD,
                "csrf_token": forged,
            },
            follow_redirects=False,
        )
        assert resp.status_code == 403


# --- the web's new-token page: post/redirect/get without storing the secret ----------


def test_a_new_token_secret_waits_for_its_page_never_in_clear(
    web_client: Any, web_demo_url: str
) -> None:
    """The token form redirects to /account, which shows the secret once; meanwhile the
    server keeps it only masked with the browser's one-time handle (web/one_time.py):
    no token secret is ever stored in clear (docs/security.md)."""
    client = web_client("tester")
    created = client.post(
        "/account/tokens",
        data={"name": "masked", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    db = Database(web_demo_url)
    try:
        with db.read() as conn:
            kept = b"".join(
                bytes(body)
                for (body,) in conn.execute(sa.select(tables.idempotency_keys.c.response_body))
            )
        page = client.get("/account")
        found = re.search(r'id="new-token-secret">(charter_[^<]+)<', page.text)
        assert found is not None, page.text
        secret = found.group(1).encode()
        assert kept and secret not in kept
        assert b"charter_" not in kept  # nothing shaped like a secret either
        # Shown once: a reload shows the token list, not the secret.
        assert b"new-token-secret" not in client.get("/account").content
    finally:
        db.close()
