"""Golden tests: the real exports in tests/data/csv (copied byte for byte from shared/samples) import with
the kWh totals computed by hand from the visible values of each file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contest.errors import CsvFormatError
from contest.units import DEFAULT_GAS
from ingest.csv_parse import ParsedCsv, parse_csv, read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"
SHARED = Path("/work/shared/samples/csv")

NOE = DATA / "at_netz_noe_15min_interval_endstamp.csv"
DSMR = DATA / "dsmr_reader_export_hour_dst_offsets.csv"
SHELLY = DATA / "shelly_3em_gen1_em_data_phaseA_utc_10min_Wh.csv"
SMA = DATA / "sma_sunnyportal_webui_daily_cumulative_Wh.csv"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def assert_consistent(parsed: ParsedCsv) -> None:
    """Every data row is either a reading or a rejection, readings are sorted and UTC."""
    readings = parsed.readings
    assert parsed.rows_read == len(readings) + len(parsed.rejections)
    assert str(readings["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert readings["ts_utc"].is_monotonic_increasing
    assert readings["line_no"].is_unique
    assert not set(readings["line_no"]) & {r.line_no for r in parsed.rejections}


@pytest.mark.parametrize("path", [NOE, DSMR, SHELLY, SMA], ids=lambda p: p.name)
def test_copies_are_byte_for_byte(path: Path) -> None:
    """The fixtures are the real exports, unchanged (BOMs kept)."""
    if not (SHARED / path.name).exists():
        pytest.skip("shared samples not mounted")
    assert path.read_bytes() == (SHARED / path.name).read_bytes()


def test_netz_noe_end_stamps_are_shifted_to_interval_starts() -> None:
    """Netz NÖ stamps the END of each 15-minute interval ("Messzeitpunkt"); readings start 15 min earlier."""
    parsed = read_csv(NOE)
    assert_consistent(parsed)
    readings = parsed.readings
    assert readings["energy_kwh"].sum() == pytest.approx(0.063 + 0.083 + 0.092 + 0.078)
    assert len(readings) == 4 and parsed.rejections == ()
    # 01.01.2025 00:15 local (+01:00) ends the first interval, which starts 2024-12-31 23:00 UTC.
    assert readings["ts_utc"].iloc[0] == utc("2024-12-31 23:00")
    assert readings["ts_utc"].iloc[-1] == utc("2024-12-31 23:45")
    assert (readings["duration_s"] == 900).all()
    assert list(readings["line_no"]) == [2, 3, 4, 5]
    dialect = parsed.dialect
    assert (dialect.separator, dialect.decimal, dialect.encoding) == (";", ",", "utf-8")
    assert dialect.timestamp_columns == ("Messzeitpunkt",)
    assert dialect.date_format == "%d.%m.%Y %H:%M"
    assert dialect.timestamp_marks == "end"
    assert dialect.value_columns == ("Verbrauch (kWh)",)
    assert (dialect.unit, dialect.kind, dialect.interval_s) == ("kWh", "interval", 900.0)
    ignored = dict(dialect.ignored_columns)
    assert "quality" in ignored["Qualität"]
    assert "community" in ignored["Restnetzbezug (kWh)"]
    assert "Eigendeckung (kWh) 00000000734" in ignored


def test_dsmr_reader_sums_both_tariffs_for_electricity() -> None:
    """dsmr-reader: Electricity 1 + 2 are consumption [kWh]; the returned columns and Gas are ignored."""
    parsed = read_csv(DSMR)
    assert_consistent(parsed)
    readings = parsed.readings
    electricity_1 = (
        0.196
        + 0.224
        + 0.189
        + 0.162
        + 0.207
        + 0.248
        + 0.138
        + 0.129
        + 0.126
        + 0.123
        + 0.122
        + 0.184
        + 0.32
        + 0.209
        + 0.234
        + 0.21
        + 0.207
        + 0.515
        + 0.537
        + 0.334
        + 0.204
    )
    electricity_2 = 0.0 * 21
    assert readings["energy_kwh"].sum() == pytest.approx(electricity_1 + electricity_2)
    assert len(readings) == 21 and parsed.rejections == ()
    dialect = parsed.dialect
    assert dialect.value_columns == (
        "Electricity 1 (Dutch Users: Low Tariff)",
        "Electricity 2 (Dutch Users: Normal Tariff)",
    )
    assert (dialect.unit, dialect.kind, dialect.timestamp_marks) == ("kWh", "interval", "start")
    assert dialect.date_format == "ISO8601"
    assert dialect.interval_s == 3600.0
    ignored = dict(dialect.ignored_columns)
    assert set(ignored) == {
        "Gas",
        "Electricity 1 Returned (Dutch Users: Low Tariff)",
        "Electricity 2 Returned (Dutch Users: Normal Tariff)",
    }


def test_dsmr_reader_offsets_decide_the_dst_hours() -> None:
    """The explicit offsets make the autumn 02:00 appear twice as two distinct UTC hours, and spring
    jumps from 01:00+01:00 to 03:00+02:00 without a gap in UTC."""
    readings = read_csv(DSMR).readings.set_index("ts_utc")["energy_kwh"]
    assert readings[utc("2024-03-31 00:00")] == pytest.approx(0.126)  # 01:00+01:00
    assert readings[utc("2024-03-31 01:00")] == pytest.approx(0.123)  # 03:00+02:00
    assert readings[utc("2024-10-27 00:00")] == pytest.approx(0.207)  # 02:00+02:00
    assert readings[utc("2024-10-27 01:00")] == pytest.approx(0.515)  # 02:00+01:00


def test_dsmr_reader_gas_column_for_carrier_gas() -> None:
    """carrier="gas": the Gas column [m³ per hour] converted with Zustandszahl x Brennwert (defaults)."""
    parsed = read_csv(DSMR, carrier="gas")
    assert_consistent(parsed)
    volume_m3 = 0.032 + 0.056 + 0.026 + 0.029 + 0.01 + 0.012 + 0 + 0.013 + 0.012 + 0.006 + 0 * 11
    expected = volume_m3 * DEFAULT_GAS.zustandszahl * DEFAULT_GAS.brennwert_kwh_per_m3
    assert expected == pytest.approx(volume_m3 * 0.9529 * 10.0)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(expected)
    assert parsed.dialect.value_columns == ("Gas",)
    assert parsed.dialect.unit == "m³"
    assert "carrier is gas" in dict(parsed.dialect.ignored_columns)["Electricity 1 (Dutch Users: Low Tariff)"]


def test_shelly_utc_header_means_utc_and_wh_become_kwh() -> None:
    """Shelly's "Date/time UTC" is UTC: 2025-03-30 02:00-02:50 (the skipped hour in Berlin) is kept."""
    parsed = read_csv(SHELLY)
    assert_consistent(parsed)
    readings = parsed.readings
    active_wh = (
        30.70
        + 33.70
        + 33.00
        + 32.30
        + 31.70
        + 32.10
        + 21.00
        + 7.20
        + 6.60
        + 7.10
        + 6.90
        + 8.20
        + 84.00
        + 84.20
        + 40.70
        + 34.60
        + 33.40
        + 19.60
        + 10.20
        + 9.00
        + 8.40
        + 8.80
        + 8.40
        + 8.30
        + 8.60
        + 9.10
        + 8.40
        + 8.50
        + 8.80
        + 8.80
        + 8.50
        + 8.70
        + 8.70
        + 8.60
        + 8.70
        + 8.70
        + 8.70
        + 8.60
        + 8.60
        + 8.60
        + 8.30
    )
    assert readings["energy_kwh"].sum() == pytest.approx(active_wh / 1000)
    assert len(readings) == 41 and parsed.rejections == ()
    assert utc("2025-03-30 02:00") in set(readings["ts_utc"])
    assert readings["ts_utc"].iloc[0] == utc("2025-01-11 00:00")
    assert (readings["duration_s"] == 600).all()
    dialect = parsed.dialect
    assert (dialect.unit, dialect.kind, dialect.interval_s, dialect.timestamp_marks) == (
        "Wh",
        "interval",
        600.0,
        "start",
    )
    assert dict(dialect.ignored_columns)["Returned energy Wh (A)"].startswith("feed-in")


