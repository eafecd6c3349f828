"""Load: two worker processes, 16 concurrent clients for DURATION seconds mixing reads
(filtered and expanded lists, single sessions, result lists) and writes (single and
bulk results, their retries with the same Idempotency-Key, result edits, pause/resume,
session edits) on the same few sessions.

No answer may be a 5xx (on SQLite: no `database is locked` may reach a client; WAL,
busy_timeout and BEGIN IMMEDIATE must absorb two processes writing at once), no
connection may fail, and afterwards every session's counters equal both a recount
and what the clients themselves wrote. Run with `-s` to see requests served per kind,
answers by status and error counts."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.catalog import queries as catalog_queries
from charter.db.engine import Database
from charter.db.tables import session_results
from charter.sessions import counters
from charter.sessions import queries as session_queries
from helpers_db import backend
from helpers_live import Instance, assert_counters_exact, prepare_instance
from live import serving

pytestmark = pytest.mark.load

# The CI's load; the environment may raise it for a heavier run by hand, e.g.
# CHARTER_LOAD_WORKERS=4 CHARTER_LOAD_CLIENTS=32 CHARTER_LOAD_WRITE_HEAVY=1
# CHARTER_DB_THREADS=4 (read by the server) .venv/bin/pytest -s tests/test_load.py
DURATION = float(os.environ.get("CHARTER_LOAD_SECONDS", 30))  # on SQLite and PostgreSQL
CLIENTS = int(os.environ.get("CHARTER_LOAD_CLIENTS", 16))
WORKERS = int(os.environ.get("CHARTER_LOAD_WORKERS", 2))
WRITE_HEAVY = os.environ.get("CHARTER_LOAD_WRITE_HEAVY") == "1"  # writes x3, reads x1
SESSIONS = 3
SEED_RESULTS = 10  # per session, before the load starts
STATUSES = (None, 1, 2, 3, 4, 5, 6)


@dataclass
class Tally:
    """What one client saw, and the results it wrote (id -> (session, status))."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    connection_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    results: dict[int, tuple[int, int | None]] = field(default_factory=dict)
    seconds: float = 0.0


