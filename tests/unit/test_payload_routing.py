"""The format table owns routing, subscriptions and the devices' ACL lines: each row declares its MQTT
topic filters, routing asks them (paho's filter matching) before the rows' grammars and the payload's
shape, and the worker subscribes to what the rows read. Checked on the captured messages."""

from __future__ import annotations

import re

import pytest
from paho.mqtt.client import topic_matches_sub

from contest.errors import PayloadError
from ingest.identity import senders
from ingest.payloads import (
    DEFAULT_TABLE,
    FORMATS,
    TopicPrefixes,
    filter_covers,
    format_table,
    parse_message,
)
from ingest.payloads.common import KEY_UNKNOWN_TOPIC
from tests.unit.test_payload_properties import DOCS, SAMPLE_FILES, refusal, sample_message

#: The subscription list contest/settings.py kept by hand before the format table owned it.
OLD_DEFAULT_TOPICS = (
    "tele/+/SENSOR",
    "shellies/#",
    "+/status/#",
    "+/events/rpc",
    "emon/#",
    "zigbee2mqtt/+",
    "+/sensor/+/state",
    "smartmeter/#",
    "vzlogger/#",
    "contest/#",
)
#: Formats of messages about devices, never readings: recognized when they come, never asked for.
STATUS_FORMATS = {"ha_discovery", "availability"}


def subscribed(topic: str, subscriptions: tuple[str, ...] = DEFAULT_TABLE.subscriptions) -> bool:
    return any(topic_matches_sub(f, topic) for f in subscriptions)


def test_every_format_that_reads_readings_is_subscribed_by_default() -> None:
    for fmt in FORMATS:
        if fmt.name in STATUS_FORMATS:
            assert not fmt.subscribe, fmt.name
            continue
        assert fmt.subscribe, f"{fmt.name} is parsed but subscribes to nothing"
        assert subscribed(fmt.example_topic), fmt.name
        for topic_filter in fmt.subscribe:
            # What a row subscribes to, its own filters claim: the message goes to that row first.
            assert any(filter_covers(claim, topic_filter) for claim in fmt.topics), (fmt.name, topic_filter)


def test_the_formats_parsed_but_not_subscribed_before_are_subscribed_now() -> None:
    """The drift of three hand-kept lists: Tasmota STATUS10 answers, dsmr-reader and Zigbee2MQTT's
    attribute mode were parsed, but no default subscription asked for them."""
    for topic in (
        "stat/dev1/STATUS10",
        "dsmr/reading/electricity_delivered_1",
        "dsmr/json",
        "dsmr/raw",
        "zigbee2mqtt/dev1/energy",
        "dev1/sensor/1/obis/1-0:1.8.0/255/value",
    ):
        assert subscribed(topic), topic
        assert not subscribed(topic, OLD_DEFAULT_TOPICS), topic
    # Nothing the old list asked for is lost.
    for old in OLD_DEFAULT_TOPICS:
        assert any(filter_covers(new, old) for new in DEFAULT_TABLE.subscriptions), old


def test_default_subscriptions_have_no_repeats_or_covered_filters() -> None:
    subscriptions = DEFAULT_TABLE.subscriptions
    assert len(set(subscriptions)) == len(subscriptions)
    for a in subscriptions:
        for b in subscriptions:
            assert a == b or not filter_covers(a, b), (a, b)


@pytest.mark.parametrize(
    ("general", "specific", "covers"),
    [
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("a/+", "a/b", True),
        ("a/+", "a/+", True),
        ("a/+", "a/#", False),
        ("a/b", "a/+", False),
        ("+/status/#", "x/status/y", True),
        ("+/status/#", "shellies/#", False),
        ("dsmr/#", "dsmr/reading/+", True),
        ("dsmr/reading/+", "dsmr/json", False),
    ],
)
def test_filter_covers(general: str, specific: str, covers: bool) -> None:
    assert filter_covers(general, specific) is covers


