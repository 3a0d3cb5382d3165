"""MQTT payload parsers: bytes of one message in, DeviceReadings out. The FORMATS table maps topic
patterns to pure ``parse_<format>`` functions; ``parse_message`` finds the format and parses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from contest.errors import PayloadError
from contest.readings import DeviceReading
from contest.units import DEFAULT_GAS, GasFactors

from . import dsmr, emonhub, esphome, generic, obis, shelly, status, tasmota, zigbee2mqtt
from .common import (
    DEFAULT_TZ,
    KEY_TOO_LARGE,
    KEY_UNKNOWN_TOPIC,
    MAX_PAYLOAD_BYTES,
    Parser,
    load_json,
    refuse,
)

__all__ = [
    "FORMATS",
    "MAX_PAYLOAD_BYTES",
    "PayloadError",
    "PayloadFormat",
    "detect_format",
    "parse_message",
]


@dataclass(frozen=True, slots=True)
class PayloadFormat:
    """One row of the format table.

    name: stable name, used in statistics and docs (``tasmota``, ``shelly_gen2``)
    topic_pattern: regular expression the topic must match (payload-shape fallbacks are noted in doc)
    parser: the pure ``parse_<format>(topic, payload, *, tz, received_at, gas)`` function
    doc: one line: payload shape, units, channels, time source
    example_topic: a topic of this format (docs, property tests)
    """

    name: str
    topic_pattern: str
    parser: Parser
    doc: str
    example_topic: str
    topic_regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topic_regex", re.compile(self.topic_pattern))


TASMOTA = PayloadFormat(
    "tasmota",
    tasmota.TOPIC_PATTERN,
    tasmota.parse_tasmota,
    "Tasmota SENSOR/STATUS10 JSON: SML keys by name (kWh), ENERGY.Total (kWh); Time local or with offset",
    "tele/tasmota_DC0386/SENSOR",
)
SHELLY_GEN1 = PayloadFormat(
    "shelly_gen1",
    shelly.GEN1_TOPIC_PATTERN,
    shelly.parse_shelly_gen1,
    "Shelly Gen1 one value per topic: emeter/<n>/total (Wh), total_returned (Wh, export), energy (Wmin)",
    "shellies/shellyem3-485519D6FEC7/emeter/0/total",
)
SHELLY_GEN2 = PayloadFormat(
    "shelly_gen2",
    shelly.GEN2_TOPIC_PATTERN,
    shelly.parse_shelly_gen2,
    "Shelly Gen2/Gen3 status/emdata:N, status/em1data:N, status/switch:N and events/rpc NotifyStatus (Wh)",
    "shellypro3em-1234567890ab/status/emdata:0",
)
OBIS_TOPIC = PayloadFormat(
    "obis_topic",
    obis.OBIS_TOPIC_PATTERN,
    obis.parse_obis_topic,
    "One topic per OBIS code (SMLReader .../sensor/<n>/obis/1-0:1.8.0[/255]/value): bare number, Wh",
    "smartmeter/mains/sensor/1/obis/1-0:1.8.0/255/value",
)
OBIS_TELEGRAM = PayloadFormat(
    "obis_telegram",
    obis.OBIS_TELEGRAM_TOPIC_PATTERN,
    obis.parse_obis_telegram,
    "Whole D0/DSMR text telegram (/ident ... 1-0:1.8.0*255(...*kWh) ... !); also any payload of that shape",
    "dsmr/raw",
)
VZLOGGER = PayloadFormat(
    "vzlogger",
    obis.VZLOGGER_TOPIC_PATTERN,
    obis.parse_vzlogger,
    "vzlogger channel raw/agg: bare number or {timestamp [ms], value}; kWh unless the channel name says Wh",
    "vzlogger/data/chn0/agg",
)
DSMR_READER = PayloadFormat(
    "dsmr_reader",
    dsmr.TOPIC_PATTERN,
    dsmr.parse_dsmr_reader,
    "dsmr-reader dsmr/reading/<field> (bare kWh) and dsmr/json; electricity_delivered/returned_1/2, gas m³",
    "dsmr/reading/electricity_delivered_1",
)
EMONHUB = PayloadFormat(
    "emonhub",
    emonhub.TOPIC_PATTERN,
    emonhub.parse_emonhub,
    "emonhub emon/<node>/<key> bare numbers and emon/<node> JSON: E1..E12 Wh, *_kwh/*_wh keys",
    "emon/emonTx4_17/E1",
)
ZIGBEE2MQTT = PayloadFormat(
    "zigbee2mqtt",
    zigbee2mqtt.TOPIC_PATTERN,
    zigbee2mqtt.parse_zigbee2mqtt,
    "Zigbee2MQTT device JSON with energy (kWh) and last_seen; attribute mode .../energy",
    "zigbee2mqtt/plug_zigbee23",
)
ESPHOME = PayloadFormat(
    "esphome",
    esphome.TOPIC_PATTERN,
    esphome.parse_esphome,
    "ESPHome <node>/sensor/<object_id>/state bare values; energy when the name says so (kWh, or Wh)",
    "attic-powerwall/sensor/total_energy/state",
)
GENERIC = PayloadFormat(
    "generic",
    generic.TOPIC_PATTERN,
    generic.parse_generic,
    "The contest's JSON: {meter, value, unit, ts?, kind?, duration_s?, channel?, direction?}; any topic",
    "contest/meter-0042/reading",
)
HA_DISCOVERY = PayloadFormat(
    "ha_discovery",
    status.HA_TOPIC_PATTERN,
    status.parse_ha_discovery,
    "Home Assistant discovery config (refused: no reading); also discovery-shaped JSON on any topic",
    "homeassistant/sensor/0x847127fffe8db1c4/energy/config",
)
AVAILABILITY = PayloadFormat(
    "availability",
    status.AVAILABILITY_TOPIC_PATTERN,
    status.parse_availability,
    "Availability/LWT (<device>/online = true, <node>/status = online): ignored, returns []",
    "shellypro3em-1234567890ab/online",
)

#: The format table, in the order the documentation lists it.
FORMATS: tuple[PayloadFormat, ...] = (
    TASMOTA,
    SHELLY_GEN1,
    SHELLY_GEN2,
    OBIS_TOPIC,
    OBIS_TELEGRAM,
    VZLOGGER,
    DSMR_READER,
    EMONHUB,
    ZIGBEE2MQTT,
    ESPHOME,
    GENERIC,
    HA_DISCOVERY,
    AVAILABILITY,
)

# Dispatch by the first topic level first (one dict lookup), so most messages try one regex.
_BY_HEAD: dict[str, tuple[PayloadFormat, ...]] = {
    "tele": (TASMOTA,),
    "stat": (TASMOTA,),
    "cmnd": (TASMOTA,),
    "shellies": (SHELLY_GEN1,),
    "emon": (EMONHUB,),
    "emonhub": (EMONHUB,),
    "homeassistant": (HA_DISCOVERY,),
    "contest": (GENERIC,),
    "dsmr": (OBIS_TELEGRAM, DSMR_READER),
    "vzlogger": (VZLOGGER,),
}
# Formats whose prefix is free (device name, MQTT prefix) and whose topic ends in a known shape.
_BY_SUFFIX: tuple[PayloadFormat, ...] = (TASMOTA, SHELLY_GEN2, ESPHOME, OBIS_TOPIC, OBIS_TELEGRAM)


@lru_cache(maxsize=8192)
def _route_topic(topic: str) -> PayloadFormat | None:
    """The format the topic alone decides (cached: a broker carries few distinct topics)."""
    head = topic.partition("/")[0]
    candidates = _BY_HEAD.get(head)
    if candidates is None and head.startswith("zigbee2mqtt"):
        candidates = (ZIGBEE2MQTT,)
    for fmt in candidates or ():
        if fmt.topic_regex.match(topic):
            return fmt
    for fmt in _BY_SUFFIX:
        if fmt.topic_regex.match(topic):
            return fmt
    return None


def _route_payload(topic: str, payload: bytes) -> PayloadFormat | None:
    """The format the payload's shape decides, for topics no pattern claims."""
    start = payload.lstrip()[:1]
    if start in (b"{", b"["):
        try:
            data = load_json(payload, "message")
        except PayloadError:
            return None
        if generic.looks_generic(data):
            return GENERIC
        if status.looks_like_discovery(data):
            return HA_DISCOVERY
        return None
    if start == b"/" and b"\n!" in payload:
        return OBIS_TELEGRAM
    if status.looks_like_availability(topic, payload):
        return AVAILABILITY
    return None


