"""Shared helpers of the MQTT payload parsers: error keys, number/JSON/time decoding, cached unit
factors, the words that tell energy from power in key names, and the one place a DeviceReading is built."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from contest.errors import IngestError, PayloadError
from contest.readings import (
    DIRECTION_EXPORT,
    DIRECTION_IMPORT,
    KIND_REGISTER,
    DeviceReading,
)
from contest.units import DEFAULT_GAS, GasFactors, energy_factor_to_kwh, normalize_unit_text

DEFAULT_TZ = "Europe/Berlin"

# --- stable keys of PayloadError (the worker counts rejections by key) ---------------------------
KEY_UNKNOWN_TOPIC = "mqtt.unknown_topic"
KEY_NOT_JSON = "mqtt.not_json"
KEY_TRUNCATED = "mqtt.truncated"
KEY_NOT_A_NUMBER = "mqtt.not_a_number"
KEY_NOT_A_PAYLOAD = "mqtt.not_a_payload"
KEY_EMPTY = "mqtt.empty"
KEY_TOO_LARGE = "mqtt.too_large"
KEY_NO_ENERGY = "mqtt.no_energy"
KEY_POWER_ONLY = "mqtt.power_only"
KEY_NO_UNIT = "mqtt.no_unit"
KEY_UNKNOWN_UNIT = "mqtt.unknown_unit"
KEY_DAILY_COUNTER = "mqtt.daily_counter"
KEY_NEGATIVE = "mqtt.negative_energy"
KEY_NOT_FINITE = "mqtt.not_finite"
KEY_BAD_TIME = "mqtt.bad_time"
KEY_NAIVE_TIME = "mqtt.naive_time"
KEY_CLOCK_NOT_SYNCED = "mqtt.clock_not_synced"
KEY_BAD_TIMEZONE = "mqtt.bad_timezone"
KEY_MISSING_FIELD = "mqtt.missing_field"
KEY_BAD_FIELD = "mqtt.bad_field"
KEY_METER_MISMATCH = "mqtt.meter_mismatch"
KEY_BAD_NAME = "mqtt.bad_name"

#: Longest channel name kept (names come from JSON keys and topics): device_binding.channel and
#: device_seen.channel hold 120 characters; a longer one is refused here, never a database error later.
MAX_NAME_CHARS = 120
#: Longest device id kept (device_binding.device, device_seen.device, register_series.device).
MAX_DEVICE_CHARS = 200

#: Largest payload looked at [bytes]. A Shelly NotifyFullStatus is ~10 KiB; the generic format's
#: 1,000-reading array is ~135 KiB, ~340 KiB with every field at its longest and indented JSON.
MAX_PAYLOAD_BYTES = 512 * 1024

#: Device clocks that were never set count from 1970 (Tasmota) or from boot; a time before this is
#: "clock not synced", not a real measurement time.
EARLIEST_DEVICE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_EARLIEST_EPOCH_S = EARLIEST_DEVICE_TIME.timestamp()
_LATEST_EPOCH_S = 253402300799.0  # 9999-12-31T23:59:59Z, the end of what datetime can hold


class Parser(Protocol):
    """The one signature every payload parser has (the format table calls them all the same way)."""

    def __call__(
        self,
        topic: str,
        payload: bytes,
        *,
        tz: str = DEFAULT_TZ,
        received_at: datetime | None = None,
        gas: GasFactors = DEFAULT_GAS,
    ) -> list[DeviceReading]: ...


MAX_REASON_CHARS = 300


def refuse(reason: str, key: str) -> PayloadError:
    """A PayloadError to raise: ``raise refuse("why", KEY_...)``.

    Reasons quote payload text; control characters and lone surrogates are escaped here, once, so
    the worker can store any reason as UTF-8 text.
    """
    if not reason.isprintable():
        reason = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in reason)
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return PayloadError(reason, key=key)


def excerpt(payload: bytes | str, limit: int = 60) -> str:
    """A short printable piece of a payload for reasons (the worker keeps the whole raw payload)."""
    text = payload[:limit] if isinstance(payload, str) else payload[:limit].decode("utf-8", "replace")
    return repr(text.strip() + ("…" if len(payload) > limit else ""))


# --- text that is not a device payload --------------------------------------------------------
_YAML_LINE = re.compile(rb"^[ \t]*-?[ \t]*[A-Za-z_][A-Za-z0-9_ ]*:(?:[ \t]|$)", re.MULTILINE)


def not_a_payload_reason(payload: bytes) -> str | None:
    """Why ``payload`` looks like configuration or documentation rather than a device message, or None.

    The sample collection holds HA YAML snippets and topic reference texts under real topics; they
    must be refused as "not a payload", which tells staff more than "not a number".
    """
    head = payload[:4096]
    if len(_YAML_LINE.findall(head)) >= 2:
        return "this is YAML configuration text (e.g. a Home Assistant sensor config), not a device payload"
    stripped = head.lstrip()
    if stripped.startswith(b"#"):
        return "this is comment or reference text, not a device payload"
    if stripped.startswith(b"<") or b"<timestamp>" in head or b"value1" in head:
        return "this is a documentation template with placeholders, not a device payload"
    return None


# --- bare numbers ------------------------------------------------------------------------------
_NUMBER = re.compile(rb"[ \t\r\n]*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)[ \t\r\n]*")
_NUMBER_WITH_UNIT = re.compile(
    rb"[ \t\r\n]*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)[ \t]*\*?[ \t]*([A-Za-z]+[0-9]?|m\xc2\xb3)?[ \t\r\n]*"
)
_NO_VALUE_WORDS = frozenset(
    {b"nan", b"-nan", b"inf", b"-inf", b"+inf", b"infinity", b"-infinity", b"unknown", b"unavailable"}
    | {b"none", b"null"}
)


def _not_a_number(payload: bytes, what: str) -> PayloadError:
    stripped = payload.strip()
    if not stripped:
        return refuse(f"{what}: empty payload (an empty retained message clears the topic)", KEY_EMPTY)
    if stripped.lower() in _NO_VALUE_WORDS:
        return refuse(f"{what}: the device has no value yet ({excerpt(stripped)})", KEY_NOT_FINITE)
    config = not_a_payload_reason(payload)
    if config is not None:
        return refuse(f"{what}: {config}", KEY_NOT_A_PAYLOAD)
    return refuse(f"{what}: payload {excerpt(payload)} is not a number", KEY_NOT_A_NUMBER)


def parse_number(payload: bytes, what: str) -> float:
    """The finite number a bare payload (``b"10533.1"``) holds; PayloadError otherwise."""
    match = _NUMBER.fullmatch(payload)
    if match is None:
        raise _not_a_number(payload, what)
    value = float(match.group(1))
    if not math.isfinite(value):
        raise refuse(f"{what}: {match.group(1).decode()} is too large to be a reading", KEY_NOT_FINITE)
    return value


def parse_number_with_unit(payload: bytes, what: str) -> tuple[float, str | None]:
    """A bare number with an optional unit after it (``b"9094.279*kWh"``, ``b"3469015.0 Wh"``)."""
    match = _NUMBER_WITH_UNIT.fullmatch(payload)
    if match is None:
        raise _not_a_number(payload, what)
    value = float(match.group(1))
    if not math.isfinite(value):
        raise refuse(f"{what}: {match.group(1).decode()} is too large to be a reading", KEY_NOT_FINITE)
    unit = match.group(2)
    return value, (unit.decode("utf-8") if unit else None)


def json_number(value: object) -> float | None:
    """A JSON value as a finite float, None when it is not a number (bools are not numbers)."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


