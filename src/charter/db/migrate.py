"""Schema migrations (Alembic), run from code so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from charter.db.engine import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(db: Database) -> bool:
    """Migrate to the newest schema. Returns True when anything was applied."""
    if current_revision(db) == head_revision():
        return False
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.execution_options(charter_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    optimize(db)
    return True


def optimize(db: Database) -> None:
    """Refresh planner statistics: a stale planner picks the wrong index."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA optimize")
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        conn.commit()


def make_revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a migration against `db` (which must be at head)."""
    cfg = alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
