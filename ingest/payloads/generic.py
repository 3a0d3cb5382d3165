"""The contest's own JSON reading format (``contest/<meter>/reading``) for integrators whose devices
speak none of the vendor formats; strict on purpose, so mistakes surface as clear refusals."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from contest.readings import DIRECTION_EXPORT, DIRECTION_IMPORT, KIND_INTERVAL, KIND_REGISTER, DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    EARLIEST_DEVICE_TIME,
    KEY_BAD_FIELD,
    KEY_BAD_TIME,
    KEY_CLOCK_NOT_SYNCED,
    KEY_METER_MISMATCH,
    KEY_MISSING_FIELD,
    aware_time,
    epoch_time,
    is_volume_unit,
    json_number,
    load_json,
    reading,
    refuse,
    unit_factor,
)

TOPIC_PATTERN = r"^contest/([^/]+)/reading$"
_TOPIC = re.compile(TOPIC_PATTERN)

#: Every field the format knows; anything else is refused so a typo ("chanel") cannot silently
#: turn an export register into the default import channel.
FIELDS = ("meter", "ts", "value", "unit", "kind", "duration_s", "channel", "direction")
_FIELD_SET = frozenset(FIELDS)
REQUIRED_FIELDS = ("meter", "value", "unit")
#: Most readings one message may carry (a JSON array replays a backlog after an outage).
MAX_BATCH = 1000
MAX_NAME_CHARS = 64
_MILLISECONDS_FROM = 1e11  # epoch seconds stay below this until the year 5138; ms are above it
_OBIS_DIRECTION = re.compile(r"^(?:1-0:)?([12])\.8\.\d+(?:\*255)?$")


def looks_generic(data: object) -> bool:
    """True for a JSON object (or array of objects) with the required fields meter, value, unit."""
    if isinstance(data, list) and data:
        data = data[0]
    return isinstance(data, dict) and all(field in data for field in REQUIRED_FIELDS)


def parse_generic(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Readings of the contest JSON format: one object or an array of up to MAX_BATCH objects.

    ``{"meter": "<device>", "value": 12345.6, "unit": "kWh", "ts": "2026-11-25T10:00:00+01:00",
    "kind": "register", "channel": "1.8.0"}``. device: ``meter``, which must equal ``<meter>`` of a
    ``contest/<meter>/reading`` topic (the broker's ACL protects topics, not payloads). ``tz`` is not
    used: a ts without offset is refused.
    """
    match = _TOPIC.match(topic)
    topic_meter = match.group(1) if match is not None else None
    data = load_json(payload, "contest reading")
    items: list[Any] = data if isinstance(data, list) else [data]
    if not items:
        raise refuse("contest reading: the JSON array is empty", KEY_MISSING_FIELD)
    if len(items) > MAX_BATCH:
        raise refuse(
            f"contest reading: {len(items)} readings in one message, at most {MAX_BATCH}", KEY_BAD_FIELD
        )
    return [_one(item, index, topic_meter, gas) for index, item in enumerate(items)]


def _one(item: Any, index: int, topic_meter: str | None, gas: GasFactors) -> DeviceReading:
    where = "contest reading" if index == 0 else f"contest reading #{index + 1}"
    if not isinstance(item, dict):
        raise refuse(f"{where}: JSON object expected", KEY_BAD_FIELD)
    unknown = item.keys() - _FIELD_SET
    if unknown:
        names = ", ".join(sorted(str(name)[:30] for name in unknown)[:5])
        raise refuse(f"{where}: unknown field(s) {names}; allowed: {', '.join(FIELDS)}", KEY_BAD_FIELD)
    missing = [field for field in REQUIRED_FIELDS if item.get(field) is None]
    if missing:
        raise refuse(f"{where}: required field(s) {', '.join(missing)} missing", KEY_MISSING_FIELD)

    meter = _name(item["meter"], "meter", where)
    if topic_meter is not None and meter != topic_meter:
        raise refuse(
            f"{where}: meter {meter!r} does not match the topic's meter {topic_meter!r}", KEY_METER_MISMATCH
        )

    value = json_number(item["value"])
    if value is None:
        raise refuse(f"{where}: value {item['value']!r} is not a finite number"[:200], KEY_BAD_FIELD)
    unit = item["unit"]
    if not isinstance(unit, str):
        raise refuse(f"{where}: unit must be text such as 'kWh', 'Wh' or 'm3'", KEY_BAD_FIELD)
    factor = unit_factor(unit, gas)

    kind = item.get("kind", KIND_REGISTER)
    if kind not in (KIND_REGISTER, KIND_INTERVAL):
        raise refuse(f"{where}: kind must be 'register' or 'interval'", KEY_BAD_FIELD)
    duration_s = _duration(item.get("duration_s"), kind, where)
    ts = _time(item.get("ts"), where)
    if kind == KIND_INTERVAL and ts is None:
        raise refuse(f"{where}: an interval needs ts, the start of the interval", KEY_MISSING_FIELD)

    direction = item.get("direction")
    if direction is not None and direction not in (DIRECTION_IMPORT, DIRECTION_EXPORT):
        raise refuse(f"{where}: direction must be 'import' or 'export'", KEY_BAD_FIELD)
    channel_value = item.get("channel")
    if channel_value is None:
        direction = direction or DIRECTION_IMPORT
        # Defaults by what is measured: OBIS total import/export, or "gas" for a volume.
        channel = "gas" if is_volume_unit(unit) else ("2.8.0" if direction == DIRECTION_EXPORT else "1.8.0")
    else:
        channel = _name(channel_value, "channel", where)
        obis = _OBIS_DIRECTION.match(channel)
        implied = (DIRECTION_EXPORT if obis.group(1) == "2" else DIRECTION_IMPORT) if obis else None
        if direction is not None and implied is not None and direction != implied:
            raise refuse(f"{where}: direction {direction!r} contradicts channel {channel!r}", KEY_BAD_FIELD)
        direction = direction or implied or DIRECTION_IMPORT
    return reading(meter, channel, ts, value, factor, direction, kind, duration_s)


def _name(value: object, field: str, where: str) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_NAME_CHARS
        or value != value.strip()
        or not value.isprintable()
    ):
        raise refuse(
            f"{where}: {field} must be non-empty text of at most {MAX_NAME_CHARS} characters", KEY_BAD_FIELD
        )
    return value


def _duration(value: object, kind: str, where: str) -> float | None:
    if kind == KIND_REGISTER:
        if value is not None:
            raise refuse(f"{where}: duration_s belongs to kind 'interval' only", KEY_BAD_FIELD)
        return None
    seconds = json_number(value)
    if seconds is None or seconds <= 0:
        raise refuse(f"{where}: an interval needs duration_s, a positive number of seconds", KEY_BAD_FIELD)
    return seconds


def _time(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        aware = aware_time(value, f"{where} ts")
        if aware < EARLIEST_DEVICE_TIME:
            raise refuse(
                f"{where}: ts {value} is before 2000: the device clock is not set", KEY_CLOCK_NOT_SYNCED
            )
        return aware
    seconds = json_number(value)
    if seconds is None:
        raise refuse(f"{where}: ts must be ISO 8601 text with offset or epoch seconds", KEY_BAD_TIME)
    if seconds >= _MILLISECONDS_FROM:
        raise refuse(f"{where}: ts {value} looks like milliseconds; send epoch seconds", KEY_BAD_TIME)
    instant = epoch_time(seconds, f"{where} ts")
    if instant is None:
        raise refuse(f"{where}: ts {value} is before 2000: the device clock is not set", KEY_CLOCK_NOT_SYNCED)
    return instant
