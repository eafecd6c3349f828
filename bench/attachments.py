"""Attachments benchmark (issue 12): upload throughput against `cp`, the serving
worker's memory during concurrent uploads, and the run page of a session with image
notes against the same page without attachments. See bench/README.md.

    python bench/attachments.py                       # writes bench/ATTACHMENTS.md
    python bench/attachments.py --mb 5 --notes 50     # a quick look

One `charter serve --workers 1` over a fresh SQLite database in a temporary folder
(the file backend in the same folder, so `cp` writes to the same disk).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parent
CHARTER = Path(sys.executable).parent / "charter"
PASSWORD = "bench-password-1"
CONCURRENT = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def charter(url: str, *args: str) -> str:
    proc = subprocess.run(
        [str(CHARTER), "--database", url, *args], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise SystemExit(f"charter {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def peak_rss_mb(pid: int) -> float:
    m = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1)) / 1024 if m else 0.0


def rss_mb(pid: int) -> float:
    m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1)) / 1024 if m else 0.0


def png(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 400), (i * 37 % 256, i * 91 % 256, 120)).save(out, format="PNG")
    return out.getvalue()


def cp_seconds(src: Path, folder: Path) -> float:
    """`cp` of the file to the same disk, synced, best of three."""
    best = float("inf")
    for i in range(3):
        target = folder / f"copy-{i}"
        start = time.perf_counter()
        subprocess.run(["cp", str(src), str(target)], check=True)
        os.sync()
        best = min(best, time.perf_counter() - start)
        target.unlink()
    return best


def upload_seconds(base: str, token: str, sid: int, src: Path) -> float:
    """One upload of the file with curl (a client that costs the server nothing),
    synced like `cp`; best of three."""
    best = float("inf")
    for _ in range(3):
        cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"]
        cmd += ["-H", f"Authorization: Bearer {token}", "-F", f"file=@{src}"]
        start = time.perf_counter()
        out = subprocess.run(
            [*cmd, f"{base}/api/v1/sessions/{sid}/attachments/single"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        os.sync()
        best = min(best, time.perf_counter() - start)
        if out.stdout.strip() != "201":
            raise SystemExit(f"upload failed: {out.stdout} {out.stderr}")
    return best


def concurrent_peak(base: str, token: str, sid: int, src: Path, pid: int) -> tuple[float, float]:
    """The worker's RSS before, and its peak while CONCURRENT uploads run at once."""
    before = rss_mb(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.02)

    def one() -> None:
        upload_seconds(base, token, sid, src)

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=one) for _ in range(CONCURRENT)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.set()
    sampler.join()
    return before, peak


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    data = {"email": "bench@example.com", "password": PASSWORD, "csrf_token": csrf.group(1)}
    client.post("/login", data=data)
    if "charter_session" not in client.cookies:
        raise SystemExit("web sign-in failed")
    return client


