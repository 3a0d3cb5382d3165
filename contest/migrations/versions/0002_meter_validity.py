"""meter validity period and replacement (meter swaps)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
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
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replaces_meter_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_meter_replaces_meter_id_meter"),
            "meter",
            ["replaces_meter_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("meter", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_meter_replaces_meter_id_meter"), type_="foreignkey")
        batch_op.drop_column("replaces_meter_id")
        batch_op.drop_column("valid_to")
        batch_op.drop_column("valid_from")
