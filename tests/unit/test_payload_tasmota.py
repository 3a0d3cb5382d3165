"""Golden tests for Tasmota SENSOR/STATUS10 payloads (SML scripts and the built-in ENERGY block), on the
captured messages in tests/data/mqtt; expected kWh are the visible register values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingest.payloads import parse_message
from tests.unit.test_payload_properties import (
    BERLIN,
    assert_readings,
    payload_lines,
    refusal,
    sample_message,
)

IMPORT, EXPORT = "import", "export"


def berlin(*fields: int) -> datetime:
    """A wall-clock time in Berlin (Tasmota's Time without offset), as an aware datetime."""
    return datetime(*fields, tzinfo=BERLIN)  # type: ignore[misc]


def test_german_key_names_are_import_and_export_registers() -> None:
    """Verbrauch_Summe is the import register, Einspeisung_Summe the feed-in; Watt_*/Volt_* are power."""
    topic, payload = sample_message("tasmota_sml_tele_sensor_german_keys.txt")
    assert topic == "tele/tasmota_DC0386/SENSOR"
    readings = parse_message(topic, payload)
    at = berlin(2025, 9, 22, 14, 9, 59)
    assert_readings(
        readings,
        [
            ("tasmota_DC0386", "SML/Verbrauch_Summe", 3094.6729817 * 1, IMPORT, at),
            ("tasmota_DC0386", "SML/Einspeisung_Summe", 8571.9683706 * 1, EXPORT, at),
        ],
    )
    # 14:09:59 local summer time (CEST, UTC+2) is 12:09:59 UTC.
    assert readings[0].ts_utc == datetime(2025, 9, 22, 12, 9, 59, tzinfo=UTC)


def test_per_value_bursts_give_one_register_per_message_and_power_is_refused() -> None:
    """Tasmota's "+16" per-value mode sends one value per message; the power/voltage ones are refused
    as power_only (kept by the worker as rejections, never as consumption)."""
    topic, _ = sample_message("tasmota_sml_tele_sensor_partial_per_value_burst.txt")
    lines = payload_lines("tasmota_sml_tele_sensor_partial_per_value_burst.txt")
    assert len(lines) == 10
    assert_readings(
        parse_message(topic, lines[0]),
        [("tasmota_DC0386", "SML/Verbrauch_Summe", 3094.6765688, IMPORT, berlin(2025, 9, 22, 14, 12, 2))],
    )
    assert_readings(
        parse_message(topic, lines[1]),
        [("tasmota_DC0386", "SML/Einspeisung_Summe", 8571.9683706, EXPORT, berlin(2025, 9, 22, 14, 12, 2))],
    )
    for line in lines[2:9]:
        error = refusal(topic, line, "mqtt.power_only")
        assert "power [W] is not energy" in error.message
    assert_readings(
        parse_message(topic, lines[9]),
        [("tasmota_DC0386", "SML/Verbrauch_Summe", 3094.6765947, IMPORT, berlin(2025, 9, 22, 14, 12, 3))],
    )


def test_whole_burst_file_as_one_payload_is_not_json() -> None:
    """Ten JSON objects in one payload are not one message."""
    topic, payload = sample_message("tasmota_sml_tele_sensor_partial_per_value_burst.txt")
    refusal(topic, payload, "mqtt.not_json")


def test_sensor_with_gas_counter_and_temperature() -> None:
    """HTU21 temperature and the Gas pulse Count are not electricity registers; winter time (CET)."""
    _, payload = sample_message("tasmota_sml_tele_sensor_with_gas_counter.txt")
    at = berlin(2019, 12, 15, 15, 38, 2)
    assert_readings(
        parse_message("tele/tasmota_gas/SENSOR", payload),
        [
            ("tasmota_gas", "SML/Total_in", 20481.9505, IMPORT, at),
            ("tasmota_gas", "SML/Total_out", 10898.4095, EXPORT, at),
        ],
    )
    assert at == datetime(2019, 12, 15, 14, 38, 2, tzinfo=UTC)


def test_status10_evcc_3787() -> None:
    """STATUS10 wraps the sensors in StatusSNS; Power_curr -894 W (feed-in) is power, not a register."""
    topic, payload = sample_message("tasmota_sml_status10_evcc_3787.txt")
    assert topic == "stat/<topic>/STATUS10"
    at = berlin(2022, 7, 7, 13, 1, 11)
    assert_readings(
        parse_message("stat/hichi/STATUS10", payload),
        [
            ("hichi", "SML/Total_in", 34507.4761, IMPORT, at),
            ("hichi", "SML/Total_out", 14737.1422, EXPORT, at),
        ],
    )


def test_status10_evcc_26857_phases() -> None:
    """Per-phase power, voltage, current, angles and frequency are all skipped; the registers stay."""
    _, payload = sample_message("tasmota_sml_status10_evcc_26857_phases.txt")
    at = berlin(2026, 1, 21, 11, 7, 31)
    assert_readings(
        parse_message("stat/hichi/STATUS10", payload),
        [
            ("hichi", "SML/Total_in", 2687.3687, IMPORT, at),
            ("hichi", "SML/Total_out", 582.4569, EXPORT, at),
        ],
    )


def test_status10_with_prefix_named_power() -> None:
    """The SML object is named "Power" by the user: keys decide, not the object name."""
    _, payload = sample_message("tasmota_sml_status10_prefix_Power_key_order.txt")
    at = berlin(2023, 10, 10, 11, 49, 16)
    assert_readings(
        parse_message("stat/esp/STATUS10", payload),
        [
            ("esp", "Power/Total_in", 3670.2250, IMPORT, at),
            ("esp", "Power/Total_out", 85.5679, EXPORT, at),
        ],
    )


def test_builtin_energy_block_uses_total() -> None:
    """ENERGY.Total is the kWh register; Today, Yesterday and Period restart, Power is power."""
    topic, payload = sample_message("tasmota_energy_builtin_sonoff_pow.txt")
    assert_readings(
        parse_message(topic, payload),
        [("athomspv3a", "ENERGY/Total", 1066.000 * 1, IMPORT, berlin(2024, 1, 14, 18, 3, 15))],
    )


def test_time_with_offset_setoption52_is_used_as_given() -> None:
    payload = b'{"Time":"2025-09-22T14:09:59+02:00","SML":{"Total_in":12.5}}'
    (reading,) = parse_message("tele/t1/SENSOR", payload, tz="America/New_York")
    assert reading.ts_utc == datetime(2025, 9, 22, 12, 9, 59, tzinfo=UTC)


def test_clock_never_synced_gives_no_time_rather_than_a_rejection() -> None:
    """A Tasmota that never reached NTP counts from 1970: the value is good, its time is not."""
    payload = b'{"Time":"1970-01-01T00:05:12","SML":{"Total_in":12.5}}'
    (reading,) = parse_message("tele/t1/SENSOR", payload)
    assert reading.ts_utc is None and reading.energy_kwh == 12.5


def test_missing_time_gives_no_time() -> None:
    (reading,) = parse_message("tele/t1/SENSOR", b'{"SML":{"Total_in":12.5}}')
    assert reading.ts_utc is None


def test_garbage_time_is_refused() -> None:
    refusal("tele/t1/SENSOR", b'{"Time":"yesterday","SML":{"Total_in":12.5}}', "mqtt.bad_time")


def test_repeated_autumn_hour_is_resolved_by_the_receive_time() -> None:
    """02:30 happens twice on 2025-10-26 in Berlin; the broker's receive time picks the right one."""
    payload = b'{"Time":"2025-10-26T02:30:00","SML":{"Total_in":1.0}}'
    summer = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    winter = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)
    (first,) = parse_message("tele/t1/SENSOR", payload, received_at=summer)
    (second,) = parse_message("tele/t1/SENSOR", payload, received_at=winter)
    (unknown,) = parse_message("tele/t1/SENSOR", payload)
    assert (first.ts_utc, second.ts_utc, unknown.ts_utc) == (summer, winter, summer)


