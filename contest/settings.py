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
    secret_key: signs session cookies and CSRF tokens (``CONTEST_SECRET_KEY``, at least
        32 characters, e.g. ``python -c "import secrets; print(secrets.token_hex(32))"``).
        ``contest serve`` refuses to start without one or with a published one (``change-me``);
        only the demo makes a random one per process (everybody is signed out on restart).
    secret_key_given: whether ``secret_key`` came from the environment (not made up for this process)
    max_upload_bytes: largest accepted upload [bytes] (``CONTEST_MAX_UPLOAD_BYTES``, default 20 MB)
    upload_dir: where uploads wait for the household's confirmation (``CONTEST_UPLOAD_DIR``, default
        ``./var/uploads``)
    widget_frame_ancestors: who may show the widget in a frame, as CSP ``frame-ancestors`` sources
        (``CONTEST_WIDGET_FRAME_ANCESTORS``, default ``*``; e.g. ``https://www.stadt.example``). Every
        other page may not be framed at all.
    timeout_keep_alive_s: an idle connection is closed after this long [s]
        (``CONTEST_WEB_KEEP_ALIVE_S``, default 5)
    limit_concurrency: connections and requests served at once; more get 503 at once instead of
        piling up (``CONTEST_WEB_LIMIT_CONCURRENCY``, default 1000)
    header_timeout_s: a client must send its request line and headers within this long [s], or the
        connection is closed (slow-header clients) (``CONTEST_WEB_HEADER_TIMEOUT_S``, default 10)
    max_header_bytes: largest request line plus headers [bytes] (``CONTEST_WEB_MAX_HEADER_BYTES``,
        default 16 KiB)
    """

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    secret_key_given: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_dir: str = "var/uploads"
    widget_frame_ancestors: str = "*"
    timeout_keep_alive_s: int = 5
    limit_concurrency: int = 1000
    header_timeout_s: int = 10
    max_header_bytes: int = 16 * 1024

    def check_secret_key(self) -> None:
        """Refuse to serve with a key anyone could know: none given (a process-local random one would
        sign everybody out on each restart and differ between instances), a published one, or a
        short one. :class:`ConfigError` says how to make one."""
        how = 'make one with: python -c "import secrets; print(secrets.token_hex(32))"'
        if not self.secret_key_given:
            raise ConfigError(f"CONTEST_SECRET_KEY is not set; {how}", key="settings.secret_key_missing")
        lowered = self.secret_key.strip().lower()
        if lowered in KNOWN_SECRET_KEYS or any(
            word in lowered for word in ("change-me", "changeme", "change_me")
        ):
            raise ConfigError(
                f"CONTEST_SECRET_KEY is a published example ({self.secret_key!r}): anyone could sign in as "
                f"any household with it; {how}",
                key="settings.secret_key_known",
            )
        if len(self.secret_key) < MIN_SECRET_KEY_CHARS:
            raise ConfigError(
                f"CONTEST_SECRET_KEY is shorter than {MIN_SECRET_KEY_CHARS} characters; {how}",
                key="settings.secret_key_short",
            )
        if len(set(self.secret_key)) < MIN_SECRET_KEY_DISTINCT:
            raise ConfigError(
                f"CONTEST_SECRET_KEY has fewer than {MIN_SECRET_KEY_DISTINCT} different characters: it is "
                f"a pattern, not a random key; {how}",
                key="settings.secret_key_weak",
            )


#: Secret keys printed in examples and old configurations: whoever has read them could sign cookies.
KNOWN_SECRET_KEYS = frozenset(
    {
        "change-me",
        "changeme",
        "change_me",
        "secret",
        "secret-key",
        "test-secret",
        "dev",
        "development",
        "demo",
    }
)
#: Shortest accepted secret key [characters] (32 hex digits are 128 bits).
MIN_SECRET_KEY_CHARS = 32
#: 32 random hex digits have ~14 different characters (fewer than 8: ~1e-7); "aaaa…" has one.
MIN_SECRET_KEY_DISTINCT = 8


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The MQTT ingest worker (``contest ingest``).

    host, port: the broker (``CONTEST_MQTT_HOST`` 127.0.0.1, ``CONTEST_MQTT_PORT`` 1883)
    username, password: the ingest user of the broker's password file (``CONTEST_MQTT_USERNAME``,
        ``CONTEST_MQTT_PASSWORD``); it may subscribe to every device topic
    client_id: the MQTT client id (``CONTEST_MQTT_CLIENT_ID``); default: the username. The shipped
        broker replaces every client id by the client's username (``use_username_as_clientid``), so
        no device can take over the worker's session; the persistent session belongs to the username,
        and several workers (``share_group``) each need a username of their own
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
    leaderboard_username, leaderboard_password: the broker user that publishes the retained
        leaderboards (``CONTEST_MQTT_LEADERBOARD_USERNAME``, ``…_PASSWORD``); a user of its own, since
        a connection with the worker's username would take over the worker's session; unset: no feed
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
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
    leaderboard_username: str | None = None
    leaderboard_password: str | None = None

    @property
    def session_id(self) -> str:
        """The client id the worker connects with (its username unless one is given)."""
        return self.client_id or self.username or "contest-ingest"


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
        secret_key_given=bool(os.environ.get("CONTEST_SECRET_KEY")),
        max_upload_bytes=_env_int("CONTEST_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        upload_dir=_env("CONTEST_UPLOAD_DIR", "var/uploads"),
        widget_frame_ancestors=_env("CONTEST_WIDGET_FRAME_ANCESTORS", "*"),
        timeout_keep_alive_s=_env_int("CONTEST_WEB_KEEP_ALIVE_S", 5),
        limit_concurrency=_env_int("CONTEST_WEB_LIMIT_CONCURRENCY", 1000),
        header_timeout_s=_env_int("CONTEST_WEB_HEADER_TIMEOUT_S", 10),
        max_header_bytes=_env_int("CONTEST_WEB_MAX_HEADER_BYTES", 16 * 1024),
    )
    defaults = MqttSettings()
    topics = os.environ.get("CONTEST_MQTT_TOPICS")
    mqtt = MqttSettings(
        host=_env("CONTEST_MQTT_HOST", defaults.host),
        port=_env_int("CONTEST_MQTT_PORT", defaults.port),
        username=os.environ.get("CONTEST_MQTT_USERNAME") or None,
        password=os.environ.get("CONTEST_MQTT_PASSWORD") or None,
        client_id=os.environ.get("CONTEST_MQTT_CLIENT_ID") or None,
        share_group=os.environ.get("CONTEST_MQTT_SHARE_GROUP") or None,
        topics=tuple(t.strip() for t in topics.split(",") if t.strip()) if topics else defaults.topics,
        session_expiry_s=_env_int("CONTEST_MQTT_SESSION_EXPIRY_S", defaults.session_expiry_s),
        queue_size=_env_int("CONTEST_MQTT_QUEUE_SIZE", defaults.queue_size),
        batch_max=_env_int("CONTEST_MQTT_BATCH_MAX", defaults.batch_max),
        batch_wait_ms=_env_int("CONTEST_MQTT_BATCH_WAIT_MS", defaults.batch_wait_ms),
        receive_maximum=_env_int("CONTEST_MQTT_RECEIVE_MAXIMUM", defaults.receive_maximum),
        timezone=_env("CONTEST_MQTT_TIMEZONE", defaults.timezone),
        max_future_s=_env_int("CONTEST_MQTT_MAX_FUTURE_S", defaults.max_future_s),
        leaderboard_username=os.environ.get("CONTEST_MQTT_LEADERBOARD_USERNAME") or None,
        leaderboard_password=os.environ.get("CONTEST_MQTT_LEADERBOARD_PASSWORD") or None,
    )
    scheduler = SchedulerSettings(
        enabled=_env("CONTEST_SCHEDULER_ENABLED", "1").lower() not in ("0", "false", "no"),
        publish_interval_min=_env_int("CONTEST_PUBLISH_INTERVAL_MIN", 5),
        refresh_daily_s=_env_int("CONTEST_REFRESH_DAILY_S", 60),
    )
    return Settings(db=DbSettings(url=url), web=web, mqtt=mqtt, scheduler=scheduler)
