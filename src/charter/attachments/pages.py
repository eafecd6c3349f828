"""The web UI's twins of the attachment routes, authenticated by the session cookie
(the API never accepts it): downloads, so that an <img> or a link on a page loads
them, and uploads from the session page (pasted, dropped or picked files), which the
web router's CSRF check guards (the X-CSRF-Token header, sent by static/run.js).

An upload answers JSON for static/run.js: the attachments made and the session's
gallery re-rendered, or {"message"} with the status of the refusal (413 too large,
409 closed session, 403, 404, 422), which the page shows next to the kept note."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from charter.attachments import downloads, uploads
from charter.attachments import read as attachment_read
from charter.attachments import service as attachment_service
from charter.auth.service import User
from charter.core.errors import DomainError, NotFound
from charter.http.deps import path_id
from charter.http.errors import STATUS_OF, RequestError
from charter.web.guard import web_read, web_write
from charter.web.render import redirect, render


@get("/attachments/{attachment_id:str}/{kind:str}", name="attachment_page_download")
async def attachment_file(
    request: Request[Any, Any, Any], attachment_id: FromPath[str], kind: FromPath[str]
) -> Response[Any]:
    if kind not in ("download", "thumbnail", "preview"):
        raise NotFound("No such attachment view.")
    return await downloads.serve(request, attachment_id, kind, web_read)


def _json(status: int, body: dict[str, Any]) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _refusal(exc: Exception) -> Response[bytes]:
    if isinstance(exc, RequestError):
        status, message = exc.status_code, exc.message
        if status == 413:
            message = "Too large: the files are bigger than the server accepts at once."
        return _json(status, {"message": message})
    assert isinstance(exc, DomainError)
    status = next(code for cls, code in STATUS_OF.items() if isinstance(exc, cls))
    return _json(status, {"message": exc.message, "errors": exc.errors or {}})


@post(
    "/sessions/{session_id:str}/attachments",
    status_code=201,
    request_max_body_size=None,  # counted while streaming: CHARTER_MAX_UPLOAD_BYTES
    name="web_add_attachments",
    opt={"csrf_header": True},  # the token in X-CSRF-Token only (web/csrf.py)
)
async def add_attachments(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    async def finish(sid: int, upload: uploads.Upload) -> Response[Any]:
        settings = uploads.settings_of(request)
        folder, backend = uploads.folder_of(settings), settings.attachments_backend

        def work(conn: Any, user: User) -> dict[str, Any]:
            ids = attachment_service.add_attachments(
                conn, user, sid, upload.files, upload.fields, folder, backend
            )
            made = [attachment_read.web_view(a) for a in attachment_read.get_attachments(conn, ids)]
            gallery = attachment_read.session_gallery(conn, sid)
            mine = attachment_service.deletable(conn, user, sid, gallery)
            return {"made": made, "gallery": gallery, "deletable": mine}

        data = await web_write(request, work)
        gallery = render(
            request,
            "sessions/_gallery.html",
            gallery=data["gallery"],
            deletable=data["deletable"],
            session={"id": sid},
        )
        body = {"result": data["made"], "gallery": str(gallery.content)}
        return _json(201, body)

    try:
        return await uploads.handle(request, session_id, False, web_read, finish)
    except (DomainError, RequestError) as exc:
        return _refusal(exc)


@post(
    "/sessions/{session_id:str}/attachments/{attachment_id:str}/delete",
    status_code=200,
    name="web_delete_attachment",
)
async def delete_attachment(
    request: Request[Any, Any, Any], session_id: FromPath[str], attachment_id: FromPath[str]
) -> Response[Any]:
    """Delete one attachment (the gallery's button, confirmed first): the same rules as
    the API (own files, or any for a manager; not in a closed session)."""
    sid = path_id(session_id, "Session")
    aid = path_id(attachment_id, "Attachment")
    folder = uploads.folder_of(uploads.settings_of(request))

    def work(conn: Any, user: User) -> None:
        attachment_service.delete_attachments(conn, user, sid, [aid], folder)

    await web_write(request, work)
    return redirect(request, f"/sessions/{sid}#gallery", "Attachment deleted.")


ROUTES = [attachment_file, add_attachments, delete_attachment]
