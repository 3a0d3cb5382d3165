"""Golden tests for Shelly payloads: Gen1 one-value topics (Wh, Wmin) and Gen2/Gen3 RPC JSON (Wh), on
the captured messages in tests/data/mqtt; expected kWh are the visible values divided by 1000."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.payloads import parse_message
from tests.unit.test_payload_properties import assert_readings, logged_messages, refusal, sample_message

IMPORT, EXPORT = "import", "export"


# --- Gen1 --------------------------------------------------------------------------------------
def test_gen1_3em_total_and_total_returned_are_wh_registers() -> None:
    """total / total_returned [Wh] from the device's flash; voltage is refused as power_only."""
    messages = logged_messages("shelly_gen1_shellyem3_emeter_total_Wh.txt")
    device = "shellyem3-485519D6FEC7"
    results = []
    for topic, payload in messages:
        if topic.endswith("/voltage"):
            refusal(topic, payload, "mqtt.power_only")
        else:
            results.extend(parse_message(topic, payload))
    assert_readings(
        results,
        [
            (device, "emeter/0/total", 10533.1 / 1000, IMPORT, None),
            (device, "emeter/0/total_returned", 427.7 / 1000, EXPORT, None),
            (device, "emeter/2/total", 13685.4 / 1000, IMPORT, None),
            (device, "emeter/2/total_returned", 394.1 / 1000, EXPORT, None),
        ],
    )


def test_gen1_em_total_and_returned() -> None:
    messages = logged_messages("shelly_gen1_shellyem_emeter_total_and_energy.txt")
    assert [topic.rsplit("/", 1)[1] for topic, _ in messages] == [
        "total_returned",
        "voltage",
        "total",
        "total_returned",
    ]
    device = "shellyem-D3B45C"
    assert_readings(
        parse_message(*messages[0]), [(device, "emeter/1/total_returned", 0.0 / 1000, EXPORT, None)]
    )
    refusal(*messages[1], "mqtt.power_only")
    assert_readings(parse_message(*messages[2]), [(device, "emeter/0/total", 64541.0 / 1000, IMPORT, None)])
    assert_readings(
        parse_message(*messages[3]), [(device, "emeter/0/total_returned", 0.0 / 1000, EXPORT, None)]
    )


def test_gen1_power_pf_current_voltage_are_power_only_and_relay_state_is_silent() -> None:
    messages = logged_messages("shelly_gen1_shellyem3_emeter_power_pf_current_voltage.txt")
    assert messages[0] == ("shellies/shellyem3-68C63AFAF952/relay/0", b"off")
    assert parse_message(*messages[0]) == []
    for topic, payload in messages[1:]:
        error = refusal(topic, payload, "mqtt.power_only")
        assert "power [W] is not energy" in error.message


def test_gen1_watt_minute_counters() -> None:
    """energy / returned_energy count watt-minutes: kWh = Wmin / 60 / 1000."""
    assert_readings(
        parse_message("shellies/shellyem3-X/emeter/0/energy", b"40"),
        [("shellyem3-X", "emeter/0/energy", 40 / 60 / 1000, IMPORT, None)],
    )
    assert_readings(
        parse_message("shellies/shellyem3-X/emeter/0/returned_energy", b"120"),
        [("shellyem3-X", "emeter/0/returned_energy", 120 / 60 / 1000, EXPORT, None)],
    )
    assert_readings(
        parse_message("shellies/shellyplug-s-1/relay/0/energy", b"6000"),
        [("shellyplug-s-1", "relay/0/energy", 6000 / 60 / 1000, IMPORT, None)],
    )


def test_gen1_status_topics_are_silent() -> None:
    for topic in (
        "shellies/x/online",
        "shellies/announce",
        "shellies/x/info",
        "shellies/x/input/0",
        "shellies/x/relay/0/command",
    ):
        assert parse_message(topic, b"true") == []
    refusal("shellies/x/relay/0/power", b"12.5", "mqtt.power_only")
    refusal("shellies/x/emeter/0/total", b"-5", "mqtt.negative_energy")
    refusal("shellies/x/emeter/0/total", b"", "mqtt.empty")
    refusal("shellies/x/emeter/0/frequency", b"50", "mqtt.unknown_topic")


def test_gen1_topic_reference_doc_is_refused() -> None:
    """A documentation line with placeholders is not a device topic."""
    topic, payload = sample_message("shelly_gen1_em3_topic_reference_doc.txt")
    assert topic.startswith("shellies/shellyem3-<deviceid>/emeter/<i>/{")
    refusal(topic, payload, "mqtt.unknown_topic")


def test_gen1_ha_shellies_discovery_yaml_is_not_a_payload() -> None:
    """The real energy topic, but the payload is the HA YAML config someone posted."""
    topic, payload = sample_message("shelly_gen1_ha_shellies_discovery_energy_kwh_template.txt")
    assert topic == "shellies/shellyem3-D8BFC01A7C6B/emeter/0/energy"
    error = refusal(topic, payload, "mqtt.not_a_payload")
    assert "YAML" in error.message


def test_gen1_ha_discovery_configs_are_refused() -> None:
    """Discovery configs describe a sensor (unit, template) and carry no reading: refused with a reason,
    on the homeassistant/ prefix and, by shape, under the placeholder prefix as captured."""
    for name in (
        "shelly_gen1_ha_discovery_energy_wattminute_template.txt",
        "shelly_gen1_ha_discovery_total_Wh.txt",
    ):
        topic, payload = sample_message(name)
        assert topic.startswith("<discovery_prefix>/sensor/")
        refusal(topic, payload, "mqtt.not_a_payload")
        real_topic = topic.replace("<discovery_prefix>", "homeassistant").replace(
            "<shelly_id>", "shellyem3-X"
        )
        error = refusal(real_topic, payload, "mqtt.not_a_payload")
        assert "discovery" in error.message


