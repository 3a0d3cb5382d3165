"""Golden tests for OBIS-speaking sources: SMLReader / HA-configured OBIS topics (bare Wh), the Tibber
bridge D0 telegram (kWh in the text) and vzlogger channels, on the captured messages in tests/data/mqtt."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.payloads import parse_message
from tests.unit.test_payload_properties import assert_readings, logged_messages, refusal, sample_message

IMPORT, EXPORT = "import", "export"


# --- SMLReader and other OBIS topics ------------------------------------------------------------
def test_smlreader_v1_topics_are_wh_registers_per_sensor() -> None:
    """SMLReader forwards SML values in Wh: 3469015.0 Wh = 3469.015 kWh. 2.8.x is export, 16.7.0 is
    power, and the "info" greeting is not a format."""
    messages = logged_messages("smlreader_obis_topics_v1.txt")
    assert messages[0] == ("smartmeter/mains/info", b"Hello from 00C7551E, running SMLReader version 1.0.1.")
    refusal(*messages[0], "mqtt.unknown_topic")
    readings = []
    for topic, payload in messages[1:]:
        if "16.7.0" in topic:
            refusal(topic, payload, "mqtt.power_only")
        else:
            readings.extend(parse_message(topic, payload))
    device = "smartmeter/mains"
    assert_readings(
        readings,
        [
            (device, "sensor/1/1.8.0", 3469015.0 / 1000, IMPORT, None),
            (device, "sensor/1/2.8.0", 13.2 / 1000, EXPORT, None),
            (device, "sensor/1/1.8.1", 0.0 / 1000, IMPORT, None),
            (device, "sensor/1/2.8.1", 13.2 / 1000, EXPORT, None),
            (device, "sensor/1/1.8.2", 3469015.0 / 1000, IMPORT, None),
            (device, "sensor/1/2.8.2", 0.0 / 1000, EXPORT, None),
            (device, "sensor/2/1.8.0", 3531049.9 / 1000, IMPORT, None),
        ],
    )


def test_ha_yaml_under_an_obis_topic_is_not_a_payload() -> None:
    """The topic is a real SMLReader v2 topic (with /255/); the payload is a HA YAML snippet."""
    topic, payload = sample_message("ha_mqtt_manual_sensor_obis_topics.txt")
    assert topic == "/energy/smartmeter/sensor/1/obis/1-0:1.8.1/255/value"
    error = refusal(topic, payload, "mqtt.not_a_payload")
    assert "YAML" in error.message
    # The same topic with a real value (obis_codes.md: SMLReader 1.8.0 payload 3546245.9 Wh).
    assert_readings(
        parse_message(topic, b"3546245.9"),
        [("/energy/smartmeter", "sensor/1/1.8.1", 3546245.9 / 1000, IMPORT, None)],
    )
    refusal("/energy/smartmeter/sensor/1/obis/1-0:16.7.0/255/value", b"451.2", "mqtt.power_only")


def test_other_obis_topic_schemes() -> None:
    """``<prefix>/1-0:1.8.0*255/value``: bare numbers are Wh; a unit after the number wins."""
    assert_readings(
        parse_message("meter/haus/1-0:1.8.0*255/value", b"3469015.0"),
        [("meter/haus", "1.8.0", 3469015.0 / 1000, IMPORT, None)],
    )
    assert_readings(
        parse_message("meter/haus/1-0:2.8.0*255", b"9094.279*kWh"),
        [("meter/haus", "2.8.0", 9094.279 * 1, EXPORT, None)],
    )
    assert_readings(
        parse_message("meter/haus/1-0:1.8.1/255/value", b"12.5 kWh"),
        [("meter/haus", "1.8.1", 12.5, IMPORT, None)],
    )
    refusal("meter/haus/1-0:1.8.0*255/value", b"12.5 W", "mqtt.power_only")
    refusal("meter/haus/1-0:96.1.0*255/value", b"1ESY1162", "mqtt.no_energy")
    refusal("meter/haus/1-0:1.8.0*255/value", b"-3", "mqtt.negative_energy")


# --- D0 telegram (Tibber bridge) ----------------------------------------------------------------
def test_tibber_bridge_d0_telegram() -> None:
    """The D0 text names its unit: 1-0:1.8.0*255(009094.27916715*kWh). D0 carries no time."""
    topic, payload = sample_message("tibber_bridge_obis_stream_d0_text.txt")
    assert topic.endswith("/obis_stream")
    real = topic.replace("<long uid>", "abc123").replace("<eui>", "0011223344556677")
    device = real.removesuffix("/obis_stream")
    assert_readings(parse_message(real, payload), [(device, "1.8.0", 9094.27916715 * 1, IMPORT, None)])
    # The captured topic with its placeholders parses the same way (the device id is then the placeholder text).
    assert parse_message(topic, payload)[0].energy_kwh == 9094.27916715


def test_telegram_without_end_line_is_truncated() -> None:
    _, payload = sample_message("tibber_bridge_obis_stream_d0_text.txt")
    cut = payload[: payload.index(b"1-0:16.7.0")]
    refusal("tibber/x/obis_stream", cut, "mqtt.truncated")


def test_telegram_on_an_unknown_topic_is_recognized_by_shape() -> None:
    payload = b"/EBZ5DD3BZ06ETA_107\r\n1-0:1.8.0*255(000123.5*kWh)\r\n1-0:2.8.0*255(000001.25*kWh)\r\n!\r\n"
    assert_readings(
        parse_message("house7/d0", payload),
        [("house7", "1.8.0", 123.5, IMPORT, None), ("house7", "2.8.0", 1.25, EXPORT, None)],
    )
    refusal("house7/d0", b"/X\r\n1-0:16.7.0*255(000169.25*W)\r\n!\r\n", "mqtt.power_only")


# --- vzlogger ----------------------------------------------------------------------------------
def test_vzlogger_agg_json_with_timestamp_in_ms() -> None:
    """{"timestamp": epoch ms, "value": ...}: kWh register (the HA mapping in the sample set says kWh)."""
    topic, payload = sample_message("vzlogger_agg_json_timestamp.txt")
    assert topic == "vzlogger/data/chn0/agg"
    at = datetime.fromtimestamp(1636369980000 / 1000, UTC)
    assert_readings(
        parse_message(topic, payload), [("vzlogger/data", "chn0/agg", 38118.691500000001 * 1, IMPORT, at)]
    )


def test_vzlogger_bare_values_announcements_and_names() -> None:
    assert_readings(
        parse_message("vzlogger/chn0/raw", b"38118.691500"),
        [("vzlogger", "chn0/raw", 38118.6915, IMPORT, None)],
    )
    assert_readings(
        parse_message("vzlogger/data/bezug_wh/raw", b"3469015.000000"),
        [("vzlogger/data", "bezug_wh/raw", 3469015.0 / 1000, IMPORT, None)],
    )
    assert_readings(
        parse_message("vzlogger/data/einspeisung/agg", b"12.000000"),
        [("vzlogger/data", "einspeisung/agg", 12.0, EXPORT, None)],
    )
    assert parse_message("vzlogger/data/chn0/id", b"1-0:1.8.0") == []
    assert parse_message("vzlogger/data/chn0/uuid", b"0a6f2d40-...") == []
    refusal("vzlogger/data/leistung/raw", b"1670.000000", "mqtt.power_only")


def test_vzlogger_ha_yaml_is_not_a_payload() -> None:
    topic, payload = sample_message("ha_mqtt_sensor_yaml_vzlogger.txt")
    assert topic == "vzlogger/data/chn0/agg"
    refusal(topic, payload, "mqtt.not_a_payload")


def test_vzlogger_topic_scheme_reference_is_refused() -> None:
    """A topic scheme with placeholders and comment lines is documentation, not a message."""
    topic, payload = sample_message("vzlogger_topic_scheme_from_source.txt")
    refusal(topic, payload, "mqtt.unknown_topic")
    error = refusal("vzlogger/data/chn0/raw", payload, "mqtt.not_a_payload")
    assert "reference text" in error.message
