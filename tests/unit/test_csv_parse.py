"""Rules of the CSV parser on small synthetic files: dialects, units, kinds, time zones, bad rows, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from contest.errors import CsvFormatError
from contest.readings import out_of_bounds
from contest.units import GasFactors
from ingest.csv_parse import ParsedCsv, parse_csv, read_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def parse(text: str, **kwargs: object) -> ParsedCsv:
    parsed = parse_csv(text.encode("utf-8"), **kwargs)  # type: ignore[arg-type]
    assert parsed.rows_read == len(parsed.readings) + len(parsed.rejections)
    return parsed


def keys(parsed: ParsedCsv) -> list[tuple[int | None, str]]:
    return [(r.line_no, r.key) for r in parsed.rejections]


# --- dialects -------------------------------------------------------------------------------------


def test_german_register_with_thousands_points() -> None:
    """Datum;Zählerstand (kWh), dd.mm.yyyy HH:MM, decimal comma and thousands point: a register in kWh."""
    parsed = read_csv(DATA / "de_register_thousands.csv")
    readings = parsed.readings
    assert list(readings["energy_kwh"]) == pytest.approx([998.250, 999.875, 1001.500, 1003.125, 1004.000])
    assert (readings["kind"] == "register").all() and readings["duration_s"].isna().all()
    assert readings["ts_utc"].iloc[0] == utc("2024-12-31 23:00")  # 01.01.2025 00:00 +01:00
    dialect = parsed.dialect
    assert (dialect.separator, dialect.decimal, dialect.thousands) == (";", ",", ".")
    assert (dialect.kind, dialect.timestamp_marks, dialect.interval_s) == ("register", "instant", None)
    assert dialect.value_columns == ("Zählerstand (kWh)",)


def test_english_interval_in_local_time() -> None:
    """time,consumption [kWh] with yyyy-mm-dd HH:MM local times: 15-minute intervals starting at the stamp."""
    parsed = read_csv(DATA / "en_interval_local.csv")
    readings = parsed.readings
    assert readings["energy_kwh"].sum() == pytest.approx(0.25 + 0.5 + 0.125 + 0.375 + 1.0)
    assert readings["ts_utc"].iloc[0] == utc("2025-01-14 23:00")
    assert (readings["duration_s"] == 900).all()
    dialect = parsed.dialect
    assert (dialect.separator, dialect.decimal, dialect.date_format) == (",", ".", "%Y-%m-%d %H:%M")
    assert (dialect.kind, dialect.timestamp_marks, dialect.interval_s) == ("interval", "start", 900.0)


def test_iso_timestamps_with_offset_and_z_are_used_as_given() -> None:
    parsed = parse(
        "timestamp,energy (kWh)\n2025-01-15T00:00:00+01:00,1\n2025-01-15T00:00:00Z,2\n"
        "2025-01-15T02:00:00+01:00,3\n"
    )
    assert list(parsed.readings["ts_utc"]) == [
        utc("2025-01-14 23:00"),
        utc("2025-01-15 00:00"),
        utc("2025-01-15 01:00"),
    ]
    assert parsed.dialect.date_format == "ISO8601"


def test_timestamp_without_offset_among_offsets_is_rejected() -> None:
    parsed = parse(
        "timestamp,energy (kWh)\n2025-01-15T00:00:00+01:00,1\n2025-01-15T01:00:00,2\n"
        "2025-01-15T02:00:00+01:00,3\n"
    )
    assert keys(parsed) == [(3, "csv.date_unparseable")]
    assert "no UTC offset" in parsed.rejections[0].reason


def test_three_bad_rows_are_rejected_with_line_and_reason() -> None:
    """Exactly three bad rows: an unreadable time, a word instead of a number, an empty value."""
    parsed = read_csv(DATA / "de_interval_three_bad_rows.csv")
    assert parsed.rows_read == 6
    assert list(parsed.readings["line_no"]) == [2, 3, 7]
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0.25 + 0.50 + 1.00)
    assert keys(parsed) == [
        (4, "csv.date_unparseable"),
        (5, "csv.value_not_a_number"),
        (6, "csv.empty_value"),
    ]
    bad_time, not_number, empty = parsed.rejections
    assert bad_time.raw == "15.01.2025 0x:30;0,75"
    assert "'15.01.2025 0x:30'" in bad_time.reason and "%d.%m.%Y %H:%M" in bad_time.reason
    assert not_number.reason == "value 'abc' in column 'Verbrauch (kWh)' is not a number"
    assert empty.reason == "no value in column 'Verbrauch (kWh)'"


def test_latin1_header_with_umlaut() -> None:
    """A Windows-1252 file (Zählerstand written as 0xE4) with CRLF line ends and a remarks column."""
    assert "Zählerstand".encode("cp1252") in (DATA / "latin1_register.csv").read_bytes()
    parsed = read_csv(DATA / "latin1_register.csv")
    assert parsed.dialect.encoding == "cp1252"
    assert parsed.dialect.value_columns == ("Zählerstand (kWh)",)
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([1234.5, 1500.0, 1750.25])
    assert dict(parsed.dialect.ignored_columns)["Bemerkung"] == "not energy: metadata"
    assert parsed.readings["ts_utc"].iloc[1] == utc("2025-03-31 22:00")  # 01.04.2025 00:00 +02:00


def test_utf8_bom() -> None:
    parsed = read_csv(DATA / "bom_interval_wh.csv")
    assert parsed.dialect.encoding == "utf-8-sig"
    assert parsed.dialect.timestamp_columns == ("Zeitstempel",)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx((250 + 500 + 750) / 1000)


def test_utf16_with_bom() -> None:
    text = "Datum;Zählerstand (kWh)\n01.01.2025 00:00;10,5\n02.01.2025 00:00;11,5\n"
    parsed = parse_csv(text.encode("utf-16"))
    assert parsed.dialect.encoding == "utf-16"
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([10.5, 11.5])


def test_comment_preamble_and_comment_lines_are_not_rows() -> None:
    """'#' lines before the header and between rows are skipped and not counted as data rows."""
    parsed = read_csv(DATA / "comment_preamble.csv")
    assert parsed.dialect.header_line == 6
    assert parsed.rows_read == 3 and parsed.rejections == ()
    assert list(parsed.readings["line_no"]) == [7, 8, 10]
    assert parsed.readings["energy_kwh"].sum() == pytest.approx((100 + 150 + 200) / 1000)


def test_excel_sep_line_and_preamble() -> None:
    parsed = parse(
        "sep=;\nExport Stadtwerke\n\nZeit;Verbrauch (kWh)\n15.01.2025 00:00;1,5\n15.01.2025 01:00;2,5\n"
    )
    assert parsed.dialect.header_line == 4
    assert list(parsed.readings["line_no"]) == [5, 6]
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(1.5 + 2.5)


def test_date_and_time_in_separate_columns() -> None:
    parsed = read_csv(DATA / "date_time_columns.csv")
    assert parsed.dialect.timestamp_columns == ("Datum", "Uhrzeit")
    assert parsed.dialect.date_format == "%d.%m.%Y %H:%M"
    assert parsed.readings["ts_utc"].iloc[1] == utc("2025-01-14 23:15")
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0.1 + 0.2 + 0.3 + 0.4)
    assert "Status" in dict(parsed.dialect.ignored_columns)


def test_wiener_netze_style_date_with_from_and_to_times() -> None:
    """Datum + "Zeit von" + "Zeit bis": the start time is used, the end time column is ignored."""
    parsed = parse(
        "Datum;Zeit von;Zeit bis;Verbrauch [kWh]\n15.01.2025;00:00:00;00:15:00;0,2\n"
        "15.01.2025;00:15:00;00:30:00;0,3\n"
    )
    assert parsed.dialect.timestamp_columns == ("Datum", "Zeit von")
    assert parsed.dialect.timestamp_marks == "start"
    assert parsed.readings["ts_utc"].iloc[0] == utc("2025-01-14 23:00")
    assert "interval end" in dict(parsed.dialect.ignored_columns)["Zeit bis"]


def test_quoted_cells() -> None:
    parsed = parse(
        '"Datum";"Zählerstand (kWh)"\n"01.01.2025 00:00";"1.234,5"\n"02.01.2025 00:00";"1.240,0"\n'
    )
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([1234.5, 1240.0])


def test_old_mac_line_ends() -> None:
    parsed = parse_csv(b"Datum;Verbrauch (kWh)\r01.01.2025 00:00;1\r01.01.2025 01:00;2\r")
    assert list(parsed.readings["line_no"]) == [2, 3]


def test_blank_lines_are_not_rows_and_keep_line_numbers() -> None:
    parsed = parse(
        "Zeit;Verbrauch (kWh)\n15.01.2025 00:00;1\n\n15.01.2025 01:00;2\n;\n15.01.2025 02:00;x\n\n"
    )
    assert list(parsed.readings["line_no"]) == [2, 4]
    assert keys(parsed) == [(6, "csv.value_not_a_number")]
    assert parsed.rows_read == 3


def test_repeated_header_row_is_rejected() -> None:
    parsed = parse("Zeit;Verbrauch (kWh)\n15.01.2025 00:00;1\nZeit;Verbrauch (kWh)\n15.01.2025 01:00;2\n")
    assert keys(parsed) == [(3, "csv.repeated_header")]


def test_headerless_file_needs_a_unit() -> None:
    """volkszaehler's CSV view: comment lines, no header, ts;value;count."""
    text = (
        "# source:;volkszaehler.org\n# rows:;2\n2025-01-15 00:00:00;100;5\n"
        "2025-01-15 00:15:00;150;5\n2025-01-15 00:30:00;125;5\n"
    )
    with pytest.raises(CsvFormatError) as caught:
        parse(text)
    assert caught.value.key == "csv.unknown_unit"
    parsed = parse(text, unit="Wh")
    assert parsed.dialect.header_line == 0
    assert parsed.dialect.value_columns == ("column_2",)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx((100 + 150 + 125) / 1000)


