"""Hostile input in every parameter and body field (docs/api.md, "Hostile input").

SQL-injection strings, huge and negative integers, unicode (RTL, emoji, combining
marks, lone surrogates as escaped JSON), NUL bytes (\\u0000 in JSON, %00 in query
strings) and 1 MB strings go into every JSON body field of every write route, every
path parameter of every route and every query parameter of every read route. Each
answer is a 4xx, or a 2xx where the value is valid, and then the value reads back
literally; never a 5xx. A 4xx changes nothing. Afterwards every table is still there
and the stored counters equal a recount.

Runs on the configured database (SQLite, or PostgreSQL with CHARTER_TEST_DATABASE_URL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.catalog import service as catalog_service
from charter.core.inputs import NUL_PROBLEM
from charter.db.tables import metadata
from charter.demo import load_demo
from charter.milestones import service as milestone_service
from charter.projects import queries as project_queries
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import counters
from charter.sessions import queries as session_queries
from charter.sessions.routes import SESSION_BODY
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

pytestmark = pytest.mark.fuzz

ADMIN = "admin@example.com"
V1 = "/api/v1"

SQL_INJECTION = [
    "' OR 1=1 --",
    "'; DROP TABLE sessions; --",
    "Robert'); DROP TABLE users;--",
    '" OR ""="',
    "%' OR '%'='",
    "1; DELETE FROM projects",
    "\\'; SELECT pg_sleep(0); --",
]
UNICODE = [
    "\u202eRTL override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1f3",
    "Ze\u0301\u0308\u0327 combining \u0489",
    "\ufeffBOM and zero\u200bwidth",
    "\U0001d518\U0001d52b\U0001d526 \u6f22\u5b57 \u00df",
]
NUL_TEXT = ["\x00", "a\x00b"]
HUGE_INTS = [0, -1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63), -(10**30)]
MEGA = "x" * (1 << 20)
# Lone surrogates can only travel as escaped JSON; they are not valid text.
SURROGATES = ['"\\ud800"', '"\\udfff"', '"a\\ud83d"', '"\\ude00\\ud83d"']
LIST_FIELDS = {"tags", "issues", "aliases"}


@dataclass
class World:
    api: Api
    ids: dict[str, int]
    base_counts: dict[str, int]

    def call(
        self, method: str, path: str, body: Any = None, raw: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api.tokens[ADMIN]}"}
        kwargs: dict[str, Any] = {"headers": headers}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            kwargs["content"] = raw.encode()
        elif body is not None:
            headers["Content-Type"] = "application/json"
            # ensure_ascii: NUL travels as \u0000, as a JSON client would send it
            kwargs["content"] = json.dumps(body).encode()
        return self.api.client.request(method, path, **kwargs)


def _created(world: World, method: str, path: str, body: Any) -> int:
    response = world.call(method, path, body)
    assert response.status_code == 201, response.text
    return int(response.json()["result"]["id"])


def _row_counts(api: Api) -> dict[str, int]:
    with api.db.read() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }


@pytest.fixture(scope="module")
def world(module_database_url: str) -> Iterator[World]:
    db = migrate(module_database_url)
    load_demo(db, n_sessions=12, seed=11, progress=False)
    with db.write() as conn:
        group_id = user_service.create_group(conn, "Fuzzers", [1])
    db.close()
    for api in open_api(module_database_url):
        w = World(api, {}, {})
        ids = w.ids
        ids["project"] = _created(w, "POST", f"{V1}/projects", {"name": "Fuzz"})
        ids["config"] = _created(
            w, "POST", f"{V1}/projects/{ids['project']}/configs", {"name": "C"}
        )
        ids["milestone"] = _created(
            w, "POST", f"{V1}/projects/{ids['project']}/milestones", {"name": "M"}
        )
        ids["template"] = _created(w, "POST", f"{V1}/templates", {"name": "Fuzz template"})
        ids["field"] = _created(
            w,
            "POST",
            f"{V1}/templates/{ids['template']}/fields",
            {"name": "Area", "system_name": "fuzz_area", "type": "dropdown"},
        )
        ids["value"] = _created(w, "POST", f"{V1}/fields/{ids['field']}/values", {"name": "V"})
        ids["state"] = _created(w, "POST", f"{V1}/states", {"name": "Fuzz state"})
        ids["issue"] = _created(w, "POST", f"{V1}/issues", {"type": 1, "display_id": "FZ-1"})
        ids["user"] = _created(w, "POST", f"{V1}/users", {"name": "U", "email": "u@fuzz.test"})
        member = w.call(
            "PUT", f"{V1}/projects/{ids['project']}/members/{ids['user']}", {"role": "viewer"}
        )
        assert member.status_code == 201, member.text
        ids["session"] = _created(
            w, "POST", f"{V1}/projects/{ids['project']}/sessions", {"name": "S", "tags": ["fz"]}
        )
        ids["result"] = _created(
            w, "POST", f"{V1}/sessions/{ids['session']}/results", {"note": "r"}
        )
        upload = w.api.client.post(
            f"{V1}/sessions/{ids['session']}/attachments",
            files=[("files[]", ("f.txt", b"fuzz", "text/plain"))],
            headers={"Authorization": f"Bearer {w.api.tokens[ADMIN]}"},
        )
        assert upload.status_code == 201, upload.text
        ids["attachment"] = upload.json()["result"][0]["id"]
        ids["tag"] = next(
            t["id"] for t in w.call("GET", f"{V1}/tags").json()["result"] if t["name"] == "fz"
        )
        ids["status"] = 2
        ids["role"] = 1
        ids["group"] = group_id
        ids["token"] = _created(w, "POST", f"{V1}/tokens", {"name": "spare"})
        run = w.call(
            "POST", f"{V1}/projects/{ids['project']}/automation/runs", {"name": "R", "source": "fz"}
        )
        assert run.status_code == 201, run.text
        ids["automation_run"] = run.json()["id"]  # a bare {"id"}, as Testmo answers
        ids["automation_source"] = w.call(
            "GET", f"{V1}/automation/runs/{ids['automation_run']}"
        ).json()["result"]["source_id"]
        w.base_counts = _row_counts(api)
        yield w


# (method, path with {key} of World.ids, a valid base body, the fields to spoil)
WRITES: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    (
        "POST",
        "/projects/{project}/sessions",
        {"name": "n"},
        (*SESSION_BODY, "custom_fuzz_area"),
    ),
    ("PATCH", "/sessions/{session}", {}, SESSION_BODY),
    ("POST", "/sessions/{session}/results", {}, result_service.RESULT_FIELDS),
    ("PATCH", "/sessions/results/{result}", {}, result_service.RESULT_FIELDS),
    ("POST", "/projects", {"name": "p"}, project_service.PROJECT_FIELDS),
    ("PATCH", "/projects/{project}", {}, project_service.PROJECT_FIELDS),
    (
        "PUT",
        "/projects/{project}/members/{user}",
        {"role": "viewer"},
        project_service.MEMBER_FIELDS,
    ),
    ("POST", "/projects/{project}/configs", {"name": "c"}, project_service.CONFIG_FIELDS),
    ("PATCH", "/configs/{config}", {}, project_service.CONFIG_FIELDS),
    ("POST", "/projects/{project}/milestones", {"name": "m"}, milestone_service.MILESTONE_FIELDS),
    ("PATCH", "/milestones/{milestone}", {}, milestone_service.MILESTONE_FIELDS),
    ("POST", "/templates", {"name": "t"}, catalog_service.TEMPLATE_FIELDS),
    ("PATCH", "/templates/{template}", {}, catalog_service.TEMPLATE_FIELDS),
    (
        "POST",
        "/templates/{template}/fields",
        {"name": "f", "system_name": "f", "type": "string"},
        catalog_service.FIELD_FIELDS,
    ),
    ("PATCH", "/fields/{field}", {}, catalog_service.FIELD_FIELDS),
    ("POST", "/fields/{field}/values", {"name": "v"}, catalog_service.VALUE_FIELDS),
    ("PATCH", "/fields/values/{value}", {}, catalog_service.VALUE_FIELDS),
    ("POST", "/states", {"name": "s"}, catalog_service.STATE_FIELDS),
    ("PATCH", "/states/{state}", {}, catalog_service.STATE_FIELDS),
    ("PATCH", "/statuses/{status}", {}, catalog_service.STATUS_FIELDS),
    ("POST", "/issues", {"type": 1, "display_id": "d"}, catalog_service.ISSUE_FIELDS),
    ("PATCH", "/tags/{tag}", {}, catalog_service.TAG_FIELDS),
    ("POST", "/users", {"name": "n", "email": "e@fuzz.test"}, user_service.USER_CREATE_FIELDS),
    ("PATCH", "/users/{user}", {}, user_service.USER_UPDATE_FIELDS),
    ("POST", "/tokens", {"name": "t"}, user_service.TOKEN_CREATE_FIELDS),
]


def _path(world: World, template: str) -> str:
    return V1 + template.format(**world.ids)


def _read_back(world: World, method: str, path: str) -> httpx.Response | None:
    """The object a PATCH/PUT changes, as GET shows it (None for creates)."""
    if method == "POST":
        return None
    if "/sessions/results/" in path:  # results have no single GET: read their list
        path = _path(world, "/sessions/{session}/results")
    response = world.call("GET", path)
    assert response.status_code == 200, (path, response.text)
    return response


def _check_literal(field: str, sent: Any, response: httpx.Response) -> None:
    """A 2xx stored the value literally: the answer shows it byte for byte."""
    result = response.json().get("result")
    if not isinstance(result, dict) or field not in result:
        return
    shown = result[field]
    if isinstance(sent, str) and field not in ("color", "email"):
        assert shown == sent, (field, sent[:40], shown)
    elif (isinstance(sent, list) and sent and isinstance(sent[0], str)) or (
        isinstance(sent, int) and isinstance(shown, int)
    ):
        assert shown == sent, (field, sent, shown)


@pytest.mark.parametrize(
    ("method", "template", "base", "names"), WRITES, ids=[f"{m} {p}" for m, p, _b, _n in WRITES]
)
def test_hostile_body_fields(
    world: World, method: str, template: str, base: dict[str, Any], names: tuple[str, ...]
) -> None:
    """Every field of every write route: 4xx, or 2xx and stored literally; a 4xx
    changes nothing; NUL is 422 naming the field; 1 MB and lone surrogates are 4xx."""
    path = _path(world, template)
    before = _read_back(world, method, path)
    for name in names:
        for value in [*SQL_INJECTION, *UNICODE, *HUGE_INTS, *NUL_TEXT, MEGA]:
            sent: Any = [value] if name in LIST_FIELDS else value
            response = world.call(method, path, {**base, name: sent})
            label = (method, template, name, repr(value)[:40], response.status_code)
            assert response.status_code < 500, (label, response.text[:300])
            assert 200 <= response.status_code < 300 or 400 <= response.status_code < 500, label
            if isinstance(value, str) and "\x00" in value:
                assert response.status_code == 422, label
                errors = response.json()["errors"]
                assert errors == {f"{name}.0" if name in LIST_FIELDS else name: [NUL_PROBLEM]}
            if value is MEGA:
                assert 400 <= response.status_code < 500, label
            if response.status_code < 300:
                _check_literal(name, sent, response)
                before = _read_back(world, method, path)
            elif before is not None:
                after = _read_back(world, method, path)
                assert after is not None and after.content == before.content, label
        for raw in SURROGATES:
            body = json.dumps({**base, name: "?"}).replace('"?"', raw)
            response = world.call(method, path, raw=body)
            assert response.status_code == 400, (method, template, name, raw, response.text)


def test_nul_is_rejected_on_both_databases(world: World) -> None:
    """PostgreSQL cannot store NUL; SQLite could, but both answer 422 naming the field."""
    path = _path(world, "/projects/{project}/sessions")
    response = world.call("POST", path, {"name": "ok", "charter": "before\x00after"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"charter": [NUL_PROBLEM]}
    bulk = world.call(
        "POST",
        _path(world, "/sessions/{session}/results"),
        {"results": [{"note": "fine"}, {"note": "bad\x00"}]},
    )
    assert bulk.status_code == 422
    assert bulk.json()["errors"] == {"results.1.note": [NUL_PROBLEM]}
    listed = world.call("GET", _path(world, "/projects/{project}/sessions") + "?tags=a%00b")
    assert listed.status_code == 422
    assert listed.json()["errors"] == {"tags": [NUL_PROBLEM]}


@pytest.mark.parametrize("text", [*SQL_INJECTION, *UNICODE])
def test_valid_hostile_text_is_stored_literally(world: World, text: str) -> None:
    """A session named with SQL or emoji is stored and read back byte for byte, with
    its charter, its tag and a result note; the SQL finds nothing and drops nothing."""
    created = world.call(
        "POST",
        _path(world, "/projects/{project}/sessions"),
        {"name": text, "charter": text, "tags": [text]},
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["result"]["id"]
    shown = world.call("GET", f"{V1}/sessions/{session_id}").json()["result"]
    assert shown["name"] == text
    assert shown["tags"] == [text]
    with world.api.db.read() as conn:
        row = session_queries.session_by_id(conn, session_id)
        assert row is not None
        assert row["charter"] == text
    result = world.call("POST", f"{V1}/sessions/{session_id}/results", {"note": text})
    assert result.status_code == 201, result.text
    listed = world.call("GET", f"{V1}/sessions/{session_id}/results").json()["result"]
    assert [r["note"] for r in listed] == [text]
    # As a filter the text matches exactly its own session, never "everything".
    found = world.call(
        "GET", _path(world, "/projects/{project}/sessions") + "?tags=" + quote(text, safe="")
    )
    assert found.status_code == 200
    if "," not in text:
        matched = found.json()["result"]
        assert session_id in [s["id"] for s in matched]
        assert all(text in s["tags"] for s in matched)


# --- path and query parameters ------------------------------------------------------


def _operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    document = world.call("GET", "/api/schema/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith(V1)
    ]


PATH_VALUES = [
    *SQL_INJECTION,
    *UNICODE,
    "\x00",
    "1\x00",
    "0",
    "-1",
    str(2**31),
    str(2**63),
    str(10**30),
    "1.5",
    "1e3",
    "x" * 5000,
]


def test_hostile_path_parameters(world: World) -> None:
    """Every path parameter of every route: an id that is not one names nothing (404),
    whatever the method, and nothing changes."""
    before = _row_counts(world.api)
    count = 0
    for method, path, _operation in _operations(world):
        if "{" not in path:
            continue
        for value in PATH_VALUES:
            url = path
            for key in world.ids:
                url = url.replace(f"{{{key}_id}}", quote(value, safe=""))
            body: dict[str, Any] | None = None if method in ("GET", "DELETE") else {}
            response = world.call(method, url, body)
            count += 1
            assert response.status_code == 404, (method, path, value[:30], response.text[:200])
    assert count > 300
    assert _row_counts(world.api) == before


QUERY_HOSTILE = [
    *SQL_INJECTION,
    *UNICODE,
    "\x00",
    "a\x00b",
    str(2**63),
    str(10**30),
    "-1",
    "y" * 60_000,
]


def _query_values(name: str) -> st.SearchStrategy[str]:
    valid = {
        "page": ["1", "2", "3"],
        "per_page": ["15", "25", "50", "100"],
        "order": ["asc", "desc", "ASC"],
        "is_closed": ["0", "1", "true", "FALSE"],
        "is_completed": ["0", "1"],
        "created_after": ["2020-01-01", "2026-01-01T00:00:00Z"],
        "created_before": ["2030-01-01T00:00:00.000Z"],
        "closed_after": ["2020-01-01T00:00:00+02:00"],
        "closed_before": ["2030-01-01"],
    }.get(name, ["1", "1,2", "2,3,4"])
    return st.one_of(
        st.sampled_from(valid),
        st.sampled_from(QUERY_HOSTILE),
        st.text(max_size=20),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )


def _list_operations(world: World) -> list[tuple[str, list[str]]]:
    out = []
    for method, path, operation in _operations(world):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        if method == "GET" and names:
            url = path
            for key, value in world.ids.items():
                url = url.replace(f"{{{key}_id}}", str(value))
            assert "{" not in url, url
            out.append((url, names))
    return out


def _fuzz_query(world: World, url: str, names: list[str]) -> None:
    headers = {"Authorization": f"Bearer {world.api.tokens[ADMIN]}"}

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({}, optional={n: _query_values(n) for n in names}))
    def run(params: dict[str, str]) -> None:
        response = world.api.client.get(url, params=params, headers=headers)
        label = (url, {k: v[:30] for k, v in params.items()}, response.status_code)
        assert response.status_code in (200, 422), (label, response.text[:300])
        body = response.json()
        if response.status_code == 422:
            assert len(body["errors"]) == 1 and set(body["errors"]) <= set(params), (label, body)
        elif "per_page" in body:
            assert body["per_page"] in (15, 25, 50, 100)
            assert isinstance(body["total"], int) and body["total"] >= 0
            assert len(body["result"]) <= body["per_page"]

    run()


def test_hostile_query_strings(world: World) -> None:
    """Hypothesis over the query string of every read route (page, per_page, sort,
    order, expands, each filter): 200 with a well-formed envelope, or 422 naming one
    of the parameters sent; never a 5xx."""
    operations = _list_operations(world)
    assert len(operations) >= 20
    for url, names in operations:
        _fuzz_query(world, url, names)


def _raw_get(world: World, path: str, query: bytes) -> tuple[int, bytes]:
    """GET through the ASGI app itself: HTTP clients refuse URLs over 64 KiB, but the
    app must still answer a 1 MB query string sanely."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {world.api.tokens[ADMIN]}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def call() -> None:
        await world.api.client.app(scope, receive, send)

    world.api.client.blocking_portal.call(call)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


