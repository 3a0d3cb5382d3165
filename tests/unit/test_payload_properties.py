"""Properties of the MQTT payload parsers: any topic and bytes give valid readings or a PayloadError with a
reason and a key, never another exception. Also the sample-reading helpers the family test files import."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contest.errors import PayloadError
from contest.readings import DIRECTION_EXPORT, DIRECTION_IMPORT, DeviceReading
from contest.units import energy_factor_to_kwh
from ingest.payloads import FORMATS, detect_format, parse_message

DATA = Path(__file__).resolve().parents[1] / "data" / "mqtt"
SHARED = Path("/work/shared/samples/mqtt")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "mqtt-formats.md"
BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- helpers for the per-family test files -------------------------------------------------------
def sample_message(name: str) -> tuple[str, bytes]:
    """(topic, payload) of a one-message sample: line 1 is the topic (an annotation after two spaces
    and "(" is cut off), everything after the first newline is the payload, byte for byte."""
    first, _, payload = (DATA / name).read_bytes().partition(b"\n")
    topic = first.decode("utf-8")
    cut = topic.find("  (")
    return (topic[:cut] if cut >= 0 else topic).rstrip(), payload


def logged_messages(name: str) -> list[tuple[str, bytes]]:
    """Messages of a sample that logs "topic payload" lines (its line 1 describes the log)."""
    lines = (DATA / name).read_bytes().split(b"\n")[1:]
    messages = []
    for line in lines:
        if line.strip():
            topic, _, payload = line.partition(b" ")
            messages.append((topic.decode("utf-8"), payload))
    return messages


def payload_lines(name: str) -> list[bytes]:
    """Payload lines of a sample whose line 1 is the one topic of several messages (per-value bursts)."""
    return [line for line in (DATA / name).read_bytes().split(b"\n")[1:] if line.strip()]


def refusal(topic: str, payload: bytes, key: str, **kwargs: object) -> PayloadError:
    """The PayloadError parse_message raises for this message; asserts its key and a reason."""
    with pytest.raises(PayloadError) as info:
        parse_message(topic, payload, **kwargs)  # type: ignore[arg-type]
    assert info.value.key == key, info.value.message
    assert info.value.message
    return info.value


Expected = tuple[str, str, float, str, datetime | None]


def assert_readings(actual: list[DeviceReading], expected: list[Expected]) -> None:
    """Readings equal (device, channel, energy_kwh (approx), direction, ts_utc), all registers, in order."""
    assert len(actual) == len(expected), actual
    for got, (device, channel, energy_kwh, direction, ts_utc) in zip(actual, expected, strict=True):
        assert (got.device, got.channel, got.direction) == (device, channel, direction)
        assert got.energy_kwh == pytest.approx(energy_kwh, rel=1e-12, abs=1e-12)
        assert got.ts_utc == ts_utc
        assert got.kind == "register" and got.duration_s is None
        check_reading(got)


def check_reading(reading: object) -> None:
    """The invariants every parsed reading keeps."""
    assert isinstance(reading, DeviceReading)
    assert isinstance(reading.device, str) and reading.device and reading.device.isprintable()
    assert isinstance(reading.channel, str) and reading.channel and reading.channel.isprintable()
    assert isinstance(reading.energy_kwh, float)
    assert math.isfinite(reading.energy_kwh) and reading.energy_kwh >= 0
    assert reading.ts_utc is None or reading.ts_utc.utcoffset() == timedelta(0)
    assert reading.direction in (DIRECTION_IMPORT, DIRECTION_EXPORT)
    assert reading.kind in ("register", "interval")
    if reading.kind == "interval":
        assert reading.duration_s is not None and reading.duration_s > 0


def parse_or_refuse(topic: str, payload: bytes, **kwargs: object) -> list[DeviceReading] | None:
    """parse_message's readings (checked), or None when it refused with PayloadError (anything else fails)."""
    try:
        readings = parse_message(topic, payload, **kwargs)  # type: ignore[arg-type]
    except PayloadError as exc:
        assert exc.message and exc.key.startswith("mqtt."), (exc.key, exc.message)
        # The worker stores reasons as text: printable, bounded, valid UTF-8.
        assert exc.message.isprintable() and len(exc.message) <= 300
        exc.message.encode("utf-8")
        return None
    assert isinstance(readings, list)
    for reading in readings:
        check_reading(reading)
    return readings


# --- the samples themselves -----------------------------------------------------------------------
SAMPLE_FILES = sorted(path.name for path in DATA.glob("*.txt"))


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_copies_are_byte_for_byte(name: str) -> None:
    """The fixtures are the shared captures, unchanged."""
    if not SHARED.is_dir():
        pytest.skip("shared samples not mounted")
    assert (DATA / name).read_bytes() == (SHARED / name).read_bytes()


