"""The format table decides what the worker subscribes to, through a real Mosquitto: a parsed format
is also subscribed (Tasmota STATUS10 was not), and an installation's own Zigbee2MQTT base topic moves
the subscriptions, the routing and the sender's ACL level together."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.settings import MqttSettings
from ingest.mqtt_worker import MqttWorker, installation_formats
from tests import stored as readback
from tests.ingest_process import wait_for
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, mosquitto
from tests.mqtt_publish import Publisher

TOML = """
[contest]
slug = "topics-2026"
name = "Topics 2026"
baseline = { start = 2025-12-01, end = 2025-12-31 }
competition = { start = 2026-01-01, end = 2026-12-31 }
[[households]]
pseudonym = "Funk"
meters = [{ id = "M1", kind = "register" }]
"""
#: 2026-01-01T00:00:00Z [ms]
JAN_1_MS = 1_767_225_600_000


@pytest.fixture
def topics_db(db: Database) -> Database:
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    readback.bind(db, "M1", "dev1")
    return db


def _settings(broker: Broker, **kw: object) -> MqttSettings:
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        username=INGEST_USER,
        password=INGEST_PASSWORD,
        batch_wait_ms=50,
        **kw,  # type: ignore[arg-type]
    )


def _run(worker: MqttWorker, messages: list[tuple[str, bytes]], broker: Broker, expected: int) -> None:
    worker.start()
    try:
        assert worker.connected.wait(10)
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-dev1")
        pub.publish_all(messages)
        pub.close()
        assert wait_for(lambda: worker.stats.received >= expected, 20), worker.stats
    finally:
        worker.stop()


@pytest.fixture
def default_broker() -> Iterator[Broker]:
    with mosquitto({"dev1": "pw1"}) as b:
        yield b


def test_a_tasmota_status10_answer_arrives_without_a_configured_topic_list(
    default_broker: Broker, topics_db: Database
) -> None:
    """stat/<device>/STATUS10 was parsed but not in the hand-kept subscription list: it never came."""
    worker = MqttWorker(topics_db, _settings(default_broker))
    assert "stat/+/STATUS10" in worker.subscriptions
    status10 = {"StatusSNS": {"Time": "2026-01-05T12:00:00", "SML": {"Total_in": 1234.5}}}
    _run(worker, [("stat/dev1/STATUS10", json.dumps(status10).encode())], default_broker, 1)
    assert (worker.stats.stored, worker.stats.rejected) == (1, 0)


def test_staff_configured_topics_replace_the_table(default_broker: Broker, topics_db: Database) -> None:
    worker = MqttWorker(topics_db, _settings(default_broker, topics=("tele/+/SENSOR",)))
    assert worker.subscriptions == ("tele/+/SENSOR",)
    sensor = {"Time": "2026-01-05T12:00:00", "SML": {"Total_in": 1234.5}}
    status10 = {"StatusSNS": {"Time": "2026-01-05T13:00:00", "SML": {"Total_in": 1235.5}}}
    _run(
        worker,
        [
            ("stat/dev1/STATUS10", json.dumps(status10).encode()),
            ("tele/dev1/SENSOR", json.dumps(sensor).encode()),
        ],
        default_broker,
        1,
    )
    assert (worker.stats.received, worker.stats.stored) == (1, 1)  # STATUS10 was not asked for


BASE = "haus/zigbee"


@pytest.fixture
def z2m_broker() -> Iterator[Broker]:
    """The broker of an installation whose Zigbee2MQTT uses base topic haus/zigbee: its ACL carries
    the format table's lines for that base (``haus/zigbee/%u/#``), not ``zigbee2mqtt/%u/#``."""
    patterns = installation_formats(MqttSettings(zigbee2mqtt_base_topic=BASE)).write_patterns
    assert f"{BASE}/%u/#" in patterns and "zigbee2mqtt/%u/#" not in patterns
    with mosquitto({"dev1": "pw1"}, write_patterns=patterns) as b:
        yield b


def test_a_zigbee2mqtt_base_topic_of_its_own_routes_subscribes_and_names_the_sender(
    z2m_broker: Broker, topics_db: Database
) -> None:
    worker = MqttWorker(topics_db, _settings(z2m_broker, zigbee2mqtt_base_topic=BASE))
    assert {f"{BASE}/+", f"{BASE}/+/energy"} <= set(worker.subscriptions)
    messages = [
        (f"{BASE}/dev1", json.dumps({"energy": 8.42 + i, "last_seen": JAN_1_MS + 3_600_000 * i}).encode())
        for i in range(1, 4)
    ]
    # The default base topic is neither allowed by this broker nor subscribed: it never arrives.
    messages.append(("zigbee2mqtt/dev1", json.dumps({"energy": 9.0, "last_seen": JAN_1_MS}).encode()))
    _run(worker, messages, z2m_broker, 3)
    assert (worker.stats.received, worker.stats.stored, worker.stats.rejected) == (3, 3, 0)
    # The device id is the level the broker authenticated, below the installation's base topic.
    (seen,) = readback.last_seen(topics_db, "dev1")
    assert (seen.channel, seen.topic) == ("energy", f"{BASE}/dev1")