def test_sma_inverter_export_without_grid_meter_is_refused() -> None:
    """SMA's grid import counter Metering.GridMs.TotWhIn is 0 or NaN on every row: no consumption recorded,
    so the file is refused instead of scoring a household at zero consumption."""
    with pytest.raises(CsvFormatError) as caught:
        read_csv(SMA)
    assert caught.value.key == "csv.no_consumption"
    assert "Metering.GridMs.TotWhIn" in str(caught.value)


def test_sma_import_counter_imports_when_chosen_explicitly() -> None:
    """With value_column the same file imports: four 0 kWh readings, the NaN rows rejected as empty."""
    parsed = read_csv(SMA, value_column="Metering.GridMs.TotWhIn")
    assert_consistent(parsed)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0 + 0 + 0 + 0)
    assert list(parsed.readings["line_no"]) == [10, 11, 12, 13]
    assert [r.line_no for r in parsed.rejections] == [14, 15, 16, 17, 18, 19, 20]
    assert {r.key for r in parsed.rejections} == {"csv.empty_value"}
    dialect = parsed.dialect
    assert (dialect.encoding, dialect.header_line, dialect.unit, dialect.kind) == (
        "utf-8-sig",
        7,
        "Wh",
        "register",
    )
    assert dialect.date_format == "%d.%m.%Y %H:%M:%S"
    assert parsed.rows_read == 11


def test_shelly_overlapping_downloads_are_rejected_as_duplicates() -> None:
    """The full Shelly export repeats dates from overlapping downloads (the sample holds none): rows
    repeated later are rejected as duplicates of the first occurrence, not summed twice."""
    original = SHELLY.read_bytes()
    repeated = b"\n".join(original.split(b"\n")[1:6]) + b"\n"  # 2025-01-11 00:00-00:40 again
    parsed = parse_csv(original + repeated)
    assert_consistent(parsed)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(read_csv(SHELLY).readings["energy_kwh"].sum())
    assert [r.line_no for r in parsed.rejections] == [43, 44, 45, 46, 47]
    assert {r.key for r in parsed.rejections} == {"csv.duplicate_timestamp"}
    assert "line 2 has the same time (identical value)" in parsed.rejections[0].reason