# --- JSON --------------------------------------------------------------------------------------
def _reject_constant(name: str) -> float:
    # Python's json accepts NaN/Infinity, JSON does not; a device sending them has no reading.
    raise refuse(f"JSON holds {name}, which is not a finite number", KEY_NOT_FINITE)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_LITERAL_PREFIXES = ("t", "tr", "tru", "f", "fa", "fal", "fals", "n", "nu", "nul", "-")


def load_json(payload: bytes, what: str) -> Any:
    """The JSON value of ``payload``; PayloadError "mqtt.truncated" when it ends early, else "mqtt.not_json"."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse(f"{what}: payload is not UTF-8 text", KEY_NOT_JSON) from None
    text = text.strip()
    if not text.startswith(("{", "[")):
        if not text:
            raise refuse(f"{what}: empty payload (an empty retained message clears the topic)", KEY_EMPTY)
        config = not_a_payload_reason(payload)
        if config is not None:
            raise refuse(f"{what}: {config}", KEY_NOT_A_PAYLOAD)
        raise refuse(f"{what}: JSON object expected, got {excerpt(payload)}", KEY_NOT_JSON)
    try:
        return _DECODER.decode(text)
    except PayloadError:
        raise
    except json.JSONDecodeError as exc:
        rest = text[exc.pos :]
        if exc.pos >= len(text) or exc.msg.startswith("Unterminated string") or rest in _LITERAL_PREFIXES:
            raise refuse(
                f"{what}: JSON ends before it is complete (truncated after {len(text)} characters)",
                KEY_TRUNCATED,
            ) from None
        config = not_a_payload_reason(payload)
        if config is not None:
            raise refuse(f"{what}: {config}", KEY_NOT_A_PAYLOAD) from None
        raise refuse(f"{what}: not valid JSON ({exc.msg} at character {exc.pos})", KEY_NOT_JSON) from None
    except (ValueError, RecursionError) as exc:
        # Integers longer than Python's digit limit, nesting deeper than the recursion limit.
        raise refuse(f"{what}: JSON cannot be read ({type(exc).__name__})", KEY_NOT_JSON) from None


def load_json_object(payload: bytes, what: str) -> dict[str, Any]:
    """Like :func:`load_json`, for formats whose payload must be a JSON object."""
    value = load_json(payload, what)
    if not isinstance(value, dict):
        raise refuse(f"{what}: JSON object expected, got a JSON {type(value).__name__}", KEY_NOT_JSON)
    return value


# --- time --------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (cached); PayloadError when it does not exist."""
    try:
        return _zone(name)
    except (KeyError, ValueError, OSError):
        raise refuse(f"unknown time zone {name!r}", KEY_BAD_TIMEZONE) from None


