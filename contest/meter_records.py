"""Meters as the staff see and manage them (admin API): a household's meters with their register
series, device bindings and last messages; adding one, swapping one, binding and unbinding devices.
The writes are ``contest.meters.MeterService``'s, in the caller's transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.domain import SeriesInfo, check_meter
from contest.errors import AlreadyExists, NotFoundError
from contest.lookup import contest_by_slug, household_by_id, meter_by_external_id, meter_named, text_key
from contest.meters import ANY_CHANNEL, MeterService, meter_activity
from contest.models import Contest, DeviceBinding, Household, Meter, Reading
from contest.readings import DeviceMessage
from contest.register_series import meter_series

#: How far back staff's device views look (rejected messages per meter, unbound devices). Devices and
#: bindings live in real time (the worker stamps messages with their receive time), so these views use
#: the wall clock, not the contest's scoring clock.
ACTIVITY_WINDOW = dt.timedelta(hours=24)


@dataclasses.dataclass(frozen=True, slots=True)
class BindingInfo:
    """A device channel feeding a meter (MQTT). unit: of its values where its messages state none."""

    device: str
    channel: str
    meter: str
    household_id: int
    contest_slug: str
    created_at: dt.datetime
    unit: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class MeterRecord:
    """A meter of a household.

    valid_from, valid_to: the meter takes readings in [valid_from, valid_to) [UTC]; None = open
    replaces: the meter this one replaced (a meter swap)
    last_reading_utc: time of its newest stored reading [UTC]
    series: its register series in time order (docs/glossary.md); empty: one series of uploads
    last_message: the newest MQTT message stored for it or rejected at it (time, value, reason)
    rejected_messages_24h: MQTT messages rejected at it in the last 24 hours
    """

    id: str
    household_id: int
    carrier: str
    kind: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    replaces: str | None
    gas_brennwert_kwh_per_m3: float | None
    gas_zustandszahl: float | None
    last_reading_utc: dt.datetime | None
    bindings: tuple[BindingInfo, ...]
    series: tuple[SeriesInfo, ...] = ()
    last_message: DeviceMessage | None = None
    rejected_messages_24h: int = 0


class MeterRecords:
    """A household's meters and their device bindings for the staff, in the caller's transaction.

    clock: when a swap's readings are stored and a binding starts or ends (the publisher's clock: the
        system's, or a test's)
    """

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # --- meters -----------------------------------------------------------------------------------
    def of_household(self, household_id: int) -> list[MeterRecord]:
        household_by_id(self.session, household_id)
        return meter_records(self.session, Meter.household_id == household_id)

    def get(self, external_id: str) -> MeterRecord:
        m = meter_by_external_id(self.session, external_id)
        return meter_records(self.session, Meter.id == m.id)[0]

    def add(
        self, household_id: int, external_id: str, *, carrier: str | None = None, kind: str = "register"
    ) -> MeterRecord:
        """Add a meter to a household; carrier defaults to the contest's. A meter id in use is
        :class:`AlreadyExists`."""
        h = household_by_id(self.session, household_id)
        carrier = carrier or h.contest.carrier
        external_id = check_meter(external_id, carrier, kind)
        if meter_named(self.session, external_id) is not None:
            raise AlreadyExists(f"meter id {external_id!r} is already in use", params={"meter": external_id})
        meter = Meter(external_id=external_id, household=h, carrier=carrier, kind=kind)
        self.session.add(meter)
        self.session.flush()
        return meter_records(self.session, Meter.id == meter.id)[0]

    def replace(
        self,
        old_external_id: str,
        new_external_id: str,
        at: dt.datetime,
        *,
        old_final_kwh: float | None = None,
        new_initial_kwh: float | None = 0.0,
    ) -> MeterRecord:
        """A meter swap with its two readings (``MeterService.replace``: one transaction); returns the new
        meter. Device bindings stay with the old meter: bind the device again if it now reads the new one."""
        new = MeterService(self.session, self.clock).replace(
            old_external_id, new_external_id, at, old_final_kwh=old_final_kwh, new_initial_kwh=new_initial_kwh
        )
        return self.get(new.external_id)

    # --- device bindings ---------------------------------------------------------------------------
    def bindings(
        self, *, meter: str | None = None, contest: str | None = None, device: str | None = None
    ) -> list[BindingInfo]:
        where = []
        if meter is not None:
            where.append(DeviceBinding.meter_id == meter_by_external_id(self.session, meter).id)
        if contest is not None:
            where.append(Household.contest_id == contest_by_slug(self.session, contest).id)
        if device is not None:
            if not text_key(device):
                return []
            where.append(DeviceBinding.device == device)
        return binding_infos(self.session, *where)

    def bind(
        self, meter: str, device: str, channel: str = ANY_CHANNEL, *, unit: str | None = None
    ) -> BindingInfo:
        """Bind a device's channel to a meter now (``MeterService.bind``: the device's register becomes a
        series of its own; the ingest worker rereads bindings every few seconds). unit: of the device's
        values where its messages state none (vzlogger)."""
        bound = MeterService(self.session).bind(meter, device, channel, unit=unit, at=self.clock())
        return binding_infos(
            self.session,
            DeviceBinding.meter_id == bound.meter_id,
            DeviceBinding.device == device.strip(),
            DeviceBinding.channel == (channel.strip() or ANY_CHANNEL),
        )[0]

    def unbind(self, meter: str, device: str, channel: str | None = None) -> int:
        """Remove the bindings of ``device`` (all its channels, or only ``channel``) to ``meter`` now;
        returns how many were removed, and none is :class:`NotFoundError`. The ingest worker rereads
        bindings every few seconds; from then on the device's messages are kept as rejected
        (``mqtt.unbound_device``) and its register series ends: uploads are taken again from then on."""
        meter_by_external_id(self.session, meter)
        removed = (
            MeterService(self.session).unbind(meter, device, channel, at=self.clock())
            if text_key(device) and (channel is None or text_key(channel))
            else 0
        )
        if not removed:
            which = f"device {device!r}" + (f" channel {channel!r}" if channel is not None else "")
            raise NotFoundError(
                f"{which} is not bound to meter {meter!r}",
                key="contest.binding_not_found",
                params={"device": device, "channel": channel, "meter": meter},
            )
        return removed

    def last_seen(self, device: str) -> list[DeviceMessage]:
        """The device's last message on each of its channels (what ``contest meter bind`` reports)."""
        return MeterService(self.session).last_seen(device) if text_key(device) else []

    def unbound_devices(self) -> list[DeviceMessage]:
        """Device channels that published in the last 24 hours without a binding, newest first."""
        return MeterService(self.session).unbound_devices(dt.datetime.now(dt.UTC) - ACTIVITY_WINDOW)


