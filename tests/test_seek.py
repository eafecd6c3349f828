"""Deep pages start from remembered rows (charter/sessions/seek.py): with a tiny stride, every
page must equal the page found by a plain offset walk, ties and writes included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from charter.projects import service as project_service
from charter.sessions import queries as session_queries
from charter.sessions import seek
from charter.sessions import service as session_service
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[Api]:
    db = migrate(fresh_database_url)
    base = datetime(2026, 1, 1)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
        project = project_service.new_project(conn, "Deep", created_by=admin)
        for i in range(95):
            sid = session_service.create_session(
                conn, project, admin, f"S{i}", tags=["odd"] if i % 2 else []
            )
            # Many ties: five sessions share each timestamp.
            session_queries.update_session(conn, sid, created_at=base + timedelta(minutes=i // 5))
    db.close()
    yield from open_api(fresh_database_url)


def pages(api: Api, **params: str) -> list[list[int]]:
    out: list[list[int]] = []
    page = 1
    while True:
        resp = api.get("/api/v1/projects/1/sessions", per_page="15", page=str(page), **params)
        assert resp.status_code == 200
        ids = [s["id"] for s in resp.json()["result"]]
        if not ids:
            return out
        out.append(ids)
        page += 1


@pytest.mark.parametrize(
    "params", [{}, {"order": "asc"}, {"tags": "odd"}, {"tags": "odd", "order": "asc"}]
)
def test_marks_give_the_same_pages(
    api: Api, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    plain = pages(api, **params)
    monkeypatch.setattr(seek, "STRIDE", 7)
    seek._marks.clear()
    with_marks = pages(api, **params)
    assert seek._marks, "deep pages should have left marks"
    again = pages(api, **params)  # now from remembered marks
    assert with_marks == plain and again == plain
    flat = [i for page in plain for i in page]
    assert len(flat) == len(set(flat)) == (95 if not params.get("tags") else 47)


def test_marks_follow_writes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seek, "STRIDE", 7)
    before = pages(api)
    with api.db.write() as conn:
        session_service.delete(conn, before[2][3])
        session_queries.update_session(conn, before[0][0], created_at=datetime(2020, 1, 1))
    after = pages(api)
    monkeypatch.setattr(seek, "STRIDE", 10**9)
    assert after == pages(api)
    assert before[2][3] not in [i for page in after for i in page]
    assert after[-1][-1] == before[0][0]


@pytest.mark.parametrize(
    "params",
    [
        {"closed_before": "2026-01-01T00:40:00Z"},
        {"closed_after": "2026-01-01T00:40:00Z"},
        {"closed_before": "2026-01-01T00:40:00Z", "order": "asc"},
        {"closed_after": "2026-01-01T00:10:00Z", "is_closed": "1", "order": "asc"},
    ],
)
def test_many_match_plans_give_the_same_pages(
    api: Api, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    """With FEW_MATCHES at 0 every range filter takes the 'many matches' plan (walk the
    sort index from the first match); pages must equal the other plan's."""
    from charter.sessions import totals

    with api.db.write() as conn:
        for i, sid in enumerate(range(1, 96, 2)):
            session_service.close(conn, sid, 1)
            session_queries.update_session(
                conn, sid, closed_at=datetime(2026, 1, 1) + timedelta(minutes=i)
            )
    expected = pages(api, **params)
    assert expected, "the filter should match something"
    monkeypatch.setattr(session_queries, "FEW_MATCHES", 0)
    totals._cache.clear()
    assert pages(api, **params) == expected