class Client:
    """One simulated user: a keep-alive connection and a random mix of operations."""

    def __init__(self, base: str, inst: Instance, sessions: list[int], seed: int) -> None:
        self.http = httpx.Client(base_url=base, headers=inst.headers, timeout=60)
        self.project_id = inst.project_id
        self.sessions = sessions
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.n = 0
        self.last_add: tuple[str, dict[str, Any], str, list[int]] | None = None
        # (operation, weight): reads weigh 9 of 16, or 3 of 24 when WRITE_HEAVY.
        reads, writes = (1, 3) if WRITE_HEAVY else (3, 1)
        self.mix: list[tuple[Callable[[], None], int]] = [
            (self.list_sessions, reads),
            (self.get_session, reads),
            (self.list_results, reads),
            (self.add_result, 2 * writes),
            (self.add_bulk, writes),
            (self.retry_add, writes),
            (self.edit_result, writes),
            (self.pause_or_resume, writes),
            (self.edit_session, writes),
        ]

    def run(self, deadline: float) -> Tally:
        ops, weights = zip(*self.mix, strict=True)
        began = time.monotonic()
        with self.http:
            while time.monotonic() < deadline:
                self.rng.choices(ops, weights)[0]()
        self.tally.seconds = time.monotonic() - began
        return self.tally

    def call(
        self, kind: str, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any
    ) -> Any:
        """Send one request and count its answer; returns its JSON `result` ({} for an
        error body), or None when the request failed or the answer was not one of `ok`."""
        try:
            resp = self.http.request(method, path, **kw)
        except httpx.TransportError as exc:
            self.tally.connection_errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        self.tally.answers[(kind, resp.status_code)] += 1
        if resp.status_code not in ok:
            self.tally.unexpected.append(f"{kind} {path}: {resp.status_code} {resp.text[:300]}")
            return None
        return resp.json().get("result", {})

    def session(self) -> int:
        return self.rng.choice(self.sessions)

    # --- reads

    def list_sessions(self) -> None:
        params = self.rng.choice(
            [
                {"is_closed": "0", "expands": "users,issues,configs"},
                {"sort": "sessions:created_at", "order": "asc", "per_page": "15"},
                {"tags": "load", "expands": "states,templates,milestones"},
                {"created_after": "2000-01-01T00:00:00.000Z", "is_closed": "false"},
            ]
        )
        path = f"/api/v1/projects/{self.project_id}/sessions"
        self.call("list sessions", "GET", path, params=params)

    def get_session(self) -> None:
        expands = self.rng.choice(["", "statuses,templates", "users,issues,field_values"])
        params = {"expands": expands} if expands else {}
        self.call("get session", "GET", f"/api/v1/sessions/{self.session()}", params=params)

    def list_results(self) -> None:
        params = self.rng.choice(
            [
                {"per_page": "25"},
                {"status_id": "2,3", "expands": "statuses,users"},
                {"created_by": "1", "per_page": "100", "expands": "issues"},
            ]
        )
        path = f"/api/v1/sessions/{self.session()}/results"
        self.call("list results", "GET", path, params=params)

    # --- writes

    def _add(self, kind: str, items: list[dict[str, Any]], bulk: bool) -> None:
        sid = self.session()
        body = {"results": items} if bulk else items[0]
        key = uuid.uuid4().hex
        path = f"/api/v1/sessions/{sid}/results"
        result = self.call(kind, "POST", path, (201,), json=body, headers={"Idempotency-Key": key})
        if result is not None:
            rows = result if bulk else [result]
            self.tally.results.update({r["id"]: (sid, r["status_id"]) for r in rows})
            self.last_add = (path, body, key, [r["id"] for r in rows])

    def _item(self) -> dict[str, Any]:
        self.n += 1
        return {"status_id": self.rng.choice(STATUSES), "note": f"load note {self.n}"}

    def add_result(self) -> None:
        self._add("add result", [self._item()], bulk=False)

    def add_bulk(self) -> None:
        self._add("add bulk", [self._item() for _ in range(self.rng.randint(2, 5))], bulk=True)

    def retry_add(self) -> None:
        # A client that lost the answer sends the same request again: it gets the
        # first answer back and nothing is written twice.
        if self.last_add is None:
            return self.add_result()
        path, body, key, ids = self.last_add
        headers = {"Idempotency-Key": key}
        result = self.call("retry add", "POST", path, (201,), json=body, headers=headers)
        if result is not None:
            again = [r["id"] for r in (result if isinstance(result, list) else [result])]
            if again != ids:
                self.tally.unexpected.append(f"retry of {key} answered {again}, first {ids}")

    def edit_result(self) -> None:
        # Only results this client wrote, so the clients' tallies add up exactly.
        if not self.tally.results:
            return self.add_result()
        rid = self.rng.choice(list(self.tally.results))
        status = self.rng.choice(STATUSES)
        path = f"/api/v1/sessions/results/{rid}"
        if self.call("edit result", "PATCH", path, json={"status_id": status}) is not None:
            self.tally.results[rid] = (self.tally.results[rid][0], status)

    def pause_or_resume(self) -> None:
        # Clients race each other on the same sessions: 409 (already paused/running)
        # is a right answer, anything else is not.
        action = self.rng.choice(["pause", "resume"])
        self.call(action, "POST", f"/api/v1/sessions/{self.session()}/{action}", (200, 409))

    def edit_session(self) -> None:
        body = {"charter": f"Charter v{self.rng.randint(1, 10**6)}", "tags": ["load"]}
        self.call("edit session", "PATCH", f"/api/v1/sessions/{self.session()}", json=body)


