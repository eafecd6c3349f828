"""The automation API (Testmo's automation runs, threads, tests and sources): writes as
the testmo CLI sends them, the 409 / 422 rules, reads with filters, expands, sorts and
errors like the sessions namespace, and counters that always equal a recount."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from charter.automation import service as automation_service
from charter.db.tables import automation_runs, automation_tests, automation_threads
from charter.milestones import service as milestone_service
from charter.projects import service as project_service
from charter.users import service as user_service
from helpers_db import Api, migrate, open_api

ADMIN, TESS, VERA = "admin@example.com", "tess@example.com", "vera@example.com"
P = "/api/v1/projects/{}/automation"
R = "/api/v1/automation/runs"


@pytest.fixture(scope="module")
def world(module_database_url: str) -> dict[str, int]:
    db = migrate(module_database_url)
    ids: dict[str, int] = {}
    with db.write() as conn:
        ids["admin"] = user_service.new_user(conn, "Ada Admin", ADMIN, is_admin=True)
        ids["tess"] = user_service.new_user(conn, "Tess Tester", TESS)
        ids["vera"] = user_service.new_user(conn, "Vera Viewer", VERA)
        p = ids["project"] = project_service.new_project(conn, "P", created_by=ids["admin"])
        project_service.add_member(conn, p, TESS, "tester")
        project_service.add_member(conn, p, VERA, "viewer")
        ids["milestone"] = milestone_service.new_milestone(conn, p, "Sprint 9", ids["admin"])
        from charter.catalog import service as catalog_service

        ids["config"] = catalog_service.new_config(conn, p, "Chrome")
    db.close()
    return ids


@pytest.fixture(scope="module")
def api(world: dict[str, int], module_database_url: str) -> Iterator[Api]:
    yield from open_api(module_database_url)


def post(api: Api, path: str, body: Any = None, who: str = TESS) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.tokens[who]}"}
    if body is None:
        return api.client.post(path, headers=headers)
    return api.client.post(path, json=body, headers=headers)


def get(api: Api, path: str, who: str = TESS, **params: str) -> dict[str, Any]:
    response = api.get(path, as_user=who, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    if field is not None:
        assert field in response.json()["errors"], response.text


def new_run(api: Api, world: dict[str, int], **body: Any) -> int:
    created = post(api, P.format(world["project"]) + "/runs", {"name": "R", "source": "ci", **body})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id"}  # bare: the CLI reads `id` at the top
    run_id: int = created.json()["id"]
    return run_id


def new_thread(api: Api, run_id: int, body: Any = None) -> int:
    created = post(api, f"{R}/{run_id}/threads", body)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id"}
    thread_id: int = created.json()["id"]
    return thread_id


def batch_of(statuses: list[str], start: int = 0) -> list[dict[str, Any]]:
    return [
        {"key": f"k{start + i}", "name": f"t{start + i}", "status": s, "elapsed": 10}
        for i, s in enumerate(statuses)
    ]


def rows(api: Api, table: sa.Table) -> int:
    with api.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_run_as_the_cli_submits_it(api: Api, world: dict[str, int]) -> None:
    run_id = new_run(
        api,
        world,
        tags=["nightly", "ci"],
        milestone_id=str(world["milestone"]),  # numeric strings, as the CLI passes options
        config="Chrome",
        fields=[{"type": 1, "name": "Branch", "value": "main"}],
        links=[{"name": "Build", "url": "https://ci.example.com/9"}],
        artifacts=[{"name": "log", "url": "https://ci.example.com/9/log", "size": 10}],
    )
    thread = new_thread(api, run_id, {"elapsed_computed": 5})
    batch = batch_of(["passed", "Failure", "error", "skipped", "pass"])
    batch[1]["fields"] = [{"type": 4, "name": "Failure", "value": "trace", "meta": {"a": "b"}}]
    assert post(api, f"{R}/threads/{thread}/append", {"tests": batch}).status_code == 204
    more = {"elapsed_computed": 7, "fields": [{"type": 4, "name": "Output", "value": "x"}]}
    assert post(api, f"{R}/threads/{thread}/append", more).status_code == 204
    assert (
        post(api, f"{R}/{run_id}/append", {"links": [{"name": "B", "url": "u"}]}).status_code == 204
    )
    assert post(api, f"{R}/{run_id}/complete").status_code == 204  # an empty body is fine

    body = get(api, f"{R}/{run_id}", expands="automation_sources,configs,milestones,users")
    run = body["result"]
    assert (run["status"], run["is_completed"], run["elapsed"]) == (3, True, 12)
    assert (run["config_id"], run["milestone_id"]) == (world["config"], world["milestone"])
    assert run["tags"] == ["ci", "nightly"]
    assert [link["name"] for link in run["links"]] == ["Build", "B"]
    assert run["artifacts"][0]["size"] == 10 and run["fields"][0]["value"] == "main"
    counts = {k: run[k] for k in ("total_count", "success_count", "failure_count")}
    assert counts == {"total_count": 5, "success_count": 2, "failure_count": 2}
    assert (run["status1_count"], run["status2_count"], run["status5_count"]) == (2, 2, 1)
    [t] = run["threads"]
    assert (t["index"], t["status"], t["elapsed"], t["total_count"]) == (1, 3, 12, 5)
    assert t["fields"][0]["name"] == "Output"
    assert body["expands"]["automation_sources"][0]["name"] == "ci"
    assert body["expands"]["configs"] == [{"id": world["config"], "name": "Chrome"}]
    assert body["expands"]["milestones"] == [{"id": world["milestone"], "name": "Sprint 9"}]
    assert body["expands"]["users"] == [{"id": world["tess"], "name": "Tess Tester"}]

    listed = get(api, f"{R}/{run_id}/tests", order="asc", per_page="1000")
    assert listed["per_page"] == 1000 and listed["total"] == 5
    assert [x["status_id"] for x in listed["result"]] == [2, 3, 3, 6, 2]
    assert listed["result"][1]["fields"][0]["meta"] == {"a": "b"}


def test_409_after_complete_and_nothing_written(api: Api, world: dict[str, int]) -> None:
    run_id = new_run(api, world)
    thread = new_thread(api, run_id)
    assert post(api, f"{R}/threads/{thread}/complete", {"elapsed_observed": 3}).status_code == 204
    error(post(api, f"{R}/threads/{thread}/append", {"tests": batch_of(["passed"])}), 409)
    error(post(api, f"{R}/threads/{thread}/complete"), 409)
    other = new_thread(api, run_id)
    assert post(api, f"{R}/{run_id}/complete", {"measure_elapsed": True}).status_code == 204
    before = rows(api, automation_tests)
    error(post(api, f"{R}/threads/{other}/append", {"tests": batch_of(["passed"])}), 409)
    error(post(api, f"{R}/{run_id}/threads"), 409)
    error(post(api, f"{R}/{run_id}/append", {"links": []}), 409)
    error(post(api, f"{R}/{run_id}/complete"), 409)
    assert rows(api, automation_tests) == before
    run = get(api, f"{R}/{run_id}")["result"]
    assert run["status"] == 2 and run["elapsed"] is not None  # measured: wall time
    assert (run["thread_count"], run["thread_completed_count"]) == (2, 2)


def test_a_bad_test_in_a_full_batch_is_422_naming_it(api: Api, world: dict[str, int]) -> None:
    run_id = new_run(api, world)
    thread = new_thread(api, run_id)
    batch = batch_of(["passed"] * 250)
    batch[137]["status"] = "exploded"
    before = rows(api, automation_tests)
    error(post(api, f"{R}/threads/{thread}/append", {"tests": batch}), 422, "tests.137.status")
    batch[137]["status"] = "passed"
    batch[42]["key"] = "Not A Key"
    error(post(api, f"{R}/threads/{thread}/append", {"tests": batch}), 422, "tests.42.key")
    batch[42]["key"] = "ok42"
    error(post(api, f"{R}/threads/{thread}/append", {"tests": [*batch, batch[0]]}), 422, "tests")
    del batch[7]["name"]
    error(post(api, f"{R}/threads/{thread}/append", {"tests": batch}), 422, "tests.7.name")
    assert rows(api, automation_tests) == before
    assert get(api, f"{R}/{run_id}")["result"]["total_count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "ci"}, "name"),
        ({"name": "R"}, "source"),
        ({"name": "R", "source": "two words"}, "source"),
        ({"name": "R", "source": "ci", "config_id": 999999}, "config_id"),
        ({"name": "R", "source": "ci", "config": "Netscape"}, "config"),
        ({"name": "R", "source": "ci", "milestone": "Nope"}, "milestone"),
        ({"name": "R", "source": "ci", "milestone_id": "x1"}, "milestone_id"),
        ({"name": "R", "source": "ci", "tags": ["a b"]}, "tags"),
        ({"name": "R", "source": "ci", "fields": [{"type": 9, "name": "x"}]}, "fields.0.type"),
        ({"name": "R", "source": "ci", "links": [{"name": "x"}]}, "links.0.url"),
        ({"name": "R", "source": "ci", "color": "red"}, "color"),
    ],
)
def test_create_run_422(api: Api, world: dict[str, int], body: Any, field: str) -> None:
    error(post(api, P.format(world["project"]) + "/runs", body), 422, field)


def test_permissions_and_unknown_ids(api: Api, world: dict[str, int]) -> None:
    runs = P.format(world["project"]) + "/runs"
    error(post(api, runs, {"name": "R", "source": "ci"}, who=VERA), 403)
    run_id = new_run(api, world)
    error(post(api, f"{R}/{run_id}/threads", who=VERA), 403)
    assert get(api, f"{R}/{run_id}", who=VERA)["result"]["id"] == run_id
    error(post(api, f"{R}/999999/threads"), 404)
    error(post(api, f"{R}/threads/999999/append", {"tests": []}), 404)
    error(api.get(f"{R}/abc", as_user=TESS), 404)
    error(
        api.client.delete(f"{R}/{run_id}", headers={"Authorization": f"Bearer {api.tokens[TESS]}"}),
        403,
    )
    malformed = api.client.post(
        f"{R}/{run_id}/threads",
        content=b"{",
        headers={"Authorization": f"Bearer {api.tokens[TESS]}", "Content-Type": "application/json"},
    )
    error(malformed, 400)


def test_list_filters_sorts_and_errors(api: Api, world: dict[str, int]) -> None:
    project = world["project"]
    passing = new_run(api, world, source="lists", tags=["smoke"])
    failing = new_run(api, world, source="lists", milestone_id=world["milestone"])
    running = new_run(api, world, source="other", config_id=world["config"])
    for run_id, status in ((passing, "passed"), (failing, "failed")):
        thread = new_thread(api, run_id)
        post(api, f"{R}/threads/{thread}/append", {"tests": batch_of([status])})
        post(api, f"{R}/{run_id}/complete")
    runs = P.format(project) + "/runs"

    def ids(**params: str) -> list[int]:
        return [r["id"] for r in get(api, runs, **params)["result"]]

    assert ids(status="2")[:1] == [passing] and failing not in ids(status="2")
    assert ids(status="3")[0] == failing and ids(status="4")[0] == running
    assert ids(tags="smoke") == [passing]
    assert ids(milestone_id=str(world["milestone"]))[0] == failing
    assert ids(config_id=str(world["config"]))[0] == running
    source = get(
        api,
        runs,
        expands="automation_sources",
        source_id=str(get(api, f"{R}/{passing}")["result"]["source_id"]),
    )
    assert [r["id"] for r in source["result"]] == [failing, passing]
    assert source["expands"]["automation_sources"][0]["name"] == "lists"
    assert ids(created_by=str(world["admin"])) == []
    everything = ids(per_page="100")
    assert ids(order="asc") == everything[::-1]
    done = ids(sort="automation_runs:completed_at")
    assert done[-1] in (running, *everything[2:])  # open runs (null) sort lowest: last
    for params, field in (
        ({"per_page": "1000"}, "per_page"),
        ({"sort": "sessions:created_at"}, "sort"),
        ({"expands": "templates"}, "expands"),
        ({"status": "x"}, "status"),
        ({"created_after": "soon"}, "created_after"),
    ):
        error(api.get(runs, as_user=TESS, **params), 422, field)
    error(api.get(f"{R}/{passing}/tests", as_user=TESS, per_page="15"), 422, "per_page")

    sources = get(api, P.format(project) + "/sources", sort="automation_sources:name", order="asc")
    lists = next(s for s in sources["result"] if s["name"] == "lists")
    assert lists["run_count"] == 2 and lists["status"] == 3 and lists["test_count_average"] == 1
    one = get(api, f"/api/v1/automation/sources/{lists['id']}", expands="users")
    assert one["result"] == lists
    assert one["expands"]["users"] == [{"id": world["tess"], "name": "Tess Tester"}]
    error(api.get("/api/v1/automation/sources/999999", as_user=TESS), 404)


def test_counters_equal_a_recount_after_random_writes(api: Api, world: dict[str, int]) -> None:
    rng = random.Random(13)
    statuses = ["passed", "failed", "error", "skipped", "retest", "blocked", "untested"]
    open_threads: list[tuple[int, int]] = []
    runs: list[int] = []
    for step in range(60):
        action = rng.random()
        if action < 0.15 or not open_threads:
            run_id = new_run(api, world, source=rng.choice(["s1", "s2"]))
            runs.append(run_id)
            open_threads.append((run_id, new_thread(api, run_id)))
        elif action < 0.7:
            run_id, thread = rng.choice(open_threads)
            batch = batch_of(rng.choices(statuses, k=rng.randint(0, 40)), start=step * 100)
            assert post(api, f"{R}/threads/{thread}/append", {"tests": batch}).status_code == 204
        elif action < 0.8:
            run_id, thread = rng.choice(open_threads)
            open_threads.append((run_id, new_thread(api, run_id)))
        elif action < 0.9:
            run_id, thread = open_threads.pop(rng.randrange(len(open_threads)))
            assert post(api, f"{R}/threads/{thread}/complete").status_code == 204
        else:
            run_id = rng.choice(runs)
            if rng.random() < 0.5:
                api.client.delete(
                    f"{R}/{run_id}", headers={"Authorization": f"Bearer {api.tokens[ADMIN]}"}
                )
                runs.remove(run_id)
            else:
                post(api, f"{R}/{run_id}/complete")
            open_threads = [(r, t) for r, t in open_threads if r != run_id]
    with api.db.read() as conn:
        assert automation_service.drifted(conn) == []
        total = conn.execute(sa.select(sa.func.sum(automation_runs.c.total_count))).scalar()
        assert (
            total == conn.execute(sa.select(sa.func.count()).select_from(automation_tests)).scalar()
        )
    project = get(api, f"/api/v1/projects/{world['project']}", who=ADMIN)["result"]
    with api.db.read() as conn:
        counted = automation_service.project_counters(conn, world["project"])
    assert {k: project[k] for k in counted} == counted
    assert (
        project["automation_run_count"]
        == len(get(api, P.format(world["project"]) + "/runs", per_page="100")["result"])
        or project["automation_run_count"] > 100
    )
    # A drifted counter is found and rebuilt.
    with api.db.write() as conn:
        conn.execute(
            sa.update(automation_threads).values(total_count=automation_threads.c.total_count + 1)
        )
        assert automation_service.drifted(conn)
        assert automation_service.recount(conn) > 0
        assert automation_service.drifted(conn) == []
