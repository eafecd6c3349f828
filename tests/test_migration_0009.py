"""Revision 0009 on a database holding custom values stored with spaces (SQLite and
PostgreSQL): multi-select arrays become compact, strings keep their own spaces."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command

from charter.db.engine import Database
from charter.db.migrate import alembic_config, upgrade
from charter.db.tables import projects, session_field_values, sessions, template_fields
from test_migration_0012 import NEW_COLUMNS as LATER_COLUMNS


def _at_0008(table: sa.Table) -> sa.Table:
    """The table with the columns it had at revision 0008 (later ones add SBTM's)."""
    later = {c.name for c in table.columns if c.name in LATER_COLUMNS}
    columns = [c._copy() for c in table.columns if c.name not in later]
    for c in columns:
        c.foreign_keys.clear()
        c.constraints.clear()
    return sa.Table(table.name, sa.MetaData(), *columns)


def test_0009_compacts_stored_arrays(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0008")
    now = datetime(2026, 3, 1)
    with db.write() as conn:
        pid = conn.execute(
            sa.insert(_at_0008(projects)).values(name="P", created_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
        sid = conn.execute(
            sa.insert(_at_0008(sessions)).values(
                project_id=pid, template_id=1, name="S", state_id=1, created_at=now
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        fields = [
            conn.execute(
                sa.insert(template_fields).values(
                    template_id=1,
                    name=f"F{i}",
                    system_name=f"f{i}",
                    type="string",
                    scope="session",
                    is_required=False,
                    display_order=i,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for i in range(3)
        ]
        stored = ["[1, 2, 3]", '"a, b: [c, d]"', "[4]"]
        conn.execute(
            sa.insert(session_field_values),
            [
                {"session_id": sid, "field_id": f, "value": v}
                for f, v in zip(fields, stored, strict=True)
            ],
        )
    assert upgrade(db)
    with db.read() as conn:
        values = dict(
            conn.execute(
                sa.select(session_field_values.c.field_id, session_field_values.c.value)
            ).all()
        )
    assert [values[f] for f in fields] == ["[1,2,3]", '"a, b: [c, d]"', "[4]"]
    db.close()