def test_every_shared_sample_is_copied() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared samples not mounted")
    assert sorted(path.name for path in SHARED.glob("*.txt")) == SAMPLE_FILES


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_sample_has_a_family_test(name: str) -> None:
    """Each captured file is parsed (or refused) by name in one of the per-family test files."""
    tests = [
        path.read_text()
        for path in Path(__file__).parent.glob("test_payload_*.py")
        if path.name != Path(__file__).name
    ]
    assert any(name in text for text in tests), f"{name} is not used by any test_payload_<family>.py"


def _all_sample_messages() -> list[tuple[str, str, bytes]]:
    messages = []
    for name in SAMPLE_FILES:
        topic, payload = sample_message(name)
        messages.append((name, topic, payload))
        for logged_topic, logged_payload in logged_messages(name):
            messages.append((name, logged_topic, logged_payload))
    return messages


SAMPLE_MESSAGES = _all_sample_messages()


@pytest.mark.parametrize(("name", "topic", "payload"), SAMPLE_MESSAGES, ids=lambda v: str(v)[:40])
def test_every_sample_reading_of_the_files_parses_or_is_refused(
    name: str, topic: str, payload: bytes
) -> None:
    """Every way of reading every file (as one message, as logged lines) ends in readings or PayloadError."""
    parse_or_refuse(topic, payload)


# --- arbitrary input --------------------------------------------------------------------------
KNOWN_TOPICS = sorted(
    {fmt.example_topic for fmt in FORMATS}
    | {
        "tele/x/SENSOR",
        "tele/x/STATE",
        "stat/x/STATUS10",
        "home/x/tele/SENSOR",
        "shellies/x/emeter/0/total",
        "shellies/x/emeter/0/energy",
        "shellies/x/relay/0/energy",
        "shellies/x/emeter/0/power",
        "x/events/rpc",
        "x/status/switch:0",
        "x/status/em1data:0",
        "x/status/em:0",
        "emon/n",
        "emon/n/E1",
        "emon/n/use_kwh",
        "emonhub/rx/5/values",
        "zigbee2mqtt/z1",
        "zigbee2mqtt/z1/energy",
        "zigbee2mqtt/bridge/state",
        "node/sensor/total_energy/state",
        "node/sensor/total_energy_wh/state",
        "dsmr/json",
        "dsmr/raw",
        "dsmr/reading/electricity_returned_1",
        "vzlogger/chn0/raw",
        "vzlogger/data/chn0/agg",
        "contest/m/reading",
        "elsewhere/any/topic",
        "a/b/obis_stream",
        "a/1-0:2.8.0*255/value",
        "a/sensor/1/obis/1-0:1.8.0/255/value",
        "homeassistant/sensor/x/energy/config",
        "x/online",
    }
)
_TEXT_TOPICS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60)


@SETTINGS
@given(topic=_TEXT_TOPICS, payload=st.binary(max_size=600))
def test_arbitrary_bytes_on_arbitrary_topics_only_raise_payload_error(topic: str, payload: bytes) -> None:
    parse_or_refuse(topic, payload)


@SETTINGS
@given(topic=st.sampled_from(KNOWN_TOPICS), payload=st.binary(max_size=600))
def test_arbitrary_bytes_on_known_topics_only_raise_payload_error(topic: str, payload: bytes) -> None:
    parse_or_refuse(topic, payload)


_KEYS = st.sampled_from(
    [
        "Time",
        "SML",
        "ENERGY",
        "Total",
        "ExportActive",
        "Total_in",
        "Total_out",
        "Power_curr",
        "StatusSNS",
        "meter",
        "value",
        "unit",
        "ts",
        "kind",
        "duration_s",
        "channel",
        "direction",
        "energy",
        "last_seen",
        "produced_energy",
        "method",
        "params",
        "emdata:0",
        "em1data:0",
        "total_act",
        "total_act_ret",
        "a_total_act_energy",
        "switch:0",
        "aenergy",
        "ret_aenergy",
        "total",
        "E1",
        "use_kwh",
        "time",
        "timestamp",
        "electricity_delivered_1",
        "extra_device_delivered",
        "stat_t",
        "uniq_id",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [
            "kWh",
            "Wh",
            "m3",
            "W",
            "register",
            "interval",
            "NotifyStatus",
            "2026-11-25T10:00:00+01:00",
            "2025-09-22T14:09:59",
            "1970-01-01T00:00:07",
            "m",
            "1.8.0",
            "2.8.0",
            "export",
            "import",
            "",
        ]
    )
    | st.text(max_size=12)
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)


@SETTINGS
@given(topic=st.sampled_from(KNOWN_TOPICS), value=_JSON)
def test_arbitrary_json_on_known_topics_only_raises_payload_error(topic: str, value: object) -> None:
    parse_or_refuse(topic, json.dumps(value).encode())


