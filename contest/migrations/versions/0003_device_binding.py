"""device bindings (MQTT) and the dirty-days table of streamed readings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
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
    op.create_table(
        "device_binding",
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_device_binding_meter_id_meter"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device", "channel", name=op.f("pk_device_binding")),
    )
    with op.batch_alter_table("device_binding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_binding_meter_id"), ["meter_id"], unique=False)
    op.create_table(
        "daily_dirty",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("since_utc", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_daily_dirty_meter_id_meter"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meter_id", name=op.f("pk_daily_dirty")),
    )


def downgrade() -> None:
    op.drop_table("daily_dirty")
    with op.batch_alter_table("device_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_binding_meter_id"))
    op.drop_table("device_binding")
