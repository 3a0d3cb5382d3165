"""Shelly: Gen1 one-value topics (``shellies/<id>/emeter/<n>/total``) and Gen2/Gen3 RPC JSON
(``<prefix>/status/emdata:0``, ``<prefix>/events/rpc`` NotifyStatus)."""

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

# --- Gen1 --------------------------------------------------------------------------------------
GEN1_TOPIC_PATTERN = r"^shellies/([^/]+)(?:/(.+))?$"
_GEN1_TOPIC = re.compile(GEN1_TOPIC_PATTERN)
_GEN1_VALUE = re.compile(r"^(emeter|relay|light|roller|meter)/(\d+)/([a-z_]+)$")

# key -> (unit, direction). total/total_returned live in the device's flash [Wh]; energy and
# returned_energy are RAM counters in watt-minutes that restart with the device.
_GEN1_ENERGY = {
    "total": ("Wh", DIRECTION_IMPORT),
    "total_returned": ("Wh", DIRECTION_EXPORT),
    "energy": ("Wmin", DIRECTION_IMPORT),
    "returned_energy": ("Wmin", DIRECTION_EXPORT),
}
_GEN1_ELECTRICAL = frozenset({"power", "reactive_power", "apparent_power", "voltage", "current", "pf"})


@lru_cache(maxsize=4096)
def _gen1_route(topic: str) -> tuple[str, str, tuple[str, str] | None, str] | None:
    """(device, channel, (unit, direction) or None, what) of a Gen1 topic; what is "energy",
    "electrical", "status" or "unknown"."""
    match = _GEN1_TOPIC.match(topic)
    if match is None:
        return None
    device, rest = match.group(1), match.group(2)
    if rest is None:
        return device, device, None, "status"  # shellies/announce, shellies/command
    value = _GEN1_VALUE.match(rest)
    if value is not None:
        component, key = value.group(1), value.group(3)
        if key in _GEN1_ENERGY:
            return device, rest, _GEN1_ENERGY[key], "energy"
        if key in _GEN1_ELECTRICAL:
            return device, rest, None, "electrical"
        if component == "emeter":
            return device, rest, None, "unknown"
        return device, rest, None, "status"
    if "emeter" in rest:
        # A malformed emeter topic (e.g. a documentation line with placeholders) must not pass silently.
        return device, rest, None, "unknown"
    return device, rest, None, "status"


