"""Tests for the contest's own JSON reading format (the specification is docs/mqtt-formats.md): what it
accepts, and that every mistake an integrator can make is refused with its own key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contest.units import DEFAULT_GAS
from ingest.payloads import MAX_PAYLOAD_BYTES, detect_format, parse_message
from tests.unit.test_payload_properties import assert_readings, refusal

IMPORT, EXPORT = "import", "export"
TOPIC = "contest/meter-0042/reading"


def message(**fields: object) -> bytes:
    return json.dumps({"meter": "meter-0042", **fields}).encode()


def test_documented_example() -> None:
    payload = b'{"meter": "meter-0042", "ts": "2026-11-25T10:00:00+01:00", "value": 12345.6, "unit": "kWh", "kind": "register", "channel": "1.8.0"}'
    at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert_readings(parse_message(TOPIC, payload), [("meter-0042", "1.8.0", 12345.6 * 1, IMPORT, at)])


def test_units_epoch_time_and_defaults() -> None:
    assert_readings(
        parse_message(TOPIC, message(value=54321, unit="Wh", ts=1795510800)),
        [("meter-0042", "1.8.0", 54321 / 1000, IMPORT, datetime.fromtimestamp(1795510800, UTC))],
    )
    assert_readings(
        parse_message(TOPIC, message(value=7.5, unit="kWh", direction="export")),
        [("meter-0042", "2.8.0", 7.5, EXPORT, None)],
    )
    assert_readings(
        parse_message(TOPIC, message(value=100, unit="kWh", channel="2.8.1")),
        [("meter-0042", "2.8.1", 100.0, EXPORT, None)],
    )
    (gas,) = parse_message(TOPIC, message(value=1000.5, unit="m3"))
    assert gas.channel == "gas"
    assert gas.energy_kwh == pytest.approx(
        1000.5 * DEFAULT_GAS.zustandszahl * DEFAULT_GAS.brennwert_kwh_per_m3
    )


def test_interval() -> None:
    (reading,) = parse_message(
        TOPIC,
        message(
            value=0.25, unit="kWh", kind="interval", duration_s=900, ts="2026-11-25T10:00:00Z", channel="heat"
        ),
    )
    assert (reading.kind, reading.duration_s, reading.energy_kwh, reading.channel) == (
        "interval",
        900,
        0.25,
        "heat",
    )
    assert reading.ts_utc == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_batch_and_any_topic() -> None:
    """An array replays a backlog; on a topic outside contest/ the payload's shape decides and meter names the device."""
    batch = json.dumps(
        [
            {"meter": "m7", "value": 1.0, "unit": "kWh", "ts": 1795510800},
            {"meter": "m7", "value": 1.5, "unit": "kWh", "ts": 1795511700},
        ]
    ).encode()
    readings = parse_message("city/gateway/7", batch)
    assert [(r.device, r.energy_kwh) for r in readings] == [("m7", 1.0), ("m7", 1.5)]
    assert detect_format("city/gateway/7", batch).name == "generic"


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (message(value=1.0, unit="kWh", ts="2026-11-25T10:00:00"), "mqtt.naive_time"),
        (message(value=1.0, unit="kWh", ts=1795510800000), "mqtt.bad_time"),
        (message(value=1.0, unit="kWh", ts="1970-01-01T00:00:05Z"), "mqtt.clock_not_synced"),
        (message(value=1.0, unit="kWh", ts=5), "mqtt.clock_not_synced"),
        (message(value=1.0, unit="kWh", ts="soon"), "mqtt.bad_time"),
        (message(value=1.0, unit="W"), "mqtt.power_only"),
        (message(value=1.0, unit="°C"), "mqtt.unknown_unit"),
        (message(value=-1.0, unit="kWh"), "mqtt.negative_energy"),
        (message(value="12", unit="kWh"), "mqtt.bad_field"),
        (message(value=True, unit="kWh"), "mqtt.bad_field"),
        (message(value=1.0), "mqtt.missing_field"),
        (json.dumps({"value": 1.0, "unit": "kWh"}).encode(), "mqtt.missing_field"),
        (message(value=1.0, unit="kWh", chanel="2.8.0"), "mqtt.bad_field"),
        (message(value=1.0, unit="kWh", kind="daily"), "mqtt.bad_field"),
        (message(value=1.0, unit="kWh", kind="interval", ts="2026-11-25T10:00:00Z"), "mqtt.bad_field"),
        (message(value=1.0, unit="kWh", kind="interval", duration_s=900), "mqtt.missing_field"),
        (message(value=1.0, unit="kWh", duration_s=900), "mqtt.bad_field"),
        (message(value=1.0, unit="kWh", direction="import", channel="2.8.0"), "mqtt.bad_field"),
        (message(value=1.0, unit="kWh", channel=""), "mqtt.bad_field"),
        (json.dumps({"meter": "other", "value": 1.0, "unit": "kWh"}).encode(), "mqtt.meter_mismatch"),
        (b"[]", "mqtt.missing_field"),
        (b'{"meter": "meter-0042", "value": 1.0, "unit": "kWh"', "mqtt.truncated"),
        (b"12345.6", "mqtt.not_json"),
        (b'{"meter": "meter-0042", "value": NaN, "unit": "kWh"}', "mqtt.not_finite"),
    ],
)
def test_mistakes_are_refused_with_their_key(payload: bytes, key: str) -> None:
    refusal(TOPIC, payload, key)


def test_unknown_topics_and_payloads() -> None:
    refusal("some/where", b"42", "mqtt.unknown_topic")
    refusal("some/where", b'{"a": 1}', "mqtt.unknown_topic")
    refusal("tele/+/SENSOR", b"{}", "mqtt.unknown_topic")
    refusal("", b"{}", "mqtt.unknown_topic")
    refusal(TOPIC, b"x" * (MAX_PAYLOAD_BYTES + 1), "mqtt.too_large")
    assert parse_message("some/device/online", b"true") == []
