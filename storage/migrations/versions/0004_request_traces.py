"""Request traces: each request's diagnostics, kept for a retention period.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_traces",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("company_id", sa.String(32), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("operation_name", sa.String(128), nullable=True),
        sa.Column("operation_type", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_codes", sa.String(300), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column("backend_calls", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_traces"),
    )
    op.create_index("ix_request_traces_request_id", "request_traces", ["request_id"])
    op.create_index("ix_request_traces_company_id_at", "request_traces", ["company_id", "at"])
    op.create_index("ix_request_traces_at", "request_traces", ["at"])


def downgrade() -> None:
    op.drop_index("ix_request_traces_at", table_name="request_traces")
    op.drop_index("ix_request_traces_company_id_at", table_name="request_traces")
    op.drop_index("ix_request_traces_request_id", table_name="request_traces")
    op.drop_table("request_traces")
