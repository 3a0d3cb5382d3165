"""A device's register is its own series: a smart-meter reader counts from its own zero, not from the
utility meter's display. Binding it to a meter with uploaded readings starts a new register series, so
"went backwards" is judged within one series only and the household's consumption stays continuous
across the bind; uploads for the device's time are refused with a reason; unbinding ends the series."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli.main import app
from contest.config import parse_contest_config
from contest.consumption import load_readings
from contest.contests import ContestService
from contest.db import Database
from contest.errors import ConfigError
from contest.settings import MqttSettings
from ingest.importer import CsvImporter
from ingest.mqtt_worker import Message, MqttWorker
from scoring import schema as S
from tests import stored as readback
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, mosquitto
from tests.mqtt_publish import Publisher

BERLIN = ZoneInfo("Europe/Berlin")


def _toml(today: dt.date) -> str:
    """A contest whose competition runs around ``today`` (the broker test lives in real time)."""
    return f"""
[contest]
slug = "serie"
name = "Serie"
baseline = {{ start = {today - dt.timedelta(days=120)}, end = {today - dt.timedelta(days=91)} }}
competition = {{ start = {today - dt.timedelta(days=90)}, end = {today + dt.timedelta(days=30)} }}
[[households]]
pseudonym = "Haus"
meters = [{{ id = "M1", kind = "register" }}]
[[households]]
pseudonym = "Wohnung"
meters = [{{ id = "M2", kind = "register" }}]
"""


@pytest.fixture
def series_db(db: Database) -> Database:
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(_toml(dt.date(2026, 11, 29))))
    return db


@pytest.fixture
def broker() -> Iterator[Broker]:
    with mosquitto({"shellyem-A1": "pw-shelly"}) as b:
        yield b


def _csv(rows: list[tuple[dt.datetime, float]]) -> bytes:
    """Register readings as a household uploads them (German dialect, local time)."""
    lines = ["Datum;Zählerstand (kWh)"]
    lines += [f"{ts.astimezone(BERLIN):%d.%m.%Y %H:%M};" + f"{v:.2f}".replace(".", ",") for ts, v in rows]
    return ("\n".join(lines) + "\n").encode()


def _wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_a_shelly_bound_to_a_meter_with_manual_readings_is_stored_not_rejected(
    broker: Broker, db: Database
) -> None:
    """The bug as found: every Shelly reading was "register went backwards from 13843 to 1234 kWh"."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(_toml(now.date())))
    # The household typed in its display: 10 kWh a day, 13843 kWh an hour ago.
    display = [(now - dt.timedelta(days=d), 13843.0 - 10 * d) for d in (4, 3, 2, 1)]
    report = CsvImporter(db).import_bytes(_csv([*display, (now - dt.timedelta(hours=1), 13843.0)]), "M1")
    assert report.rows_stored == 5
    bound = readback.bind(db, "M1", "shellyem-A1")
    assert bound.series_start is not None  # the meter has readings: the Shelly's register is a new series
    worker = MqttWorker(
        db,
        MqttSettings(
            host=broker.host,
            port=broker.port,
            username=INGEST_USER,
            password=INGEST_PASSWORD,
            client_id="ingest-series",
            batch_wait_ms=50,
        ),
    )
    worker.start()
    try:
        assert worker.connected.wait(10)
        shelly = Publisher(broker.host, broker.port, "shellyem-A1", "pw-shelly", "shellyem-A1")
        # Shelly Gen1 publishes its own counter in Wh, without a time (the worker stamps the receive time).
        for wh in (1_234_000, 1_234_400, 1_235_000):
            shelly.publish_all([("shellies/shellyem-A1/emeter/0/total", str(wh).encode())])
            time.sleep(0.05)
        shelly.close()
        assert _wait_for(lambda: worker.stats.received >= 3)
    finally:
        worker.stop()
    assert worker.stats.rejected == 0, readback.rejected_stream(db, 10)
    assert readback.count_readings(db, "M1") == 5 + 3
    readback.refresh_daily(db)
    daily = readback.daily(db, "M1")
    # Consumption stays continuous: the display's 40 kWh plus the Shelly's 1 kWh; the step between the
    # two counters (13843 -> 1234 kWh) is neither negative consumption nor a rejection.
    assert (daily[S.ENERGY_KWH] >= 0).all()
    assert daily[S.ENERGY_KWH].sum() == pytest.approx(40.0 + 1.0)
    seen = readback.last_seen(db, "shellyem-A1")
    assert [(m.channel, m.meter, m.rejection_key) for m in seen] == [("emeter/0/total", "M1", None)]
    assert seen[0].energy_kwh == pytest.approx(1235.0)


def _deliver(worker: MqttWorker, device: str, ts: dt.datetime, value_kwh: float) -> None:
    payload = json.dumps({"meter": device, "ts": ts.isoformat(), "value": value_kwh, "unit": "kWh"}).encode()
    worker.write_batch([Message(f"contest/{device}/reading", payload, 1, 0, ts)])


