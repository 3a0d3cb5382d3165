"""Benchmark: the MQTT ingest worker against a bare paho subscriber, draining the same backlog.

In one run, with a local Mosquitto configured from deploy/mosquitto:
  1. persistent sessions (clean start off) are registered for a bare subscriber and for the worker;
  2. N QoS 1 messages (the generic JSON format) are published once, so the broker queues them for both;
  3. (a) the bare paho subscriber connects and only receives and json-decodes all N;
  4. (b) the project's worker connects and stores all N durably (SQLite; PostgreSQL when its server
     binaries are installed), acknowledging each batch after commit.
Both drain the same backlog, so the publisher's speed does not enter. Prints messages/s, the ratio b/a
(target >= 0.5), lost (N - stored) and duplicated (stored twice) counts.
Run: .venv/bin/python bench/mqtt_ingest.py [--n 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.meters import MeterService
from contest.reading_store import ReadingService
from contest.settings import MqttSettings
from ingest.mqtt_worker import MqttWorker
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, mosquitto
from tests.mqtt_publish import Publisher, generic_messages

TOPIC = "contest/#"
BARE_USER = "bench-bare"
TOML = """
[contest]
slug = "bench"
name = "Bench"
baseline = { start = 2025-12-01, end = 2025-12-31 }
competition = { start = 2026-01-01, end = 2026-12-31 }
[[households]]
pseudonym = "bench"
meters = [{ id = "M1", kind = "register" }]
"""


def _client(user: str) -> mqtt.Client:
    # The broker makes the username the client id: each session (bare, worker) is a user of its own.
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, INGEST_PASSWORD)
    return c


def _props(receive_maximum: int = 10_000) -> Properties:
    p = Properties(PacketTypes.CONNECT)
    p.SessionExpiryInterval = 3600
    p.ReceiveMaximum = receive_maximum
    return p


def register_session(broker: Broker, client_id: str) -> None:
    c = _client(client_id)
    c.connect(broker.host, broker.port, clean_start=False, properties=_props())
    c.loop_start()
    c.subscribe(TOPIC, qos=1)
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def bare_drain(broker: Broker, n: int) -> float:
    done = threading.Event()
    count = 0

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count
        json.loads(msg.payload)
        count += 1
        if count >= n:
            done.set()

    c = _client(BARE_USER)
    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect(broker.host, broker.port, clean_start=False, properties=_props())
    c.loop_start()
    if not done.wait(600):
        raise RuntimeError(f"bare subscriber received only {count} of {n}")
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return elapsed


def worker_drain(broker: Broker, db: Database, n: int) -> tuple[float, int, int]:
    worker = MqttWorker(
        db,
        MqttSettings(
            host=broker.host,
            port=broker.port,
            username=INGEST_USER,
            password=INGEST_PASSWORD,
            topics=(TOPIC,),
        ),
    )
    t0 = time.perf_counter()
    worker.start()
    deadline = time.monotonic() + 900
    while worker.stats.received < n and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    worker.stop()
    with db.session() as session:
        stored = ReadingService(session).count_readings("M1")
    return elapsed, stored, worker.stats.duplicates


def run(n: int, db_url: str, label: str) -> None:
    db = Database(db_url)
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    with db.session() as session:
        MeterService(session).bind("M1", "dev1")
    messages = generic_messages("dev1", n, step_s=1)
    with mosquitto({"dev1": "pw1"}, workers=(BARE_USER,)) as broker:
        register_session(broker, BARE_USER)
        register_session(broker, INGEST_USER)
        pub = Publisher(broker.host, broker.port, "dev1", "pw1", "bench-pub", inflight=100)
        t0 = time.perf_counter()
        pub.publish_all(messages, window=1000, timeout=900)
        publish_s = time.perf_counter() - t0
        pub.close()
        a = bare_drain(broker, n)
        b, stored, dup = worker_drain(broker, db, n)
    db.dispose()
    rate_a, rate_b = n / a, n / b
    print(
        f"[{label}] n={n:,} | publish {n / publish_s:,.0f} msg/s | (a) bare paho {rate_a:,.0f} msg/s | "
        f"(b) worker {rate_b:,.0f} msg/s | b/a = {rate_b / rate_a:.2f} (target >= 0.50) | "
        f"lost {n - stored} | duplicated {dup}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}  python={sys.version.split()[0]}  paho={importlib.metadata.version('paho-mqtt')}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run(args.n, f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "sqlite")
    if not args.no_postgres:
        try:
            from tests.servers import postgres_cluster
        except Exception:
            return
        with ExitStack() as stack:
            try:
                url = stack.enter_context(postgres_cluster())
            except Exception as exc:
                print(f"[postgresql] skipped: {exc}")
                return
            run(args.n, url, "postgresql")


if __name__ == "__main__":
    main()
