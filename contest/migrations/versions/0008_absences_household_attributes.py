"""declared absences of households; building type and electric hot water for the peer benchmark;
households' rank histories (standing revisions) and unchanged-result detection of snapshots

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("building_type", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("electric_hot_water", sa.Boolean(), nullable=True))
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_absence_absence_order")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_absence_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence")),
    )
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_absence_household_id"), ["household_id"], unique=False)
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("ranked_households", sa.Integer(), nullable=True))
    op.create_table(
        "standing_revision",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("savings_fraction", sa.Float(), nullable=True),
        sa.Column("savings_kwh", sa.Float(), nullable=True),
        sa.Column("baseline_kwh_per_day", sa.Float(), nullable=True),
        sa.Column("competition_coverage_fraction", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_standing_revision_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["leaderboard_snapshot.id"],
            name=op.f("fk_standing_revision_snapshot_id_leaderboard_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "household_id", name=op.f("pk_standing_revision")),
    )
    with op.batch_alter_table("standing_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standing_revision_household_id"), ["household_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standing_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standing_revision_household_id"))
    op.drop_table("standing_revision")
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.drop_column("ranked_households")
        batch_op.drop_column("content_hash")
    with op.batch_alter_table("absence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absence_household_id"))
    op.drop_table("absence")
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("electric_hot_water")
        batch_op.drop_column("building_type")
