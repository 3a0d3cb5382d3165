"""emonhub (OpenEnergyMonitor): node-variable topics ``emon/<node>/<key>`` with bare numbers and the
node-JSON topic ``emon/<node>``; the legacy positional ``emonhub/rx/<node>/values`` is refused."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from contest.readings import DIRECTION_IMPORT, DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    KEY_DAILY_COUNTER,
    KEY_NO_ENERGY,
    KEY_NO_UNIT,
    KEY_POWER_ONLY,
    KEY_UNKNOWN_TOPIC,
    ROLE_DAILY,
    ROLE_ELECTRICAL,
    ROLE_ENERGY,
    classify_key,
    device_time,
    json_number,
    load_json_object,
    parse_number,
    reading,
    refuse,
    unit_factor,
)

#: emonhub's default MQTT ``basetopic`` (``emon/``; an installation may choose another).
DEFAULT_BASE_TOPIC = "emon"


def topic_pattern(base_topic: str = DEFAULT_BASE_TOPIC) -> str:
    """``<base>/<node>`` (JSON), ``<base>/<node>/<input>`` (bare value), legacy ``emonhub/rx/<node>/values``."""
    return rf"^(?:{re.escape(base_topic)}/([^/]+)(?:/([^/]+))?|emonhub/rx/([^/]+)/values)$"


@lru_cache(maxsize=16)
def _topic_regex(base_topic: str) -> re.Pattern[str]:
    return re.compile(topic_pattern(base_topic))


# emonTx4/emonPi2/emonTx3-CM firmware: E1..E12 are the cumulative energy of the CT channels [Wh]
# (emonhub node decoders: "units = ...,Wh,Wh,..."); P1..P12 are power [W].
_E_KEY = re.compile(r"^[Ee]\d{1,2}$")
_NO_UNIT_HINT = "E1..E12 are Wh; name other energy keys ..._kwh or ..._wh"
_NOT_VALUES = frozenset({"time", "rssi"})

ROLE_NO_UNIT = "no_unit"


@lru_cache(maxsize=4096)
def _route(topic: str, base_topic: str) -> tuple[str, str | None, bool] | None:
    match = _topic_regex(base_topic).match(topic)
    if match is None:
        return None
    if match.group(3) is not None:
        return match.group(3), None, True
    return match.group(1), match.group(2), False


@lru_cache(maxsize=4096)
def key_class(key: str) -> tuple[str, str, str | None]:
    """(role, direction, unit) of an emonhub input name; role ROLE_NO_UNIT when the name says energy
    but not which unit (``energy``), or says nothing about energy (``MSG``, ``pulse``, ``T1``)."""
    if _E_KEY.match(key):
        return ROLE_ENERGY, DIRECTION_IMPORT, "Wh"
    kind = classify_key(key, True)
    if kind.role == ROLE_ENERGY and kind.unit is not None:
        return ROLE_ENERGY, kind.direction, kind.unit
    if kind.role in (ROLE_ELECTRICAL, ROLE_DAILY):
        return kind.role, kind.direction, None
    return ROLE_NO_UNIT, kind.direction, None


def parse_emonhub(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
    base_topic: str = DEFAULT_BASE_TOPIC,
) -> list[DeviceReading]:
    """Energy registers of an emonhub message [Wh/kWh → kWh].

    device: ``<node>`` (``emonTx4_17``); channel: the input name (``E1``, ``import_kwh``).
    Which inputs are energy, and in which unit, is read from the name: ``E<n>`` is Wh, names with
    ``kwh``/``wh`` words are kWh/Wh; power names (``P1``, ``power1``, ``vrms``) raise "mqtt.power_only";
    any other bare number raises "mqtt.no_unit". Time: the JSON ``time`` [epoch s]; bare values have none.
    base_topic: the installation's emonhub ``basetopic`` (the format table binds the worker's setting)
    """
    route = _route(topic, base_topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not an emonhub topic", KEY_UNKNOWN_TOPIC)
    node, key, legacy = route
    if legacy:
        raise refuse(
            "emonhub legacy node format: positional values whose names and units live only in the "
            "node's emonhub.conf, so none of them is known to be energy",
            KEY_NO_UNIT,
        )
    if key is not None:
        role, direction, unit = key_class(key)
        if role == ROLE_ELECTRICAL:
            raise refuse(
                f"power [W] is not energy: emonhub input {key!r} is power, voltage or current", KEY_POWER_ONLY
            )
        if role == ROLE_DAILY:
            raise refuse(f"emonhub input {key!r} is a daily total, not a register", KEY_DAILY_COUNTER)
        if role != ROLE_ENERGY or unit is None:
            raise refuse(
                f"no unit: emonhub input {key!r} does not say it is energy ({_NO_UNIT_HINT})", KEY_NO_UNIT
            )
        value = parse_number(payload, f"emonhub {node}/{key}")
        return [reading(node, key, None, value, unit_factor(unit), direction)]

    data = load_json_object(payload, f"emonhub {node}")
    ts = device_time(data.get("time"), tz, received_at, "emonhub time")
    readings: list[DeviceReading] = []
    electrical: list[str] = []
    for name, value in data.items():
        if name in _NOT_VALUES:
            continue
        role, direction, unit = key_class(name)
        if role == ROLE_ENERGY and unit is not None:
            number = json_number(value)
            if number is not None:
                readings.append(reading(node, name, ts, number, unit_factor(unit), direction))
        elif role == ROLE_ELECTRICAL:
            electrical.append(name)
    if readings:
        return readings
    if electrical:
        raise refuse(
            f"power [W] is not energy: emonhub {node} holds only {', '.join(electrical[:6])}", KEY_POWER_ONLY
        )
    raise refuse(f"emonhub {node}: no input is energy with a unit ({_NO_UNIT_HINT})", KEY_NO_ENERGY)
