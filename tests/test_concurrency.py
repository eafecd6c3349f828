"""Two worker processes and many threads writing results to the same session at once
lose nothing, and the stored counters still equal a recount."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from charter.db.engine import Database
from helpers_live import assert_counters_exact, prepare_instance
from live import serving

pytestmark = pytest.mark.load

THREADS = 8
REQUESTS_PER_THREAD = 15
BULK = 5


def test_two_workers_many_threads_lose_nothing(fresh_database_url: str, tmp_path: Path) -> None:
    inst = prepare_instance(fresh_database_url)
    headers, project_id = inst.headers, inst.project_id

    with serving(inst.url, inst.token, tmp_path / "serve.log", workers=2) as base:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            created = client.post(f"/api/v1/projects/{project_id}/sessions", json={"name": "Busy"})
            assert created.status_code == 201, created.text
            sid = created.json()["result"]["id"]
            assert client.post(f"/api/v1/sessions/{sid}/start").status_code == 200

        def writer(n: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
                for i in range(REQUESTS_PER_THREAD):
                    status_id = 2 + (n + i) % 5
                    if i % 3 == 0:
                        body: dict[str, object] = {"results": [{"status_id": status_id}] * BULK}
                    else:
                        body = {"status_id": status_id, "note": f"thread {n} note {i}"}
                    resp = c.post(f"/api/v1/sessions/{sid}/results", json=body)
                    statuses.append(resp.status_code)
            return statuses

        with ThreadPoolExecutor(THREADS) as pool:
            codes = [code for codes in pool.map(writer, range(THREADS)) for code in codes]
        assert codes == [201] * len(codes)

        expected = sum(
            BULK if i % 3 == 0 else 1 for _ in range(THREADS) for i in range(REQUESTS_PER_THREAD)
        )
        with httpx.Client(base_url=base, headers=headers) as client:
            session = client.get(f"/api/v1/sessions/{sid}").json()["result"]
            listed = client.get(f"/api/v1/sessions/{sid}/results", params={"per_page": 15}).json()
    assert session["total_count"] == expected
    assert listed["total"] == expected
    db = Database(inst.url)
    assert_counters_exact(db)
    db.close()
