"""Golden tests for Zigbee2MQTT plugs (``energy`` in kWh), on the captured messages in tests/data/mqtt."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.identity import sender_problem
from ingest.payloads import TopicPrefixes, format_table, parse_message
from tests.unit.test_payload_properties import assert_readings, refusal, sample_message

IMPORT, EXPORT = "import", "export"


def test_tuya_plug_energy_with_last_seen() -> None:
    """Custom base topic "zigbee2mqttcc1352" (the installation's setting, as in Zigbee2MQTT's own
    mqtt.base_topic); energy 8.42 kWh; last_seen is the time of the value."""
    topic, payload = sample_message("zigbee2mqtt_tuya_plug_energy_kwh.txt")
    assert topic == "zigbee2mqttcc1352/plug_zigbee23"
    table = format_table(TopicPrefixes(zigbee2mqtt="zigbee2mqttcc1352"))
    assert_readings(
        table.parse(topic, payload),
        [("plug_zigbee23", "energy", 8.42 * 1, IMPORT, datetime(2022, 11, 15, 19, 6, 38, tzinfo=UTC))],
    )
    assert "zigbee2mqttcc1352/+" in table.subscriptions and "zigbee2mqtt/+" not in table.subscriptions
    # Under the default base topic that installation's topic is no Zigbee2MQTT topic.
    refusal(topic, payload, "mqtt.unknown_topic")


def test_a_base_topic_of_several_levels_routes_subscribes_and_names_the_sender() -> None:
    table = format_table(TopicPrefixes(zigbee2mqtt="haus/zigbee"))
    (reading,) = table.parse("haus/zigbee/z1", b'{"energy": 8.42}')
    assert (reading.device, reading.channel, reading.energy_kwh) == ("z1", "energy", 8.42)
    (attribute,) = table.parse("haus/zigbee/z1/energy", b"8.5")
    assert attribute.device == "z1"
    assert table.detect("haus/zigbee/z1", b"{}").name == "zigbee2mqtt"
    assert {"haus/zigbee/+", "haus/zigbee/+/energy"} <= set(table.subscriptions)
    assert "haus/zigbee/%u/#" in table.write_patterns
    assert sender_problem("haus/zigbee/z1", {"z1"}, patterns=table.write_patterns) is None
    assert sender_problem("haus/zigbee/z1", {"z2"}, patterns=table.write_patterns) is not None


def test_attribute_output_mode() -> None:
    topic, payload = sample_message("zigbee2mqtt_ts011f_attribute_output.txt")
    assert topic == "zigbee2mqtt/z1/energy"
    assert_readings(parse_message(topic, payload), [("z1", "energy", 12.05 * 1, IMPORT, None)])
    refusal("zigbee2mqtt/z1/power", b"0", "mqtt.power_only")
    assert parse_message("zigbee2mqtt/z1/state", b"OFF") == []
    assert parse_message("zigbee2mqtt/z1/linkquality", b"43") == []


def test_truncated_json_is_refused_as_truncated() -> None:
    topic, payload = sample_message("zigbee2mqtt_ts011f_json_2026.txt")
    assert topic == "zigbee2mqtt/z1"
    error = refusal(topic, payload, "mqtt.truncated")
    assert "truncated" in error.message
    # The same device message, completed, parses (last_seen with +02:00 offset).
    completed = payload.rstrip() + b"}}"
    assert_readings(
        parse_message(topic, completed),
        [("z1", "energy", 12.05, IMPORT, datetime(2026, 7, 27, 7, 41, 41, tzinfo=UTC))],
    )


def test_ha_discovery_config_is_refused() -> None:
    """homeassistant/.../config is a sensor description (truncated here, too): refused as not a payload."""
    topic, payload = sample_message("zigbee2mqtt_ha_discovery_energy_config.txt")
    assert topic == "homeassistant/sensor/0x847127fffe8db1c4/energy/config"
    error = refusal(topic, payload, "mqtt.not_a_payload")
    assert "discovery" in error.message


def test_other_messages() -> None:
    assert parse_message("zigbee2mqtt/bridge/state", b'{"state":"online"}') == []
    assert parse_message("zigbee2mqtt/z1/availability", b'{"state":"online"}') == []
    assert parse_message("zigbee2mqtt/z1/set", b'{"state":"ON"}') == []
    refusal("zigbee2mqtt/z1", b'{"power": 3, "voltage": 241}', "mqtt.power_only")
    refusal("zigbee2mqtt/thermo", b'{"temperature": 21.5, "battery": 90}', "mqtt.no_energy")
    refusal("zigbee2mqtt/z1", b"12.05", "mqtt.not_json")
    (reading,) = parse_message("zigbee2mqtt/garden/plug", b'{"energy": 1.5, "last_seen": 1757060280000}')
    assert (reading.device, reading.ts_utc) == ("garden/plug", datetime.fromtimestamp(1757060280, UTC))
    (produced,) = parse_message("zigbee2mqtt/pv", b'{"produced_energy": 4.5}')
    assert (produced.channel, produced.direction) == ("produced_energy", EXPORT)
