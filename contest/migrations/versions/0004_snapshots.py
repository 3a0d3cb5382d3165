"""published leaderboard snapshots and closing contests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
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
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "leaderboard_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_leaderboard_snapshot_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_snapshot")),
    )
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leaderboard_snapshot_contest_id"), ["contest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaderboard_snapshot_contest_id"))
    op.drop_table("leaderboard_snapshot")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