# --- units ----------------------------------------------------------------------------------------


def test_unit_column_per_row() -> None:
    """A unit column converts each row; a row whose unit is not energy (kvarh) is rejected."""
    parsed = read_csv(DATA / "unit_column.csv")
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0.5 + 750 / 1000 + 1.25)
    assert keys(parsed) == [(5, "csv.unit_not_energy")]
    assert "'kvarh'" in parsed.rejections[0].reason
    assert parsed.dialect.unit == "kWh"


def test_mwh_heat_register() -> None:
    parsed = read_csv(DATA / "mwh_register.csv", carrier="heat")
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([12.345 * 1000, 12.400 * 1000, 12.482 * 1000])
    assert (parsed.dialect.unit, parsed.dialect.kind) == ("MWh", "register")


def test_gas_register_in_cubic_metres_with_gas_factors() -> None:
    """ErmstalEnergie's worked example: 3.450 → 4.950 m³, Brennwert 11,1, Zustandszahl 0,9253."""
    gas = GasFactors(brennwert_kwh_per_m3=11.1, zustandszahl=0.9253)
    parsed = read_csv(DATA / "gas_m3_register.csv", carrier="gas", gas=gas)
    energy = list(parsed.readings["energy_kwh"])
    assert energy == pytest.approx([3450 * 0.9253 * 11.1, 4950 * 0.9253 * 11.1])
    assert energy[1] - energy[0] == pytest.approx(1500 * 11.1 * 0.9253)  # 15 406,245 kWh
    assert parsed.dialect.unit == "m³"


