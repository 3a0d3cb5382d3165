"""Hostile and broken devices through the real Mosquitto, the real worker and the real database: a
device cannot write onto another household's meter nor take over the worker's session, one message
the store cannot take stops nothing else, large payloads are read or refused visibly, and a QoS 1
redelivery is a duplicate, not a register that went backwards."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from ingest.mqtt_worker import Message, MqttWorker
from ingest.payloads import MAX_PAYLOAD_BYTES, common
from tests import stored as readback
from tests.ingest_process import wait_for
from tests.integration.test_mqtt_worker import TOML, worker_settings
from tests.mqtt_broker import INGEST_USER, Broker, mosquitto
from tests.mqtt_publish import Publisher, generic_messages


@pytest.fixture
def broker() -> Iterator[Broker]:
    with mosquitto({"dev1": "pw1", "dev2": "pw2", "shellyem-A1": "pw-shelly"}) as b:
        yield b


@pytest.fixture
def two_meters(db: Database) -> Database:
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    readback.bind(db, "M1", "dev1")
    readback.bind(db, "M2", "dev2")
    return db


@pytest.fixture
def worker(broker: Broker, two_meters: Database) -> Iterator[MqttWorker]:
    w = MqttWorker(two_meters, worker_settings(broker))
    w.start()
    assert w.connected.wait(10)
    yield w
    w.stop()


def _keys(db: Database) -> list[str]:
    return sorted(r.key for r in readback.rejected_stream(db, 5000))


def test_a_payload_naming_another_device_is_rejected_and_kept(
    broker: Broker, two_meters: Database, worker: MqttWorker
) -> None:
    """Identity comes from the connection: dev1 may publish below its own id, and whatever device its
    payload names, the reading is dev1's or it is refused."""
    forged = json.dumps({"meter": "dev2", "ts": 1_767_225_600, "value": 99_999.0, "unit": "kWh"}).encode()
    pub = Publisher(broker.host, broker.port, "dev1", "pw1", "dev1")
    pub.publish_all(
        [
            ("contest/dev1/x", forged),
            ("smartmeter/dev1/x", forged),
            ("vzlogger/dev1/x", forged),
            ("contest/dev1/reading", forged),  # the generic topic itself: its meter must be dev1
        ]
    )
    pub.publish_all(generic_messages("dev1", 3))  # dev1's own readings still go through
    pub.close()
    assert wait_for(lambda: worker.stats.received >= 7, 20)
    assert readback.count_readings(two_meters, "M2") == 0
    assert readback.count_readings(two_meters, "M1") == 3
    rejected = readback.rejected_stream(two_meters, 20)
    assert sorted(r.key for r in rejected) == ["mqtt.foreign_device"] * 3 + ["mqtt.meter_mismatch"]
    for r in rejected:
        assert b"dev2" in r.payload and "dev2" in r.reason  # kept with its payload and reason


def _session_client(broker: Broker, user: str, password: str, client_id: str, protocol: int) -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    c.username_pw_set(user, password)
    return c


def test_a_device_cannot_take_over_the_workers_session(
    broker: Broker, two_meters: Database, worker: MqttWorker
) -> None:
    """Any device connecting with the worker's client id (clean start, both protocol versions) neither
    kicks the worker off nor discards its persistent session with the messages queued in it."""
    disconnects: list[object] = []
    worker.client.on_disconnect = lambda *args: disconnects.append(args)  # type: ignore[assignment]
    for protocol in (mqtt.MQTTv5, mqtt.MQTTv311):
        thief = _session_client(broker, "dev2", "pw2", worker.settings.session_id, protocol)
        if protocol == mqtt.MQTTv5:
            thief.connect(broker.host, broker.port, clean_start=True)
        else:
            thief = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=worker.settings.session_id,
                protocol=protocol,
                clean_session=True,
            )
            thief.username_pw_set("dev2", "pw2")
            thief.connect(broker.host, broker.port)
        thief.loop_start()
        time.sleep(0.5)
        thief.disconnect()
        thief.loop_stop()
    assert disconnects == [] and worker.connected.is_set()
    worker.stop()  # the worker is away: its persistent session queues what devices send

    n = 2_000
    pub = Publisher(broker.host, broker.port, "dev1", "pw1", "dev1")
    pub.publish_all(generic_messages("dev1", n))
    pub.close()
    for _ in range(3):  # a loop of takeovers with clean start, as the worker's id, with a device's login
        thief = _session_client(broker, "dev2", "pw2", INGEST_USER, mqtt.MQTTv5)
        thief.connect(broker.host, broker.port, clean_start=True)
        thief.loop_start()
        time.sleep(0.3)
        thief.disconnect()
        thief.loop_stop()

    back = MqttWorker(two_meters, worker_settings(broker))
    back.start()
    try:
        assert wait_for(lambda: readback.count_readings(two_meters, "M1") >= n, 60), readback.count_readings(
            two_meters, "M1"
        )
        assert readback.count_readings(two_meters, "M1") == n
    finally:
        back.stop()


