"""Automation runs as the testmo CLI submits them: create a run (its source created on
first use), add threads, append tests in batches, complete threads and the run.

Every write of tests changes the counters of their thread and run in the same
transaction (the session counter columns, the same status slots). A completed run
or thread refuses changes (409), and a batch is all or nothing: one bad test is 422
naming its index, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection, RowMapping

from charter.auth.permissions import Action, require_access
from charter.auth.service import User
from charter.automation import queries as automation_queries
from charter.catalog import read as catalog_read
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Conflict, Invalid, NotFound
from charter.db import locks
from charter.db.tables import (
    COUNTER_COLUMNS,
    automation_runs,
    automation_threads,
)
from charter.milestones import read as milestone_read
from charter.projects import read as project_read
from charter.projects import service as project_service
from charter.sessions import counters

# A run's row, held by the write routes before they read what If-Match compares.
lock_run = locks.row_lock(automation_runs)


SUCCESS, FAILURE, RUNNING = 2, 3, 4

MAX_TESTS_PER_APPEND = 250
MAX_STRING = 750
MAX_TEXT = 1_000_000  # a field's value (console output, HTML)
MAX_NOTE = 1000
MAX_ITEMS = 100  # artifacts, fields or links in one body
MAX_TAGS = 50
MAX_ELAPSED = 2**62

RUN_FIELDS = (
    "name",
    "source",
    "config",
    "config_id",
    "milestone",
    "milestone_id",
    "tags",
    "artifacts",
    "fields",
    "links",
)
THREAD_FIELDS = ("elapsed_observed", "elapsed_computed", "artifacts", "fields")
THREAD_APPEND_FIELDS = (*THREAD_FIELDS, "tests")
THREAD_COMPLETE_FIELDS = ("elapsed_observed", "elapsed_computed")
RUN_APPEND_FIELDS = ("artifacts", "fields", "links")
RUN_COMPLETE_FIELDS = ("measure_elapsed",)
TEST_FIELDS = frozenset(
    (
        "key",
        "name",
        "status",
        "folder",
        "elapsed",
        "file",
        "line",
        "assertions",
        "artifacts",
        "fields",
    )
)

_SOURCE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,199}$")
_KEY = re.compile(r"^[a-z0-9]{1,64}$")
_TAG = re.compile(r"^[\w-]{1,100}$")


# --- validation ---------------------------------------------------------------------


def _string(name: str, value: Any, max_len: int = MAX_STRING, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid.field(name, "Must be a non-empty string.")
    if len(value) > max_len:
        raise Invalid.field(name, f"Must be at most {max_len} characters.")
    return value


def _count(name: str, value: Any, high: int = MAX_ELAPSED) -> int | None:
    if value is None:
        return None
    return inputs.integer(name, value, 0, high)


def _id_or_numeric(name: str, value: Any) -> int | None:
    """An id, also written as a numeric string ("12"), as the CLI passes options."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        value = int(value.strip())
    return inputs.optional_id(name, value)


def _list(name: str, value: Any, max_items: int = MAX_ITEMS) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid.field(name, "Must be a list.")
    if len(value) > max_items:
        raise Invalid.field(name, f"At most {max_items} items.")
    return value


