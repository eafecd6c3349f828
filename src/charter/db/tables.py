"""The schema, as SQLAlchemy Core tables (the single source for migrations and queries).

Timestamps are naive UTC datetimes (set in Python). Durations are integer microseconds.
"""

from __future__ import annotations

import sqlalchemy as sa

# For type hints outside db/ and the queries modules, which build no SQL themselves.
Table = sa.Table

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Status slots: status ids 1..25; id 1 is Untested and counts into untested_count,
# status id N+1 counts into status{N}_count.
STATUS_IDS = range(1, 26)
STATUS_SLOT_COLUMNS = ["untested_count"] + [f"status{n}_count" for n in range(1, 25)]
COUNTER_COLUMNS = [
    *STATUS_SLOT_COLUMNS,
    "success_count",
    "failure_count",
    "completed_count",
    "total_count",
]

FIELD_TYPES = (
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
ROLE_NAMES = ("viewer", "tester", "manager")
# SBTM: the percentages of a session sheet (test, bug, setup add up to 100; charter and
# opportunity too), duration classes, and the categories a result kind counts as.
SBTM_PCT_NAMES = ("test", "bug", "setup", "charter", "opportunity")
DURATION_CLASSES = ("short", "normal", "long")
KIND_CATEGORIES = ("note", "bug", "issue")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _by(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer, sa.ForeignKey("users.id"), nullable=True)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    # The email as users are found by it: NFKC + casefold, computed in Python so that
    # both databases agree (SQLite's lower() folds only ASCII); unique (migration 0003).
    # Longer than `email`: folding may lengthen text ("ß" -> "ss").
    sa.Column("email_key", sa.String(1000), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    # The role the user gets when added to a project without naming one.
    sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("date_format", sa.String(32), nullable=True),
    sa.Column("time_format", sa.String(32), nullable=True),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.Integer, nullable=True),
    _ts("updated_at"),
    sa.Column("updated_by", sa.Integer, nullable=True),
    sa.Index(None, "email_key", unique=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    # sha256 hex of the secret; the secret itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _ts("created_at", nullable=False),
    _ts("last_used_at"),
    _ts("revoked_at"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("system_name", sa.String(32), nullable=False, unique=True),
    # Bit set of what the role may do: 1 read, 2 run sessions, 4 manage the project.
    sa.Column("permissions", sa.Integer, nullable=False, default=1),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.Integer, nullable=True),
    _ts("updated_at"),
    sa.Column("updated_by", sa.Integer, nullable=True),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    _ts("created_at", nullable=False),
    sa.Column("created_by", sa.Integer, nullable=True),
    _ts("updated_at"),
    sa.Column("updated_by", sa.Integer, nullable=True),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Index(None, "user_id", "group_id"),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("is_completed", sa.Boolean, nullable=False, default=False),
    # Stored counters: changed in the same transaction as the rows they count.
    sa.Column("session_count", sa.Integer, nullable=False, default=0),
    sa.Column("session_active_count", sa.Integer, nullable=False, default=0),
    sa.Column("session_closed_count", sa.Integer, nullable=False, default=0),
    # Bumped in the same transaction as any change to which sessions a filter
    # matches (insert, update, delete, tags): cached list totals are keyed by it.
    sa.Column("session_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("milestone_count", sa.Integer, nullable=False, default=0),
    sa.Column("milestone_active_count", sa.Integer, nullable=False, default=0),
    sa.Column("milestone_completed_count", sa.Integer, nullable=False, default=0),
    *(
        sa.Column(f"automation_{c}", sa.Integer, nullable=False, server_default="0")
        for c in (
            "source_count",
            "source_active_count",
            "source_retired_count",
            "run_count",
            "run_active_count",
            "run_completed_count",
        )
    ),
    # SBTM timeboxes in minutes of the duration classes short / normal / long; a
    # session's duration in units is timebox(class) / timebox(normal) x multiplier.
    sa.Column("timebox_short", sa.Integer, nullable=False, default=60, server_default="60"),
    sa.Column("timebox_normal", sa.Integer, nullable=False, default=90, server_default="90"),
    sa.Column("timebox_long", sa.Integer, nullable=False, default=120, server_default="120"),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    _ts("completed_at"),
)

project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=False),
    sa.Index(None, "user_id", "project_id"),
)