#: Each captured message: the format it routes to and what decided it (a filter of the table, the
#: format's grammar for a prefix no filter can say, or the payload's shape).
GOLDEN_ROUTES = {
    "dsmr_p1_raw_telegram_dsmr50_netbeheer_example.txt": ("obis_telegram", "dsmr/#"),
    "dsmr_reader_split_topic_defaults.txt": (None, None),  # a reference list, "<field>" is no field
    "emonhub_legacy_node_csv_format.txt": ("emonhub", "emonhub/#"),
    "emonhub_log_publish_line.txt": ("emonhub", "emon/#"),
    "emonhub_node_json_format.txt": ("emonhub", "emon/#"),
    "emonhub_nodevar_format.txt": ("emonhub", "emon/#"),
    "esphome_sml_yaml_obis_multiply_filter.txt": (None, None),
    "esphome_state_topics_plain_values.txt": ("esphome", "+/sensor/+/state"),
    "ha_mqtt_manual_sensor_obis_topics.txt": ("obis_topic", "grammar"),  # "/energy/smartmeter/...": deep
    "ha_mqtt_sensor_yaml_vzlogger.txt": ("vzlogger", "vzlogger/#"),
    "shelly_gen1_em3_topic_reference_doc.txt": ("shelly_gen1", "shellies/#"),
    "shelly_gen1_ha_discovery_energy_wattminute_template.txt": ("ha_discovery", "shape"),
    "shelly_gen1_ha_discovery_total_Wh.txt": ("ha_discovery", "shape"),
    "shelly_gen1_ha_shellies_discovery_energy_kwh_template.txt": ("shelly_gen1", "shellies/#"),
    "shelly_gen1_shellyem3_emeter_power_pf_current_voltage.txt": ("shelly_gen1", "shellies/#"),
    "shelly_gen1_shellyem3_emeter_total_Wh.txt": ("shelly_gen1", "shellies/#"),
    "shelly_gen1_shellyem_emeter_total_and_energy.txt": ("shelly_gen1", "shellies/#"),
    "shelly_gen2_1pmg4_switch_aenergy_by_minute.txt": ("shelly_gen2", "+/events/rpc"),
    "shelly_gen2_em1data_notifystatus.txt": ("shelly_gen2", "+/events/rpc"),
    "shelly_gen2_pro3em_events_rpc_notifystatus_emdata.txt": ("shelly_gen2", "+/events/rpc"),
    "shelly_gen2_pro3em_status_em0.txt": ("shelly_gen2", "+/status/#"),
    "shelly_gen2_pro3em_status_emdata0.txt": ("shelly_gen2", "+/status/#"),
    "smlreader_obis_topics_v1.txt": (None, None),  # "<OBIS>" is no OBIS code
    "tasmota_energy_builtin_sonoff_pow.txt": ("tasmota", "tele/#"),
    "tasmota_sml_status10_evcc_26857_phases.txt": ("tasmota", "stat/#"),
    "tasmota_sml_status10_evcc_3787.txt": ("tasmota", "stat/#"),
    "tasmota_sml_status10_prefix_Power_key_order.txt": ("tasmota", "stat/#"),
    "tasmota_sml_tele_sensor_german_keys.txt": ("tasmota", "tele/#"),
    "tasmota_sml_tele_sensor_partial_per_value_burst.txt": ("tasmota", "tele/#"),
    "tasmota_sml_tele_sensor_with_gas_counter.txt": ("tasmota", "tele/#"),
    "tibber_bridge_obis_stream_d0_text.txt": ("obis_telegram", "grammar"),  # "$aws/.../obis_stream"
    "vzlogger_agg_json_timestamp.txt": ("vzlogger", "vzlogger/#"),
    "vzlogger_topic_scheme_from_source.txt": (None, None),
    "zigbee2mqtt_ha_discovery_energy_config.txt": ("ha_discovery", "homeassistant/#"),
    "zigbee2mqtt_ts011f_attribute_output.txt": ("zigbee2mqtt", "zigbee2mqtt/#"),
    "zigbee2mqtt_ts011f_json_2026.txt": ("zigbee2mqtt", "zigbee2mqtt/#"),
    "zigbee2mqtt_tuya_plug_energy_kwh.txt": (None, None),  # base topic zigbee2mqttcc1352: see below
}


