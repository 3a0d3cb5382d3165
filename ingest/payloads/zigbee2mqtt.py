"""Zigbee2MQTT: the device JSON on ``zigbee2mqtt/<friendly_name>`` (``energy`` [kWh]) and the
"attribute" output mode ``zigbee2mqtt/<friendly_name>/<attribute>`` with bare values."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from contest.readings import DIRECTION_EXPORT, DIRECTION_IMPORT, DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    KEY_NO_ENERGY,
    KEY_NOT_JSON,
    KEY_POWER_ONLY,
    KEY_UNKNOWN_TOPIC,
    device_time,
    json_number,
    load_json_object,
    parse_number,
    reading,
    refuse,
)

#: Zigbee2MQTT's own default ``mqtt.base_topic``; an installation may choose another (one level or
#: several, e.g. ``zigbee2mqttcc1352`` or ``haus/zigbee``): the worker's setting says which.
DEFAULT_BASE_TOPIC = "zigbee2mqtt"


def topic_pattern(base_topic: str = DEFAULT_BASE_TOPIC) -> str:
    """The topics of an installation with this base topic: ``<base>/<friendly name>[/<attribute>]``."""
    return rf"^({re.escape(base_topic)})/(.+)$"


# Zigbee2MQTT exposes metering as kWh registers.
_ENERGY_KEYS = (("energy", DIRECTION_IMPORT), ("produced_energy", DIRECTION_EXPORT))
_ENERGY_ATTRIBUTES = dict(_ENERGY_KEYS)
_ELECTRICAL_KEYS = frozenset(
    {"power", "voltage", "current", "power_factor", "ac_frequency", "power_apparent"}
)
_SILENT_LEAVES = frozenset({"availability", "set", "get"})


@lru_cache(maxsize=16)
def _topic_regex(base_topic: str) -> re.Pattern[str]:
    return re.compile(topic_pattern(base_topic))


@lru_cache(maxsize=4096)
def _route(topic: str, base_topic: str) -> tuple[str, str | None] | None:
    """(rest after the base topic, last level) or None for bridge topics and commands."""
    match = _topic_regex(base_topic).match(topic)
    if match is None:
        raise refuse(f"topic {topic!r} is not a Zigbee2MQTT topic below {base_topic!r}", KEY_UNKNOWN_TOPIC)
    rest = match.group(2)
    if rest == "bridge" or rest.startswith("bridge/"):
        return None
    head, _, leaf = rest.rpartition("/")
    if leaf in _SILENT_LEAVES or "/set/" in rest:
        return None
    return rest, (leaf if head else None)


def parse_zigbee2mqtt(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
    base_topic: str = DEFAULT_BASE_TOPIC,
) -> list[DeviceReading]:
    """The ``energy`` register [kWh] of a Zigbee2MQTT device message (``produced_energy``: export).

    base_topic: the installation's ``mqtt.base_topic`` (the format table binds the worker's setting)

    device: the friendly name (may contain ``/``); channel: ``energy`` / ``produced_energy``.
    Time: ``last_seen`` (ISO with offset, or epoch ms) when the install enables it, else None.
    A JSON without energy raises "mqtt.power_only" when it holds power/voltage/current, else
    "mqtt.no_energy". Attribute mode: ``.../energy`` is read; power attributes raise "mqtt.power_only";
    other attributes (state, linkquality, settings) return []. bridge/*, availability, set/get return [].
    """
    route = _route(topic, base_topic)
    if route is None:
        return []
    rest, leaf = route
    if not payload.lstrip().startswith(b"{"):
        if leaf is None:
            raise refuse(f"Zigbee2MQTT {rest}: device JSON expected on the device topic", KEY_NOT_JSON)
        device = rest[: -len(leaf) - 1]
        if leaf in _ENERGY_ATTRIBUTES:
            value = parse_number(payload, f"Zigbee2MQTT {rest}")
            return [reading(device, leaf, None, value, 1.0, _ENERGY_ATTRIBUTES[leaf])]
        if leaf in _ELECTRICAL_KEYS:
            raise refuse(f"power [W] is not energy: Zigbee2MQTT attribute {leaf!r}", KEY_POWER_ONLY)
        return []  # state, linkquality, child_lock, ...: device attributes, the JSON message is the reading
    data = load_json_object(payload, f"Zigbee2MQTT {rest}")
    readings: list[DeviceReading] = []
    ts: datetime | None = None
    for key, direction in _ENERGY_KEYS:
        number = json_number(data.get(key))
        if number is None:
            continue
        if not readings:
            ts = _last_seen(data.get("last_seen"), tz, received_at)
        readings.append(reading(rest, key, ts, number, 1.0, direction))
    if readings:
        return readings
    electrical = sorted(_ELECTRICAL_KEYS.intersection(data))
    if electrical:
        raise refuse(
            f"power [W] is not energy: Zigbee2MQTT {rest} has {', '.join(electrical)} but no energy",
            KEY_POWER_ONLY,
        )
    raise refuse(f"Zigbee2MQTT {rest}: no 'energy' value in the message", KEY_NO_ENERGY)


def _last_seen(value: object, tz: str, received_at: datetime | None) -> datetime | None:
    # last_seen: "ISO_8601" / "ISO_8601_local" text (with offset), or "epoch" [ms].
    number = json_number(value)
    if number is not None:
        return device_time(number / 1000.0, tz, received_at, "Zigbee2MQTT last_seen")
    return device_time(value, tz, received_at, "Zigbee2MQTT last_seen")
