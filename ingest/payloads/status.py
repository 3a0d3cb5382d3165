"""Messages about devices rather than from meters: Home Assistant discovery configs (refused: they
describe a sensor and carry no reading) and availability/LWT messages (ignored)."""

from __future__ import annotations

import re
from datetime import datetime

from contest.readings import DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import DEFAULT_TZ, KEY_NOT_A_PAYLOAD, KEY_UNKNOWN_TOPIC, refuse

#: Home Assistant's default MQTT ``discovery_prefix`` (an installation may choose another).
DEFAULT_DISCOVERY_PREFIX = "homeassistant"


def ha_topic_pattern(prefix: str = DEFAULT_DISCOVERY_PREFIX) -> str:
    """Every topic below the discovery prefix (configs, and Home Assistant's own ``<prefix>/status``)."""
    return rf"^{re.escape(prefix)}/.+$"


#: Keys of a discovery config, in full and abbreviated form (``stat_t``, ``uniq_id``, ...).
_DISCOVERY_TOPIC_KEYS = frozenset({"state_topic", "stat_t", "json_attributes_topic", "json_attr_t", "~"})
_DISCOVERY_ID_KEYS = frozenset(
    {
        "unique_id",
        "uniq_id",
        "device_class",
        "dev_cla",
        "unit_of_measurement",
        "unit_of_meas",
        "device",
        "dev",
    }
)
_AVAILABILITY_LEAVES = ("online", "LWT", "status", "availability", "connected")
_AVAILABILITY_WORDS = frozenset(
    {b"online", b"offline", b"true", b"false", b"1", b"0", b"connected", b"disconnected"}
    | {b"Online", b"Offline", b"ON", b"OFF"}
)


def looks_like_discovery(data: object) -> bool:
    """True for a JSON object shaped like a Home Assistant MQTT discovery config."""
    return (
        isinstance(data, dict)
        and not _DISCOVERY_TOPIC_KEYS.isdisjoint(data)
        and not _DISCOVERY_ID_KEYS.isdisjoint(data)
    )


def looks_like_availability(topic: str, payload: bytes) -> bool:
    """True for a liveness message: ``<device>/online`` = ``true``, ESPHome ``<node>/status`` = ``online``."""
    return topic.endswith(_AVAILABILITY_LEAVES) and payload.strip() in _AVAILABILITY_WORDS


def parse_ha_discovery(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
    prefix: str = DEFAULT_DISCOVERY_PREFIX,
) -> list[DeviceReading]:
    """Refuse ``homeassistant/<component>/<id>/config`` (and discovery-shaped JSON anywhere): a config
    names a state topic and a unit, it carries no reading. ``homeassistant/status`` (HA's own
    birth/will message) returns [].

    prefix: the installation's discovery prefix (the format table binds the worker's setting)
    """
    if topic == f"{prefix}/status":
        return []
    if topic.endswith("/config") or not topic.startswith(f"{prefix}/"):
        raise refuse(
            "Home Assistant discovery config: it describes a sensor (state topic, unit) and carries no "
            "reading; subscribe to the device's state topic instead",
            KEY_NOT_A_PAYLOAD,
        )
    raise refuse(f"topic {topic!r} under {prefix}/ is not a device payload", KEY_UNKNOWN_TOPIC)


def parse_availability(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Ignore availability/LWT messages (``online``/``offline``, ``true``/``false``): no measurement."""
    if looks_like_availability(topic, payload):
        return []
    raise refuse(f"topic {topic!r}: {payload[:40]!r} is not an availability message", KEY_UNKNOWN_TOPIC)
