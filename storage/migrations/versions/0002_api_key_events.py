"""The audit trail of API key events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("company_id", sa.String(32), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.String(500), server_default="", nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_key_events"),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name="fk_api_key_events_company_id_companies"
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name="fk_api_key_events_key_id_api_keys"
        ),
        sa.UniqueConstraint("dedupe_key", name="uq_api_key_events_dedupe_key"),
    )
    op.create_index("ix_api_key_events_at", "api_key_events", ["at"])
    op.create_index("ix_api_key_events_key_id", "api_key_events", ["key_id"])
    op.create_index("ix_api_key_events_company_id_at", "api_key_events", ["company_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_api_key_events_company_id_at", table_name="api_key_events")
    op.drop_index("ix_api_key_events_key_id", table_name="api_key_events")
    op.drop_index("ix_api_key_events_at", table_name="api_key_events")
    op.drop_table("api_key_events")