def test_every_captured_sample_has_a_golden_route() -> None:
    assert set(GOLDEN_ROUTES) == set(SAMPLE_FILES)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_captured_messages_route_by_the_table(name: str) -> None:
    topic, payload = sample_message(name)
    expected, via = GOLDEN_ROUTES[name]
    if expected is None:
        refusal(topic, payload, KEY_UNKNOWN_TOPIC)
        return
    route = DEFAULT_TABLE.route(topic, payload)
    assert (route.format.name, route.via) == (expected, via)
    if via not in ("grammar", "shape"):
        assert via in route.format.topics and topic_matches_sub(via, topic)
    try:
        readings = parse_message(topic, payload)
    except PayloadError:
        readings = []
    if readings and senders(topic):
        # A captured message with readings on a topic a device may publish to arrives: it is on a
        # default subscription. (The Tibber capture's topic is the vendor cloud's, "$aws/...".)
        assert subscribed(topic), topic


def test_a_literal_first_level_wins_over_a_free_device_prefix() -> None:
    """``emon/status/E1`` matches emonhub's ``emon/#`` and Shelly Gen2's ``+/status/#``: the fixed
    family level decides, as the broker ACL binds it (user ``status`` of emon/%u/#)."""
    route = DEFAULT_TABLE.route("emon/status/E1", b"1000")
    assert (route.format.name, route.via) == ("emonhub", "emon/#")
    # Both dsmr-reader rows claim dsmr/#: in table order, each grammar takes its own topics.
    route = DEFAULT_TABLE.route("dsmr/raw", b"/X\r\n1-0:1.8.0(1*kWh)\r\n!\r\n")
    assert (route.format.name, route.via) == ("obis_telegram", "dsmr/#")
    route = DEFAULT_TABLE.route("dsmr/json", b"{}")
    assert (route.format.name, route.via) == ("dsmr_reader", "dsmr/#")
    # A filter offers, the grammar decides: contest/dev1/x is no contest/<meter>/reading topic,
    # so the generic JSON there is placed by its shape.
    route = DEFAULT_TABLE.route("contest/dev1/x", b'{"meter": "dev1", "value": 1, "unit": "kWh"}')
    assert (route.format.name, route.via) == ("generic", "shape")


def test_installation_prefixes_move_routing_subscriptions_and_acl_lines_together() -> None:
    prefixes = TopicPrefixes(zigbee2mqtt="z2m", homeassistant="ha", emonhub="energy", vzlogger="vz/keller")
    table = format_table(prefixes)
    for topic, name in (
        ("z2m/plug", "zigbee2mqtt"),
        ("ha/sensor/x/energy/config", "ha_discovery"),
        ("energy/emontx/E1", "emonhub"),
        ("vz/keller/data/chn0/agg", "vzlogger"),
    ):
        assert table.detect(topic, b"1").name == name, topic
    assert {"z2m/+", "energy/#", "vz/keller/#"} <= set(table.subscriptions)
    assert not {"zigbee2mqtt/+", "emon/#", "vzlogger/#"} & set(table.subscriptions)
    assert {"z2m/%u/#", "energy/%u/#", "energy/%u", "vz/keller/%u/#"} <= set(table.write_patterns)
    (reading,) = table.parse("vz/keller/data/chn0/agg", b"38118.6915")
    assert reading.device == "vz/keller/data"
    (reading,) = table.parse("energy/emontx/E1", b"1000")
    assert (reading.device, reading.energy_kwh) == ("emontx", 1.0)
    assert table.parse("ha/status", b"online") == []


def test_the_docs_state_each_formats_subscriptions_and_acl_lines() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("| format | subscribed by default |", 1)[1].split("\n\n", 1)[0]
    for fmt in FORMATS:
        if fmt.name in STATUS_FORMATS:
            continue
        (row,) = [line for line in table.splitlines() if line.startswith(f"| `{fmt.name}` |")]
        cells = row.split(" | ")
        assert set(re.findall(r"`([^`]+)`", cells[1])) == set(fmt.subscribe), fmt.name
        assert set(re.findall(r"`([^`]+)`", cells[2])) == set(fmt.senders), fmt.name
