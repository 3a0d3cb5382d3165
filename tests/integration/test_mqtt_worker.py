"""Smart meters over MQTT through a real Mosquitto: nothing lost, nothing twice, bad input kept with its
reason, the ACL keeps devices apart, shared subscriptions split the load, crashes lose nothing."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from contest.config import parse_contest_config
from contest.consumption import load_readings
from contest.contests import ContestService
from contest.db import Database
from contest.settings import MqttSettings
from ingest.mqtt_worker import Message, MqttWorker
from tests import stored as readback
from tests.ingest_process import WorkerProcess, wait_for
from tests.mqtt_broker import (
    INGEST_PASSWORD,
    INGEST_USER,
    LEADERBOARD_PASSWORD,
    LEADERBOARD_USER,
    Broker,
    mosquitto,
)
from tests.mqtt_publish import Publisher, generic_messages

ROOT = Path(__file__).resolve().parents[2]

TOML = """
[contest]
slug = "mqtt-2026"
name = "MQTT 2026"
baseline = { start = 2025-12-01, end = 2025-12-31 }
competition = { start = 2026-01-01, end = 2026-12-31 }
[[households]]
pseudonym = "Funk"
meters = [{ id = "M1", kind = "register" }, { id = "M2", kind = "register" }]
"""


@pytest.fixture
def broker() -> Iterator[Broker]:
    with mosquitto({"dev1": "pw1", "dev2": "pw2"}, workers=("contest-ingest-2",)) as b:
        yield b


@pytest.fixture
def mqtt_db(db: Database) -> Database:
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    readback.bind(db, "M1", "dev1")
    return db


def worker_settings(broker: Broker, client_id: str | None = None, **kw: object) -> MqttSettings:
    """The worker's settings; the broker makes the username the client id, so ``client_id`` names
    the session only in the test's own words."""
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        username=INGEST_USER,
        password=INGEST_PASSWORD,
        client_id=client_id,
        batch_wait_ms=50,
        leaderboard_username=LEADERBOARD_USER,
        leaderboard_password=LEADERBOARD_PASSWORD,
        **kw,
    )  # type: ignore[arg-type]


#: the worker's batches are written quickly in tests
FAST = {"CONTEST_MQTT_BATCH_WAIT_MS": "50"}


def test_readings_arrive_and_bad_messages_are_kept_with_their_reason(
    broker: Broker, mqtt_db: Database
) -> None:
    worker = MqttWorker(mqtt_db, worker_settings(broker))
    worker.start()
    try:
        assert worker.connected.wait(10)
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-dev1")
        pub.publish_all(generic_messages("dev1", 50))
        pub.publish_all(
            [
                ("contest/dev1/reading", b'{"meter": "dev1", "value": "kaputt"'),
                ("contest/dev1/reading", b"\xff\xfe binary"),
                (
                    "contest/dev1/reading",
                    json.dumps({"meter": "dev1", "ts": 4102444800, "value": 2000, "unit": "kWh"}).encode(),
                ),
            ]
        )
        pub.close()
        pub2 = Publisher(broker.host, broker.port, "dev2", "pw2", "pub-dev2")
        pub2.publish_all(generic_messages("dev2", 3))  # dev2 is not bound to any meter
        pub2.close()
        assert wait_for(lambda: worker.stats.received >= 56, 20)
        assert readback.count_readings(mqtt_db, "M1") == 50
        rejected = readback.rejected_stream(mqtt_db, 100)
        keys = sorted(r.key for r in rejected)
        assert keys.count("mqtt.unbound_device") == 3
        assert "mqtt.future_timestamp" in keys  # the year 2100
        assert len(rejected) == 6
        for r in rejected:
            assert r.topic.startswith("contest/") and r.reason and r.payload  # topic, payload and reason kept
        assert any(b"\\xff" in r.payload for r in rejected)  # binary payloads are kept as escapes
    finally:
        worker.stop()
    # The readings feed the daily consumption used for scoring.
    daily = readback.refresh_daily(mqtt_db)
    assert daily == 1 and len(readback.daily(mqtt_db, "M1")) >= 1


def test_a_device_cannot_publish_to_another_devices_topics(broker: Broker, mqtt_db: Database) -> None:
    worker = MqttWorker(mqtt_db, worker_settings(broker))
    worker.start()
    try:
        assert worker.connected.wait(10)
        pub = Publisher(broker.host, broker.port, "dev2", "pw2", "pub-dev2-evil")
        # dev2 tries to write readings for dev1: the broker's ACL drops them silently (MQTT 5 PUBACK
        # carries "not authorized"); nothing reaches the worker.
        pub.publish_all(generic_messages("dev1", 5))
        pub.close()
        time.sleep(1.0)
        assert worker.stats.received == 0
        assert readback.count_readings(mqtt_db, "M1") == 0
    finally:
        worker.stop()
    bad = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    bad.username_pw_set("dev1", "wrong-password")
    result: list[object] = []
    bad.on_connect = lambda c, u, f, rc, p: result.append(rc)
    bad.connect(broker.host, broker.port)
    bad.loop_start()
    assert wait_for(lambda: bool(result), 5)
    bad.loop_stop()
    assert result[0].is_failure  # type: ignore[attr-defined]