def test_consumption_stays_continuous_across_the_bind_and_uploads_are_refused_while_bound(
    series_db: Database,
) -> None:
    db = series_db
    day = lambda d, h=0: dt.datetime(2026, 11, d, h, tzinfo=BERLIN)  # noqa: E731
    # Display readings at midnight, 10 kWh a day from 1 November, and 5 kWh more at noon on the 10th.
    display = [(day(d), 13800.0 + 10 * (d - 1)) for d in range(1, 11)] + [(day(10, 12), 13895.0)]
    CsvImporter(db).import_bytes(_csv(display), "M1")
    readback.bind(db, "M1", "reader-1", at=day(10, 12))
    # The reader's own counter stands far above the display (no step between them may count).
    worker = MqttWorker(db, MqttSettings(port=1), clock=lambda: day(12, 1))
    for hour in range(0, 37):
        ts = day(10, 12) + dt.timedelta(hours=hour, seconds=1)
        _deliver(worker, "reader-1", ts, 20000.0 + hour * 10 / 24)
    assert worker.stats.rejected == 0 and worker.stats.stored == 37
    readback.refresh_daily(db)
    by_day = {row[S.DAY]: row for row in readback.daily(db, "M1").to_dict("records")}
    for d in range(1, 12):  # the 10th: 5 kWh on the display before noon, 5 kWh on the reader after
        assert by_day[dt.date(2026, 11, d)][S.ENERGY_KWH] == pytest.approx(10.0, rel=1e-4), d
        assert by_day[dt.date(2026, 11, d)][S.COVERAGE_FRACTION] == pytest.approx(1.0, rel=1e-4), d
    # The same result as a rebuild from all readings (the streamed days were computed incrementally).
    before = readback.daily(db, "M1")
    readback.rebuild_all_daily(db, "M1")
    assert readback.daily(db, "M1").equals(before)

    # An upload for the device's time is refused with its reason; one for before the bind is taken.
    late = CsvImporter(db).import_bytes(_csv([(day(11), 13905.0), (day(9, 6), 13882.5)]), "M1")
    assert late.rows_stored == 1 and late.rows_rejected == 1
    assert late.rejections[0].key == "csv.meter_read_by_device"
    assert late.rejections[0].reason == (
        "meter M1 is read by the device reader-1 after 10.11.2026 12:00: readings of that time come from "
        "the device, not from uploads"
    )
    # A second device cannot feed the same meter at the same time.
    with pytest.raises(ConfigError, match="read by the device 'reader-1'"):
        readback.bind(db, "M1", "reader-2")

    # Unbinding ends the device's series: uploads are taken again from then on, as a series of their own.
    assert readback.unbind(db, "M1", "reader-1", at=day(12, 2)) == 1
    series = readback.import_context(db, "M1").series
    assert [(s.starts_at, s.device) for s in series] == [
        (None, None),
        (day(10, 12), "reader-1"),
        (day(12, 2), None),
    ]
    again = CsvImporter(db).import_bytes(_csv([(day(12, 12), 13925.0), (day(13), 13930.0)]), "M1")
    assert again.rows_stored == 2 and again.rows_rejected == 0
    assert all(v >= 0 for v in readback.daily(db, "M1")[S.ENERGY_KWH])
    assert readback.daily(db, "M1")[S.ENERGY_KWH].max() < 11.0


def test_a_binding_without_readings_is_undone_by_unbinding(series_db: Database) -> None:
    db = series_db
    # An empty meter: the device's register becomes its only series (its past readings count too).
    assert readback.bind(db, "M2", "reader-2").series_start is None
    assert readback.unbind(db, "M2", "reader-2") == 1
    assert readback.import_context(db, "M2").series == ()  # nothing was read: back to uploads
    CsvImporter(db).import_bytes(_csv([(dt.datetime(2026, 11, 1, tzinfo=BERLIN), 500.0)]), "M2")
    bound = readback.bind(db, "M2", "reader-2")
    assert bound.series_start is not None
    # A device reading from before its binding belongs to the display's series: rejected with why.
    worker = MqttWorker(db, MqttSettings(port=1))
    _deliver(worker, "reader-2", bound.series_start - dt.timedelta(hours=1), 3.0)
    rejected = readback.rejected_stream(db, 5)
    assert [r.key for r in rejected] == ["mqtt.before_binding"]
    assert "before device 'reader-2' was bound to meter M2" in rejected[0].reason


