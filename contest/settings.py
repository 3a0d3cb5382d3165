"""The one settings object, a section per concern, each setting declared once: its default, its bounds
and its documentation (``msgspec.Meta``). ``load_settings`` reads the environment once, at start, and
checks every value and every rule between values: a bad one stops the start with a message naming
the variable.

A setting's variable is ``CONTEST_<SECTION>_<FIELD>`` (``mqtt.batch_max``: ``CONTEST_MQTT_BATCH_MAX``)
unless its declaration names another (``env``): a few keep the names deployments already use.
Contest rules (baseline method, coverage thresholds) are data on the contest, not settings.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import msgspec.inspect
from msgspec import Meta
from msgspec.structs import force_setattr

from contest.errors import ConfigError

ENV_PREFIX = "CONTEST_"

#: A topic prefix an installation chooses in its device software: levels without wildcards.
_PREFIX = r"^[^/+#\x00]+(?:/[^/+#\x00]+)*$"
#: One topic level (an MQTT shared-subscription group name).
_LEVEL = r"^[^/+#\x00]+$"
#: Written into the table of settings instead of the declared default.
_DEFAULT_DOC = "default_doc"
#: A rule the section's ``__post_init__`` checks, as the table of settings states it.
_RULE = "rule"


def _random_key() -> str:
    return secrets.token_hex(32)


class Section(msgspec.Struct, frozen=True, kw_only=True):
    """A section of the settings; its variables start with ``CONTEST_<env_section>_``."""

    env_section: ClassVar[str]


class DbSettings(Section, frozen=True, kw_only=True):
    """Where data is stored."""

    env_section: ClassVar[str] = "DB"

    url: Annotated[
        str,
        Meta(
            description="SQLAlchemy URL, e.g. `postgresql+psycopg://user:pw@host/db`; wins over the path",
            extra={_DEFAULT_DOC: "a SQLite file at the path"},
        ),
    ] = ""
    path: Annotated[str, Meta(min_length=1, description="SQLite file used when no URL is set")] = (
        "var/contest.sqlite3"
    )

    def __post_init__(self) -> None:
        if not self.url:
            force_setattr(self, "url", default_sqlite_url(self.path))

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class WebSettings(Section, frozen=True, kw_only=True):
    """The HTTP server (``contest serve``).

    secret_key_given: whether ``secret_key`` was given (not made up for this process); derived.
    """

    env_section: ClassVar[str] = "WEB"

    host: Annotated[str, Meta(min_length=1, description="interface `contest serve` listens on")] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535, description="TCP port `contest serve` listens on")] = 8000
    secret_key: Annotated[
        str,
        Meta(
            description="signs session cookies and CSRF tokens; at least 32 characters, e.g. "
            '`python -c "import secrets; print(secrets.token_hex(32))"`. `contest serve` refuses to start '
            "without one or with a published example (`change-me`); only `contest demo` makes a random "
            "one per process (everybody is signed out on restart)",
            extra={
                "env": "CONTEST_SECRET_KEY",
                "secret": True,
                _DEFAULT_DOC: "– (required by `contest serve`)",
            },
        ),
    ] = ""
    secret_key_given: bool = False
    max_upload_bytes: Annotated[
        int,
        Meta(ge=1, description="largest accepted upload [bytes]", extra={"env": "CONTEST_MAX_UPLOAD_BYTES"}),
    ] = 20 * 1024 * 1024
    upload_dir: Annotated[
        str,
        Meta(
            min_length=1,
            description="where uploads wait for the household's confirmation",
            extra={"env": "CONTEST_UPLOAD_DIR"},
        ),
    ] = "var/uploads"
    widget_frame_ancestors: Annotated[
        str,
        Meta(
            min_length=1,
            description="sites that may show the widget in a frame (CSP `frame-ancestors` sources, e.g. "
            "`https://www.stadt.example`); no other page may be framed",
            extra={"env": "CONTEST_WIDGET_FRAME_ANCESTORS"},
        ),
    ] = "*"
    timeout_keep_alive_s: Annotated[
        int,
        Meta(
            ge=1,
            le=3600,
            description="an idle keep-alive connection is closed after this long [s]",
            extra={"env": "CONTEST_WEB_KEEP_ALIVE_S"},
        ),
    ] = 5
    limit_concurrency: Annotated[
        int,
        Meta(
            ge=1,
            description="connections and requests served at once; more get 503 at once instead of piling up",
        ),
    ] = 1000
    header_timeout_s: Annotated[
        int,
        Meta(
            ge=1,
            le=3600,
            description="a client must send its request line and headers within this long [s] (slow clients)",
        ),
    ] = 10
    max_header_bytes: Annotated[
        int, Meta(ge=1024, le=1024 * 1024, description="largest request line plus headers [bytes]")
    ] = 16 * 1024

    def __post_init__(self) -> None:
        force_setattr(self, "secret_key_given", bool(self.secret_key))
        if not self.secret_key:
            force_setattr(self, "secret_key", _random_key())

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


class MqttSettings(Section, frozen=True, kw_only=True):
    """The MQTT ingest worker (``contest ingest``) and the retained-leaderboard feed of ``contest serve``.

    The shipped broker replaces every client id by the client's username (``use_username_as_clientid``),
    so no device can take over the worker's session: the persistent session belongs to the username,
    and several workers (``share_group``) each need a username of their own.
    """

    env_section: ClassVar[str] = "MQTT"

    host: Annotated[str, Meta(min_length=1, description="the broker's host")] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535, description="the broker's TCP port")] = 1883
    username: Annotated[
        str | None,
        Meta(
            description="the ingest user of the broker's password file (one user per worker); it may "
            "subscribe to every device topic"
        ),
    ] = None
    password: Annotated[
        str | None, Meta(description="the ingest user's password", extra={"secret": True})
    ] = None
    client_id: Annotated[
        str | None,
        Meta(
            description="the MQTT client id; the shipped broker replaces it by the username anyway",
            extra={_DEFAULT_DOC: "the username"},
        ),
    ] = None
    share_group: Annotated[
        str | None,
        Meta(
            description="when set, subscribe as `$share/<group>/<topic>` so several workers split the load, "
            "each with its own username",
            extra={_RULE: "one topic level"},
        ),
    ] = None
    topics: Annotated[
        tuple[str, ...],
        Meta(
            description="comma-separated topic filters to subscribe to instead of every topic the payload "
            "formats read (docs/mqtt-formats.md)",
            extra={_DEFAULT_DOC: "every topic of the format table", _RULE: "MQTT topic filters"},
        ),
    ] = ()
    zigbee2mqtt_base_topic: Annotated[
        str,
        Meta(
            pattern=_PREFIX,
            description="Zigbee2MQTT's `mqtt.base_topic` of the installation (its topics, "
            "subscriptions and the broker ACL line `<base>/%u/#`)",
        ),
    ] = "zigbee2mqtt"
    homeassistant_discovery_prefix: Annotated[
        str,
        Meta(pattern=_PREFIX, description="Home Assistant's MQTT `discovery_prefix` (configs are refused)"),
    ] = "homeassistant"
    emonhub_base_topic: Annotated[
        str, Meta(pattern=_PREFIX, description="emonhub's MQTT `basetopic` without the trailing `/`")
    ] = "emon"
    vzlogger_topic: Annotated[str, Meta(pattern=_PREFIX, description="vzlogger's `mqtt.topic`")] = "vzlogger"
    session_expiry_s: Annotated[
        int,
        Meta(
            ge=0,
            le=0xFFFFFFFF,
            description="how long the broker keeps the session (and queues QoS 1 messages) while the worker "
            "is away [s]",
        ),
    ] = 7 * 24 * 3600
    queue_size: Annotated[
        int,
        Meta(
            ge=1,
            description="messages between paho's network thread and the writer; when full, paho stops reading "
            "and the broker holds back",
        ),
    ] = 20_000
    batch_max: Annotated[int, Meta(ge=1, description="messages written and acknowledged per transaction")] = (
        2_000
    )
    batch_wait_ms: Annotated[
        int, Meta(ge=1, le=60_000, description="longest a message waits for its batch to fill [ms]")
    ] = 200
    receive_maximum: Annotated[
        int,
        Meta(
            ge=1,
            le=65535,
            description="unacknowledged QoS 1 messages the broker may have in flight to the worker; must "
            "exceed the batch size, since acknowledgements wait for the batch's commit",
            extra={_RULE: "> `CONTEST_MQTT_BATCH_MAX`"},
        ),
    ] = 10_000
    timezone: Annotated[
        str,
        Meta(
            description="zone of device clocks that send local time without offset (Tasmota) [IANA name]",
            extra={_RULE: "an IANA time zone"},
        ),
    ] = "Europe/Berlin"
    max_future_s: Annotated[
        int, Meta(ge=0, description="readings stamped further than this in the future are rejected [s]")
    ] = 24 * 3600
    leaderboard_username: Annotated[
        str | None,
        Meta(
            description="the broker user that publishes the retained leaderboards (`contest serve`); a user "
            "of its own, since the worker's username would take over the worker's session; unset: no feed",
            extra={_RULE: "not `CONTEST_MQTT_USERNAME`"},
        ),
    ] = None
    leaderboard_password: Annotated[
        str | None, Meta(description="the leaderboard user's password", extra={"secret": True})
    ] = None

    def __post_init__(self) -> None:
        if self.receive_maximum <= self.batch_max:
            raise ConfigError(
                f"{env_name(MqttSettings, 'receive_maximum')}={self.receive_maximum} must exceed "
                f"{env_name(MqttSettings, 'batch_max')}={self.batch_max}: the broker would stop sending "
                "before a batch is full, since acknowledgements wait for the batch's commit",
                key="settings.invalid",
            )
        if self.leaderboard_username and self.leaderboard_username == self.username:
            raise ConfigError(
                f"{env_name(MqttSettings, 'leaderboard_username')} is the worker's "
                f"{env_name(MqttSettings, 'username')} ({self.username!r}): the feed's connection would take "
                "over the worker's session; give it a user of its own",
                key="settings.invalid",
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{env_name(MqttSettings, 'timezone')}={self.timezone!r} is not an IANA time zone "
                "(e.g. Europe/Berlin)",
                key="settings.invalid",
            ) from None
        if self.share_group is not None and not re.match(_LEVEL, self.share_group):
            raise ConfigError(
                f"{env_name(MqttSettings, 'share_group')}={self.share_group!r} is not one topic level "
                "(no '/', '+', '#')",
                key="settings.invalid",
            )
        for topic_filter in self.topics:
            if not is_topic_filter(topic_filter):
                raise ConfigError(
                    f"{env_name(MqttSettings, 'topics')}: {topic_filter!r} is not an MQTT topic filter "
                    "(levels separated by '/', '+' a whole level, '#' only as the last level)",
                    key="settings.invalid",
                )

    @property
    def session_id(self) -> str:
        """The client id the worker connects with (its username unless one is given)."""
        return self.client_id or self.username or "contest-ingest"


def is_topic_filter(text: str) -> bool:
    """Whether ``text`` is a valid MQTT topic filter (MQTT 5, 4.7.1)."""
    if not text or "\x00" in text or len(text.encode("utf-8")) > 65535:
        return False
    levels = text.split("/")
    for i, level in enumerate(levels):
        if ("+" in level and level != "+") or ("#" in level and (level != "#" or i != len(levels) - 1)):
            return False
    return True


class SchedulerSettings(Section, frozen=True, kw_only=True):
    """Background jobs of ``contest serve``. With several instances on one PostgreSQL all may run them:
    a lock lets one work per tick."""

    env_section: ClassVar[str] = "SCHEDULER"

    enabled: Annotated[bool, Meta(description="run the background jobs in this instance")] = True
    publish_interval_min: Annotated[
        int,
        Meta(
            ge=1,
            le=24 * 60,
            description="rescore and publish running contests this often [min]",
            extra={"env": "CONTEST_PUBLISH_INTERVAL_MIN"},
        ),
    ] = 5
    refresh_daily_s: Annotated[
        int,
        Meta(
            ge=1,
            le=24 * 3600,
            description="bring days of streamed (MQTT) readings up to date this often [s]",
            extra={"env": "CONTEST_REFRESH_DAILY_S"},
        ),
    ] = 60


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """All settings: one section per concern."""

    db: DbSettings = msgspec.field(default_factory=DbSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)
    mqtt: MqttSettings = msgspec.field(default_factory=MqttSettings)
    scheduler: SchedulerSettings = msgspec.field(default_factory=SchedulerSettings)


def default_sqlite_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


# --- the declaration, read back: one variable per setting -----------------------------------------
@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: the setting it sets and what its declaration says about it."""

    name: str
    section: str
    field: str
    type: Any
    default: object
    description: str
    bounds: str
    default_doc: str | None
    secret: bool


