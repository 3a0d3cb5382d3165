"""Streamed readings (MQTT): device bindings and their register series, batch storage with rejected
records and each device's last message, deferred daily rebuild."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest.db import Database
from contest.errors import ConfigError, IngestError, MeterNotFound
from contest.models import (
    Contest,
    DailyDirty,
    DeviceBinding,
    DeviceSeen,
    Household,
    Meter,
    Reading,
    RegisterSeries,
    RejectedRecord,
    to_epoch_us,
)
from contest.readings import KIND_REGISTER
from contest.services import ReadingService, _clean_name, last_register, pg_copy_readings, storable_text
from contest.units import GasFactors, energy_factor_to_kwh

#: channel of a binding that takes the device's only import channel (pinned on first sight)
ANY_CHANNEL = "*"

log = logging.getLogger(__name__)


#: rejection key of a message whose device channel is bound to no meter
KEY_UNBOUND = "mqtt.unbound_device"


@dataclass(frozen=True, slots=True)
class BoundMeter:
    """The meter a device channel feeds.

    series_start: start of the device's own register series on the meter [UTC]; None: since the
        meter's start. The device's readings from before it belong to another series: rejected.
    unit: unit of the device's values where its messages state none (vzlogger); None: the format's
    unit_factor_kwh: that unit's factor [kWh per unit] (gas volume with the meter's factors)
    """

    meter_id: int
    external_id: str
    timezone: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    series_start: dt.datetime | None = None
    unit: str | None = None
    unit_factor_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """The last message of a device channel the worker parsed: where and when it came, the value, and
    what became of it.

    received_at: broker receive time [UTC]; ts_utc: the reading's time [UTC]; energy_kwh: [kWh]
    meter_id, meter: the meter it was stored for or rejected at (None: no binding took it)
    rejection_key, rejection_reason: why it was not stored (None: stored)
    """

    device: str
    channel: str
    topic: str
    received_at: dt.datetime
    ts_utc: dt.datetime
    energy_kwh: float
    meter_id: int | None = None
    rejection_key: str | None = None
    rejection_reason: str | None = None
    meter: str | None = None


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


def _current_series(session: Session, meter_id: int) -> RegisterSeries | None:
    """The meter's newest register series row (None: it has only its implicit series of uploads)."""
    rows = session.scalars(select(RegisterSeries).where(RegisterSeries.meter_id == meter_id)).all()
    return max(
        rows,
        key=lambda r: (r.starts_at is not None, r.starts_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.id),
        default=None,
    )


def _unit_factor(unit: str, meter: Meter) -> float:
    """[kWh per unit] of a binding's unit for the meter (gas volume with the meter's own factors)."""
    contest = meter.household.contest
    gas = GasFactors(
        meter.gas_brennwert_kwh_per_m3 or contest.gas_brennwert_kwh_per_m3,
        meter.gas_zustandszahl or contest.gas_zustandszahl,
    )
    try:
        return energy_factor_to_kwh(unit, gas)
    except IngestError as exc:
        raise ConfigError(f"unit {unit!r}: {exc.message}", key="binding.unit") from exc


def seen_messages(session: Session, *where: Any, limit: int = 1000) -> list[DeviceMessage]:
    """Device channels' last messages (``DeviceSeen``) matching ``where``, newest first."""
    rows = session.execute(
        select(DeviceSeen, Meter.external_id)
        .outerjoin(Meter, Meter.id == DeviceSeen.meter_id)
        .where(*where)
        .order_by(DeviceSeen.received_at.desc(), DeviceSeen.device, DeviceSeen.channel)
        .limit(limit)
    ).all()
    return [
        DeviceMessage(
            r.device,
            r.channel,
            r.topic,
            r.received_at,
            r.ts_utc,
            r.energy_kwh,
            r.meter_id,
            r.rejection_key,
            r.rejection_reason,
            ext,
        )
        for r, ext in rows
    ]