def test_kill_9_mid_stream_loses_nothing_and_stores_nothing_twice(
    broker: Broker, mqtt_db: Database, db_url: str
) -> None:
    n = 10_000
    worker = WorkerProcess(db_url, broker, "ingest-crash", extra_env=FAST)
    worker.wait_connected()
    try:
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-crash")
        sender = threading.Thread(target=pub.publish_all, args=(generic_messages("dev1", n),), daemon=True)
        sender.start()
        assert wait_for(lambda: readback.count_readings(mqtt_db, "M1") >= 2_000, 60), "worker stored nothing"
        worker.kill()  # kill -9 mid-stream, without any chance to clean up
        stored_at_kill = readback.count_readings(mqtt_db, "M1")
        assert stored_at_kill < n
        worker = WorkerProcess(
            db_url, broker, "ingest-crash", extra_env=FAST
        )  # same id: the broker kept its session
        sender.join(120)
        pub.close()
        assert wait_for(lambda: readback.count_readings(mqtt_db, "M1") >= n, 90)
        time.sleep(1.0)  # redeliveries still in flight must not add anything
        assert readback.count_readings(mqtt_db, "M1") == n
    finally:
        worker.stop()
    with mqtt_db.session() as session:
        stored = load_readings(session, readback.import_context(mqtt_db, "M1").meter_id)
    expected = [t for t, _ in generic_messages("dev1", n)]
    assert len(stored) == len(expected) and stored["ts_utc"].is_unique
    assert stored["energy_kwh"].max() == pytest.approx(1000.0 + (n - 1) * 0.01)


def test_broker_restart_mid_stream_loses_nothing(broker: Broker, mqtt_db: Database) -> None:
    n = 5_000
    worker = MqttWorker(mqtt_db, worker_settings(broker, client_id="ingest-restart"))
    worker.start()
    try:
        assert worker.connected.wait(10)
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-restart")
        sender = threading.Thread(target=pub.publish_all, args=(generic_messages("dev1", n),), daemon=True)
        sender.start()
        assert wait_for(lambda: readback.count_readings(mqtt_db, "M1") >= 1_000, 60)
        broker.restart()
        sender.join(120)
        pub.close()
        assert wait_for(lambda: readback.count_readings(mqtt_db, "M1") >= n, 90)
        time.sleep(1.0)
        assert readback.count_readings(mqtt_db, "M1") == n
    finally:
        worker.stop()


def test_two_workers_share_the_load(broker: Broker, mqtt_db: Database, db_url: str) -> None:
    n = 4_000
    # Each worker of a shared group has a username of its own (the broker makes it the client id).
    workers = [
        WorkerProcess(
            db_url,
            broker,
            f"ingest-shared-{i}",
            username=user,
            extra_env={**FAST, "CONTEST_MQTT_SHARE_GROUP": "contest"},
        )
        for i, user in enumerate((INGEST_USER, "contest-ingest-2"))
    ]
    try:
        for w in workers:
            w.wait_connected()
        time.sleep(0.5)  # subscriptions are sent right after the connection
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-shared")
        pub.publish_all(generic_messages("dev1", n))
        pub.close()
        assert wait_for(lambda: readback.count_readings(mqtt_db, "M1") >= n, 60)
    finally:
        outputs = [w.stop() for w in workers]
    received = [
        int(line.split("received ")[1].split(",")[0])
        for out in outputs
        for line in out
        if line.startswith("received ")
    ]
    assert len(received) == 2 and all(r > 0 for r in received), outputs
    assert sum(received) == n  # each message went to exactly one of them
    assert readback.count_readings(mqtt_db, "M1") == n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    messages=st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(
                    [
                        "contest/dev1/reading",
                        "tele/dev1/SENSOR",
                        "shellies/dev1/emeter/0/total",
                        "dev1/events/rpc",
                        "emon/dev1/E1",
                        "zigbee2mqtt/dev1",
                        "dev1/status/emdata:0",
                    ]
                ),
                st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t),
            ),
            st.one_of(
                st.binary(max_size=200),
                st.text(max_size=200).map(str.encode),
                st.builds(
                    lambda v: json.dumps({"meter": "dev1", "value": v, "unit": "kWh"}).encode(),
                    st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=5)),
                ),
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_arbitrary_messages_never_crash_the_worker(
    mqtt_db: Database, messages: list[tuple[str, bytes]]
) -> None:
    worker = MqttWorker(mqtt_db, MqttSettings(port=1))  # never started: we call the writer directly
    now = dt.datetime.now(dt.UTC)
    batch = [Message(t, p, i + 1, 0, now) for i, (t, p) in enumerate(messages)]
    worker.write_batch(batch)
    s = worker.stats
    assert s.received == len(batch) and s.batches == 1
    assert s.stored + s.duplicates + s.rejected + s.ignored_export >= 0


def test_each_published_leaderboard_is_a_retained_message_for_displays(
    broker: Broker, mqtt_db: Database
) -> None:
    from contest.publishing import PublishingService
    from ingest.mqtt_publish import RetainedLeaderboardPublisher

    feed = RetainedLeaderboardPublisher(worker_settings(broker, client_id="publisher-test"))
    assert feed.connected.wait(10)
    publishing = PublishingService(mqtt_db, on_published=feed)
    publishing.publish("mqtt-2026")
    time.sleep(0.5)
    feed.close()
    publishing.close()
    # A display connecting afterwards (any authenticated user) gets the newest snapshot at once.
    got: list[bytes] = []
    display = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    display.username_pw_set("dev2", "pw2")
    display.on_connect = lambda c, u, f, rc, p: c.subscribe("contests/+/leaderboard", qos=1)
    display.on_message = lambda c, u, m: got.append(m.payload) if m.retain else None
    display.connect(broker.host, broker.port)
    display.loop_start()
    assert wait_for(lambda: bool(got), 10)
    display.loop_stop()
    body = json.loads(got[0])
    assert body["contest"]["slug"] == "mqtt-2026" and "households" in body and "teams" in body
