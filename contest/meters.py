"""Meters and what feeds them, in the caller's transaction: a meter's import context, a meter swap with
its two readings (one use case, one transaction), device bindings and their register series, and the
last message of each device channel."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contest.domain import METER_ID_MAX_CHARS, MeterContext, clean_name
from contest.errors import ConfigError, IngestError
from contest.lookup import meter_by_external_id, meter_named
from contest.models import (
    Contest,
    DeviceBinding,
    DeviceSeen,
    Household,
    Meter,
    Reading,
    RegisterSeries,
    RejectedRecord,
)
from contest.reading_store import ReadingService
from contest.readings import DURATION_S, ENERGY_KWH, KIND, KIND_REGISTER, TS_UTC, DeviceMessage
from contest.register_series import current_series, meter_series
from contest.units import GasFactors, energy_factor_to_kwh

#: channel of a binding that takes the device's only import channel (pinned on first sight)
ANY_CHANNEL = "*"

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


def _gas(meter: Meter) -> GasFactors:
    contest = meter.household.contest
    return GasFactors(
        meter.gas_brennwert_kwh_per_m3 or contest.gas_brennwert_kwh_per_m3,
        meter.gas_zustandszahl or contest.gas_zustandszahl,
    )


def _unit_factor(unit: str, meter: Meter) -> float:
    """[kWh per unit] of a binding's unit for the meter (gas volume with the meter's own factors)."""
    try:
        return energy_factor_to_kwh(unit, _gas(meter))
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


class MeterService:
    """Meters, their swaps and the devices bound to them, in the caller's transaction."""

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        #: when a swap's readings were stored (their batch's time)
        self.clock = clock

    def import_context(self, external_id: str) -> MeterContext:
        """What an importer needs to parse data for the meter ``external_id``."""
        meter = meter_by_external_id(self.session, external_id)
        contest = meter.household.contest
        return MeterContext(
            meter_id=meter.id,
            external_id=meter.external_id,
            household_id=meter.household_id,
            contest_slug=contest.slug,
            timezone=contest.timezone,
            carrier=meter.carrier,
            kind=meter.kind,
            gas=_gas(meter),
            competition_end=contest.competition_end,
            baseline_start=contest.baseline_start,
            valid_from=meter.valid_from,
            valid_to=meter.valid_to,
            series=meter_series(self.session, meter.id),
        )

    def replace(
        self,
        old_external_id: str,
        new_external_id: str,
        at: dt.datetime,
        *,
        old_final_kwh: float | None = None,
        new_initial_kwh: float | None = 0.0,
    ) -> MeterContext:
        """Replace a household's meter from ``at`` on (a meter swap) and return the new meter.

        The old meter takes no readings from ``at`` on, the new one none before. The old meter's final
        register value and the new meter's initial one are stored as readings at ``at`` [kWh], so the
        household's consumption stays continuous across the swap: the old meter covers the time up to
        ``at`` and the new one the time after. The swap and its readings are one use case: they are
        stored in the caller's one transaction, together or not at all.
        """
        if at.tzinfo is None:
            raise ConfigError("the time of a meter swap needs a time zone")
        new_external_id = clean_name(new_external_id, "meter id", METER_ID_MAX_CHARS)
        for name, value in (("old_final_kwh", old_final_kwh), ("new_initial_kwh", new_initial_kwh)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a register value >= 0 [kWh], got {value}")
        session = self.session
        old = meter_by_external_id(session, old_external_id)
        if meter_named(session, new_external_id) is not None:
            raise ConfigError(f"meter id {new_external_id!r} is already in use")
        if old.valid_to is not None:
            raise ConfigError(
                f"meter {old_external_id!r} was already replaced on {old.valid_to:%Y-%m-%d %H:%M} UTC"
            )
        if old.valid_from is not None and at <= old.valid_from:
            raise ConfigError(f"meter {old_external_id!r} was installed after {at:%Y-%m-%d %H:%M}")
        later = session.scalar(
            select(func.count()).select_from(Reading).where(Reading.meter_id == old.id, Reading.ts_utc > at)
        )
        if later:
            raise ConfigError(
                f"meter {old_external_id!r} has {later} readings after {at:%Y-%m-%d %H:%M} UTC; a meter "
                "cannot be replaced before its last reading"
            )
        old.valid_to = at
        new = Meter(
            external_id=new_external_id,
            household=old.household,
            carrier=old.carrier,
            kind=old.kind,
            gas_brennwert_kwh_per_m3=old.gas_brennwert_kwh_per_m3,
            gas_zustandszahl=old.gas_zustandszahl,
            valid_from=at,
            replaces_meter_id=old.id,
        )
        session.add(new)
        session.flush()
        readings = ReadingService(session, self.clock)
        ts = pd.Timestamp(at).tz_convert("UTC")
        for meter_ext, value in ((old_external_id, old_final_kwh), (new_external_id, new_initial_kwh)):
            if value is None:
                continue
            frame = pd.DataFrame(
                {TS_UTC: [ts], ENERGY_KWH: [float(value)], KIND: [KIND_REGISTER], DURATION_S: [float("nan")]}
            )
            readings.store(
                self.import_context(meter_ext),
                frame,
                (),
                source="manual",
                rows_read=1,
                details={"meter_swap": {"old_meter_id": old.id, "new_meter_id": new.id}},
            )
        return self.import_context(new_external_id)

    # --- devices bound to meters ------------------------------------------------------------------
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
        device = clean_name(device, "device id", 200)
        channel = clean_name(channel or ANY_CHANNEL, "channel", 120)
        at = at or dt.datetime.now(dt.UTC)
        if at.tzinfo is None:
            raise ConfigError("the time of a binding needs a time zone")
        if unit is not None:
            unit = clean_name(unit, "unit", 24)
        session = self.session
        meter = meter_by_external_id(session, meter_external_id)
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
        self._start_device_series(meter, device, at)
        if existing is None:
            session.add(DeviceBinding(device=device, channel=channel, meter_id=meter.id, unit=unit))
        else:
            existing.unit = unit
        session.flush()
        return self.bindings()[(device, channel)]

    def _start_device_series(self, meter: Meter, device: str, at: dt.datetime) -> None:
        session = self.session
        current = current_series(session, meter.id)
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
        session = self.session
        meter = meter_by_external_id(session, meter_external_id)
        stmt = delete(DeviceBinding).where(DeviceBinding.meter_id == meter.id, DeviceBinding.device == device)
        if channel is not None:
            stmt = stmt.where(DeviceBinding.channel == channel)
        removed = int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
        still = session.scalars(
            select(DeviceBinding.channel).where(
                DeviceBinding.meter_id == meter.id, DeviceBinding.device == device
            )
        ).first()
        if removed and still is None:
            self._end_device_series(meter.id, device, at)
        return removed

    def _end_device_series(self, meter_id: int, device: str, at: dt.datetime) -> None:
        session = self.session
        row = current_series(session, meter_id)
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
        session.add(RegisterSeries(meter_id=meter_id, starts_at=max(at, last), device=None))

    def bindings(self) -> dict[tuple[str, str], BoundMeter]:
        """Every device channel bound to a meter, with what the worker needs to store its readings."""
        session = self.session
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
        session = self.session
        binding = session.get(DeviceBinding, (device, ANY_CHANNEL))
        if binding is not None and session.get(DeviceBinding, (device, channel)) is None:
            session.add(
                DeviceBinding(device=device, channel=channel, meter_id=binding.meter_id, unit=binding.unit)
            )
            session.delete(binding)

    def last_seen(self, device: str) -> list[DeviceMessage]:
        """The last message of each channel of ``device`` the worker parsed, newest first."""
        return seen_messages(self.session, DeviceSeen.device == device)

    def unbound_devices(self, since: dt.datetime) -> list[DeviceMessage]:
        """Device channels that published from ``since`` on while bound to no meter, newest first."""
        found = seen_messages(
            self.session, DeviceSeen.received_at >= since, DeviceSeen.rejection_key == KEY_UNBOUND
        )
        bound = set(self.bindings())
        return [
            m for m in found if (m.device, m.channel) not in bound and (m.device, ANY_CHANNEL) not in bound
        ]
