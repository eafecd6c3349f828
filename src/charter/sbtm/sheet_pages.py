"""The printable session sheet (issue 11): `/sessions/{id}/sheet`, the report a lead
reads (charter, areas, testers, start, the task breakdown as a bar, notes grouped as
test notes / bugs / issues, data files, metrics), and `/sessions/{id}/sheet.ses`, the
same sheet as the text file (cookie-authenticated twin of the API's GET .../sheet)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from charter.attachments import read as attachment_read
from charter.auth.service import User
from charter.http.deps import path_id
from charter.projects import read as project_read
from charter.sbtm import read as sbtm_read
from charter.sbtm import sheet_read
from charter.sbtm.sheet_format import format_duration, format_start
from charter.sessions.page_parts import markdown, warm_markdown
from charter.web.guard import web_read
from charter.web.render import render


def _bar(parts: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """Segments of a 100-wide bar: (key, label, percent) -> x, width, label."""
    out, x = [], 0
    for key, label, pct in parts:
        out.append({"key": key, "label": label, "pct": pct, "x": x, "width": pct})
        x += pct
    return out


def _is_link(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _view(conn: Connection, user: User, sid: int) -> dict[str, Any]:
    view = sheet_read.sheet_page_view(conn, user, sid)
    sheet = view["sheet"]
    project = project_read.project_by_id(conn, view["project_id"])
    metrics = sbtm_read.session_metrics(conn, sid)
    view.update(
        project={"id": view["project_id"], "name": project["name"] if project else ""},
        start=format_start(sheet.start),
        start_iso=sheet.start.isoformat(timespec="minutes"),
        duration=format_duration(sheet.duration_class, sheet.duration_multiplier),
        breakdown=_bar(
            [
                ("test", "Test design and execution", sheet.pct_test),
                ("bug", "Bug investigation and reporting", sheet.pct_bug),
                ("setup", "Session setup", sheet.pct_setup),
            ]
        ),
        split=_bar(
            [
                ("charter", "On charter", sheet.pct_charter),
                ("opportunity", "Opportunity", sheet.pct_opportunity),
            ]
        ),
        data_files=[{"text": f, "link": _is_link(f)} for f in sheet.data_files],
        metrics=metrics,
        gallery=attachment_read.session_gallery(conn, sid),  # the evidence, read only
    )
    return view


@get("/sessions/{session_id:str}/sheet", name="web_session_sheet")
async def sheet_page(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[str]:
    sid = path_id(session_id, "Session")
    view = await web_read(request, lambda conn, user: _view(conn, user, sid))
    await warm_markdown(view["sheet"].charter)
    view["charter_html"] = markdown(view["sheet"].charter)
    return render(
        request, "sbtm/sheet.html", title=f"Session sheet: {view['session_name']}", **view
    )


@get("/sessions/{session_id:str}/sheet.ses", name="web_session_sheet_file")
async def sheet_file(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[bytes]:
    sid = path_id(session_id, "Session")
    name, text = await web_read(
        request, lambda conn, user: sheet_read.sheet_file_for(conn, user, sid)
    )
    return Response(
        content=text.encode("utf-8"),
        media_type="text/plain",  # Litestar adds charset=utf-8
        headers={"Content-Disposition": f'attachment; filename="{sheet_read.header_name(name)}"'},
    )


ROUTES = [sheet_page, sheet_file]