def meter_activity(
    session: Session, meter_ids: Sequence[int], since: dt.datetime
) -> tuple[dict[int, DeviceMessage], dict[int, int]]:
    """Per meter id: the newest MQTT message stored for it or rejected at it, and how many MQTT
    messages were rejected at it from ``since`` on (what staff check when a device seems silent)."""
    if not meter_ids:
        return {}, {}
    newest: dict[int, DeviceMessage] = {}
    for m in seen_messages(session, DeviceSeen.meter_id.in_(list(meter_ids))):
        if m.meter_id is not None and m.meter_id not in newest:
            newest[m.meter_id] = m
    rejected = session.execute(
        select(RejectedRecord.meter_id, func.count())
        .where(
            RejectedRecord.meter_id.in_(list(meter_ids)),
            RejectedRecord.source == "mqtt",
            RejectedRecord.created_at >= since,
        )
        .group_by(RejectedRecord.meter_id)
    ).all()
    return newest, {int(m): int(n) for m, n in rejected if m is not None}


def payload_text(payload: bytes) -> str:
    """Payload as storable text; bytes that are not UTF-8 are kept as \\x escapes, never lost."""
    return storable_text(payload.decode("utf-8", errors="backslashreplace"))


class StreamService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.readings = ReadingService(db)

    def bind(
        self,
        meter_external_id: str,
        device: str,
        channel: str = ANY_CHANNEL,
        *,
        unit: str | None = None,
        at: dt.datetime | None = None,
    ) -> BoundMeter:
        """Bind a device's channel to a meter (city staff: ``contest meter bind``).

        A device's register counts from its own zero, so it is a register series of its own: when the
        meter's current series already holds readings (uploads of the display), a new series starts
        after ``at`` (default: now) and the old one ends there (a display reading at ``at`` is its last);
        otherwise the device takes the current series.
        unit: unit of the device's values where its messages state none (vzlogger) [kWh, Wh, m3, ...].
        """
        device = _clean_name(device, "device id", 200)
        channel = _clean_name(channel or ANY_CHANNEL, "channel", 120)
        at = at or dt.datetime.now(dt.UTC)
        if at.tzinfo is None:
            raise ConfigError("the time of a binding needs a time zone")
        if unit is not None:
            unit = _clean_name(unit, "unit", 24)
        with self.db.session() as session:
            meter = session.scalars(select(Meter).where(Meter.external_id == meter_external_id)).one_or_none()
            if meter is None:
                raise MeterNotFound(f"no meter with the id {meter_external_id!r}")
            if unit is not None:
                _unit_factor(unit, meter)
            if meter.valid_to is not None:
                raise ConfigError(
                    f"meter {meter.external_id!r} was replaced on {meter.valid_to:%Y-%m-%d %H:%M} UTC; bind "
                    "the device to the meter that replaced it",
                    key="binding.meter_replaced",
                )
            existing = session.get(DeviceBinding, (device, channel))
            if existing is not None and existing.meter_id != meter.id:
                raise ConfigError(f"device {device!r} channel {channel!r} is already bound to another meter")
            self._start_device_series(session, meter, device, at)
            if existing is None:
                session.add(DeviceBinding(device=device, channel=channel, meter_id=meter.id, unit=unit))
            else:
                existing.unit = unit
        return self.bindings()[(device, channel)]

    @staticmethod
    def _start_device_series(session: Session, meter: Meter, device: str, at: dt.datetime) -> None:
        current = _current_series(session, meter.id)
        if current is not None and current.device == device:
            return  # another channel of the device that reads the meter already
        if current is not None and current.device is not None:
            raise ConfigError(
                f"meter {meter.external_id!r} is read by the device {current.device!r}; unbind it first",
                key="binding.meter_has_device",
            )
        in_current = [Reading.meter_id == meter.id]
        if current is not None and current.starts_at is not None:
            in_current.append(Reading.ts_utc > current.starts_at)
        if session.scalars(select(Reading.ts_utc).where(*in_current).limit(1)).first() is None:
            # Nothing uploaded in the current series: the device's register becomes that series.
            if current is not None:
                current.device = device
            else:
                session.add(RegisterSeries(meter_id=meter.id, starts_at=None, device=device))
            return
        later = session.scalar(
            select(func.count()).select_from(Reading).where(Reading.meter_id == meter.id, Reading.ts_utc > at)
        )
        if later:
            raise ConfigError(
                f"meter {meter.external_id!r} has {later} readings after {at:%Y-%m-%d %H:%M} UTC; a device's "
                "register series starts at or after the meter's last reading",
                key="binding.readings_after",
            )
        session.add(RegisterSeries(meter_id=meter.id, starts_at=at, device=device))

    def unbind(
        self,
        meter_external_id: str,
        device: str,
        channel: str | None = None,
        *,
        at: dt.datetime | None = None,
    ) -> int:
        """Remove the bindings of ``device`` (all its channels, or only ``channel``) to the meter; returns
        how many were removed. When the device no longer feeds the meter, its register series ends: at
        ``at`` (default: now) uploads start a series again; a device series without any reading is
        taken back, so the series before it continues."""
        at = at or dt.datetime.now(dt.UTC)
        with self.db.session() as session:
            meter = session.scalars(select(Meter).where(Meter.external_id == meter_external_id)).one_or_none()
            if meter is None:
                raise MeterNotFound(f"no meter with the id {meter_external_id!r}")
            stmt = delete(DeviceBinding).where(
                DeviceBinding.meter_id == meter.id, DeviceBinding.device == device
            )
            if channel is not None:
                stmt = stmt.where(DeviceBinding.channel == channel)
            removed = int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
            still = session.scalars(
                select(DeviceBinding.channel).where(
                    DeviceBinding.meter_id == meter.id, DeviceBinding.device == device
                )
            ).first()
            if removed and still is None:
                self._end_device_series(session, meter.id, device, at)
            return removed

    @staticmethod
    def _end_device_series(session: Session, meter_id: int, device: str, at: dt.datetime) -> None:
        row = _current_series(session, meter_id)
        if row is None or row.device != device:
            return
        mine = [Reading.meter_id == meter_id]
        if row.starts_at is not None:
            mine.append(Reading.ts_utc > row.starts_at)
        last = session.scalar(select(func.max(Reading.ts_utc)).where(*mine))
        if last is None:
            session.delete(row)
            return
        # A device reading slightly ahead of the clock still belongs to the device's series.
        start = max(at, last)
        session.add(RegisterSeries(meter_id=meter_id, starts_at=start, device=None))

    def bindings(self) -> dict[tuple[str, str], BoundMeter]:
        with self.db.session() as session:
            rows = session.execute(
                select(DeviceBinding, Meter, Contest.timezone)
                .join(Meter, Meter.id == DeviceBinding.meter_id)
                .join(Household, Household.id == Meter.household_id)
                .join(Contest, Contest.id == Household.contest_id)
            ).all()
            # The device's newest series on each meter (a rebinding after an unbind starts a new one).
            starts: dict[tuple[int, str | None], dt.datetime | None] = {}
            for meter_id, device, start in session.execute(
                select(RegisterSeries.meter_id, RegisterSeries.device, RegisterSeries.starts_at)
                .where(RegisterSeries.device.is_not(None))
                .order_by(RegisterSeries.id)
            ):
                starts[(meter_id, device)] = start
            return {
                (b.device, b.channel): BoundMeter(
                    m.id,
                    m.external_id,
                    tz,
                    m.valid_from,
                    m.valid_to,
                    starts.get((m.id, b.device)),
                    b.unit,
                    _unit_factor(b.unit, m) if b.unit else None,
                )
                for b, m, tz in rows
            }

    def pin(self, device: str, channel: str) -> None:
        """Turn the device's "*" binding into a binding of ``channel`` (its only import channel)."""
        with self.db.session() as session:
            binding = session.get(DeviceBinding, (device, ANY_CHANNEL))
            if binding is not None and session.get(DeviceBinding, (device, channel)) is None:
                session.add(
                    DeviceBinding(
                        device=device, channel=channel, meter_id=binding.meter_id, unit=binding.unit
                    )
                )
                session.delete(binding)

    def last_register(
        self, meter_id: int, since: dt.datetime | None = None
    ) -> tuple[dt.datetime, float] | None:
        """The latest stored register reading of a meter after ``since``, the start of a register
        series (time [UTC], value [kWh]): a register is only ever compared within its own series."""
        with self.db.session() as session:
            return last_register(session, meter_id, after=since)

    def has_register_value(self, meter_id: int, since: dt.datetime | None, energy_kwh: float) -> bool:
        """Whether the register series starting after ``since`` holds the value ``energy_kwh`` [kWh]
        (a redelivered message without a device time repeats a stored value at a later time)."""
        tolerance = 1e-9 * max(1.0, abs(energy_kwh))
        where = [
            Reading.meter_id == meter_id,
            Reading.kind == KIND_REGISTER,
            Reading.energy_kwh.between(energy_kwh - tolerance, energy_kwh + tolerance),
        ]
        if since is not None:
            where.append(Reading.ts_utc > since)
        with self.db.session() as session:
            return session.execute(select(Reading.ts_utc).where(*where).limit(1)).first() is not None

    def reachable(self) -> bool:
        """Whether the database answers at all: tells an outage (retry later) from a batch it refuses."""
        try:
            with self.db.session() as session:
                session.execute(select(1))
        except Exception:
            return False
        return True

    def last_seen(self, device: str) -> list[DeviceMessage]:
        """The last message of each channel of ``device`` the worker parsed, newest first."""
        with self.db.session() as session:
            return seen_messages(session, DeviceSeen.device == device)

    def unbound_devices(self, since: dt.datetime) -> list[DeviceMessage]:
        """Device channels that published from ``since`` on while bound to no meter, newest first."""
        with self.db.session() as session:
            found = seen_messages(
                session, DeviceSeen.received_at >= since, DeviceSeen.rejection_key == KEY_UNBOUND
            )
        bound = set(self.bindings())
        return [
            m for m in found if (m.device, m.channel) not in bound and (m.device, ANY_CHANNEL) not in bound
        ]

    def store(
        self,
        rows: Sequence[StreamRow],
        rejections: Sequence[StreamRejection],
        seen: Sequence[DeviceMessage] = (),
    ) -> int:
        """Store a batch in ONE transaction: readings (a reading already stored is skipped by the key),
        rejected messages, the meters' dirty-day marks and each device channel's last message (``seen``,
        newest last). Returns the readings newly stored."""
        with self.db.session() as session:
            stored = self._insert(session, rows)
            if seen:
                self._mark_seen(session, seen)
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
    def _mark_seen(session: Session, seen: Sequence[DeviceMessage]) -> None:
        newest = {(m.device, m.channel): m for m in seen}  # the batch's last message of each channel
        values = [
            {
                "device": m.device,
                "channel": m.channel,
                "topic": storable_text(m.topic)[:300],
                "received_at": m.received_at,
                "ts_utc": m.ts_utc,
                "energy_kwh": m.energy_kwh,
                "meter_id": m.meter_id,
                "rejection_key": m.rejection_key,
                "rejection_reason": storable_text(m.rejection_reason) if m.rejection_reason else None,
            }
            for m in newest.values()
        ]
        stmt: Insert
        if session.connection().dialect.name == "sqlite":
            sqlite_insert = sqlite.insert(DeviceSeen).values(values)
            excluded = sqlite_insert.excluded
            stmt = sqlite_insert.on_conflict_do_update(
                index_elements=[DeviceSeen.device, DeviceSeen.channel],
                set_={k: excluded[k] for k in values[0] if k not in ("device", "channel")},
                where=excluded.received_at >= DeviceSeen.received_at,
            )
        else:
            pg_insert = postgresql.insert(DeviceSeen).values(values)
            excluded = pg_insert.excluded
            stmt = pg_insert.on_conflict_do_update(
                index_elements=[DeviceSeen.device, DeviceSeen.channel],
                set_={k: excluded[k] for k in values[0] if k not in ("device", "channel")},
                where=excluded.received_at >= DeviceSeen.received_at,
            )
        session.execute(stmt)

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
        refreshed = 0
        for meter_id, since, tz in dirty:
            try:
                self._refresh_meter(meter_id, since, tz)
                refreshed += 1
            except Exception:
                # One meter's days that cannot be rebuilt never hold up the others (nor every contest's
                # scoring, which calls this first); it stays marked and is tried again next time.
                log.exception("daily consumption of meter %d could not be rebuilt", meter_id)
        return refreshed

    def _refresh_meter(self, meter_id: int, since: dt.datetime, tz: str) -> None:
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
