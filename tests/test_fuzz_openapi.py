"""Schemathesis against Charter's own OpenAPI document (docs/api.md, "Hostile input").

Every operation of /api/schema/openapi.json, reads and writes, gets schema-driven
cases (valid ones and ones that break the schema) through the in-process ASGI app on
a real database with the demo data, authenticated with a real admin token. Each
answer must pass:
- not_a_server_error: never a 5xx;
- response_schema_conformance: the body matches the declared schema for its status;
- status_code_conformance: every status we send is declared for the operation;
- content_type_conformance: the Content-Type is the declared one.
Then a stateful run follows the links schemathesis infers from the document (e.g.
POST /projects/{project_id}/sessions -> GET /sessions/{session_id} -> POST
/sessions/{session_id}/results) with the same checks. Afterwards the schema is intact
and the stored counters equal a recount.

Bounded and reproducible: a fixed number of examples per operation, derandomized,
no example database, no deadline. Runs on the configured database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from charter.app import OPENAPI_PATH, create_app
from charter.auth import service as auth
from charter.core.inputs import MAX_ID
from charter.db.engine import Database
from charter.db.tables import metadata
from charter.demo import load_demo
from charter.projects import queries as project_queries
from charter.sessions import counters
from charter.sessions import queries as session_queries
from charter.settings import Settings
from helpers_db import migrate

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
ADMIN = "admin@example.com"
ID_SPREAD = 25  # path ids are folded onto 1..ID_SPREAD (see Fuzz.aim)
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
)


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the document, read without serving."""
    document = create_app(Settings(database_url="sqlite://")).openapi_schema.to_schema()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = _operations()


@dataclass
class Fuzz:
    schema: Any
    db: Database
    headers: dict[str, str]
    admin_id: int
    token_id: int
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def take_snapshot(self) -> None:
        """Remember every row, so that each stateful scenario starts from the same data."""
        with self.db.read() as conn:
            self.snapshot = {
                t.name: [dict(r) for r in conn.execute(sa.select(t)).mappings()]
                for t in metadata.sorted_tables
            }

    def restore_snapshot(self) -> None:
        """Put every table back as take_snapshot saw it (ids and sequences included).
        A scenario's outcome must not depend on what earlier scenarios created (a
        second create of the same email is a 409, not a 201): hypothesis replays
        prefixes of scenarios and refuses data generation that changes under it."""
        with self.db.write() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(sa.delete(table))
            for table in metadata.sorted_tables:
                rows = self.snapshot[table.name]
                # A row may point at a later row of its own table (a moved milestone's
                # parent): insert those links as NULL, then set them.
                own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
                if rows:
                    conn.execute(sa.insert(table), [{**r, **dict.fromkeys(own)} for r in rows])
                for r in rows:
                    if any(r[c] is not None for c in own):
                        links = {c: r[c] for c in own}
                        conn.execute(sa.update(table).where(table.c.id == r["id"]).values(links))
                if conn.dialect.name == "postgresql" and "id" in table.c and rows:
                    conn.execute(
                        sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                        {"t": table.name, "v": max(int(r["id"]) for r in rows)},
                    )

    def aim(self, case: Case[Any]) -> None:
        """Generated ids spread over 1..2**31 and nearly all name nothing: fold them
        onto the few ids the demo data has, so the cases reach the real objects."""
        params = case.path_parameters or {}
        case.path_parameters = {
            k: (v % ID_SPREAD) + 1 if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in params.items()
        }
        self.protect(case)

    def protect(self, case: Case[Any]) -> None:
        """Keep the fuzzing identity alive: it may not revoke its own token or edit
        its own user (deactivate it, drop admin); such a case aims at a missing id."""
        params = case.path_parameters or {}
        own = (case.method == "DELETE" and params.get("token_id") == self.token_id) or (
            case.method == "PATCH" and params.get("user_id") == self.admin_id
        )
        if own:
            case.path_parameters = {k: MAX_ID for k in params}


@pytest.fixture(scope="module")
def fuzz(module_database_url: str) -> Iterator[Fuzz]:
    db = migrate(module_database_url)
    load_demo(db, n_sessions=20, seed=5, progress=False)
    with db.write() as conn:
        secret = auth.create_token(conn, ADMIN, "fuzz")
        admin_id, token_id = conn.execute(
            sa.text("SELECT user_id, id FROM api_tokens ORDER BY id DESC LIMIT 1")
        ).one()
    # Schema-breaking cases drop the token on purpose; the failed-authentication
    # throttle would then answer 429 to everything that follows.
    app = create_app(Settings(database_url=module_database_url, auth_fail_limit=0))
    schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, app)
    try:
        yield Fuzz(schema, db, {"Authorization": f"Bearer {secret}"}, admin_id, token_id)
    finally:
        shutdown_lifespans()  # closes the app's database before the fixture drops it
        db.close()


def _fuzz_operation(fuzz: Fuzz, method: str, path: str, mode: GenerationMode) -> None:
    operation = fuzz.schema[path][method]

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES[mode])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case[Any]) -> None:
        fuzz.aim(case)
        case.call_and_validate(headers=fuzz.headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms(fuzz: Fuzz, method: str, path: str) -> None:
    """Valid and schema-breaking cases for one operation: no 5xx, bodies match the
    declared schemas, every status and content type is declared."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz_operation(fuzz, method, path, mode)


def test_document_covers_every_route() -> None:
    """The fuzzing above reaches every route: ~79 operations, writes included, each
    write with a JSON body declares it."""
    assert len(OPERATIONS) >= 79
    document = create_app(Settings(database_url="sqlite://")).openapi_schema.to_schema()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch") and path.startswith("/api/v1"):
                takes_body = not path.endswith(("/start", "/pause", "/resume", "/close"))
                takes_body = takes_body and not path.endswith(("/reopen", "/complete"))
                takes_body = takes_body and not path.endswith("/debrief/approve")
                # Testmo's automation completes take a body (elapsed, measure_elapsed).
                takes_body = takes_body or path.startswith("/api/v1/automation/")
                assert ("requestBody" in operation) == takes_body, (method, path)


def test_stateful_links(fuzz: Fuzz) -> None:
    """Sequences that follow the inferred links between operations (create, then
    read, change and delete what was created), with the same checks."""
    fuzz.take_snapshot()
    base = fuzz.schema.as_state_machine()
    # Links inferred from the document: create a session, then read it and add results.
    rules = [n for n in dir(base) if n.startswith("POST_api_v1_projects_project_id_sessions___201")]
    assert any(n.endswith("GET_api_v1_sessions_session_id_") for n in rules), rules
    assert any(n.endswith("POST_api_v1_sessions_session_id_results") for n in rules), rules

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            fuzz.restore_snapshot()

        def before_call(self, case: Case[Any]) -> None:
            fuzz.protect(case)

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"headers": fuzz.headers}

        def validate_response(
            self, response: Any, case: Case[Any], *args: Any, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(settings=settings(FUZZ_SETTINGS, max_examples=25, stateful_step_count=6))


def test_schema_intact_and_counters_equal_a_recount(fuzz: Fuzz) -> None:
    """After all the fuzzing (it ran before this test in the module): every table is
    there and every stored counter equals a recount."""
    assert set(metadata.tables) <= set(sa.inspect(fuzz.db.engine).get_table_names())
    with fuzz.db.read() as conn:
        assert counters.verify(conn) == []
        for project_id in project_queries.all_project_ids(conn):
            project = project_queries.project_by_id(conn, project_id)
            assert project is not None
            recount = session_queries.project_session_counts(conn, project_id)
            assert {k: project[k] for k in recount} == recount