def _tasmota_with_key(key: str, value: float) -> bytes:
    return json.dumps({"Time": "2026-01-01T10:00:00", key: value}).encode()


def test_a_too_long_channel_is_a_rejection_and_other_devices_go_on(
    broker: Broker, two_meters: Database, worker: MqttWorker
) -> None:
    """A Tasmota key of 125 characters (a channel longer than the column) is refused by the parser with
    its reason; the readings of other devices after it are all stored."""
    key = "Total_in_" + "x" * 116
    pub = Publisher(broker.host, broker.port, "dev1", "pw1", "dev1")
    pub.publish_all([("tele/dev1/SENSOR", _tasmota_with_key(key, 1234.5))])
    pub.close()
    pub2 = Publisher(broker.host, broker.port, "dev2", "pw2", "dev2")
    pub2.publish_all(generic_messages("dev2", 500))
    pub2.close()
    assert wait_for(lambda: readback.count_readings(two_meters, "M2") >= 500, 30), readback.count_readings(
        two_meters, "M2"
    )
    assert _keys(two_meters) == ["mqtt.bad_name"]
    assert "120" in readback.rejected_stream(two_meters, 1)[0].reason


def test_a_message_the_database_refuses_is_isolated_and_the_batch_is_stored(
    broker: Broker, two_meters: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No poison batch: with the parser's bound on names lifted, PostgreSQL refuses the long channel;
    the worker finds that one message, keeps it as rejected with the database's reason, stores the
    others of its batch and goes on (also after a restart nothing is retried)."""
    monkeypatch.setattr(common, "MAX_NAME_CHARS", 10_000)
    key = "Total_in_" + "x" * 116
    sqlite = two_meters.engine.dialect.name == "sqlite"
    if sqlite:  # SQLite enforces no VARCHAR length: a trigger refuses that one reading instead
        with two_meters.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON reading WHEN NEW.energy_kwh = 1234.5 "
                "BEGIN SELECT RAISE(ABORT, 'value too long for this test'); END"
            )
    pub = Publisher(broker.host, broker.port, "dev1", "pw1", "dev1")
    pub2 = Publisher(broker.host, broker.port, "dev2", "pw2", "dev2")
    # Worker away, so the poison and the good readings arrive in one batch when it comes.
    w = MqttWorker(two_meters, worker_settings(broker))
    w.start()
    assert w.connected.wait(10)
    w.stop()
    pub2.publish_all(generic_messages("dev2", 250))
    pub.publish_all([("tele/dev1/SENSOR", _tasmota_with_key(key, 1234.5))])
    pub2.publish_all(generic_messages("dev2", 250, start_epoch=1_767_225_600 + 250 * 60, start_kwh=1002.5))
    pub.close()
    pub2.close()
    w = MqttWorker(two_meters, worker_settings(broker))
    w.start()
    try:
        assert wait_for(lambda: readback.count_readings(two_meters, "M2") >= 500, 60), (
            readback.count_readings(two_meters, "M2")
        )
        assert wait_for(lambda: "mqtt.store_failed" in _keys(two_meters), 20)
        assert w.stats.dropped == 0
    finally:
        w.stop()
    rejected = readback.rejected_stream(two_meters, 5)
    assert [r.key for r in rejected] == ["mqtt.store_failed"]
    assert rejected[0].topic == "tele/dev1/SENSOR" and "too long" in rejected[0].reason
    # Everything was acknowledged: a new worker gets nothing redelivered.
    again = MqttWorker(two_meters, worker_settings(broker))
    again.start()
    try:
        assert again.connected.wait(10)
        time.sleep(1.0)
        assert again.stats.received == 0
    finally:
        again.stop()


def test_the_documented_1000_reading_array_arrives_and_a_too_large_payload_is_refused_visibly(
    broker: Broker, two_meters: Database, worker: MqttWorker
) -> None:
    """docs/mqtt-formats.md allows arrays of 1,000 readings: the broker passes them. A payload over
    the worker's limit is kept as rejected (mqtt.too_large), not dropped in silence."""
    items = [
        {
            "meter": "dev1",
            "ts": f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00",
            "value": 1000.0 + i * 0.001,
            "unit": "kWh",
            "kind": "register",
            "channel": "1.8.0",
        }
        for i in range(1000)
    ]
    array = json.dumps(items, indent=2).encode()
    assert 64 * 1024 < len(array) < MAX_PAYLOAD_BYTES
    too_large = b'{"meter": "dev1", "pad": "' + b"x" * (MAX_PAYLOAD_BYTES + 1) + b'"}'
    pub = Publisher(broker.host, broker.port, "dev1", "pw1", "dev1")
    pub.publish_all([("contest/dev1/reading", array), ("contest/dev1/reading", too_large)])
    pub.publish_all(generic_messages("dev1", 1, start_epoch=1_767_312_000, start_kwh=1001.0))
    pub.close()
    assert wait_for(lambda: readback.count_readings(two_meters, "M1") >= 1001, 30), readback.count_readings(
        two_meters, "M1"
    )
    assert wait_for(lambda: _keys(two_meters) == ["mqtt.too_large"], 10), _keys(two_meters)
    kept = readback.rejected_stream(two_meters, 1)[0]
    assert str(len(too_large)) in kept.reason and kept.payload.startswith(b'{"meter": "dev1"')


def test_a_redelivered_reading_without_device_time_is_a_duplicate_not_backwards(
    broker: Broker, two_meters: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Shelly message has no time: the worker stamps its receive time. When the worker stored a batch
    but its acknowledgement never reached the broker, the broker redelivers, and the same values
    arrive again, later. A value the register series already holds is a duplicate, not a register that
    went backwards; a value below the last one that it never held is still refused."""
    readback.unbind(two_meters, "M1", "dev1")
    readback.bind(two_meters, "M1", "shellyem-A1", "emeter/0/total")
    first = MqttWorker(two_meters, worker_settings(broker))
    monkeypatch.setattr(first.client, "ack", lambda mid, qos: None)  # stored, never acknowledged
    first.start()
    assert first.connected.wait(10)
    topic = "shellies/shellyem-A1/emeter/0/total"
    pub = Publisher(broker.host, broker.port, "shellyem-A1", "pw-shelly", "shellyem-A1")
    pub.publish_all([(topic, b"1000.0"), (topic, b"1500.0"), (topic, b"2000.0")])
    assert wait_for(lambda: readback.count_readings(two_meters, "M1") >= 3, 20)
    first.stop()

    second = MqttWorker(two_meters, worker_settings(broker))
    second.start()
    try:
        assert wait_for(lambda: second.stats.received >= 3, 20)  # the broker redelivered the three
        time.sleep(0.3)
        assert readback.count_readings(two_meters, "M1") == 3
        assert _keys(two_meters) == []
        assert second.stats.duplicates == 3
        pub.publish_all([(topic, b"1200.0")])  # a value it never had, below the last one
        assert wait_for(lambda: _keys(two_meters) == ["mqtt.register_backwards"], 20), _keys(two_meters)
    finally:
        second.stop()
        pub.close()


def test_a_message_from_an_earlier_connection_is_never_acked_by_its_stale_id(worker: MqttWorker) -> None:
    """After a reconnect, message ids start again: acking a message taken before it by its old id could
    confirm another message of the new connection, which the broker would then drop. The stored
    message is left unacknowledged instead (the broker redelivers it; it stores nothing twice)."""
    acked: list[int] = []
    real_ack = worker.client.ack
    worker.client.ack = lambda mid, qos: acked.append(mid) or real_ack(mid, qos)  # type: ignore[method-assign]
    now = dt.datetime.now(dt.UTC)
    ts = int(now.timestamp()) - 60
    old = Message(
        "contest/dev1/reading",
        json.dumps({"meter": "dev1", "ts": ts, "value": 5.0, "unit": "kWh"}).encode(),
        7,
        1,
        now,
        None,
        worker.connection - 1,
    )
    current = Message(
        "contest/dev1/reading",
        json.dumps({"meter": "dev1", "ts": ts + 30, "value": 5.5, "unit": "kWh"}).encode(),
        8,
        1,
        now,
        None,
        worker.connection,
    )
    worker.write_batch([old, current])
    assert acked == [8]
    assert worker.stats.unacked_old_connection == 1
    assert worker.stats.stored == 2  # stored all the same


def test_absurd_device_readings_are_rejected_at_the_edge_with_their_reason(worker: MqttWorker) -> None:
    """Issue 11, point 3 over MQTT: a register of 1e300 and a rise no household connection can draw
    are kept as rejections with their reason; a reader's boot-time 0 does not block its real counter."""
    now = dt.datetime.now(dt.UTC)
    start = int(now.timestamp()) - 7200

    def reading(mid: int, offset_s: int, value: float) -> Message:
        body = {"meter": "dev1", "ts": start + offset_s, "value": value, "unit": "kWh"}
        return Message("contest/dev1/reading", json.dumps(body).encode(), mid, 0, now)

    worker.write_batch(
        [
            reading(1, 0, 0.0),  # the reader booted and had not read the meter yet
            reading(2, 60, 12_345.0),  # its real counter: accepted after the 0
            reading(3, 120, 1e300),  # absurd
            reading(4, 3600, 12_346.5),
            reading(5, 3660, 1_012_346.5),  # +1e6 kWh in a minute
            reading(6, 7000, 12_348.0),  # judged against the last accepted reading: fine
        ]
    )
    keys = sorted(r.key for r in readback.rejected_stream(worker.db, 100))
    assert keys == ["reading.register_out_of_range", "reading.register_rise_too_fast"]
    assert readback.count_readings(worker.db, "M1") == 4
