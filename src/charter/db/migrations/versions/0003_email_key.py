"""users.email_key: a unique, case-insensitive key for emails, on both databases

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:00:00

SQLite's lower() folds only ASCII letters, so `Ärger@x.org` and `ärger@x.org` were
two users there, a lookup by one of them could find the other, and the only unique
constraint (on `email`) was case-sensitive on both databases. The key is computed in
Python (NFKC, then casefold), the same on both databases, and is unique.

The column stays nullable: NOT NULL on SQLite means rebuilding `users`, which a dozen
foreign keys refer to. Every insert and email change sets it (db/queries/users.py).
Existing users whose emails fold to the same key (possible on SQLite) keep their rows:
the oldest gets the key, the others `<key>#<id>`, so the migration never fails on data
and an admin can then fix their emails.
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _key(email: str) -> str:
    # A copy of charter.db.queries.users.email_key as it was at this revision.
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=1000), nullable=True))
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))
    taken: set[str] = set()
    for user_id, email in conn.execute(sa.select(users.c.id, users.c.email).order_by("id")):
        key = _key(email)
        if key in taken:
            log.warning("user %s: email %r clashes with an older user's; fix it", user_id, email)
            key = f"{key}#{user_id}"
        taken.add(key)
        conn.execute(
            sa.text("UPDATE users SET email_key = :key WHERE id = :id"),
            {"key": key, "id": user_id},
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_email_key"), ["email_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_email_key"))
        batch_op.drop_column("email_key")
