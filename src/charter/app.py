"""The ASGI application. `create_app(settings)` has no import-time side effects."""

from __future__ import annotations

import logging
import secrets

from litestar import Litestar
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.exc import DBAPIError

from charter import __version__
from charter.auth import logins
from charter.db.engine import Database
from charter.http.body_timeout import body_timeout_middleware
from charter.http.drain import drain_on_413_middleware
from charter.http.errors import EXCEPTION_HANDLERS
from charter.http.etag import etag_middleware
from charter.http.request_id import request_id_middleware
from charter.http.throttle import Limits
from charter.live import service as live
from charter.ops import routes as ops
from charter.pages import web_routes
from charter.routes import ROUTES
from charter.sessions import bench_routes as bench
from charter.settings import Settings
from charter.web.errors import app_exception_handlers
from charter.web.security import security_headers_middleware

OPENAPI_PATH = "/api/schema/openapi.json"
log = logging.getLogger("charter")


def _csrf_key(db: Database) -> bytes:
    """The database's CSRF key; a throw-away one (with a warning) on a database without
    the schema yet, which can serve nothing but errors anyway."""
    try:
        with db.write() as conn:
            return logins.csrf_key(conn)
    except DBAPIError:
        log.warning("no server_keys table (run `charter migrate`): a temporary CSRF key")
        return secrets.token_bytes(32)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def startup(app: Litestar) -> None:
        app.state.db = Database(settings.database_url, settings.effective_db_threads)
        app.state.csrf_key = _csrf_key(app.state.db)
        app.state.limits = Limits.from_settings(settings)
        app.state.settings = settings
        app.state.live = live.Hub(app.state.db, settings.live_poll_ms, settings.live_max_streams)
        live.install_stop_on_signals(app.state.live)

    async def shutdown(app: Litestar) -> None:
        await app.state.live.close()
        app.state.db.close()

    openapi = OpenAPIConfig(
        title="Charter API",
        version=__version__,
        description=(
            "Testmo REST API v1 compatible endpoints (sessions, projects, user) plus "
            "Charter extensions. Authenticate with `Authorization: Bearer <token>`."
        ),
        path="/api/schema",
        render_plugins=[JsonRenderPlugin(path="/openapi.json")],
        components=Components(
            security_schemes={"bearerAuth": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearerAuth": []}],
    )
    logging.getLogger("charter").setLevel(settings.log_level.upper())
    app = Litestar(
        route_handlers=[
            *ROUTES,
            *ops.ROUTES,
            *web_routes(settings.max_form_bytes),
            *(bench.ROUTES if settings.bench_routes else []),
        ],
        exception_handlers=app_exception_handlers(EXCEPTION_HANDLERS),
        middleware=[etag_middleware],
        request_max_body_size=settings.max_body_bytes,
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=openapi,
        debug=False,
        logging_config=None,  # `charter serve` configures logging (charter/logs.py)
    )
    # Around the router, not in `middleware`: that runs only for matched routes, and
    # every response (404s too) gets a request id and an access line.
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    # A 413 is sent once the client has finished sending (every client can read it),
    # inside the body timeout, which bounds a slow sender.
    app.asgi_handler = drain_on_413_middleware(app.asgi_handler)
    # A slow body is 408 once CHARTER_BODY_TIMEOUT_SECONDS have passed (every route).
    app.asgi_handler = body_timeout_middleware(app.asgi_handler, settings.body_timeout_seconds)
    # The web UI's security headers on every response, error pages included.
    app.asgi_handler = security_headers_middleware(app.asgi_handler)
    return app