@lru_cache(maxsize=2048)
def _iso_candidates(text: str, tz: str) -> tuple[datetime, datetime | None] | None:
    """UTC instant of an ISO text, plus the other instant when a local time is ambiguous (DST);
    None for times before 2000 (clock not synced). Cached: bursts repeat the same time text."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        instant = parsed.astimezone(UTC)
        return None if instant < EARLIEST_DEVICE_TIME else (instant, None)
    if parsed.year < EARLIEST_DEVICE_TIME.year:
        return None
    local = zone(tz)
    first = parsed.replace(tzinfo=local).astimezone(UTC)
    if not _offset_changes_near(tz, parsed.year, parsed.month, parsed.day):
        return first, None
    second = parsed.replace(tzinfo=local, fold=1).astimezone(UTC)
    return first, (second if second != first else None)


@lru_cache(maxsize=4096)
def _offset_changes_near(tz: str, year: int, month: int, day: int) -> bool:
    """True when the zone's UTC offset changes between noon of the day before and noon of the day
    after: only then can a local time be ambiguous or missing (saves a second conversion otherwise)."""
    local = zone(tz)
    noon = datetime(year, month, day, 12, tzinfo=local)
    try:
        before = (noon - timedelta(days=1)).utcoffset()
        after = (noon + timedelta(days=1)).utcoffset()
    except OverflowError:
        return True
    return before != after


def device_time(value: object, tz: str, received_at: datetime | None, what: str) -> datetime | None:
    """A device's own time of a value [UTC], or None when it has none or its clock is not set.

    ``value``: ISO 8601 text with offset (used as given) or without (local time in ``tz``), or epoch
    seconds. A local time in the repeated autumn hour is resolved to the instant nearer to
    ``received_at``; without it, to the first (summer-time) instant.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            candidates = _iso_candidates(value, tz)
        except (ValueError, OverflowError):
            raise refuse(
                f"{what}: time {excerpt(value)} is not an ISO 8601 timestamp", KEY_BAD_TIME
            ) from None
        if candidates is None:
            return None
        first, second = candidates
        if (
            second is not None
            and received_at is not None
            and received_at.tzinfo is not None
            and abs(second - received_at) < abs(first - received_at)
        ):
            return second
        return first
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_time(value, what)
    raise refuse(f"{what}: time {value!r} is neither ISO 8601 text nor epoch seconds", KEY_BAD_TIME)


