"""scoring method as data on the contest; daily weather for degree-day baselines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scoring_spec", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "weather_day",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("temp_c", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_weather_day_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contest_id", "day", name=op.f("pk_weather_day")),
    )


def downgrade() -> None:
    op.drop_table("weather_day")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("scoring_spec")
