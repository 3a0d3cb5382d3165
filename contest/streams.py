"""Streamed readings (MQTT): device bindings, batch storage with rejected records, deferred daily rebuild."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest.db import Database
from contest.errors import ConfigError, MeterNotFound
from contest.models import (
    Contest,
    DailyDirty,
    DeviceBinding,
    Household,
    Meter,
    Reading,
    RejectedRecord,
    to_epoch_us,
)
from contest.readings import KIND_REGISTER
from contest.services import ReadingService, _clean_name, pg_copy_readings, storable_text

#: channel of a binding that takes the device's only import channel (pinned on first sight)
ANY_CHANNEL = "*"


@dataclass(frozen=True, slots=True)
class BoundMeter:
    meter_id: int
    external_id: str
    timezone: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StreamRow:
    """A reading ready to store. ts_utc: aware UTC; energy_kwh: register value or interval energy [kWh]."""

    meter_id: int
    ts_utc: dt.datetime
    energy_kwh: float
    kind: str
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class StreamRejection:
    """A message kept in the rejected store: topic, payload, reason, when it arrived."""

    topic: str
    payload: bytes
    reason: str
    key: str
    received_at: dt.datetime
    meter_id: int | None = None


def payload_text(payload: bytes) -> str:
    """Payload as storable text; bytes that are not UTF-8 are kept as \\x escapes, never lost."""
    return storable_text(payload.decode("utf-8", errors="backslashreplace"))


class StreamService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.readings = ReadingService(db)

    def bind(self, meter_external_id: str, device: str, channel: str = ANY_CHANNEL) -> BoundMeter:
        """Bind a device's channel to a meter (city staff: ``contest meter bind``)."""
        device = _clean_name(device, "device id", 200)
        channel = _clean_name(channel or ANY_CHANNEL, "channel", 120)
        with self.db.session() as session:
            meter = session.scalars(select(Meter).where(Meter.external_id == meter_external_id)).one_or_none()
            if meter is None:
                raise MeterNotFound(f"no meter with the id {meter_external_id!r}")
            existing = session.get(DeviceBinding, (device, channel))
            if existing is not None and existing.meter_id != meter.id:
                raise ConfigError(f"device {device!r} channel {channel!r} is already bound to another meter")
            if existing is None:
                session.add(DeviceBinding(device=device, channel=channel, meter_id=meter.id))
        return self.bindings()[(device, channel)]

    def bindings(self) -> dict[tuple[str, str], BoundMeter]:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    DeviceBinding.device,
                    DeviceBinding.channel,
                    Meter.id,
                    Meter.external_id,
                    Contest.timezone,
                    Meter.valid_from,
                    Meter.valid_to,
                )
                .join(Meter, Meter.id == DeviceBinding.meter_id)
                .join(Household, Household.id == Meter.household_id)
                .join(Contest, Contest.id == Household.contest_id)
            ).all()
        return {(d, c): BoundMeter(mid, ext, tz, vf, vt) for d, c, mid, ext, tz, vf, vt in rows}

    def pin(self, device: str, channel: str) -> None:
        """Turn the device's "*" binding into a binding of ``channel`` (its only import channel)."""
        with self.db.session() as session:
            binding = session.get(DeviceBinding, (device, ANY_CHANNEL))
            if binding is not None and session.get(DeviceBinding, (device, channel)) is None:
                session.add(DeviceBinding(device=device, channel=channel, meter_id=binding.meter_id))
                session.delete(binding)

    def last_register(self, meter_id: int) -> tuple[dt.datetime, float] | None:
        """The latest stored register reading of a meter (time [UTC], value [kWh])."""
        with self.db.session() as session:
            row = session.execute(
                select(Reading.ts_utc, Reading.energy_kwh)
                .where(Reading.meter_id == meter_id, Reading.kind == KIND_REGISTER)
                .order_by(Reading.ts_utc.desc())
                .limit(1)
            ).first()
        return (row[0], float(row[1])) if row else None

    def store(self, rows: Sequence[StreamRow], rejections: Sequence[StreamRejection]) -> int:
        """Store a batch in ONE transaction: readings (a reading already stored is skipped by the key),
        rejected messages, and the meters' dirty-day marks. Returns the readings newly stored."""
        with self.db.session() as session:
            stored = self._insert(session, rows)
            if rejections:
                session.execute(
                    insert(RejectedRecord),
                    [
                        {
                            "source": "mqtt",
                            "topic": storable_text(r.topic)[:300],
                            "raw": payload_text(r.payload),
                            "reason": storable_text(r.reason),
                            "key": r.key,
                            "created_at": r.received_at,
                            "meter_id": r.meter_id,
                        }
                        for r in rejections
                    ],
                )
            if rows:
                self._mark_dirty(session, rows)
        return stored

    @staticmethod
    def _insert(session: Session, rows: Sequence[StreamRow]) -> int:
        if not rows:
            return 0
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(
                "INSERT INTO reading (meter_id, ts_utc, energy_kwh, kind, duration_s, source, batch_id) "
                "VALUES (?, ?, ?, ?, ?, 'mqtt', NULL) ON CONFLICT (meter_id, ts_utc, kind) DO NOTHING",
                [(r.meter_id, to_epoch_us(r.ts_utc), r.energy_kwh, r.kind, r.duration_s) for r in rows],
            )
            return int(cursor.rowcount)
        return pg_copy_readings(
            connection,
            ((r.meter_id, r.ts_utc, r.energy_kwh, r.kind, r.duration_s) for r in rows),
            source="mqtt",
            batch_id=None,
        )

    @staticmethod
    def _mark_dirty(session: Session, rows: Sequence[StreamRow]) -> None:
        earliest: dict[int, dt.datetime] = {}
        for r in rows:
            if r.meter_id not in earliest or r.ts_utc < earliest[r.meter_id]:
                earliest[r.meter_id] = r.ts_utc
        values = [{"meter_id": m, "since_utc": ts} for m, ts in earliest.items()]
        stmt: Insert
        if session.connection().dialect.name == "sqlite":
            sqlite_insert = sqlite.insert(DailyDirty).values(values)
            stmt = sqlite_insert.on_conflict_do_update(
                index_elements=[DailyDirty.meter_id],
                set_={"since_utc": func.min(DailyDirty.since_utc, sqlite_insert.excluded.since_utc)},
            )
        else:
            pg_insert = postgresql.insert(DailyDirty).values(values)
            stmt = pg_insert.on_conflict_do_update(
                index_elements=[DailyDirty.meter_id],
                set_={"since_utc": func.least(DailyDirty.since_utc, pg_insert.excluded.since_utc)},
            )
        session.execute(stmt)

    def refresh_daily(self) -> int:
        """Rebuild the daily consumption of every meter marked dirty by streamed readings; returns how
        many meters were refreshed. Scoring calls this first, so leaderboards include the newest data."""
        with self.db.session() as session:
            dirty = session.execute(
                select(DailyDirty.meter_id, DailyDirty.since_utc, Contest.timezone)
                .join(Meter, Meter.id == DailyDirty.meter_id)
                .join(Household, Household.id == Meter.household_id)
                .join(Contest, Contest.id == Household.contest_id)
            ).all()
        for meter_id, since, tz in dirty:
            with self.db.session() as session:
                rows = session.execute(
                    select(Reading.ts_utc, Reading.energy_kwh, Reading.kind, Reading.duration_s).where(
                        Reading.meter_id == meter_id, Reading.ts_utc >= since
                    )
                ).all()
                new = ReadingService._frame(rows)
                if not new.empty:
                    plan = self.readings._daily_plan(session, meter_id, tz, new, batch_id=-1)
                    plan.write(session, plan.compute())
                # Only clear the mark if no newer reading moved it meanwhile (the worker runs alongside).
                session.execute(
                    delete(DailyDirty).where(DailyDirty.meter_id == meter_id, DailyDirty.since_utc == since)
                )
        return len(dirty)

    def rejected(self, limit: int = 100) -> list[StreamRejection]:
        with self.db.session() as session:
            rows = session.scalars(
                select(RejectedRecord)
                .where(RejectedRecord.source == "mqtt")
                .order_by(RejectedRecord.id.desc())
                .limit(limit)
            ).all()
            return [
                StreamRejection(
                    r.topic or "", r.raw.encode("utf-8"), r.reason, r.key, r.created_at, r.meter_id
                )
                for r in rows
            ]

    def rejected_count(self) -> int:
        with self.db.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(RejectedRecord).where(RejectedRecord.source == "mqtt")
                )
                or 0
            )
