"""MQTT payload parsers: bytes of one message in, DeviceReadings out.

The format table is the one place that knows the device families: each row names its MQTT topic
filters (which the worker subscribes to and routing asks first), the broker ACL lines under which a
device publishes there, its topic grammar, and the pure ``parse_<format>`` function.
``parse_message`` finds the format of a message and parses it; ``format_table(prefixes)`` builds the
table of an installation whose devices use other topic prefixes (Zigbee2MQTT base topic, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from paho.mqtt.matcher import MQTTMatcher

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
    "DEFAULT_PREFIXES",
    "DEFAULT_TABLE",
    "FORMATS",
    "MAX_PAYLOAD_BYTES",
    "FormatTable",
    "PayloadError",
    "PayloadFormat",
    "Route",
    "TopicPrefixes",
    "detect_format",
    "filter_covers",
    "format_table",
    "parse_message",
]


@dataclass(frozen=True, slots=True)
class TopicPrefixes:
    """Topic prefixes an installation chooses in its device software (defaults: the software's own).

    zigbee2mqtt: Zigbee2MQTT ``mqtt.base_topic`` (one or more levels)
    homeassistant: Home Assistant MQTT ``discovery_prefix``
    emonhub: emonhub MQTT interfacer ``basetopic`` (without the trailing ``/``)
    vzlogger: vzlogger ``mqtt.topic``
    """

    zigbee2mqtt: str = zigbee2mqtt.DEFAULT_BASE_TOPIC
    homeassistant: str = status.DEFAULT_DISCOVERY_PREFIX
    emonhub: str = emonhub.DEFAULT_BASE_TOPIC
    vzlogger: str = obis.DEFAULT_VZLOGGER_TOPIC


DEFAULT_PREFIXES = TopicPrefixes()

#: How a format recognizes a message by its payload alone, on a topic no filter or grammar claims.
Sniffer = Callable[[str, bytes], bool]


@dataclass(frozen=True, slots=True)
class PayloadFormat:
    """One row of the format table.

    name: stable name, used in statistics and docs (``tasmota``, ``shelly_gen2``)
    topics: MQTT topic filters of the topics this format claims; routing asks them first
    subscribe: the MQTT topic filters of its messages that carry readings: the worker subscribes to
        them (unless staff configure a list). Empty for status formats (recognized, never asked for).
    senders: the broker ACL ``pattern write`` lines under which a device publishes its topics
        (``%u``: the device's username, one topic level); the worker names the sender from them
    parser: the pure ``parse_<format>(topic, payload, *, tz, received_at, gas)`` function
    doc: one line: payload shape, units, channels, time source
    example_topic: a topic of this format (docs, property tests)
    topic_pattern: the parser's whole topic grammar (regular expression). A topic a filter offers
        is this format's only if the grammar agrees; a topic no filter claims (a device prefix of
        several levels, which MQTT filters cannot say: ``home/x/tele/SENSOR``) goes to the first
        format whose grammar matches.
    sniff: whether a payload has this format's shape, for topics no filter or grammar claims
    """

    name: str
    parser: Parser
    doc: str
    example_topic: str
    topics: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    topic_pattern: str | None = None
    sniff: Sniffer | None = None
    topic_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.compile(self.topic_pattern) if self.topic_pattern is not None else None
        object.__setattr__(self, "topic_regex", regex)

    def accepts(self, topic: str) -> bool:
        """Whether the topic fits this format's grammar (a format without one takes what it is offered)."""
        return self.topic_regex is None or self.topic_regex.match(topic) is not None


def _json_or_none(payload: bytes) -> object:
    if payload.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return load_json(payload, "message")
    except PayloadError:
        return None


def _sniff_generic(_topic: str, payload: bytes) -> bool:
    return generic.looks_generic(_json_or_none(payload))


def _sniff_discovery(_topic: str, payload: bytes) -> bool:
    return status.looks_like_discovery(_json_or_none(payload))


def _sniff_telegram(_topic: str, payload: bytes) -> bool:
    return payload.lstrip()[:1] == b"/" and b"\n!" in payload


def _rows(p: TopicPrefixes) -> tuple[PayloadFormat, ...]:
    """The format table of an installation, in the order the documentation lists it."""
    z2m, ha, emon, vz = p.zigbee2mqtt, p.homeassistant, p.emonhub, p.vzlogger
    return (
        PayloadFormat(
            "tasmota",
            tasmota.parse_tasmota,
            "Tasmota SENSOR/STATUS10 JSON: SML keys by name (kWh), ENERGY.Total (kWh); Time local or with offset",
            "tele/tasmota_DC0386/SENSOR",
            topics=("tele/#", "stat/#", "cmnd/#"),
            subscribe=("tele/+/SENSOR", "stat/+/STATUS10", "stat/+/STATUS8"),
            senders=("tele/%u/#", "stat/%u/#"),
            topic_pattern=tasmota.TOPIC_PATTERN,
        ),
        PayloadFormat(
            "shelly_gen1",
            shelly.parse_shelly_gen1,
            "Shelly Gen1 one value per topic: emeter/<n>/total (Wh), total_returned (Wh, export), energy (Wmin)",
            "shellies/shellyem3-485519D6FEC7/emeter/0/total",
            topics=("shellies/#",),
            subscribe=("shellies/#",),
            senders=("shellies/%u/#",),
            topic_pattern=shelly.GEN1_TOPIC_PATTERN,
        ),
        PayloadFormat(
            "shelly_gen2",
            shelly.parse_shelly_gen2,
            "Shelly Gen2/Gen3 status/emdata:N, status/em1data:N, status/switch:N and events/rpc NotifyStatus (Wh)",
            "shellypro3em-1234567890ab/status/emdata:0",
            topics=("+/status/#", "+/events/rpc"),
            subscribe=("+/status/#", "+/events/rpc"),
            senders=("%u/status/#", "%u/events/rpc"),
            topic_pattern=shelly.GEN2_TOPIC_PATTERN,
        ),
        PayloadFormat(
            "obis_topic",
            obis.parse_obis_topic,
            "One topic per OBIS code (SMLReader .../sensor/<n>/obis/1-0:1.8.0[/255]/value): bare number, Wh",
            "smartmeter/mains/sensor/1/obis/1-0:1.8.0/255/value",
            # smartmeter/<device>/...: the meter readers' family; a telegram or the contest JSON sent
            # there is recognized by its shape.
            topics=("smartmeter/#", "+/sensor/+/obis/#"),
            subscribe=("smartmeter/#", "+/sensor/+/obis/#"),
            senders=("smartmeter/%u/#", "%u/sensor/#"),
            topic_pattern=obis.OBIS_TOPIC_PATTERN,
        ),
        PayloadFormat(
            "obis_telegram",
            obis.parse_obis_telegram,
            "Whole D0/DSMR text telegram (/ident ... 1-0:1.8.0*255(...*kWh) ... !); also any payload of that shape",
            "dsmr/raw",
            topics=("dsmr/#",),
            subscribe=("dsmr/raw",),
            topic_pattern=obis.OBIS_TELEGRAM_TOPIC_PATTERN,
            sniff=_sniff_telegram,
        ),
        PayloadFormat(
            "vzlogger",
            partial(obis.parse_vzlogger, prefix=vz),
            "vzlogger channel raw/agg: bare number or {timestamp [ms], value}; kWh unless the channel name says Wh",
            f"{vz}/data/chn0/agg",
            topics=(f"{vz}/#",),
            subscribe=(f"{vz}/#",),
            senders=(f"{vz}/%u/#",),
            topic_pattern=obis.vzlogger_topic_pattern(vz),
        ),
        PayloadFormat(
            "dsmr_reader",
            dsmr.parse_dsmr_reader,
            "dsmr-reader dsmr/reading/<field> (bare kWh) and dsmr/json; electricity_delivered/returned_1/2, gas m³",
            "dsmr/reading/electricity_delivered_1",
            topics=("dsmr/#",),
            subscribe=("dsmr/reading/+", "dsmr/json"),
            topic_pattern=dsmr.TOPIC_PATTERN,
        ),
        PayloadFormat(
            "emonhub",
            partial(emonhub.parse_emonhub, base_topic=emon),
            "emonhub emon/<node>/<key> bare numbers and emon/<node> JSON: E1..E12 Wh, *_kwh/*_wh keys",
            f"{emon}/emonTx4_17/E1",
            # The legacy emonhub/rx/<node>/values carries values without names or units (refused).
            topics=(f"{emon}/#", "emonhub/#"),
            subscribe=(f"{emon}/#",),
            senders=(f"{emon}/%u/#", f"{emon}/%u"),
            topic_pattern=emonhub.topic_pattern(emon),
        ),
        PayloadFormat(
            "zigbee2mqtt",
            partial(zigbee2mqtt.parse_zigbee2mqtt, base_topic=z2m),
            "Zigbee2MQTT device JSON with energy (kWh) and last_seen; attribute mode .../energy",
            f"{z2m}/plug_zigbee23",
            topics=(f"{z2m}/#",),
            subscribe=(f"{z2m}/+", f"{z2m}/+/energy", f"{z2m}/+/produced_energy"),
            senders=(f"{z2m}/%u/#",),
            topic_pattern=zigbee2mqtt.topic_pattern(z2m),
        ),
        PayloadFormat(
            "esphome",
            esphome.parse_esphome,
            "ESPHome <node>/sensor/<object_id>/state bare values; energy when the name says so (kWh, or Wh)",
            "attic-powerwall/sensor/total_energy/state",
            topics=("+/sensor/+/state",),
            subscribe=("+/sensor/+/state",),
            senders=("%u/sensor/#",),
            topic_pattern=esphome.TOPIC_PATTERN,
        ),
        PayloadFormat(
            "generic",
            generic.parse_generic,
            "The contest's JSON: {meter, value, unit, ts?, kind?, duration_s?, channel?, direction?}; any topic",
            "contest/meter-0042/reading",
            # contest/<device>/...: the contest's own family; its JSON is also recognized by shape.
            topics=("contest/#",),
            subscribe=("contest/#",),
            senders=("contest/%u/#",),
            topic_pattern=generic.TOPIC_PATTERN,
            sniff=_sniff_generic,
        ),
        PayloadFormat(
            "ha_discovery",
            partial(status.parse_ha_discovery, prefix=ha),
            "Home Assistant discovery config (refused: no reading); also discovery-shaped JSON on any topic",
            f"{ha}/sensor/0x847127fffe8db1c4/energy/config",
            topics=(f"{ha}/#",),
            topic_pattern=status.ha_topic_pattern(ha),
            sniff=_sniff_discovery,
        ),
        PayloadFormat(
            "availability",
            status.parse_availability,
            "Availability/LWT (<device>/online = true, <node>/status = online): ignored, returns []",
            "shellypro3em-1234567890ab/online",
            sniff=status.looks_like_availability,
        ),
    )


#: Distinct topics whose routes a table keeps.
ROUTE_CACHE_SIZE = 8192


def _offer_order(offer: tuple[int, int, str, PayloadFormat]) -> tuple[int, int]:
    """Filters with a literal first level first, then table order."""
    return offer[0], offer[1]


#: Route.via of a topic that no filter claimed and a format's grammar did.
ROUTED_BY_GRAMMAR = "grammar"
#: Route.via of a message that only its payload's shape placed.
ROUTED_BY_SHAPE = "shape"


@dataclass(frozen=True, slots=True)
class Route:
    """The format of a message and what decided it: the topic filter that offered it, or
    ROUTED_BY_GRAMMAR, or ROUTED_BY_SHAPE."""

    format: PayloadFormat
    via: str


def filter_covers(general: str, specific: str) -> bool:
    """Whether every topic that matches filter ``specific`` also matches filter ``general``."""
    g, s = general.split("/"), specific.split("/")
    for i, level in enumerate(g):
        if level == "#":
            return True
        if i >= len(s) or s[i] == "#" or (level != "+" and (s[i] == "+" or s[i] != level)):
            return False
    return len(g) == len(s)


class FormatTable:
    """The formats of one installation, and what follows from them: routing, subscriptions, ACL lines.

    Routing a topic (cached: a broker carries few distinct topics): the filters of all rows are one
    paho ``MQTTMatcher`` (the matcher behind ``topic_matches_sub``); of the rows whose filters match,
    those with a literal first level (``tele/+/SENSOR``) go before those starting with a wildcard
    (``+/status/#``), then table order, and the first whose grammar agrees wins. Then the rows'
    grammars alone, in table order; then the payload's shape (``sniff``), in table order.
    """

    def __init__(self, formats: tuple[PayloadFormat, ...]) -> None:
        self.formats = formats
        self._matcher = MQTTMatcher()  # type: ignore[no-untyped-call]
        offers: dict[str, list[tuple[int, int, str, PayloadFormat]]] = {}
        for index, fmt in enumerate(formats):
            for topic_filter in fmt.topics:
                wildcard_first = int(topic_filter.split("/", 1)[0] in ("+", "#"))
                offers.setdefault(topic_filter, []).append((wildcard_first, index, topic_filter, fmt))
        for topic_filter, rows in offers.items():
            self._matcher[topic_filter] = tuple(rows)
        self._grammars = tuple(fmt for fmt in formats if fmt.topic_regex is not None)
        self._sniffers = tuple(fmt for fmt in formats if fmt.sniff is not None)
        #: topic -> its route by topic alone (None: the payload decides); a broker carries few
        #: distinct topics, so this stays small; it is emptied when it reaches ROUTE_CACHE_SIZE
        self._routes: dict[str, Route | None] = {}
        #: the topics of every message with readings, overlaps removed: the worker's default subscriptions
        self.subscriptions = _union(f for fmt in formats for f in fmt.subscribe)
        #: the broker ACL ``pattern write`` lines the devices of these formats need, in table order
        self.write_patterns = tuple(dict.fromkeys(p for fmt in formats for p in fmt.senders))

    def _route_topic(self, topic: str) -> Route | None:
        """The format the topic alone decides (None: the payload's shape decides)."""
        if not topic or "+" in topic or "#" in topic or "\x00" in topic:
            raise refuse(f"topic {topic!r} is not a topic a device publishes to", KEY_UNKNOWN_TOPIC)
        offered: list[tuple[int, int, str, PayloadFormat]] = []
        for rows in self._matcher.iter_match(topic):  # type: ignore[no-untyped-call]
            offered.extend(rows)
        offered.sort(key=_offer_order)
        route: Route | None = None
        for _, _, topic_filter, fmt in offered:
            if fmt.accepts(topic):
                route = Route(fmt, topic_filter)
                break
        else:
            for fmt in self._grammars:
                if fmt.accepts(topic):
                    route = Route(fmt, ROUTED_BY_GRAMMAR)
                    break
        if len(self._routes) >= ROUTE_CACHE_SIZE:
            self._routes.clear()
        self._routes[topic] = route
        return route

    def route(self, topic: str, payload: bytes) -> Route:
        """The format of a message and what decided it: by topic and, where the topic is free, by
        payload shape.

        Raises PayloadError(key="mqtt.unknown_topic") when no format claims it.
        """
        try:
            route = self._routes[topic]  # every message comes here: one dict lookup when seen before
        except KeyError:
            route = self._route_topic(topic)
        if route is not None:
            return route
        for fmt in self._sniffers:
            if fmt.sniff is not None and fmt.sniff(topic, payload):
                return Route(fmt, ROUTED_BY_SHAPE)
        raise refuse(f"no known format uses topic {topic[:120]!r} with this payload", KEY_UNKNOWN_TOPIC)

    def detect(self, topic: str, payload: bytes) -> PayloadFormat:
        """The format of a message (see :meth:`route`)."""
        return self.route(topic, payload).format

    def parse(
        self,
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
        fmt = self.route(topic, payload).format
        return fmt.parser(topic, payload, tz=tz, received_at=received_at, gas=gas)


def _union(filters: Iterable[str]) -> tuple[str, ...]:
    """The filters in order, without repeats and without those another one covers."""
    unique = tuple(dict.fromkeys(filters))
    return tuple(f for f in unique if not any(other != f and filter_covers(other, f) for other in unique))


def format_table(prefixes: TopicPrefixes = DEFAULT_PREFIXES) -> FormatTable:
    """The format table of an installation whose devices use these topic prefixes."""
    return FormatTable(_rows(prefixes))


#: The table with every device software's default prefixes.
DEFAULT_TABLE = format_table()
#: The format table, in the order the documentation lists it.
FORMATS: tuple[PayloadFormat, ...] = DEFAULT_TABLE.formats


def detect_format(topic: str, payload: bytes) -> PayloadFormat:
    """The format of a message under the default prefixes (see :meth:`FormatTable.detect`)."""
    return DEFAULT_TABLE.detect(topic, payload)


def parse_message(
    topic: str,
    payload: bytes,
    *,
    tz: str = DEFAULT_TZ,
    received_at: datetime | None = None,
    gas: GasFactors = DEFAULT_GAS,
) -> list[DeviceReading]:
    """Readings of one message under the default prefixes (see :meth:`FormatTable.parse`)."""
    return DEFAULT_TABLE.parse(topic, payload, tz=tz, received_at=received_at, gas=gas)
