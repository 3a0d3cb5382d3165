"""Settings are declared once (default, bounds, documentation) and read from the environment once, at
start: each variable follows one naming rule or its declared name, a bad value or a broken rule between
settings stops the start with a message naming the variable, and the README's table is the declaration."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from contest.errors import ConfigError
from contest.settings import (
    MqttSettings,
    Settings,
    WebSettings,
    default_sqlite_url,
    env_name,
    load_settings,
    settings_table,
    variables,
)
from ingest.mqtt_worker import installation_formats
from ingest.payloads import DEFAULT_TABLE

ROOT = Path(__file__).resolve().parents[2]
#: Variables the tests and benchmarks read themselves: not settings of the application.
TEST_ONLY = {"CONTEST_OPENDSM_PYTHON", "CONTEST_TEST_PG_URL"}


def test_defaults_are_the_documented_ones() -> None:
    s = load_settings({})
    assert s.db.url == default_sqlite_url("var/contest.sqlite3") and s.db.is_sqlite
    assert (s.web.host, s.web.port, s.web.max_upload_bytes, s.web.upload_dir) == (
        "127.0.0.1",
        8000,
        20 * 1024 * 1024,
        "var/uploads",
    )
    assert (s.web.widget_frame_ancestors, s.web.timeout_keep_alive_s, s.web.limit_concurrency) == (
        "*",
        5,
        1000,
    )
    assert (s.web.header_timeout_s, s.web.max_header_bytes) == (10, 16 * 1024)
    assert not s.web.secret_key_given and len(s.web.secret_key) == 64  # made up for this process
    m = s.mqtt
    assert (m.host, m.port, m.username, m.password, m.client_id, m.share_group) == (
        "127.0.0.1",
        1883,
        None,
        None,
        None,
        None,
    )
    assert (m.session_expiry_s, m.queue_size, m.batch_max, m.batch_wait_ms, m.receive_maximum) == (
        7 * 24 * 3600,
        20_000,
        2_000,
        200,
        10_000,
    )
    assert (m.timezone, m.max_future_s, m.leaderboard_username, m.leaderboard_password) == (
        "Europe/Berlin",
        24 * 3600,
        None,
        None,
    )
    assert m.session_id == "contest-ingest"
    assert (s.scheduler.enabled, s.scheduler.publish_interval_min, s.scheduler.refresh_daily_s) == (
        True,
        5,
        60,
    )
    # The declared defaults are the struct's own: one place.
    assert load_settings({}).mqtt == MqttSettings() and Settings().scheduler == s.scheduler


def test_every_variable_follows_the_rule_or_keeps_its_historical_name() -> None:
    historical = {
        ("web", "secret_key"): "CONTEST_SECRET_KEY",
        ("web", "max_upload_bytes"): "CONTEST_MAX_UPLOAD_BYTES",
        ("web", "upload_dir"): "CONTEST_UPLOAD_DIR",
        ("web", "widget_frame_ancestors"): "CONTEST_WIDGET_FRAME_ANCESTORS",
        ("web", "timeout_keep_alive_s"): "CONTEST_WEB_KEEP_ALIVE_S",
        ("scheduler", "publish_interval_min"): "CONTEST_PUBLISH_INTERVAL_MIN",
        ("scheduler", "refresh_daily_s"): "CONTEST_REFRESH_DAILY_S",
    }
    names = [v.name for v in variables()]
    assert len(names) == len(set(names))
    for v in variables():
        rule = f"CONTEST_{v.section.upper()}_{v.field.upper()}"
        assert v.name == historical.get((v.section, v.field), rule), v
        assert v.description, v.name


def test_every_variable_the_project_mentions_is_a_declared_setting() -> None:
    """README, deploy/, the Dockerfile, docker-compose and the tests name only variables that exist,
    and the names they have always used still do."""
    declared = {v.name for v in variables()}
    files = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "docker-compose.yml", *ROOT.glob("deploy/**/*")]
    files += [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("docs/*.md")]
    mentioned = set()
    for path in files:
        if path.is_file():
            mentioned |= set(re.findall(r"\bCONTEST_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    # CONTEST_TOML is a test constant (a contest file's text), not a variable.
    mentioned -= TEST_ONLY | {"CONTEST_TOML"}
    assert mentioned <= declared, mentioned - declared
    assert {
        "CONTEST_DB_URL",
        "CONTEST_DB_PATH",
        "CONTEST_WEB_HOST",
        "CONTEST_WEB_PORT",
        "CONTEST_SECRET_KEY",
        "CONTEST_MAX_UPLOAD_BYTES",
        "CONTEST_UPLOAD_DIR",
        "CONTEST_WIDGET_FRAME_ANCESTORS",
        "CONTEST_WEB_KEEP_ALIVE_S",
        "CONTEST_WEB_LIMIT_CONCURRENCY",
        "CONTEST_WEB_HEADER_TIMEOUT_S",
        "CONTEST_WEB_MAX_HEADER_BYTES",
        "CONTEST_MQTT_HOST",
        "CONTEST_MQTT_PORT",
        "CONTEST_MQTT_USERNAME",
        "CONTEST_MQTT_PASSWORD",
        "CONTEST_MQTT_CLIENT_ID",
        "CONTEST_MQTT_SHARE_GROUP",
        "CONTEST_MQTT_TOPICS",
        "CONTEST_MQTT_SESSION_EXPIRY_S",
        "CONTEST_MQTT_QUEUE_SIZE",
        "CONTEST_MQTT_BATCH_MAX",
        "CONTEST_MQTT_BATCH_WAIT_MS",
        "CONTEST_MQTT_RECEIVE_MAXIMUM",
        "CONTEST_MQTT_TIMEZONE",
        "CONTEST_MQTT_MAX_FUTURE_S",
        "CONTEST_MQTT_LEADERBOARD_USERNAME",
        "CONTEST_MQTT_LEADERBOARD_PASSWORD",
        "CONTEST_SCHEDULER_ENABLED",
        "CONTEST_PUBLISH_INTERVAL_MIN",
        "CONTEST_REFRESH_DAILY_S",
    } <= declared


def test_each_variable_sets_its_setting() -> None:
    env = {
        "CONTEST_DB_URL": "postgresql+psycopg://u:p@db/contest",
        "CONTEST_WEB_HOST": "0.0.0.0",
        "CONTEST_WEB_PORT": "8080",
        "CONTEST_SECRET_KEY": "9f2c41d8a07be63d5c1f8e24b9a7d063",
        "CONTEST_MAX_UPLOAD_BYTES": "1000",
        "CONTEST_UPLOAD_DIR": "/srv/up",
        "CONTEST_WIDGET_FRAME_ANCESTORS": "https://www.stadt.example",
        "CONTEST_WEB_KEEP_ALIVE_S": "7",
        "CONTEST_WEB_LIMIT_CONCURRENCY": "50",
        "CONTEST_WEB_HEADER_TIMEOUT_S": "3",
        "CONTEST_WEB_MAX_HEADER_BYTES": "8192",
        "CONTEST_MQTT_HOST": "mosquitto",
        "CONTEST_MQTT_PORT": " 8883 ",
        "CONTEST_MQTT_USERNAME": "contest-ingest-2",
        "CONTEST_MQTT_PASSWORD": "pw",
        "CONTEST_MQTT_CLIENT_ID": "cid",
        "CONTEST_MQTT_SHARE_GROUP": "contest",
        "CONTEST_MQTT_TOPICS": "contest/#, tele/+/SENSOR,,",
        "CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC": "haus/zigbee",
        "CONTEST_MQTT_SESSION_EXPIRY_S": "60",
        "CONTEST_MQTT_QUEUE_SIZE": "10",
        "CONTEST_MQTT_BATCH_MAX": "5",
        "CONTEST_MQTT_BATCH_WAIT_MS": "50",
        "CONTEST_MQTT_RECEIVE_MAXIMUM": "6",
        "CONTEST_MQTT_TIMEZONE": "Europe/Amsterdam",
        "CONTEST_MQTT_MAX_FUTURE_S": "0",
        "CONTEST_MQTT_LEADERBOARD_USERNAME": "contest-leaderboard",
        "CONTEST_SCHEDULER_ENABLED": "no",
        "CONTEST_PUBLISH_INTERVAL_MIN": "15",
        "CONTEST_REFRESH_DAILY_S": "30",
    }
    s = load_settings(env)
    assert s.db.url == env["CONTEST_DB_URL"] and not s.db.is_sqlite
    assert (s.web.host, s.web.port, s.web.secret_key, s.web.secret_key_given) == (
        "0.0.0.0",
        8080,
        env["CONTEST_SECRET_KEY"],
        True,
    )
    assert (s.web.max_upload_bytes, s.web.upload_dir, s.web.widget_frame_ancestors) == (
        1000,
        "/srv/up",
        "https://www.stadt.example",
    )
    assert (s.web.timeout_keep_alive_s, s.web.limit_concurrency, s.web.header_timeout_s) == (7, 50, 3)
    assert s.web.max_header_bytes == 8192
    m = s.mqtt
    assert (m.host, m.port, m.username, m.password, m.client_id, m.share_group) == (
        "mosquitto",
        8883,
        "contest-ingest-2",
        "pw",
        "cid",
        "contest",
    )
    assert m.topics == ("contest/#", "tele/+/SENSOR")
    assert m.zigbee2mqtt_base_topic == "haus/zigbee"
    assert (m.session_expiry_s, m.queue_size, m.batch_max, m.batch_wait_ms, m.receive_maximum) == (
        60,
        10,
        5,
        50,
        6,
    )
    assert (m.timezone, m.max_future_s, m.leaderboard_username) == (
        "Europe/Amsterdam",
        0,
        "contest-leaderboard",
    )
    assert (s.scheduler.enabled, s.scheduler.publish_interval_min, s.scheduler.refresh_daily_s) == (
        False,
        15,
        30,
    )


def test_an_empty_variable_keeps_the_default_and_the_path_gives_a_sqlite_url(tmp_path: Path) -> None:
    s = load_settings(
        {"CONTEST_WEB_PORT": "", "CONTEST_DB_URL": "", "CONTEST_DB_PATH": str(tmp_path / "c.db")}
    )
    assert s.web.port == 8000
    assert s.db.url == default_sqlite_url(tmp_path / "c.db")
    assert not load_settings({"CONTEST_SECRET_KEY": ""}).web.secret_key_given
    for yes in ("1", "true", "Yes", "ON"):
        assert load_settings({"CONTEST_SCHEDULER_ENABLED": yes}).scheduler.enabled
    for no in ("0", "false", "No", "off"):
        assert not load_settings({"CONTEST_SCHEDULER_ENABLED": no}).scheduler.enabled


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONTEST_MQTT_PORT": "abc"}, "CONTEST_MQTT_PORT='abc'"),
        ({"CONTEST_MQTT_PORT": "0"}, "CONTEST_MQTT_PORT='0'"),
        ({"CONTEST_WEB_PORT": "70000"}, "CONTEST_WEB_PORT='70000'"),
        ({"CONTEST_WEB_KEEP_ALIVE_S": "-1"}, "CONTEST_WEB_KEEP_ALIVE_S"),
        ({"CONTEST_WEB_MAX_HEADER_BYTES": "10"}, "CONTEST_WEB_MAX_HEADER_BYTES"),
        ({"CONTEST_PUBLISH_INTERVAL_MIN": "0"}, "CONTEST_PUBLISH_INTERVAL_MIN"),
        ({"CONTEST_MQTT_RECEIVE_MAXIMUM": "70000"}, "CONTEST_MQTT_RECEIVE_MAXIMUM"),
        ({"CONTEST_SCHEDULER_ENABLED": "maybe"}, "CONTEST_SCHEDULER_ENABLED='maybe'"),
        ({"CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC": "zigbee2mqtt/+"}, "CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC"),
        ({"CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC": "/z2m"}, "CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC"),
        ({"CONTEST_MQTT_TIMEZONE": "Mars/Olympus_Mons"}, "CONTEST_MQTT_TIMEZONE='Mars/Olympus_Mons'"),
        ({"CONTEST_MQTT_TOPICS": "tele/#/SENSOR"}, "CONTEST_MQTT_TOPICS"),
        ({"CONTEST_MQTT_TOPICS": "tele/dev+/SENSOR"}, "CONTEST_MQTT_TOPICS"),
        ({"CONTEST_MQTT_SHARE_GROUP": "a/b"}, "CONTEST_MQTT_SHARE_GROUP"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert named in info.value.message, info.value.message


def test_rules_between_settings_are_checked_not_only_written_down() -> None:
    """ "receive_maximum must exceed batch_max" was prose; now it stops the start."""
    assert load_settings({"CONTEST_MQTT_BATCH_MAX": "5000"}).mqtt.batch_max == 5000  # < 10000: fine
    with pytest.raises(ConfigError) as info:
        load_settings({"CONTEST_MQTT_BATCH_MAX": "10000"})
    message = info.value.message
    assert "CONTEST_MQTT_RECEIVE_MAXIMUM=10000" in message and "CONTEST_MQTT_BATCH_MAX=10000" in message
    with pytest.raises(ConfigError, match="CONTEST_MQTT_RECEIVE_MAXIMUM"):
        load_settings({"CONTEST_MQTT_RECEIVE_MAXIMUM": "100"})
    with pytest.raises(ConfigError, match="CONTEST_MQTT_LEADERBOARD_USERNAME"):
        load_settings(
            {"CONTEST_MQTT_USERNAME": "contest-ingest", "CONTEST_MQTT_LEADERBOARD_USERNAME": "contest-ingest"}
        )
    # Settings made in code keep the same rules.
    with pytest.raises(ConfigError):
        MqttSettings(batch_max=20_000)
    assert env_name(MqttSettings, "batch_max") == "CONTEST_MQTT_BATCH_MAX"


def test_a_secret_value_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"CONTEST_MQTT_PASSWORD": "s3cret", "CONTEST_MQTT_PORT": "x"})
    assert "s3cret" not in info.value.message
    assert WebSettings(secret_key="x" * 40).secret_key_given


def test_the_worker_subscribes_to_the_format_table_unless_staff_list_topics() -> None:
    assert MqttSettings().topics == ()
    assert installation_formats(MqttSettings()).subscriptions == DEFAULT_TABLE.subscriptions
    table = installation_formats(load_settings({"CONTEST_MQTT_ZIGBEE2MQTT_BASE_TOPIC": "haus/zigbee"}).mqtt)
    assert "haus/zigbee/+" in table.subscriptions and "zigbee2mqtt/+" not in table.subscriptions
    assert "haus/zigbee/%u/#" in table.write_patterns


def test_the_readme_table_is_the_declaration() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- settings table: begin -->\n", 1)[1].split("<!-- settings table: end -->", 1)[0]
    assert table == settings_table(), "regenerate it: python -m contest.settings"


def test_the_command_stops_at_a_bad_setting_with_a_message_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "ingest"],
        env={
            "PATH": "/usr/bin:/bin",
            "CONTEST_MQTT_PORT": "eighty",
            "CONTEST_DB_PATH": str(tmp_path / "x.db"),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "CONTEST_MQTT_PORT='eighty'" in result.stderr and "Traceback" not in result.stderr
