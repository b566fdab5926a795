"""The usage ledger, and per-company plan overrides.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("plan_overrides", sa.JSON(), nullable=True))
    op.create_table(
        "usage_events",
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("company_id", sa.String(32), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("operation_name", sa.String(128), nullable=True),
        sa.Column("operation_type", sa.String(16), nullable=True),
        sa.Column("document_hash", sa.String(64), nullable=True),
        sa.Column("requested_cost", sa.Integer(), nullable=False),
        sa.Column("actual_cost", sa.Integer(), nullable=False),
        sa.Column("billable_cost", sa.Integer(), nullable=False),
        sa.Column("backend_calls", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_codes", sa.String(300), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_usage_events"),
    )
    op.create_index("ix_usage_events_request_id", "usage_events", ["request_id"])
    op.create_index("ix_usage_events_company_id_at", "usage_events", ["company_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_usage_events_company_id_at", table_name="usage_events")
    op.drop_index("ix_usage_events_request_id", table_name="usage_events")
    op.drop_table("usage_events")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("plan_overrides")
