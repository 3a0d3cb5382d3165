"""register series of a meter (a device's register counts from its own zero), the unit of a device
binding, and the last message seen of each device channel

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_binding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=24), nullable=True))
    op.create_table(
        "register_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_register_series_meter_id_meter"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_series")),
    )
    with op.batch_alter_table("register_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_series_meter_id"), ["meter_id"], unique=False)
    op.create_table(
        "device_seen",
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ts_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=True),
        sa.Column("rejection_key", sa.String(length=80), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_device_seen_meter_id_meter"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("device", "channel", name=op.f("pk_device_seen")),
    )
    with op.batch_alter_table("device_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_seen_meter_id"), ["meter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_seen_received_at"), ["received_at"], unique=False)
    # A meter bound before series existed: its device's series starts at the binding when the meter
    # also has uploaded register readings (those are the display's series), else with the meter.
    conn = op.get_bind()
    bound = conn.execute(
        sa.text("SELECT meter_id, MIN(device), MIN(created_at) FROM device_binding GROUP BY meter_id")
    ).all()
    for meter_id, device, created_at in bound:
        uploaded = conn.execute(
            sa.text(
                "SELECT 1 FROM reading WHERE meter_id = :m AND kind = 'register' AND source <> 'mqtt' LIMIT 1"
            ),
            {"m": meter_id},
        ).first()
        conn.execute(
            sa.text(
                "INSERT INTO register_series (meter_id, starts_at, device, created_at) "
                "VALUES (:m, :s, :d, :c)"
            ),
            {"m": meter_id, "s": created_at if uploaded else None, "d": device, "c": created_at},
        )


def downgrade() -> None:
    with op.batch_alter_table("device_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_seen_received_at"))
        batch_op.drop_index(batch_op.f("ix_device_seen_meter_id"))
    op.drop_table("device_seen")
    with op.batch_alter_table("register_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_series_meter_id"))
    op.drop_table("register_series")
    with op.batch_alter_table("device_binding", schema=None) as batch_op:
        batch_op.drop_column("unit")