milestone_types = sa.Table(
    "milestone_types",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
)

milestones = sa.Table(
    "milestones",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    # Milestones nest: root_id is the top of the tree (the milestone itself at the top).
    sa.Column("root_id", sa.Integer, sa.ForeignKey("milestones.id"), nullable=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("milestones.id"), nullable=True),
    sa.Column("type_id", sa.Integer, sa.ForeignKey("milestone_types.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("is_started", sa.Boolean, nullable=False, default=False),
    sa.Column("is_completed", sa.Boolean, nullable=False, default=False),
    sa.Column("start_date", sa.Date, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    _ts("started_at"),
    _ts("completed_at"),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    sa.Index(None, "project_id", "created_at", "id"),
    sa.Index(None, "project_id", "parent_id"),
    sa.Index(None, "project_id", "root_id"),
)

milestone_issues = sa.Table(
    "milestone_issues",
    metadata,
    sa.Column("milestone_id", sa.Integer, sa.ForeignKey("milestones.id"), primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
)

configs = sa.Table(
    "configs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    _ts("created_at", nullable=False),
)

# Templates, fields, workflow states, statuses, issues and tags are site-wide.
templates = sa.Table(
    "templates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
    _ts("created_at", nullable=False),
)

template_fields = sa.Table(
    "template_fields",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("template_id", sa.Integer, sa.ForeignKey("templates.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    # The API key is custom_<system_name>.
    sa.Column("system_name", sa.String(100), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("is_required", sa.Boolean, nullable=False, default=False),
    sa.Column("display_order", sa.Integer, nullable=False, default=0),
    # 'session': a field of the session itself; 'result': a field of each result.
    sa.Column("scope", sa.String(16), nullable=False, server_default="session"),
    sa.UniqueConstraint("template_id", "system_name"),
    sa.CheckConstraint(
        "type IN (" + ", ".join(f"'{t}'" for t in FIELD_TYPES) + ")", name="field_type"
    ),
)

field_values = sa.Table(
    "field_values",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("field_id", sa.Integer, sa.ForeignKey("template_fields.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("icon", sa.String(64), nullable=True),
    sa.Column("color", sa.String(7), nullable=True),
    sa.Column("display_order", sa.Integer, nullable=False, default=0),
    sa.Index(None, "field_id", "id"),
)

states = sa.Table(
    "states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
    sa.Column("display_order", sa.Integer, nullable=False, default=0),
    # What the state means in a session's lifecycle (set by a manager): planned,
    # active, review or done; null for none. Start, close and reopen move a session
    # to the state meaning active / done / active (sessions/service.py).
    sa.Column("meaning", sa.String(20), nullable=True),
)

statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("system_name", sa.String(100), nullable=False),
    sa.Column("color", sa.String(7), nullable=False),
    sa.Column("is_final", sa.Boolean, nullable=False, default=False),
    sa.Column("is_untested", sa.Boolean, nullable=False, default=False),
    sa.Column("is_passed", sa.Boolean, nullable=False, default=False),
    sa.Column("is_failed", sa.Boolean, nullable=False, default=False),
    sa.Column("is_active", sa.Boolean, nullable=False, default=False),
    # JSON array of strings.
    sa.Column("aliases", sa.Text, nullable=False, default="[]"),
    sa.CheckConstraint("id BETWEEN 1 AND 25", name="status_id_range"),
)

issues = sa.Table(
    "issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # 1 custom, 2 GitHub, 3 GitLab, 4 Jira
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("display_id", sa.String(200), nullable=False),
    sa.Column("external_project_id", sa.Integer, nullable=True),
    sa.Column("external_project_key", sa.String(200), nullable=True),
    _ts("created_at", nullable=False),
    sa.CheckConstraint("type BETWEEN 1 AND 4", name="issue_type"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("template_id", sa.Integer, sa.ForeignKey("templates.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("config_id", sa.Integer, sa.ForeignKey("configs.id"), nullable=True),
    sa.Column("milestone_id", sa.Integer, sa.ForeignKey("milestones.id"), nullable=True),
    sa.Column("state_id", sa.Integer, sa.ForeignKey("states.id"), nullable=False),
    sa.Column("assignee_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("estimate", sa.BigInteger, nullable=True),
    sa.Column("forecast", sa.BigInteger, nullable=True),
    sa.Column("elapsed", sa.BigInteger, nullable=True),
    sa.Column("is_started", sa.Boolean, nullable=False, default=False),
    sa.Column("is_closed", sa.Boolean, nullable=False, default=False),
    # SBTM extension: the mission text; and when the timer was last (re)started
    # while it runs (null when paused or never started).
    sa.Column("charter", sa.Text, nullable=True),
    _ts("running_since"),
    # Whether someone set state_id by hand: then the lifecycle no longer moves it.
    sa.Column(
        "state_is_manual", sa.Boolean, nullable=False, default=False, server_default=sa.false()
    ),
    # Who started the session (its timer's time is credited to them on the dashboard).
    _by("started_by"),
    # SBTM debriefs: the session whose debrief's outlook this charter came from
    # (cleared by sessions/queries.delete_session: SQLite cannot add the column with
    # an ON DELETE rule that reflection sees).
    sa.Column("follow_up_of", sa.Integer, sa.ForeignKey("sessions.id"), nullable=True),
    *(sa.Column(c, sa.Integer, nullable=False, default=0) for c in COUNTER_COLUMNS),
    _ts("started_at"),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    _ts("closed_at"),
    _by("closed_by"),
    # SBTM session sheet (sbtm/): duration class and multiplier (null = 1), task
    # breakdown T/B/S and charter vs. opportunity C/O in percent, data files (one a
    # line), the sheet's file name, and the stored counts of bug and issue notes.
    sa.Column("duration_class", sa.String(10), nullable=True),
    sa.Column("duration_multiplier", sa.Float, nullable=True),
    *(sa.Column(f"pct_{c}", sa.Integer, nullable=True) for c in SBTM_PCT_NAMES),
    sa.Column("data_files", sa.Text, nullable=True),
    sa.Column("sheet_name", sa.String(255), nullable=True),
    sa.Column("bug_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("issue_count", sa.Integer, nullable=False, default=0, server_default="0"),
    # One index per documented filter and sort, each ending in the sort key so that
    # "filter + ORDER BY created_at, id" walks the index without a sort step.
    # The two sort indexes carry the other timestamp, so a range filter on one while
    # sorting by the other is answered from the index alone.
    sa.Index(None, "project_id", "created_at", "id", "closed_at"),
    # PostgreSQL: built with closed_at NULLS FIRST (migration 0001): lists sort nulls
    # lowest, and only that order lets an index scan serve both directions.
    sa.Index(None, "project_id", "closed_at", "id", "created_at"),
    sa.Index(None, "project_id", "is_closed", "created_at", "id"),
    sa.Index(None, "project_id", "assignee_id", "created_at", "id"),
    sa.Index(None, "project_id", "config_id", "created_at", "id"),
    sa.Index(None, "project_id", "created_by", "created_at", "id"),
    sa.Index(None, "project_id", "milestone_id", "created_at", "id"),
    sa.Index(None, "project_id", "state_id", "created_at", "id"),
    sa.Index(None, "project_id", "template_id", "created_at", "id"),
    # The running sessions of a window (the dashboard adds their live time), and the
    # list's "running now" filter (is_running=1): only running sessions are indexed.
    sa.Index(
        "ix_sessions_running",
        "project_id",
        "created_at",
        sqlite_where=sa.text("running_since IS NOT NULL"),
        postgresql_where=sa.text("running_since IS NOT NULL"),
    ),
    # PostgreSQL: built with started_at NULLS FIRST (migration 0016), as closed_at above.
    sa.Index(None, "project_id", "started_at", "id"),
    # Partial: only sessions with a sheet name are in it, so the planner never takes
    # it for a plain project_id condition.
    sa.Index(
        None,
        "project_id",
        "sheet_name",
        unique=True,
        sqlite_where=sa.text("sheet_name IS NOT NULL"),
        postgresql_where=sa.text("sheet_name IS NOT NULL"),
    ),
    sa.Index(None, "follow_up_of"),
    # Search (name and charter): on PostgreSQL a pg_trgm GIN index on
    # db.listing.search_text, on SQLite the FTS5 table below; both built by
    # migration 0014 only (neither can be declared here for both databases).
)

# SQLite only: an FTS5 trigram index of sessions' name and charter (external
# content, kept by triggers; migration 0014). Not in `metadata`: a virtual table.
SESSION_SEARCH = sa.table("session_search", sa.column("rowid", sa.Integer))

# Live updates on SQLite (charter/live): every write to a session or its notes adds a
# row in the same transaction; each worker polls for rows after the last it saw (one
# writer at a time, so ids commit in order). Old rows are purged as new ones come.
# PostgreSQL uses NOTIFY instead and leaves this table empty.
live_events = sa.Table(
    "live_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, nullable=False),
    sa.Column("session_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
)

# Results per project, UTC day (of the result's created_at) and status (0: none): the
# dashboard's per-day picture. Kept in the same transaction as every result write (by
# results/queries.py on PostgreSQL, by triggers on SQLite: migration 0015) and rebuilt
# by `charter recount`.
result_day_counts = sa.Table(
    "result_day_counts",
    metadata,
    sa.Column(
        "project_id",
        sa.Integer,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("status_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("count", sa.Integer, nullable=False),
)

# Sessions per project, UTC day of creation, runner (who started the session, else its
# assignee; 0 for nobody) and workflow state, with their stored elapsed: the dashboard's
# window reads this instead of the sessions, so 90 days cost what 7 do. Kept by
# triggers on `sessions` (migration 0008) in the same transaction as every write, by
# whatever path (API, pages, CLI, importers, loaders); rebuilt by `charter recount`.
session_day_counts = sa.Table(
    "session_day_counts",
    metadata,
    sa.Column(
        "project_id",
        sa.Integer,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("runner_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sessions", sa.Integer, nullable=False),
    sa.Column("elapsed", sa.BigInteger, nullable=False),
    # On SQLite the rows live in the key's b-tree: a window is one range read.
    sqlite_with_rowid=False,
)

session_tags = sa.Table(
    "session_tags",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id"), primary_key=True),
    sa.Index(None, "tag_id", "session_id"),
)

session_issues = sa.Table(
    "session_issues",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Index(None, "issue_id", "session_id"),
)

session_field_values = sa.Table(
    "session_field_values",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("field_id", sa.Integer, sa.ForeignKey("template_fields.id"), primary_key=True),
    # JSON-encoded value: string, number, bool, date string, value id, or list of ids.
    sa.Column("value", sa.Text, nullable=False),
)

session_results = sa.Table(
    "session_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    # null = a plain note without a status
    sa.Column("status_id", sa.Integer, sa.ForeignKey("statuses.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("elapsed", sa.BigInteger, nullable=True),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    # The note's kind (result_kinds); null: the project's default kind (a test note).
    sa.Column("kind_id", sa.Integer, sa.ForeignKey("result_kinds.id"), nullable=True),
    sa.Index(None, "session_id", "created_at", "id"),
    sa.Index(None, "session_id", "status_id"),
    sa.Index(None, "session_id", "kind_id"),
    sa.Index(None, "kind_id"),
)

result_field_values = sa.Table(
    "result_field_values",
    metadata,
    sa.Column(
        "result_id",
        sa.Integer,
        sa.ForeignKey("session_results.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("field_id", sa.Integer, sa.ForeignKey("template_fields.id"), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

result_issues = sa.Table(
    "result_issues",
    metadata,
    sa.Column(
        "result_id",
        sa.Integer,
        sa.ForeignKey("session_results.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
)

# Automation: CI results submitted by the testmo CLI (automation/). A source names the
# suite that submits (created on first use); a run holds threads (parallel jobs), and
# threads hold tests. Runs and threads carry the session counter columns, changed in
# the same transaction as the tests that change them. JSON columns hold the lists
# of artifacts, fields and links exactly as submitted (after validation).
automation_sources = sa.Table(
    "automation_sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("is_retired", sa.Boolean, nullable=False, default=False),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    _ts("retired_at"),
    _by("retired_by"),
    sa.UniqueConstraint("project_id", "name"),
    sa.Index(None, "project_id", "created_at", "id"),
)

automation_runs = sa.Table(
    "automation_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("automation_sources.id"), nullable=False),
    sa.Column("name", sa.String(750), nullable=False),
    sa.Column("config_id", sa.Integer, sa.ForeignKey("configs.id"), nullable=True),
    sa.Column("milestone_id", sa.Integer, sa.ForeignKey("milestones.id"), nullable=True),
    # 2 success, 3 failure, 4 running
    sa.Column("status", sa.Integer, nullable=False, default=4),
    sa.Column("elapsed", sa.BigInteger, nullable=True),
    sa.Column("is_completed", sa.Boolean, nullable=False, default=False),
    sa.Column("artifacts", sa.Text, nullable=False, default="[]"),
    sa.Column("fields", sa.Text, nullable=False, default="[]"),
    sa.Column("links", sa.Text, nullable=False, default="[]"),
    *(sa.Column(c, sa.Integer, nullable=False, default=0) for c in COUNTER_COLUMNS),
    sa.Column("thread_count", sa.Integer, nullable=False, default=0),
    sa.Column("thread_active_count", sa.Integer, nullable=False, default=0),
    sa.Column("thread_completed_count", sa.Integer, nullable=False, default=0),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("updated_at"),
    _by("updated_by"),
    _ts("completed_at"),
    _by("completed_by"),
    sa.Index(None, "project_id", "created_at", "id"),
    sa.Index(None, "project_id", "completed_at", "id"),
    sa.Index(None, "project_id", "source_id", "created_at", "id"),
    sa.Index(None, "project_id", "config_id", "created_at", "id"),
    sa.Index(None, "project_id", "milestone_id", "created_at", "id"),
    sa.Index(None, "project_id", "status", "created_at", "id"),
    sa.Index(None, "project_id", "created_by", "created_at", "id"),
    sa.Index(None, "source_id", "is_completed", "created_at"),
)

automation_run_tags = sa.Table(
    "automation_run_tags",
    metadata,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("automation_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Index(None, "name", "run_id"),
)

automation_threads = sa.Table(
    "automation_threads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("automation_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # 1, 2, ... in the order the threads were created in their run (the API's index)
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False, default=4),
    sa.Column("elapsed", sa.BigInteger, nullable=True),
    sa.Column("elapsed_observed", sa.BigInteger, nullable=True),
    sa.Column("elapsed_computed", sa.BigInteger, nullable=True),
    sa.Column("is_completed", sa.Boolean, nullable=False, default=False),
    sa.Column("artifacts", sa.Text, nullable=False, default="[]"),
    sa.Column("fields", sa.Text, nullable=False, default="[]"),
    *(sa.Column(c, sa.Integer, nullable=False, default=0) for c in COUNTER_COLUMNS),
    _ts("created_at", nullable=False),
    _by("created_by"),
    _ts("completed_at"),
    _by("completed_by"),
    sa.Index(None, "run_id", "position"),
)

automation_tests = sa.Table(
    "automation_tests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("automation_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "thread_id",
        sa.Integer,
        sa.ForeignKey("automation_threads.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The stable identity of a test across the runs of a source.
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(750), nullable=False),
    sa.Column("folder", sa.String(750), nullable=True),
    sa.Column("status_id", sa.Integer, sa.ForeignKey("statuses.id"), nullable=False),
    sa.Column("elapsed", sa.BigInteger, nullable=True),
    sa.Column("file", sa.String(750), nullable=True),
    sa.Column("line", sa.Integer, nullable=True),
    sa.Column("assertions", sa.Integer, nullable=True),
    sa.Column("artifacts", sa.Text, nullable=False, default="[]"),
    sa.Column("fields", sa.Text, nullable=False, default="[]"),
    _ts("created_at", nullable=False),
    _by("created_by"),
    sa.Index(None, "run_id", "id"),
    sa.Index(None, "run_id", "status_id", "id"),
    sa.Index(None, "thread_id", "id"),
)

# Responses to POSTs sent with an Idempotency-Key, so a retried request returns the
# first response instead of writing twice. Rows older than a day are purged.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    # sha256 of method, path and body: the same key with another request is refused.
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response_body", sa.LargeBinary, nullable=False),
    _ts("created_at", nullable=False),
    sa.UniqueConstraint("user_id", "key"),
    sa.Index(None, "created_at"),
)

# Browser sign-in sessions of the web UI. The cookie holds a random secret; only its
# sha256 is stored, like API tokens. A cookie never authenticates an /api/v1 call.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _ts("created_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    _ts("expires_at", nullable=False),
    sa.Index(None, "user_id"),
    sa.Index(None, "expires_at"),
)

# Server-side secrets, created once per database and shared by every worker: `csrf`
# keys the HMAC that binds a web form's CSRF token to the browser's session.
server_keys = sa.Table(
    "server_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
    _ts("created_at", nullable=False),
)

# Fixed-window throttle counters shared by every worker process (failed sign-ins per
# email and per address, failed API authentications per address): one upsert a hit.
# `key` is the sha256 of the throttle's name and the key (an email, an address), so
# no email or address is stored; rows are purged once their window is long over.
throttle_counters = sa.Table(
    "throttle_counters",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    _ts("window_start", nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Index(None, "window_start"),
)

# Attachments (evidence on sessions and their notes). The bytes are content-addressed
# blobs, stored once however often attached: attachment_blobs registers every blob
# (both backends), attachment_chunks holds the bytes of the database backend.
attachment_blobs = sa.Table(
    "attachment_blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mime_type", sa.String(100), nullable=False),
    # where its bytes are: "file" (CHARTER_ATTACHMENTS_DIR) or "database" (chunks)
    sa.Column("backend", sa.String(16), nullable=False),
    # thumbnails and previews of images are blobs too (null for non-images)
    sa.Column("thumbnail_sha256", sa.String(64), nullable=True),
    sa.Column("preview_sha256", sa.String(64), nullable=True),
    _ts("created_at", nullable=False),
)


attachment_chunks = sa.Table(
    "attachment_chunks",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)


attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column(
        "result_id",
        sa.Integer,
        sa.ForeignKey("session_results.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("mime_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("attachment_blobs.sha256"), nullable=False),
    _ts("created_at", nullable=False),
    _by("created_by"),
    sa.Index(None, "session_id", "id"),
    sa.Index(None, "session_id", "created_by", "id"),
    sa.Index(None, "result_id", "id"),
    sa.Index(None, "sha256"),
)

# Note edit history: every edit of a result's text or status keeps what it replaced,
# written in the same transaction as the edit (results/service.py). `edited_at` and
# `edited_by` say when and by whom the old version was replaced.
note_history = sa.Table(
    "note_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "result_id",
        sa.Integer,
        sa.ForeignKey("session_results.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status_id", sa.Integer, sa.ForeignKey("statuses.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    _ts("edited_at", nullable=False),
    _by("edited_by"),
    sa.Index(None, "result_id", "id"),
)

# A project's issue tracker for the web UI (Charter extension): where "File a bug"
# opens a new issue ({title} and {body} filled in) and what an issue's page is
# ({key}); the latter also turns a pasted issue URL back into its key.
issue_trackers = sa.Table(
    "issue_trackers",
    metadata,
    sa.Column(
        "project_id",
        sa.Integer,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("new_issue_url", sa.Text, nullable=True),
    sa.Column("issue_url", sa.Text, nullable=True),
    _ts("updated_at", nullable=False),
    _by("updated_by"),
)


# SBTM (sbtm/): a project's note kinds, its coverage areas, the areas and testers of a
# session, each session's stored metrics and their rollups per area, tester and day.
result_kinds = sa.Table(
    "result_kinds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("color", sa.String(7), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # what the kind counts as: 'note' (a test note), 'bug' or 'issue'
    sa.Column("category", sa.String(10), nullable=False),
    sa.Index(None, "project_id", "position", "id"),
    sa.CheckConstraint("category IN ('note', 'bug', 'issue')", name="kind_category"),
)

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    # display form: each "|"-separated part trimmed, joined with " | "
    sa.Column("name", sa.String(500), nullable=False),
    # the display form casefolded (computed in Python, like users.email_key)
    sa.Column("name_key", sa.String(1000), nullable=False),
    _ts("created_at", nullable=False),
    _by("created_by"),
    sa.UniqueConstraint("project_id", "name_key"),
)

session_areas = sa.Table(
    "session_areas",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id"), primary_key=True),
    sa.Index(None, "area_id", "session_id"),
)

session_testers = sa.Table(
    "session_testers",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    # 0 is the first tester, who is also sessions.assignee_id
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index(None, "user_id", "session_id"),
)

# Metric values are exact integers over a fixed denominator (sbtm/metrics.py):
# n_* are in 1/(1000 * 10000) minute-units, so sums never drift; the tester shares of
# bugs and issues are in 1/720720 (every tester count up to 16 divides it).
SBTM_N_COLUMNS = ("n_total", "n_charter", "n_opportunity", "n_test", "n_bug", "n_setup")


def _n_columns() -> list[sa.Column[object]]:
    return [
        sa.Column(c, sa.BigInteger, nullable=False, default=0, server_default="0")
        for c in SBTM_N_COLUMNS
    ]


sbtm_session_metrics = sa.Table(
    "sbtm_session_metrics",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    # UTC day of sessions.started_at (null: not started)
    sa.Column("start_day", sa.Date, nullable=True),
    sa.Column("testers", sa.Integer, nullable=False),
    *_n_columns(),
    sa.Column("bugs", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("issues", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Index(None, "project_id", "session_id"),
)

sbtm_area_totals = sa.Table(
    "sbtm_area_totals",
    metadata,
    sa.Column(
        "area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("sessions", sa.Integer, nullable=False, default=0, server_default="0"),
    *_n_columns(),
    sa.Column("bugs", sa.BigInteger, nullable=False, default=0, server_default="0"),
    sa.Column("issues", sa.BigInteger, nullable=False, default=0, server_default="0"),
)

sbtm_tester_totals = sa.Table(
    "sbtm_tester_totals",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("sessions", sa.Integer, nullable=False, default=0, server_default="0"),
    *_n_columns(),
    sa.Column("bugs_share", sa.BigInteger, nullable=False, default=0, server_default="0"),
    sa.Column("issues_share", sa.BigInteger, nullable=False, default=0, server_default="0"),
)

sbtm_day_totals = sa.Table(
    "sbtm_day_totals",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("sessions", sa.Integer, nullable=False, default=0, server_default="0"),
    *_n_columns(),
    sa.Column("bugs", sa.BigInteger, nullable=False, default=0, server_default="0"),
    sa.Column("issues", sa.BigInteger, nullable=False, default=0, server_default="0"),
)


# SBTM debriefs (charter/debriefs): one row per session once it is submitted or a
# manager writes its debrief. status: submitted / returned / approved, or null (a
# draft: never submitted, or withdrawn by reopening). Outlook items are lines of
# `outlook`. `version` changes with every write, so the GET's ETag does (If-Match).
debriefs = sa.Table(
    "debriefs",
    metadata,
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=True),
    sa.Column("past", sa.Text, nullable=True),
    sa.Column("results", sa.Text, nullable=True),
    sa.Column("obstacles", sa.Text, nullable=True),
    sa.Column("outlook", sa.Text, nullable=True),
    sa.Column("feelings", sa.Text, nullable=True),
    _ts("submitted_at"),
    _by("submitted_by"),
    _ts("debriefed_at"),
    _by("debriefed_by"),
    _ts("returned_at"),
    _by("returned_by"),
    sa.Column("return_comment", sa.Text, nullable=True),
    _ts("approved_at"),
    _by("approved_by"),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    # The "waiting for debrief" list: a project's submitted sheets, oldest first.
    sa.Index(None, "project_id", "status", "submitted_at", "session_id"),
)
