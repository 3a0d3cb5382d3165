"""The shipped Mosquitto configuration saves its queue every ~2 s: a backlog for a stopped worker survives
a kill -9 of the broker that comes 3 s after the last confirmation (bench/faults.py measures the rest)."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, mosquitto
from tests.mqtt_publish import Publisher, generic_messages


def _session(host: str, port: int, received: list[bytes]) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    client.on_message = lambda c, u, m: received.append(m.payload)
    subscribed = threading.Event()
    client.on_subscribe = lambda *a: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    client.subscribe("contest/#", qos=1)
    assert subscribed.wait(5)
    return client


def test_a_queued_backlog_survives_a_broker_kill_after_one_autosave() -> None:
    n = 500
    with mosquitto({"dev1": "pw1"}) as broker:
        received: list[bytes] = []
        worker = _session(broker.host, broker.port, received)  # the worker's session, then it goes away
        worker.disconnect()
        worker.loop_stop()
        broker.restart()  # a long-standing session is on disk
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "pub-durability")
        pub.publish_all(generic_messages("dev1", n))  # all confirmed by the broker
        pub.close()
        time.sleep(3.0)  # one autosave (2 s with autosave_interval 1) and a margin
        broker.stop(hard=True)
        broker.start()
        worker = _session(broker.host, broker.port, received)
        deadline = time.monotonic() + 20
        while len(received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.disconnect()
        worker.loop_stop()
        assert len(set(received)) == n