def test_empty_prefix_puts_keys_at_the_top_level() -> None:
    payload = b'{"Time":"2025-09-22T14:09:59","E_in":5.25,"E_out":1.5,"Power_curr":300}'
    assert_readings(
        parse_message("tele/t1/SENSOR", payload),
        [
            ("t1", "E_in", 5.25, IMPORT, berlin(2025, 9, 22, 14, 9, 59)),
            ("t1", "E_out", 1.5, EXPORT, berlin(2025, 9, 22, 14, 9, 59)),
        ],
    )


def test_key_that_says_wh_is_converted() -> None:
    (reading,) = parse_message("tele/t1/SENSOR", b'{"SML":{"Total_in_Wh":123456}}')
    assert reading.energy_kwh == 123456 / 1000


def test_obis_named_keys_and_tariffs() -> None:
    payload = b'{"SML":{"1_8_1":100.5,"1_8_2":50.25,"2_8_0":7.0,"16_7_0":250}}'
    readings = parse_message("tele/t1/SENSOR", payload)
    assert [(r.channel, r.energy_kwh, r.direction) for r in readings] == [
        ("SML/1_8_1", 100.5, IMPORT),
        ("SML/1_8_2", 50.25, IMPORT),
        ("SML/2_8_0", 7.0, EXPORT),
    ]


def test_two_meters_on_one_device_keep_separate_channels() -> None:
    payload = b'{"Haus":{"Total_in":100.0},"WP":{"Total_in":40.0}}'
    assert [r.channel for r in parse_message("tele/t1/SENSOR", payload)] == ["Haus/Total_in", "WP/Total_in"]


def test_swapped_fulltopic() -> None:
    (reading,) = parse_message("home/keller/tele/SENSOR", b'{"SML":{"Total_in":1.0}}')
    assert reading.device == "home/keller"


def test_status_topics_are_silent() -> None:
    assert parse_message("tele/t1/STATE", b'{"Time":"2025-01-01T00:00:00","Uptime":"0T00:01:00"}') == []
    assert parse_message("tele/t1/LWT", b"Online") == []
    assert parse_message("stat/t1/RESULT", b'{"POWER":"ON"}') == []
    assert parse_message("cmnd/t1/Status", b"10") == []


def test_refusals() -> None:
    refusal(
        "tele/t1/SENSOR", b'{"Time":"2025-01-01T00:00:00","HTU21":{"Temperature":21.5}}', "mqtt.no_energy"
    )
    refusal("tele/t1/SENSOR", b'{"ENERGY":{"Power":12,"Voltage":230,"Today":0.5}}', "mqtt.power_only")
    refusal("tele/t1/SENSOR", b'{"SML":{"Total_in":-5.0}}', "mqtt.negative_energy")
    refusal("tele/t1/SENSOR", b'{"SML":{"Total_in":"3094,67"}}', "mqtt.no_energy")
    refusal("tele/t1/SENSOR", b'{"SML":{"Total_in":NaN}}', "mqtt.not_finite")
    refusal("tele/t1/SENSOR", b"3094.67", "mqtt.not_json")
    refusal("tele/t1/SENSOR", b'{"Time":"2025-01-01T00:00:00","SML":{"Total_in":30', "mqtt.truncated")
    refusal("stat/t1/STATUS10", json.dumps({"Status": {}}).encode(), "mqtt.no_energy")
