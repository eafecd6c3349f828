"""Session writes in the domain layer: validation, the timer, close/reopen, counters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from charter.catalog import service as catalog_service
from charter.core.errors import Conflict, Invalid, NotFound
from charter.db import tables
from charter.db.engine import Database
from charter.milestones import service as milestone_service
from charter.projects import queries as project_queries
from charter.projects import service as project_service
from charter.results import service as result_service
from charter.sessions import queries as session_queries
from charter.sessions import service as session_service
from charter.users import service as user_service


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("charter.sessions.service.utcnow", fake)
    return fake


@pytest.fixture
def world(empty_db: Database) -> dict[str, Any]:
    with empty_db.write() as conn:
        ada = user_service.new_user(conn, "Ada", "ada@example.com", is_admin=True)
        p1 = project_service.new_project(conn, "One", created_by=ada)
        p2 = project_service.new_project(conn, "Two", created_by=ada)
        template = catalog_service.new_template(conn, "Typed")
        fields = {
            kind: catalog_service.new_field(conn, template, kind.title(), f"f_{kind}", kind)
            for kind in (
                "string",
                "text",
                "integer",
                "float",
                "checkbox",
                "date",
                "link",
                "dropdown",
                "multiselect",
            )
        }
        values = catalog_service.new_field_values(
            conn, fields["dropdown"], [("Red", None, "#ff0000"), ("Blue", None, None)]
        )
        multi = catalog_service.new_field_values(
            conn, fields["multiselect"], [("A", None, None), ("B", None, None)]
        )
        other = catalog_service.new_field(conn, 1, "Other", "other_dd", "dropdown")
        other_values = catalog_service.new_field_values(conn, other, [("X", None, None)])
        config_p2 = catalog_service.new_config(conn, p2, "Only in two")
        milestone_p2 = milestone_service.new_milestone(conn, p2, "M2", created_by=ada)
    return {
        "db": empty_db,
        "ada": ada,
        "p1": p1,
        "p2": p2,
        "template": template,
        "values": values,
        "multi": multi,
        "other_values": other_values,
        "config_p2": config_p2,
        "milestone_p2": milestone_p2,
    }


def row_counts(db: Database) -> tuple[int, ...]:
    with db.read() as conn:
        return tuple(
            int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
            for t in (
                "sessions",
                "session_tags",
                "session_issues",
                "session_field_values",
                "tags",
                "session_results",
            )
        )


def test_create_uses_defaults_and_counts(world: dict[str, Any]) -> None:
    db = world["db"]
    with db.write() as conn:
        sid = session_service.create_session(
            conn, world["p1"], world["ada"], "Explore login", tags=["a", "b", "a"]
        )
        row = session_queries.session_by_id(conn, sid)
        project = project_queries.project_by_id(conn, world["p1"])
        tag_names = sa.select(tables.tags.c.name).join(
            tables.session_tags, tables.session_tags.c.tag_id == tables.tags.c.id
        )
        tags = sorted(conn.scalars(tag_names.where(tables.session_tags.c.session_id == sid)))
    assert row is not None and project is not None
    assert (row["template_id"], row["state_id"]) == (1, 1)  # the seeded defaults
    assert row["updated_at"] is None and row["updated_by"] is None
    assert tags == ["a", "b"]
    assert (
        project["session_count"],
        project["session_active_count"],
        project["session_closed_count"],
    ) == (1, 1, 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 501}, "name"),
        ({"config_id": "config_p2"}, "config_id"),
        ({"milestone_id": "milestone_p2"}, "milestone_id"),
        ({"template_id": 999}, "template_id"),
        ({"state_id": 999}, "state_id"),
        ({"assignee_id": 999}, "assignee_id"),
        ({"estimate": -1}, "estimate"),
        ({"tags": ["ok", "no,commas"]}, "tags"),
        ({"issue_ids": [12345]}, "issues"),
        ({"custom": {"custom_nope": 1}}, "custom_nope"),
        ({"template_id": "template", "custom": {"custom_f_integer": "1"}}, "custom_f_integer"),
        ({"template_id": "template", "custom": {"custom_f_integer": True}}, "custom_f_integer"),
        ({"template_id": "template", "custom": {"custom_f_float": "nan"}}, "custom_f_float"),
        ({"template_id": "template", "custom": {"custom_f_checkbox": 1}}, "custom_f_checkbox"),
        ({"template_id": "template", "custom": {"custom_f_date": "31/12/2025"}}, "custom_f_date"),
        ({"template_id": "template", "custom": {"custom_f_string": "x" * 1001}}, "custom_f_string"),
        (
            {"template_id": "template", "custom": {"custom_f_dropdown": "other_values"}},
            "custom_f_dropdown",
        ),
        (
            {"template_id": "template", "custom": {"custom_f_multiselect": "values"}},
            "custom_f_multiselect",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: dict[str, Any], kwargs: dict[str, Any], field: str
) -> None:
    db = world["db"]

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value in world:
            found = world[value]
            return found[0] if isinstance(found, list) else found
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    args = {"name": "A session", "tags": ["new-tag"], **{k: resolve(v) for k, v in kwargs.items()}}
    if field == "custom_f_multiselect":
        args["custom"] = {"custom_f_multiselect": world["values"]}  # ids of another field
    before = row_counts(db)
    with pytest.raises(Invalid) as info, db.write() as conn:
        session_service.create_session(conn, world["p1"], world["ada"], **args)
    assert info.value.errors is not None and field in info.value.errors
    assert row_counts(db) == before


def test_custom_values_round_trip(world: dict[str, Any]) -> None:
    db = world["db"]
    custom = {
        "custom_f_string": "build 7",
        "custom_f_integer": 3,
        "custom_f_float": 0.5,
        "custom_f_checkbox": False,
        "custom_f_date": "2026-02-03",
        "custom_f_dropdown": world["values"][1],
        "custom_f_multiselect": [world["multi"][1], world["multi"][0]],
    }
    with db.write() as conn:
        sid = session_service.create_session(
            conn, world["p1"], world["ada"], "Typed", template_id=world["template"], custom=custom
        )
        stored = session_queries.field_values_of(conn, [sid])[sid]
    assert len(stored) == len(custom)


def test_timer_accumulates_only_while_running(world: dict[str, Any], clock: FakeClock) -> None:
    db = world["db"]
    ada = world["ada"]
    with db.write() as conn:
        sid = session_service.create_session(conn, world["p1"], ada, "Timed")
    with pytest.raises(Conflict), db.write() as conn:
        session_service.pause(conn, sid, ada)  # not running
    with pytest.raises(Conflict), db.write() as conn:
        session_service.resume(conn, sid, ada)  # never started
    with db.write() as conn:
        session_service.start(conn, sid, ada)
    started = clock.now
    clock.advance(60)
    with db.write() as conn:
        session_service.pause(conn, sid, ada)
    clock.advance(3600)  # paused: does not count
    with db.write() as conn:
        session_service.resume(conn, sid, ada)
    with pytest.raises(Conflict), db.write() as conn:
        session_service.start(conn, sid, ada)  # started already
    clock.advance(30)
    with db.write() as conn:
        session_service.close(conn, sid, ada)
        row = session_queries.session_by_id(conn, sid)
    assert row is not None
    assert row["is_started"] and row["started_at"] == started
    assert row["elapsed"] == 90 * 1_000_000
    assert row["is_closed"] and row["closed_by"] == ada and row["closed_at"] == clock.now
    assert row["updated_at"] == clock.now and row["updated_by"] == ada


def test_closed_session_refuses_changes_until_reopened(world: dict[str, Any]) -> None:
    db = world["db"]
    ada, p1 = world["ada"], world["p1"]
    with db.write() as conn:
        sid = session_service.create_session(conn, p1, ada, "Closable")
        result_service.add_results(conn, sid, ada, [{"status_id": 2}])
        session_service.close(conn, sid, ada)
    for action in (session_service.start, session_service.close):
        with pytest.raises(Conflict), db.write() as conn:
            action(conn, sid, ada)
    with pytest.raises(Conflict), db.write() as conn:
        result_service.add_results(conn, sid, ada, [{"status_id": 3}])
    with db.write() as conn:
        project = project_queries.project_by_id(conn, p1)
        assert project is not None
        assert (project["session_active_count"], project["session_closed_count"]) == (0, 1)
        session_service.reopen(conn, sid, ada)
        result_service.add_results(conn, sid, ada, [{"status_id": 3}])
        row = session_queries.session_by_id(conn, sid)
        project = project_queries.project_by_id(conn, p1)
    assert row is not None and project is not None
    assert (row["is_closed"], row["closed_at"], row["total_count"], row["failure_count"]) == (
        False,
        None,
        2,
        1,
    )
    assert (project["session_active_count"], project["session_closed_count"]) == (1, 0)
    with pytest.raises(Conflict), db.write() as conn:
        session_service.reopen(conn, sid, ada)


def test_delete_updates_project_counters(world: dict[str, Any]) -> None:
    db = world["db"]
    ada, p1 = world["ada"], world["p1"]
    with db.write() as conn:
        keep = session_service.create_session(conn, p1, ada, "Keep")
        gone = session_service.create_session(conn, p1, ada, "Gone", tags=["t"])
        result_service.add_results(conn, gone, ada, [{"status_id": 2}, {"note": "plain"}])
        session_service.close(conn, gone, ada)
        session_service.delete(conn, gone)
        project = project_queries.project_by_id(conn, p1)
        remaining = conn.execute(sa.text("SELECT COUNT(*) FROM session_results")).scalar_one()
    assert project is not None
    assert (
        project["session_count"],
        project["session_active_count"],
        project["session_closed_count"],
    ) == (1, 1, 0)
    assert remaining == 0
    with pytest.raises(NotFound), db.write() as conn:
        session_service.delete(conn, gone)
    assert keep