def binding_infos(session: Session, *where: Any) -> list[BindingInfo]:
    rows = session.execute(
        select(
            DeviceBinding.device,
            DeviceBinding.channel,
            Meter.external_id,
            Household.id,
            Contest.slug,
            DeviceBinding.created_at,
            DeviceBinding.unit,
        )
        .join(Meter, Meter.id == DeviceBinding.meter_id)
        .join(Household, Household.id == Meter.household_id)
        .join(Contest, Contest.id == Household.contest_id)
        .where(*where)
        .order_by(Meter.external_id, DeviceBinding.device, DeviceBinding.channel)
    ).all()
    return [BindingInfo(d, c, m, h, s, t, u) for d, c, m, h, s, t, u in rows]


def meter_records(session: Session, *where: Any, now: dt.datetime | None = None) -> list[MeterRecord]:
    meters = session.scalars(select(Meter).where(*where).order_by(Meter.id)).all()
    ids = [m.id for m in meters]
    if not ids:
        return []
    replaced: dict[int, str] = {
        mid: ext
        for mid, ext in session.execute(
            select(Meter.id, Meter.external_id).where(
                Meter.id.in_([m.replaces_meter_id for m in meters if m.replaces_meter_id])
            )
        )
    }
    # One index lookup per meter (the reading table's key starts with meter_id).
    last = {
        m.id: session.scalar(select(func.max(Reading.ts_utc)).where(Reading.meter_id == m.id)) for m in meters
    }
    bindings: dict[str, list[BindingInfo]] = {}
    for b in binding_infos(session, DeviceBinding.meter_id.in_(ids)):
        bindings.setdefault(b.meter, []).append(b)
    last_message, rejected = meter_activity(session, ids, (now or dt.datetime.now(dt.UTC)) - ACTIVITY_WINDOW)
    return [
        MeterRecord(
            id=m.external_id,
            household_id=m.household_id,
            carrier=m.carrier,
            kind=m.kind,
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            replaces=replaced.get(m.replaces_meter_id) if m.replaces_meter_id else None,
            gas_brennwert_kwh_per_m3=m.gas_brennwert_kwh_per_m3,
            gas_zustandszahl=m.gas_zustandszahl,
            last_reading_utc=last[m.id],
            bindings=tuple(bindings.get(m.external_id, ())),
            series=meter_series(session, m.id),
            last_message=last_message.get(m.id),
            rejected_messages_24h=rejected.get(m.id, 0),
        )
        for m in meters
    ]
