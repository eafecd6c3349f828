"""server keys and shared throttle counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:00:00

server_keys holds the CSRF HMAC key (one per database, shared by every worker),
throttle_counters the sign-in and API authentication failure counts; token
secrets that Idempotency-Key stored before are withheld. Another branch adds 0003: the
integrator re-chains this one after it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_keys")),
    )
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_throttle_counters_window_start"), ["window_start"], unique=False
        )
    # Responses stored by Idempotency-Key before 0004 could hold an API token secret
    # (POST /api/v1/tokens): withhold their bodies, as the store now does.
    keys = sa.table(
        "idempotency_keys", sa.column("id", sa.Integer), sa.column("response_body", sa.LargeBinary)
    )
    conn = op.get_bind()
    for row_id, body in conn.execute(sa.select(keys.c.id, keys.c.response_body)).all():
        if re.search(rb"charter_[A-Za-z0-9_\-]{32,}", bytes(body)):
            conn.execute(sa.update(keys).where(keys.c.id == row_id).values(response_body=b""))


def downgrade() -> None:
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_counters_window_start"))
    op.drop_table("throttle_counters")
    op.drop_table("server_keys")
