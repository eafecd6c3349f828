"""Automation benchmark: how fast Charter takes CI results, as ratios against floors
measured in the same run (see bench/README.md).

1. Batching: the per-test rate of appends of 250 tests per request against appends of
   one test per request, on the same server and thread. Budget: >= 20x.
2. The official CLI: `testmo automation:run:submit` of 10,000 tests against Charter
   over HTTPS, against the same command aimed at a stub HTTPS server (in this script,
   never in the product) that answers every call at once. Budget: <= 2x the stub.

    python bench/automation.py                 # writes bench/AUTOMATION.md
    python bench/automation.py --tests 2000    # a quick look

Needs Node.js and the CLI installed under tests/conformance (npm ci there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHARTER = Path(sys.executable).parent / "charter"
CLI = ROOT / "tests" / "conformance" / "node_modules" / ".bin" / "testmo"
BATCH = 250
ONE_TEST_REQUESTS = 400
BATCH_REQUESTS = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def charter(url: str, *args: str) -> str:
    return subprocess.run(
        [str(CHARTER), "--database", url, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout


def serve(url: str, port: int, log: Path, tls: tuple[Path, Path] | None) -> subprocess.Popen[bytes]:
    args = [str(CHARTER), "--database", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if tls:
        args += ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])]
    env = {**os.environ, "CHARTER_LOG_LEVEL": "warning"}
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)


def wait_up(base: str, token: str, verify: ssl.SSLContext | bool) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{base}/api/v1/user", headers=_auth(token), verify=verify)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {base} did not come up")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tests(n: int, start: int = 0) -> list[dict[str, object]]:
    statuses = ["passed"] * 8 + ["failure", "skipped"]
    return [
        {
            "key": f"{start + i:064x}",
            "name": f"test_{start + i}",
            "folder": f"pkg.module{i % 13}",
            "status": statuses[i % 10],
            "elapsed": 1000 + i,
        }
        for i in range(n)
    ]


def append_rates(base: str, token: str) -> tuple[float, float]:
    """(tests/s appending one per request, tests/s appending BATCH per request)."""
    with httpx.Client(base_url=base, headers=_auth(token), timeout=60) as client:
        run = client.post("/api/v1/projects/1/automation/runs", json={"name": "b", "source": "b"})
        thread = client.post(f"/api/v1/automation/runs/{run.json()['id']}/threads").json()["id"]
        path = f"/api/v1/automation/runs/threads/{thread}/append"
        for i in range(20):  # warm up
            client.post(path, json={"tests": tests(1, 10_000_000 + i)}).raise_for_status()
        started = time.perf_counter()
        for i in range(ONE_TEST_REQUESTS):
            client.post(path, json={"tests": tests(1, i)}).raise_for_status()
        one = ONE_TEST_REQUESTS / (time.perf_counter() - started)
        bodies = [{"tests": tests(BATCH, 1_000_000 + i * BATCH)} for i in range(BATCH_REQUESTS)]
        started = time.perf_counter()
        for body in bodies:
            client.post(path, json=body).raise_for_status()
        batched = BATCH_REQUESTS * BATCH / (time.perf_counter() - started)
    return one, batched


def write_junit(path: Path, n: int) -> None:
    cases = []
    for i in range(n):
        inner = ""
        if i % 10 == 8:
            inner = f'<failure message="expected {i}">trace {i}</failure>'
        elif i % 10 == 9:
            inner = "<skipped/>"
        cases.append(
            f'<testcase classname="pkg.module{i % 13}" name="test_{i}" time="0.001">'
            f"{inner}</testcase>"
        )
    path.write_text(
        f'<testsuites><testsuite name="bench">{"".join(cases)}</testsuite></testsuites>'
    )


class Stub(BaseHTTPRequestHandler):
    """Answers the CLI's calls at once: creates give {"id": 1}, the rest 204."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path.endswith("/automation/runs") or self.path.endswith("/threads"):
            body = b'{"id": 1}'
            self.send_response(201)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def stub_server(cert: Path, key: Path) -> tuple[ThreadingHTTPServer, int]:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Stub)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def cli_submit(base: str, token: str, cert: Path, results: Path, repeats: int) -> float:
    """The best wall time of `repeats` submits of `results` (seconds)."""
    env = {**os.environ, "TESTMO_TOKEN": token, "NODE_EXTRA_CA_CERTS": str(cert)}
    best = float("inf")
    for i in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [
                str(CLI),
                "automation:run:submit",
                "--instance",
                base,
                "--project-id",
                "1",
                "--name",
                f"bench {i}",
                "--source",
                "bench-cli",
                "--results",
                str(results),
                "--no-ansi",
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=900,
        )
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=10_000, help="tests in the CLI submit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "AUTOMATION.md")
    args = parser.parse_args()
    if not CLI.exists() or shutil.which("node") is None:
        raise SystemExit(f"needs node and the CLI: (cd {CLI.parents[2]} && npm ci)")
    work = Path(tempfile.mkdtemp(prefix="charter-bench-automation-"))
    url = f"sqlite:///{work / 'bench.db'}"
    charter(url, "migrate")
    charter(url, "user", "create", "--name", "Bench", "--email", "bench@example.com", "--admin")
    charter(url, "project", "create", "--name", "Bench")
    token = charter(url, "token", "create", "--email", "bench@example.com").strip()
    charter(url, "tls", "self-signed", "--host", "127.0.0.1", "--out", str(work / "tls"))
    cert, key = work / "tls" / "cert.pem", work / "tls" / "key.pem"
    trust = ssl.create_default_context(cafile=str(cert))

    plain_port, tls_port = free_port(), free_port()
    plain = serve(url, plain_port, work / "plain.log", None)
    secure = serve(url, tls_port, work / "tls.log", (cert, key))
    stub, stub_port = stub_server(cert, key)
    try:
        plain_base, tls_base = f"http://127.0.0.1:{plain_port}", f"https://127.0.0.1:{tls_port}"
        wait_up(plain_base, token, False)
        wait_up(tls_base, token, trust)
        one, batched = append_rates(plain_base, token)
        results = work / "results.xml"
        write_junit(results, args.tests)
        floor = cli_submit(f"https://127.0.0.1:{stub_port}", token, cert, results, args.repeats)
        real = cli_submit(tls_base, token, cert, results, args.repeats)
    finally:
        stub.shutdown()
        for proc in (plain, secure):
            proc.terminate()
            proc.wait(timeout=15)
    batch_ratio, cli_ratio = batched / one, real / floor
    batch_ok = "yes" if batch_ratio >= 20 else "NO"
    cli_ok = "yes" if cli_ratio <= 2 else "NO"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = [
        "# Automation benchmark",
        "",
        f"Generated by `python bench/automation.py` on {stamp} (SQLite).",
        "",
        "| measure | value | floor | ratio | budget | ok |",
        "|---|---|---|---|---|---|",
        f"| append 250 tests/request vs 1 test/request | {batched:,.0f} tests/s | "
        f"{one:,.0f} tests/s | {batch_ratio:.1f}x | >= 20x | {batch_ok} |",
        f"| `testmo automation:run:submit` of {args.tests:,} tests over HTTPS | {real:.2f} s | "
        f"{floor:.2f} s (stub server) | {cli_ratio:.2f}x | <= 2x | {cli_ok} |",
        "",
        'The stub answers every call of the CLI at once (creates `{"id": 1}`, the rest 204)',
        "over the same TLS certificate, so the floor is the CLI's own time: Node start-up,",
        f"parsing the JUnit file, and 40 requests of 250 tests. Best of {args.repeats} runs each.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    print(json.dumps({"batch_ratio": batch_ratio, "cli_ratio": cli_ratio}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