def parse_shelly_gen1(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """One register of a Shelly Gen1 topic [kWh]: ``emeter/<n>/total`` (Wh), ``total_returned`` (Wh,
    export), ``energy``/``returned_energy`` (Wmin counters), also for ``relay/<n>/...`` of plugs.

    device: ``<id>`` of ``shellies/<id>/...``; channel: the rest of the topic (``emeter/0/total``).
    Gen1 messages carry no time: ts_utc is None. power/voltage/current/pf raise "mqtt.power_only";
    relay states, online, announce, info and inputs return [].
    """
    route = _gen1_route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not a Shelly Gen1 topic", KEY_UNKNOWN_TOPIC)
    device, channel, energy, what = route
    if what == "status":
        return []
    if what == "electrical":
        raise refuse(
            f"power [W] is not energy: Shelly {channel} is power, voltage, current or pf", KEY_POWER_ONLY
        )
    if what == "unknown" or energy is None:
        raise refuse(f"Shelly Gen1 topic {channel!r} is not one this parser knows", KEY_UNKNOWN_TOPIC)
    unit, direction = energy
    value = parse_number(payload, f"Shelly {channel}")
    return [reading(device, channel, None, value, unit_factor(unit), direction)]


# --- Gen2 / Gen3 -------------------------------------------------------------------------------
GEN2_TOPIC_PATTERN = r"^(.+)/(?:status/([a-z0-9_]+(?::\d+)?)|events/rpc)$"
_GEN2_TOPIC = re.compile(GEN2_TOPIC_PATTERN)
# emdata: total_act, total_act_ret, a_total_act_energy, ...; em1data: total_act_energy, total_act_ret_energy.
_EMDATA_KEY = re.compile(r"^(?:[abc]_)?total_act(_ret)?(?:_energy)?$")
_ENERGY_COMPONENTS = ("emdata", "em1data")
# Components whose status holds aenergy/ret_aenergy {"total": Wh, "by_minute": [mWh, ...]}.
_AENERGY_COMPONENTS = ("switch", "pm1", "cover", "light", "em1", "plugs_ui")
_ELECTRICAL_COMPONENTS = ("em", "em1", "switch", "pm1", "cover", "light")
# A switch/cover/light without metering (Shelly Plus 1) reports only its output: status, not power.
_ELECTRICAL_KEYS = ("apower", "act_power", "total_act_power", "a_act_power", "voltage", "current")
_NOTIFY_STATUS = ("NotifyStatus", "NotifyFullStatus")


@lru_cache(maxsize=4096)
def _gen2_route(topic: str) -> tuple[str, str | None] | None:
    match = _GEN2_TOPIC.match(topic)
    if match is None:
        return None
    return match.group(1), match.group(2)


def _component_type(name: str) -> str:
    return name.partition(":")[0]


def _component_readings(
    device: str, name: str, data: dict[str, Any], ts: datetime | None, readings: list[DeviceReading]
) -> bool:
    """Append the energy registers of one component's status [Wh → kWh]; True when it measures
    electricity at all (so a message without registers is "power only", not "no energy")."""
    kind = _component_type(name)
    wh = unit_factor("Wh")
    if kind in _ENERGY_COMPONENTS:
        for key, value in data.items():
            match = _EMDATA_KEY.match(key)
            if match is None:
                continue
            number = json_number(value)
            if number is None:
                continue
            direction = DIRECTION_EXPORT if match.group(1) else DIRECTION_IMPORT
            readings.append(reading(device, f"{name}/{key}", ts, number, wh, direction))
        return True
    measured = kind in ("em", "em1") or (
        kind in _ELECTRICAL_COMPONENTS and any(key in data for key in _ELECTRICAL_KEYS)
    )
    if kind in _AENERGY_COMPONENTS:
        for key, direction in (("aenergy", DIRECTION_IMPORT), ("ret_aenergy", DIRECTION_EXPORT)):
            block = data.get(key)
            if not isinstance(block, dict):
                continue
            # total is the register [Wh]; by_minute holds the last minutes [mWh], not needed for a register.
            number = json_number(block.get("total"))
            if number is not None:
                readings.append(reading(device, f"{name}/{key}", ts, number, wh, direction))
    return measured


def parse_shelly_gen2(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Energy registers of a Shelly Gen2/Gen3 status or NotifyStatus message [Wh → kWh].

    device: the MQTT prefix (everything before ``/status/...`` or ``/events/rpc``), so that status
    topics and RPC events of one device agree. channel: ``<component>/<key>`` (``emdata:0/total_act``,
    ``em1data:0/total_act_energy``, ``switch:0/aenergy``); ``..._ret...`` keys are export.
    Time: ``params.ts`` [epoch s] of events; status topics carry none (ts_utc None).
    ``em:N``/``em1:N`` (power only) raise "mqtt.power_only"; sys/wifi/... status and NotifyEvent return [].
    """
    route = _gen2_route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not a Shelly Gen2 status or events/rpc topic", KEY_UNKNOWN_TOPIC)
    device, component = route
    readings: list[DeviceReading] = []
    if component is not None:
        kind = _component_type(component)
        if kind not in _ENERGY_COMPONENTS and kind not in _ELECTRICAL_COMPONENTS:
            return []  # sys, wifi, cloud, mqtt, temperature, input...: device status
        data = load_json_object(payload, f"Shelly status/{component}")
        measured = _component_readings(device, component, data, None, readings)
        if readings:
            return readings
        if measured:
            raise refuse(
                f"power [W] is not energy: Shelly status/{component} holds no energy register", KEY_POWER_ONLY
            )
        return []
    frame = load_json_object(payload, "Shelly events/rpc")
    method = frame.get("method")
    if not isinstance(method, str):
        raise refuse(
            "Shelly events/rpc frame without a method: an RPC response, not a notification", KEY_NO_ENERGY
        )
    if method not in _NOTIFY_STATUS:
        return []  # NotifyEvent (buttons, scripts, ...): no measurement
    params = frame.get("params")
    if not isinstance(params, dict):
        raise refuse(f"Shelly {method} without a params object", KEY_NO_ENERGY)
    ts = device_time(params.get("ts"), tz, received_at, "Shelly params.ts")
    measured = False
    for name, data in params.items():
        if isinstance(data, dict):
            measured = _component_readings(device, name, data, ts, readings) or measured
    if readings:
        return readings
    if measured:
        raise refuse(f"power [W] is not energy: Shelly {method} holds no energy register", KEY_POWER_ONLY)
    return []