def test_vzlogger_values_take_the_unit_of_their_binding(series_db: Database) -> None:
    db = series_db
    with pytest.raises(ConfigError, match="unit 'W'") as refused:
        readback.bind(db, "M2", "vzlogger/keller", "chn0/agg", unit="W")  # power, not energy
    assert refused.value.key == "binding.unit"
    # vzlogger sends bare numbers: read as kWh unless the binding says the channel counts Wh (SML).
    assert readback.bind(db, "M2", "vzlogger/keller", "chn0/agg", unit="Wh").unit == "Wh"
    worker = MqttWorker(db, MqttSettings(port=1))
    now = dt.datetime.now(dt.UTC)
    stamp_ms = int(now.timestamp() * 1000)
    body = json.dumps({"timestamp": stamp_ms, "value": 3469015.0}).encode()
    worker.write_batch([Message("vzlogger/keller/chn0/agg", body, 1, 0, now)])
    assert worker.stats.stored == 1, readback.rejected_stream(db, 5)
    with db.session() as session:
        stored = load_readings(session, readback.import_context(db, "M2").meter_id)
    assert stored[S.ENERGY_KWH].tolist() == [pytest.approx(3469.015)]
    # A payload that states its own unit keeps it (an OBIS topic value "12.5 kWh" is not rescaled).
    readback.bind(db, "M1", "smartmeter/lesekopf", "1.8.0", unit="Wh")
    worker = MqttWorker(db, MqttSettings(port=1))  # a worker rereads bindings every few seconds
    worker.write_batch([Message("smartmeter/lesekopf/1-0:1.8.0/value", b"12.5 kWh", 2, 0, now)])
    with db.session() as session:
        stored = load_readings(session, readback.import_context(db, "M1").meter_id)
    assert stored[S.ENERGY_KWH].tolist() == [pytest.approx(12.5)]


def test_meter_bind_reports_the_devices_last_message(
    series_db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(app, ["meter", "bind", "M2", "--device", "nie-gesehen"])
    assert result.exit_code == 0, result.output
    assert "No message from this device seen yet" in result.output
    # A reader publishes before staff bind it: its message is kept as rejected, with the reason.
    now = dt.datetime.now(dt.UTC)
    body = json.dumps({"timestamp": int(now.timestamp() * 1000), "value": 812400.0}).encode()
    MqttWorker(series_db, MqttSettings(port=1)).write_batch(
        [Message("vzlogger/vz7/chn0/raw", body, 1, 0, now)]
    )
    result = runner.invoke(
        app, ["meter", "bind", "M1", "--device", "vzlogger/vz7", "--channel", "chn0/raw", "--unit", "Wh"]
    )
    assert result.exit_code == 0, result.output
    assert "feeds meter M1 (values without a unit are Wh)" in result.output
    assert "Last message on chn0/raw" in result.output and "topic vzlogger/vz7/chn0/raw" in result.output
    assert "812400.000 kWh" in result.output  # as it was read then: before the binding said Wh
    assert "rejected: device 'vzlogger/vz7' channel 'chn0/raw' is not bound to a meter" in result.output
    assert "(mqtt.unbound_device)" in result.output
    bad = runner.invoke(app, ["meter", "bind", "M1", "--device", "other", "--unit", "°C"])
    assert bad.exit_code != 0 and "unit" in bad.output


def test_a_device_counter_restarting_near_zero_is_a_reset_as_in_files(series_db: Database) -> None:
    """Issue 12: the worker took only a fall to below 1 % of the last value for a reset, files also one
    to below 1 kWh; so a reader restarting at 0.8 kWh after 50 kWh was refused over MQTT and kept from
    a file. Both now judge by the one register rule (scoring.registers)."""
    db = series_db
    assert readback.bind(db, "M2", "reader-9").series_start is None  # an empty meter: the device's series
    t0 = dt.datetime(2026, 11, 20, 8, tzinfo=BERLIN)
    worker = MqttWorker(db, MqttSettings(port=1), clock=lambda: t0 + dt.timedelta(days=1))
    for hour, kwh in enumerate((50.0, 50.5, 0.8, 1.3)):
        _deliver(worker, "reader-9", t0 + dt.timedelta(hours=hour), kwh)
    assert worker.stats.rejected == 0 and worker.stats.stored == 4, readback.rejected_stream(db, 5)
    _deliver(worker, "reader-9", t0 + dt.timedelta(hours=4), 1.1)  # below 1.3 and no restart: refused
    assert [r.key for r in readback.rejected_stream(db, 5)] == ["mqtt.register_backwards"]
    readback.refresh_daily(db)
    # 50 -> 50.5 and 0.8 -> 1.3 count; the restart's hour counts nothing.
    assert readback.daily(db, "M2")[S.ENERGY_KWH].sum() == pytest.approx(1.0)
    # The same readings from a file: the restart is kept there too.
    body = _csv([(t0 + dt.timedelta(hours=h), v) for h, v in enumerate((50.0, 50.5, 0.8, 1.3))])
    report = CsvImporter(db).import_bytes(body, "M1")
    assert report.rows_stored == 4 and report.rejections == ()
