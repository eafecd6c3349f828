"""The web UI's twin of the download routes: the same files, authenticated by the
session cookie, so that an <img> or a link on a page loads them (the API never accepts
the cookie)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from charter.attachments import downloads
from charter.core.errors import NotFound
from charter.web.guard import web_read


@get("/attachments/{attachment_id:str}/{kind:str}", name="attachment_page_download")
async def attachment_file(
    request: Request[Any, Any, Any], attachment_id: FromPath[str], kind: FromPath[str]
) -> Response[Any]:
    if kind not in ("download", "thumbnail", "preview"):
        raise NotFound("No such attachment view.")
    return await downloads.serve(request, attachment_id, kind, web_read)


ROUTES = [attachment_file]
