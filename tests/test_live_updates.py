"""Live updates (server-sent events) against a real `charter serve`: a note written
through the API reaches the open streams of its session and project, on SQLite (the
poller) and PostgreSQL (LISTEN/NOTIFY), across two workers; outsiders and signed-out
visitors are refused; a closed client leaves no stream behind; SIGTERM ends the open
streams so the server stops promptly and exits 0."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from charter.app import create_app
from charter.auth import logins
from charter.db.engine import Database
from charter.settings import Settings
from charter.users import service as user_service
from helpers_live import Instance, prepare_instance
from live import CHARTER, _wait_until_up, free_port, serving

pytestmark = pytest.mark.load

PASSWORD = "correct horse battery staple"
OUTSIDER = "olive@example.com"
DEADLINE_S = 30.0
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Event:
    event: str
    data: dict[str, Any]


def setup_instance(url: str) -> Instance:
    instance = prepare_instance(url)
    db = Database(url)
    with db.write() as conn:
        user_service.new_user(conn, "Olive Outsider", OUTSIDER)
        logins.set_password(conn, "ada@example.com", PASSWORD)
        logins.set_password(conn, OUTSIDER, PASSWORD)
    db.close()
    return instance


def signed_in(base: str, email: str = "ada@example.com") -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=DEADLINE_S)
    page = client.get("/login")
    match = CSRF_FIELD.search(page.text)
    assert match, page.text[:500]
    resp = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": match[1]}
    )
    assert resp.status_code in (200, 303), resp.text[:500]
    assert client.cookies.get("charter_session")
    return client


class Reader:
    """The events of one open stream, read by a thread (httpx streams block)."""

    def __init__(self, client: httpx.Client, path: str, own_client: bool = False) -> None:
        self.client = client if own_client else None
        self.events: list[Event] = []
        self.comments = 0
        self.status = 0
        self.headers: httpx.Headers | None = None
        self.ended = threading.Event()
        self._cond = threading.Condition()
        self._ctx = client.stream("GET", path, timeout=httpx.Timeout(DEADLINE_S, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._ctx as resp:
                self.status, self.headers = resp.status_code, resp.headers
                name, data = "message", ""
                for line in resp.iter_lines():
                    with self._cond:
                        if line.startswith(":"):
                            self.comments += 1
                        elif line.startswith("event:"):
                            name = line[6:].strip()
                        elif line.startswith("data:"):
                            data += line[5:].strip()
                        elif not line and data:
                            self.events.append(Event(name, json.loads(data)))
                            name, data = "message", ""
                        self._cond.notify_all()
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()
            with self._cond:
                self._cond.notify_all()

    def wait_for(self, predicate: Any, what: str) -> Event:
        deadline = time.monotonic() + DEADLINE_S
        with self._cond:
            while True:
                for event in self.events:
                    if predicate(event):
                        self.events.remove(event)
                        return event
                left = deadline - time.monotonic()
                assert left > 0 and not self.ended.is_set(), f"no {what}: {self.events}"
                self._cond.wait(min(left, 0.5))

    def ready(self) -> int:
        return int(self.wait_for(lambda e: e.event == "ready", "ready event").data["worker"])

    def change_of(self, session_id: int) -> Event:
        return self.wait_for(
            lambda e: e.event == "change" and e.data["session_id"] == session_id,
            f"change of session {session_id}",
        )

    def close(self) -> None:
        self._ctx.__exit__(None, None, None)
        self._thread.join(DEADLINE_S)
        if self.client is not None:
            self.client.close()


def new_session(api: httpx.Client, instance: Instance, name: str) -> int:
    resp = api.post(f"/api/v1/projects/{instance.project_id}/sessions", json={"name": name})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["result"]["id"])


def add_note(api: httpx.Client, session_id: int, text: str) -> None:
    resp = api.post(f"/api/v1/sessions/{session_id}/results", json={"results": [{"note": text}]})
    assert resp.status_code == 201, resp.text


@contextmanager
def in_process_server(url: str, **settings: Any) -> Iterator[tuple[str, Any]]:
    """The app under uvicorn in a thread: (base URL, the app) so that a test can
    look at its live hub."""
    app = create_app(Settings(database_url=url, **settings))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(DEADLINE_S)


def test_notes_and_changes_reach_the_open_streams(fresh_database_url: str) -> None:
    instance = setup_instance(fresh_database_url)
    with (
        in_process_server(fresh_database_url, live_poll_ms=100) as (base, app),
        httpx.Client(base_url=base, headers=instance.headers, timeout=DEADLINE_S) as api,
        closing(signed_in(base)) as web,
    ):
        first, second = new_session(api, instance, "First"), new_session(api, instance, "Second")
        session = Reader(web, f"/sessions/{first}/events")
        project = Reader(web, f"/projects/{instance.project_id}/events")
        try:
            session.ready()
            project.ready()
            assert session.status == 200 and session.headers is not None
            assert session.headers["content-type"].startswith("text/event-stream")
            assert session.headers["x-accel-buffering"] == "no"
            assert "etag" not in session.headers
            add_note(api, second, "elsewhere")  # the project hears it, the session not
            add_note(api, first, "here")
            assert project.change_of(second).data["kind"] == "notes"
            assert project.change_of(first).data["kind"] == "notes"
            assert session.change_of(first).data["kind"] == "notes"
            assert not [e for e in session.events if e.data.get("session_id") == second]
            resp = api.post(f"/api/v1/sessions/{first}/start")
            assert resp.status_code in (200, 201, 204), resp.text
            assert session.change_of(first).data["kind"] == "session"
            assert app.state.live.open_streams == 2
            assert listening(fresh_database_url) == (0 if app.state.db.is_sqlite else 1)
        finally:
            session.close()
            project.close()
        # Closed clients leave nothing behind: no stream, no poller, no LISTEN.
        deadline = time.monotonic() + DEADLINE_S
        while (
            app.state.live.open_streams
            or app.state.live._task is not None
            or listening(fresh_database_url)
        ):
            assert time.monotonic() < deadline, "a closed stream stayed subscribed"
            time.sleep(0.05)


def listening(url: str) -> int:
    """PostgreSQL backends of this database that LISTEN (0 on SQLite)."""
    if not url.startswith("postgresql"):
        return 0
    db = Database(url)
    try:
        with db.read() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query LIKE 'LISTEN %%'"
                ).scalar_one()
            )
    finally:
        db.close()


def test_outsiders_and_signed_out_visitors_are_refused(fresh_database_url: str) -> None:
    instance = setup_instance(fresh_database_url)
    with (
        in_process_server(fresh_database_url) as (base, app),
        httpx.Client(base_url=base, headers=instance.headers, timeout=DEADLINE_S) as api,
        closing(signed_in(base, OUTSIDER)) as outsider,
        httpx.Client(base_url=base, timeout=DEADLINE_S) as anonymous,
    ):
        sid = new_session(api, instance, "Private")
        assert outsider.get(f"/sessions/{sid}/events").status_code == 403
        assert outsider.get(f"/projects/{instance.project_id}/events").status_code == 403
        assert outsider.get("/sessions/999999/events").status_code == 404
        resp = anonymous.get(f"/sessions/{sid}/events")
        assert resp.status_code == 401 and "location" not in resp.headers
        assert app.state.live.open_streams == 0


def test_a_viewer_who_loses_access_stops_receiving(fresh_database_url: str) -> None:
    instance = setup_instance(fresh_database_url)
    db = Database(fresh_database_url)
    with (
        in_process_server(fresh_database_url, live_poll_ms=100, live_heartbeat_seconds=1) as (
            base,
            _app,
        ),
        httpx.Client(base_url=base, headers=instance.headers, timeout=DEADLINE_S) as api,
        closing(signed_in(base)) as web,
    ):
        sid = new_session(api, instance, "Watched")
        stream = Reader(web, f"/sessions/{sid}/events")
        try:
            stream.ready()
            with db.write() as conn:  # signed out elsewhere (every web session ends)
                conn.exec_driver_sql("DELETE FROM web_sessions")
            stream.wait_for(lambda e: e.event == "denied", "denied event")
            assert stream.ended.wait(DEADLINE_S), "the stream went on after access ended"
        finally:
            stream.close()
    db.close()


def test_sigterm_ends_open_streams_and_the_server_exits_0(
    fresh_database_url: str, tmp_path: Path
) -> None:
    instance = setup_instance(fresh_database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    args = ["--database", fresh_database_url, "serve", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CHARTER), *args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(proc, base, instance.token, log)
        with closing(signed_in(base)) as web:
            streams = [Reader(web, f"/projects/{instance.project_id}/events") for _ in range(3)]
            for stream in streams:
                stream.ready()
            proc.send_signal(signal.SIGTERM)
            for stream in streams:
                assert stream.ended.wait(DEADLINE_S), "a stream outlived the shutdown"
                stream.close()
        assert proc.wait(timeout=DEADLINE_S) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_two_workers_deliver_each_others_changes(fresh_database_url: str, tmp_path: Path) -> None:
    """Streams on both workers hear a note, whichever worker wrote it: on PostgreSQL
    through NOTIFY, on SQLite through the event table."""
    instance = setup_instance(fresh_database_url)
    with (
        serving(fresh_database_url, instance.token, tmp_path / "serve.log", workers=2) as base,
        closing(signed_in(base)) as web,
    ):
        with httpx.Client(base_url=base, headers=instance.headers, timeout=DEADLINE_S) as api:
            sid = new_session(api, instance, "Shared")
        streams: dict[int, Reader] = {}
        readers: list[Reader] = []
        try:
            for _ in range(40):  # new connections until both workers hold a stream
                client = httpx.Client(base_url=base, cookies=web.cookies, timeout=DEADLINE_S)
                reader = Reader(client, f"/sessions/{sid}/events", own_client=True)
                readers.append(reader)
                streams.setdefault(reader.ready(), reader)
                if len(streams) == 2:
                    break
            assert len(streams) == 2, "every stream landed on one worker"
            for i in range(3):  # each write, on a new connection, lands on either worker
                with httpx.Client(base_url=base, headers=instance.headers) as api:
                    add_note(api, sid, f"n{i}")
                for reader in streams.values():
                    assert reader.change_of(sid).data["kind"] == "notes"
        finally:
            for reader in readers:
                reader.close()
