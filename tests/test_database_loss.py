"""PostgreSQL goes away under load: every backend of Charter's database is terminated
(as a PostgreSQL restart or a failover does) while 8 clients read and write through two
workers. Requests then fail fast with 503 and a Retry-After, never a 500 or a hung
connection, and Charter recovers by itself: within a few requests every worker serves
again, without a restart. Nothing acknowledged is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from charter.db.engine import Database, normalize_url
from helpers_db import backend
from helpers_live import assert_counters_exact, prepare_instance
from live import serving

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL only"),
]

CLIENTS = 8
WORKERS = 2


def _terminate_backends(url: str) -> int:
    """Terminate every other connection to this database; returns how many."""
    database = normalize_url(url).database
    engine = sa.create_engine(normalize_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).all()
    finally:
        engine.dispose()
    return len(rows)


def test_lost_connections_are_503_then_recover(fresh_database_url: str, tmp_path: Path) -> None:
    instance = prepare_instance(fresh_database_url)
    headers = instance.headers
    with serving(instance.url, instance.token, tmp_path / "serve.log", workers=WORKERS) as base:
        session = httpx.post(
            f"{base}/api/v1/projects/{instance.project_id}/sessions",
            headers=headers,
            json={"name": "Under fire"},
        ).json()["result"]["id"]
        answers: Counter[int] = Counter()
        bad: list[str] = []
        written: list[int] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    if i % 2:
                        resp = http.get(f"/api/v1/projects/{instance.project_id}/sessions")
                    else:
                        resp = http.post(
                            f"/api/v1/sessions/{session}/results",
                            json={"status_id": 2, "note": f"client {n} note {i}"},
                        )
                    with lock:
                        answers[resp.status_code] += 1
                        if resp.status_code == 201:
                            written.append(resp.json()["result"]["id"])
                        elif resp.status_code == 503:
                            body = resp.json()
                            if "Retry-After" not in resp.headers or "message" not in body:
                                bad.append(f"503 without Retry-After or message: {resp.text}")
                        elif resp.status_code != 200:
                            bad.append(f"{resp.status_code}: {resp.text[:200]}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(client, n) for n in range(CLIENTS)]
            time.sleep(1.5)
            killed = _terminate_backends(instance.url)
            time.sleep(1.5)
            stop.set()
            for f in futures:
                f.result()
        assert killed > 0, "the workers held no connection to terminate"
        assert not bad, bad[:5]

        # Recovered: after the loss every worker answers again, without a restart.
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            statuses = [http.get("/api/v1/user").status_code for _ in range(4 * WORKERS * 4)]
        assert statuses[-WORKERS * 4 :] == [200] * (WORKERS * 4), statuses
        # The pool is invalidated at the first lost connection, so only the requests
        # that were already in flight (or held a dead connection) fail.
        assert answers[503] <= CLIENTS + 2 * WORKERS * 4, answers
        assert answers[200] > 0 and answers[201] > 0, answers

    db = Database(instance.url)
    try:
        with db.read() as conn:
            stored = conn.execute(
                sa.text("SELECT count(*) FROM session_results WHERE session_id = :s"),
                {"s": session},
            ).scalar_one()
        assert stored >= len(written), "an acknowledged write was lost"
        assert_counters_exact(db)
    finally:
        db.close()