def epoch_time(seconds: float, what: str) -> datetime | None:
    """Epoch seconds [s] as an aware UTC datetime; None before 2000 (device clock not synced)."""
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise refuse(f"{what}: time {seconds} is not a number", KEY_BAD_TIME)
    if seconds < _EARLIEST_EPOCH_S:
        return None
    if seconds > _LATEST_EPOCH_S:
        raise refuse(f"{what}: epoch time {seconds} is beyond the year 9999", KEY_BAD_TIME)
    return datetime.fromtimestamp(seconds, UTC)


@lru_cache(maxsize=2048)
def _aware_iso(text: str) -> datetime | None:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def aware_time(text: str, what: str) -> datetime:
    """ISO 8601 text WITH offset as UTC; a naive time is an error (house rule: no silent guessing)."""
    try:
        instant = _aware_iso(text)
    except (ValueError, OverflowError):
        raise refuse(f"{what}: time {excerpt(text)} is not an ISO 8601 timestamp", KEY_BAD_TIME) from None
    if instant is None:
        raise refuse(
            f"{what}: time {text!r} has no UTC offset; send e.g. '2026-11-25T10:00:00+01:00' or 'Z'",
            KEY_NAIVE_TIME,
        )
    return instant


# --- units -------------------------------------------------------------------------------------
_POWER_UNITS = frozenset({"w", "kw", "mw", "gw", "va", "kva", "var", "kvar"})
_OTHER_ELECTRICAL_UNITS = frozenset({"v", "kv", "a", "ma", "hz", "%", "pf"})


@lru_cache(maxsize=256)
def _unit_factor(unit: str, gas: GasFactors) -> float | tuple[str, str]:
    # Errors are cached as (key, reason) too: a device repeating "W" must not cost a pint lookup each time.
    try:
        return energy_factor_to_kwh(unit, gas)
    except IngestError:
        pass
    cleaned = re.sub(r"[\[\]()\s]", "", unit).lower()
    if cleaned in _POWER_UNITS:
        return KEY_POWER_ONLY, f"power [{unit}] is not energy"
    if cleaned in _OTHER_ELECTRICAL_UNITS:
        return KEY_POWER_ONLY, f"unit {unit!r} measures voltage, current or frequency, not energy"
    return KEY_UNKNOWN_UNIT, f"unit {unit!r} is not an energy unit (kWh, Wh, MWh, Wmin) or a gas volume (m3)"


def unit_factor(unit: str, gas: GasFactors = DEFAULT_GAS) -> float:
    """Factor that turns a value in ``unit`` into kWh [kWh per unit], resolved once per unit and cached."""
    if len(unit) > 24:
        raise refuse(f"unit {unit[:24]!r}… is not an energy unit", KEY_UNKNOWN_UNIT)
    result = _unit_factor(unit, gas)
    if isinstance(result, float):
        return result
    raise refuse(result[1], result[0])


@lru_cache(maxsize=64)
def is_volume_unit(unit: str) -> bool:
    """True for gas volume units (m3, m³): such values are converted with the gas factors."""
    try:
        return normalize_unit_text(unit) == "m**3"
    except IngestError:
        return False