def test_gas_volume_is_not_electricity() -> None:
    with pytest.raises(CsvFormatError) as caught:
        read_csv(DATA / "gas_m3_register.csv")
    assert caught.value.key == "csv.no_energy_column"
    assert "carrier is electricity" in str(caught.value)


def test_unknown_unit_is_refused_unless_given() -> None:
    text = "Zeit;Wert\n15.01.2025 00:00;1,5\n15.01.2025 01:00;2,5\n"
    with pytest.raises(CsvFormatError) as caught:
        parse(text)
    assert caught.value.key == "csv.unknown_unit"
    assert parse(text, unit="kWh").readings["energy_kwh"].sum() == pytest.approx(1.5 + 2.5)


def test_unit_override_wins() -> None:
    parsed = read_csv(DATA / "at_netz_noe_15min_interval_endstamp.csv", unit="Wh")
    assert parsed.readings["energy_kwh"].sum() == pytest.approx((0.063 + 0.083 + 0.092 + 0.078) / 1000)
    assert parsed.dialect.unit == "Wh"


# --- which column ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("Leistung (W)", "power"),
        ("Temperatur [°C]", "temperature"),
        ("Spannung L1 (V)", "voltage"),
        ("power_w", "power"),
    ],
)
def test_file_without_energy_column_is_refused(header: str, why: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse(f"Zeit;{header}\n15.01.2025 00:00;230\n15.01.2025 01:00;231\n")
    assert caught.value.key == "csv.no_energy_column"
    assert why in str(caught.value)


def test_power_and_quality_columns_are_ignored_with_reason() -> None:
    parsed = parse("Datum;kWh;kW;Status\n15.01.2025 00:15;0,25;1,0;G\n15.01.2025 00:30;0,5;2,0;G\n")
    assert parsed.dialect.value_columns == ("kWh",)
    ignored = dict(parsed.dialect.ignored_columns)
    assert ignored["kW"] == "not energy: power [kw]"
    assert ignored["Status"] == "not energy: quality or status flag"


def test_tariff_registers_are_summed() -> None:
    parsed = parse(
        "Datum;Zählerstand HT (kWh);Zählerstand NT (kWh)\n01.01.2025 00:00;1000;500\n"
        "02.01.2025 00:00;1010;505\n"
    )
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([1000 + 500, 1010 + 505])
    assert parsed.dialect.kind == "register"


def test_total_register_beats_tariff_registers() -> None:
    parsed = parse(
        "Datum;1-0:1.8.0 (kWh);1-0:1.8.1 (kWh);1-0:1.8.2 (kWh);1-0:2.8.0 (kWh)\n"
        "01.01.2025 00:00;1500;1000;500;20\n02.01.2025 00:00;1515;1010;505;22\n"
    )
    assert parsed.dialect.value_columns == ("1-0:1.8.0 (kWh)",)
    assert parsed.dialect.kind == "register"
    ignored = dict(parsed.dialect.ignored_columns)
    assert ignored["1-0:1.8.1 (kWh)"].startswith("tariff register")
    assert ignored["1-0:2.8.0 (kWh)"].startswith("feed-in")


def test_consumption_column_beats_meter_reading_next_to_it() -> None:
    """Stromnetz Graz style: consumption and meter reading side by side; "Ablesezeitpunkt" stamps the end."""
    parsed = parse(
        "Ablesezeitpunkt;Verbrauch Einheitstarif;Zaehlerstand Einheitstarif\n"
        "2025-01-15T00:15:00;0.25;100.25\n2025-01-15T00:30:00;0.5;100.75\n",
        unit="kWh",
    )
    assert parsed.dialect.value_columns == ("Verbrauch Einheitstarif",)
    assert parsed.dialect.timestamp_marks == "end"
    assert parsed.readings["ts_utc"].iloc[0] == utc("2025-01-14 23:00")
    assert "meter reading" in dict(parsed.dialect.ignored_columns)["Zaehlerstand Einheitstarif"]


def test_obis_column_keeps_only_consumption_rows() -> None:
    parsed = parse(
        "Zeitstempel;Obiscode;Wert (kWh)\n2025-01-15 00:00;1-0:1.8.0;0.5\n"
        "2025-01-15 00:00;1-0:2.8.0;0.1\n2025-01-15 00:15;1-0:1.8.0;0.25\n"
    )
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0.5 + 0.25)
    assert keys(parsed) == [(3, "csv.other_register")]


