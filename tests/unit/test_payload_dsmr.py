"""Golden tests for dsmr-reader (Dutch/Belgian P1 meters): the raw P1 telegram on ``dsmr/raw`` and the
split topics / JSON, on the captured messages in tests/data/mqtt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contest.units import DEFAULT_GAS, GasFactors
from ingest.payloads import parse_message
from tests.unit.test_payload_properties import assert_readings, refusal, sample_message

IMPORT, EXPORT = "import", "export"
WINTER = timezone(timedelta(hours=1))  # DSMR "W" flag


def test_raw_p1_telegram_dsmr50() -> None:
    """Tariffs 1 and 2 stay separate channels; 2.8.x is export; 0-0:1.0.0(101209113020W) is the time;
    the gas register has its own time and is converted with the gas factors."""
    topic, payload = sample_message("dsmr_p1_raw_telegram_dsmr50_netbeheer_example.txt")
    assert topic == "dsmr/raw"
    at = datetime(2010, 12, 9, 11, 30, 20, tzinfo=WINTER)
    gas_at = datetime(2010, 12, 9, 11, 25, 0, tzinfo=WINTER)
    gas_kwh_per_m3 = DEFAULT_GAS.zustandszahl * DEFAULT_GAS.brennwert_kwh_per_m3
    assert_readings(
        parse_message(topic, payload),
        [
            ("dsmr", "1.8.1", 123456.789 * 1, IMPORT, at),
            ("dsmr", "1.8.2", 123456.789 * 1, IMPORT, at),
            ("dsmr", "2.8.1", 123456.789 * 1, EXPORT, at),
            ("dsmr", "2.8.2", 123456.789 * 1, EXPORT, at),
            ("dsmr", "0-1:24.2.1", 12785.123 * gas_kwh_per_m3, IMPORT, gas_at),
        ],
    )
    assert at == datetime(2010, 12, 9, 10, 30, 20, tzinfo=UTC)


def test_gas_uses_the_given_factors() -> None:
    topic, payload = sample_message("dsmr_p1_raw_telegram_dsmr50_netbeheer_example.txt")
    gas = GasFactors(brennwert_kwh_per_m3=11.2, zustandszahl=0.95)
    (gas_reading,) = [r for r in parse_message(topic, payload, gas=gas) if r.channel == "0-1:24.2.1"]
    assert gas_reading.energy_kwh == pytest.approx(12785.123 * 0.95 * 11.2)


def test_split_topic_reference_doc_is_refused() -> None:
    topic, payload = sample_message("dsmr_reader_split_topic_defaults.txt")
    assert topic == "dsmr/reading/<field>"
    refusal(topic, payload, "mqtt.unknown_topic")


def test_split_topics() -> None:
    assert_readings(
        parse_message("dsmr/reading/electricity_delivered_1", b"1234.567"),
        [("dsmr", "electricity_delivered_1", 1234.567, IMPORT, None)],
    )
    assert_readings(
        parse_message("dsmr/reading/electricity_returned_2", b"12.5"),
        [("dsmr", "electricity_returned_2", 12.5, EXPORT, None)],
    )
    assert parse_message("dsmr/reading/timestamp", b"2024-01-01T12:00:00Z") == []
    refusal("dsmr/reading/electricity_currently_delivered", b"0.345", "mqtt.power_only")
    refusal("dsmr/reading/phase_voltage_l1", b"230.1", "mqtt.power_only")
    refusal("dsmr/day-consumption/electricity1", b"3.2", "mqtt.unknown_topic")


def test_json_topic() -> None:
    payload = b'{"id": 1, "timestamp": "2024-01-15T20:10:01+01:00", "electricity_delivered_1": 1000.5, "electricity_returned_1": 2.0, "electricity_currently_delivered": 0.4}'
    at = datetime(2024, 1, 15, 19, 10, 1, tzinfo=UTC)
    assert_readings(
        parse_message("dsmr/json", payload),
        [
            ("dsmr", "electricity_delivered_1", 1000.5, IMPORT, at),
            ("dsmr", "electricity_returned_1", 2.0, EXPORT, at),
        ],
    )
    refusal("dsmr/json", b'{"electricity_currently_delivered": 0.4}', "mqtt.power_only")
