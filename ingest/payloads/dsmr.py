"""dsmr-reader (Dutch/Belgian P1 meters): split topics ``dsmr/reading/<field>`` with bare kWh values
and the telegram JSON ``dsmr/json``; the raw telegram ``dsmr/raw`` is read by :mod:`.obis`."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from contest.readings import DIRECTION_EXPORT, DIRECTION_IMPORT, DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    KEY_NO_ENERGY,
    KEY_POWER_ONLY,
    KEY_UNKNOWN_TOPIC,
    device_time,
    json_number,
    load_json_object,
    parse_number,
    reading,
    refuse,
    unit_factor,
)

TOPIC_PATTERN = r"^(dsmr)/(?:reading/([a-z0-9_]+)|(json))$"
_TOPIC = re.compile(TOPIC_PATTERN)

# Field -> (unit, direction). dsmr-reader sends electricity registers in kWh and the gas meter
# ("extra device") in m³. Tariff 1/2 stay separate channels (in NL, 1 is the low tariff).
_REGISTERS: dict[str, tuple[str, str]] = {
    "electricity_delivered_1": ("kWh", DIRECTION_IMPORT),
    "electricity_delivered_2": ("kWh", DIRECTION_IMPORT),
    "electricity_returned_1": ("kWh", DIRECTION_EXPORT),
    "electricity_returned_2": ("kWh", DIRECTION_EXPORT),
    "extra_device_delivered": ("m3", DIRECTION_IMPORT),
}
_ELECTRICAL_PREFIXES = (
    "electricity_currently_",
    "phase_currently_",
    "phase_voltage_",
    "phase_power_current_",
)
_BOOKKEEPING = frozenset({"id", "timestamp", "extra_device_timestamp"})


@lru_cache(maxsize=256)
def _route(topic: str) -> tuple[str, str | None] | None:
    match = _TOPIC.match(topic)
    if match is None:
        return None
    return match.group(1), match.group(2)


def parse_dsmr_reader(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Registers of dsmr-reader messages: ``electricity_delivered_1/2`` (import), ``..._returned_1/2``
    (export) [kWh], ``extra_device_delivered`` (gas [m³], converted with ``gas``).

    device: the topic prefix (``dsmr``); channel: the field name. Split topics carry no time (None);
    the JSON's ``timestamp`` is used (local in ``tz`` when it has no offset). ``currently``/``phase``
    fields raise "mqtt.power_only"; ``id``/``timestamp`` topics return [].
    """
    route = _route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not a dsmr-reader telegram topic", KEY_UNKNOWN_TOPIC)
    device, field = route
    if field is not None:
        if field in _BOOKKEEPING:
            return []
        if field.startswith(_ELECTRICAL_PREFIXES):
            raise refuse(f"power [W] is not energy: dsmr-reader field {field!r}", KEY_POWER_ONLY)
        if field not in _REGISTERS:
            raise refuse(
                f"dsmr-reader field {field!r} is not a register this parser knows", KEY_UNKNOWN_TOPIC
            )
        unit, direction = _REGISTERS[field]
        value = parse_number(payload, f"dsmr-reader {field}")
        return [reading(device, field, None, value, unit_factor(unit, gas), direction)]
    data = load_json_object(payload, "dsmr-reader JSON")
    return _json_readings(device, data, tz, received_at, gas)


def _json_readings(
    device: str, data: dict[str, Any], tz: str, received_at: datetime | None, gas: GasFactors
) -> list[DeviceReading]:
    ts = device_time(data.get("timestamp"), tz, received_at, "dsmr-reader timestamp")
    readings: list[DeviceReading] = []
    for field, (unit, direction) in _REGISTERS.items():
        number = json_number(data.get(field))
        if number is None:
            continue
        own_ts = ts
        if field == "extra_device_delivered":
            own_ts = device_time(
                data.get("extra_device_timestamp"), tz, received_at, "dsmr-reader extra_device_timestamp"
            )
        readings.append(reading(device, field, own_ts, number, unit_factor(unit, gas), direction))
    if readings:
        return readings
    if any(key.startswith(_ELECTRICAL_PREFIXES) for key in data):
        raise refuse("power [W] is not energy: the dsmr-reader JSON holds no register", KEY_POWER_ONLY)
    raise refuse("the dsmr-reader JSON holds no electricity or gas register", KEY_NO_ENERGY)