# --- readings ----------------------------------------------------------------------------------
def reading(
    device: str,
    channel: str,
    ts_utc: datetime | None,
    value: float,
    factor_to_kwh: float,
    direction: str = DIRECTION_IMPORT,
    kind: str = KIND_REGISTER,
    duration_s: float | None = None,
    assumed_unit: str | None = None,
) -> DeviceReading:
    """The one place a DeviceReading is made: value [unit] x factor [kWh/unit], checked finite and >= 0.
    assumed_unit: the unit behind ``factor_to_kwh`` when the message states none (a binding may say).

    A negative register is not clamped: it means a wrongly configured device, and the whole message
    is refused so staff see it.
    """
    energy_kwh = value * factor_to_kwh
    if not energy_kwh >= 0.0:  # also catches NaN
        if energy_kwh < 0.0:
            raise refuse(
                f"{channel}: negative energy {value:g} (registers and intervals are >= 0)", KEY_NEGATIVE
            )
        raise refuse(f"{channel}: energy {value!r} is not a number", KEY_NOT_FINITE)
    if energy_kwh == math.inf:
        raise refuse(f"{channel}: energy {value:g} is too large to be a reading", KEY_NOT_FINITE)
    if not (channel.isprintable() and device.isprintable()):
        # Names become database keys: no control characters, no lone surrogates, bounded length.
        raise refuse(f"device {device[:60]!r} / channel {channel[:60]!r} is not a usable name", KEY_BAD_NAME)
    if len(channel) > MAX_NAME_CHARS or len(device) > MAX_DEVICE_CHARS or not device:
        raise refuse(
            f"device {device[:60]!r} ({len(device)} characters) / channel {channel[:60]!r} ({len(channel)} "
            f"characters): a device id has 1 to {MAX_DEVICE_CHARS} characters, a channel at most "
            f"{MAX_NAME_CHARS}",
            KEY_BAD_NAME,
        )
    # + 0.0 turns -0.0 into 0.0.
    return DeviceReading(device, channel, ts_utc, energy_kwh + 0.0, kind, direction, duration_s, assumed_unit)


# --- key names: which keys are energy registers ------------------------------------------------
ROLE_ENERGY = "energy"
ROLE_DAILY = "daily"  # energy that restarts every day/period (Today, energy_yesterday): not a register
ROLE_ELECTRICAL = "electrical"  # power, voltage, current, power factor, frequency
ROLE_META = "meta"  # meter ids, temperatures, counters of pulses, signal strength
ROLE_OTHER = "other"


@dataclass(frozen=True, slots=True)
class KeyClass:
    """What a key name (``Total_in``, ``firstfloor_energy_kwh``) says about its value.

    role: ROLE_ENERGY | ROLE_DAILY | ROLE_ELECTRICAL | ROLE_META | ROLE_OTHER
    direction: "import" | "export" (feed-in and production words say export)
    unit: the energy unit the name spells (``kWh``, ``Wh``, ``MWh``), else None
    """

    role: str
    direction: str = DIRECTION_IMPORT
    unit: str | None = None


