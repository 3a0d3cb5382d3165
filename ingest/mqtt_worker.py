"""The MQTT ingest worker: messages from the broker into the store, nothing lost and nothing twice.

paho's network thread only turns each message into a frozen :class:`Message` and puts it on a bounded
queue (blocking when full, so paho stops reading and the broker holds messages back). One writer
thread takes batches off the queue, parses them, binds devices to meters, stores readings and
rejected messages in one transaction, and only then acknowledges the batch to the broker (paho's
manual acknowledgement). A message redelivered after a crash stores nothing new (the readings' key).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contest.db import Database
from contest.domain import SeriesInfo
from contest.errors import PayloadError
from contest.meters import ANY_CHANNEL, KEY_UNBOUND, BoundMeter, MeterService
from contest.reading_store import ReadingService
from contest.readings import (
    DIRECTION_IMPORT,
    KIND_REGISTER,
    DeviceMessage,
    DeviceReading,
    StreamRejection,
    StreamRow,
    reading_problem,
    register_problem,
    validity_problem,
)
from contest.register_series import has_register_value, last_register
from contest.settings import MqttSettings
from contest.units import energy_factor_to_kwh
from ingest.identity import sender_problem
from ingest.payloads import MAX_PAYLOAD_BYTES, FormatTable, TopicPrefixes, format_table
from ingest.payloads.common import KEY_TOO_LARGE

log = logging.getLogger(__name__)

#: Of a payload over MAX_PAYLOAD_BYTES only its start is kept (for the rejected store) [bytes]: the
#: broker lets larger messages through (up to its max_packet_size) so that they are refused visibly.
KEEP_OVERSIZE_BYTES = 4096

#: Rejection key of a register reading that went backwards (scoring.registers: no reset, no rollover).
KEY_REGISTER_BACKWARDS = "mqtt.register_backwards"

#: Rejection key of a message the database would not take (found by storing its batch in halves).
KEY_STORE_FAILED = "mqtt.store_failed"


@dataclass(frozen=True, slots=True)
class Message:
    """An MQTT message as the rest of the project sees it (converted from paho's object at the edge)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: dt.datetime
    #: the payload's size when it was over MAX_PAYLOAD_BYTES and only its start was kept [bytes]
    oversize_bytes: int | None = None
    #: which connection of the worker delivered it: its message id means something only on that one
    connection: int = 0

    @classmethod
    def from_paho(cls, msg: mqtt.MQTTMessage, received_at: dt.datetime, connection: int = 0) -> Message:
        payload = msg.payload
        if len(payload) > MAX_PAYLOAD_BYTES:
            # Keep the queue small: such a message is refused anyway, its start tells staff what it was.
            return cls(
                msg.topic,
                bytes(payload[:KEEP_OVERSIZE_BYTES]),
                msg.mid,
                msg.qos,
                received_at,
                len(payload),
                connection,
            )
        return cls(msg.topic, bytes(payload), msg.mid, msg.qos, received_at, None, connection)


@dataclass
class WorkerStats:
    """Counters the worker keeps (and logs): what came in, what was stored, why things were rejected."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    ignored_export: int = 0
    batches: int = 0
    #: messages neither stored nor kept as rejected (the database refused even the rejection)
    dropped: int = 0
    #: stored, but delivered on an earlier connection: not acked by a stale id (the broker redelivers)
    unacked_old_connection: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


class MqttWorker:
    def __init__(
        self,
        db: Database,
        settings: MqttSettings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        #: the formats of this installation's topic prefixes: routing, subscriptions, ACL senders
        self.formats = installation_formats(settings)
        self.stats = WorkerStats()
        #: how many times this worker connected (paho's thread counts; messages remember theirs)
        self.connection = 0
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=settings.queue_size)
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._bindings: dict[tuple[str, str], BoundMeter] = {}
        self._bindings_loaded_at = 0.0
        #: the last stored register reading of each (meter, series start), as checked against
        self._last_register: dict[tuple[int, dt.datetime | None], tuple[dt.datetime, float] | None] = {}
        self.client = self._make_client()

    # --- paho side: connect, subscribe, hand over ------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.session_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if s.username:
            client.username_pw_set(s.username, s.password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        # paho's properties module has no annotations (paho-mqtt 2.2).
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        return props

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        # Message ids belong to one connection: a message taken before this one must not be acked by its
        # old id (it may name another message now); the broker redelivers it unacknowledged instead.
        self.connection += 1
        prefix = f"$share/{self.settings.share_group}/" if self.settings.share_group else ""
        client.subscribe([(prefix + t, 1) for t in self.subscriptions])

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """The staff's list when configured, else every topic the format table reads."""
        return self.settings.topics or self.formats.subscriptions

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        # Ready only once the broker confirmed the subscriptions: a message published between the
        # connection and the SUBACK would otherwise reach no session (seen in tests, on a busy machine).
        if any(r.is_failure for r in reasons):
            log.error("broker refused a subscription: %s", reasons)
        self.connected.set()
        log.info("connected to %s:%s as %s", self.settings.host, self.settings.port, self.settings.session_id)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("lost the broker (%s); reconnecting with backoff", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # paho's network thread: convert and hand over, nothing else. put() blocks when the queue is
        # full, so paho stops reading the socket and the broker holds further messages back.
        self.queue.put(Message.from_paho(msg, self.clock(), self.connection))

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (in the background, retrying) and start the writer thread."""
        s = self.settings
        self.client.connect_async(
            s.host, s.port, keepalive=30, clean_start=False, properties=self._connect_properties()
        )
        self.client.loop_start()
        self._writer = threading.Thread(target=self._write_loop, name="mqtt-writer", daemon=True)
        self._writer.start()

    def request_stop(self) -> None:
        """Ask the worker to stop (from a signal handler); run_forever then stops cleanly."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, write what is queued, acknowledge it, disconnect."""
        self._stop.set()
        self._writer.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.is_set():
                time.sleep(0.5)
        finally:
            self.stop()

    # --- writer side ---------------------------------------------------------------------------
    def _write_loop(self) -> None:
        wait_s = self.settings.batch_wait_ms / 1000
        while True:
            batch = self._take_batch(wait_s)
            if batch:
                self._write_batch_safely(batch)
            elif self._stop.is_set():
                return

    def _take_batch(self, wait_s: float) -> list[Message]:
        try:
            first = self.queue.get(timeout=wait_s)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + wait_s
        while len(batch) < self.settings.batch_max:
            try:
                batch.append(self.queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _write_batch_safely(self, batch: list[Message], *, retry_once: bool = True) -> None:
        """Write a batch; the worker never dies of bad input and never retries one batch forever.

        While the database is unreachable nothing is acknowledged and the same batch is retried with
        backoff (the broker keeps the messages). When the database answers but refuses the batch, one
        retry covers a passing lock; then the batch is stored in halves until the message at fault is
        alone: it is kept as rejected (``mqtt.store_failed``) with the database's reason, the others
        are stored."""
        delay = 0.5
        while True:
            try:
                self.write_batch(batch)
                return
            except Exception as exc:
                if not self.db.reachable():
                    log.exception("database unreachable; retrying %d messages in %.1f s", len(batch), delay)
                elif retry_once:
                    retry_once = False
                    log.warning(
                        "writing %d messages failed (%s); retrying once", len(batch), _first_line(exc)
                    )
                elif len(batch) > 1:
                    log.warning(
                        "%d messages cannot be stored together (%s); storing them in halves to find the "
                        "message at fault",
                        len(batch),
                        _first_line(exc),
                    )
                    half = len(batch) // 2
                    self._write_batch_safely(batch[:half], retry_once=False)
                    self._write_batch_safely(batch[half:], retry_once=False)
                    return
                else:
                    self._reject_unstorable(batch[0], exc)
                    return
                if self._stop.wait(delay):
                    return  # stopping: nothing acknowledged, the broker delivers these again
                delay = min(delay * 2, 30.0)

    def _reject_unstorable(self, msg: Message, exc: BaseException) -> None:
        """Keep a message the database refused as rejected, with the database's reason, and acknowledge it."""
        log.error("message on %s cannot be stored (%s); kept as rejected", msg.topic, _first_line(exc))
        rejection = StreamRejection(
            msg.topic,
            msg.payload,
            f"the database refused this message: {_first_line(exc)}",
            KEY_STORE_FAILED,
            msg.received_at,
        )
        try:
            with self.db.session() as session:
                ReadingService(session).store_stream([], [rejection])
        except Exception:
            # Not even the rejection fits (the database answers, so it is this message): say so loudly
            # rather than block every device behind it.
            log.exception("could not keep the message on %s as rejected either; dropping it", msg.topic)
            self.stats.dropped += 1
        else:
            self.stats.rejected += 1
            self.stats.reasons[KEY_STORE_FAILED] += 1
        self.stats.received += 1
        self._ack(msg)

    def _ack(self, msg: Message) -> None:
        """Acknowledge a stored (or kept as rejected) message, on the connection that delivered it only."""
        if msg.qos > 0 and msg.connection == self.connection:
            self.client.ack(msg.mid, msg.qos)
        elif msg.qos > 0:
            self.stats.unacked_old_connection += 1

    def _binding(self, device: str, channel: str, direction: str) -> BoundMeter | None:
        if time.monotonic() - self._bindings_loaded_at > 5.0:  # staff may bind devices while we run
            with self.db.session() as session:
                self._bindings = MeterService(session).bindings()
            self._bindings_loaded_at = time.monotonic()
        bound = self._bindings.get((device, channel))
        if bound is None and direction == DIRECTION_IMPORT and (device, ANY_CHANNEL) in self._bindings:
            bound = self._bindings[(device, ANY_CHANNEL)]
            with self.db.session() as session:  # the device's import channel is this one from now on
                MeterService(session).pin(device, channel)
            self._bindings[(device, channel)] = bound
            del self._bindings[(device, ANY_CHANNEL)]
        return bound

    def write_batch(self, batch: list[Message]) -> None:
        """Parse, bind, check, store in one transaction, then acknowledge every message of the batch."""
        rows: list[StreamRow] = []
        rejections: list[StreamRejection] = []
        seen: list[DeviceMessage] = []
        now = self.clock()
        max_future = dt.timedelta(seconds=self.settings.max_future_s)
        last_seen: dict[tuple[int, dt.datetime | None], tuple[dt.datetime, float] | None] = {}
        #: register values of this batch per series (a redelivery may follow its original in one batch)
        values: dict[tuple[int, dt.datetime | None], set[float]] = {}
        not_devices = frozenset({self.settings.username}) if self.settings.username else frozenset()
        for msg in batch:
            if msg.oversize_bytes is not None:
                rejections.append(
                    StreamRejection(
                        msg.topic,
                        msg.payload,
                        f"payload of {msg.oversize_bytes} bytes is larger than {MAX_PAYLOAD_BYTES}: not a meter "
                        f"message (its first {len(msg.payload)} bytes are kept)",
                        KEY_TOO_LARGE,
                        msg.received_at,
                    )
                )
                continue
            try:
                readings = self.formats.parse(
                    msg.topic, msg.payload, tz=self.settings.timezone, received_at=msg.received_at
                )
            except PayloadError as exc:
                rejections.append(
                    StreamRejection(msg.topic, msg.payload, exc.message, exc.key, msg.received_at)
                )
                continue
            except Exception as exc:  # a parser bug must not kill the worker; keep the message
                log.exception("parser failed on %s", msg.topic)
                rejections.append(
                    StreamRejection(
                        msg.topic, msg.payload, f"parser error: {exc!r}", "mqtt.parser_error", msg.received_at
                    )
                )
                continue
            # Identity comes from the connection: the broker authenticated the username the ACL binds
            # to the topic; a payload naming another device is refused, whole, and kept.
            foreign = (
                sender_problem(
                    msg.topic, {r.device for r in readings}, not_devices, self.formats.write_patterns
                )
                if readings
                else None
            )
            if foreign is not None:
                rejections.append(
                    StreamRejection(msg.topic, msg.payload, foreign[1], foreign[0], msg.received_at)
                )
                continue
            for r in readings:
                problem = self._check(r, msg, now, max_future, last_seen, values)
                if isinstance(problem, StreamRejection):
                    rejections.append(problem)
                    seen.append(_seen(r, msg, problem.meter_id, problem))
                elif isinstance(problem, StreamRow):
                    rows.append(problem)
                    seen.append(_seen(r, msg, problem.meter_id, None, problem.energy_kwh))
                elif (r.device, r.channel) in self._bindings:  # a repeated value: seen, nothing new
                    seen.append(_seen(r, msg, self._bindings[(r.device, r.channel)].meter_id, None))
        # One transaction per batch; acknowledged only once it is committed.
        with self.db.session() as session:
            stored = ReadingService(session).store_stream(rows, rejections, seen)
        meters = {r.meter_id for r in rows}
        for key in [k for k in self._last_register if k[0] in meters]:
            del self._last_register[key]  # reload after this batch
        for msg in batch:
            self._ack(msg)
        self.stats.received += len(batch)
        self.stats.stored += stored
        self.stats.duplicates += len(rows) - stored
        self.stats.rejected += len(rejections)
        self.stats.batches += 1
        self.stats.reasons.update(r.key for r in rejections)

    def _check(
        self,
        r: DeviceReading,
        msg: Message,
        now: dt.datetime,
        max_future: dt.timedelta,
        last_seen: dict[tuple[int, dt.datetime | None], tuple[dt.datetime, float] | None],
        values: dict[tuple[int, dt.datetime | None], set[float]],
    ) -> StreamRow | StreamRejection | None:
        bound = self._binding(r.device, r.channel, r.direction)
        if bound is None:
            if r.direction != DIRECTION_IMPORT:
                self.stats.ignored_export += 1  # feed-in of an unbound device: not consumption, not an error
                return None
            return StreamRejection(
                msg.topic,
                msg.payload,
                f"device {r.device!r} channel {r.channel!r} is not bound to a meter",
                KEY_UNBOUND,
                msg.received_at,
            )
        ts = r.ts_utc or msg.received_at
        energy_kwh = r.energy_kwh
        if bound.unit_factor_kwh is not None and r.assumed_unit is not None:
            # The message states no unit and the parser assumed one; the binding says which it is.
            energy_kwh = r.energy_kwh / energy_factor_to_kwh(r.assumed_unit) * bound.unit_factor_kwh
        if ts - now > max_future:
            return StreamRejection(
                msg.topic,
                msg.payload,
                f"timestamp {ts.isoformat()} is more than {max_future} in the future",
                "mqtt.future_timestamp",
                msg.received_at,
                bound.meter_id,
            )
        # The meter's validity (a swapped meter) and the device's own register series: before the
        # binding the meter's register series was another counter (the display). contest.readings.
        own = (SeriesInfo(bound.series_start, None, r.device),) if bound.series_start is not None else ()
        foreign = validity_problem(
            ts,
            meter=bound.external_id,
            valid_from=bound.valid_from,
            valid_to=bound.valid_to,
            series=own,
            device=r.device,
            tz=bound.timezone,
        )
        if foreign is not None:
            return StreamRejection(
                msg.topic, msg.payload, foreign[1], foreign[0], msg.received_at, bound.meter_id
            )
        if not math.isfinite(energy_kwh):
            return StreamRejection(
                msg.topic,
                msg.payload,
                "energy is not a finite number",
                "mqtt.not_finite",
                msg.received_at,
                bound.meter_id,
            )
        # The bounds every reading keeps, whatever its source (contest.readings): time, interval length
        # and power, register size; a rise faster than a household can draw is judged below.
        problem = reading_problem(ts, energy_kwh, r.kind, r.duration_s, now=now)
        if problem is not None:
            return StreamRejection(
                msg.topic, msg.payload, problem[1], problem[0], msg.received_at, bound.meter_id
            )
        if r.kind == KIND_REGISTER:
            # "Went backwards" is judged within the device's own register series only.
            series = (bound.meter_id, bound.series_start)
            if series not in last_seen:
                if series not in self._last_register:
                    with self.db.session() as session:
                        self._last_register[series] = last_register(session, series[0], after=series[1])
                last_seen[series] = self._last_register[series]
            last = last_seen[series]
            if last is not None:
                last_ts, last_value = last
                if r.ts_utc is None and (
                    energy_kwh == last_value
                    or (energy_kwh < last_value and self._seen_value(series, energy_kwh, values))
                ):
                    # No device time: a QoS 1 redelivery gets a new receive time, so an older value
                    # reappears later. A value the series already holds adds nothing: a duplicate, not
                    # a register that went backwards (a value never seen below the last still is).
                    self.stats.duplicates += 1
                    return None
                # The one register rule (scoring.registers) against the last accepted reading of the
                # series: a fall to near zero is a reset, a wrap at a power of ten a rollover (both
                # kept); a reading that went backwards or rose too fast is rejected.
                if ts > last_ts and (
                    problem := register_problem(
                        last_ts, last_value, ts, energy_kwh, backwards_key=KEY_REGISTER_BACKWARDS
                    )
                ):
                    return StreamRejection(
                        msg.topic, msg.payload, problem[1], problem[0], msg.received_at, bound.meter_id
                    )
            if last is None or ts > last[0]:
                last_seen[series] = (ts, energy_kwh)
            values.setdefault(series, set()).add(energy_kwh)
        return StreamRow(bound.meter_id, ts, energy_kwh, r.kind, r.duration_s)

    def _seen_value(
        self,
        series: tuple[int, dt.datetime | None],
        energy_kwh: float,
        values: dict[tuple[int, dt.datetime | None], set[float]],
    ) -> bool:
        """Whether the register series already holds ``energy_kwh`` [kWh], stored or in this batch."""
        if energy_kwh in values.get(series, ()):
            return True
        with self.db.session() as session:
            return has_register_value(session, series[0], series[1], energy_kwh)


def installation_formats(settings: MqttSettings) -> FormatTable:
    """The format table for the topic prefixes this installation's devices use."""
    return format_table(
        TopicPrefixes(
            zigbee2mqtt=settings.zigbee2mqtt_base_topic,
            homeassistant=settings.homeassistant_discovery_prefix,
            emonhub=settings.emonhub_base_topic,
            vzlogger=settings.vzlogger_topic,
        )
    )


def _seen(
    r: DeviceReading,
    msg: Message,
    meter_id: int | None,
    rejection: StreamRejection | None,
    energy_kwh: float | None = None,
) -> DeviceMessage:
    """What staff see of a device channel's last message (the device id is the parser's, from the topic)."""
    return DeviceMessage(
        r.device,
        r.channel,
        msg.topic,
        msg.received_at,
        r.ts_utc or msg.received_at,
        r.energy_kwh if energy_kwh is None else energy_kwh,
        meter_id,
        rejection.key if rejection else None,
        rejection.reason if rejection else None,
    )


def _first_line(exc: BaseException) -> str:
    """The first line of an error, for reasons and logs (a database error's SQL and parameters follow)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"
