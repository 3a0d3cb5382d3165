"""Tests for ESPHome state topics: energy only when the sensor's name says so, on the captured messages
in tests/data/mqtt (the captured log holds no total register, so it is all refusals and silences)."""

from __future__ import annotations

from ingest.payloads import parse_message
from tests.unit.test_payload_properties import assert_readings, logged_messages, refusal, sample_message

IMPORT, EXPORT = "import", "export"


def test_captured_state_log() -> None:
    messages = dict(logged_messages("esphome_state_topics_plain_values.txt"))
    prefix = "attic-powerwall/sensor/"
    refusal(
        prefix + "firstfloor_inverter_operation_mode/state",
        messages[prefix + "firstfloor_inverter_operation_mode/state"],
        "mqtt.no_unit",
    )
    refusal(
        prefix + "firstfloor_inverter_limiter_operation_mode/state",
        messages[prefix + "firstfloor_inverter_limiter_operation_mode/state"],
        "mqtt.no_unit",
    )
    refusal(
        prefix + "inverter0_power_demand/state",
        messages[prefix + "inverter0_power_demand/state"],
        "mqtt.power_only",
    )
    refusal(
        prefix + "firstfloor_inverter_power_demand/state",
        messages[prefix + "firstfloor_inverter_power_demand/state"],
        "mqtt.power_only",
    )
    # 0.105 kWh "yesterday" restarts every day: not a register (and it is an inverter's production).
    error = refusal(
        prefix + "firstfloor_inverter_energy_yesterday/state",
        messages[prefix + "firstfloor_inverter_energy_yesterday/state"],
        "mqtt.daily_counter",
    )
    assert "restarts" in error.message
    assert parse_message("attic-powerwall/switch/attic-powerwall_restart/state", b"OFF") == []


def test_sml_yaml_config_is_refused() -> None:
    """Line 1 of this sample is a description, not a topic; the payload is an ESPHome YAML config."""
    topic, payload = sample_message("esphome_sml_yaml_obis_multiply_filter.txt")
    assert topic.startswith("(ESPHome SML sensor config")
    refusal(topic, payload, "mqtt.unknown_topic")
    error = refusal("smlmeter/sensor/bezug_tarif_t1_kwh/state", payload, "mqtt.not_a_payload")
    assert "YAML" in error.message


def test_energy_sensors() -> None:
    assert_readings(
        parse_message("keller/sensor/total_energy/state", b"1234.567"),
        [("keller", "total_energy", 1234.567, IMPORT, None)],
    )
    assert_readings(
        parse_message("keller/sensor/bezug_tarif_t1_kwh/state", b"3094.67"),
        [("keller", "bezug_tarif_t1_kwh", 3094.67, IMPORT, None)],
    )
    assert_readings(
        parse_message("keller/sensor/zaehler_energy_wh/state", b"3469015"),
        [("keller", "zaehler_energy_wh", 3469015 / 1000, IMPORT, None)],
    )
    assert_readings(
        parse_message("keller/sensor/energy_returned/state", b"12.5"),
        [("keller", "energy_returned", 12.5, EXPORT, None)],
    )
    refusal("keller/sensor/total_daily_energy/state", b"2.5", "mqtt.daily_counter")
    refusal("keller/sensor/total_energy/state", b"nan", "mqtt.not_finite")
    refusal("keller/sensor/total_runtime/state", b"1234", "mqtt.no_unit")
    refusal("keller/sensor/total_energy/state", b"-1", "mqtt.negative_energy")
    assert parse_message("keller/status", b"online") == []