# --- Gen2 / Gen3 -------------------------------------------------------------------------------
def test_gen2_status_emdata_totals_and_phases() -> None:
    """status/emdata:0: total_act / total_act_ret and the a/b/c phase registers [Wh]; no time (status)."""
    topic, payload = sample_message("shelly_gen2_pro3em_status_emdata0.txt")
    assert topic == "shellypro3em/status/emdata:0"
    device = "shellypro3em"
    assert_readings(
        parse_message(topic, payload),
        [
            (device, "emdata:0/a_total_act_energy", 115973.75 / 1000, IMPORT, None),
            (device, "emdata:0/a_total_act_ret_energy", 0.00 / 1000, EXPORT, None),
            (device, "emdata:0/b_total_act_energy", 118809.52 / 1000, IMPORT, None),
            (device, "emdata:0/b_total_act_ret_energy", 0.00 / 1000, EXPORT, None),
            (device, "emdata:0/c_total_act_energy", 110844.76 / 1000, IMPORT, None),
            (device, "emdata:0/c_total_act_ret_energy", 1247.42 / 1000, EXPORT, None),
            (device, "emdata:0/total_act", 345628.03 / 1000, IMPORT, None),
            (device, "emdata:0/total_act_ret", 1247.42 / 1000, EXPORT, None),
        ],
    )


def test_gen2_status_em_is_power_only() -> None:
    topic, payload = sample_message("shelly_gen2_pro3em_status_em0.txt")
    assert topic == "shellypro3em/status/em:0"
    refusal(topic, payload, "mqtt.power_only")


PREFIX = "aiida/12345678-1234-1234-1234-123456789abc"


def test_gen2_notifystatus_emdata_uses_params_ts() -> None:
    topic, payload = sample_message("shelly_gen2_pro3em_events_rpc_notifystatus_emdata.txt")
    assert topic == "<prefix>/events/rpc"
    at = datetime.fromtimestamp(1757060280.21, UTC)
    readings = parse_message(f"{PREFIX}/events/rpc", payload)
    by_channel = {r.channel: r for r in readings}
    assert by_channel["emdata:0/total_act"].energy_kwh == pytest.approx(26289.57 / 1000)
    assert by_channel["emdata:0/total_act_ret"].energy_kwh == pytest.approx(131881.86 / 1000)
    assert by_channel["emdata:0/total_act_ret"].direction == EXPORT
    assert by_channel["emdata:0/c_total_act_energy"].energy_kwh == pytest.approx(26289.44 / 1000)
    assert by_channel["emdata:0/b_total_act_ret_energy"].energy_kwh == pytest.approx(0.01 / 1000)
    assert len(readings) == 8
    assert {r.ts_utc for r in readings} == {at}
    assert {r.device for r in readings} == {PREFIX}


def test_gen2_notifystatus_em1data() -> None:
    topic, payload = sample_message("shelly_gen2_em1data_notifystatus.txt")
    at = datetime.fromtimestamp(1757060280.21, UTC)
    assert_readings(
        parse_message(topic.replace("<prefix>", PREFIX), payload),
        [
            (PREFIX, "em1data:1/total_act_energy", 0.06 / 1000, IMPORT, at),
            (PREFIX, "em1data:1/total_act_ret_energy", 0 / 1000, EXPORT, at),
        ],
    )


def test_gen2_switch_aenergy_total_not_by_minute() -> None:
    """aenergy.total [Wh] is the register; by_minute [mWh] is ignored."""
    topic, payload = sample_message("shelly_gen2_1pmg4_switch_aenergy_by_minute.txt")
    at = datetime.fromtimestamp(1757591520.01, UTC)
    assert_readings(
        parse_message(topic.replace("<prefix>", PREFIX), payload),
        [
            (PREFIX, "switch:0/aenergy", 0 / 1000, IMPORT, at),
            (PREFIX, "switch:0/ret_aenergy", 0 / 1000, EXPORT, at),
        ],
    )
    status = b'{"id":0,"output":true,"apower":12.5,"aenergy":{"total":1234.5,"by_minute":[1,2,3],"minute_ts":1757591520}}'
    assert_readings(
        parse_message("plug1/status/switch:0", status),
        [("plug1", "switch:0/aenergy", 1234.5 / 1000, IMPORT, None)],
    )


def test_gen2_messages_without_registers() -> None:
    assert (
        parse_message(
            "plug1/events/rpc", b'{"src":"x","method":"NotifyEvent","params":{"ts":1757591520.0,"events":[]}}'
        )
        == []
    )
    assert parse_message("plug1/status/sys", b'{"mac":"x","uptime":5}') == []
    assert parse_message("plug1/status/switch:0", b'{"id":0,"output":true}') == []
    refusal(
        "plug1/events/rpc",
        b'{"method":"NotifyStatus","params":{"ts":1.0,"switch:0":{"apower":5}}}',
        "mqtt.power_only",
    )
    refusal("plug1/events/rpc", b'{"id":1,"result":{}}', "mqtt.no_energy")
    refusal(
        "plug1/events/rpc",
        b'{"method":"NotifyStatus","params":{"em1data:0":{"total_act_energy":-1}}}',
        "mqtt.negative_energy",
    )


def test_gen2_unsynced_clock_gives_no_time() -> None:
    payload = b'{"method":"NotifyStatus","params":{"ts":12.5,"em1data:0":{"total_act_energy":10}}}'
    (reading,) = parse_message("pm/events/rpc", payload)
    assert reading.ts_utc is None
