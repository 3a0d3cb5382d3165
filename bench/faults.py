"""Fault benchmark: what a crash of the worker, the broker or the database costs, counted message by message.

Every fault gets a fresh Mosquitto configured from deploy/mosquitto (only on 127.0.0.1), its own device and
meter, and the project's worker as a subprocess (`contest ingest`, so it can be killed with -9). A
publisher (paho, QoS 1, MQTT 5, at most 100 in flight, resending what was not acknowledged after a
reconnect, like a device) sends N readings while the fault happens. Then the worker drains what the
broker still has, and the readings of the fault's meter are read back from the database:

  sent          messages handed to the publisher
  acknowledged  messages the broker confirmed with a successful PUBACK (the device may forget them)
  stored        sent messages whose reading is in the database under its own key
  lost          acknowledged but not stored
  duplicated    readings stored twice (impossible by the key) or stored under a key no message had

Faults (PostgreSQL runs all of them, SQLite all but the last):
  worker-kill          kill -9 of the worker mid-stream, then a new worker with the same client id
  broker-restart       SIGTERM (Mosquitto saves its state) and start of the broker mid-stream
  broker-kill-idle     kill -9 of the broker right after its last PUBACK, the worker down (its session
                       was saved before by a clean restart, as a long-running session would be)
  broker-kill-idle-3s  the same, 3 s after the last PUBACK (Mosquitto 2.0 saves when a whole second more
                       than autosave_interval has passed: every 2 s for `autosave_interval 1`)
  broker-kill-stream   kill -9 of the broker mid-stream, worker running
  postgres-restart     `pg_ctl restart -m fast` of the database mid-stream

`--cost` instead measures what the persistence settings cost: publishing N messages into the queue of an
offline session, then a bare subscriber draining them, for each setting, as msg/s and as a ratio to the
`autosave_interval 30` of the same run.

Bounded: every wait has a deadline; the whole run takes a few minutes on 2 cores. Stops by itself and
ends the brokers, workers and database it started.
Run: .venv/bin/python bench/faults.py [--n 10000] [--no-postgres] [--autosave-interval S]
     [--autosave-on-changes] [--only worker-kill,...] [--cost]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contest.config import parse_contest_config
from contest.consumption import load_readings
from contest.contests import ContestService
from contest.db import Database
from contest.meters import MeterService
from contest.reading_store import ReadingService
from tests.ingest_process import WorkerProcess, wait_for
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, mosquitto
from tests.mqtt_publish import generic_messages

ROOT = Path(__file__).resolve().parents[1]

FAULTS = (
    "worker-kill",
    "broker-restart",
    "broker-kill-idle",
    "broker-kill-idle-3s",
    "broker-kill-stream",
    "postgres-restart",
)
START_EPOCH = 1_767_225_600  # 2026-01-01 00:00 UTC, as in tests.mqtt_publish.generic_messages
STEP_S = 60
DEADLINE_S = 120  # the longest any one wait of a fault may take


def _device(fault: str) -> str:
    return "flt-" + fault


def _meter(fault: str) -> str:
    return "F-" + fault


def contest_toml(faults: tuple[str, ...]) -> str:
    meters = ", ".join(f'{{ id = "{_meter(f)}", kind = "register" }}' for f in faults)
    return f"""
[contest]
slug = "faults"
name = "Faults"
baseline = {{ start = 2025-12-01, end = 2025-12-31 }}
competition = {{ start = 2026-01-01, end = 2026-12-31 }}
[[households]]
pseudonym = "faults"
meters = [{meters}]
"""


# --- the broker's persistence settings ------------------------------------------------------------
def set_persistence(broker: Broker, interval: int | None, on_changes: bool | None) -> None:
    """Rewrite the autosave lines of the broker's copy of deploy/mosquitto/mosquitto.conf, restart it."""
    conf_path = broker.directory / "mosquitto.conf"
    conf = conf_path.read_text()
    conf = re.sub(r"(?m)^autosave_(interval|on_changes) .*\n", "", conf)
    lines = []
    if interval is not None:
        lines.append(f"autosave_interval {interval}")
    if on_changes is not None:
        lines.append(f"autosave_on_changes {'true' if on_changes else 'false'}")
    conf += "\n# set by bench/faults.py\n" + "".join(line + "\n" for line in lines)
    conf_path.write_text(conf)
    broker.restart()


def persistence_of(conf: str) -> str:
    found = re.findall(r"(?m)^(autosave_\w+ \S+)", conf)
    return ", ".join(found) or "autosave defaults"


