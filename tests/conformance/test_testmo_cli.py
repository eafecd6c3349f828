"""The official testmo CLI (@testmo/testmo-cli, npm) submits JUnit results to Charter
served over HTTPS with a self-signed certificate, and the official binding reads the
runs back: every count must match the JUnit files written here.

The CLI refuses an instance that is not https:// with an IP or dotted host name, so
the server runs with `charter serve --ssl-certfile/--ssl-keyfile` on 127.0.0.1 and
Node trusts the certificate through NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import httpx
import pytest

pytestmark = [pytest.mark.conformance, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
CHARTER = Path(sys.executable).parent / "charter"
CLI = HERE / "node_modules" / ".bin" / "testmo"
ADMIN = "admin@example.com"
PROJECT_ID = 1
STATUS_ID = {"passed": 2, "failure": 3, "error": 3, "skipped": 6}  # via the status aliases


# --- JUnit files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    folder: str
    name: str
    status: str  # passed, failure, error, skipped
    millis: int
    output: bool = False  # carries <system-out>
    prop: bool = False  # carries a <properties> entry

    @property
    def key(self) -> str:  # what the CLI sends: sha256 of "<classname>.<name>"
        return hashlib.sha256(f"{self.folder}.{self.name}".encode()).hexdigest()


def make_cases(start: int, n: int) -> list[Case]:
    """Statuses in a fixed pattern of 10: 6 passed, 2 failures, 1 error, 1 skipped."""
    pattern = ["passed"] * 6 + ["failure", "failure", "error", "skipped"]
    return [
        Case(
            folder=f"pkg.module{i % 7}",
            name=f"test_{i:05d}",
            status=pattern[i % 10],
            millis=1 + i % 37,
            output=i % 10 in (1, 6),
            prop=i % 10 == 2,
        )
        for i in range(start, start + n)
    ]


def _testcase(c: Case) -> str:
    inner = []
    if c.status == "failure":
        inner.append(
            f'<failure message="expected {c.name}" type="AssertionError">'
            f"Traceback for {c.name}</failure>"
        )
    elif c.status == "error":
        inner.append(f'<error message="boom in {c.name}" type="RuntimeError"/>')
    elif c.status == "skipped":
        inner.append('<skipped message="not today"/>')
    if c.prop:
        inner.append('<properties><property name="browser" value="chromium"/></properties>')
    if c.output:
        inner.append(f"<system-out>console of {c.name}\nline two</system-out>")
    return (
        f"<testcase classname={quoteattr(c.folder)} name={quoteattr(c.name)} "
        f'time="{c.millis / 1000:.3f}">' + "".join(inner) + "</testcase>"
    )


def write_junit(path: Path, cases: list[Case]) -> None:
    """Nested suites: half the cases in inner suites, the rest in the outer one."""
    half = len(cases) // 2
    inner_a, inner_b, outer = cases[: half // 2], cases[half // 2 : half], cases[half:]
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="all">'
        f'<testsuite name="{path.stem}">'
        f'<testsuite name="{path.stem}.a">{"".join(map(_testcase, inner_a))}</testsuite>'
        f'<testsuite name="{path.stem}.b">{"".join(map(_testcase, inner_b))}</testsuite>'
        f"{''.join(map(_testcase, outer))}"
        "</testsuite></testsuites>\n"
    )
    path.write_text(xml)


def expected_counts(cases: list[Case]) -> dict[str, int]:
    passed = sum(c.status == "passed" for c in cases)
    failed = sum(c.status in ("failure", "error") for c in cases)
    skipped = sum(c.status == "skipped" for c in cases)
    return {
        "total_count": len(cases),
        "untested_count": 0,
        "status1_count": passed,  # status 2, Passed
        "status2_count": failed,  # status 3, Failed (aliases failure and error)
        "status5_count": skipped,  # status 6, Skipped
        "success_count": passed,
        "failure_count": failed,
        "completed_count": len(cases),  # all three statuses are final
    }


def elapsed_of(cases: list[Case]) -> int:
    return sum(c.millis * 1000 for c in cases)


# --- the HTTPS server -----------------------------------------------------------------


@dataclass(frozen=True)
class Https:
    base_url: str
    token: str
    cert: Path
    milestone_id: int

    def env(self) -> dict[str, str]:
        return {**os.environ, "TESTMO_TOKEN": self.token, "NODE_EXTRA_CA_CERTS": str(self.cert)}

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=ssl.create_default_context(cafile=str(self.cert)),
            timeout=30,
        )


def _charter(url: str, *args: str) -> str:
    proc = subprocess.run(
        [str(CHARTER), "--database", url, *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"charter {args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def https(
    node_tooling: str, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Https]:
    if not CLI.exists():
        pytest.fail(f"the testmo CLI is not installed under {HERE}/node_modules")
    url = module_database_url
    _charter(url, "migrate")
    _charter(url, "demo", "--sessions", "10", "--seed", "1")
    token = _charter(url, "token", "create", "--email", ADMIN).strip()
    tls_dir = tmp_path_factory.mktemp("tls")
    printed = _charter(url, "tls", "self-signed", "--host", "127.0.0.1", "--out", str(tls_dir))
    assert "NODE_EXTRA_CA_CERTS=" in printed
    cert, key = tls_dir / "cert.pem", tls_dir / "key.pem"
    port = _free_port()
    base_url = f"https://127.0.0.1:{port}"
    log_path = tls_dir / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                *(str(CHARTER), "--database", url, "serve", "--host", "127.0.0.1"),
                *("--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            server = Https(base_url, token, cert, milestone_id=0)
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log_path.read_text()[-3000:]
                try:
                    with server.client() as client:
                        milestones = client.get(f"/api/v1/projects/{PROJECT_ID}/milestones")
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                    time.sleep(0.2)
            milestone_id = milestones.json()["result"][0]["id"]
            yield Https(base_url, token, cert, milestone_id)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def run_cli(server: Https, *args: str, cwd: Path) -> str:
    """Run the testmo CLI; its stdout (it fails the test on a non-zero exit)."""
    proc = subprocess.run(
        [str(CLI), *args, "--instance", server.base_url, "--no-ansi"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=server.env(),
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"testmo {args[0]} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


def binding(server: Https, node: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls through the official binding (drive.cjs), trusting the certificate."""
    payload = {"base_url": server.base_url, "token": server.token, "calls": calls}
    proc = subprocess.run(
        [node, str(HERE / "drive.cjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=HERE,
        env=server.env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    for result in results:
        assert result["ok"], result
        assert result.get("validation") is None, result["validation"]
    return results


def _untag(value: Any) -> Any:
    """The binding's parsed model as plain JSON (drive.cjs tags classes and dates)."""
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return value["$date"]
        return {k: _untag(v) for k, v in value.items() if not k.startswith("$")}
    return value


def read_run(server: Https, node: str, run_id: int) -> dict[str, Any]:
    [answer] = binding(
        server,
        node,
        [
            {
                "api": "AutomationRunsApi",
                "method": "getAutomationRun",
                "args": [run_id, {"expands": "automation_sources,users,milestones,statuses"}],
            }
        ],
    )
    data: dict[str, Any] = _untag(answer["data"])
    return data


def all_tests(server: Https, run_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with server.client() as client:
        page = 1
        while page is not None:
            body = client.get(
                f"/api/v1/automation/runs/{run_id}/tests",
                params={"per_page": "1000", "page": str(page), "order": "asc"},
            ).json()
            out += body["result"]
            page = body["next_page"]
    return out


def check_tests(tests: list[dict[str, Any]], cases: list[Case]) -> None:
    by_key = {t["key"]: t for t in tests}
    assert len(by_key) == len(tests) == len(cases)
    for c in cases:
        t = by_key[c.key]
        assert (t["name"], t["folder"], t["status_id"]) == (c.name, c.folder, STATUS_ID[c.status])
        assert t["elapsed"] == c.millis * 1000
        fields = {f["name"]: f for f in t["fields"]}
        if c.status == "failure":
            assert fields["Failure"]["type"] == 4
            assert fields["Failure"]["value"] == f"Traceback for {c.name}"
            assert fields["Failure"]["meta"]["message"] == f"expected {c.name}"
        if c.status == "error":
            assert fields["Error"]["value"] == f"boom in {c.name}"
        if c.output:
            assert fields["Output"]["type"] == 4
            assert fields["Output"]["value"] == f"console of {c.name}\nline two"
        if c.prop:
            assert fields["browser"]["type"] == 1 and fields["browser"]["value"] == "chromium"


def check_counts(item: dict[str, Any], cases: list[Case]) -> None:
    for name, want in expected_counts(cases).items():
        assert item[name] == want, (name, item[name], want)


# --- the tests ------------------------------------------------------------------------


def test_cli_version_is_the_pinned_one() -> None:
    package = json.loads((HERE / "node_modules/@testmo/testmo-cli/package.json").read_text())
    assert (
        package["version"]
        == json.loads((HERE / "package.json").read_text())["dependencies"]["@testmo/testmo-cli"]
    )


def test_submit_one_run(https: Https, node_tooling: str, tmp_path: Path) -> None:
    unit, api = make_cases(0, 600), make_cases(600, 400)
    results = tmp_path / "results"
    results.mkdir()
    write_junit(results / "unit.xml", unit)
    write_junit(results / "api.xml", api)
    run_cli(
        https,
        "automation:run:submit",
        "--project-id",
        str(PROJECT_ID),
        "--name",
        "Nightly build",
        "--source",
        "backend-unit",
        "--milestone-id",
        str(https.milestone_id),
        "--tags",
        "cli-nightly",
        "ci",
        "--results",
        "results/*.xml",
        cwd=tmp_path,
    )
    cases = unit + api
    [page] = binding(
        https,
        node_tooling,
        [
            {
                "api": "AutomationRunsApi",
                "method": "getAutomationRunPage",
                "args": [PROJECT_ID, {"tags": "cli-nightly", "expands": "automation_sources"}],
            }
        ],
    )
    runs = _untag(page["data"])["result"]
    assert len(runs) == 1
    run = read_run(https, node_tooling, runs[0]["id"])
    item = run["result"]
    check_counts(item, cases)
    assert item["status"] == 3 and item["is_completed"] is True
    assert item["name"] == "Nightly build" and item["tags"] == ["ci", "cli-nightly"]
    assert item["milestone_id"] == https.milestone_id
    assert item["elapsed"] == elapsed_of(cases)
    assert (item["thread_count"], item["thread_completed_count"]) == (1, 1)
    [thread] = item["threads"]
    check_counts(thread, cases)
    assert thread["status"] == 3 and thread["elapsed"] == elapsed_of(cases)
    assert run["expands"]["automation_sources"] == [
        {"id": item["source_id"], "name": "backend-unit"}
    ]
    check_tests(all_tests(https, item["id"]), cases)


def test_parallel_threads(https: Https, node_tooling: str, tmp_path: Path) -> None:
    first, second = make_cases(2000, 300), make_cases(3000, 250)
    for name, cases in (("first", first), ("second", second)):
        (tmp_path / name).mkdir()
        write_junit(tmp_path / name / f"{name}.xml", cases)
    out = run_cli(
        https,
        "automation:run:create",
        "--project-id",
        str(PROJECT_ID),
        "--name",
        "Parallel build",
        "--source",
        "backend-parallel",
        cwd=tmp_path,
    )
    run_id = int(out.strip().splitlines()[-1])
    # Both CI jobs at once, as parallel jobs do: their appends interleave on one run.
    jobs = [
        subprocess.Popen(
            [
                *(str(CLI), "automation:run:submit-thread", "--instance", https.base_url),
                *("--run-id", str(run_id), "--results", f"{name}/*.xml", "--no-ansi"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=https.env(),
        )
        for name in ("first", "second")
    ]
    for job in jobs:
        out, err = job.communicate(timeout=600)
        assert job.returncode == 0, f"submit-thread exited {job.returncode}:\n{out}\n{err}"
    running = read_run(https, node_tooling, run_id)["result"]
    assert running["status"] == 4 and running["is_completed"] is False
    run_cli(https, "automation:run:complete", "--run-id", str(run_id), cwd=tmp_path)

    item = read_run(https, node_tooling, run_id)["result"]
    check_counts(item, first + second)
    assert item["status"] == 3 and item["is_completed"] is True
    assert (item["thread_count"], item["thread_active_count"]) == (2, 0)
    threads = sorted(item["threads"], key=lambda t: t["index"])
    assert [t["index"] for t in threads] == [1, 2]
    # The threads ran in parallel: which file each got depends on nothing, so match
    # them by size.
    by_total = {t["total_count"]: t for t in threads}
    check_counts(by_total[300], first)
    check_counts(by_total[250], second)
    assert all(t["is_completed"] for t in threads)
    tests = all_tests(https, run_id)
    check_tests(tests, first + second)
    # The filters of the tests list.
    with https.client() as client:
        failed = client.get(
            f"/api/v1/automation/runs/{run_id}/tests", params={"status_id": "3", "per_page": "250"}
        ).json()
        assert failed["total"] == expected_counts(first + second)["failure_count"]
        one = client.get(
            f"/api/v1/automation/runs/{run_id}/tests",
            params={"thread_id": str(by_total[250]["id"]), "per_page": "100"},
        ).json()
        assert one["total"] == 250 and one["last_page"] == 3

    [sources] = binding(
        https,
        node_tooling,
        [
            {
                "api": "AutomationSourcesApi",
                "method": "getAutomationSourcePage",
                "args": [PROJECT_ID],
            }
        ],
    )
    names = {s["name"]: s for s in _untag(sources["data"])["result"]}
    parallel = names["backend-parallel"]
    assert parallel["run_count"] == 1 and parallel["test_count_average"] == 550
    assert parallel["status"] == 3


def test_cli_needs_https(https: Https, tmp_path: Path) -> None:
    plain = https.base_url.replace("https://", "http://")
    proc = subprocess.run(
        [
            *(str(CLI), "automation:run:create", "--instance", plain, "--project-id", "1"),
            *("--name", "x", "--source", "x-y", "--no-ansi"),
        ],
        capture_output=True,
        text=True,
        env=https.env(),
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "HTTPS" in proc.stdout + proc.stderr


def test_node_and_npm_exist() -> None:
    assert shutil.which("node") and shutil.which("npm")


def test_strict_models_through_the_binding(https: Https, node_tooling: str) -> None:
    """The conformance fixes, as the official binding parses them (issue 13, item 4)."""
    projects, milestones, users, roles, connections = binding(
        https,
        node_tooling,
        [
            {
                "api": "ProjectsApi",
                "method": "getProjectPage",
                "args": [{"sort": "projects:completed_at", "order": "asc"}],
            },
            {
                "api": "MilestonesApi",
                "method": "getMilestonePage",
                "args": [PROJECT_ID, {"typeId": "1", "expands": "milestone_types"}],
            },
            {"api": "UsersApi", "method": "getUserPage", "args": [{}]},
            {"api": "RolesApi", "method": "getRolePage", "args": [{}]},
            {"api": "ConnectionsApi", "method": "getConnectionsPage", "args": [{}]},
        ],
    )
    assert _untag(projects["data"])["result"]
    found = _untag(milestones["data"])
    assert found["result"] and found["expands"]["milestone_types"]
    assert all(isinstance(u["role_id"], int) for u in _untag(users["data"])["result"])
    assert all(isinstance(u["created_by"], int) for u in _untag(users["data"])["result"])
    assert all(isinstance(r["created_by"], int) for r in _untag(roles["data"])["result"])
    rows = _untag(connections["data"])["result"]
    assert rows and all(r["integration_type"] in (1, 2, 3, 4) for r in rows)
