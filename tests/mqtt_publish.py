"""A test publisher: QoS 1 with a bounded number of messages in flight (paho's message ids wrap at 65,535)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def generic_messages(
    device: str, n: int, *, start_epoch: int = 1_767_225_600, step_s: int = 60, start_kwh: float = 1000.0
) -> list[tuple[str, bytes]]:
    """n register readings of one device in the project's generic JSON format, one per ``step_s``."""
    out = []
    for i in range(n):
        body = {
            "meter": device,
            "ts": start_epoch + i * step_s,
            "value": round(start_kwh + i * 0.01, 3),
            "unit": "kWh",
        }
        out.append((f"contest/{device}/reading", json.dumps(body).encode()))
    return out


class Publisher:
    def __init__(
        self, host: str, port: int, username: str, password: str, client_id: str, inflight: int = 50
    ):
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 2)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect_async(host, port, clean_start=False, properties=props)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("publisher could not connect")

    def publish_all(
        self, messages: Iterable[tuple[str, bytes]], window: int = 500, timeout: float = 120
    ) -> None:
        """Publish at QoS 1 keeping at most ``window`` unconfirmed; waits until all are confirmed.

        Confirmations arrive roughly in order, so only the oldest pending message is checked (rescanning
        the whole window on every publish capped this publisher at ~3 k msg/s)."""
        pending: deque[mqtt.MQTTMessageInfo] = deque()
        deadline = time.monotonic() + timeout
        for topic, payload in messages:
            pending.append(self.client.publish(topic, payload, qos=1))
            while pending and pending[0].is_published():
                pending.popleft()
            while len(pending) >= window:
                if pending[0].is_published():
                    pending.popleft()
                else:
                    time.sleep(0.0005)
                if time.monotonic() > deadline:
                    raise TimeoutError("broker did not confirm the messages in time")
        while pending:
            if pending[0].is_published():
                pending.popleft()
            else:
                time.sleep(0.002)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} messages unconfirmed")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
