"""Admin API: a household's meters (added, swapped) and the smart-meter devices bound to them (MQTT)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from contest.meter_records import MeterRecords
from web.admin.deps import CONFLICT, ERRORS, NOT_FOUND, AdminDeps, RowId, staff_guard
from web.admin.shapes import (
    BindingCreated,
    BindingIn,
    BindingOut,
    DeviceMessageOut,
    MeterIn,
    MeterItem,
    MeterReplaceIn,
)


class AdminMeters(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [staff_guard]
    security = [{"StaffToken": []}]

    @get(
        "/households/{household_id:int}/meters",
        sync_to_thread=True,
        summary="A household's meters (with replaced ones and device bindings)",
        responses={**ERRORS, **NOT_FOUND},
    )
    def meters(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> list[MeterItem]:
        with admin.db.session() as s:
            return [MeterItem.from_record(m) for m in _meters(admin, s).of_household(household_id)]

    @post(
        "/households/{household_id:int}/meters",
        sync_to_thread=True,
        summary="Add a meter to a household",
        responses={**ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def add_meter(
        self, admin: NamedDependency[AdminDeps], household_id: RowId, data: JSONBody[MeterIn]
    ) -> MeterItem:
        with admin.db.session() as s:
            record = _meters(admin, s).add(household_id, data.id, carrier=data.carrier, kind=data.kind)
        return MeterItem.from_record(record)

    @post(
        "/meters/{meter:str}/replace",
        sync_to_thread=True,
        summary="Replace a meter (a meter swap); returns the new meter",
        description="The old meter takes no readings from `at` on, the new one none before; the household's "
        "consumption stays continuous. Device bindings stay with the old meter: bind the device again.",
        responses={**ERRORS, **NOT_FOUND},
    )
    def replace_meter(
        self, admin: NamedDependency[AdminDeps], meter: FromPath[str], data: JSONBody[MeterReplaceIn]
    ) -> MeterItem:
        with admin.db.session() as s:  # the swap and its two readings: one transaction
            record = _meters(admin, s).replace(
                meter,
                data.new_id,
                data.at,
                old_final_kwh=data.old_final_kwh,
                new_initial_kwh=data.new_initial_kwh,
            )
        return MeterItem.from_record(record)

    # device bindings
    @get(
        "/bindings",
        sync_to_thread=True,
        summary="Device bindings (MQTT), optionally of one contest, meter or device",
        responses={**ERRORS, **NOT_FOUND},
    )
    def bindings(
        self,
        admin: NamedDependency[AdminDeps],
        contest: FromQuery[str | None] = None,
        meter: FromQuery[str | None] = None,
        device: FromQuery[str | None] = None,
    ) -> list[BindingOut]:
        with admin.db.session() as s:
            found = _meters(admin, s).bindings(contest=contest, meter=meter, device=device)
        return [BindingOut.from_info(b) for b in found]

    @get(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="A meter's device bindings",
        responses={**ERRORS, **NOT_FOUND},
    )
    def meter_bindings(self, admin: NamedDependency[AdminDeps], meter: FromPath[str]) -> list[BindingOut]:
        with admin.db.session() as s:
            return [BindingOut.from_info(b) for b in _meters(admin, s).bindings(meter=meter)]

    @post(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="Bind a smart-meter device (MQTT); answers with its last message on each channel",
        description="The device's register counts from its own zero: when the meter already has readings, "
        "a new register series starts now, and uploads for the meter from then on are refused "
        "(`csv.meter_read_by_device`) while the device is bound. `unit` applies to messages that state no "
        "unit (vzlogger).",
        responses={**ERRORS, **NOT_FOUND},
    )
    def bind(
        self, admin: NamedDependency[AdminDeps], meter: FromPath[str], data: JSONBody[BindingIn]
    ) -> BindingCreated:
        with admin.db.session() as s:
            meters = _meters(admin, s)
            b = meters.bind(meter, data.device, data.channel, unit=data.unit)
            seen = meters.last_seen(b.device)
        return BindingCreated(
            b.meter,
            b.device,
            b.channel,
            b.household_id,
            b.contest_slug,
            b.created_at,
            b.unit,
            [DeviceMessageOut.from_message(m) for m in seen],
        )

    @get(
        "/devices/unbound",
        sync_to_thread=True,
        summary="Devices that published in the last 24 h without a binding (their last message each)",
        responses=ERRORS,
    )
    def unbound_devices(self, admin: NamedDependency[AdminDeps]) -> list[DeviceMessageOut]:
        with admin.db.session() as s:
            return [DeviceMessageOut.from_message(m) for m in _meters(admin, s).unbound_devices()]

    @get(
        "/devices/last-seen",
        sync_to_thread=True,
        summary="A device's last message on each of its channels, stored or rejected with the reason",
        responses=ERRORS,
    )
    def device_last_seen(
        self,
        admin: NamedDependency[AdminDeps],
        device: Annotated[str, QueryParameter(min_length=1, max_length=200, description="The device id")],
    ) -> list[DeviceMessageOut]:
        with admin.db.session() as s:
            return [DeviceMessageOut.from_message(m) for m in _meters(admin, s).last_seen(device)]

    @delete(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="Unbind a device from a meter (all its channels, or only `channel`)",
        description="The ingest worker rereads bindings every few seconds; from then on the device's "
        "messages are kept in the rejected-records store (`mqtt.unbound_device`). The device's register "
        "series ends: uploads are taken again from now on (a device series without readings is undone).",
        responses={**ERRORS, **NOT_FOUND},
    )
    def unbind(
        self,
        admin: NamedDependency[AdminDeps],
        meter: FromPath[str],
        device: Annotated[str, QueryParameter(min_length=1, max_length=200, description="The device id")],
        channel: Annotated[
            str | None, QueryParameter(min_length=1, max_length=120, description="Only this channel")
        ] = None,
    ) -> None:
        with admin.db.session() as s:
            _meters(admin, s).unbind(meter, device, channel)


def _meters(admin: AdminDeps, session: Session) -> MeterRecords:
    """Meters in the request's transaction, bound and swapped by the publisher's clock."""
    return MeterRecords(session, admin.publishing.clock)
