"""The one settings object, read from the environment once, a section per concern.

Contest rules (baseline method, coverage thresholds) are data on the contest, not settings.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from contest.errors import ConfigError


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from exc


@dataclass(frozen=True, slots=True)
class DbSettings:
    """Where data is stored.

    url: SQLAlchemy URL. ``CONTEST_DB_URL`` (e.g. ``postgresql+psycopg://user:pw@host/db``) wins;
        otherwise a SQLite file at ``CONTEST_DB_PATH`` (default ``./var/contest.sqlite3``).
    """

    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The HTTP server.

    host: interface to listen on (``CONTEST_WEB_HOST``, default 127.0.0.1)
    port: TCP port (``CONTEST_WEB_PORT``, default 8000)
    secret_key: signs session cookies (``CONTEST_SECRET_KEY``); a random one per process if unset,
        which logs everybody out on restart — set it in production.
    max_upload_bytes: largest accepted upload [bytes] (``CONTEST_MAX_UPLOAD_BYTES``, default 20 MB)
    upload_dir: where uploads wait for the household's confirmation (``CONTEST_UPLOAD_DIR``, default
        ``./var/uploads``)
    """

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_dir: str = "var/uploads"


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The MQTT ingest worker (``contest ingest``).

    host, port: the broker (``CONTEST_MQTT_HOST`` 127.0.0.1, ``CONTEST_MQTT_PORT`` 1883)
    username, password: the ingest user of the broker's password file (``CONTEST_MQTT_USERNAME``,
        ``CONTEST_MQTT_PASSWORD``); it may subscribe to every device topic
    client_id: stable id, so the broker keeps the persistent session across restarts
        (``CONTEST_MQTT_CLIENT_ID``, default ``contest-ingest``); several workers need different ids
    share_group: when set, subscribe as ``$share/<group>/<topic>`` so several workers split the load
        (``CONTEST_MQTT_SHARE_GROUP``)
    topics: comma-separated subscriptions (``CONTEST_MQTT_TOPICS``, default every device family)
    session_expiry_s: how long the broker keeps the session (and queues QoS 1 messages) while the worker
        is away [s] (``CONTEST_MQTT_SESSION_EXPIRY_S``, default 7 days)
    queue_size: messages between paho's network thread and the writer; when full, paho stops reading
        and the broker holds back (``CONTEST_MQTT_QUEUE_SIZE``, default 20000)
    batch_max: messages written and acknowledged per transaction (``CONTEST_MQTT_BATCH_MAX``, 2000)
    batch_wait_ms: longest a message waits for its batch to fill [ms] (``CONTEST_MQTT_BATCH_WAIT_MS``, 200)
    receive_maximum: unacknowledged QoS 1 messages the broker may have in flight to the worker
        (``CONTEST_MQTT_RECEIVE_MAXIMUM``, default 10000); must exceed batch_max, since acks wait for commit
    timezone: zone of device clocks that send local time without offset (Tasmota), default Europe/Berlin
    max_future_s: readings stamped further than this in the future are rejected [s] (default 1 day)
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = "contest-ingest"
    share_group: str | None = None
    topics: tuple[str, ...] = (
        "tele/+/SENSOR",
        "shellies/#",
        "+/status/#",
        "+/events/rpc",
        "emon/#",
        "zigbee2mqtt/+",
        "+/sensor/+/state",
        "smartmeter/#",
        "vzlogger/#",
        "contest/#",
    )
    session_expiry_s: int = 7 * 24 * 3600
    queue_size: int = 20_000
    batch_max: int = 2_000
    batch_wait_ms: int = 200
    receive_maximum: int = 10_000
    timezone: str = "Europe/Berlin"
    max_future_s: int = 24 * 3600


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """Background jobs of ``contest serve``.

    enabled: run the jobs in this instance (``CONTEST_SCHEDULER_ENABLED``, default 1); with several
        instances on one PostgreSQL all may run it: a lock lets one work per tick
    publish_interval_min: rescore and publish running contests this often [min]
        (``CONTEST_PUBLISH_INTERVAL_MIN``, default 5)
    refresh_daily_s: bring days of streamed (MQTT) readings up to date this often [s]
        (``CONTEST_REFRESH_DAILY_S``, default 60)
    """

    enabled: bool = True
    publish_interval_min: int = 5
    refresh_daily_s: int = 60


@dataclass(frozen=True, slots=True)
class Settings:
    db: DbSettings
    web: WebSettings
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)


def default_sqlite_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def load_settings() -> Settings:
    """Read the settings from the environment (call once, at start)."""
    url = os.environ.get("CONTEST_DB_URL")
    if not url:
        url = default_sqlite_url(_env("CONTEST_DB_PATH", "var/contest.sqlite3"))
    web = WebSettings(
        host=_env("CONTEST_WEB_HOST", "127.0.0.1"),
        port=_env_int("CONTEST_WEB_PORT", 8000),
        secret_key=os.environ.get("CONTEST_SECRET_KEY") or secrets.token_hex(32),
        max_upload_bytes=_env_int("CONTEST_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        upload_dir=_env("CONTEST_UPLOAD_DIR", "var/uploads"),
    )
    defaults = MqttSettings()
    topics = os.environ.get("CONTEST_MQTT_TOPICS")
    mqtt = MqttSettings(
        host=_env("CONTEST_MQTT_HOST", defaults.host),
        port=_env_int("CONTEST_MQTT_PORT", defaults.port),
        username=os.environ.get("CONTEST_MQTT_USERNAME") or None,
        password=os.environ.get("CONTEST_MQTT_PASSWORD") or None,
        client_id=_env("CONTEST_MQTT_CLIENT_ID", defaults.client_id),
        share_group=os.environ.get("CONTEST_MQTT_SHARE_GROUP") or None,
        topics=tuple(t.strip() for t in topics.split(",") if t.strip()) if topics else defaults.topics,
        session_expiry_s=_env_int("CONTEST_MQTT_SESSION_EXPIRY_S", defaults.session_expiry_s),
        queue_size=_env_int("CONTEST_MQTT_QUEUE_SIZE", defaults.queue_size),
        batch_max=_env_int("CONTEST_MQTT_BATCH_MAX", defaults.batch_max),
        batch_wait_ms=_env_int("CONTEST_MQTT_BATCH_WAIT_MS", defaults.batch_wait_ms),
        receive_maximum=_env_int("CONTEST_MQTT_RECEIVE_MAXIMUM", defaults.receive_maximum),
        timezone=_env("CONTEST_MQTT_TIMEZONE", defaults.timezone),
        max_future_s=_env_int("CONTEST_MQTT_MAX_FUTURE_S", defaults.max_future_s),
    )
    scheduler = SchedulerSettings(
        enabled=_env("CONTEST_SCHEDULER_ENABLED", "1").lower() not in ("0", "false", "no"),
        publish_interval_min=_env_int("CONTEST_PUBLISH_INTERVAL_MIN", 5),
        refresh_daily_s=_env_int("CONTEST_REFRESH_DAILY_S", 60),
    )
    return Settings(db=DbSettings(url=url), web=web, mqtt=mqtt, scheduler=scheduler)
