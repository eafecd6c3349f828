"""Security headers on every response (web pages, static files, and harmlessly the
API): no inline scripts or styles, no framing, no MIME sniffing; and over HTTPS (the
request's scheme, which a trusted proxy's X-Forwarded-Proto sets: see
CHARTER_FORWARDED_ALLOW_IPS) Strict-Transport-Security, so browsers keep to HTTPS."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
_NAMES = {name for name, _ in HEADERS} | {HSTS[0]}


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = [*HEADERS, HSTS] if scope.get("scheme") == "https" else HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                kept = [(k, v) for k, v in given if k.lower() not in _NAMES]
                # A response's own policy (an attachment download's `sandbox`) is added
                # to the site's, never loosening it.
                own = [v for k, v in given if k.lower() == b"content-security-policy"]
                extra = [(b"content-security-policy", CSP.encode() + b"; " + own[0])] if own else []
                base = [h for h in headers if not (own and h[0] == b"content-security-policy")]
                message["headers"] = [*kept, *base, *extra]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