_SECTIONS: tuple[tuple[str, type[Section]], ...] = (
    ("db", DbSettings),
    ("web", WebSettings),
    ("mqtt", MqttSettings),
    ("scheduler", SchedulerSettings),
)
_BOUNDS = (("ge", ">= {}"), ("gt", "> {}"), ("le", "<= {}"), ("lt", "< {}"), ("min_length", "not empty"))
_PATTERN_DOCS = {_PREFIX: "topic levels without `+`, `#`"}


def _variables_of(section: str, cls: type[Section]) -> Iterator[Variable]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        meta = field.type if isinstance(field.type, msgspec.inspect.Metadata) else None
        description = (meta.extra_json_schema or {}).get("description") if meta else None
        if meta is None or not description:
            continue  # derived (secret_key_given), not a setting
        extra = meta.extra or {}
        constraints = meta.type
        bounds = ", ".join(
            [
                fmt.format(getattr(constraints, attr))
                for attr, fmt in _BOUNDS
                if getattr(constraints, attr, None) is not None
            ]
            + [_PATTERN_DOCS[p] for p in [getattr(constraints, "pattern", None)] if p is not None]
            + ([extra[_RULE]] if _RULE in extra else [])
        )
        default = field.default if field.default is not msgspec.NODEFAULT else None
        name = extra.get("env") or f"{ENV_PREFIX}{cls.env_section}_{field.name.upper()}"
        yield Variable(
            name,
            section,
            field.name,
            constraints,
            default,
            description,
            bounds,
            extra.get(_DEFAULT_DOC),
            bool(extra.get("secret")),
        )