def test_megabyte_query_values(world: World) -> None:
    """A 1 MB value in every query parameter of every read route: 200 or 422, never 5xx."""
    count = 0
    for url, names in _list_operations(world):
        for name in names:
            status, body = _raw_get(world, url, f"{name}=".encode() + MEGA.encode())
            count += 1
            assert status in (200, 422), (url, name, status, body[:200])
            if status == 422:
                assert list(json.loads(body)["errors"]) == [name]
    assert count > 100


@pytest.mark.parametrize("text", SQL_INJECTION)
def test_sql_in_a_filter_matches_nothing(world: World, text: str) -> None:
    """A tag filter with SQL in it is a tag name like any other: no session has it."""
    response = world.call(
        "GET", _path(world, "/projects/{project}/sessions") + "?tags=" + quote(text, safe="")
    )
    assert response.status_code == 200
    # Only sessions that really carry that tag (earlier tests tagged some with it).
    assert all(text in s["tags"] for s in response.json()["result"])
    everything = world.call("GET", _path(world, "/projects/{project}/sessions")).json()
    assert response.json()["total"] < everything["total"]


def test_schema_intact_and_counters_equal_a_recount(world: World) -> None:
    """Runs last in this module: every table is still there, no table lost rows, and
    every stored counter equals a recount."""
    engine = world.api.db.engine
    tables = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    now = _row_counts(world.api)
    for name in ("users", "projects", "sessions", "session_results", "statuses", "roles"):
        assert now[name] >= world.base_counts[name], name
    with world.api.db.read() as conn:
        assert counters.verify(conn) == []
        for project_id in project_queries.all_project_ids(conn):
            project = project_queries.project_by_id(conn, project_id)
            assert project is not None
            stored = {
                k: project[k] for k in session_queries.project_session_counts(conn, project_id)
            }
            assert stored == session_queries.project_session_counts(conn, project_id)