def test_value_column_and_kind_overrides() -> None:
    text = "Zeit;A (kWh);B (kWh)\n15.01.2025 00:00;1;10\n15.01.2025 01:00;2;20\n15.01.2025 02:00;3;30\n"
    assert parse(text).dialect.value_columns == ("A (kWh)",)
    parsed = parse(text, value_column="b (kwh)", kind="interval")
    assert parsed.dialect.value_columns == ("B (kWh)",)
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(10 + 20 + 30)
    with pytest.raises(CsvFormatError):
        parse(text, value_column="C")


def test_generic_column_that_only_rises_is_a_register() -> None:
    parsed = parse(
        "Zeit;Wert (kWh)\n15.01.2025 00:00;5000,1\n15.01.2025 01:00;5000,6\n15.01.2025 02:00;5001,4\n"
    )
    assert parsed.dialect.kind == "register"
    parsed = parse("Zeit;Wert (kWh)\n15.01.2025 00:00;0,4\n15.01.2025 01:00;0,2\n15.01.2025 02:00;0,3\n")
    assert parsed.dialect.kind == "interval"


def test_timestamp_marks_override_shifts_end_stamps() -> None:
    parsed = read_csv(DATA / "en_interval_local.csv", timestamp_marks="end")
    assert parsed.readings["ts_utc"].iloc[0] == utc("2025-01-14 22:45")


# --- time zone ------------------------------------------------------------------------------------


