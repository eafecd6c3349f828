"""SBTM through the API (issue 11; docs/sbtm.md): areas and their import, a session's
SBTM data, note kinds on results, the stored metrics and the reports, on both
databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.projects import service as project_service
from charter.sbtm import queries as sbtm_queries
from charter.sbtm import service as sbtm_service
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN = "admin@example.com"
MANAGER = "mona@example.com"
TESTER = "tess@example.com"
TESTER2 = "tom@example.com"
VIEWER = "vic@example.com"
OUTSIDER = "otto@example.com"


@pytest.fixture
def api(fresh_database_url: str) -> Iterator[Api]:
    db = migrate(fresh_database_url)
    with db.write() as conn:
        admin = user_service.new_user(conn, "Ada", ADMIN, is_admin=True)
        for name, email in (
            ("Mona", MANAGER),
            ("Tess", TESTER),
            ("Tom", TESTER2),
            ("Vic", VIEWER),
            ("Otto", OUTSIDER),
        ):
            user_service.new_user(conn, name, email)
        project = project_service.new_project(conn, "Shop", created_by=admin)
        other = project_service.new_project(conn, "Other", created_by=admin)
        project_service.add_member(conn, project, MANAGER, "manager")
        project_service.add_member(conn, project, TESTER, "tester")
        project_service.add_member(conn, project, TESTER2, "tester")
        project_service.add_member(conn, project, VIEWER, "viewer")
        project_service.add_member(conn, other, OUTSIDER, "manager")
    db.close()
    yield from open_api(fresh_database_url)


def call(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    as_user: str = ADMIN,
    content: bytes | None = None,
    **headers: str,
) -> httpx.Response:
    hdrs = {"Authorization": f"Bearer {api.tokens[as_user]}", **headers}
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["json"] = body
    if content is not None:
        kwargs["content"] = content
    return api.client.request(method, f"/api/v1{path}", **kwargs)


def user_id(api: Api, email: str) -> int:
    with api.db.read() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM users WHERE email = :e"), {"e": email}
            ).scalar_one()
        )


def new_session(api: Api, as_user: str = TESTER, **body: Any) -> int:
    r = call(api, "POST", "/projects/1/sessions", {"name": "S", **body}, as_user=as_user)
    assert r.status_code == 201, r.text
    return int(r.json()["result"]["id"])


def test_areas_crud_and_import(api: Api) -> None:
    r = call(api, "POST", "/projects/1/areas", {"name": "  OS |Linux "}, as_user=MANAGER)
    assert r.status_code == 201, r.text
    area = r.json()["result"]
    assert area["name"] == "OS | Linux"
    dup = call(api, "POST", "/projects/1/areas", {"name": "os|LINUX"}, as_user=MANAGER)
    assert dup.status_code == 409
    bad = call(api, "POST", "/projects/1/areas", {"name": "OS | "}, as_user=MANAGER)
    assert bad.status_code == 422 and "name" in bad.json()["errors"]
    text = b"#AREAS\n\nOS | linux\nBuild | 4.2\n  Strategy|Claims Testing  \n\n"
    r = call(
        api,
        "POST",
        "/projects/1/areas/import",
        content=text,
        as_user=MANAGER,
        **{"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    assert [a["name"] for a in r.json()["result"]["created"]] == [
        "Build | 4.2",
        "Strategy | Claims Testing",
    ]
    assert [a["name"] for a in r.json()["result"]["existing"]] == ["OS | Linux"]
    r = call(api, "POST", "/projects/1/areas/import", {"areas": ["Checkout | Payment"]})
    assert r.status_code == 200
    listed = call(api, "GET", "/projects/1/areas?order=asc", as_user=VIEWER).json()
    assert listed["total"] == 4
    assert [a["name"] for a in listed["result"]] == [
        "Build | 4.2",
        "Checkout | Payment",
        "OS | Linux",
        "Strategy | Claims Testing",
    ]
    r = call(api, "PATCH", f"/areas/{area['id']}", {"name": "OS | Debian"}, as_user=MANAGER)
    assert r.status_code == 200 and r.json()["result"]["name"] == "OS | Debian"
    sid = new_session(api)
    assert (
        call(api, "PATCH", f"/sessions/{sid}/sbtm", {"areas": ["os | debian"]}).status_code == 200
    )
    assert call(api, "DELETE", f"/areas/{area['id']}", as_user=MANAGER).status_code == 409
    build = listed["result"][0]["id"]
    assert call(api, "DELETE", f"/areas/{build}", as_user=MANAGER).status_code == 204
    # permissions: members read, managers write, outsiders see nothing
    assert call(api, "POST", "/projects/1/areas", {"name": "X"}, as_user=TESTER).status_code == 403
    assert call(api, "GET", "/projects/1/areas", as_user=OUTSIDER).status_code == 403
    assert call(api, "GET", f"/areas/{area['id']}", as_user=OUTSIDER).status_code == 403
    assert call(api, "GET", "/areas/999", as_user=OUTSIDER).status_code == 404


def test_session_sbtm_data_and_metrics(api: Api) -> None:
    tess, tom = user_id(api, TESTER), user_id(api, TESTER2)
    sid = new_session(api, assignee_id=tess)
    r = call(api, "GET", f"/sessions/{sid}/sbtm", as_user=VIEWER)
    assert r.status_code == 200
    assert r.json()["result"]["tester_ids"] == [tess]
    body = {
        "areas": ["OS | Linux", "Checkout|Payment"],
        "tester_ids": [tom, tess],
        "duration": "long * 1.5",
        "pct_test": 60,
        "pct_bug": 30,
        "pct_setup": 10,
        "pct_charter": 80,
        "pct_opportunity": 20,
        "data_files": ["users.csv", "https://example.com/x"],
        "sheet_name": "et-tt-261204-a.ses",
    }
    r = call(api, "PATCH", f"/sessions/{sid}/sbtm", body, as_user=TESTER)
    assert r.status_code == 200, r.text
    got = r.json()["result"]
    assert got["duration_class"] == "long" and got["duration_multiplier"] == 1.5
    assert got["duration"] == "long * 1.5"
    assert got["areas"] == ["Checkout | Payment", "OS | Linux"]
    m = got["metrics"]
    # units = 120/90 * 1.5 = 2; n_total = 2 * 2 testers = 4
    assert m["duration"] == 2.0 and m["n_total"] == 4.0
    assert m["n_charter"] == 3.2 and m["n_opportunity"] == 0.8
    assert m["n_test"] == 4 * 0.6 * 0.8 and m["n_bug"] == 4 * 0.3 * 0.8
    session = call(api, "GET", f"/sessions/{sid}").json()["result"]
    assert session["assignee_id"] == tom  # the first tester
    assert "tester_ids" not in session  # the Testmo shape stays as it is
    # the assignee replaces the first tester
    call(api, "PATCH", f"/sessions/{sid}", {"assignee_id": tess})
    assert call(api, "GET", f"/sessions/{sid}/sbtm").json()["result"]["tester_ids"] == [tess]
    # validation names the field
    for bad, field in (
        ({"pct_test": 50}, "pct_test"),
        ({"pct_charter": 90}, "pct_charter"),
        ({"pct_opportunity": None}, "pct_opportunity"),
        ({"duration": "medium"}, "duration"),
        ({"duration_multiplier": 0}, "duration_multiplier"),
        ({"duration_class": "huge"}, "duration_class"),
        ({"tester_ids": [user_id(api, VIEWER)]}, "tester_ids"),
        ({"areas": ["a | "]}, "areas.0"),
        ({"bogus": 1}, "bogus"),
    ):
        r = call(api, "PATCH", f"/sessions/{sid}/sbtm", bad)
        assert r.status_code == 422, (bad, r.text)
        assert field in r.json()["errors"], (bad, r.json())
    other = new_session(api)
    r = call(api, "PATCH", f"/sessions/{other}/sbtm", {"sheet_name": "et-tt-261204-a.ses"})
    assert r.status_code == 409
    # permissions
    assert call(api, "PATCH", f"/sessions/{sid}/sbtm", {}, as_user=VIEWER).status_code == 403
    assert call(api, "GET", f"/sessions/{sid}/sbtm", as_user=OUTSIDER).status_code == 403
    # closed: refused; the proposal of a class is read back
    call(api, "POST", f"/sessions/{other}/start")
    call(api, "POST", f"/sessions/{other}/close")
    r = call(
        api, "PATCH", f"/sessions/{other}/sbtm", {"pct_test": 100, "pct_bug": 0, "pct_setup": 0}
    )
    assert r.status_code == 409
    with api.db.write() as conn:
        conn.execute(
            sa.text("UPDATE sessions SET elapsed = :e WHERE id = :i"),
            {"e": 100 * 60_000_000, "i": other},
        )
    got = call(api, "GET", f"/sessions/{other}/sbtm").json()["result"]
    assert got["proposed_duration_class"] == "normal"


def test_kinds_counts_and_reports(api: Api) -> None:
    tess, tom = user_id(api, TESTER), user_id(api, TESTER2)
    kinds = call(
        api,
        "GET",
        "/projects/1/kinds",
        as_user=VIEWER,
    ).json()["result"]
    assert sorted(k["name"] for k in kinds) == ["Bug", "Idea", "Issue", "Note", "Question", "Setup"]
    by_name = {k["name"]: k for k in kinds}
    sid = new_session(api, assignee_id=tess)
    call(api, "POST", f"/sessions/{sid}/start")
    body = {"areas": ["A", "B | C"], "tester_ids": [tess, tom], "duration": "normal"}
    assert call(api, "PATCH", f"/sessions/{sid}/sbtm", body).status_code == 200
    r = call(
        api,
        "POST",
        f"/sessions/{sid}/results",
        {
            "results": [
                {"note": "n", "kind_id": by_name["Note"]["id"]},
                {"note": "b", "kind_id": by_name["Bug"]["id"]},
                {"note": "q", "kind_id": by_name["Question"]["id"]},
                {"note": "plain"},
            ]
        },
        as_user=TESTER,
    )
    assert r.status_code == 201, r.text
    results = r.json()["result"]
    assert [x["kind_id"] for x in results][:2] == [by_name["Note"]["id"], by_name["Bug"]["id"]]
    sbtm = call(api, "GET", f"/sessions/{sid}/sbtm").json()["result"]
    assert (sbtm["bug_count"], sbtm["issue_count"]) == (1, 1)
    # a note becomes a bug; the bug is deleted
    rid = results[0]["id"]
    r = call(api, "PATCH", f"/sessions/results/{rid}", {"kind_id": by_name["Bug"]["id"]})
    assert r.status_code == 200, r.text
    assert call(api, "GET", f"/sessions/{sid}/sbtm").json()["result"]["bug_count"] == 2
    assert call(api, "DELETE", f"/sessions/results/{results[1]['id']}").status_code == 204
    assert call(api, "GET", f"/sessions/{sid}/sbtm").json()["result"]["bug_count"] == 1
    bad = call(api, "POST", f"/sessions/{sid}/results", {"note": "x", "kind_id": 999})
    assert bad.status_code == 422 and "kind_id" in bad.json()["errors"]
    listed = call(
        api, "GET", f"/sessions/{sid}/results?kind_id={by_name['Bug']['id']}&expands=kinds"
    ).json()
    assert listed["total"] == 1 and len(listed["expands"]["kinds"]) == 6
    # kinds: managers rename, recolour, reorder, add; a used kind stays
    bug = by_name["Bug"]["id"]
    r = call(
        api,
        "PATCH",
        f"/kinds/{bug}",
        {"name": "Defect", "color": "#FF0000", "position": 9},
        as_user=MANAGER,
    )
    assert r.status_code == 200 and r.json()["result"]["color"] == "#ff0000"
    assert (
        call(api, "PATCH", f"/kinds/{bug}", {"category": "note"}, as_user=MANAGER).status_code
        == 422
    )
    assert call(api, "DELETE", f"/kinds/{bug}", as_user=MANAGER).status_code == 409
    r = call(
        api, "POST", "/projects/1/kinds", {"name": "Risk", "category": "issue"}, as_user=MANAGER
    )
    assert r.status_code == 201 and r.json()["result"]["position"] == 10
    assert (
        call(api, "DELETE", f"/kinds/{r.json()['result']['id']}", as_user=MANAGER).status_code
        == 204
    )
    assert (
        call(
            api, "POST", "/projects/1/kinds", {"name": "R", "category": "bug"}, as_user=TESTER
        ).status_code
        == 403
    )
    assert call(api, "GET", f"/kinds/{bug}", as_user=OUTSIDER).status_code == 403

    # reports: units 1 x 2 testers; C/O not given: all on charter
    rows = call(api, "GET", "/projects/1/sbtm/sessions", as_user=VIEWER).json()
    assert rows["total"] == 1
    row = rows["result"][0]
    assert row["n_total"] == 2.0 and row["n_charter"] == 2.0 and row["bugs"] == 1
    assert row["issues"] == 1 and row["testers"] == 2 and row["duration"] == 1.0
    areas = call(api, "GET", "/projects/1/sbtm/areas").json()["result"]
    assert {a["area"]: a["n_total"] for a in areas} == {"A": 2.0, "B | C": 2.0}
    call(api, "POST", "/projects/1/areas", {"name": "Unexplored"})
    areas = call(api, "GET", "/projects/1/sbtm/areas").json()["result"]
    assert {a["area"]: a["sessions"] for a in areas} == {"A": 1, "B | C": 1, "Unexplored": 0}
    testers = call(api, "GET", "/projects/1/sbtm/testers").json()["result"]
    assert [(t["user_id"], t["n_total"], t["bugs"]) for t in testers] == [
        (tess, 1.0, 0.5),
        (tom, 1.0, 0.5),
    ]
    days = call(api, "GET", "/projects/1/sbtm/days").json()["result"]
    assert len(days) == 1 and days[0]["n_total"] == 2.0
    assert call(api, "GET", f"/projects/1/sbtm/sessions?tester_id={tom}").json()["total"] == 1
    assert call(api, "GET", "/projects/1/sbtm/sessions?area=b").json()["total"] == 1
    assert call(api, "GET", "/projects/1/sbtm/sessions?area=c").json()["total"] == 0
    assert (
        call(api, "GET", "/projects/1/sbtm/sessions?start_after=2999-01-01T00:00:00Z").json()[
            "total"
        ]
        == 0
    )
    for what in ("sessions", "areas", "testers", "days"):
        assert call(api, "GET", f"/projects/1/sbtm/{what}", as_user=OUTSIDER).status_code == 403
    # timeboxes: managers change them, the metrics follow
    r = call(api, "PATCH", "/projects/1/timeboxes", {"normal": 60}, as_user=MANAGER)
    assert r.status_code == 200 and r.json()["result"]["normal"] == 60
    assert (
        call(api, "PATCH", "/projects/1/timeboxes", {"long": 0}, as_user=MANAGER).status_code == 422
    )
    assert (
        call(api, "PATCH", "/projects/1/timeboxes", {"long": 100}, as_user=TESTER).status_code
        == 403
    )
    assert call(api, "GET", "/projects/1/sbtm/sessions").json()["result"][0]["n_total"] == 2.0
    # deleting the session empties the rollups; recount agrees
    assert call(api, "DELETE", f"/sessions/{sid}").status_code == 204
    areas = call(api, "GET", "/projects/1/sbtm/areas").json()["result"]
    assert all(a["n_total"] == 0 and a["sessions"] == 0 for a in areas)
    assert call(api, "GET", "/projects/1/sbtm/testers").json()["total"] == 0
    with api.db.write() as conn:
        before = sbtm_queries.stored_rollups(conn, 1)
        assert sbtm_service.rebuild(conn) == 0
        assert sbtm_queries.stored_rollups(conn, 1) == before


def test_counted_report_totals_follow_area_and_tester_changes(api: Api) -> None:
    """Totals no stored count answers (an area with areas below it, two testers) follow
    every change of a session's areas or testers (a guard for any cache of them: one
    keyed by the project's session_version deadlocked under concurrent SBTM writes)."""
    tess, tom = user_id(api, TESTER), user_id(api, TESTER2)
    for name in ("Checkout | Cart", "Checkout | Payment"):
        assert call(api, "POST", "/projects/1/areas", {"name": name}).status_code == 201
    first, second = new_session(api), new_session(api)

    def totals() -> tuple[int, int]:
        area = call(api, "GET", "/projects/1/sbtm/sessions?area=Checkout").json()["total"]
        both = f"/projects/1/sbtm/sessions?tester_id={tess},{tom}"
        return area, call(api, "GET", both).json()["total"]

    assert totals() == (0, 0)
    body = {"areas": ["Checkout | Cart", "Checkout | Payment"], "tester_ids": [tess]}
    assert call(api, "PATCH", f"/sessions/{first}/sbtm", body).status_code == 200
    assert totals() == (1, 1)  # one session with both areas: counted once
    body = {"areas": ["Checkout | Payment"], "tester_ids": [tom]}
    assert call(api, "PATCH", f"/sessions/{second}/sbtm", body).status_code == 200
    assert totals() == (2, 2)
    body2: dict[str, Any] = {"areas": []}  # areas alone
    assert call(api, "PATCH", f"/sessions/{second}/sbtm", body2).status_code == 200
    assert totals() == (1, 2)
    body2 = {"tester_ids": [tom, tess]}  # testers alone: the same two, reordered
    assert call(api, "PATCH", f"/sessions/{first}/sbtm", body2).status_code == 200
    assert totals() == (1, 2)
    assert call(api, "DELETE", f"/sessions/{first}").status_code == 204
    assert totals() == (0, 1)
