"""findings of the daily consumption of a meter's readings, kept for the staff

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty at first: a meter's findings appear when its days are next rebuilt (new readings of those
    # days, ReadingService.rebuild_all_daily); nothing older was kept.
    op.create_table(
        "daily_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_daily_finding_meter_id_meter"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_finding")),
    )
    with op.batch_alter_table("daily_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_finding_meter_id"), ["meter_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_finding_meter_id"))
    op.drop_table("daily_finding")