def page_ms(client: httpx.Client, sids: tuple[int, int], rounds: int) -> tuple[float, float]:
    """The median times of two sessions' run pages, requested alternately one at a time
    (so that a busy neighbour on the machine slows both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(rounds + 3):
        for k, sid in enumerate(sids):
            start = time.perf_counter()
            r = client.get(f"/sessions/{sid}")
            if r.status_code != 200:
                raise SystemExit(f"page failed: {r.status_code}")
            if i >= 3:  # the first rounds warm up (Markdown cache, connections)
                times[k].append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def new_session(client: httpx.Client, token: str, name: str) -> int:
    r = client.post("/api/v1/projects/1/sessions", headers=auth(token), json={"name": name})
    if r.status_code != 201:
        raise SystemExit(f"session create failed: {r.status_code} {r.text[:300]}")
    return int(r.json()["result"]["id"])


def notes(client: httpx.Client, token: str, sid: int, n: int) -> list[int]:
    body = {"results": [{"note": f"Note {i}: what I saw"} for i in range(n)]}
    r = client.post(f"/api/v1/sessions/{sid}/results", headers=auth(token), json=body)
    if r.status_code != 201:
        raise SystemExit(f"results failed: {r.status_code} {r.text[:300]}")
    return [int(x["id"]) for x in r.json()["result"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=25, help="size of the uploaded file")
    parser.add_argument("--notes", type=int, default=200, help="image notes on the page")
    parser.add_argument("--rounds", type=int, default=30, help="page requests measured")
    parser.add_argument("--out", type=Path, default=HERE / "ATTACHMENTS.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="charter-bench-attachments-"))
    url = f"sqlite:///{work / 'bench.db'}"
    charter(url, "migrate")
    charter(url, "user", "create", "--name", "Bench", "--email", "bench@example.com", "--admin")
    charter(url, "user", "password", "--email", "bench@example.com", "--password", PASSWORD)
    charter(url, "project", "create", "--name", "Bench")
    token = charter(url, "token", "create", "--email", "bench@example.com").strip()
    src = work / "evidence.bin"
    src.write_bytes(os.urandom(args.mb * 1024 * 1024))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHARTER_LOG_LEVEL": "warning",
        "CHARTER_ATTACHMENTS_DIR": str(work / "attachments"),
        "CHARTER_MAX_ATTACHMENT_BYTES": str(max(args.mb, 25) * 1024 * 1024 + 1),
        "CHARTER_MAX_UPLOAD_BYTES": str(max(args.mb, 25) * 1024 * 1024 * 2),
    }
    log = (work / "serve.log").open("wb")
    cmd = [str(CHARTER), "--database", url, "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=base, timeout=600) as api:
            for _ in range(200):
                try:
                    if api.get("/api/v1/user", headers=auth(token)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            files_sid = new_session(api, token, "Uploads")
            copy = cp_seconds(src, work)
            upload = upload_seconds(base, token, files_sid, src)
            before, peak = concurrent_peak(base, token, files_sid, src, server.pid)

            plain_sid = new_session(api, token, "Plain notes")
            notes(api, token, plain_sid, args.notes)
            image_sid = new_session(api, token, "Image notes")
            for i, rid in enumerate(notes(api, token, image_sid, args.notes)):
                r = api.post(
                    f"/api/v1/sessions/{image_sid}/attachments/single",
                    headers=auth(token),
                    files={"file": (f"shot-{i}.png", png(i), "image/png")},
                    data={"result_id": str(rid)},
                )
                if r.status_code != 201:
                    raise SystemExit(f"image upload failed: {r.status_code} {r.text[:300]}")
        web = sign_in(base)
        plain_ms, image_ms = page_ms(web, (plain_sid, image_sid), args.rounds)
        web.close()
        worker_peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    mb = args.mb
    ratio = copy / upload
    rows = [
        (
            f"upload of one {mb} MB file vs `cp` (same disk, synced)",
            f"{mb / upload:.0f} MB/s vs {mb / copy:.0f} MB/s: {ratio:.0%}",
            ">= 50%",
            ratio >= 0.5,
        ),
        (
            f"{CONCURRENT} concurrent {mb} MB uploads: worker RSS",
            f"{before:.0f} MB before, {peak:.0f} MB peak (VmHWM {worker_peak:.0f} MB)",
            "< 150 MB",
            peak < 150,
        ),
        (
            f"run page, {args.notes} image notes vs {args.notes} plain notes (median)",
            f"{image_ms:.1f} ms vs {plain_ms:.1f} ms: {image_ms / plain_ms:.2f}x",
            "< 2x",
            image_ms < 2 * plain_ms,
        ),
    ]
    lines = [
        "# Attachments benchmark",
        "",
        f"`python bench/attachments.py --mb {mb} --notes {args.notes}` on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, SQLite, file backend, one worker.",
        "The run page shows the newest 50 notes (its timeline page) and the gallery.",
        "",
        "| Measure | Figure | Budget | Met |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {'yes' if d else 'NO'} |" for a, b, c, d in rows],
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(work)


if __name__ == "__main__":
    main()