def _object(name: str, value: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid.field(name, "Must be a JSON object.")
    for key in value:
        if key not in allowed:
            raise Invalid.field(f"{name}.{key}", "Unknown field.")
    return value


_ARTIFACT = frozenset(("name", "note", "url", "mime_type", "size"))
_FIELD = frozenset(("type", "name", "value", "meta", "is_highlight"))
_LINK = frozenset(("name", "note", "url"))


def _items(name: str, value: Any, allowed: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    """The objects of a list field, each with its place for messages (`links.2`)."""
    places = ((f"{name}.{i}", v) for i, v in enumerate(_list(name, value)))
    return [(at, _object(at, v, allowed)) for at, v in places]


def _named_url(at: str, item: dict[str, Any]) -> dict[str, Any]:
    """The name, note and url an artifact and a link both have."""
    return {
        "name": _string(f"{at}.name", item.get("name")),
        "note": _string(f"{at}.note", item.get("note"), MAX_NOTE, required=False),
        "url": _string(f"{at}.url", item.get("url")),
    }


def artifacts(name: str, value: Any) -> list[dict[str, Any]]:
    return [
        {
            **_named_url(at, a),
            "mime_type": _string(f"{at}.mime_type", a.get("mime_type"), required=False),
            "size": _count(f"{at}.size", a.get("size")),
        }
        for at, a in _items(name, value, _ARTIFACT)
    ]


def field_list(name: str, value: Any) -> list[dict[str, Any]]:
    """Fields: type 1 string, 2 text, 3 HTML, 4 console, 5 URL; meta maps text to text."""
    out = []
    for at, f in _items(name, value, _FIELD):
        kind = inputs.integer(f"{at}.type", f.get("type"), 1, 5)
        meta = f.get("meta")
        if meta is not None and (
            not isinstance(meta, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
        ):
            raise Invalid.field(f"{at}.meta", "Must be an object of strings.")
        if "is_highlight" in f:
            inputs.boolean(f"{at}.is_highlight", f["is_highlight"])
        out.append(
            {
                "type": kind,
                "name": _string(f"{at}.name", f.get("name")),
                "value": _string(f"{at}.value", f.get("value"), MAX_TEXT, required=False),
                "meta": meta or {},
            }
        )
    return out


def links(name: str, value: Any) -> list[dict[str, Any]]:
    return [_named_url(at, link) for at, link in _items(name, value, _LINK)]


def _tags(value: Any) -> list[str]:
    names = _list("tags", value, MAX_TAGS)
    for name in names:
        if not isinstance(name, str) or not _TAG.match(name):
            raise Invalid.field("tags", "Tags are letters, digits, _ and - (at most 100).")
    return sorted(set(names))


def status_ids_by_alias(conn: Connection) -> dict[str, int]:
    """Lower-case system names and aliases of the active statuses -> status id."""
    out: dict[str, int] = {}
    for s in catalog_read.active_statuses(conn):
        for alias in (s["system_name"], *s["aliases"]):
            out.setdefault(str(alias).lower(), int(s["id"]))
    return out


def _test_row(
    index: int, item: Any, statuses: Mapping[str, int], run_id: int, thread_id: int
) -> dict[str, Any]:
    at = f"tests.{index}"
    t = _object(at, item, TEST_FIELDS)
    status = _string(f"{at}.status", t.get("status"), 100)
    assert status is not None
    status_id = statuses.get(status.lower())
    if status_id is None:
        raise Invalid.field(
            f"{at}.status", f"Unknown status {status!r}: use a status name or alias."
        )
    name = _string(f"{at}.name", t.get("name"))
    assert name is not None
    folder = _string(f"{at}.folder", t.get("folder"), required=False)
    key = t.get("key")
    if key is None:  # the stable identity: derived from where the test lives
        key = hashlib.sha256(f"{folder or ''}.{name}".encode()).hexdigest()
    elif not isinstance(key, str) or not _KEY.match(key):
        raise Invalid.field(f"{at}.key", "At most 64 lower-case letters and digits.")
    return {
        "run_id": run_id,
        "thread_id": thread_id,
        "key": key,
        "name": name,
        "folder": folder,
        "status_id": status_id,
        "elapsed": _count(f"{at}.elapsed", t.get("elapsed")),
        "file": _string(f"{at}.file", t.get("file"), required=False),
        "line": _count(f"{at}.line", t.get("line"), inputs.MAX_ORDER),
        "assertions": _count(f"{at}.assertions", t.get("assertions"), inputs.MAX_ORDER),
        "artifacts": _json(artifacts(f"{at}.artifacts", t.get("artifacts"))),
        "fields": _json(field_list(f"{at}.fields", t.get("fields"))),
    }


def _json(items: list[dict[str, Any]]) -> str:
    return orjson.dumps(items).decode() if items else "[]"


# --- lookups with permissions ---------------------------------------------------------


def run_for(conn: Connection, user: User, run_id: int, action: Action) -> RowMapping:
    row = automation_queries.run_row(conn, run_id, lock=action != "read")
    if row is None:
        raise NotFound(f"Automation run {run_id} not found.")
    require_access(conn, user, int(row["project_id"]), action)
    return row


def thread_for(conn: Connection, user: User, thread_id: int, action: Action) -> RowMapping:
    return thread_and_run(conn, user, thread_id, action)[0]


def thread_and_run(
    conn: Connection, user: User, thread_id: int, action: Action
) -> tuple[RowMapping, RowMapping]:
    """The thread and its run (locked for a write), once `user` may do `action`."""
    row = automation_queries.thread_row(conn, thread_id)
    if row is None:
        raise NotFound(f"Automation run thread {thread_id} not found.")
    return row, run_for(conn, user, int(row["run_id"]), action)


def _open(run: RowMapping, thread: RowMapping | None = None) -> None:
    if run["is_completed"]:
        raise Conflict(f"Automation run {run['id']} is completed: it takes no more changes.")
    if thread is not None and thread["is_completed"]:
        raise Conflict(f"Thread {thread['id']} is completed: it takes no more changes.")


# --- writes ---------------------------------------------------------------------------


def _source_id(conn: Connection, project_id: int, user_id: int, value: Any) -> int:
    name = _string("source", value, 200)
    assert name is not None
    if not _SOURCE.match(name):
        raise Invalid.field(
            "source", "One word: letters, digits, -, _ and ., starting with a letter."
        )
    row = automation_queries.source_by_name(conn, project_id, name)
    if row is not None:
        return int(row["id"])
    project_service.bump_counters(
        conn, project_id, {"automation_source_count": 1, "automation_source_active_count": 1}
    )
    return automation_queries.insert_source(
        conn,
        project_id=project_id,
        name=name,
        is_retired=False,
        created_at=utcnow(),
        created_by=user_id,
    )


def _by_id_or_name(
    body: Mapping[str, Any],
    key: str,
    what: str,
    in_project: Callable[[int], bool],
    by_name: Callable[[str], int | None],
) -> int | None:
    """`<key>_id` (an id of the project's) or `<key>` (a name in it), as the CLI sends
    either; neither is None."""
    if body.get(f"{key}_id") is not None:
        found = _id_or_numeric(f"{key}_id", body[f"{key}_id"])
        assert found is not None
        if not in_project(found):
            raise Invalid.field(f"{key}_id", f"No {what} {found} in this project.")
        return found
    if body.get(key) is not None:
        name = _string(key, body[key], 200) or ""
        named = by_name(name)
        if named is None:
            raise Invalid.field(key, f"No {what} named {name!r} in this project.")
        return named
    return None


def _config_id(conn: Connection, project_id: int, body: Mapping[str, Any]) -> int | None:
    return _by_id_or_name(
        body,
        "config",
        "configuration",
        lambda i: project_read.config_in_project(conn, project_id, i),
        lambda name: project_read.config_id_by_name(conn, project_id, name),
    )


def _milestone_id(conn: Connection, project_id: int, body: Mapping[str, Any]) -> int | None:
    def in_project(milestone_id: int) -> bool:
        rows = milestone_read.milestones_by_ids(conn, [milestone_id])
        return bool(rows) and rows[0]["project_id"] == project_id

    return _by_id_or_name(
        body,
        "milestone",
        "milestone",
        in_project,
        lambda name: milestone_read.milestone_id_by_name(conn, project_id, name),
    )


def create_run(conn: Connection, user: User, project_id: int, body: Mapping[str, Any]) -> int:
    """A running run (status 4) in the project; the source is created on first use."""
    name = _string("name", inputs.required(body, "name"))
    source_id = _source_id(conn, project_id, user.id, inputs.required(body, "source"))
    now = utcnow()
    project_service.bump_counters(
        conn, project_id, {"automation_run_count": 1, "automation_run_active_count": 1}
    )
    return automation_queries.insert_run(
        conn,
        _tags(body.get("tags")),
        project_id=project_id,
        source_id=source_id,
        name=name,
        config_id=_config_id(conn, project_id, body),
        milestone_id=_milestone_id(conn, project_id, body),
        status=RUNNING,
        is_completed=False,
        artifacts=json.dumps(artifacts("artifacts", body.get("artifacts"))),
        fields=json.dumps(field_list("fields", body.get("fields"))),
        links=json.dumps(links("links", body.get("links"))),
        **dict.fromkeys(COUNTER_COLUMNS, 0),
        thread_count=0,
        thread_active_count=0,
        thread_completed_count=0,
        created_at=now,
        created_by=user.id,
    )


def _with(total: int | None, more: int | None) -> int | None:
    if more is None:
        return total
    return (total or 0) + more


def _thread_elapsed(observed: int | None, computed: int | None) -> int | None:
    return observed if observed is not None else computed


def create_thread(conn: Connection, user: User, run_id: int, body: Mapping[str, Any]) -> int:
    run = run_for(conn, user, run_id, "run")
    _open(run)
    observed = _count("elapsed_observed", body.get("elapsed_observed"))
    computed = _count("elapsed_computed", body.get("elapsed_computed"))
    thread_id = automation_queries.insert_thread(
        conn,
        run_id=run_id,
        position=automation_queries.next_position(conn, run_id),
        status=RUNNING,
        elapsed=_thread_elapsed(observed, computed),
        elapsed_observed=observed,
        elapsed_computed=computed,
        is_completed=False,
        artifacts=json.dumps(artifacts("artifacts", body.get("artifacts"))),
        fields=json.dumps(field_list("fields", body.get("fields"))),
        **dict.fromkeys(COUNTER_COLUMNS, 0),
        created_at=utcnow(),
        created_by=user.id,
    )
    automation_queries.add_counters(
        conn,
        automation_runs,
        run_id,
        {"thread_count": 1, "thread_active_count": 1},
        updated_at=utcnow(),
        updated_by=user.id,
    )
    return thread_id


def append_to_thread(conn: Connection, user: User, thread_id: int, body: Mapping[str, Any]) -> None:
    """Add tests (at most 250), artifacts and fields; the elapsed times add to the
    thread's totals. All or nothing."""
    thread, run = thread_and_run(conn, user, thread_id, "run")
    _open(run, thread)
    tests = _list("tests", body.get("tests"), MAX_TESTS_PER_APPEND)
    statuses = status_ids_by_alias(conn) if tests else {}
    now = utcnow()
    rows = [_test_row(i, t, statuses, run["id"], thread_id) for i, t in enumerate(tests)]
    more_artifacts = artifacts("artifacts", body.get("artifacts"))
    more_fields = field_list("fields", body.get("fields"))
    observed = _with(
        thread["elapsed_observed"], _count("elapsed_observed", body.get("elapsed_observed"))
    )
    computed = _with(
        thread["elapsed_computed"], _count("elapsed_computed", body.get("elapsed_computed"))
    )
    for row in rows:
        row["created_at"], row["created_by"] = now, user.id
    automation_queries.insert_tests(conn, rows)
    deltas = _deltas(
        [r["status_id"] for r in rows], catalog_read.status_flags(conn) if rows else {}
    )
    values: dict[str, Any] = {
        "elapsed_observed": observed,
        "elapsed_computed": computed,
        "elapsed": _thread_elapsed(observed, computed),
    }
    if more_artifacts:
        values["artifacts"] = json.dumps([*json.loads(thread["artifacts"]), *more_artifacts])
    if more_fields:
        values["fields"] = json.dumps([*json.loads(thread["fields"]), *more_fields])
    automation_queries.add_counters(conn, automation_threads, thread_id, deltas, **values)
    automation_queries.add_counters(
        conn, automation_runs, run["id"], deltas, updated_at=now, updated_by=user.id
    )


def _deltas(status_ids: Sequence[int], flags: counters.StatusFlags) -> dict[str, int]:
    out: dict[str, int] = {}
    for status_id in status_ids:
        counters.merge(out, counters.deltas_for(status_id, flags))
    return out


def _status_of(row: Any) -> int:
    return FAILURE if row["failure_count"] else SUCCESS


def complete_thread(conn: Connection, user: User, thread_id: int, body: Mapping[str, Any]) -> None:
    thread, run = thread_and_run(conn, user, thread_id, "run")
    _open(run, thread)
    observed = _with(
        thread["elapsed_observed"], _count("elapsed_observed", body.get("elapsed_observed"))
    )
    computed = _with(
        thread["elapsed_computed"], _count("elapsed_computed", body.get("elapsed_computed"))
    )
    now = utcnow()
    automation_queries.update_thread(
        conn,
        thread_id,
        elapsed_observed=observed,
        elapsed_computed=computed,
        elapsed=_thread_elapsed(observed, computed),
        status=_status_of(thread),
        is_completed=True,
        completed_at=now,
        completed_by=user.id,
    )
    automation_queries.add_counters(
        conn,
        automation_runs,
        run["id"],
        {"thread_active_count": -1, "thread_completed_count": 1},
        updated_at=now,
        updated_by=user.id,
    )


def append_to_run(conn: Connection, user: User, run_id: int, body: Mapping[str, Any]) -> None:
    run = run_for(conn, user, run_id, "run")
    _open(run)
    values: dict[str, Any] = {}
    for name, parse in (("artifacts", artifacts), ("fields", field_list), ("links", links)):
        more = parse(name, body.get(name))
        if more:
            values[name] = json.dumps([*json.loads(run[name]), *more])
    if values:
        automation_queries.update_run(
            conn, run_id, **values, updated_at=utcnow(), updated_by=user.id
        )


def complete_run(conn: Connection, user: User, run_id: int, body: Mapping[str, Any]) -> None:
    """Complete the run and every open thread. The run's elapsed is the wall time since
    it was created with `measure_elapsed`, else the sum of its threads' times."""
    run = run_for(conn, user, run_id, "run")
    _open(run)
    measure = body.get("measure_elapsed", False)
    inputs.boolean("measure_elapsed", measure)
    now = utcnow()
    closed = automation_queries.complete_open_threads(
        conn, run_id, lambda r: {"status": _status_of(r)}, now, user.id
    )
    threads = automation_queries.threads_of(conn, run_id)
    times = [t["elapsed"] for t in threads if t["elapsed"] is not None]
    if measure:
        elapsed: int | None = int((now - run["created_at"]).total_seconds() * 1_000_000)
    else:
        elapsed = sum(times) if times else None
    project_service.bump_counters(
        conn,
        int(run["project_id"]),
        {"automation_run_active_count": -1, "automation_run_completed_count": 1},
    )
    automation_queries.add_counters(
        conn,
        automation_runs,
        run_id,
        {"thread_active_count": -closed, "thread_completed_count": closed},
        status=_status_of(run),
        elapsed=elapsed,
        is_completed=True,
        completed_at=now,
        completed_by=user.id,
        updated_at=now,
        updated_by=user.id,
    )


def delete_run(conn: Connection, user: User, run_id: int) -> None:
    """Managers delete a run with its threads and tests (Charter extension)."""
    run = run_for(conn, user, run_id, "manage")
    automation_queries.delete_run(conn, run_id)
    done = bool(run["is_completed"])
    project_service.bump_counters(
        conn,
        int(run["project_id"]),
        {
            "automation_run_count": -1,
            "automation_run_completed_count": -int(done),
            "automation_run_active_count": -int(not done),
        },
    )


# --- counters -------------------------------------------------------------------------


def _wanted(histogram: Mapping[int, int], flags: counters.StatusFlags) -> dict[str, int]:
    return counters.counters_from_histogram({k: v for k, v in histogram.items()}, flags)


def drifted(conn: Connection) -> list[tuple[str, int]]:
    """(table, id) of every run or thread whose stored counters differ from a recount
    of its tests and threads (for tests and ops)."""
    flags = catalog_read.status_flags(conn)
    out: list[tuple[str, int]] = []
    thread_counts = automation_queries.thread_histogram(conn)
    for table, owner in ((automation_runs, "run_id"), (automation_threads, "thread_id")):
        histograms = automation_queries.status_histogram(conn, owner)
        for row_id, stored in automation_queries.stored_counters(conn, table).items():
            wanted = _wanted(histograms.get(row_id, {}), flags)
            if table is automation_runs:
                n, done = thread_counts.get(row_id, (0, 0))
                wanted |= {
                    "thread_count": n,
                    "thread_active_count": n - done,
                    "thread_completed_count": done,
                }
            if wanted != stored:
                out.append((str(table.name), row_id))
    for project_id in project_read.all_project_ids(conn):
        if project_counters(conn, project_id) != project_read.stored_automation_counters(
            conn, project_id
        ):
            out.append(("projects", project_id))
    return out


def project_counters(conn: Connection, project_id: int) -> dict[str, int]:
    """The project's automation counters, counted from its sources and runs."""
    return automation_queries.project_counts(conn, project_id)


def recount(conn: Connection) -> int:
    """Rebuild every run's and thread's counters from their tests; returns how many
    had drifted."""
    flags = catalog_read.status_flags(conn)
    wrong = drifted(conn)
    thread_counts = automation_queries.thread_histogram(conn)
    for name, row_id in wrong:
        if name == "projects":
            project_service.set_plain_counters(conn, row_id, project_counters(conn, row_id))
        elif name == automation_runs.name:
            hist = automation_queries.status_histogram(conn, "run_id", row_id)
            n, done = thread_counts.get(row_id, (0, 0))
            automation_queries.update_run(
                conn,
                row_id,
                **_wanted(hist.get(row_id, {}), flags),
                thread_count=n,
                thread_active_count=n - done,
                thread_completed_count=done,
            )
        else:
            hist = automation_queries.status_histogram(conn, "thread_id", row_id)
            automation_queries.update_thread(conn, row_id, **_wanted(hist.get(row_id, {}), flags))
    return len(wrong)