_VALUES = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.booleans()
    | st.none()
    | st.text(max_size=6)
)
_TIMES = (
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda t: t.isoformat())
    | st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, BERLIN]),
    ).map(lambda t: t.isoformat())
    | _VALUES
)


def _templates(
    v: st.SearchStrategy[object], t: st.SearchStrategy[object]
) -> st.SearchStrategy[tuple[str, object]]:
    """Messages of every JSON format with arbitrary values where the numbers and times go."""
    return st.one_of(
        st.tuples(
            st.just("tele/t/SENSOR"),
            st.fixed_dictionaries(
                {"Time": t, "SML": st.fixed_dictionaries({"Total_in": v, "Total_out": v, "Power_curr": v})}
            ),
        ),
        st.tuples(
            st.just("tele/t/SENSOR"),
            st.fixed_dictionaries(
                {
                    "Time": t,
                    "ENERGY": st.fixed_dictionaries(
                        {"Total": v | st.lists(v, max_size=3), "Today": v, "Power": v}
                    ),
                }
            ),
        ),
        st.tuples(
            st.just("p/events/rpc"),
            st.fixed_dictionaries(
                {
                    "method": st.just("NotifyStatus"),
                    "params": st.fixed_dictionaries(
                        {
                            "ts": t,
                            "emdata:0": st.fixed_dictionaries({"total_act": v, "total_act_ret": v}),
                            "switch:0": st.fixed_dictionaries(
                                {"aenergy": st.fixed_dictionaries({"total": v})}
                            ),
                        }
                    ),
                }
            ),
        ),
        st.tuples(st.just("p/status/em1data:0"), st.fixed_dictionaries({"total_act_energy": v})),
        st.tuples(st.just("zigbee2mqtt/p"), st.fixed_dictionaries({"energy": v, "last_seen": t})),
        st.tuples(st.just("emon/n"), st.fixed_dictionaries({"E1": v, "use_kwh": v, "time": t})),
        st.tuples(
            st.just("dsmr/json"), st.fixed_dictionaries({"timestamp": t, "electricity_delivered_1": v})
        ),
        st.tuples(st.just("vzlogger/chn0/agg"), st.fixed_dictionaries({"timestamp": v, "value": v})),
        st.tuples(
            st.just("contest/m/reading"),
            st.fixed_dictionaries(
                {
                    "meter": st.just("m"),
                    "value": v,
                    "unit": st.sampled_from(["kWh", "Wh", "m3", "W", "x"]),
                    "ts": t,
                },
                optional={
                    "kind": st.sampled_from(["register", "interval"]),
                    "duration_s": v,
                    "channel": st.text(max_size=5),
                },
            ),
        ),
    )


@SETTINGS
@given(message=_templates(_VALUES, _TIMES))
def test_formats_with_arbitrary_values_keep_the_invariants(message: tuple[str, object]) -> None:
    """Huge integers, NaN, negative numbers, bools, text and out-of-range times in the places where
    values and times go: readings stay finite, >= 0 and aware, or the message is refused."""
    topic, value = message
    parse_or_refuse(topic, json.dumps(value).encode(), received_at=datetime(2025, 10, 26, 1, 0, tzinfo=UTC))


_BARE_TOPICS = st.sampled_from(
    [
        "shellies/x/emeter/0/total",
        "shellies/x/relay/0/energy",
        "node/sensor/total_energy/state",
        "emon/n/E1",
        "a/sensor/1/obis/1-0:1.8.0/value",
        "a/1-0:2.8.0*255",
        "zigbee2mqtt/z/energy",
        "dsmr/reading/electricity_delivered_1",
        "vzlogger/chn0/raw",
    ]
)
_NUMBER_TEXT = (
    st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(min_value=-(10**400), max_value=10**400).map(str)
    | st.sampled_from(
        ["1e400", "-0", "0.0", " 12.5\n", "12,5", "1_000", "12.5 kWh", "12.5*Wh", "3 W", "nan", ""]
    )
)


@SETTINGS
@given(topic=_BARE_TOPICS, text=_NUMBER_TEXT)
def test_bare_numbers_keep_the_invariants(topic: str, text: str) -> None:
    readings = parse_or_refuse(topic, text.encode())
    if readings:
        assert len(readings) == 1


