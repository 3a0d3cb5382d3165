"""Tasmota: ``tele/<device>/SENSOR`` and ``stat/<device>/STATUS10`` JSON from SML scripts (user-named
keys) and the built-in ``ENERGY`` block of power-monitoring plugs."""

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
    ROLE_ELECTRICAL,
    ROLE_ENERGY,
    classify_key,
    device_time,
    json_number,
    load_json_object,
    reading,
    refuse,
    unit_factor,
)

#: Default FullTopic ``%prefix%/%topic%/`` and the swapped ``%topic%/%prefix%/``.
TOPIC_PATTERN = r"^(?:(tele|stat|cmnd)/(.+)/([A-Za-z0-9_]+)|(.+)/(tele|stat|cmnd)/([A-Za-z0-9_]+))$"
_TOPIC = re.compile(TOPIC_PATTERN)

# Top-level keys of a SENSOR message that are never values.
_NOT_VALUES = frozenset({"Time", "Epoch", "TempUnit", "PressureUnit", "SpeedUnit", "DistanceUnit"})
# In the ENERGY block, Total is the kWh register. Today/Yesterday/Period restart each day or
# teleperiod, so they are not registers.
_ENERGY_REGISTERS = (("Total", DIRECTION_IMPORT), ("ExportActive", DIRECTION_EXPORT))
_ENERGY_ELECTRICAL = ("Power", "ApparentPower", "ReactivePower", "Factor", "Voltage", "Current", "Frequency")


@lru_cache(maxsize=4096)
def _route(topic: str) -> tuple[str, str, str] | None:
    match = _TOPIC.match(topic)
    if match is None:
        return None
    if match.group(1):
        return match.group(1), match.group(2), match.group(3)
    return match.group(5), match.group(4), match.group(6)


def parse_tasmota(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Energy registers of a Tasmota SENSOR/STATUS10 message [kWh].

    device: ``<device>`` of ``tele/<device>/SENSOR``; channel: ``<object>/<key>`` (``SML/Total_in``,
    ``ENERGY/Total``) or ``<key>`` for keys at the top level (empty SML prefix).
    Time: ``Time`` is local time in ``tz`` unless it carries an offset (SetOption52); a ``1970-...``
    time (clock never synced) gives ts_utc None. STATE, LWT, INFO, RESULT and commands return [].
    """
    route = _route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not a Tasmota topic", KEY_UNKNOWN_TOPIC)
    prefix, device, suffix = route
    if prefix == "tele" and suffix == "SENSOR":
        data = load_json_object(payload, "Tasmota SENSOR")
    elif prefix == "stat" and suffix in ("STATUS10", "STATUS8"):
        wrapper = load_json_object(payload, f"Tasmota {suffix}")
        status_sns = wrapper.get("StatusSNS")
        if not isinstance(status_sns, dict):
            raise refuse(f"Tasmota {suffix} without a StatusSNS object", KEY_NO_ENERGY)
        data = status_sns
    else:
        # STATE, LWT, INFO1-3, RESULT, POWER, cmnd/...: device status and commands, never a reading.
        return []
    return sensor_readings(device, data, tz, received_at)


_Plan = tuple[str, str, str, float]
_PLANS: dict[tuple[str | None, str], _Plan] = {}
_MAX_PLANS = 8192


def _key_plan(obj: str | None, key: str) -> _Plan:
    """(role, channel, direction, factor to kWh) of a key; callers memoize it in _PLANS."""
    kind = classify_key(key, False)
    channel = key if obj is None else f"{obj}/{key}"
    factor = 0.0
    if kind.role == ROLE_ENERGY:
        # SML scripts scale registers to kWh (the "@1000" of the descriptor) unless the key says Wh.
        factor = unit_factor(kind.unit or "kWh")
    plan = (kind.role, channel, kind.direction, factor)
    if len(_PLANS) < _MAX_PLANS:
        _PLANS[(obj, key)] = plan
    return plan


def sensor_readings(
    device: str, data: dict[str, Any], tz: str, received_at: datetime | None
) -> list[DeviceReading]:
    """Readings of the sensor object of a SENSOR message (or of StatusSNS)."""
    ts = device_time(data.get("Time"), tz, received_at, "Tasmota Time")
    readings: list[DeviceReading] = []
    electrical: list[str] = []
    not_numbers: list[str] = []
    plans = _PLANS
    for name, value in data.items():
        if name in _NOT_VALUES:
            continue
        if isinstance(value, dict):
            if name == "ENERGY":
                _energy_block(device, value, ts, readings, electrical, not_numbers)
                continue
            items: Any = value.items()
            obj: str | None = name
        else:
            items = ((name, value),)
            obj = None
        # This loop runs for every key of every message: a dict lookup, no regex, no pint.
        for key, inner in items:
            plan = plans.get((obj, key)) or _key_plan(obj, key)
            role = plan[0]
            if role == ROLE_ENERGY:
                number = json_number(inner)
                if number is None:
                    not_numbers.append(plan[1])
                else:
                    readings.append(reading(device, plan[1], ts, number, plan[3], plan[2]))
            elif role == ROLE_ELECTRICAL:
                electrical.append(plan[1])
    if readings:
        return readings
    if not_numbers:
        raise refuse(f"Tasmota: energy keys {', '.join(not_numbers[:5])} hold no number", KEY_NO_ENERGY)
    if electrical:
        raise refuse(
            f"power [W] is not energy: the Tasmota message holds only {', '.join(electrical[:6])}",
            KEY_POWER_ONLY,
        )
    keys = ", ".join(list(data)[:8])
    raise refuse(f"Tasmota: no energy register among the keys {keys}", KEY_NO_ENERGY)


def _energy_block(
    device: str,
    block: dict[str, Any],
    ts: datetime | None,
    readings: list[DeviceReading],
    electrical: list[str],
    not_numbers: list[str],
) -> None:
    for key, direction in _ENERGY_REGISTERS:
        value = block.get(key)
        if value is None:
            continue
        # Multi-channel devices may list one register per channel.
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            channel = f"ENERGY/{key}" if index is None else f"ENERGY/{key}/{index}"
            number = json_number(item)
            if number is None:
                not_numbers.append(channel)
                continue
            readings.append(reading(device, channel, ts, number, 1.0, direction))
    for key in _ENERGY_ELECTRICAL:
        if key in block:
            electrical.append(f"ENERGY/{key}")
