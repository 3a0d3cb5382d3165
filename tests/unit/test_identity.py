"""The sender of an MQTT message is the username the broker's ACL binds to its topic; a reading may only
be for that device (the format table's ACL lines, ingest/identity.py, mirror deploy/mosquitto/acl)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contest.models import DeviceBinding, DeviceSeen, RegisterSeries
from ingest.identity import (
    DEVICE_WRITE_PATTERNS,
    KEY_FOREIGN_DEVICE,
    KEY_NO_SENDER,
    family_words,
    sender_problem,
    senders,
)
from ingest.payloads import common, parse_message

ACL = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl"
README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_worker_knows_the_same_device_topics_as_the_broker_acl() -> None:
    lines = [line.split()[2] for line in ACL.read_text().splitlines() if line.startswith("pattern write ")]
    assert tuple(lines) == DEVICE_WRITE_PATTERNS


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("tele/dev1/SENSOR", b'{"Time": "2026-01-01T10:00:00", "ENERGY": {"Total": 12.5}}'),
        ("shellies/dev1/emeter/0/total", b"12345"),
        ("dev1/status/emdata:0", b'{"id": 0, "total_act": 1000.0, "total_act_ret": 0.0}'),
        ("smartmeter/dev1/sensor/1/obis/1-0:1.8.0/255/value", b"3469015.0"),
        ("vzlogger/dev1/chn0/agg", b"38118.6915"),
        ("emon/dev1/E1", b"1000"),
        ("zigbee2mqtt/dev1", b'{"energy": 8.42}'),
        ("zigbee2mqtt/dev1/energy", b"8.42"),  # attribute output mode
        ("stat/dev1/STATUS10", b'{"StatusSNS": {"ENERGY": {"Total": 12.5}}}'),
        ("dev1/sensor/1/obis/1-0:1.8.0/255/value", b"3469015.0"),
        ("dev1/sensor/total_energy/state", b"12.5"),
        ("contest/dev1/reading", b'{"meter": "dev1", "value": 1, "unit": "kWh"}'),
        ("smartmeter/dev1/x", b'{"meter": "dev1", "value": 1, "unit": "kWh"}'),
    ],
)
def test_every_device_family_reads_its_device_from_the_authenticated_level(
    topic: str, payload: bytes
) -> None:
    readings = parse_message(topic, payload)
    assert readings
    assert sender_problem(topic, {r.device for r in readings}) is None


@pytest.mark.parametrize("topic", ["contest/dev1/x", "smartmeter/dev1/x", "vzlogger/dev1/x", "dev1/sensor/x"])
def test_a_payload_naming_another_device_is_foreign(topic: str) -> None:
    readings = parse_message(topic, b'{"meter": "dev2", "value": 1, "unit": "kWh"}')
    problem = sender_problem(topic, {r.device for r in readings})
    assert problem is not None and problem[0] == KEY_FOREIGN_DEVICE and "dev2" in problem[1]


def test_topics_no_device_may_write_have_no_sender_and_ambiguous_ones_must_suit_every_sender() -> None:
    assert sender_problem("dsmr/json", {"dsmr"}) == (KEY_NO_SENDER, sender_problem("dsmr/json", set())[1])  # type: ignore[index]
    # "emon/status/E1": user "status" by emon/%u/#, or user "emon" by %u/status/#.
    assert {s.username for s in senders("emon/status/E1")} == {"status", "emon"}
    assert sender_problem("emon/status/E1", {"status"}) is not None
    # The worker's own user is no device, even on a device-shaped topic.
    problem = sender_problem(
        "contest/contest-ingest/reading", {"contest-ingest"}, frozenset({"contest-ingest"})
    )
    assert problem is not None and problem[0] == KEY_FOREIGN_DEVICE


def test_the_acl_and_the_readme_name_the_family_words_no_device_may_be_called() -> None:
    """A username that is a fixed level of another pattern would make its topics someone else's."""
    words = family_words()
    assert words == {
        "tele", "stat", "shellies", "status", "events", "smartmeter", "sensor", "vzlogger", "emon",
        "zigbee2mqtt", "contest",
    }  # fmt: skip
    acl = " ".join(line.lstrip("# ") for line in ACL.read_text().splitlines())
    listed = acl.split("none of ", 1)[1].split(".", 1)[0]
    assert {w.strip() for w in listed.split(",")} == words
    readme = README.read_text().split("**Adding a device**", 1)[1].split("(with such a name", 1)[0]
    assert {
        w.strip("` \n")
        for w in re.findall(r"`([^`]+)`", readme.split("none of the topic family words", 1)[1])
    } == words


def test_name_bounds_match_the_columns() -> None:
    for column in (DeviceBinding.channel, DeviceSeen.channel):
        assert column.type.length == common.MAX_NAME_CHARS  # type: ignore[attr-defined]
    for column in (DeviceBinding.device, DeviceSeen.device, RegisterSeries.device):
        assert column.type.length == common.MAX_DEVICE_CHARS  # type: ignore[attr-defined]
