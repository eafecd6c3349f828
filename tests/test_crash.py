"""Crash safety: `charter serve` is SIGKILLed (its whole process group) at random
moments while several clients stream result writes; after every kill the database
holds every write that was acknowledged with a 2xx, nothing that was never sent,
no half of a bulk write, counters equal to a recount and (SQLite) an intact file.
After each restart the writes the kill cut off are retried with their
Idempotency-Key: a write the crash had committed is answered from the stored
response, never applied twice.

Run with `-s` to see the figures (rounds, writes, kills); set CHARTER_CRASH_SEED to
replay a run's random choices (the seed is printed)."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from charter.db.engine import Database
from charter.db.tables import session_results
from helpers_live import Instance, KillableServer, assert_counters_exact, prepare_instance

pytestmark = pytest.mark.crash

ROUNDS = 5
WRITERS = 5
SESSIONS = 2
KILL_AFTER = (0.3, 2.0)  # seconds after the first write is sent
MAX_BULK = 4
STATUSES = (None, 1, 2, 3, 4, 5, 6)
SEED = int(os.environ.get("CHARTER_CRASH_SEED") or time.time_ns() % 2**32)


@dataclass
class Write:
    """One POST .../results request: its items carry unique notes (the marker that
    tells a result this test sent from anything else)."""

    key: str
    session_id: int
    items: list[dict[str, Any]]
    bulk: bool
    acked_ids: list[int] | None = None  # ids from the 2xx answer
    found_ids: list[int] | None = None  # ids found after a crash cut the answer off

    @property
    def body(self) -> dict[str, Any]:
        return {"results": self.items} if self.bulk else self.items[0]


@dataclass
class Round:
    writes: list[Write] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # non-2xx, errors before the kill
    first_write: threading.Event = field(default_factory=threading.Event)
    killed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(base: str, inst: Instance, sessions: list[int], rnd: Round, tag: str) -> None:
    rng = random.Random(f"{SEED}-{tag}")
    with httpx.Client(base_url=base, headers=inst.headers, timeout=10) as client:
        for i in range(100_000):
            n = 1 if rng.random() < 0.6 else rng.randint(2, MAX_BULK)
            items = [
                {"status_id": rng.choice(STATUSES), "note": f"{tag}-{i}.{j}"} for j in range(n)
            ]
            write = Write(uuid.uuid4().hex, rng.choice(sessions), items, bulk=n > 1)
            with rnd.lock:
                rnd.writes.append(write)
            rnd.first_write.set()
            try:
                resp = client.post(
                    f"/api/v1/sessions/{write.session_id}/results",
                    json=write.body,
                    headers={"Idempotency-Key": write.key},
                )
            except httpx.TransportError as exc:
                if not rnd.killed.is_set():
                    rnd.failures.append(f"{tag}: {exc!r} before the kill")
                return
            if resp.status_code != 201:
                rnd.failures.append(f"{tag}: HTTP {resp.status_code} {resp.text[:300]}")
                return
            result = resp.json()["result"]
            write.acked_ids = [r["id"] for r in (result if write.bulk else [result])]


def _stored_results(db: Database) -> dict[str, dict[str, Any]]:
    """Every stored result by note; a note stored twice fails here."""
    cols = session_results.c
    with db.read() as conn:
        rows = conn.execute(sa.select(cols.id, cols.session_id, cols.status_id, cols.note))
        out: dict[str, dict[str, Any]] = {}
        for row in rows.mappings():
            assert row["note"] not in out, f"result stored twice: {row['note']}"
            out[row["note"]] = dict(row)
    return out


def _check_sqlite_file(url: str) -> None:
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _check_after_crash(inst: Instance, writes: list[Write]) -> Counter[str]:
    """With the server down: the database as the kill left it."""
    if inst.url.startswith("sqlite"):
        _check_sqlite_file(inst.url)
    db = Database(inst.url)
    try:
        stored = _stored_results(db)
        assert_counters_exact(db)
    finally:
        db.close()
    sent = {item["note"] for w in writes for item in w.items}
    assert set(stored) <= sent, f"results nobody sent: {sorted(set(stored) - sent)[:5]}"
    figures: Counter[str] = Counter()
    for w in writes:
        found = [stored.get(item["note"]) for item in w.items]
        if w.acked_ids is not None:
            # Acknowledged: every item is there, with the id and content answered.
            for item, row, rid in zip(w.items, found, w.acked_ids, strict=True):
                assert row is not None, f"acknowledged result lost: {item['note']}"
                assert (row["id"], row["session_id"], row["status_id"]) == (
                    rid,
                    w.session_id,
                    item["status_id"],
                ), item["note"]
        elif w.found_ids is None:
            # Cut off by the kill: all or nothing.
            present = [row is not None for row in found]
            assert all(present) or not any(present), f"half a bulk write stored: {w.items}"
            if all(present):
                w.found_ids = [row["id"] for row in found if row is not None]
                figures["cut off, committed"] += 1
            else:
                figures["cut off, not committed"] += 1
    return figures


def _retry_cut_off(base: str, inst: Instance, writes: list[Write]) -> None:
    """Send the writes a kill cut off again, with the same Idempotency-Key."""
    with httpx.Client(base_url=base, headers=inst.headers, timeout=30) as client:
        for w in writes:
            if w.acked_ids is not None:
                continue
            resp = client.post(
                f"/api/v1/sessions/{w.session_id}/results",
                json=w.body,
                headers={"Idempotency-Key": w.key},
            )
            assert resp.status_code == 201, resp.text
            result = resp.json()["result"]
            w.acked_ids = [r["id"] for r in (result if w.bulk else [result])]
            if w.found_ids is not None:
                assert w.acked_ids == w.found_ids, "a committed write was applied again"


def _create_sessions(base: str, inst: Instance) -> list[int]:
    ids = []
    with httpx.Client(base_url=base, headers=inst.headers, timeout=30) as client:
        for n in range(SESSIONS):
            resp = client.post(
                f"/api/v1/projects/{inst.project_id}/sessions", json={"name": f"Crash {n}"}
            )
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["result"]["id"])
            assert client.post(f"/api/v1/sessions/{ids[-1]}/start").status_code == 200
    return ids


def test_sigkill_loses_no_acknowledged_write(
    fresh_database_url: str, tmp_path: Path, record_property: Any
) -> None:
    inst = prepare_instance(fresh_database_url, "Crash")
    server = KillableServer(inst, tmp_path / "serve.log")
    rng = random.Random(SEED)
    run = uuid.uuid4().hex[:8]
    writes: list[Write] = []
    figures: Counter[str] = Counter()
    began = time.monotonic()
    try:
        base = server.start()
        sessions = _create_sessions(base, inst)
        for n in range(ROUNDS):
            if n:
                # Alternate one and two workers: with two, uvicorn's children must die too.
                base = server.start(workers=1 + n % 2)
                figures["rounds with 2 workers"] += n % 2
                _retry_cut_off(base, inst, writes)
            rnd = Round()
            threads = [
                threading.Thread(
                    target=_writer, args=(base, inst, sessions, rnd, f"crash-{run}-r{n}-t{t}")
                )
                for t in range(WRITERS)
            ]
            for thread in threads:
                thread.start()
            assert rnd.first_write.wait(30), "no writer started"
            time.sleep(rng.uniform(*KILL_AFTER))
            rnd.killed.set()
            server.kill()
            figures["kills"] += 1
            for thread in threads:
                thread.join(30)
                assert not thread.is_alive(), "a writer hangs after the kill"
            assert rnd.failures == [], rnd.failures
            writes += rnd.writes
            figures["requests sent"] += len(rnd.writes)
            figures["requests acknowledged"] += sum(w.acked_ids is not None for w in rnd.writes)
            figures["results acknowledged"] += sum(
                len(w.items) for w in rnd.writes if w.acked_ids is not None
            )
            figures.update(_check_after_crash(inst, writes))

        # After the last kill: retry what was cut off; now every write sent is stored
        # exactly once, with the id its answer gave.
        base = server.start()
        _retry_cut_off(base, inst, writes)
        with httpx.Client(base_url=base, headers=inst.headers, timeout=30) as client:
            api_total = sum(
                client.get(f"/api/v1/sessions/{sid}").json()["result"]["total_count"]
                for sid in sessions
            )
        server.stop()
        db = Database(inst.url)
        try:
            stored = _stored_results(db)
            assert_counters_exact(db)
        finally:
            db.close()
        expected = {
            item["note"]: (rid, w.session_id, item["status_id"])
            for w in writes
            for item, rid in zip(w.items, w.acked_ids or [], strict=True)
        }
        assert {k: (r["id"], r["session_id"], r["status_id"]) for k, r in stored.items()} == (
            expected
        )
        assert api_total == len(expected)
    finally:
        server.stop()

    figures["results stored"] = len(expected)
    summary = ", ".join(f"{k}: {v}" for k, v in figures.items())
    line = (
        f"crash test on {make_url(inst.url).get_backend_name()} (seed {SEED}): "
        f"{ROUNDS} rounds in {time.monotonic() - began:.1f}s; {summary}"
    )
    print(f"\n{line}")
    record_property("crash_figures", line)
