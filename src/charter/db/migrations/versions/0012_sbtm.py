"""SBTM: areas, session testers and sheet fields, note kinds, stored metrics, rollups

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:20:00

- projects: timebox_short / timebox_normal / timebox_long (minutes; 60 / 90 / 120).
- areas (a project's coverage taxonomy), session_areas, session_testers.
- sessions: duration class and multiplier, percentages T/B/S and C/O, data files,
  sheet_name (unique per project), stored bug_count / issue_count.
- result_kinds (per project; category note / bug / issue), session_results.kind_id.
- sbtm_session_metrics (one row per session) and the rollups sbtm_area_totals,
  sbtm_tester_totals, sbtm_day_totals (sbtm/metrics.py explains the integer scale).

Existing data: every project gets the default kinds and timeboxes; every session's
assignee becomes its first tester; every session gets its (all-zero: no duration
class yet) metrics row, and the tester and day rollups count those sessions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# name, colour, category (frozen here: a later change of the app's defaults must not
# change what this revision wrote)
DEFAULT_KINDS = (
    ("Note", "#6b7280", "note"),
    ("Bug", "#dc2626", "bug"),
    ("Issue", "#d97706", "issue"),
    ("Question", "#2563eb", "issue"),
    ("Idea", "#16a34a", "note"),
    ("Setup", "#7c3aed", "note"),
)
N_COLUMNS = ("n_total", "n_charter", "n_opportunity", "n_test", "n_bug", "n_setup")


def _n_columns() -> list[sa.Column[object]]:
    return [sa.Column(c, sa.BigInteger(), server_default="0", nullable=False) for c in N_COLUMNS]


def _zero(name: str, big: bool = True) -> sa.Column[object]:
    kind = sa.BigInteger() if big else sa.Integer()
    return sa.Column(name, kind, server_default="0", nullable=False)


def upgrade() -> None:
    # Plain ADD COLUMNs on existing tables, never a batch "move and copy" (see 0005):
    # SQLite adds each column in place; the one foreign key is a named column constraint.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("name_key", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_areas_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_areas_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("project_id", "name_key", name=op.f("uq_areas_project_id_name_key")),
    )
    op.create_table(
        "result_kinds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "category IN ('note', 'bug', 'issue')", name=op.f("ck_result_kinds_kind_category")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_result_kinds_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_kinds")),
    )
    op.create_index(
        op.f("ix_result_kinds_project_id_position_id"),
        "result_kinds",
        ["project_id", "position", "id"],
    )
    op.create_table(
        "sbtm_day_totals",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _zero("sessions", big=False),
        *_n_columns(),
        _zero("bugs"),
        _zero("issues"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_sbtm_day_totals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "day", name=op.f("pk_sbtm_day_totals")),
    )
    op.create_table(
        "sbtm_tester_totals",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _zero("sessions", big=False),
        *_n_columns(),
        _zero("bugs_share"),
        _zero("issues_share"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sbtm_tester_totals_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sbtm_tester_totals_user_id_users")
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_sbtm_tester_totals")),
    )
    op.create_table(
        "sbtm_area_totals",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        _zero("sessions", big=False),
        *_n_columns(),
        _zero("bugs"),
        _zero("issues"),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_sbtm_area_totals_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_sbtm_area_totals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_sbtm_area_totals")),
    )
    op.create_table(
        "sbtm_session_metrics",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=True),
        sa.Column("testers", sa.Integer(), nullable=False),
        *_n_columns(),
        _zero("bugs", big=False),
        _zero("issues", big=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sbtm_session_metrics_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_sbtm_session_metrics_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_sbtm_session_metrics")),
    )
    op.create_index(
        op.f("ix_sbtm_session_metrics_project_id_session_id"),
        "sbtm_session_metrics",
        ["project_id", "session_id"],
    )
    op.create_table(
        "session_areas",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_session_areas_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_areas_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "area_id", name=op.f("pk_session_areas")),
    )
    op.create_index(
        op.f("ix_session_areas_area_id_session_id"), "session_areas", ["area_id", "session_id"]
    )
    op.create_table(
        "session_testers",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_testers_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_session_testers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_session_testers")),
    )
    op.create_index(
        op.f("ix_session_testers_user_id_session_id"),
        "session_testers",
        ["user_id", "session_id"],
    )

    for name, default in (("short", "60"), ("normal", "90"), ("long", "120")):
        op.add_column(
            "projects",
            sa.Column(f"timebox_{name}", sa.Integer(), server_default=default, nullable=False),
        )

    if sqlite:
        op.execute(
            "ALTER TABLE session_results ADD COLUMN kind_id INTEGER"
            " CONSTRAINT fk_session_results_kind_id_result_kinds REFERENCES result_kinds (id)"
        )
    else:
        op.add_column("session_results", sa.Column("kind_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_session_results_kind_id_result_kinds"),
            "session_results",
            "result_kinds",
            ["kind_id"],
            ["id"],
        )
    op.create_index(op.f("ix_session_results_kind_id"), "session_results", ["kind_id"])
    op.create_index(
        op.f("ix_session_results_session_id_kind_id"), "session_results", ["session_id", "kind_id"]
    )

    op.add_column("sessions", sa.Column("duration_class", sa.String(length=10), nullable=True))
    op.add_column("sessions", sa.Column("duration_multiplier", sa.Float(), nullable=True))
    for pct in ("test", "bug", "setup", "charter", "opportunity"):
        op.add_column("sessions", sa.Column(f"pct_{pct}", sa.Integer(), nullable=True))
    op.add_column("sessions", sa.Column("data_files", sa.Text(), nullable=True))
    op.add_column("sessions", sa.Column("sheet_name", sa.String(length=255), nullable=True))
    op.add_column("sessions", _zero("bug_count", big=False))
    op.add_column("sessions", _zero("issue_count", big=False))
    op.create_index(
        op.f("ix_sessions_project_id_sheet_name"),
        "sessions",
        ["project_id", "sheet_name"],
        unique=True,
        sqlite_where=sa.text("sheet_name IS NOT NULL"),
        postgresql_where=sa.text("sheet_name IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_sessions_project_id_started_at_id"), "sessions", ["project_id", "started_at", "id"]
    )

    _backfill(sqlite)


def _backfill(sqlite: bool) -> None:
    for position, (name, color, category) in enumerate(DEFAULT_KINDS):
        op.execute(
            sa.text(
                "INSERT INTO result_kinds (project_id, name, color, position, category)"
                " SELECT id, :name, :color, :position, :category FROM projects ORDER BY id"
            ).bindparams(name=name, color=color, position=position, category=category)
        )
    op.execute(
        "INSERT INTO session_testers (session_id, user_id, position)"
        " SELECT id, assignee_id, 0 FROM sessions WHERE assignee_id IS NOT NULL"
    )
    day = "date(started_at)" if sqlite else "CAST(started_at AS date)"
    op.execute(
        "INSERT INTO sbtm_session_metrics (session_id, project_id, start_day, testers)"
        " SELECT id, project_id, "
        + day
        + ", CASE WHEN assignee_id IS NULL THEN 0 ELSE 1 END FROM sessions"
    )
    op.execute(
        "INSERT INTO sbtm_tester_totals (project_id, user_id, sessions)"
        " SELECT project_id, assignee_id, COUNT(*) FROM sessions"
        " WHERE assignee_id IS NOT NULL GROUP BY project_id, assignee_id"
    )
    op.execute(
        "INSERT INTO sbtm_day_totals (project_id, day, sessions)"
        " SELECT project_id, start_day, COUNT(*) FROM sbtm_session_metrics"
        " WHERE start_day IS NOT NULL GROUP BY project_id, start_day"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(op.f("ix_sessions_project_id_started_at_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_project_id_sheet_name"), table_name="sessions")
    for column in (
        "issue_count",
        "bug_count",
        "sheet_name",
        "data_files",
        "pct_opportunity",
        "pct_charter",
        "pct_setup",
        "pct_bug",
        "pct_test",
        "duration_multiplier",
        "duration_class",
    ):
        op.drop_column("sessions", column)
    op.drop_index(op.f("ix_session_results_session_id_kind_id"), table_name="session_results")
    op.drop_index(op.f("ix_session_results_kind_id"), table_name="session_results")
    if sqlite:
        # SQLite cannot drop a column a foreign key uses without copying the table,
        # which rows referring to session_results refuse: clear it, keep it (unused).
        op.execute("UPDATE session_results SET kind_id = NULL")
    else:
        op.drop_constraint(
            op.f("fk_session_results_kind_id_result_kinds"), "session_results", type_="foreignkey"
        )
        op.drop_column("session_results", "kind_id")
    for name in ("long", "normal", "short"):
        op.drop_column("projects", f"timebox_{name}")
    for table in (
        "session_testers",
        "session_areas",
        "sbtm_session_metrics",
        "sbtm_area_totals",
        "sbtm_tester_totals",
        "sbtm_day_totals",
    ):
        op.drop_table(table)
    if not sqlite:
        op.drop_table("result_kinds")
    op.drop_table("areas")
