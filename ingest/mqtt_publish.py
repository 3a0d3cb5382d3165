"""Publishes each new leaderboard snapshot as a retained MQTT message for city displays
(``contests/<slug>/leaderboard``), so a display that connects gets the newest one at once."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contest.domain import LeaderboardView
from contest.settings import MqttSettings
from contest.snapshots import view_message

log = logging.getLogger(__name__)

TOPIC = "contests/{slug}/leaderboard"


class RetainedLeaderboardPublisher:
    """``PublishingService.on_published`` hook: QoS 1, retained, reconnecting in the background.

    It connects as the leaderboard user (``settings.leaderboard_username``), never as the ingest worker:
    the broker makes the username the client id, so that would take over the worker's session."""

    def __init__(self, settings: MqttSettings) -> None:
        username = settings.leaderboard_username
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=username or "contest-leaderboard",
            protocol=mqtt.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username, settings.leaderboard_password)
        self.client.reconnect_delay_set(1, 30)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()
        self.client.connect_async(settings.host, settings.port)
        self.client.loop_start()

    def __call__(self, slug: str, view: LeaderboardView) -> None:
        info = self.client.publish(TOPIC.format(slug=slug), view_message(view), qos=1, retain=True)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("leaderboard of %s queued for the broker (not connected)", slug)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