# Words are matched whole, after splitting on "_", "-", spaces and camelCase.
_ELECTRICAL_WORDS = frozenset(
    {"power", "watt", "watts", "leistung", "wirkleistung", "curr", "current", "volt", "volts", "voltage"}
    | {"spannung", "ampere", "amp", "amps", "pf", "factor", "cosphi", "cos", "freq", "frequency", "frequenz"}
    | {"hz", "angle", "winkel", "apparent", "reactive", "va", "var", "kw", "w", "p", "v", "u", "i"}
    | {"momentan", "aktuell", "actual", "instant", "demand", "load", "irms", "vrms"}
)
_DAILY_WORDS = frozenset(
    {"today", "yesterday", "heute", "gestern", "daily", "day", "tag", "tages", "period", "periode"}
    | {"month", "monthly", "monat", "year", "yearly", "jahr", "week", "weekly", "woche", "hour", "hourly"}
)
_META_WORDS = frozenset(
    {"id", "number", "nummer", "nr", "serial", "sn", "name", "status", "state", "version", "rssi"}
    | {"signal", "temperature", "temp", "humidity", "pressure", "count", "pulse", "pulses", "impulse"}
    | {"time", "unit", "uptime", "error"}
)
_STRICT_ENERGY_WORDS = frozenset({"energy", "energie", "kwh", "wh", "mwh", "zaehlerstand", "zählerstand"})
_LOOSE_ENERGY_WORDS = _STRICT_ENERGY_WORDS | frozenset(
    {"e", "total", "totals", "summe", "sum", "zaehler", "zähler", "stand", "counter", "register"}
    | {"verbrauch", "bezug", "import", "imported", "consumption", "consumed", "delivered", "in", "out"}
    | {"export", "exported", "einspeisung", "eingespeist", "lieferung", "returned", "ret", "neg", "pos"}
    | {"t1", "t2", "t3", "ht", "nt", "tarif", "tariff", "feedin", "produced", "production"}
)
# "delivered" is import on purpose: DSMR says "delivered" for what the grid delivers to the home.
# Production words say export so that PV yield is never counted as consumption.
_EXPORT_WORDS = frozenset(
    {"out", "export", "exported", "einspeisung", "eingespeist", "einsp", "lieferung", "returned", "return"}
    | {"ret", "neg", "negative", "feed", "feedin", "abgabe", "produced", "production", "erzeugung"}
    | {"erzeugt", "generation", "generated", "solar", "pv", "yield", "ertrag"}
)
_SPLIT = re.compile(r"[^0-9a-zäöüß]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# An OBIS code inside a key name: "1_8_0", "Z_1.8.1", "1-0:2.8.0".
_OBIS_IN_KEY = re.compile(r"(?:^|[^0-9])(\d{1,2})[._](\d{1,2})[._](\d{1,2})(?:$|[^0-9])")


def key_words(key: str) -> frozenset[str]:
    """Lower-case words of a key name, split on separators and on camelCase (``TotalIn`` → total, in)."""
    words = {word for word in _SPLIT.split(key.lower()) if word}
    words.update(word.lower() for word in _CAMEL.findall(key))
    return frozenset(words)


def _unit_from_words(words: frozenset[str]) -> str | None:
    if "kwh" in words:
        return "kWh"
    if "mwh" in words:
        return "MWh"
    if "wh" in words:
        return "Wh"
    return None


@lru_cache(maxsize=8192)
def classify_key(key: str, strict: bool) -> KeyClass:
    """Classify a key by its words; ``strict`` wants an explicit energy word (energy, kwh, wh).

    Loose mode is for Tasmota SML keys, whose names users choose (``Total_in``, ``Verbrauch_Summe``,
    ``E_in``); strict mode for sources whose other keys would otherwise look like energy (ESPHome,
    emonhub, vzlogger channel names).
    """
    words = key_words(key)
    direction = DIRECTION_EXPORT if words & _EXPORT_WORDS else DIRECTION_IMPORT
    unit = _unit_from_words(words)
    obis = _OBIS_IN_KEY.search(key)
    if obis is not None:
        c, d = int(obis.group(1)), int(obis.group(2))
        if d == 8 and c in (1, 2):
            return KeyClass(ROLE_ENERGY, DIRECTION_EXPORT if c == 2 else DIRECTION_IMPORT, unit)
        if d in (4, 5, 7):
            return KeyClass(ROLE_ELECTRICAL, direction)
    energy_words = _STRICT_ENERGY_WORDS if strict else _LOOSE_ENERGY_WORDS
    if words & _DAILY_WORDS and (words & energy_words or unit):
        return KeyClass(ROLE_DAILY, direction, unit)
    if words & _ELECTRICAL_WORDS and unit is None:
        return KeyClass(ROLE_ELECTRICAL, direction)
    if words & _META_WORDS:
        return KeyClass(ROLE_META, direction)
    if words & energy_words:
        return KeyClass(ROLE_ENERGY, direction, unit)
    return KeyClass(ROLE_OTHER, direction)