# --- the publisher: a device that counts what the broker confirmed ------------------------------
class CountingPublisher:
    """QoS 1, at most ``inflight`` unconfirmed; paho resends unconfirmed messages after a reconnect."""

    def __init__(self, broker: Broker, device: str, password: str, inflight: int = 100) -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id="pub-" + device, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(device, password)
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # seconds; paho takes floats
        self.client.on_publish = self._on_publish
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: None if rc.is_failure else self.connected.set()
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()
        self._index_of_mid: dict[int, int] = {}
        self._early: dict[int, object] = {}
        self.acknowledged: set[int] = set()
        self.refused = 0
        self.last_ack_at = 0.0
        self.sent = 0
        self._lock = threading.Lock()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect_async(broker.host, broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("publisher could not connect")

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: object, _p: object) -> None:
        # paho's network thread, holding paho's message lock: never wait here for publish_all.
        with self._lock:
            index = self._index_of_mid.pop(mid, None)
            if index is None:  # confirmed before publish_all recorded the message's index
                self._early[mid] = reason
            else:
                self._record(index, reason)

    def _record(self, index: int, reason: object) -> None:
        if getattr(reason, "is_failure", False):
            self.refused += 1
        else:
            self.acknowledged.add(index)
            self.last_ack_at = time.monotonic()

    def publish_all(
        self, messages: list[tuple[str, bytes]], window: int = 1000, deadline_s: float = DEADLINE_S
    ) -> None:
        """Publish every message, keeping at most ``window`` unconfirmed, and wait for the confirmations."""
        if len(messages) > 60_000:
            raise ValueError("paho's message ids wrap at 65,535: publish fewer per publisher")
        deadline = time.monotonic() + deadline_s
        for i, (topic, payload) in enumerate(messages):
            if time.monotonic() > deadline:
                break
            info = self.client.publish(topic, payload, qos=1)
            self.sent += 1
            with self._lock:
                if info.mid in self._early:
                    self._record(i, self._early.pop(info.mid))
                else:
                    self._index_of_mid[info.mid] = i
            while self.pending() >= window and time.monotonic() < deadline:
                time.sleep(0.0005)
        wait_for(lambda: self.pending() == 0, max(1.0, deadline - time.monotonic()), every=0.002)

    def pending(self) -> int:
        with self._lock:
            return len(self._index_of_mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- PostgreSQL restart ---------------------------------------------------------------------------
def restart_postgres(db: Database) -> float:
    """Restart the cluster behind ``db`` (fast shutdown: sessions are ended, then a clean start) [s]."""
    from tests.servers import _as_pg_user, pg_bin

    with db.engine.connect() as conn:
        data_dir = conn.exec_driver_sql("SHOW data_directory").scalar_one()
    log = Path(data_dir).parent / "server.log"  # where tests.servers.postgres_cluster logs
    t0 = time.perf_counter()
    # With -l the new server does not hold our pipes open (without it, run() would wait for it to exit).
    subprocess.run(
        _as_pg_user(
            [pg_bin("pg_ctl"), "-D", str(data_dir), "-l", str(log), "-m", "fast", "-w", "-t", "60", "restart"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=90,
    )
    return time.perf_counter() - t0


# --- one fault ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultResult:
    fault: str
    store: str
    sent: int
    acknowledged: int
    stored: int
    lost: int
    duplicated: int
    unacknowledged_stored: int
    seconds: float
    note: str


class Counter:
    """Reads back what the database holds for one meter, through the services."""

    def __init__(self, db: Database, meter: str) -> None:
        self.db = db
        self.meter = meter
        with db.session() as session:
            self.meter_id = MeterService(session).import_context(meter).meter_id

    def count(self) -> int:
        try:
            with self.db.session() as session:
                return ReadingService(session).count_readings(self.meter)
        except Exception:  # the database may be restarting
            return -1

    def stored_indexes(self, n: int) -> tuple[set[int], int]:
        """Indexes of the sent messages whose reading is stored; and how many rows are duplicates."""
        with self.db.session() as session:
            frame = load_readings(session, self.meter_id)
        origin = pd.Timestamp(START_EPOCH, unit="s", tz="UTC")
        seconds = ((pd.to_datetime(frame["ts_utc"], utc=True) - origin) // pd.Timedelta(seconds=1)).tolist()
        duplicated = len(frame) - frame["ts_utc"].nunique()
        indexes: set[int] = set()
        for offset_s, energy in zip(seconds, frame["energy_kwh"].tolist(), strict=True):
            i, rest = divmod(int(offset_s), STEP_S)
            expected_kwh = round(1000.0 + i * 0.01, 3)
            if rest or not 0 <= i < n or abs(energy - expected_kwh) > 1e-6:
                duplicated += 1  # stored under a key (or with a value) that no message had
            else:
                indexes.add(i)
        return indexes, duplicated


def run_fault(
    fault: str, store: str, db: Database, db_url: str, n: int, persistence: tuple[int | None, bool | None]
) -> FaultResult:
    device, password = _device(fault), "pw-" + fault
    messages = generic_messages(device, n, start_epoch=START_EPOCH, step_s=STEP_S)
    counter = Counter(db, _meter(fault))
    client_id = f"ingest-{fault}-{store}"
    notes: list[str] = []
    t0 = time.perf_counter()
    with mosquitto({device: password}) as broker, ExitStack() as stack:
        if persistence != (None, None):
            set_persistence(broker, *persistence)
        workers: list[WorkerProcess] = []

        def start_worker() -> WorkerProcess:
            w = WorkerProcess(db_url, broker, client_id, extra_env={"CONTEST_MQTT_TOPICS": "contest/#"})
            workers.append(w)
            w.wait_connected()
            return w

        def kill_workers() -> None:
            for w in workers:
                w.kill()

        stack.callback(kill_workers)
        worker = start_worker()
        pub = CountingPublisher(broker, device, password)
        stack.callback(pub.close)

        if fault.startswith("broker-kill-idle"):
            worker.stop()
            broker.restart()  # the worker's session is on disk, as an old session would be
            pub.publish_all(messages)
            if fault.endswith("-3s"):
                time.sleep(max(0.0, pub.last_ack_at + 3.0 - time.monotonic()))
            broker.stop(hard=True)
            broker.start()
            worker = start_worker()
        else:
            sender = threading.Thread(target=pub.publish_all, args=(messages,), daemon=True)
            sender.start()
            if not wait_for(lambda: counter.count() >= n // 4, DEADLINE_S):
                notes.append("the worker stored less than a quarter before the fault")
            if fault == "worker-kill":
                worker.kill()
                notes.append(f"killed at {counter.count():,} stored")
                worker = start_worker()
            elif fault == "broker-restart":
                broker.restart()
            elif fault == "broker-kill-stream":
                broker.stop(hard=True)
                broker.start()
            elif fault == "postgres-restart":
                notes.append(f"restart took {restart_postgres(db):.1f} s")
            sender.join(DEADLINE_S)
        # Drain: until every acknowledged message is stored, or nothing has moved for 5 s.
        target = pub.acknowledged
        last, still_since = -2, time.monotonic()
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            now_count = counter.count()
            if now_count >= len(target) and now_count >= 0:
                break
            if now_count != last:
                last, still_since = now_count, time.monotonic()
            elif time.monotonic() - still_since > 5:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # redeliveries still in flight must not add anything
        worker.stop()
        sent, acknowledged, refused = pub.sent, set(pub.acknowledged), pub.refused
        retries = sum("retrying" in line for w in workers for line in w.lines)
        if retries:
            notes.append(f"worker retried {retries} batch writes")
    stored, duplicated = counter.stored_indexes(n)
    if refused:
        notes.append(f"{refused} refused by the broker")
    return FaultResult(
        fault=fault,
        store=store,
        sent=sent,
        acknowledged=len(acknowledged),
        stored=len(stored),
        lost=len(acknowledged - stored),
        duplicated=duplicated,
        unacknowledged_stored=len(stored - acknowledged),
        seconds=time.perf_counter() - t0,
        note="; ".join(notes),
    )


def print_row(r: FaultResult) -> None:
    print(
        f"| {r.store} | {r.fault} | {r.sent:,} | {r.acknowledged:,} | {r.stored:,} | {r.lost:,} | "
        f"{r.duplicated:,} | {r.unacknowledged_stored:,} | {r.seconds:.0f} s | {r.note} |",
        flush=True,
    )


@contextmanager
def database(store: str) -> Iterator[str]:
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'faults.sqlite3'}"
    else:
        from tests.servers import postgres_cluster

        with postgres_cluster() as url:
            yield url


def run_store(
    store: str, faults: tuple[str, ...], n: int, persistence: tuple[int | None, bool | None]
) -> None:
    with database(store) as url:
        db = Database(url)
        with db.session() as session:
            ContestService(session).setup(parse_contest_config(contest_toml(faults)))
        with db.session() as session:
            for fault in faults:
                MeterService(session).bind(_meter(fault), _device(fault))
        for fault in faults:
            print_row(run_fault(fault, store, db, url, n, persistence))
        db.dispose()


# --- what the persistence settings cost -----------------------------------------------------------
COST_SETTINGS: tuple[tuple[str, int, bool], ...] = (
    ("autosave_interval 30 (warm-up, not shown)", 30, False),
    ("autosave_interval 30", 30, False),
    ("autosave_interval 1", 1, False),
    ("autosave_on_changes, interval 1000", 1000, True),
    ("autosave_on_changes, interval 100", 100, True),
    ("autosave_on_changes, interval 1", 1, True),
)


def _session_client(broker: Broker, client_id: str) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    c.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    return c


def _connect_props() -> Properties:
    p = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    p.SessionExpiryInterval = 3600
    p.ReceiveMaximum = 10_000
    return p


def measure_cost(label: str, interval: int, on_changes: bool, n: int) -> tuple[float, float]:
    """Publish n into an offline session's queue, then drain it with a bare subscriber [msg/s, msg/s]."""
    with mosquitto({"cost-dev": "pw"}) as broker:
        set_persistence(broker, interval, on_changes)
        sub = _session_client(broker, "cost-sub")
        sub.connect(broker.host, broker.port, clean_start=False, properties=_connect_props())
        sub.loop_start()
        subscribed = threading.Event()
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.subscribe("contest/#", qos=1)
        subscribed.wait(5)
        sub.disconnect()
        sub.loop_stop()
        pub = CountingPublisher(broker, "cost-dev", "pw")
        t0 = time.perf_counter()
        pub.publish_all(generic_messages("cost-dev", n), deadline_s=30)
        publish_s = time.perf_counter() - t0
        acked = len(pub.acknowledged)
        pub.close()
        count = 0
        done = threading.Event()

        def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
            nonlocal count
            count += 1
            if count >= acked:
                done.set()

        sub = _session_client(broker, "cost-sub")
        sub.on_message = on_message
        t0 = time.perf_counter()
        sub.connect(broker.host, broker.port, clean_start=False, properties=_connect_props())
        sub.loop_start()
        done.wait(DEADLINE_S)
        drain_s = time.perf_counter() - t0
        sub.disconnect()
        sub.loop_stop()
        if acked < n or count < acked:
            print(f"  [{label}] acknowledged {acked:,} of {n:,}, drained {count:,}")
        return acked / publish_s, count / drain_s


def run_cost(n: int) -> None:
    print("| setting | N | publish into an offline queue | ratio | bare drain | ratio |")
    print("|---|---|---|---|---|---|")
    base: tuple[float, float] | None = None
    for label, interval, on_changes in COST_SETTINGS:
        publish_rate, drain_rate = measure_cost(label, interval, on_changes, n)
        if "warm-up" in label:
            continue
        base = base or (publish_rate, drain_rate)
        print(
            f"| {label} | {n:,} | {publish_rate:,.0f} msg/s | {publish_rate / base[0]:.2f} | "
            f"{drain_rate:,.0f} msg/s | {drain_rate / base[1]:.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="messages per fault")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated faults (default: all)")
    parser.add_argument("--autosave-interval", type=int, default=None, help="override the shipped value")
    parser.add_argument("--autosave-on-changes", choices=("true", "false"), default=None)
    parser.add_argument("--cost", action="store_true", help="measure what the persistence settings cost")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: brokers, workers, clusters end
    shipped = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}  python={sys.version.split()[0]}  "
        f"paho={importlib.metadata.version('paho-mqtt')}  {os.cpu_count()} cores"
    )
    if args.cost:
        run_cost(args.n)
        return
    on_changes = None if args.autosave_on_changes is None else args.autosave_on_changes == "true"
    persistence = (args.autosave_interval, on_changes)
    setting = (
        persistence_of(shipped)
        if persistence == (None, None)
        else (
            f"autosave_interval {args.autosave_interval}"
            + (f", autosave_on_changes {args.autosave_on_changes}" if on_changes is not None else "")
        )
    )
    faults = tuple(f for f in FAULTS if not args.only or f in args.only.split(","))
    print(f"broker persistence: {setting}; N = {args.n:,} per fault")
    print(
        "| store | fault | sent | acknowledged | stored | lost | duplicated | stored, not acknowledged | time | note |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    run_store("sqlite", tuple(f for f in faults if f != "postgres-restart"), args.n, persistence)
    if not args.no_postgres:
        run_store("postgresql", faults, args.n, persistence)


if __name__ == "__main__":
    main()