def variables() -> tuple[Variable, ...]:
    """Every setting's environment variable, in declaration order."""
    return tuple(v for section, cls in _SECTIONS for v in _variables_of(section, cls))


def env_name(cls: type[Section], field: str) -> str:
    """The environment variable of a setting (``env_name(MqttSettings, "batch_max")``)."""
    for section, declared in _SECTIONS:
        if declared is cls:
            for variable in _variables_of(section, cls):
                if variable.field == field:
                    return variable.name
    raise KeyError(f"{cls.__name__}.{field} is not a setting")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _from_text(variable: Variable, text: str) -> object:
    """The value of a variable's text, for msgspec to check (numbers stay text: msgspec reads them)."""
    kind = variable.type
    if isinstance(kind, msgspec.inspect.BoolType):
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ConfigError(
            f"{variable.name}={text!r} is not a yes/no value (1, true, yes, on / 0, false, no, off)",
            key="settings.invalid",
            params={"variable": variable.name},
        )
    if isinstance(kind, msgspec.inspect.VarTupleType):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if isinstance(kind, msgspec.inspect.IntType):
        return text.strip()
    return text


_PATH = re.compile(r"^\$\.(\w+)(?:\.(\w+))?")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings from the environment (call once, at start).

    An unset or empty variable leaves the default. Raises ConfigError naming the variable when a
    value is not of its type, out of its bounds, or breaks a rule between settings.
    """
    env = os.environ if environ is None else environ
    found: dict[str, dict[str, object]] = {section: {} for section, _ in _SECTIONS}
    by_path: dict[tuple[str, str], Variable] = {}
    for variable in variables():
        by_path[(variable.section, variable.field)] = variable
        text = env.get(variable.name, "")
        if text != "":
            found[variable.section][variable.field] = _from_text(variable, text)
    try:
        return msgspec.convert(found, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise _config_error(exc, by_path, found) from None


def _config_error(
    exc: msgspec.ValidationError,
    by_path: dict[tuple[str, str], Variable],
    found: dict[str, dict[str, object]],
) -> ConfigError:
    """msgspec's ``Expected `int` >= 1 - at `$.mqtt.port``` as ``CONTEST_MQTT_PORT='0': ...``."""
    text = str(exc)
    reason, _, where = text.rpartition(" - at ")
    match = _PATH.match(where.strip("`"))
    variable = by_path.get((match.group(1), match.group(2) or "")) if match else None
    if variable is None:  # a rule between settings: its message names the variables
        return ConfigError(reason or text, key="settings.invalid")
    value = found[variable.section].get(variable.field)
    shown = "(hidden)" if variable.secret else repr(value)
    if isinstance(variable.type, msgspec.inspect.IntType) and "got `str`" in reason:
        why = "not a whole number"
    elif variable.bounds:
        why = f"allowed: {variable.bounds}"
    else:
        why = reason or text
    return ConfigError(
        f"{variable.name}={shown}: {why}",
        key="settings.invalid",
        params={"variable": variable.name},
    )


# --- the table of settings in README.md -----------------------------------------------------------
def settings_table() -> str:
    """The README's table of settings (Markdown), made from the declaration."""
    lines = ["| variable | default | bounds | meaning |", "|---|---|---|---|"]
    for v in variables():
        if v.default_doc is not None:
            default = v.default_doc
        elif v.default in (None, "", ()):
            default = "–"
        elif isinstance(v.default, bool):
            default = "`1`" if v.default else "`0`"
        else:
            default = f"`{v.default}`"
        lines.append(f"| `{v.name}` | {default} | {v.bounds or '–'} | {v.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m contest.settings: the table for README.md
    print(settings_table(), end="")
