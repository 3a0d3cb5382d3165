"""a contest's season: its state, grace period, reopen hold, last publication and error; the log of
its state changes (contest_event)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), nullable=False, server_default="announced")
        )
        batch_op.add_column(sa.Column("grace_days", sa.Integer(), nullable=False, server_default="14"))
        batch_op.add_column(sa.Column("hold_open", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
    # Contests closed before seasons existed are final; the clock places the others on the next run.
    op.execute("UPDATE contest SET state = 'final' WHERE closed_at IS NOT NULL")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.alter_column("state", server_default=None)
        batch_op.alter_column("grace_days", server_default=None)
        batch_op.alter_column("hold_open", server_default=None)
    op.create_table(
        "contest_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=False),
        sa.Column("to_state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_event_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["leaderboard_snapshot.id"],
            name=op.f("fk_contest_event_snapshot_id_leaderboard_snapshot"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_event")),
    )
    with op.batch_alter_table("contest_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_event_contest_id"), ["contest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contest_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_event_contest_id"))
    op.drop_table("contest_event")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("last_error_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("last_published_at")
        batch_op.drop_column("hold_open")
        batch_op.drop_column("grace_days")
        batch_op.drop_column("state")