def test_spring_forward_hour_is_rejected_not_shifted() -> None:
    parsed = read_csv(DATA / "dst_spring_hourly.csv")
    assert keys(parsed) == [(4, "csv.nonexistent_local_time")]
    assert "02:00 does not exist" in parsed.rejections[0].reason
    assert list(parsed.readings["ts_utc"]) == [
        utc("2025-03-29 23:00"),
        utc("2025-03-30 00:00"),
        utc("2025-03-30 01:00"),
    ]


def test_autumn_hour_twice_in_order_is_resolved_by_row_order() -> None:
    """02:00-02:45 appear twice: the first run is summer time (+02:00), the second winter time (+01:00)."""
    parsed = read_csv(DATA / "dst_autumn_quarter_hours.csv")
    assert parsed.rejections == ()
    stamps = list(parsed.readings["ts_utc"])
    assert stamps == list(pd.date_range("2025-10-25 23:45", periods=10, freq="15min", tz="UTC"))
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(
        0.1 + 0.2 + 0.3 + 0.4 + 0.5 + 0.6 + 0.7 + 0.8 + 0.9 + 0.10
    )


def test_autumn_hour_twice_in_a_file_running_backwards() -> None:
    text = (
        "Zeit;Verbrauch (kWh)\n26.10.2025 03:00;5\n26.10.2025 02:00;4\n26.10.2025 02:00;3\n"
        "26.10.2025 01:00;2\n"
    )
    parsed = parse(text)
    assert parsed.rejections == ()
    by_time = parsed.readings.set_index("ts_utc")["energy_kwh"]
    assert by_time[utc("2025-10-26 00:00")] == 3  # the earlier instant (+02:00) is the later row
    assert by_time[utc("2025-10-26 01:00")] == 4


def test_autumn_hour_once_is_rejected() -> None:
    parsed = read_csv(DATA / "dst_autumn_hour_once.csv")
    assert keys(parsed) == [(3, "csv.ambiguous_local_time")]
    assert "occurs twice" in parsed.rejections[0].reason and "only once" in parsed.rejections[0].reason


def test_autumn_hour_more_than_twice_is_rejected() -> None:
    parsed = parse(
        "Zeit;Verbrauch (kWh)\n26.10.2025 01:00;1\n26.10.2025 02:00;1\n26.10.2025 02:00;2\n"
        "26.10.2025 02:00;3\n26.10.2025 03:00;4\n"
    )
    assert [k for _, k in keys(parsed)] == ["csv.ambiguous_local_time"] * 3


def test_other_time_zone() -> None:
    parsed = read_csv(DATA / "en_interval_local.csv", tz="America/New_York")
    assert parsed.readings["ts_utc"].iloc[0] == utc("2025-01-15 05:00")


def test_daily_values_last_a_calendar_day() -> None:
    """Daily consumption across the spring change: that day is 23 h long."""
    parsed = parse("Datum;Verbrauch (kWh)\n29.03.2025;10\n30.03.2025;11\n31.03.2025;12\n")
    assert list(parsed.readings["duration_s"]) == [86_400, 82_800, 86_400]
    assert parsed.dialect.interval_s == 86_400


# --- bad rows -------------------------------------------------------------------------------------


def test_duplicate_timestamps_keep_the_first() -> None:
    parsed = parse(
        "Zeit;Verbrauch (kWh)\n15.01.2025 00:00;1\n15.01.2025 01:00;2\n15.01.2025 00:00;1\n"
        "15.01.2025 01:00;3\n"
    )
    assert list(parsed.readings["line_no"]) == [2, 3]
    assert keys(parsed) == [(4, "csv.duplicate_timestamp"), (5, "csv.duplicate_timestamp")]
    assert "line 2" in parsed.rejections[0].reason and "identical" in parsed.rejections[0].reason
    assert "differs" in parsed.rejections[1].reason


def test_register_going_backwards_names_both_values() -> None:
    parsed = parse("Datum;Zählerstand (kWh)\n01.01.2025;100\n02.01.2025;101\n03.01.2025;99\n04.01.2025;102\n")
    assert keys(parsed) == [(4, "csv.register_backwards")]
    assert "101" in parsed.rejections[0].reason and "99" in parsed.rejections[0].reason
    assert list(parsed.readings["energy_kwh"]) == [100, 101, 102]