def detect_format(topic: str, payload: bytes) -> PayloadFormat:
    """The format of a message, by topic and, where the topic is free, by payload shape.

    Raises PayloadError(key="mqtt.unknown_topic") when no format claims it.
    """
    if not topic or "+" in topic or "#" in topic or "\x00" in topic:
        raise refuse(f"topic {topic!r} is not a topic a device publishes to", KEY_UNKNOWN_TOPIC)
    fmt = _route_topic(topic)
    if fmt is None:
        fmt = _route_payload(topic, payload)
    if fmt is None:
        raise refuse(f"no known format uses topic {topic[:120]!r} with this payload", KEY_UNKNOWN_TOPIC)
    return fmt


def parse_message(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Readings [kWh] of one MQTT message; [] for known messages that are device status, not readings.

    tz: zone of device clocks that send local time without offset (Tasmota) [IANA name]
    received_at: broker receive time [UTC, aware]; only used to resolve a local time in the repeated
        autumn hour. Readings whose device has no usable clock keep ts_utc None: the worker stamps them.
    gas: factors that turn gas volume [m³] into energy (DSMR gas, generic "m3")
    Raises PayloadError (and nothing else) with a reason and a stable key for anything unusable.
    """
    if not isinstance(payload, bytes):
        payload = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise refuse(
            f"payload of {len(payload)} bytes is larger than {MAX_PAYLOAD_BYTES}: not a meter message",
            KEY_TOO_LARGE,
        )
    fmt = detect_format(topic, payload)
    return fmt.parser(topic, payload, tz=tz, received_at=received_at, gas=gas)