def _setup_sessions(base: str, inst: Instance) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """Started sessions, each with SEED_RESULTS results; returns (ids, results)."""
    seeded: dict[int, tuple[int, int]] = {}
    ids: list[int] = []
    with httpx.Client(base_url=base, headers=inst.headers, timeout=60) as client:
        for n in range(SESSIONS):
            resp = client.post(
                f"/api/v1/projects/{inst.project_id}/sessions",
                json={"name": f"Shared {n}", "tags": ["load"]},
            )
            assert resp.status_code == 201, resp.text
            sid = resp.json()["result"]["id"]
            ids.append(sid)
            assert client.post(f"/api/v1/sessions/{sid}/start").status_code == 200
            items = [{"status_id": 1 + k % 6, "note": f"seed {k}"} for k in range(SEED_RESULTS)]
            resp = client.post(f"/api/v1/sessions/{sid}/results", json={"results": items})
            assert resp.status_code == 201, resp.text
            seeded.update({r["id"]: (sid, r["status_id"]) for r in resp.json()["result"]})
    return ids, seeded


def _report(tallies: list[Tally], seconds: float, client_cpu: float) -> str:
    answers: Counter[tuple[str, int]] = sum((t.answers for t in tallies), Counter())
    errors: Counter[str] = sum((t.connection_errors for t in tallies), Counter())
    served = sum(answers.values())
    by_kind: dict[str, dict[int, int]] = defaultdict(dict)
    for (kind, status), n in sorted(answers.items()):
        by_kind[kind][status] = n
    lines = [
        f"load test on {backend()}: {WORKERS} workers, {CLIENTS} clients, {seconds:.1f}s: "
        f"{served} requests served ({served / seconds:.0f}/s), "
        f"5xx: {sum(n for (_, s), n in answers.items() if s >= 500)}, "
        f"connection errors: {sum(errors.values())}, "
        f"unexpected answers: {sum(len(t.unexpected) for t in tallies)}; "
        f"the clients used {client_cpu:.1f}s of CPU",
    ]
    lines += [f"  {kind:<14} {codes}" for kind, codes in by_kind.items()]
    lines += [f"  connection error {k}: {n}" for k, n in errors.items()]
    return "\n".join(lines)


def test_two_workers_sixteen_clients(
    fresh_database_url: str, tmp_path: Path, record_property: Any
) -> None:
    inst = prepare_instance(fresh_database_url, "Load")
    log = tmp_path / "serve.log"
    with serving(inst.url, inst.token, log, workers=WORKERS) as base:
        sessions, seeded = _setup_sessions(base, inst)
        clients = [Client(base, inst, sessions, seed=n) for n in range(CLIENTS)]
        deadline = time.monotonic() + DURATION
        began, cpu = time.monotonic(), time.process_time()
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = pool.map(lambda c: c.run(deadline), clients, timeout=DURATION + 120)
            tallies = list(runs)
        seconds, cpu = time.monotonic() - began, time.process_time() - cpu
        with httpx.Client(base_url=base, headers=inst.headers, timeout=60) as client:
            shown = {
                sid: client.get(f"/api/v1/sessions/{sid}").json()["result"] for sid in sessions
            }

    report = _report(tallies, seconds, cpu)
    print(f"\n{report}")
    record_property("load_figures", report)
    unexpected = [u for t in tallies for u in t.unexpected]
    assert unexpected == [], unexpected[:10]
    assert [dict(t.connection_errors) for t in tallies if t.connection_errors] == []
    assert "database is locked" not in log.read_text()
    assert all(t.answers for t in tallies), "a client served no request"

    # Counters: stored == recount, and == what the clients' own tallies add up to.
    written: dict[int, tuple[int, int | None]] = dict(seeded)
    for t in tallies:
        written.update(t.results)
    histograms: dict[int, Counter[int | None]] = {sid: Counter() for sid in sessions}
    for sid, status in written.values():
        histograms[sid][status] += 1
    db = Database(inst.url)
    try:
        assert_counters_exact(db)
        with db.read() as conn:
            flags = catalog_queries.status_flags(conn)
            stored = session_queries.stored_counters(conn, sessions)
            n_results = conn.scalar(sa.select(sa.func.count()).select_from(session_results))
    finally:
        db.close()
    assert n_results == len(written)
    for sid in sessions:
        wanted = counters.counters_from_histogram(histograms[sid], flags)
        assert stored[sid] == wanted, sid
        assert {k: shown[sid][k] for k in wanted} == wanted, sid