@SETTINGS
@given(
    sample=st.sampled_from(SAMPLE_MESSAGES),
    cut=st.integers(min_value=0, max_value=2000),
    position=st.integers(min_value=0, max_value=2000),
    byte=st.integers(min_value=0, max_value=255),
)
def test_damaged_samples_only_raise_payload_error(
    sample: tuple[str, str, bytes], cut: int, position: int, byte: int
) -> None:
    """A sample cut short, or with one byte changed, still parses or is refused."""
    _, topic, payload = sample
    parse_or_refuse(topic, payload[:cut])
    if payload:
        index = position % len(payload)
        parse_or_refuse(topic, payload[:index] + bytes([byte]) + payload[index + 1 :])


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("tele/x/SENSOR", rb'{"Time":"\ud800","SML":{"Total_in":1}}'),
        ("tele/x/SENSOR", rb'{"SML":{"Total_in\u0000":1}}'),
        ("tele/x/SENSOR", rb'{"SML":{"Total_in\ud800":1}}'),
        ("tele/x/SENSOR", rb'{"SML":{"\ud800":"x"}}'),
        ("contest/m/reading", rb'{"meter":"m","value":1,"unit":"kWh","ts":"\ud800"}'),
        ("contest/m/reading", rb'{"meter":"m","value":1,"unit":"kWh","channel":"\ud800"}'),
        ("contest/m/reading", rb'{"meter":"m","value":1,"unit":"kWh","\ud800":1}'),
        ("x\n/events/rpc", rb'{"method":"NotifyStatus","params":{"em1data:0":{"total_act_energy":1}}}'),
    ],
)
def test_names_and_reasons_with_lone_surrogates_or_control_characters(topic: str, payload: bytes) -> None:
    """JSON may smuggle lone surrogates and NUL into keys and texts; they must not reach the database."""
    assert parse_or_refuse(topic, payload) is None


def test_truncated_json_says_truncated() -> None:
    """Every proper prefix of a real JSON payload that still opens an object is "truncated" or "not JSON"."""
    topic, payload = sample_message("tasmota_sml_tele_sensor_german_keys.txt")
    for cut in range(2, len(payload.rstrip()) - 1):
        with pytest.raises(PayloadError) as info:
            parse_message(topic, payload[:cut])
        assert info.value.key in ("mqtt.truncated", "mqtt.not_json"), (cut, info.value.message)
    with pytest.raises(PayloadError) as info:
        parse_message(topic, payload[:120])
    assert info.value.key == "mqtt.truncated"


# --- the generic format as a property -----------------------------------------------------------
_UNITS = st.sampled_from(["kWh", "Wh", "MWh", "kwh", "wh", "Wmin", "m3", "m³"])


@SETTINGS
@given(
    value=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    unit=_UNITS,
    seconds=st.integers(min_value=946684800, max_value=4102444800),
    offset_min=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_generic_value_times_unit_factor_is_the_energy(
    value: float, unit: str, seconds: int, offset_min: int
) -> None:
    """energy_kwh = value x factor(unit); the ts text with any offset names the same instant."""
    instant = datetime.fromtimestamp(seconds, UTC)
    text = instant.astimezone(timezone(timedelta(minutes=offset_min))).isoformat()
    payload = json.dumps({"meter": "m1", "value": value, "unit": unit, "ts": text}).encode()
    (reading,) = parse_message("contest/m1/reading", payload)
    check_reading(reading)
    assert reading.energy_kwh == pytest.approx(value * energy_factor_to_kwh(unit), rel=1e-12)
    assert reading.ts_utc == instant


@SETTINGS
@given(value=st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False), unit=_UNITS)
def test_generic_negative_values_are_refused(value: float, unit: str) -> None:
    payload = json.dumps({"meter": "m1", "value": value, "unit": unit}).encode()
    refusal("contest/m1/reading", payload, "mqtt.negative_energy")


@SETTINGS
@given(local=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)))
def test_tasmota_local_time_is_read_in_the_contest_zone(local: datetime) -> None:
    """A Time without offset is the wall-clock time in tz; with SetOption52's offset it is used as given."""
    local = local.replace(microsecond=0)
    payload = json.dumps({"Time": local.isoformat(), "SML": {"Total_in": 1.5}}).encode()
    (reading,) = parse_message("tele/t1/SENSOR", payload)
    assert reading.ts_utc is not None
    # The first (summer-time) reading of an ambiguous autumn hour, as zoneinfo's fold=0 does.
    assert reading.ts_utc == local.replace(tzinfo=BERLIN).astimezone(UTC)
    aware = local.replace(tzinfo=BERLIN)
    with_offset = json.dumps({"Time": aware.isoformat(), "SML": {"Total_in": 1.5}}).encode()
    (reading,) = parse_message("tele/t1/SENSOR", with_offset, tz="America/New_York")
    assert reading.ts_utc == aware.astimezone(UTC)


# --- the table --------------------------------------------------------------------------------
def test_every_example_topic_routes_to_its_format() -> None:
    """The example topic of each row is claimed by that row (the payload-shape rows need a payload)."""
    shaped = {"availability": b"true"}
    for fmt in FORMATS:
        assert detect_format(fmt.example_topic, shaped.get(fmt.name, b"1")).name == fmt.name


def test_every_format_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for fmt in FORMATS:
        assert f"`{fmt.name}`" in text, f"docs/mqtt-formats.md does not describe {fmt.name}"
