"""Meters that speak OBIS: one topic per OBIS code (SMLReader, HA-configured readers), whole D0/DSMR
text telegrams (Tibber bridge ``obis_stream``, dsmr-reader ``dsmr/raw``), and vzlogger channels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from contest.readings import DIRECTION_EXPORT, DIRECTION_IMPORT, DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from .common import (
    DEFAULT_TZ,
    EARLIEST_DEVICE_TIME,
    KEY_BAD_TIME,
    KEY_DAILY_COUNTER,
    KEY_NO_ENERGY,
    KEY_NOT_A_NUMBER,
    KEY_POWER_ONLY,
    KEY_TRUNCATED,
    KEY_UNKNOWN_TOPIC,
    ROLE_DAILY,
    ROLE_ELECTRICAL,
    classify_key,
    epoch_time,
    is_volume_unit,
    json_number,
    load_json_object,
    not_a_payload_reason,
    parse_number,
    parse_number_with_unit,
    reading,
    refuse,
    unit_factor,
)

# --- OBIS codes --------------------------------------------------------------------------------
_OBIS = re.compile(r"^(?:(\d{1,3})-(\d{1,3}):)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\*(\d{1,3}))?$")


@lru_cache(maxsize=1024)
def obis_channel(code: str, f_group: str | None = None) -> tuple[str, str] | None:
    """(channel, role) of an OBIS code; role "import", "export", "electrical" or "other".

    The channel is the short ``C.D.E`` form (``1.8.0``) for electricity (``1-0``) with the default
    billing group ``*255``; any other medium or group keeps the full ``A-B:C.D.E*F`` form so two
    meters on one bus (DSMR gas ``0-1:24.2.1``) never share a channel.
    """
    match = _OBIS.match(code)
    if match is None:
        return None
    a, b, c, d, e, f = match.groups()
    f = f or f_group
    electricity = a is None or (a == "1" and b in ("0", "1"))
    if electricity and b in (None, "0") and f in (None, "255"):
        channel = f"{int(c)}.{int(d)}.{int(e)}"
    else:
        channel = f"{a or 1}-{b or 0}:{int(c)}.{int(d)}.{int(e)}" + (f"*{int(f)}" if f is not None else "")
    cc, dd = int(c), int(d)
    if electricity and dd == 8 and cc in (1, 2):
        return channel, DIRECTION_EXPORT if cc == 2 else DIRECTION_IMPORT
    if electricity and dd in (4, 5, 7):
        return channel, "electrical"
    return channel, "other"


# --- one topic per OBIS code -------------------------------------------------------------------
#: SMLReader ``<prefix>/sensor/<n>/obis/<code>[/<F>]/value``, or any ``<prefix>/<A-B:C.D.E[*F]>[/F][/value]``.
OBIS_TOPIC_PATTERN = (
    r"^(?:(.*)/sensor/(\d+)/obis/([^/]+)(?:/(\d{1,3}))?/value"
    r"|(.+?)/(\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}(?:\*\d{1,3})?)(?:/(\d{1,3}))?(?:/value)?)$"
)
_OBIS_TOPIC = re.compile(OBIS_TOPIC_PATTERN)


@lru_cache(maxsize=4096)
def _obis_route(topic: str) -> tuple[str, str, str] | None:
    match = _OBIS_TOPIC.match(topic)
    if match is None:
        return None
    if match.group(3) is not None:
        device, sensor, code, f_group = match.group(1), match.group(2), match.group(3), match.group(4)
        prefix = f"sensor/{sensor}/"
    else:
        device, code, f_group = match.group(5), match.group(6), match.group(7)
        prefix = ""
    resolved = obis_channel(code, f_group)
    if resolved is None or not device:
        return None
    channel, role = resolved
    return device, prefix + channel, role


def parse_obis_topic(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """One register from a topic that names its OBIS code, payload a bare number [Wh unless a unit follows].

    device: the topic before ``/sensor/<n>/obis/`` (SMLReader) or before the OBIS level; channel:
    ``sensor/<n>/1.8.0`` (SMLReader) or ``1.8.0``. 1.8.x is import, 2.8.x export. A bare number is Wh:
    SML meters send energy registers in Wh (unit code 30) and these readers forward them unchanged; a
    unit after the number (``9094.279 kWh``) wins. No time in the message: ts_utc None.
    """
    route = _obis_route(topic)
    if route is None:
        raise refuse(f"topic {topic!r} names no OBIS code this parser knows", KEY_UNKNOWN_TOPIC)
    device, channel, role = route
    if role == "electrical":
        raise refuse(f"power [W] is not energy: OBIS {channel} is an instantaneous value", KEY_POWER_ONLY)
    if role == "other":
        if not_a_payload_reason(payload) is not None:
            parse_number(payload, f"OBIS {channel}")  # raises the "not a payload" refusal
        raise refuse(f"OBIS {channel} is not an energy register (1.8.x or 2.8.x)", KEY_NO_ENERGY)
    value, unit = parse_number_with_unit(payload, f"OBIS {channel}")
    assumed = None if unit else "Wh"
    return [reading(device, channel, None, value, unit_factor(unit or "Wh"), role, assumed_unit=assumed)]


# --- D0 / DSMR text telegrams ------------------------------------------------------------------
OBIS_TELEGRAM_TOPIC_PATTERN = r"^(?:(.+)/obis_stream|(dsmr)/raw)$"
_TELEGRAM_TOPIC = re.compile(OBIS_TELEGRAM_TOPIC_PATTERN)
_LINE = re.compile(r"^(\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}(?:\*\d{1,3})?)((?:\([^()]*\))+)$")
_GROUP = re.compile(r"\(([^()]*)\)")
_VALUE = re.compile(r"^([-+]?\d+(?:\.\d*)?)(?:\*(.+))?$")
_DSMR_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([WS])$")
# DSMR is Dutch/Belgian: W(inter) is UTC+1, S(ummer) UTC+2, whatever the contest's zone.
_DSMR_OFFSETS = {"W": timezone(timedelta(hours=1)), "S": timezone(timedelta(hours=2))}
_ENERGY_UNITS = frozenset({"kwh", "wh", "mwh"})


def _dsmr_time(text: str) -> datetime | None:
    match = _DSMR_TIME.match(text)
    if match is None:
        raise refuse(f"DSMR time {text!r} is not YYMMDDhhmmssW/S", KEY_BAD_TIME)
    yy, mo, dd, hh, mi, ss, season = match.groups()
    try:
        local = datetime(
            2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), tzinfo=_DSMR_OFFSETS[season]
        )
    except ValueError:
        raise refuse(f"DSMR time {text!r} is not a valid date", KEY_BAD_TIME) from None
    instant = local.astimezone(UTC)
    return instant if instant >= EARLIEST_DEVICE_TIME else None


def _telegram_device(topic: str) -> str:
    match = _TELEGRAM_TOPIC.match(topic)
    if match is not None:
        return match.group(1) or match.group(2)
    head, _, _ = topic.rpartition("/")
    return head or topic


def parse_obis_telegram(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Energy registers of a whole IEC 62056-21 (D0) or DSMR P1 telegram: ``/ident`` line, then
    ``1-0:1.8.0*255(009094.27916715*kWh)`` lines, then ``!`` (DSMR: ``!CRC``).

    device: the topic without ``/obis_stream`` (Tibber bridge) or ``/raw`` (dsmr-reader); channel:
    OBIS (``1.8.0``, ``2.8.1``; DSMR gas ``0-1:24.2.1``). Units come from the telegram; gas [m³] is
    converted with ``gas``. Time: DSMR ``0-0:1.0.0(YYMMDDhhmmssW)``; D0 has none (ts_utc None).
    The CRC is not checked: the reader checked it on the serial line and MQTT runs over TCP.
    A telegram without its ``!`` end line is truncated.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("OBIS telegram is not text", KEY_NOT_A_NUMBER) from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith("/"):
        raise refuse("OBIS telegram must start with its '/' identification line", KEY_NOT_A_NUMBER)
    if not lines[-1].startswith("!"):
        raise refuse("OBIS telegram ends before its '!' end line (truncated)", KEY_TRUNCATED)
    device = _telegram_device(topic)
    ts: datetime | None = None
    energy_lines: list[tuple[str, str, list[str]]] = []
    gas_types: dict[str, str] = {}
    electrical: list[str] = []
    for line in lines[1:-1]:
        match = _LINE.match(line)
        if match is None:
            continue  # DSMR header/version lines, text messages, log entries
        code, groups = match.group(1), _GROUP.findall(match.group(2))
        resolved = obis_channel(code)
        if resolved is None:
            continue
        channel, role = resolved
        if code.startswith("0-0:1.0.0"):
            ts = _dsmr_time(groups[0])
        elif role in (DIRECTION_IMPORT, DIRECTION_EXPORT) or ":24.2." in code:
            energy_lines.append((channel, role, groups))
        elif ":24.1.0" in code:
            gas_types[code.partition(":")[0]] = groups[0]
        elif role == "electrical":
            electrical.append(channel)
    readings: list[DeviceReading] = []
    for channel, role, groups in energy_lines:
        value_text = groups[-1]
        match = _VALUE.match(value_text)
        if match is None:
            continue
        number, unit = float(match.group(1)), match.group(2)
        if ":24.2." in channel:
            # An M-Bus device: 003 is gas; water (007) and heat are not this contest's business.
            bus = channel.partition(":")[0]
            if gas_types.get(bus, "003") != "003" or unit is None or not is_volume_unit(unit):
                continue
            own_time = _dsmr_time(groups[0]) if len(groups) >= 2 else ts
            readings.append(reading(device, channel, own_time, number, unit_factor(unit, gas)))
            continue
        if unit is None or unit.lower() not in _ENERGY_UNITS:
            continue
        readings.append(reading(device, channel, ts, number, unit_factor(unit), role))
    if readings:
        return readings
    if electrical:
        raise refuse(
            f"power [W] is not energy: the telegram holds only {', '.join(electrical[:6])}", KEY_POWER_ONLY
        )
    raise refuse(
        "the OBIS telegram holds no energy register (1.8.x, 2.8.x) with a kWh/Wh unit", KEY_NO_ENERGY
    )


# --- vzlogger ----------------------------------------------------------------------------------
#: vzlogger's default ``mqtt.topic`` (an installation may choose another).
DEFAULT_VZLOGGER_TOPIC = "vzlogger"


def vzlogger_topic_pattern(prefix: str = DEFAULT_VZLOGGER_TOPIC) -> str:
    """``<prefix>[/...]/<channel name>/{raw|agg|id|uuid}`` (example ``vzlogger/data/chn0/agg``)."""
    return rf"^({re.escape(prefix)}(?:/[^/]+)*?)/([^/]+)/(raw|agg|id|uuid)$"


@lru_cache(maxsize=16)
def _vz_topic(prefix: str) -> re.Pattern[str]:
    return re.compile(vzlogger_topic_pattern(prefix))


@lru_cache(maxsize=4096)
def _vz_route(topic: str, prefix: str) -> tuple[str, str, str] | None:
    match = _vz_topic(prefix).match(topic)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def parse_vzlogger(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
    prefix: str = DEFAULT_VZLOGGER_TOPIC,
) -> list[DeviceReading]:
    """A vzlogger channel value: bare ``38118.691500`` or ``{"timestamp": <epoch ms>, "value": ...}``.

    device: the prefix (``vzlogger/data``); channel: ``<name>/<raw|agg>`` (``chn0/agg``).
    vzlogger sends no unit and no OBIS code with values (the code comes once on ``.../id``): a value
    is read as a kWh register unless the channel name says Wh, power (``..._leistung``, ``power``) or
    a daily total. Time: ``timestamp`` [ms] when present. ``id`` and ``uuid`` announcements return [].
    prefix: the installation's vzlogger ``mqtt.topic`` (the format table binds the worker's setting)
    """
    route = _vz_route(topic, prefix)
    if route is None:
        raise refuse(f"topic {topic!r} is not a vzlogger channel topic", KEY_UNKNOWN_TOPIC)
    device, name, leaf = route
    if leaf in ("id", "uuid"):
        return []  # announcements of the channel's OBIS code / middleware UUID, published once
    channel = f"{name}/{leaf}"
    kind = classify_key(name, True)
    if kind.role == ROLE_ELECTRICAL:
        raise refuse(f"power [W] is not energy: vzlogger channel {name!r} is named as power", KEY_POWER_ONLY)
    if kind.role == ROLE_DAILY:
        raise refuse(f"vzlogger channel {name!r} is a daily total, not a register", KEY_DAILY_COUNTER)
    ts: datetime | None = None
    if payload.lstrip().startswith(b"{"):
        data = load_json_object(payload, f"vzlogger {channel}")
        value = json_number(data.get("value"))
        if value is None:
            raise refuse(f"vzlogger {channel}: 'value' is missing or not a number", KEY_NO_ENERGY)
        stamp = json_number(data.get("timestamp"))
        if stamp is not None:
            ts = epoch_time(stamp / 1000.0, f"vzlogger {channel} timestamp")
    else:
        value = parse_number(payload, f"vzlogger {channel}")
    # vzlogger sends no unit: a channel name that says none leaves kWh assumed (a binding may say Wh).
    assumed = None if kind.unit else "kWh"
    return [
        reading(
            device, channel, ts, value, unit_factor(kind.unit or "kWh"), kind.direction, assumed_unit=assumed
        )
    ]