def test_register_is_checked_in_time_order() -> None:
    parsed = parse("Datum;Zählerstand (kWh)\n03.01.2025;102\n01.01.2025;100\n02.01.2025;101\n")
    assert parsed.rejections == ()
    assert list(parsed.readings["energy_kwh"]) == [100, 101, 102]


def test_register_reset_to_near_zero_is_kept() -> None:
    """A meter swap: 5001 → 0.2 falls below 1 % of the previous value and is kept for the daily derivation."""
    parsed = parse(
        "Datum;Zählerstand (kWh)\n01.01.2025;5000\n02.01.2025;5001\n03.01.2025;0,2\n04.01.2025;3,5\n"
    )
    assert parsed.rejections == ()
    assert list(parsed.readings["energy_kwh"]) == pytest.approx([5000, 5001, 0.2, 3.5])


def test_register_spike_rejects_the_spike_only() -> None:
    parsed = parse(
        "Datum;Zählerstand (kWh)\n01.01.2025;100\n02.01.2025;150\n03.01.2025;101\n04.01.2025;102\n"
    )
    assert keys(parsed) == [(3, "csv.register_backwards")]
    assert list(parsed.readings["energy_kwh"]) == [100, 101, 102]


def test_a_glitch_too_fast_for_a_household_costs_its_own_rows_only() -> None:
    """Issue 12: the parser judged falls alone (9000 and 9001 kept, so 101 and 102 "went backwards"
    from them) and the bounds judged rises after it (9000 and 9001 too fast): four rows lost for a
    glitch of two. The one register rule judges both at once; the bounds reject the glitch."""
    parsed = parse(
        "Datum;Zählerstand (kWh)\n01.01.2025;100\n02.01.2025;9000\n03.01.2025;9001\n04.01.2025;101\n"
        "05.01.2025;102\n"
    )
    assert parsed.rejections == ()
    problems = out_of_bounds(parsed.readings, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert parsed.readings.loc[problems.index, "line_no"].tolist() == [3, 4]
    assert set(problems["key"]) == {"reading.register_rise_too_fast"}
    assert parsed.readings.drop(index=problems.index)["energy_kwh"].tolist() == [100, 101, 102]


def test_negative_interval_is_rejected() -> None:
    parsed = parse("Zeit;Verbrauch (kWh)\n15.01.2025 00:00;1\n15.01.2025 01:00;-0,5\n15.01.2025 02:00;2\n")
    assert keys(parsed) == [(3, "csv.negative_interval")]


def test_dash_means_empty_value() -> None:
    parsed = parse("Zeit;Verbrauch (kWh)\n15.01.2025 00:00;1\n15.01.2025 01:00;-\n15.01.2025 02:00;2\n")
    assert keys(parsed) == [(3, "csv.empty_value")]


# --- whole-file problems --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"", "csv.empty_file"),
        (b"  \r\n\n", "csv.empty_file"),
        (b"\x00\x01\x02binary\x00", "csv.not_text"),
        (bytes(range(128, 256)) * 4, "csv.not_text"),
        (b"Datum;Z\xc3\xa4hlerstand (kWh)\n", "csv.no_data_rows"),
        (b"Datum;Z\xc3\xa4hlerstand (kWh)\n\n\n", "csv.no_data_rows"),
        (b"a;b\nx;1\ny;2\n", "csv.no_timestamp_column"),
        (b"just one column\n2025-01-01\n", "csv.no_separator"),
    ],
)
def test_whole_file_problems(data: bytes, key: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_csv(data)
    assert caught.value.key == key
    assert str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"carrier": "water"},
        {"kind": "daily"},
        {"timestamp_marks": "middle"},
        {"tz": "Mars/Base"},
        {"unit": "W"},
        {"gas": 10.0},
    ],
)
def test_bad_arguments_raise_csv_format_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(CsvFormatError):
        read_csv(DATA / "en_interval_local.csv", **kwargs)


