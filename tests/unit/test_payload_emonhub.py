"""Tests for emonhub (OpenEnergyMonitor) messages: which inputs are energy is read from their names
(E1..E12 are Wh); the captured samples are documentation-style, so most of them are refusals."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.payloads import parse_message
from tests.unit.test_payload_properties import DATA, assert_readings, refusal, sample_message

IMPORT, EXPORT = "import", "export"


def example_message(name: str) -> tuple[str, bytes]:
    """Line 1 of these samples is the topic scheme; line 2 an example topic, line 3 its payload."""
    lines = (DATA / name).read_bytes().split(b"\n")
    return lines[1].decode(), lines[2]


def test_msg_counter_has_no_unit() -> None:
    """emonTx4 publishes MSG, a message counter: a bare number whose name says nothing about energy."""
    topic, payload = sample_message("emonhub_log_publish_line.txt")
    assert (topic, payload) == ("emon/emonTx4_17/MSG", b"1\n")
    error = refusal(topic, payload, "mqtt.no_unit")
    assert "no unit" in error.message


def test_nodevar_example_power1_is_power_only() -> None:
    topic, payload = example_message("emonhub_nodevar_format.txt")
    assert (topic, payload) == ("emon/emontx/power1", b"100")
    refusal(topic, payload, "mqtt.power_only")
    scheme_topic, scheme_payload = sample_message("emonhub_nodevar_format.txt")
    assert scheme_topic == "emon/<nodename>/<input name>"
    refusal(scheme_topic, scheme_payload, "mqtt.no_unit")


def test_legacy_positional_csv_is_refused() -> None:
    """emonhub/rx/<node>/values: values by position; names and units live only in emonhub.conf."""
    topic, payload = example_message("emonhub_legacy_node_csv_format.txt")
    assert (topic, payload) == ("emonhub/rx/5/values", b"165,6,35,103,125,33")
    refusal(topic, payload, "mqtt.no_unit")
    refusal(*sample_message("emonhub_legacy_node_csv_format.txt"), "mqtt.no_unit")


def test_json_format_template_is_not_a_payload() -> None:
    """The documented template {"key1":value1, ...} is not JSON; the same shape with values parses."""
    topic, payload = sample_message("emonhub_node_json_format.txt")
    assert topic == "emon/<nodename>"
    refusal(topic, payload, "mqtt.not_a_payload")
    refusal("emon/emonTx4_17", payload, "mqtt.not_a_payload")


def test_json_format_with_energy_inputs() -> None:
    payload = b'{"MSG": 12, "Vrms": 238.1, "P1": 450, "E1": 123456, "E2": 7890, "import_kwh": 3094.5, "time": 1757060280, "rssi": -60}'
    at = datetime.fromtimestamp(1757060280, UTC)
    assert_readings(
        parse_message("emon/emonTx4_17", payload),
        [
            ("emonTx4_17", "E1", 123456 / 1000, IMPORT, at),
            ("emonTx4_17", "E2", 7890 / 1000, IMPORT, at),
            ("emonTx4_17", "import_kwh", 3094.5, IMPORT, at),
        ],
    )
    refusal("emon/emonTx4_17", b'{"MSG": 12, "P1": 450, "Vrms": 238.1}', "mqtt.power_only")
    refusal("emon/emonth5", b'{"temp": 21.5, "humidity": 48}', "mqtt.no_energy")


def test_bare_energy_inputs() -> None:
    assert_readings(
        parse_message("emon/emonTx4_17/E1", b"123456"), [("emonTx4_17", "E1", 123456 / 1000, IMPORT, None)]
    )
    assert_readings(
        parse_message("emon/house/export_wh", b"2500"), [("house", "export_wh", 2500 / 1000, EXPORT, None)]
    )
    refusal("emon/house/energy", b"2500", "mqtt.no_unit")
    refusal("emon/house/P1", b"2500", "mqtt.power_only")
    refusal("emon/house/pulse", b"2500", "mqtt.no_unit")
    refusal("emon/house/E1", b"-20", "mqtt.negative_energy")
