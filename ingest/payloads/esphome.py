"""ESPHome native MQTT: state topics ``<node>/sensor/<object_id>/state`` with bare values; energy
only when the sensor's name says so."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from contest.readings import DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    KEY_DAILY_COUNTER,
    KEY_NO_UNIT,
    KEY_POWER_ONLY,
    KEY_UNKNOWN_TOPIC,
    ROLE_DAILY,
    ROLE_ELECTRICAL,
    ROLE_ENERGY,
    KeyClass,
    classify_key,
    parse_number,
    reading,
    refuse,
    unit_factor,
)

_DOMAINS = (
    "sensor|binary_sensor|text_sensor|switch|light|fan|cover|climate|number|select|button|lock"
    "|valve|text|date|time|datetime|event|update|alarm_control_panel|media_player"
)
TOPIC_PATTERN = rf"^(.+)/({_DOMAINS})/([^/]+)/(state|command)$"
_TOPIC = re.compile(TOPIC_PATTERN)


@lru_cache(maxsize=4096)
def _route(topic: str) -> tuple[str, str, str, str] | None:
    match = _TOPIC.match(topic)
    if match is None:
        return None
    node, domain, object_id, leaf = match.groups()
    return node, domain, object_id, leaf


def sensor_class(object_id: str) -> KeyClass:
    """What an ESPHome object id says: strict words only (energy, kwh, wh), so ``total_runtime``
    or ``inverter_operation_mode`` never pass as energy."""
    return classify_key(object_id, True)


def parse_esphome(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """An energy register from an ESPHome sensor state [kWh, or Wh when the name says ``wh``].

    device: the node (topic prefix); channel: the object id (``total_energy``). ESPHome state topics
    carry no unit and no time (ts_utc None): a sensor is energy only when its name has an energy
    word (``energy``, ``kwh``, ``wh``), read as kWh unless the name says Wh. Daily totals
    (``energy_today``, ``total_daily_energy``) restart at midnight: "mqtt.daily_counter". Power names
    raise "mqtt.power_only", other sensors "mqtt.no_unit". Non-sensor domains (switch, text_sensor,
    ...) and command topics return [].
    """
    route = _route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} is not an ESPHome state topic", KEY_UNKNOWN_TOPIC)
    node, domain, object_id, leaf = route
    if domain != "sensor" or leaf != "state":
        return []
    kind = sensor_class(object_id)
    if kind.role == ROLE_ELECTRICAL:
        raise refuse(
            f"power [W] is not energy: ESPHome sensor {object_id!r} is named as power", KEY_POWER_ONLY
        )
    if kind.role == ROLE_DAILY:
        raise refuse(
            f"ESPHome sensor {object_id!r} is a per-day/period total that restarts, not a register; "
            "publish a total (e.g. 'total_energy_kwh')",
            KEY_DAILY_COUNTER,
        )
    if kind.role != ROLE_ENERGY:
        raise refuse(
            f"no unit: ESPHome sensor {object_id!r} does not say energy in its name, and state topics "
            "carry no unit",
            KEY_NO_UNIT,
        )
    value = parse_number(payload, f"ESPHome {object_id}")
    return [reading(node, object_id, None, value, unit_factor(kind.unit or "kWh"), kind.direction)]