def test_readings_frame_schema() -> None:
    readings = read_csv(DATA / "en_interval_local.csv").readings
    assert list(readings.columns) == ["ts_utc", "energy_kwh", "kind", "duration_s", "line_no"]
    assert str(readings["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert readings["energy_kwh"].dtype == "float64" and readings["duration_s"].dtype == "float64"
    assert readings["line_no"].dtype == "int64"
    from contest.readings import validate_readings

    validate_readings(readings)


def test_many_rows_are_read_in_one_pass() -> None:
    """A 20 000-row German register file: every row lands, the line numbers follow the file."""
    stamps = pd.date_range("2025-01-01", periods=20_000, freq="15min")
    lines = ["Datum;Zählerstand (kWh)"] + [
        f"{s:%d.%m.%Y %H:%M};" + f"{1000 + k * 0.25:.3f}".replace(".", ",") for k, s in enumerate(stamps)
    ]
    parsed = parse("\n".join(lines) + "\n")
    assert len(parsed.readings) == 20_000 - 4  # the four quarter hours of 30.03. 02:xx do not exist
    assert {r.key for r in parsed.rejections} == {"csv.nonexistent_local_time"}
    assert parsed.readings["line_no"].iloc[-1] == 20_001


# --- Austrian portal variants (shared/samples/notes/austrian_netzbetreiber_csv_column_variants.md) ---


@pytest.mark.parametrize(
    ("text", "timestamp_columns", "value_columns", "marks"),
    [
        pytest.param(
            "Start;Ende;Verbrauch (kWh) - Gesamtverbrauch\n 01.01.2025 00:00:00; 01.01.2025 00:15:00;0,1\n"
            " 01.01.2025 00:15:00; 01.01.2025 00:30:00;0,2\n",
            ("Start",),
            ("Verbrauch (kWh) - Gesamtverbrauch",),
            "start",
            id="Netz Burgenland (leading space)",
        ),
        pytest.param(
            "Startdatum;Startuhrzeit;Enddatum;Enduhrzeit;Verbrauch (in kWh)\n"
            "01.01.2025;00:00;01.01.2025;00:15;0,1\n01.01.2025;00:15;01.01.2025;00:30;0,2\n",
            ("Startdatum", "Startuhrzeit"),
            ("Verbrauch (in kWh)",),
            "start",
            id="Netz Burgenland 2",
        ),
        pytest.param(
            "Ende Ablesezeitraum;Messintervall;Verbrauch [kWh]\n2025-01-01T00:15:00+01:00;QH;0,1\n"
            "2025-01-01T00:30:00+01:00;QH;0,2\n",
            ("Ende Ablesezeitraum",),
            ("Verbrauch [kWh]",),
            "end",
            id="Wiener Netze E-Control",
        ),
        pytest.param(
            "Verbrauchszeitraum Beginn;Verbrauchszeitraum Ende;Verbrauch;Einheit\n"
            "01.01.25 00:00;01.01.25 00:15;0,1;KWH\n01.01.25 00:15;01.01.25 00:30;0,2;KWH\n",
            ("Verbrauchszeitraum Beginn",),
            ("Verbrauch",),
            "start",
            id="Energienetze Steiermark (2-digit year)",
        ),
        pytest.param(
            "Start;Vorschub (kWh) - Verbrauch;Zählerstand (kWh) - Verbrauch\n 01.01.2025 00:00:00;0,1;100,1\n"
            " 01.01.2025 00:15:00;0,2;100,3\n",
            ("Start",),
            ("Vorschub (kWh) - Verbrauch",),
            "start",
            id="ClamStrom",
        ),
        pytest.param(
            "Datum von;Datum bis;Energiemenge in kWh;Ersatzwert\n01.01.2025 00:00;01.01.2025 00:15;0,1;nein\n"
            "01.01.2025 00:15;01.01.2025 00:30;0,2;nein\n",
            ("Datum von",),
            ("Energiemenge in kWh",),
            "start",
            id="Linz AG",
        ),
    ],
)
def test_austrian_portal_variants(
    text: str, timestamp_columns: tuple[str, ...], value_columns: tuple[str, ...], marks: str
) -> None:
    """Every variant: two quarter hours from 01.01.2025 00:00 local, 0.1 + 0.2 kWh."""
    parsed = parse(text)
    assert parsed.dialect.timestamp_columns == timestamp_columns
    assert parsed.dialect.value_columns == value_columns
    assert parsed.dialect.timestamp_marks == marks
    assert parsed.readings["ts_utc"].iloc[0] == utc("2024-12-31 23:00")
    assert parsed.readings["energy_kwh"].sum() == pytest.approx(0.1 + 0.2)


def test_netz_noe_feed_in_export_is_refused() -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse("Messzeitpunkt;Gemessene Menge (kWh)\n01.01.2025 00:15;0,1\n01.01.2025 00:30;0,2\n")
    assert caught.value.key == "csv.no_energy_column"
    assert "feed-in" in str(caught.value)
